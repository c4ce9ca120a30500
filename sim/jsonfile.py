"""JSON files the simulator keeps (controllers, checkpoints): atomic writes, checked reads.

Nothing read here is unpickled or evaluated: a file is parsed as JSON and its ``format`` tag
checked by the caller.
"""

import json
import os
import tempfile

from connectome.errors import WiringFormatError

__all__ = ["write_json_atomic", "read_json"]


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


def read_json(path):
    """The JSON value in the file ``path``.

    Raises
    ------
    WiringFormatError
        The file is not valid JSON (the message names the file and the position).
    OSError
        The file cannot be read.
    """
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise WiringFormatError(f"{path}: not valid JSON ({err})") from err
