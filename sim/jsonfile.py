"""JSON files the simulator keeps (controllers, checkpoints): atomic writes, checked reads.

Nothing read here is unpickled or evaluated: a file is parsed as JSON by connectome's bounded
reader (:func:`connectome.io.parse_json`: size, nesting depth, integer length, UTF-8, finite
numbers, the bounds of :mod:`connectome.limits`) and its ``format`` tag checked by the caller.
:func:`check_writable` tells, before any work starts, whether a file can be written where the
user asked, :func:`check_replaceable` whether the file there may be replaced (it is one of
ours, of the right kind).
"""

import json
import os
import re
import tempfile

from connectome import io, limits
from connectome.errors import WormlabError

__all__ = ["write_json_atomic", "read_json", "check_writable", "check_replaceable", "starts_as"]


def write_json_atomic(path, data):
    """Write ``data`` as JSON to ``path`` atomically (temporary file, fsync, rename): a crash
    leaves the old file or the new one, never half of one."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, allow_nan=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def check_writable(path, what="output file"):
    """Refuse, before any work, a path that cannot be written: empty, a folder, in a folder
    that does not exist or cannot be written (tried with a temporary file, which also holds
    for root and for /proc), or an existing file that is not a regular file.

    Raises
    ------
    WormlabError
        Naming ``what``, the path and the reason.
    """
    path = os.fspath(path)
    if not path:
        raise WormlabError(f"{what}: give a file name")
    if os.path.isdir(path):
        raise WormlabError(f"{what} {path!r} is a folder; give a file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise WormlabError(f"{what} {path!r}: folder {folder!r} does not exist")
    if os.path.exists(path) and not os.path.isfile(path):
        raise WormlabError(f"{what} {path!r} exists and is not a regular file")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        os.close(fd)
        os.unlink(tmp)
    except OSError as err:
        raise WormlabError(
            f"{what} {path!r}: cannot write in {folder!r} ({err.strerror or err})"
        ) from err


def starts_as(path, fmt) -> bool:
    """True when the file ``path`` begins as a wormlab JSON file of format ``fmt`` (wormlab
    writes ``"format"`` as the first key; only the first bytes are read)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096).decode("utf-8", "replace")
    except OSError:
        return False
    return re.match(r'\s*\{\s*"format"\s*:\s*' + re.escape(json.dumps(fmt)), head) is not None


def check_replaceable(path, fmt, what="output file"):
    """Refuse to overwrite an existing file at ``path`` unless it is a wormlab JSON file of
    format ``fmt`` (:func:`starts_as`): a run must not replace, say, the wiring file it was
    started from.

    Raises
    ------
    WormlabError
        The file exists and is not a file of that format.
    """
    path = os.fspath(path)
    if os.path.exists(path) and not starts_as(path, fmt):
        raise WormlabError(
            f"{what} {path!r} exists and is not a {fmt} file; refusing to overwrite it: give "
            "another path (or delete the file)"
        )


def read_json(path, max_bytes=None):
    """The JSON value in the file ``path``, read by connectome's bounded reader
    (:func:`connectome.io.read_bytes`, :func:`connectome.io.parse_json`): at most
    ``max_bytes`` (default ``MAX_FILE_BYTES``; a larger file is refused without reading it
    whole), UTF-8, nesting, integer length and finite numbers bounded.

    Raises
    ------
    WiringFormatError
        The file cannot be read, is too large, not UTF-8 or not valid JSON (the message names
        the file).
    """
    max_bytes = limits.MAX_FILE_BYTES if max_bytes is None else max_bytes
    data = io.read_bytes(path, max_bytes=max_bytes)
    return io.parse_json(data, what=str(path), max_bytes=max_bytes)
