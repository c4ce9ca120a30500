"""Training checkpoints: the JSON file a run writes after every generation and resumes from.

A checkpoint (never a pickle) holds the run's configuration, the fitness values told to
``cma`` in every generation, the generations at which restarts began, ``cma``'s mean (to
check the replay bit for bit), the history, the best controller so far, and the versions of
``cma`` and numpy (a replay is exact only with the same ones). :mod:`sim.trainer` explains
how a run is resumed from it.
"""

import numpy as np

from connectome import limits
from connectome.errors import ControllerError, WiringFormatError
from sim.jsonfile import read_json, write_json_atomic

__all__ = [
    "CHECKPOINT_FORMAT",
    "library_versions",
    "load_checkpoint",
    "write_checkpoint",
    "resume_state",
]

CHECKPOINT_FORMAT = "wormlab-train-checkpoint"
_CHECKPOINT_VERSION = 1
# Configuration keys added after version 1 was written, with the value older runs had.
_CONFIG_DEFAULTS = {"restarts": 0, "patience": 0}


def library_versions() -> dict:
    """The versions a replay depends on: ``{"cma": ..., "numpy": ...}``."""
    import cma

    return {"cma": cma.__version__, "numpy": np.__version__}


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


def write_checkpoint(path, config, generation, fitness, segments, mean, history, best, elapsed):
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
    mean : ndarray
        ``cma``'s mean after the last generation.
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
            "mean": np.asarray(mean).tolist(),
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
    old = {**_CONFIG_DEFAULTS, **d["config"]}  # checkpoints from before restarts existed
    diff = [k for k in config if old.get(k) != config[k]]
    if diff:
        raise ControllerError(
            f"checkpoint {path} is a different run (differs in {', '.join(diff)}); use another "
            "checkpoint path or the same settings"
        )
    if d["versions"] != library_versions():
        raise ControllerError(
            f"checkpoint {path} was written with {d['versions']}, now {library_versions()}: "
            "the cma replay would not be exact"
        )
    best = None
    if d.get("best") is not None:
        best = dict(d["best_info"], controller=d["best"])
    return {
        "generation": int(d["generation"]),
        "fitness": [list(map(float, f)) for f in d["fitness"]],
        "segments": [[int(a), int(b)] for a, b in d.get("segments", [[0, old["popsize"]]])],
        "mean": d["mean"],
        "history": d["history"],
        "best": best,
        "elapsed": float(d["elapsed"]),
        "versions": d["versions"],
    }
