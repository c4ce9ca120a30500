"""The simulator's cost bounds, in one place (interim home until ``connectome.limits`` lands).

Every bound the simulator enforces on what a user sends (API arguments, CLI arguments, files)
is named here, with the helpers that apply one and say what is wrong. The names and values
follow ``connectome.limits`` (the project's one documented home of every bound); when that
module is in main, this one is deleted and its users import ``connectome.limits`` instead.

========================  ============  ============  ========================================
name                      value         unit          why
========================  ============  ============  ========================================
MAX_FILE_BYTES            5_000_000     bytes         controller / checkpoint files
MAX_CHECKPOINT_BYTES      200_000_000   bytes         a training checkpoint (fitness of every
                                                      generation: 1e5 x 100 candidates)
MAX_JSON_DEPTH            64            levels        a controller is under 10 deep
MAX_INT_DIGITS            40            digits        no integer wormlab reads needs more
MAX_WEIGHT                1e6           count         a synapse's EM count (heaviest: 401)
MAX_STEPS                 10_000_000    steps         integration steps of one run
MAX_NEURON_STEPS          60_000_000    neuron-steps  neurons x steps of one run
MIN_DT, MAX_DT            1e-7, 1.0     model time    the integration step
MAX_UNFOLDS               100           sub-steps     LTC sub-steps per step (ncps uses 6)
MAX_STIMULI               400           protocols     stimuli of one run
MIN_SAMPLE_DT             1e-6          model time    a noise stimulus's sample interval
MAX_NOISE_SAMPLES         10_000_000    samples       noise samples of one run (80 MB)
MAX_ABS_PARAMETER         1e6           model unit    abs. value of a model or controller
                                                      parameter (gain, cm, w, obs_scale...)
MAX_THREADS               256           threads       numba threads (also <= numba's maximum)
MAX_GENERATIONS           100_000       generations   CMA-ES generations of one run
MAX_TRAIN_SECONDS         86_400        s             wall-time budget of one run (a day)
MAX_POPULATION            1_000         candidates    CMA-ES population
MAX_EPISODES              100           episodes      episodes per candidate per generation
MAX_EVAL_EPISODES         200           episodes      validation / evaluation episodes
MAX_SEED                  2**31 - 1     -             seeds are 0 .. MAX_SEED
========================  ============  ============  ========================================
"""

import math
import numbers

from connectome.errors import WormlabError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_CHECKPOINT_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_INT_DIGITS",
    "MAX_WEIGHT",
    "MAX_STEPS",
    "MAX_NEURON_STEPS",
    "MIN_DT",
    "MAX_DT",
    "MAX_UNFOLDS",
    "MAX_STIMULI",
    "MIN_SAMPLE_DT",
    "MAX_NOISE_SAMPLES",
    "MAX_ABS_PARAMETER",
    "MAX_THREADS",
    "MAX_GENERATIONS",
    "MAX_TRAIN_SECONDS",
    "MAX_POPULATION",
    "MAX_EPISODES",
    "MAX_EVAL_EPISODES",
    "MAX_SEED",
    "check_int",
    "check_float",
    "shorten",
]

MAX_FILE_BYTES = 5_000_000  # bytes
MAX_CHECKPOINT_BYTES = 200_000_000  # bytes
MAX_JSON_DEPTH = 64  # nesting levels of arrays and objects
MAX_INT_DIGITS = 40  # decimal digits of one JSON integer
MAX_WEIGHT = 1e6  # EM count
MAX_STEPS = 10_000_000  # integration steps
MAX_NEURON_STEPS = 60_000_000  # neurons x steps
MIN_DT = 1e-7  # model time unit (s for graded)
MAX_DT = 1.0  # model time unit
MAX_UNFOLDS = 100  # sub-steps
MAX_STIMULI = 400  # protocols
MIN_SAMPLE_DT = 1e-6  # model time unit
MAX_NOISE_SAMPLES = 10_000_000  # samples
MAX_ABS_PARAMETER = 1e6  # model unit
MAX_THREADS = 256  # threads
MAX_GENERATIONS = 100_000  # generations
MAX_TRAIN_SECONDS = 86_400  # s
MAX_POPULATION = 1_000  # candidates
MAX_EPISODES = 100  # episodes
MAX_EVAL_EPISODES = 200  # episodes
MAX_SEED = 2**31 - 1


def shorten(value, limit: int = 100) -> str:
    """``repr(value)``, cut to about ``limit`` characters, for an error message.

    >>> shorten("x" * 1000, limit=12)
    "'xxxxxxxxxx… (1,002 characters)"
    """
    try:
        text = repr(value)
    except ValueError:  # an int beyond Python's int-str limit
        return f"an integer of about {value.bit_length() * math.log10(2):,.0f} digits"
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text):,} characters)"


def check_int(value, field: str, lo: int, hi: int, error=WormlabError) -> int:
    """``value`` as an int in ``lo .. hi``, or ``error`` naming the field and the range.

    Accepts ints and whole floats (``3.0``); refuses bools, strings, fractions, NaN and inf.

    >>> check_int(3, "episodes", 1, 100)
    3
    >>> check_int(-1, "seed", 0, 10)
    Traceback (most recent call last):
    ...
    connectome.errors.WormlabError: seed must be a whole number in 0 .. 10, got -1
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok and not isinstance(value, numbers.Integral):
        ok = math.isfinite(value) and float(value).is_integer()
    if not ok or not lo <= value <= hi:
        raise error(f"{field} must be a whole number in {lo:,} .. {hi:,}, got {shorten(value)}")
    return int(value)


def check_float(value, field: str, lo: float, hi: float, error=WormlabError) -> float:
    """``value`` as a finite float in ``lo .. hi``, or ``error`` naming the field and the range.

    >>> check_float(2.5, "max_seconds", 0, 86400)
    2.5
    >>> check_float(float("nan"), "target", -1e6, 1e6)
    Traceback (most recent call last):
    ...
    connectome.errors.WormlabError: target must be a finite number in -1e+06 .. 1e+06, got nan
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        try:
            ok = math.isfinite(value) and lo <= value <= hi
        except OverflowError:  # an int too large for a float
            ok = False
    if not ok:
        raise error(f"{field} must be a finite number in {lo:g} .. {hi:g}, got {shorten(value)}")
    return float(value)
