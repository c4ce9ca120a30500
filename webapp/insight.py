"""The Train page's insight panels, without Dash: what matters in a trained circuit (lesions)
and how it compares with its baselines, each as a recorded background job.

What matters
    :func:`lesion_config` reads the page's result (``train-result``: the controller and the
    held-out episodes its score was measured on); :func:`lesion_job` (job kind ``lesions``
    of :mod:`webapp.jobs`) scores the intact controller on those episodes, then every
    neuron lesioned (:func:`sim.comparison.lesion_returns`) and the strongest synapses one
    at a time (:func:`sim.lesions.synapse_lesion_returns`; at most
    :data:`connectome.limits.MAX_LESION_SYNAPSES`, all when the circuit has fewer), in
    chunks with progress and a stop check between them.

Compare with baselines
    :func:`compare_config` takes the training run's configuration (the circuit, env, io
    maps and budget) and a seed count; :func:`compare_job` (kind ``compare``) runs
    :func:`sim.comparison.compare` with :func:`compare_arguments` of it (the same budget for
    every baseline), with progress after every training run. Cancel stops the current run
    at its next generation and the comparison after it (no table then).

Both jobs, given ``config["folder"]`` (a run folder of :mod:`webapp.runs`), record their
process, progress (:func:`record_progress`), result or error there, so that a page that
reloads reattaches to them (:func:`recorded_view`). Their results are JSON data for a
``dcc.Store``; the figures are in :mod:`webapp.figures.insight`.
"""

import contextlib
import math
import os

import pandas as pd

from connectome import io as wiring_io
from connectome import limits
from connectome.errors import ControllerError, WiringFormatError, WormlabError
from sim.jsonfile import write_json_atomic
from webapp import runs
from webapp.forms import parse_number
from webapp.screening import table_to_store

__all__ = [
    "LESION_CHUNK",
    "DEFAULT_COMPARE_SEEDS",
    "lesion_config",
    "lesion_plan",
    "lesion_job",
    "compare_seeds_field",
    "compare_config",
    "compare_arguments",
    "compare_job",
    "table_from_json",
    "record_progress",
    "recorded_progress",
    "recorded_view",
]

#: Synapses lesioned per rollout batch: the job's progress and stop granularity.
LESION_CHUNK = 8
#: The Compare panel's default seed count (each seed trains every baseline once).
DEFAULT_COMPARE_SEEDS = 2
_PROGRESS = "progress.json"


class _Cancelled(Exception):
    """Raised from compare's progress callback once Cancel was pressed."""


# ------------------------------------------------------------------------ recording
def record_progress(folder: str, fraction: float, text: str) -> None:
    """Record a job's progress (0 .. 1 and a sentence) in its run folder."""
    write_json_atomic(os.path.join(folder, _PROGRESS), {"fraction": float(fraction),
                                                         "text": str(text)[:300]})  # fmt: skip


def recorded_progress(folder: str) -> tuple:
    """``(fraction, text)`` of a job's last recorded progress (``(0.0, "")`` when none)."""
    try:
        import json

        with open(os.path.join(folder, _PROGRESS), encoding="utf-8") as f:
            data = json.load(f)
        return min(max(float(data["fraction"]), 0.0), 1.0), str(data["text"])[:300]
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0, ""


def recorded_view(folder: str) -> dict:
    """What a page shows of a recorded job: ``{"state", "fraction", "text", "result"}``
    (``state`` running, done, error or lost, :func:`webapp.runs.run_status`; ``text`` the
    progress sentence, or why it failed)."""
    status = runs.run_status(folder)
    fraction, text = recorded_progress(folder)
    state = status["state"] if status["state"] != "interrupted" else "lost"
    if state in ("error", "lost"):
        text = status["text"] or "its process stopped without a result"
    return {"state": state, "fraction": fraction, "text": text, "result": status["result"]}


def _recorded(config, emit, should_stop, body):
    """Run ``body(config, emit, should_stop)``; with ``config["folder"]``, recorded there."""
    folder = config.get("folder")
    if not folder:
        return body(config, emit, should_stop)
    runs.record_owner(folder)
    mark = os.path.join(folder, "stop")

    def relay(msg):
        if msg["kind"] == "progress":
            record_progress(folder, msg["fraction"], msg["text"])
        emit(msg)

    try:
        out = body(config, relay, lambda: should_stop() or os.path.exists(mark))
    except Exception as err:
        with contextlib.suppress(OSError):
            text = str(err) if isinstance(err, WormlabError) else f"{type(err).__name__}: {err}"
            runs.record_result(folder, {"kind": "error", "text": text})
        raise
    runs.record_result(folder, {"kind": "result", **out})
    return out


def _progress(emit, fraction, text):
    emit({"kind": "progress", "fraction": float(fraction), "text": text})


# ------------------------------------------------------------------------ lesions
def _controller(data):
    from sim.control import Controller

    if not isinstance(data, dict):
        raise WiringFormatError("the result has no controller: train or upload one first")
    return Controller.from_dict(data)


def _seeds(values):
    if not isinstance(values, list | tuple) or not values:
        raise WiringFormatError("the result has no held-out episode seeds: evaluate it again")
    limits.check_int(len(values), "held-out episodes", 1, limits.MAX_EVAL_EPISODES,
                     WiringFormatError)  # fmt: skip
    return [limits.check_int(s, "episode seed", 0, limits.MAX_SEED, WiringFormatError)
            for s in values]  # fmt: skip


def lesion_config(result) -> dict:
    """The lesion job's configuration for the page's result (``train-result``: a trained or
    uploaded controller and its evaluation): ``{"controller", "seeds"}``, the seeds being
    the held-out episodes the page's score was measured on.

    Raises
    ------
    WiringFormatError, ControllerError
        A result without a controller or episode seeds, a controller that is not an LTC
        circuit, or a lesion job beyond :data:`connectome.limits.MAX_LESION_EPISODES`.
    """
    if not isinstance(result, dict) or not isinstance(result.get("evaluation"), dict):
        raise WiringFormatError("there is no result to lesion: train or upload a controller")
    ctrl = _controller(result.get("controller"))
    seeds = _seeds(result["evaluation"].get("seeds"))
    lesion_plan(ctrl, len(seeds))
    return {"controller": ctrl.to_dict(), "seeds": seeds}


def lesion_plan(controller, episodes: int) -> list:
    """The synapses the lesion job lesions (:func:`sim.lesions.strongest_synapses`): as many
    of the strongest as :data:`~connectome.limits.MAX_LESION_SYNAPSES` and
    :data:`~connectome.limits.MAX_LESION_EPISODES` allow with every neuron lesioned too.

    Raises
    ------
    ControllerError
        For a controller that is not an LTC circuit, or when the intact run and the neuron
        lesions alone need more than MAX_LESION_EPISODES episodes.
    """
    from sim.lesions import strongest_synapses

    if controller.core != "ltc":
        raise ControllerError(
            f"What matters: lesions apply to LTC circuits; this controller's core is "
            f"{controller.core}"
        )
    rows = 1 + len(controller.neurons)
    if rows * episodes > limits.MAX_LESION_EPISODES:
        raise ControllerError(
            f"What matters: {len(controller.neurons)} neurons x {episodes} episodes is more "
            f"than the {limits.MAX_LESION_EPISODES:,} lesion episodes a page runs; evaluate "
            "with fewer episodes"
        )
    room = limits.MAX_LESION_EPISODES // episodes - rows
    return strongest_synapses(controller, min(limits.MAX_LESION_SYNAPSES, room))


def lesion_job(config: dict, emit, should_stop) -> dict:
    """The lesion job (:mod:`webapp.jobs`, kind ``lesions``) of :func:`lesion_config` data.

    Returns
    -------
    dict
        ``{"env_id", "episodes", "intact", "neurons": [{"name", "lesioned", "drop"}],
        "synapses": [{"kind", "pre", "post", "weight", "lesioned", "drop"}],
        "synapses_total", "complete"}``; drop = intact - lesioned (mean returns over the
        held-out episodes). A stopped job returns the synapses done so far.
    """
    return _recorded(config, emit, should_stop, _lesions)


def _lesions(config, emit, should_stop):
    from sim.comparison import lesion_returns
    from sim.evaluation import rollout
    from sim.lesions import synapse_lesion_returns, synapse_list

    ctrl = _controller(config["controller"])
    seeds = _seeds(config["seeds"])
    plan = lesion_plan(ctrl, len(seeds))
    steps = 2 + math.ceil(len(plan) / LESION_CHUNK)
    _progress(emit, 0.0, f"the intact circuit on {len(seeds)} held-out episodes")
    intact = float(rollout(ctrl, seeds)[0].mean())
    _progress(emit, 1 / steps, f"lesioning each of {len(ctrl.neurons)} neurons")
    by_neuron = lesion_returns(ctrl, seeds)
    neurons = [{"name": x, "lesioned": v, "drop": intact - v} for x, v in by_neuron.items()]
    synapses, complete = [], True
    for start in range(0, len(plan), LESION_CHUNK):
        done = 2 + start // LESION_CHUNK
        _progress(emit, done / steps, f"lesioning synapses: {start} of {len(plan)} done")
        if should_stop():
            complete = False
            break
        chunk = plan[start : start + LESION_CHUNK]
        for s, v in zip(chunk, synapse_lesion_returns(ctrl, seeds, chunk), strict=True):
            synapses.append({**s, "lesioned": v, "drop": intact - v})
    _progress(emit, 1.0, "done" if complete else "cancelled")
    return {
        "env_id": ctrl.env.env_id, "episodes": len(seeds), "intact": intact,
        "neurons": neurons, "synapses": synapses,
        "synapses_total": len(synapse_list(ctrl)), "complete": complete,
    }  # fmt: skip


# ------------------------------------------------------------------------ comparison
def compare_seeds_field(value) -> int:
    """The Compare panel's Seeds field: a whole number from 1 to
    :data:`~connectome.limits.MAX_WEB_COMPARE_SEEDS` (raises FieldError naming the field)."""
    return parse_number(value, "Seeds", lo=1, hi=limits.MAX_WEB_COMPARE_SEEDS, integer=True)


def compare_config(train_config, seeds) -> dict:
    """The comparison job's configuration: the training run's circuit, env, io maps and
    budget (``train_config``, :func:`webapp.training.training_config` data from the run's
    record) and ``seeds`` (the Seeds field: 1 to
    :data:`~connectome.limits.MAX_WEB_COMPARE_SEEDS`; the run seeds are the training seed
    and the next ones).

    Raises
    ------
    FieldError, ControllerError
        A bad seed count, or a comparison whose runs x Seconds is beyond
        :data:`~connectome.limits.MAX_WEB_COMPARE_SECONDS`.
    """
    from sim.baselines import BASELINES

    if not isinstance(train_config, dict) or "wiring" not in train_config:
        raise ControllerError("Compare: train the circuit first (the comparison uses its run)")
    n = compare_seeds_field(seeds)
    first = limits.check_int(train_config.get("seed"), "seed", 0, limits.MAX_SEED - n,
                             ControllerError)  # fmt: skip
    total = len(BASELINES) * n * float(train_config["seconds"])
    if total > limits.MAX_WEB_COMPARE_SECONDS:
        raise ControllerError(
            f"Compare: {len(BASELINES)} controllers x {n} seeds x {train_config['seconds']:g} s "
            f"is {total:,.0f} s, more than the page's {limits.MAX_WEB_COMPARE_SECONDS:,} s; "
            "use fewer seeds or a smaller Seconds budget (or python -m sim compare)"
        )
    keys = ("wiring", "env_id", "io", "generations", "seconds", "episodes", "eval_episodes")
    return {**{k: train_config[k] for k in keys}, "seeds": list(range(first, first + n)),
            "baselines": list(BASELINES)}  # fmt: skip


def compare_arguments(config) -> tuple:
    """``(circuit, env_id, keyword arguments)`` of :func:`sim.comparison.compare` for
    :func:`compare_config` data: the same budget for every controller (generations,
    seconds, episodes per candidate), the page's io maps, held-out episodes as many as the
    training run's evaluation."""
    from webapp.training import io_options

    circuit = wiring_io.from_dict(config["wiring"])
    kwargs = {
        "seeds": [int(s) for s in config["seeds"]],
        "baselines": tuple(config["baselines"]),
        "generations": int(config["generations"]),
        "max_seconds": float(config["seconds"]),
        "episodes": int(config["episodes"]),
        "test_episodes": int(config["eval_episodes"]),
        "controller_options": io_options(config["io"]),
    }
    return circuit, config["env_id"], kwargs


def compare_job(config: dict, emit, should_stop) -> dict:
    """The comparison job (:mod:`webapp.jobs`, kind ``compare``).

    Returns
    -------
    dict
        ``{"env_id", "summary", "runs", "lesions"}`` (the :class:`sim.comparison.CompareResult`
        tables, as :func:`webapp.screening.table_to_store` data), the budget (``seeds``,
        ``generations``, ``seconds``) and ``"complete": True``;
        a cancelled comparison returns ``{"complete": False, "runs_done"}``.
    """
    return _recorded(config, emit, should_stop, _compare)


def _compare(config, emit, should_stop):
    from sim.comparison import compare

    circuit, env_id, kwargs = compare_arguments(config)
    total = len(kwargs["baselines"]) * len(kwargs["seeds"])
    done = []

    def progress(name, seed, result):
        done.append(name)
        _progress(emit, len(done) / total, f"{len(done)} of {total} runs: {name}, seed {seed}: "
                  f"validation {result.score:.1f}")  # fmt: skip
        if should_stop():
            raise _Cancelled

    _progress(emit, 0.0, f"0 of {total} runs: training {kwargs['baselines'][0]}, seed "
              f"{kwargs['seeds'][0]}")  # fmt: skip
    try:
        res = compare(circuit, env_id, progress=progress, should_stop=should_stop, **kwargs)
    except _Cancelled:
        return {"env_id": env_id, "complete": False, "runs_done": len(done)}
    return {
        "env_id": env_id, "complete": True, "runs_done": len(done), "seeds": kwargs["seeds"],
        "generations": kwargs["generations"], "seconds": kwargs["max_seconds"],
        "summary": table_to_store(res.summary), "runs": table_to_store(res.runs),
        "lesions": table_to_store(res.lesions),
    }  # fmt: skip


def table_from_json(data) -> pd.DataFrame:
    """A table of :func:`webapp.screening.table_to_store` data (None read as NaN in numeric
    columns); raises WiringFormatError for data of another shape (a forged store)."""
    if not isinstance(data, dict) or not isinstance(data.get("columns"), list):
        raise WiringFormatError("the stored comparison is damaged: run it again")
    rows = data.get("rows")
    if not isinstance(rows, list) or not all(
        isinstance(r, list) and len(r) == len(data["columns"]) for r in rows
    ):
        raise WiringFormatError("the stored comparison's rows are damaged: run it again")
    table = pd.DataFrame(rows, columns=[str(c) for c in data["columns"]])
    return table.infer_objects()
