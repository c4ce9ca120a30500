"""The Train page's training-job machinery, without Dash: io maps, configuration, the
worker process, the stop-file protocol, and controller building and evaluation.

The page (:mod:`webapp.pages.train`) builds a configuration from its fields with
:func:`training_config`, runs it with :func:`run_training` from a Dash background callback, and
evaluates uploads with :func:`controller_from_upload` and :func:`evaluate_controller`.

How a run is wired
------------------
The background callback runs in a process that Dash forks from the server. The training
itself runs in a fresh Python process started from there (:func:`run_training`): a process
forked from a server whose numba threading layer is already running (GNU OpenMP, e.g. after
a parallel simulation) aborts when it starts its own parallel kernels, and a fresh process
does not inherit that state. The worker reads its configuration on stdin and writes
progress and the result as JSON lines on stdout; it loads the compiled kernels from numba's
on-disk cache. Nothing but JSON crosses between the processes.

Cancel does not kill the job: it leaves a stop mark (:func:`request_stop`, a file named after
the run in the system temp folder, :func:`stop_path`) that the trainer's ``should_stop`` hook
looks for after every generation, so the trainer returns the best controller found so far,
which is evaluated and kept like a finished run. Each page load has its own session id, part
of the run id (:func:`job_id`) and of the callback's arguments, so two browsers training at
once never share a job or its progress.
"""

import json
import math
import os
import re
import shutil
import tempfile
from types import MappingProxyType

import numpy as np

import connectome
from connectome import io as wiring_io
from connectome.errors import ControllerError, WiringFormatError, WormlabError
from sim.envs import ENV_IDS, env_spec
from webapp.uploads import decode_upload

__all__ = [
    "ENVS",
    "OBS_LABELS",
    "ACTION_LABELS",
    "DEFAULT_TARGETS",
    "CIRCUIT_PRESETS",
    "MAX_EVAL_EPISODES",
    "warm_up",
    "default_io",
    "io_options",
    "describe_io",
    "circuit_choice",
    "make_controller",
    "record_episode",
    "evaluate_controller",
    "controller_from_upload",
    "int_field",
    "progress_state",
    "job_id",
    "stop_path",
    "request_stop",
    "clear_stop",
    "run_training",
    "training_config",
]

#: The environments the page trains on, and their labels and stop-at scores (sim.envs).
ENVS = ENV_IDS
OBS_LABELS = MappingProxyType({e: env_spec(e).obs_labels for e in ENV_IDS})
ACTION_LABELS = MappingProxyType({e: env_spec(e).action_label for e in ENV_IDS})
DEFAULT_TARGETS = MappingProxyType({e: env_spec(e).target for e in ENV_IDS})
#: The preset circuits the page offers (connectome.presets names) and their labels.
CIRCUIT_PRESETS = MappingProxyType(
    {
        "tap_withdrawal": "Preset: tap withdrawal",
        "chemotaxis": "Preset: chemotaxis",
        "locomotion": "Preset: locomotion",
    }
)
_SESSION = re.compile(r"^[0-9a-f]{32}$")
#: Most evaluation episodes of one run or upload.
MAX_EVAL_EPISODES = 200


def warm_up() -> None:
    """Get the training and evaluation kernels ready before the first request.

    Evaluation (uploads) runs in the server: its kernels are compiled (or loaded from numba's
    cache) here. Training runs in fresh processes: one tiny run in such a process (one
    generation of CartPole) writes numba's on-disk cache of the batched rollout kernel, so
    that no user's first run waits for the compiler. The server itself never starts numba's
    threading layer (see the module notes).
    """
    from sim.envs import warmup
    from sim.evaluation import evaluate

    warmup()
    circuit = connectome.presets.tap_withdrawal()
    for env_id in ENVS:
        ctrl = make_controller(circuit, env_id, default_io(circuit, env_id))
        evaluate(ctrl, seeds=[0])
    folder = tempfile.mkdtemp(prefix="wormlab-warmup-")
    stop = os.path.join(folder, "stop")
    try:
        request_stop(stop)
        config = {
            "wiring": wiring_io.to_dict(circuit), "env_id": "CartPole-v1",
            "io": default_io(circuit, "CartPole-v1"), "seed": 0, "generations": 1,
            "seconds": 60.0, "target": None, "episodes": 1, "eval_episodes": 1,
        }  # fmt: skip
        run_training(config, lambda _msg: None, stop)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------------ io mapping
def default_io(circuit, env_id: str) -> dict:
    """The io mapping a newcomer gets for ``circuit`` on ``env_id``.

    Input: one-to-one positive/negative pairs of sensory neurons (Lechner et al. 2018) when
    there are two per observation component, else a dense affine map. Output: the difference
    of two motor neurons (AVB - AVA, forward minus reverse, when those are the motor
    neurons) for a one-number action, else a dense readout of every motor neuron.

    Returns
    -------
    dict
        ``{"input_map": "dense"|"pairs", "pairs": [[j, pos, neg], ...],
        "output_map": "difference"|"dense", "output_neurons": [a, b]}``
    """
    from sim.control import default_output_neurons
    from sim.envs import env_info

    info = env_info(env_id)
    sensory, motor = list(circuit.sensory), list(circuit.motor)
    n_pairs = min(info.obs_dim, len(sensory) // 2)
    pairs = [[j, sensory[2 * j], sensory[2 * j + 1]] for j in range(n_pairs)]
    input_map = "pairs" if 2 * info.obs_dim <= len(sensory) else "dense"
    one_number = info.discrete or info.act_dim == 1
    if len(motor) == 2 and one_number:
        out = list(default_output_neurons(motor))
        output_map = "difference"
    else:
        out = motor[:2]
        output_map = "dense"
    return {"input_map": input_map, "pairs": pairs, "output_map": output_map,
            "output_neurons": out}  # fmt: skip


def io_options(io: dict) -> dict:
    """Keyword arguments of :meth:`sim.control.Controller.from_circuit` for an io mapping
    (:func:`default_io`'s format); raises ControllerError for an incomplete mapping."""
    opts = {"input_map": io.get("input_map", "dense"), "output_map": io.get("output_map", "auto")}
    if opts["input_map"] == "pairs":
        pairs = {}
        for item in io.get("pairs") or []:
            j, pos, neg = item
            if not pos and not neg:
                continue
            if not pos or not neg:
                raise ControllerError(
                    f"Input pairs: observation component {j} needs both a positive and a "
                    "negative neuron (or neither)"
                )
            pairs[int(j)] = (pos, neg)
        if not pairs:
            raise ControllerError("Input pairs: give at least one observation component a pair")
        opts["pairs"] = pairs
    if opts["output_map"] == "difference":
        neurons = [n for n in io.get("output_neurons") or [] if n]
        if len(neurons) != 2:
            raise ControllerError("Output: the difference map needs two motor neurons (a - b)")
        opts["output_neurons"] = tuple(neurons)
    return opts


def describe_io(circuit, env_id: str, io: dict) -> str:
    """One sentence saying how observations reach the circuit and actions leave it."""
    labels = OBS_LABELS.get(env_id, ())
    sensory = ", ".join(circuit.sensory) or "none"
    if io.get("input_map") == "pairs":
        parts = [
            f"{labels[j] if j < len(labels) else j} \u2192 {p} (+) / {q} (\u2212)"
            for j, p, q in io.get("pairs") or []
            if p and q
        ]
        inputs = "one-to-one: " + "; ".join(parts)
    else:
        inputs = (
            f"dense: every observation component ({', '.join(labels)}) drives every sensory "
            f"neuron ({sensory}) with a trained weight"
        )
    if io.get("output_map") == "difference":
        a, b = (list(io.get("output_neurons") or []) + ["?", "?"])[:2]
        outputs = f"action from g\u00b7(v[{a}] \u2212 v[{b}]) + b"
    else:
        motor = ", ".join(circuit.motor)
        outputs = f"action from a trained readout of every motor neuron ({motor})"
    return f"Inputs, {inputs}. Output: {outputs}; {ACTION_LABELS.get(env_id, '')}."


def circuit_choice(choice: str, store_circuit, dataset: str | None = None):
    """The circuit picked in the Circuit dropdown: ``"current"`` (the Circuit page's, from
    ``store-circuit``) or a preset name."""
    if choice == "current":
        if not store_circuit:
            raise WiringFormatError(
                "Circuit: there is no circuit from the Circuit page yet; build one there or "
                "pick a preset"
            )
        return wiring_io.from_dict(store_circuit)
    if choice in CIRCUIT_PRESETS:
        return connectome.presets.preset(choice, connectome.load(dataset or "cook2019"))
    raise ControllerError(f"Circuit: unknown choice {choice!r}")


def make_controller(circuit, env_id, io):
    """The untrained :class:`sim.control.Controller` of ``circuit`` on ``env_id`` with the io
    mapping ``io`` (:func:`default_io`'s format); raises ControllerError for a bad mapping."""
    from sim.control import Controller

    return Controller.from_circuit(circuit, env_id, **io_options(io))


# ------------------------------------------------------------------------ evaluation
def record_episode(controller, seed: int) -> dict:
    """One episode of ``controller`` in gymnasium's own env, with the env's state at reset
    and after every step (for :func:`webapp.figures.control.episode_figure`).

    Returns
    -------
    dict
        ``{"env_id", "seed", "states": (T + 1) x state_dim list, "rewards": T list,
        "return": float}``
    """
    import gymnasium

    env = gymnasium.make(controller.env.env_id)
    ctrl = controller.with_theta(controller.theta)
    try:
        obs, _ = env.reset(seed=int(seed))
        ctrl.reset()
        states = [np.asarray(env.unwrapped.state, np.float64).tolist()]
        rewards = []
        while True:
            obs, reward, terminated, truncated, _ = env.step(ctrl.act(obs))
            rewards.append(float(reward))
            states.append(np.asarray(env.unwrapped.state, np.float64).tolist())
            if terminated or truncated:
                break
    finally:
        env.close()
    return {
        "env_id": controller.env.env_id,
        "seed": int(seed),
        "states": states,
        "rewards": rewards,
        "return": float(np.sum(rewards)),
    }


def evaluate_controller(controller, episodes: int = 20, seed: int = 0) -> dict:
    """Evaluation in gymnasium's own env (:func:`sim.evaluation.evaluate`) and one recorded
    episode (the first evaluation seed), as JSON-ready data."""
    from sim.evaluation import evaluate

    ev = evaluate(controller, episodes=int(episodes), seed=int(seed))
    return {
        "evaluation": {
            "env_id": ev.env_id,
            "mean": ev.mean,
            "min": ev.min,
            "max": ev.max,
            "episodes": len(ev.returns),
            "returns": list(ev.returns),
            "seeds": list(ev.seeds),
        },
        "episode": record_episode(controller, ev.seeds[0]),
    }


def controller_from_upload(contents: str):
    """A controller from an uploaded JSON (data URL), validated; nothing is unpickled or
    evaluated, and only the four classic-control envs are accepted.

    Raises
    ------
    WiringFormatError, ControllerError
        With a message naming the problem.
    """
    from sim.control import Controller
    from sim.envs import env_info

    raw = decode_upload(contents, text=True)
    try:
        data = json.loads(raw)
    except ValueError as err:
        raise WiringFormatError(f"not a JSON file ({err})") from err
    if isinstance(data, dict) and data.get("format") == "wormlab-wiring":
        raise WiringFormatError(
            "this is a circuit wiring file, not a trained controller: load it on the Circuit "
            "page and train it here"
        )
    env = data.get("env") if isinstance(data, dict) else None
    env_id = env.get("env_id") if isinstance(env, dict) else None
    if env_id not in ENVS:
        raise WiringFormatError(f"env.env_id is {env_id!r}; this page evaluates {', '.join(ENVS)}")
    ctrl = Controller.from_dict(data)
    real = env_info(env_id)
    mine = ctrl.env
    if (mine.obs_dim, mine.discrete, mine.n_actions, mine.act_dim) != (
        real.obs_dim, real.discrete, real.n_actions, real.act_dim,
    ):  # fmt: skip
        raise WiringFormatError(
            f"env: the file describes {env_id} with {mine.obs_dim} observations, gymnasium's "
            f"has {real.obs_dim}"
        )
    return ctrl


# ------------------------------------------------------------------------ configuration
def int_field(value, field, lo, hi):
    """A whole number from ``lo`` to ``hi`` typed in the field ``field``; raises
    ControllerError naming the field otherwise."""
    if value is None or value == "":
        raise ControllerError(f"{field}: enter a number")
    try:
        number = float(value)
    except (TypeError, ValueError) as err:
        raise ControllerError(f"{field}: {value!r} is not a number") from err
    if not math.isfinite(number) or number != int(number) or not lo <= number <= hi:
        raise ControllerError(f"{field}: must be a whole number from {lo} to {hi}, got {value}")
    return int(number)


def training_config(values) -> dict:
    """The training configuration from the page's fields (raises ControllerError/
    WormlabError with the field's name)."""
    circuit = circuit_choice(values["circuit"], values["store_circuit"], values["dataset"])
    problems = [p for p in circuit.problems() if "disconnected" not in p]
    if problems:
        raise ControllerError("Circuit: " + "; ".join(problems))
    env_id = values["env"]
    if env_id not in ENVS:
        raise ControllerError(f"Environment: pick one of {', '.join(ENVS)}")
    io = values["io"]
    make_controller(circuit, env_id, io)  # validates the io mapping
    target = values["target"]
    if target in (None, ""):
        target = None
    else:
        try:
            target = float(target)
        except (TypeError, ValueError) as err:
            raise ControllerError(f"Stop at return: {target!r} is not a number") from err
    seconds = values["seconds"]
    try:
        seconds = float(seconds)
    except (TypeError, ValueError) as err:
        raise ControllerError(f"Seconds: {seconds!r} is not a number") from err
    if not 0 < seconds <= 3600:
        raise ControllerError(f"Seconds: must be between 0 and 3600, got {seconds:g}")
    return {
        "wiring": wiring_io.to_dict(circuit),
        "env_id": env_id,
        "io": io,
        "seed": int_field(values["seed"], "Seed", 0, 2**31 - 1),
        "generations": int_field(values["generations"], "Generations", 1, 100000),
        "episodes": int_field(values["episodes"], "Episodes / candidate", 1, 100),
        "eval_episodes": int_field(
            values["eval_episodes"], "Evaluation episodes", 1, MAX_EVAL_EPISODES
        ),
        "seconds": seconds,
        "target": target,
    }


# ------------------------------------------------------------------------ training job
def progress_state(env_id, seed, generation, budget_generations, budget_seconds, best, mean,
                   elapsed, note=""):  # fmt: skip
    """(value, max, text) of the progress bar: the larger of the generation and the time
    fractions of the budget, in percent."""
    frac = generation / max(budget_generations, 1)
    if budget_seconds:
        frac = max(frac, elapsed / budget_seconds)
    value = int(round(100 * min(frac, 1.0)))
    text = (
        f"{env_id}, seed {seed}: generation {generation} of at most {budget_generations}"
        f" \u00b7 best {best:.1f} \u00b7 mean {mean:.1f} \u00b7 {elapsed:.1f} s"
    )
    if budget_seconds:
        text += f" of {budget_seconds:g} s"
    if note:
        text += f" \u2014 {note}"
    return value, 100, text


# ------------------------------------------------------------------------ stop marks
def stop_path(run_id: str) -> str:
    """The stop mark of one run (a file in the system temp folder)."""
    return os.path.join(tempfile.gettempdir(), "wormlab-train-stop", run_id)


def job_id(session, n_clicks) -> str:
    """The run id of a page session's ``n_clicks``-th Train click; raises ControllerError
    for a session id that is not 32 hex digits."""
    if not isinstance(session, str) or not _SESSION.match(session):
        raise ControllerError("this page has no valid session id: reload the page")
    return f"{session}-{int(n_clicks or 0)}"


def request_stop(path: str) -> None:
    """Leave the stop mark ``path``: the trainer stops after its current generation."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("stop\n")


def clear_stop(path: str) -> None:
    """Remove the stop mark ``path`` if it is there (once its run has ended)."""
    if os.path.exists(path):
        os.remove(path)


_MARK = "@wormlab-train "  # prefix of the worker's message lines on its stdout


def _worker_main() -> None:
    """Entry point of the training process: reads the configuration (JSON) on stdin,
    trains, evaluates, and writes progress and the result as marked JSON lines on stdout."""
    import sys

    def emit(msg):
        sys.stdout.write(_MARK + json.dumps(msg) + "\n")
        sys.stdout.flush()

    try:
        from sim.trainer import train

        config = json.loads(sys.stdin.read())
        stop_file = config["stop_file"]
        circuit = wiring_io.from_dict(config["wiring"])
        ctrl = make_controller(circuit, config["env_id"], config["io"])
        emit({"kind": "phase", "text": "training: first generation"})

        def progress(generation, best, mean, elapsed):
            emit(
                {
                    "kind": "progress",
                    "generation": int(generation),
                    "best": float(best),
                    "mean": float(mean),
                    "elapsed": float(elapsed),
                }
            )

        result = train(
            ctrl,
            seed=config["seed"],
            generations=config["generations"],
            episodes=config["episodes"],
            target=config["target"],
            max_seconds=config["seconds"],
            progress=progress,
            should_stop=lambda: os.path.exists(stop_file),
        )
        emit({"kind": "phase", "text": "evaluating in gymnasium"})
        done = evaluate_controller(result.controller, config["eval_episodes"], config["seed"])
        emit(
            {
                "kind": "result",
                "controller": result.controller.to_dict(),
                "score": result.score,
                "generations": result.generations,
                "elapsed": result.elapsed,
                "reason": result.reason,
                "history": [dict(h) for h in result.history],
                **done,
            }
        )
    except WormlabError as err:
        emit({"kind": "error", "text": str(err)})
    except Exception as err:  # noqa: BLE001 - reported to the page, never as a traceback
        emit({"kind": "error", "text": f"training failed: {type(err).__name__}: {err}"})


def run_training(config: dict, on_progress, stop_file: str) -> dict:
    """Run one training job in a fresh Python process and relay its progress.

    Parameters
    ----------
    config : dict
        wiring, env_id, io, seed, generations, seconds, target, episodes, eval_episodes.
    on_progress : callable
        Called with each message ``{"kind": "progress", generation, best, mean, elapsed}``
        or ``{"kind": "phase", "text"}``.
    stop_file : str
        Once this file exists the trainer stops after its current generation; the best
        controller so far is then evaluated and returned.

    Returns
    -------
    dict
        The worker's result message (``kind`` 'result', with controller, score,
        generations, elapsed, reason, history, evaluation, episode) or
        ``{"kind": "error", "text"}``.
    """
    import pathlib
    import subprocess
    import sys

    root = str(pathlib.Path(__file__).resolve().parents[1])
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    errors = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from webapp.training import _worker_main; _worker_main()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
        cwd=root,
        env=env,
        text=True,
    )
    final = None
    try:
        proc.stdin.write(json.dumps(dict(config, stop_file=stop_file)))
        proc.stdin.close()
        for line in proc.stdout:
            if not line.startswith(_MARK):
                continue
            msg = json.loads(line[len(_MARK) :])
            if msg["kind"] in ("result", "error"):
                final = msg
            else:
                on_progress(msg)
    finally:
        if proc.poll() is None:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        errors.seek(0)
        log = errors.read()
        errors.close()
    if log.strip():
        sys.stderr.write(log)  # the server's log keeps the details
    if final is None:
        last = log.strip().splitlines()[-1:] or [""]
        return {
            "kind": "error",
            "text": f"the training process ended without a result (exit code "
            f"{proc.returncode}) {last[0][:200]}".strip(),
        }
    return final
