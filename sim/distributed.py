"""Run tasks in this process or as dask.distributed tasks, yielding results as they come.

:func:`run_tasks` is the one place wormlab hands work to dask: sweep chunks
(:func:`sim.sweeps.run_chunk`, through :func:`execute`) and training runs
(:mod:`sim.train_runs`). Both ways call the same function on the same arguments, so they give
the same results bit for bit. On dask each task has a key made from a fingerprint of the work
and its number; the client keeps every task until its result is taken, so a worker that dies
mid-run costs only the recomputation of its tasks (dask reschedules them, up to
``distributed.scheduler.allowed-failures`` deaths per task). Each worker process keeps what it
caches (compiled networks: :func:`sim.sweeps.compiled_network`; numba's compiled kernels).

dask is optional: ``pip install "wormlab[dask]"``.
"""

from __future__ import annotations

import os

from connectome.errors import SimulationError
from sim.sweeps import run_chunk

__all__ = ["execute", "run_tasks", "local_cluster", "require_distributed"]


def require_distributed():
    """The ``distributed`` module, or a SimulationError naming the pip extra."""
    try:
        import distributed
    except ImportError as err:
        raise SimulationError(
            'running on dask needs dask.distributed: pip install "wormlab[dask]"'
        ) from err
    return distributed


def local_cluster(workers, *, threads=None, **kwargs):
    """A dask ``LocalCluster`` of ``workers`` single-threaded worker processes.

    Parameters
    ----------
    workers : int
        Worker processes.
    threads : int, optional
        numba threads per worker (default: the machine's cores shared out, at least 1).
    **kwargs
        Passed to ``distributed.LocalCluster``.

    Returns
    -------
    distributed.LocalCluster
        Use it as a context manager (it is closed on exit).
    """
    distributed = require_distributed()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SimulationError(f"workers = {workers!r} must be a positive integer")
    per = threads or max(1, (os.cpu_count() or 1) // workers)
    env = {"NUMBA_NUM_THREADS": str(per), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    options = {
        "n_workers": workers,
        "threads_per_worker": 1,
        "processes": True,
        "dashboard_address": ":0",  # any free port: never clash with a running dashboard
        "env": env,
    }
    options.update(kwargs)
    return distributed.LocalCluster(**options)


def execute(spec, chunks, *, workers=None, scheduler=None, client=None, timeout=120):
    """Run ``chunks`` of a sweep ``spec``; yield ``(chunk, rows)`` as each finishes.

    See :func:`run_tasks` for ``workers``, ``scheduler``, ``client`` and ``timeout``.
    """
    chunks = list(chunks)
    results = run_tasks(
        run_chunk, [(c,) for c in chunks], shared=(spec,),
        token=f"sweep-{spec.fingerprint()[:16]}", workers=workers, scheduler=scheduler,
        client=client, timeout=timeout,
    )  # fmt: skip
    try:
        for k, rows in results:
            yield chunks[k], rows
    finally:
        results.close()


def run_tasks(
    func, args, *, token, shared=(), workers=None, scheduler=None, client=None, timeout=120
):
    """Call ``func(*shared, *a)`` for each ``a`` of ``args``; yield ``(index, result)`` as each
    finishes.

    Parameters
    ----------
    func : callable
        A module-level function (workers import it by name).
    args : sequence of tuple
        Arguments of each task.
    shared : tuple
        Leading arguments common to every task, sent to each worker once (a sweep's spec
        holds every point: sent with each of thousands of tasks it would cost more than the
        work).
    token : str
        Names the work: task keys are ``wormlab-{token}-{index}``, so the same token must mean
        the same work.
    workers : int, optional
        Start a :func:`local_cluster` of this many workers for the run.
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); its workers must be able to
        import wormlab.
    client : distributed.Client, optional
        A client the caller manages. With none of the three, the tasks run here, in order.
    timeout : float
        Seconds to wait for the cluster to come up.

    Closing the generator early cancels the tasks still pending.
    """
    args = list(args)
    given = [name for name, v in (("workers", workers), ("scheduler", scheduler),
                                  ("client", client)) if v is not None]  # fmt: skip
    if len(given) > 1:
        raise SimulationError(f"give one of workers, scheduler or client, not {given}")
    if not args:
        return
    if not given:
        for k, a in enumerate(args):
            yield k, func(*shared, *a)
        return
    if client is not None:
        yield from _on_client(client, func, args, token, shared)
        return
    distributed = require_distributed()
    if workers is not None:
        with (
            local_cluster(workers) as cluster,
            distributed.Client(cluster, timeout=timeout) as own,
        ):
            yield from _on_client(own, func, args, token, shared)
        return
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise SimulationError(f"scheduler = {scheduler!r}: give an address like tcp://host:8786")
    try:
        own = distributed.Client(scheduler, timeout=timeout)
    except OSError as err:
        raise SimulationError(f"cannot reach the dask scheduler at {scheduler}: {err}") from err
    with own:
        yield from _on_client(own, func, args, token, shared)


def _on_client(client, func, args, token, shared):
    distributed = require_distributed()
    # every worker holds a copy, so a worker that dies does not take the only one with it
    common = client.scatter(list(shared), broadcast=True, hash=False) if shared else []
    futures = {
        client.submit(func, *common, *a, key=f"wormlab-{token}-{k}"): k for k, a in enumerate(args)
    }
    pending = set(futures)
    try:
        for future in distributed.as_completed(list(futures)):
            result = future.result()
            pending.discard(future)
            k = futures[future]
            future.release()
            yield k, result
    finally:
        if pending:
            client.cancel(list(pending))
