"""Run a sweep's chunks in this process or as dask.distributed tasks, yielding rows as they come.

Both ways call the same :func:`sim.sweeps.run_chunk` on the same chunks, so they give the same
rows bit for bit. On dask each chunk is one task with a key made from the sweep's fingerprint
and the chunk number; the client keeps every task until its rows are taken, so a worker that
dies mid-sweep costs only the recomputation of its tasks (dask reschedules them, up to
``distributed.scheduler.allowed-failures`` deaths per task). Each worker process keeps its
compiled networks (:func:`sim.sweeps.compiled_network`) and numba's compiled kernels.

dask is optional: ``pip install "wormlab[dask]"``.
"""

from __future__ import annotations

import os

from connectome.errors import SimulationError
from sim.sweeps import run_chunk

__all__ = ["execute", "local_cluster", "require_distributed"]


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
    """Run ``chunks`` of ``spec``; yield ``(chunk, rows)`` as each finishes.

    Parameters
    ----------
    spec : SweepSpec
    chunks : sequence of Chunk
    workers : int, optional
        Start a :func:`local_cluster` of this many workers for the run.
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); its workers must be able to
        import wormlab.
    client : distributed.Client, optional
        A client the caller manages. With none of the three, chunks run here, in order.
    timeout : float
        Seconds to wait for the cluster to come up.
    """
    chunks = list(chunks)
    given = [name for name, v in (("workers", workers), ("scheduler", scheduler),
                                  ("client", client)) if v is not None]  # fmt: skip
    if len(given) > 1:
        raise SimulationError(f"give one of workers, scheduler or client, not {given}")
    if not chunks:
        return
    if not given:
        for chunk in chunks:
            yield chunk, run_chunk(spec, chunk)
        return
    if client is not None:
        yield from _on_client(client, spec, chunks)
        return
    distributed = require_distributed()
    if workers is not None:
        with (
            local_cluster(workers) as cluster,
            distributed.Client(cluster, timeout=timeout) as own,
        ):
            yield from _on_client(own, spec, chunks)
        return
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise SimulationError(f"scheduler = {scheduler!r}: give an address like tcp://host:8786")
    try:
        own = distributed.Client(scheduler, timeout=timeout)
    except OSError as err:
        raise SimulationError(f"cannot reach the dask scheduler at {scheduler}: {err}") from err
    with own:
        yield from _on_client(own, spec, chunks)


def _on_client(client, spec, chunks):
    distributed = require_distributed()
    token = spec.fingerprint()[:16]
    futures = {
        client.submit(run_chunk, spec, chunk, key=f"wormlab-sweep-{token}-{chunk.index}"): chunk
        for chunk in chunks
    }
    pending = set(futures)
    try:
        for future in distributed.as_completed(list(futures)):
            rows = future.result()
            pending.discard(future)
            chunk = futures[future]
            future.release()
            yield chunk, rows
    finally:
        if pending:
            client.cancel(list(pending))
