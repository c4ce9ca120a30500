"""JSON files the simulator keeps (controllers, checkpoints): atomic writes, checked reads.

Nothing read here is unpickled or evaluated: a file is parsed as JSON within the bounds of
:mod:`sim.limits` (size, nesting depth, integer length, UTF-8, finite numbers) and its
``format`` tag checked by the caller. :func:`check_writable` tells, before any work starts,
whether a file can be written where the user asked, :func:`check_replaceable` whether the file
there may be replaced (it is one of ours, of the right kind).
"""

import json
import math
import os
import re
import tempfile

from connectome.errors import WiringFormatError, WormlabError
from sim import limits

__all__ = ["write_json_atomic", "read_json", "parse_json", "check_writable", "check_replaceable",
           "starts_as"]  # fmt: skip


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


def _refuse_constant(name):
    raise WiringFormatError(f"{name} is not a number wormlab reads; give a finite number")


def _parse_int(text):
    if len(text.lstrip("-")) > limits.MAX_INT_DIGITS:
        raise WiringFormatError(
            f"a number of {len(text):,} digits; numbers in wormlab files have at most "
            f"{limits.MAX_INT_DIGITS} digits"
        )
    return int(text)


def _parse_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise WiringFormatError(
            f"the number {limits.shorten(text)} is beyond the range of a float; give a finite one"
        )
    return value


def _depth(value) -> int:
    """Deepest nesting of lists and dicts in ``value``, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((c, level + 1) for c in children if isinstance(c, dict | list))
    return deepest


def parse_json(data, what="the file", max_bytes=None):
    """Parse JSON bytes or text within the bounds of :mod:`sim.limits`.

    Refused with a :class:`WiringFormatError` naming ``what``: more than ``MAX_FILE_BYTES``,
    bytes that are not UTF-8, nesting deeper than ``MAX_JSON_DEPTH``, integers longer than
    ``MAX_INT_DIGITS`` digits, ``NaN`` / ``Infinity`` / numbers beyond a float, and anything
    that is not JSON.

    >>> parse_json(b'{"a": [1, 2.5]}')
    {'a': [1, 2.5]}
    >>> parse_json("[" * 100 + "]" * 100)
    Traceback (most recent call last):
    ...
    connectome.errors.WiringFormatError: the file is nested 100 levels deep; the limit is 64
    """
    max_bytes = limits.MAX_FILE_BYTES if max_bytes is None else max_bytes
    if len(data) > max_bytes:
        raise WiringFormatError(f"{what} has {len(data):,} bytes; the limit is {max_bytes:,}")
    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as err:
            raise WiringFormatError(
                f"{what} is not UTF-8 text (byte {err.object[err.start]:#04x} at offset "
                f"{err.start:,}); save it as UTF-8"
            ) from err
    try:
        value = json.loads(
            data, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant
        )
    except WiringFormatError as err:
        raise WiringFormatError(f"{what}: {err}") from None
    except json.JSONDecodeError as err:
        raise WiringFormatError(
            f"{what} is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}"
        ) from err
    except RecursionError:
        raise WiringFormatError(
            f"{what} is nested too deep; the limit is {limits.MAX_JSON_DEPTH}"
        ) from None
    depth = _depth(value)
    if depth > limits.MAX_JSON_DEPTH:
        raise WiringFormatError(
            f"{what} is nested {depth:,} levels deep; the limit is {limits.MAX_JSON_DEPTH}"
        )
    return value


def read_json(path, max_bytes=None):
    """The JSON value in the file ``path``, read within the bounds of :func:`parse_json`
    (at most ``max_bytes``, default ``MAX_FILE_BYTES``: a larger file is refused without
    reading it whole).

    Raises
    ------
    WiringFormatError
        The file is too large, not UTF-8 or not valid JSON (the message names the file).
    OSError
        The file cannot be read.
    """
    max_bytes = limits.MAX_FILE_BYTES if max_bytes is None else max_bytes
    with open(path, "rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise WiringFormatError(f"{path}: more than {max_bytes:,} bytes (the limit)")
    return parse_json(data, what=str(path), max_bytes=max_bytes)
