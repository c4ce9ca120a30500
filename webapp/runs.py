"""Training runs on disk: one folder per run, in the user's runs folder, that any request reads.

A training run started from the Train page keeps everything needed to show it, resume it
and keep its result in a folder of its own, ``<runs folder>/<run id>/`` (the run id is
:func:`webapp.jobs.job_id`: the page session's 32 hex digits and the click number):

- ``config.json``: the training configuration (:func:`webapp.training.training_config`);
- ``owner``: ``{"pid", "started"}`` of the process running it (the job's worker;
  :func:`webapp.tempdirs.owner_alive` tells whether it still runs);
- ``checkpoint.json``: the trainer's checkpoint, written atomically after every generation
  (:mod:`sim.checkpoint`): the progress so far, and what a resumed run continues from;
- ``phase``: what the worker does besides training (e.g. "evaluating in gymnasium");
- ``relay``: the temporary folder of the server relaying the run to the page that started
  it;
- ``stop``: the stop mark of a run whose server has since restarted (Cancel);
- ``result.json``: the job's result (or ``{"kind": "error", "text"}``), written last.

The runs folder is ``$WORMLAB_RUNS_DIR`` when set, else ``wormlab-runs`` in the user's data
folder (``$XDG_DATA_HOME/wormlab/wormlab-runs``, by default
``~/.local/share/wormlab/wormlab-runs``). It is not the server's temporary folder (which
goes when the server stops): a run outlives the server that started it. The runs folder is
bounded: each server start (``run_app.py``) removes, with :func:`prune`, the runs that are
not running and are either older than :data:`MAX_RUN_AGE_DAYS` days (since their last
change) or beyond the newest :data:`KEEP_RUNS`; an interrupted run can be resumed until
then.

:func:`run_status` reads a run's state: ``running``, ``done``, ``error``, ``interrupted``
(its process is gone without a result but a checkpoint is there: it can be resumed) or
``lost`` (nothing to resume from).
"""

import json
import os
import re
import shutil
import time

import psutil

from connectome.errors import ControllerError
from sim.jsonfile import write_json_atomic
from webapp import tempdirs

__all__ = [
    "RUNS_ENV",
    "runs_root",
    "run_folder",
    "record_start",
    "record_owner",
    "record_phase",
    "record_result",
    "record_relay",
    "relay_of",
    "run_config",
    "run_status",
    "CHECKPOINT",
    "KEEP_RUNS",
    "MAX_RUN_AGE_DAYS",
    "prune",
]

#: The environment variable that sets the runs folder.
RUNS_ENV = "WORMLAB_RUNS_DIR"
#: The trainer's checkpoint inside a run's folder.
CHECKPOINT = "checkpoint.json"
#: Runs kept by :func:`prune` (the newest; running ones are always kept).
KEEP_RUNS = 50
#: Runs unchanged for longer than this (days) are removed by :func:`prune`.
MAX_RUN_AGE_DAYS = 30
_RUN_ID = re.compile(r"^[0-9a-f]{32}-\d{1,9}$")


def runs_root() -> str:
    """The runs folder (see the module notes); made when missing."""
    root = os.environ.get(RUNS_ENV)
    if not root:
        data = os.environ.get("XDG_DATA_HOME") or os.path.join(
            os.path.expanduser("~"), ".local", "share"
        )
        root = os.path.join(data, "wormlab", "wormlab-runs")
    os.makedirs(root, exist_ok=True)
    return root


def run_folder(run_id, root: str | None = None) -> str:
    """The folder of run ``run_id`` (a :func:`webapp.jobs.job_id`; anything else, e.g. a
    forged store, raises ControllerError)."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise ControllerError("this page's run record is not valid: reload the page")
    return os.path.join(root or runs_root(), run_id)


def _read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def record_start(folder: str, config: dict) -> None:
    """Make the run's folder and write its configuration; raises ControllerError when that
    cannot be done (e.g. a full disk), so that nothing starts that could not be kept."""
    try:
        os.makedirs(folder, exist_ok=True)
        for name in ("result.json", "phase", "stop"):  # a resumed run starts afresh
            if os.path.exists(os.path.join(folder, name)):
                os.remove(os.path.join(folder, name))
        write_json_atomic(os.path.join(folder, "config.json"), config)
    except OSError as err:
        raise ControllerError(
            f"Train: the run cannot be recorded in {folder} ({err}); free some space or set "
            f"{RUNS_ENV} to another folder"
        ) from err


def record_owner(folder: str) -> None:
    """Record this process as the one running the run."""
    pid = os.getpid()
    write_json_atomic(
        os.path.join(folder, tempdirs.OWNER_FILE),
        {"pid": pid, "started": psutil.Process(pid).create_time()},
    )


def record_phase(folder: str, text: str) -> None:
    """Record what the run is doing besides training."""
    with open(os.path.join(folder, "phase"), "w", encoding="utf-8") as f:
        f.write(text)


def record_result(folder: str, result: dict) -> None:
    """Write the run's result (or error) last, atomically."""
    write_json_atomic(os.path.join(folder, "result.json"), result)


def record_relay(folder: str, server_folder: str) -> None:
    """Record which server relays the run's progress to the page that started it (its
    temporary folder, :func:`webapp.tempdirs.app_folder`)."""
    with open(os.path.join(folder, "relay"), "w", encoding="utf-8") as f:
        f.write(server_folder)


def relay_of(folder: str) -> str:
    """The temporary folder of the server that relays the run ("" when unknown)."""
    try:
        with open(os.path.join(folder, "relay"), encoding="utf-8") as f:
            return f.read(4096)
    except OSError:
        return ""


def run_config(folder: str) -> dict:
    """The configuration the run was started with; ControllerError when it is gone."""
    config = _read(os.path.join(folder, "config.json"))
    if not isinstance(config, dict):
        raise ControllerError(
            "the run's record is gone (its folder was removed or cannot be read); train again"
        )
    return config


def run_status(folder: str) -> dict:
    """What is known of a run: ``{"state", "generation", "history", "phase", "result",
    "text"}``.

    ``state`` is one of running, done, error, interrupted, lost; ``history`` is the
    checkpoint's per-generation record, ``result`` the job's result (done), ``text`` why it
    cannot go on (error, lost).
    """
    status = {"state": "lost", "generation": 0, "history": [], "phase": "", "result": None,
              "text": ""}  # fmt: skip
    if not os.path.isdir(folder) or _read(os.path.join(folder, "config.json")) is None:
        status["text"] = "the run's record is gone (its folder was removed)"
        return status
    checkpoint = _read(os.path.join(folder, CHECKPOINT))
    if isinstance(checkpoint, dict):
        status["history"] = list(checkpoint.get("history") or [])
        status["generation"] = int(checkpoint.get("generation") or 0)
    try:
        with open(os.path.join(folder, "phase"), encoding="utf-8") as f:
            status["phase"] = f.read(200)
    except OSError:
        pass
    result = _read(os.path.join(folder, "result.json"))
    if isinstance(result, dict):
        if result.get("kind") == "error":
            status.update(state="error", text=str(result.get("text", "")))
        else:
            status.update(state="done", result=result)
        return status
    owner = tempdirs.owner_of(folder)
    if owner is not None and tempdirs.owner_alive(owner):
        status["state"] = "running"
    elif status["generation"] > 0:
        status["state"] = "interrupted"
    else:
        status["text"] = "it stopped before its first generation was saved"
    return status


def prune(root: str | None = None, keep: int = KEEP_RUNS, max_age_days: float = MAX_RUN_AGE_DAYS,
          now: float | None = None) -> list[str]:  # fmt: skip
    """Remove the runs in ``root`` (default :func:`runs_root`) that are not running and are
    older than ``max_age_days`` (their folder's last change) or beyond the newest ``keep``.

    Returns
    -------
    list of str
        The run folders removed (nothing else in ``root`` is touched).
    """
    root = root or runs_root()
    now = time.time() if now is None else now
    found = []
    with os.scandir(root) as entries:
        for entry in entries:
            if _RUN_ID.match(entry.name) and entry.is_dir(follow_symlinks=False):
                found.append((entry.stat(follow_symlinks=False).st_mtime, entry.path))
    found.sort(reverse=True)
    removed = []
    for rank, (changed, folder) in enumerate(found):
        if rank < keep and now - changed <= max_age_days * 86400:
            continue
        if run_status(folder)["state"] == "running":
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed
