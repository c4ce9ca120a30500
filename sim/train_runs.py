"""Training at scale: several training runs (seeds x envs) as tasks, with a summary table.

Each run is one call of :func:`sim.trainer.train` with its own output controller and its own
checkpoint (written atomically after every generation by the trainer), run in this process or
as a dask.distributed task (:func:`sim.distributed.run_tasks`). A run whose checkpoint exists
resumes from it, so rerunning the same command after an interruption (or after a worker died
and dask reran its task) continues every run where its checkpoint left it. The summary table
(one row per run: env, seed, score, generations, elapsed, reason, output, error) is written
atomically after each run finishes.

    python -m sim train --preset tap_withdrawal --env CartPole-v1 --seeds 0,1,2,3 \\
        --workers 2 --output runs/cartpole.json --summary runs/cartpole.csv
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from connectome.errors import ControllerError, WormlabError

__all__ = ["TrainRun", "plan_runs", "run_training", "train_runs", "SUMMARY_COLUMNS"]

SUMMARY_COLUMNS = (
    "env", "seed", "score", "generations", "elapsed", "reason", "output", "checkpoint", "error",
)  # fmt: skip


@dataclass(frozen=True)
class TrainRun:
    """One training run of a batch.

    Attributes
    ----------
    wiring : str
        The circuit as wiring JSON text (:func:`connectome.io.to_json`).
    env_id : str
    seed : int
    output, checkpoint : str
        The run's controller JSON and checkpoint paths.
    options : tuple of (name, value)
        Other :func:`sim.trainer.train` keyword arguments (generations, popsize, episodes, ...).
    """

    wiring: str
    env_id: str
    seed: int
    output: str
    checkpoint: str
    options: tuple


def _run_path(output, env_id, seed, many):
    if not many:
        return str(output)
    p = Path(output)
    return str(p.with_name(f"{p.stem}-{env_id}-seed{seed}{p.suffix or '.json'}"))


def plan_runs(circuit, envs, seeds, output, **options):
    """The runs of every (env, seed) pair, in order (env slowest).

    Parameters
    ----------
    circuit : connectome.Circuit
    envs : sequence of str
        Gymnasium ids.
    seeds : sequence of int
    output : path
        Controller JSON; with more than one run, each run writes
        ``STEM-ENV-seedSEED.json`` beside it (checkpoint: that name + ``.ckpt.json``).
    **options
        :func:`sim.trainer.train` keyword arguments shared by every run.

    Raises
    ------
    ControllerError
        For no envs, no seeds, a seed that is not an integer, or a repeated (env, seed).
    """
    import connectome

    envs, seeds = list(envs), list(seeds)
    if not envs or not seeds:
        raise ControllerError("give at least one env and one seed")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise ControllerError(f"seed {s!r} must be an integer >= 0")
    pairs = [(e, s) for e in envs for s in seeds]
    if len(set(pairs)) != len(pairs):
        raise ControllerError(f"repeated (env, seed) in envs {envs} x seeds {seeds}")
    for bad in ("seed", "checkpoint", "output", "resume", "progress", "should_stop"):
        if bad in options:
            raise ControllerError(f"{bad!r} is set per run; do not pass it in options")
    wiring = connectome.io.to_json(circuit)
    many = len(pairs) > 1
    runs = []
    for env_id, seed in pairs:
        out = _run_path(output, env_id, seed, many)
        runs.append(
            TrainRun(wiring, env_id, int(seed), out, out + ".ckpt.json",
                     tuple(sorted(options.items())))
        )  # fmt: skip
    return runs


def run_training(run):
    """Train one run (resuming from its checkpoint when there is one); its summary row.

    A run that fails with a WormlabError gets a row with its ``error``; it never stops the
    others.
    """
    import connectome
    from sim.trainer import train

    row = dict.fromkeys(SUMMARY_COLUMNS)
    row.update(env=run.env_id, seed=run.seed, output=run.output, checkpoint=run.checkpoint)
    try:
        circuit = connectome.io.from_json(run.wiring)
        result = train(
            circuit, run.env_id, seed=run.seed, checkpoint=run.checkpoint,
            resume=os.path.exists(run.checkpoint), output=run.output, **dict(run.options),
        )  # fmt: skip
    except WormlabError as err:
        row["error"] = f"{type(err).__name__}: {err}"
        return row
    row.update(
        score=float(result.score),
        generations=int(result.generations),
        elapsed=float(result.elapsed),
        reason=result.reason,
        error="",
    )
    return row


def _write_summary(path, rows):
    table = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    table = table.sort_values(["env", "seed"], kind="stable").reset_index(drop=True)
    if path is not None:
        tmp = Path(path).with_name(f".{Path(path).name}.tmp")
        table.to_csv(tmp, index=False)
        os.replace(tmp, path)
    return table


def train_runs(
    circuit, envs, seeds, output, *, workers=None, scheduler=None, client=None, summary=None,
    progress=None, **options,
):  # fmt: skip
    """Run every (env, seed) training run; return (and write) the summary table.

    Parameters
    ----------
    circuit, envs, seeds, output, **options
        See :func:`plan_runs`.
    workers, scheduler, client
        See :func:`sim.distributed.run_tasks` (in this process when none is given).
    summary : path, optional
        CSV of the summary, rewritten atomically after each finished run.
    progress : callable, optional
        Called with each finished run's row.

    Returns
    -------
    pandas.DataFrame
        One row per run (:data:`SUMMARY_COLUMNS`), sorted by env and seed.
    """
    from sim.distributed import run_tasks

    runs = plan_runs(circuit, envs, seeds, output, **options)
    for r in runs:
        Path(r.output).parent.mkdir(parents=True, exist_ok=True)
    token = hashlib.sha256(repr(runs).encode()).hexdigest()[:16]
    rows = []
    for _, row in run_tasks(
        run_training, [(r,) for r in runs], token=f"train-{token}", workers=workers,
        scheduler=scheduler, client=client,
    ):  # fmt: skip
        rows.append(row)
        _write_summary(summary, rows)
        if progress is not None:
            progress(row)
    return _write_summary(summary, rows)
