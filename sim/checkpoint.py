"""Training checkpoints: the JSON file a run writes after every generation and resumes from.

A checkpoint (never a pickle) holds the run's configuration, the fitness values told to
``cma`` in every generation, the generations at which restarts began, the optimiser's state
(:func:`optimiser_state`: mean, step size, covariance, evolution paths, generation count, and
a digest of the fitness history, to check the replay bit for bit), the history, the best
controller so far, and the versions of ``cma`` and numpy (a replay is exact only with the
same ones). :mod:`sim.trainer` explains how a run is resumed from it.

Before a run resumes, :func:`resume_state` checks the whole file: every fitness row finite
and of its generation's population size, one history record per generation with finite
numbers, the best score finite and equal to the history's, the mean finite and of the right
length; anything else is refused with a :class:`~connectome.errors.WiringFormatError`
naming the field (never a traceback, never a silently resumed run).
"""

import hashlib
import math

import numpy as np

from connectome import limits
from connectome.errors import ControllerError, WiringFormatError, WormlabError
from sim.jsonfile import read_json, write_json_atomic

__all__ = [
    "CHECKPOINT_FORMAT",
    "library_versions",
    "optimiser_state",
    "load_checkpoint",
    "write_checkpoint",
    "resume_state",
]

CHECKPOINT_FORMAT = "wormlab-train-checkpoint"
_CHECKPOINT_VERSION = 1
# Configuration keys added after version 1 was written, with the value older runs had.
_CONFIG_DEFAULTS = {"restarts": 0, "patience": 0, "obs_noise": 0.0, "randomise": 0.0}


def library_versions() -> dict:
    """The versions a replay depends on: ``{"cma": ..., "numpy": ...}``."""
    import cma

    return {"cma": cma.__version__, "numpy": np.__version__}


def _digest(values) -> str:
    return hashlib.sha256(np.ascontiguousarray(values, dtype=np.float64).tobytes()).hexdigest()


def optimiser_state(es, fitness) -> dict:
    """The fingerprint of a ``cma`` strategy and the fitness history told to it: ``mean``
    (list), ``sigma``, ``countiter``, and SHA-256 digests of the covariance matrix, the
    evolution paths ``pc`` and ``ps`` and the fitness rows (float64 bytes), so two states
    compare equal only when they are equal bit for bit. Uses ``cma``'s public attributes."""
    sm = es.sm
    C = sm.C if hasattr(sm, "C") else np.asarray(es.C)
    return {
        "mean": np.asarray(es.mean, np.float64).tolist(),
        "sigma": float(es.sigma),
        "countiter": int(es.countiter),
        "C": _digest(C),
        "pc": _digest(getattr(es, "pc", np.zeros(0))),
        "ps": _digest(getattr(getattr(es, "adapt_sigma", None), "ps", np.zeros(0))),
        "fitness": _digest(np.concatenate([np.ravel(f) for f in fitness]) if fitness else []),
    }


def load_checkpoint(path) -> dict:
    """Read a training checkpoint (JSON) and check its format.

    Raises
    ------
    WiringFormatError
        Not JSON, not a checkpoint, or a version this wormlab cannot read.
    """
    d = read_json(path, max_bytes=limits.MAX_CHECKPOINT_BYTES)
    if not isinstance(d, dict) or d.get("format") != CHECKPOINT_FORMAT:
        raise WiringFormatError(f"{path}: not a wormlab training checkpoint")
    if d.get("version") != _CHECKPOINT_VERSION:
        raise WiringFormatError(f"{path}: checkpoint version {d.get('version')!r} unsupported")
    return d


def write_checkpoint(path, config, generation, fitness, segments, state, history, best, elapsed):
    """Write the state of a run after ``generation`` generations, atomically.

    Parameters
    ----------
    path : path
        The checkpoint file.
    config : dict
        The run's configuration (:func:`sim.trainer.train` builds it).
    generation : int
        Generations done.
    fitness : list of list of float
        The fitness values told to ``cma``, per generation.
    segments : list of [int, int]
        ``[first generation, popsize]`` of every ``cma`` run (restarts).
    state : dict
        :func:`optimiser_state` after the last generation.
    history : list of dict
        Per-generation record.
    best : dict
        The best validated controller (``"controller"``: its dict) and its score record.
    elapsed : float
        Training wall time so far, s.
    """
    write_json_atomic(
        path,
        {
            "format": CHECKPOINT_FORMAT,
            "version": _CHECKPOINT_VERSION,
            "versions": library_versions(),
            "config": config,
            "generation": generation,
            "fitness": fitness,
            "segments": segments,
            "mean": state["mean"],
            "optimiser": state,
            "history": history,
            "best": best["controller"],
            "best_info": {k: v for k, v in best.items() if k != "controller"},
            "elapsed": elapsed,
        },
    )


def resume_state(path, config) -> dict:
    """The stored state of the run in checkpoint ``path``, which must have the configuration
    ``config`` and the current ``cma`` and numpy versions.

    Raises
    ------
    ControllerError
        The checkpoint is another run, or was written with other library versions.
    WiringFormatError
        The file is not a checkpoint.
    """
    d = load_checkpoint(path)
    try:
        old = {**_CONFIG_DEFAULTS, **d["config"]}  # checkpoints from before restarts existed
        diff = [k for k in config if old.get(k) != config[k]]
        versions = d["versions"]
        if not diff and versions == library_versions():
            return _checked(path, d, old)
    except WormlabError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
        raise WiringFormatError(
            f"checkpoint {path} is malformed ({err!r}); start a new run"
        ) from err
    if diff:
        raise ControllerError(
            f"checkpoint {path} is a different run (differs in {', '.join(diff)}); use another "
            "checkpoint path or the same settings"
        )
    raise ControllerError(
        f"checkpoint {path} was written with {versions}, now {library_versions()}: "
        "the cma replay would not be exact"
    )


def _finite(path, field, value):
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise WiringFormatError(
            f"checkpoint {path}: {field} is {value!r}, not a finite number; the file is damaged: "
            "start a new run (or another checkpoint path)"
        )
    return float(value)


def _checked(path, d, config) -> dict:
    """The state of checkpoint dict ``d``, every field checked (see the module docstring)."""
    generation = d["generation"]
    if isinstance(generation, bool) or not isinstance(generation, int) or generation < 0:
        raise WiringFormatError(f"checkpoint {path}: generation {generation!r} is not a count")
    segments = [[int(a), int(b)] for a, b in d.get("segments", [[0, config["popsize"]]])]
    if (
        not segments
        or segments[0][0] != 0
        or any(
            b[0] < a[0] or b[0] > generation for a, b in zip(segments, segments[1:], strict=False)
        )
    ):
        raise WiringFormatError(f"checkpoint {path}: segments {segments!r} are out of order")
    fitness = d["fitness"]
    if not isinstance(fitness, list) or len(fitness) != generation:
        raise WiringFormatError(
            f"checkpoint {path}: {len(fitness) if isinstance(fitness, list) else fitness!r} "
            f"fitness rows for {generation} generations"
        )
    rows = []
    for g, row in enumerate(fitness):
        pop = [p for start, p in segments if start <= g][-1]
        if not isinstance(row, list) or len(row) != pop:
            raise WiringFormatError(
                f"checkpoint {path}: fitness row of generation {g} has "
                f"{len(row) if isinstance(row, list) else row!r} values, expected {pop}"
            )
        rows.append([_finite(path, f"fitness[{g}][{k}]", v) for k, v in enumerate(row)])
    history = d["history"]
    if not isinstance(history, list) or len(history) != generation:
        raise WiringFormatError(
            f"checkpoint {path}: history has "
            f"{len(history) if isinstance(history, list) else history!r} records for "
            f"{generation} generations"
        )
    for g, h in enumerate(history):
        if not isinstance(h, dict) or h.get("generation") != g + 1:
            raise WiringFormatError(f"checkpoint {path}: history record {g} is {h!r}")
        for key in ("best", "gen_best", "mean", "sigma", "elapsed"):
            _finite(path, f"history[{g}].{key}", h.get(key))
    mean = d["mean"]
    if not isinstance(mean, list):
        raise WiringFormatError(f"checkpoint {path}: mean is {type(mean).__name__}, not a list")
    for k, v in enumerate(mean):
        _finite(path, f"mean[{k}]", v)
    state = d.get("optimiser")
    if not isinstance(state, dict):
        raise WiringFormatError(
            f"checkpoint {path} has no optimiser state (written by an older wormlab): its "
            "resume cannot be checked; start a new run"
        )
    best = None
    if d.get("best") is not None:
        info = d["best_info"]
        score = _finite(path, "best_info.score", info.get("score"))
        if not history or score != history[-1]["best"]:
            raise WiringFormatError(
                f"checkpoint {path}: best_info.score {score!r} is not the history's best score "
                f"{history[-1]['best'] if history else None!r}; the file is damaged"
            )
        _finite(path, "best_info.train", info.get("train"))
        best = dict(info, controller=d["best"])
    elif generation:
        raise WiringFormatError(f"checkpoint {path}: {generation} generations but no best")
    return {
        "generation": generation,
        "fitness": rows,
        "segments": segments,
        "mean": mean,
        "optimiser": state,
        "history": history,
        "best": best,
        "elapsed": _finite(path, "elapsed", d["elapsed"]),
        "versions": d["versions"],
    }
