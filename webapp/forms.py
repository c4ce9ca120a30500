"""Typed parsing of form values: one number from one field, checked against its range.

Every page reads its number fields with :func:`parse_number`: a field's value (a string
typed in a text input, a number from a number input, or None when empty) becomes an int or
a float inside the field's range, or a :class:`~connectome.errors.FieldError` whose message
names the field, the bad value and what is allowed. Pages show ``str(err)``
("Seed: must be a whole number from 0 to 10 (got -1)"), or ``err.detail`` next to the field
itself.
"""

import math

from connectome.errors import FieldError
from connectome.limits import MAX_NAME_CHARS, shorten

__all__ = ["REQUIRED", "parse_number", "allowed_range"]

#: ``blank=REQUIRED``: an empty field is an error (the default).
REQUIRED = object()


def _g(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def allowed_range(lo=None, hi=None, *, integer=False, open_lo=False) -> str:
    """The words for a field's range, as :func:`parse_number`'s messages use them.

    >>> allowed_range(0, open_lo=True), allowed_range(0), allowed_range(1, 100, integer=True)
    ('> 0', '>= 0', 'a whole number from 1 to 100')
    >>> allowed_range(0, 3600, open_lo=True), allowed_range(integer=True)
    ('> 0 and <= 3600', 'a whole number')
    """
    if lo is not None and hi is not None:
        span = f"> {_g(lo)} and <= {_g(hi)}" if open_lo else f"from {_g(lo)} to {_g(hi)}"
    elif lo is not None:
        span = f"{'>' if open_lo else '>='} {_g(lo)}"
    elif hi is not None:
        span = f"<= {_g(hi)}"
    else:
        span = ""
    if integer:
        return f"a whole number {span}".strip()
    return span or "a finite number"


def parse_number(raw, field, *, lo=None, hi=None, integer=False, open_lo=False,
                 blank=REQUIRED):  # fmt: skip
    """One form value as a number in its range.

    Parameters
    ----------
    raw : str, int, float or None
        The field's value (surrounding spaces are ignored).
    field : str
        The field's name, for the message.
    lo, hi : number, optional
        Smallest and largest allowed value (inclusive; ``open_lo``: ``lo`` itself is not
        allowed).
    integer : bool
        Only whole numbers (returned as int).
    blank : optional
        What an empty field means: an error (``REQUIRED``, the default) or this value.

    Returns
    -------
    int or float (or ``blank``)

    Raises
    ------
    FieldError
        Empty (when required), not a number, not finite, not whole, or out of range.

    Examples
    --------
    >>> parse_number(" 2.5 ", "dt", lo=0, open_lo=True), parse_number("3", "k", integer=True)
    (2.5, 3)
    >>> parse_number("", "stop", blank=None) is None
    True
    >>> parse_number("-1", "Seed", lo=0, hi=10, integer=True)
    Traceback (most recent call last):
    ...
    connectome.errors.FieldError: Seed: must be a whole number from 0 to 10 (got -1)
    >>> try:
    ...     parse_number("abc", "Gc")
    ... except FieldError as err:
    ...     print(err.field, "|", err.detail)
    Gc | 'abc' is not a number
    """
    text = "" if raw is None else str(raw).strip()
    if text == "":
        if blank is REQUIRED:
            raise FieldError(field, raw, "enter a number")
        return blank
    try:
        x = float(text)
    except ValueError:
        raise FieldError(field, raw, f"{shorten(text)} is not a number") from None
    shown = text if len(text) <= MAX_NAME_CHARS else shorten(text)
    if not math.isfinite(x):
        raise FieldError(field, raw, f"must be a finite number, not {shown}")
    if integer:
        if x != round(x):
            raise FieldError(field, raw, f"must be a whole number, not {shown}")
        x = int(round(x))
    too_low = lo is not None and (x <= lo if open_lo else x < lo)
    if too_low or (hi is not None and x > hi):
        span = allowed_range(lo, hi, integer=integer, open_lo=open_lo)
        raise FieldError(field, raw, f"must be {span} (got {shown})")
    return x
