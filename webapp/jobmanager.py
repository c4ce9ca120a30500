"""Dash's background callbacks run in threads of the server, never in forked processes.

Dash's own ``DiskcacheManager`` forks the server for each background callback. A forked
process has only the thread that forked, so any lock another thread held at that moment
(numba's compiler lock during the start-up warm-up, a ``functools.cached_property`` lock,
SQLite's mutex inside a request polling the job cache, or, under pytest, a pipe to the
browser driver that then never closes) stays held in the child for ever: the job hangs
before it starts, and its process outlives the server. :class:`ThreadJobManager` keeps
Dash's protocol (results and progress in a diskcache, job handles signed by Dash) but runs
each callback in a daemon thread of the server. Nothing is forked.

The long work itself still runs in a fresh Python process (:func:`webapp.jobs.run_job`);
the thread only relays its progress. When Dash terminates a job (a newer call of the same
callback replaces it, or its result has been read) the thread's :func:`termination`
event is set, and :func:`webapp.jobs.run_job` kills that job's worker process.
"""

import contextvars
import secrets
import threading

import dash

__all__ = ["ThreadJobManager", "termination"]

_TERMINATION: contextvars.ContextVar = contextvars.ContextVar("wormlab_job_termination")


def termination() -> threading.Event | None:
    """The event set when Dash terminates the background job running in this thread
    (``None`` outside a job)."""
    return _TERMINATION.get(None)


class _Job:
    """One background callback's thread, its result key and its termination event."""

    def __init__(self, key, target):
        self.key = key
        self.terminated = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(target,), daemon=True)

    def _run(self, target):
        _TERMINATION.set(self.terminated)
        target()


class ThreadJobManager(dash.DiskcacheManager):
    """A ``DiskcacheManager`` whose jobs are threads of the server (see the module notes).

    Job handles are random 48-bit numbers (not process ids), so a handle from before a
    restart never names a job of the new server.
    """

    def __init__(self, cache, cache_by=None, expire=None):
        super().__init__(cache, cache_by=cache_by, expire=expire)
        self._jobs: dict[int, _Job] = {}
        self._lock = threading.Lock()

    def call_job_fn(self, key, job_fn, args, context):
        def target():
            job_fn(key, self._make_progress_key(key), args, context)

        job = _Job(key, target)
        with self._lock:  # forget the jobs that ended and whose result has been read
            ended = [n for n, j in self._jobs.items() if not self._running(j)]
            for number in ended:
                del self._jobs[number]
            number = secrets.randbits(48) or 1
            self._jobs[number] = job
        job.thread.start()
        return number

    def _job(self, job) -> _Job | None:
        try:
            number = int(job)
        except (TypeError, ValueError):
            return None
        with self._lock:
            return self._jobs.get(number)

    def job_running(self, job):
        """True while the job's thread runs, and after it until its result has been read:
        Dash reads the result first and then asks whether the job still runs, so a job that
        ended between the two would otherwise count as cancelled and its result be lost."""
        found = self._job(job)
        return found is not None and self._running(found)

    def _running(self, job: _Job) -> bool:
        return job.thread.is_alive() or self.result_ready(job.key)

    def join(self, job, timeout=None) -> bool:
        """Wait up to ``timeout`` s for the job's thread to end; whether it has (a handle
        that names no job has nothing to wait for)."""
        found = self._job(job)
        if found is not None:
            found.thread.join(timeout)
        return found is None or not found.thread.is_alive()

    def terminate_job(self, job):
        found = self._job(job)
        if found is not None:
            found.terminated.set()

    def terminate_unhealthy_job(self, job):
        found = self._job(job)
        if found is not None and not found.thread.is_alive():
            found.terminated.set()
            return True
        return False
