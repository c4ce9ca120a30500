"""Temporary folders owned by one server process: made with the owner recorded, removed
when the owner exits, and removed at the next start when the owner was killed.

A wormlab server keeps its Dash background-callback cache and its training jobs' stop marks
in one folder of its own, ``wormlab-dash-*`` under the system temporary folder
(:func:`make`). The folder holds a file ``owner`` with the owner's pid and the time the
owner process started (so that a pid the system has since given to another process is not
mistaken for the owner). ``run_app.py`` removes its own folders when it exits
(:func:`remove_owned`, on SIGTERM, Ctrl-C or a normal exit), and removes at start-up the
folders whose owner is no longer running (:func:`remove_stale`): what a SIGKILL left behind.
A folder whose owner is alive is never removed, nor is a folder without an ``owner`` file
(one made by an older wormlab: whether its server still runs cannot be told).

A folder is made under a hidden name and renamed once its ``owner`` file is written, so a
folder with the real prefix always names its owner.
"""

import json
import os
import shutil
import tempfile

import psutil

__all__ = [
    "PREFIXES",
    "DASH_PREFIX",
    "WARMUP_PREFIX",
    "OWNER_FILE",
    "APP_FOLDER_KEY",
    "make",
    "owner_of",
    "owner_alive",
    "remove_stale",
    "remove_owned",
    "app_folder",
    "MIN_FREE_BYTES",
    "space_problem",
]

#: A server's own folder: the Dash background-callback cache and the training stop marks.
DASH_PREFIX = "wormlab-dash-"
#: The folder of the one-generation training run of the start-up warm-up.
WARMUP_PREFIX = "wormlab-warmup-"
PREFIXES = (DASH_PREFIX, WARMUP_PREFIX)
OWNER_FILE = "owner"
#: Key of the app's folder in its Flask config (``app.server.config``).
APP_FOLDER_KEY = "WORMLAB_TEMP_FOLDER"
#: Free space (bytes) below which a folder counts as full for a new job: a training run's
#: records, checkpoints and the Dash cache's entries need far less.
MIN_FREE_BYTES = 2**20
#: Two start times closer than this (s) are the same process.
_SAME_START = 1.0


def _started(pid: int) -> float:
    return psutil.Process(pid).create_time()


def make(prefix: str = DASH_PREFIX, root: str | None = None) -> str:
    """A new folder ``<root>/<prefix>XXXXXXXX`` owned by this process.

    Parameters
    ----------
    prefix : str
        One of :data:`PREFIXES`.
    root : str, optional
        Where to make it; default the system temporary folder.

    Returns
    -------
    str
        The folder's path. Its file ``owner`` holds ``{"pid": ..., "started": ...}``.
    """
    root = root or tempfile.gettempdir()
    hidden = tempfile.mkdtemp(prefix=f".{prefix}", dir=root)
    pid = os.getpid()
    with open(os.path.join(hidden, OWNER_FILE), "w", encoding="utf-8") as f:
        json.dump({"pid": pid, "started": _started(pid)}, f)
    folder = os.path.join(root, os.path.basename(hidden)[1:])
    os.rename(hidden, folder)
    return folder


def owner_of(folder: str) -> dict | None:
    """The ``{"pid", "started"}`` record of ``folder``, or None when it has none (or an
    unreadable one)."""
    try:
        with open(os.path.join(folder, OWNER_FILE), encoding="utf-8") as f:
            owner = json.load(f)
        return {"pid": int(owner["pid"]), "started": float(owner["started"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def owner_alive(owner: dict) -> bool:
    """Whether the process of an owner record still runs (a zombie does not count)."""
    try:
        proc = psutil.Process(owner["pid"])
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return abs(proc.create_time() - owner["started"]) < _SAME_START
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # e.g. access denied: someone's live process
        return True


def _folders(root: str | None):
    root = root or tempfile.gettempdir()
    try:
        names = os.listdir(root)
    except OSError:
        return
    for name in sorted(names):
        path = os.path.join(root, name)
        if name.startswith(PREFIXES) and os.path.isdir(path) and not os.path.islink(path):
            yield path


def _remove_where(root: str | None, condition) -> list[str]:
    """Remove the wormlab folders whose owner record meets ``condition``; returns them."""
    removed = []
    for folder in _folders(root):
        owner = owner_of(folder)
        if owner is not None and condition(owner):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def remove_stale(root: str | None = None) -> list[str]:
    """Remove the wormlab folders (:data:`PREFIXES`) whose owner process has ended.

    Returns
    -------
    list of str
        The folders removed.
    """
    return _remove_where(root, lambda owner: not owner_alive(owner))


def remove_owned(root: str | None = None) -> list[str]:
    """Remove the wormlab folders this process owns (at exit).

    Returns
    -------
    list of str
        The folders removed.
    """
    me = os.getpid()
    return _remove_where(root, lambda owner: owner["pid"] == me)


def app_folder(app) -> str:
    """The temporary folder of an app made by :func:`webapp.app.create_app`."""
    return app.server.config[APP_FOLDER_KEY]


def space_problem(folder: str, min_free: int = MIN_FREE_BYTES) -> str:
    """Why a job cannot keep its files in ``folder``: "" when it can, else e.g. "is full
    (12,288 bytes free, 1,048,576 needed)" or "cannot be written (No space left on
    device)"."""
    try:
        free = shutil.disk_usage(folder).free
        with tempfile.TemporaryFile(dir=folder) as probe:
            probe.write(b"\0" * 4096)
            probe.flush()
    except OSError as err:
        return f"cannot be written ({err.strerror or err})"
    if free < min_free:
        return f"is full ({free:,} bytes free, {min_free:,} needed)"
    return ""
