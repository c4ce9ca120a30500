"""The parameter groups of a controller and the range each is trained in (the unit cube).

Every parameter group lives in a documented range (:data:`DEFAULT_RANGES`). Training searches
the unit cube: a value ``x`` in [0, 1] maps to ``lo + x (hi - lo)``, or to ``lo (hi/lo)**x``
for groups on a log scale (positive quantities). A group whose range has ``lo == hi`` is fixed.
The table of groups is in :mod:`sim.control`.
"""

import math
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from connectome import limits
from connectome.errors import ControllerError

__all__ = ["GROUPS", "NON_NEGATIVE", "ParamRange", "DEFAULT_RANGES", "as_ranges",
           "check_values"]  # fmt: skip

#: Parameter blocks of a controller's flat vector theta, in this order (the kernels' BLOCK_*).
GROUPS = ("w", "mu", "sigma", "gap", "cm", "gleak", "vleak", "in_w", "in_b", "out_w", "out_b")
#: Groups that are physically >= 0: capacitance, leak and synaptic conductances. Zero is
#: allowed as ncps allows it (its explicit constraints clip cm, gleak and w at 0; the fused
#: step's epsilon keeps the denominator positive). Every group's values are finite and at
#: most ``MAX_ABS_PARAMETER`` in absolute value.
NON_NEGATIVE = ("w", "gap", "cm", "gleak")


def check_values(group, values, where="controller parameter", signed=False):
    """Refuse values of a parameter group that are not physical: not finite, beyond
    ``MAX_ABS_PARAMETER``, or negative for :data:`NON_NEGATIVE` groups.

    Raises
    ------
    ControllerError
        Naming the group, the first bad entry and the allowed range.

    >>> check_values("cm", [0.5, -5.0])
    Traceback (most recent call last):
    ...
    connectome.errors.ControllerError: controller parameter cm[1] = -5.0 must be in [0, 1e+06]
    """
    v = np.asarray(values, np.float64).ravel()
    big = limits.MAX_ABS_PARAMETER
    if group in NON_NEGATIVE and not signed:
        bad, allowed = ~((v >= 0) & (v <= big)), f"[0, {big:g}]"
    else:
        bad, allowed = ~(np.abs(v) <= big), f"[{-big:g}, {big:g}]"
    if np.any(bad):
        k = int(np.flatnonzero(bad)[0])
        raise ControllerError(f"{where} {group}[{k}] = {float(v[k])!r} must be in {allowed}")


@dataclass(frozen=True)
class ParamRange:
    """The range of one parameter group.

    Parameters
    ----------
    lo, hi : float
        Bounds (``lo <= hi``; ``lo == hi`` fixes the group at that value).
    log : bool
        Search on a log scale (requires ``lo > 0``).
    """

    lo: float
    hi: float
    log: bool = False

    def __post_init__(self):
        lo, hi = float(self.lo), float(self.hi)
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
            raise ControllerError(f"bad range [{self.lo}, {self.hi}]: need finite lo <= hi")
        if self.log and lo <= 0:
            raise ControllerError(f"log-scale range [{lo}, {hi}] needs lo > 0")
        big = limits.MAX_ABS_PARAMETER
        if not (-big <= lo and hi <= big):
            raise ControllerError(f"range [{lo:g}, {hi:g}] must lie within [{-big:g}, {big:g}]")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)
        object.__setattr__(self, "log", bool(self.log))

    @property
    def fixed(self) -> bool:
        """True when the group is not trained (``lo == hi``)."""
        return self.lo == self.hi

    def to_json(self) -> list:
        """``[lo, hi, "log" | "lin"]``."""
        return [self.lo, self.hi, "log" if self.log else "lin"]

    @classmethod
    def from_json(cls, value) -> "ParamRange":
        """A range from ``[lo, hi, "log" | "lin"]`` (or a ParamRange, returned as it is)."""
        if isinstance(value, ParamRange):
            return value
        try:
            lo, hi, *scale = value
            log = bool(scale) and scale[0] in ("log", True)
        except (TypeError, ValueError) as err:
            raise ControllerError(f"bad range {value!r}: use [lo, hi, 'log'|'lin']") from err
        return cls(lo, hi, log)


DEFAULT_RANGES = MappingProxyType(
    {
        "w": ParamRange(0.01, 10.0, True),
        "mu": ParamRange(-1.0, 1.0),
        "sigma": ParamRange(1.0, 30.0, True),
        "gap": ParamRange(0.01, 10.0, True),
        "cm": ParamRange(0.01, 1.0, True),
        "gleak": ParamRange(0.01, 10.0, True),
        "vleak": ParamRange(-1.0, 1.0),
        "in_w": ParamRange(-10.0, 10.0),
        "in_gain": ParamRange(0.1, 100.0, True),
        "in_b": ParamRange(-1.0, 1.0),
        "out_gain": ParamRange(0.1, 100.0, True),
        "out_w": ParamRange(-10.0, 10.0),
        "out_b": ParamRange(-2.0, 2.0),
    }
)


def as_ranges(ranges, signed=()) -> dict:
    """:data:`DEFAULT_RANGES` with the overrides ``ranges`` (group -> ParamRange or
    ``[lo, hi, 'log'|'lin']``) applied; groups in ``signed`` may be negative (the weights of
    the linear and MLP cores, which are not conductances).

    Raises
    ------
    ControllerError
        For an unknown group or a bad range.
    """
    out = dict(DEFAULT_RANGES)
    if not isinstance(ranges or {}, dict):
        raise ControllerError(f"ranges must map group -> range, got {limits.shorten(ranges)}")
    for key, value in (ranges or {}).items():
        if key not in out:
            raise ControllerError(
                f"unknown parameter group {limits.shorten(key)}; known: {', '.join(out)}"
            )
        r = ParamRange.from_json(value)
        check_values(key, [r.lo, r.hi], where="range bound of", signed=key in signed)
        out[key] = r
    return out
