"""Background jobs: one piece of long work run in a fresh Python process, with progress and stop.

A page starts a job from a Dash background callback with :func:`run_job` and relays its
progress to the page. Job kinds are named in :data:`JOBS` (training, the evaluation of an
uploaded controller, a long simulation, a lesion screen, the Train page's lesions and
baseline comparison); each is a function
``job(config, emit, should_stop) -> dict`` of plain JSON data.

How a job is wired
------------------
The background callback runs in a thread of the server (:mod:`webapp.jobmanager`; nothing
is forked). The job itself runs in a fresh Python process started from there
(:func:`run_job`), so a long computation neither competes with the server for its GIL nor
shares its numba threading layer, and a job that Dash terminates loses its worker with it.
The worker reads its job on stdin and writes progress and the result as JSON lines on
stdout; it loads the compiled kernels from numba's on-disk cache. Nothing but JSON crosses
between the processes.

Stop does not kill the job: it leaves a stop mark (:func:`request_stop`, a file in the
run's own folder inside the server's temporary folder, :func:`stop_path`) that the job's
``should_stop`` looks for (the trainer, after every generation), so a stopped job returns
what it has so far. Each
page load has its own session id, part of the run id (:func:`job_id`) and of the callback's
arguments, so two browsers running jobs at once never share a job or its progress.
"""

import contextlib
import importlib
import json
import os
import re
import tempfile
from types import MappingProxyType

from connectome.errors import ControllerError, WormlabError

__all__ = ["JOBS", "run_job", "job_id", "stop_path", "request_stop", "clear_stop"]

#: Job kind -> "module:function" of the job (run in the worker process).
JOBS = MappingProxyType(
    {
        "train": "webapp.training:training_job",
        "evaluate": "webapp.training:evaluation_job",
        "simulate": "webapp.simulation:simulation_job",
        "screen": "webapp.screening:screen_job",
        "lesions": "webapp.insight:lesion_job",
        "compare": "webapp.insight:compare_job",
    }
)
_SESSION = re.compile(r"^[0-9a-f]{32}$")
_MARK = "@wormlab-job "  # prefix of the worker's message lines on its stdout


# ------------------------------------------------------------------------ stop marks
def stop_path(folder: str, run_id: str) -> str:
    """The stop mark of one run: ``<folder>/runs/<run_id>/stop``, with ``folder`` the
    server's temporary folder (:func:`webapp.tempdirs.app_folder`). The run's folder exists
    only while the run does (:func:`run_job` makes it, :func:`clear_stop` removes it), so a
    client can mark only a running job of its own session, and only once."""
    return os.path.join(folder, "runs", run_id, "stop")


def job_id(session, n_clicks) -> str:
    """The run id of a page session's ``n_clicks``-th start click; raises ControllerError
    for a session id that is not 32 hex digits or a click count that is not a whole number
    >= 0 (both come from the browser)."""
    if not isinstance(session, str) or not _SESSION.match(session):
        raise ControllerError("this page has no valid session id: reload the page")
    clicks = n_clicks or 0
    if isinstance(clicks, bool) or not isinstance(clicks, int) or clicks < 0:
        raise ControllerError("this page's start-button count is damaged: reload the page")
    return f"{session}-{clicks}"


def request_stop(path: str) -> None:
    """Leave the stop mark ``path``: the job stops at its next check.

    Raises
    ------
    ControllerError
        When the run's folder is not there: no such job is running (it has finished, or it
        belongs to another session or to a server that has since stopped); or when the mark
        cannot be written (a full disk).
    """
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write("stop\n")
    except FileNotFoundError as err:
        raise ControllerError(
            "Cancel: there is no running job to cancel (it has finished, or the server was "
            "restarted since it started)"
        ) from err
    except OSError as err:  # e.g. the temporary folder is full
        raise ControllerError(f"Cancel: the stop mark could not be written ({err})") from err


def clear_stop(path: str) -> None:
    """Remove the stop mark ``path`` and its run's folder if they are there (once its run
    has ended)."""
    if os.path.exists(path):
        os.remove(path)
    with contextlib.suppress(OSError):  # not there, or not a run folder of its own
        os.rmdir(os.path.dirname(path))


# ------------------------------------------------------------------------ the worker
def worker_main() -> None:
    """Entry point of the job process: reads ``{"kind", "config", "stop_file"}`` (JSON) on
    stdin, runs the job, and writes progress and the result as marked JSON lines."""
    import sys

    def emit(msg):
        try:
            sys.stdout.write(_MARK + json.dumps(msg) + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            # the server that reads this job is gone (killed, crashed): nobody will read the
            # result, and a run with a record (webapp.runs) must stay resumable from its
            # checkpoint, not be recorded as failed by this error, so end here at once
            os._exit(1)

    try:
        job = json.loads(sys.stdin.read())
        module, _, name = JOBS[job["kind"]].partition(":")
        run = getattr(importlib.import_module(module), name)
        stop_file = job.get("stop_file")

        def should_stop():
            return bool(stop_file) and os.path.exists(stop_file)

        emit({"kind": "result", **run(job["config"], emit, should_stop)})
    except WormlabError as err:
        emit({"kind": "error", "text": str(err)})
    except Exception as err:  # noqa: BLE001 - reported to the page, never as a traceback
        emit({"kind": "error", "text": f"the job failed: {type(err).__name__}: {err}"})


def _kill_when_set(event, proc) -> None:
    """Kill the worker ``proc`` once ``event`` is set, unless it has ended before."""
    while proc.poll() is None:
        if event.wait(1.0):
            proc.kill()
            return


def run_job(kind: str, config: dict, on_progress, stop_file: str | None = None) -> dict:
    """Run one job in a fresh Python process and relay its progress.

    Parameters
    ----------
    kind : str
        A key of :data:`JOBS`.
    config : dict
        The job's configuration (JSON data).
    on_progress : callable
        Called with each message the job emits before its result (e.g.
        ``{"kind": "progress", ...}`` or ``{"kind": "phase", "text"}``).
    stop_file : str, optional
        Once this file exists the job's ``should_stop()`` is true.

    Returns
    -------
    dict
        The job's result (``kind`` 'result' and the job's own keys) or
        ``{"kind": "error", "text"}``.
    """
    import pathlib
    import subprocess
    import sys
    import threading

    from webapp.jobmanager import termination

    if kind not in JOBS:
        raise ControllerError(f"unknown job {kind!r}; jobs are {', '.join(JOBS)}")
    if stop_file is not None:  # the run exists from now on: Cancel can mark it
        os.makedirs(os.path.dirname(stop_file), exist_ok=True)
    root = str(pathlib.Path(__file__).resolve().parents[1])
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    errors = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from webapp.jobs import worker_main; worker_main()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
        cwd=root,
        env=env,
        text=True,
    )
    terminated = termination()
    if terminated is not None:  # Dash may terminate the job: its worker goes with it
        threading.Thread(target=_kill_when_set, args=(terminated, proc), daemon=True).start()
    final = None
    try:
        proc.stdin.write(json.dumps({"kind": kind, "config": config, "stop_file": stop_file}))
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
            "text": f"the {kind} process ended without a result (exit code "
            f"{proc.returncode}) {last[0][:200]}".strip(),
        }
    return final
