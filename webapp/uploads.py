"""Uploaded files: a ``dcc.Upload`` contents string decoded to bytes or text, size-limited.

``dcc.Upload`` hands a callback the file as a data URL
(``data:<type>;base64,<payload>``). :func:`decode_upload` refuses a file over
the limit before decoding it (base64 is 4/3 the size of the file), decodes it
and, if asked, reads it as UTF-8 text. Nothing is unpickled or evaluated:
what the bytes mean is for the caller's validating reader
(:func:`connectome.io.from_json`, :meth:`sim.control.Controller.from_dict`).
"""

import base64
import binascii

from connectome.errors import WiringFormatError
from connectome.io import MAX_BYTES

__all__ = ["MAX_BYTES", "decode_upload"]


def decode_upload(contents, *, text: bool = False, max_bytes: int = MAX_BYTES) -> bytes | str:
    """The file of a ``dcc.Upload`` data URL.

    Parameters
    ----------
    contents : str
        The upload's ``contents`` (``data:<type>;base64,<payload>``).
    text : bool
        Return the file as UTF-8 text instead of bytes.
    max_bytes : int
        The largest file accepted (default :data:`connectome.io.MAX_BYTES`).

    Raises
    ------
    WiringFormatError
        Not a data URL, not base64, larger than ``max_bytes``, or (``text=True``) not UTF-8.

    Examples
    --------
    >>> decode_upload("data:application/json;base64,eyJhIjogMX0=", text=True)
    '{"a": 1}'
    """
    if not isinstance(contents, str) or "," not in contents:
        raise WiringFormatError("the upload is empty or not a file")
    payload = contents.partition(",")[2]
    # refuse before decoding a huge payload
    if len(payload) * 3 // 4 > max_bytes + 3:
        raise WiringFormatError(
            f"file too large: about {len(payload) * 3 // 4:,} bytes; the limit is "
            f"{max_bytes:,} bytes"
        )
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as err:
        raise WiringFormatError(f"the upload could not be decoded ({err})") from err
    if len(raw) > max_bytes:
        raise WiringFormatError(
            f"file too large: {len(raw):,} bytes; the limit is {max_bytes:,} bytes"
        )
    if not text:
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise WiringFormatError(f"the file is not UTF-8 text ({err})") from err
