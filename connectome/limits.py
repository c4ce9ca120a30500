"""Every bound that matters for cost, for the whole project, in one place.

``connectome`` is the bottom layer, so ``sim`` and ``webapp`` import their bounds from here
(``from connectome.limits import MAX_STEPS``). A bound holds whatever sends the value: a form
field, a URL query, a store coming back from the browser, an upload, a CLI argument or a file
given to the API. :func:`check_int` and :func:`check_float` apply one with a message naming
the field, the bad value and the allowed range.

=================== ========== ============ ====================================================
name                value      unit         why
=================== ========== ============ ====================================================
**files**
MAX_FILE_BYTES      5_000_000  bytes        wiring and controller files, uploads (the whole Cook
                                            2019 connectome as JSON: about 1 MB)
MAX_CHECKPOINT_BYTES 200_000_000 bytes      a training checkpoint (the fitness of every
                                            generation: 1e5 generations x ~100 candidates)
MAX_JSON_DEPTH      64         levels       a wiring is 4 deep, a controller under 10; Python's
                                            json recursion fails near 1000
MAX_INT_DIGITS      40         digits       of one JSON number; Python's int-str limit (4300
                                            digits) raises
MAX_NEURONS         1_000      neurons      of one wiring (datasets have at most 381)
MAX_SYNAPSES        300_000    synapses     of one wiring (381 neurons: 2 x 381^2 ~ 290k pairs)
MAX_OPERATIONS      1_000      records      of a circuit's history (each one replays)
MAX_WEIGHT          1e6        dataset unit a synapse weight or threshold (heaviest shipped:
                                            401)
MAX_NAME_CHARS      100        characters   of a value echoed in an error message
MAX_NAMES           2_000      names        in one list of names (a selection, a path end, an
                                            ablation): every node of a MAX_NEURONS wiring and
                                            as many cells; each unknown one costs a fuzzy match
MAX_SUGGESTED       5          names        unknown names of one list given "did you mean"
                                            matches (the rest are only listed)
**queries**
MAX_HOPS            10         synapses     k of a neighbourhood or expand (Cook 2019's neuron
                                            graph has diameter 6)
MAX_PATH_LENGTH     4          synapses     max_length of all simple paths (their number grows
                                            as about 30^length: 30 partners per neuron)
MAX_PATHS           10_000     paths        simple paths enumerated by one query
MAX_PATH_COUNT      50         paths        n of strongest / shortest paths (Yen's algorithm; n
                                            = 1000 took 97 s)
**simulation**
MAX_STEPS           10_000_000 steps        integration steps of one run (1000 s at dt = 0.1 ms)
MAX_NEURON_STEPS    60_000_000 neuron-steps neurons x steps of one run: 20 s of 300 neurons at
                                            0.1 ms
MAX_RECORDED_VALUES 10_000_000 values       neurons x recorded samples (40 MB of float32)
MIN_DT, MAX_DT      1e-7, 1.0  s (model)    the integration step
MAX_UNFOLDS         100        sub-steps    LTC sub-steps per step (ncps uses 6)
MAX_STIMULI         400        protocols    stimuli of one run (one per neuron, and more)
MIN_SAMPLE_DT       1e-6       s            sample interval of noise (memory grows as duration /
                                            sample_dt)
MAX_NOISE_SAMPLES   10_000_000 samples      noise samples of one run, all stimuli together
MAX_ABS_PARAMETER   1e6        model unit   |a model or controller parameter| (gain, cm, weight,
                                            obs_scale)
MAX_THREADS         256        threads      a --threads argument (and at most the CPU count)
MAX_BODY_STEPS      200_000    steps        ElegansBot body steps of one web run: 10 s of body at
                                            its 50 µs step (5 s took 5-10 s of computing on a
                                            loaded 2-core machine)
**training**
MAX_GENERATIONS     100_000    generations  CMA-ES generations of one run
MAX_TRAIN_SECONDS   86_400     s            wall-time budget of one run (a day)
MAX_POPULATION      1_000      candidates   CMA-ES population size
MAX_EPISODES        100        episodes     per candidate per generation
MAX_EVAL_EPISODES   200        episodes     held-out evaluation episodes
MAX_SEED            2**31 - 1  -            seeds are 0 .. MAX_SEED
**insight** (the Train page's What matters and Compare panels)
MAX_LESION_SYNAPSES 40         synapses     lesioned one at a time after training: the
                                            strongest by trained conductance (all of them when
                                            the circuit has fewer; tap withdrawal has 51)
MAX_LESION_EPISODES 20_000     episodes     of one lesion job: held-out episodes x (1 + neurons
                                            + synapses); 20 x 50 lesions of tap withdrawal is
                                            1,000 (about a second of CartPole rollouts)
MAX_WEB_COMPARE_SEEDS 5        seeds        of one baseline comparison from the page (each seed
                                            trains the circuit and its 4 baselines)
MAX_WEB_COMPARE_SECONDS 7_200  s            wall-time budget of one comparison from the page:
                                            runs x each run's Seconds (the CLI has no such cap)
**web**
MAX_URL_QUERY_CHARS 8_000      characters   of a page's URL query string
MAX_REQUEST_BYTES   12_666_668 bytes        an HTTP request body: a MAX_FILE_BYTES upload in
                                            base64 (4/3), the page's circuit (at most a
                                            file's size) and 1 MB for the rest of the form
=================== ========== ============ ====================================================

A bound defined here but not enforced where its value arrives is a bug at that place; a
bound enforced somewhere but defined elsewhere belongs here.
"""

import math
import numbers

from connectome.errors import WormlabError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_CHECKPOINT_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_INT_DIGITS",
    "MAX_NEURONS",
    "MAX_SYNAPSES",
    "MAX_OPERATIONS",
    "MAX_WEIGHT",
    "MAX_NAME_CHARS",
    "MAX_NAMES",
    "MAX_SUGGESTED",
    "MAX_HOPS",
    "MAX_PATH_LENGTH",
    "MAX_PATHS",
    "MAX_PATH_COUNT",
    "MAX_STEPS",
    "MAX_NEURON_STEPS",
    "MAX_RECORDED_VALUES",
    "MIN_DT",
    "MAX_DT",
    "MAX_UNFOLDS",
    "MAX_STIMULI",
    "MIN_SAMPLE_DT",
    "MAX_NOISE_SAMPLES",
    "MAX_ABS_PARAMETER",
    "MAX_THREADS",
    "MAX_BODY_STEPS",
    "MAX_GENERATIONS",
    "MAX_TRAIN_SECONDS",
    "MAX_POPULATION",
    "MAX_EPISODES",
    "MAX_EVAL_EPISODES",
    "MAX_SEED",
    "MAX_LESION_SYNAPSES",
    "MAX_LESION_EPISODES",
    "MAX_WEB_COMPARE_SEEDS",
    "MAX_WEB_COMPARE_SECONDS",
    "MAX_URL_QUERY_CHARS",
    "MAX_REQUEST_BYTES",
    "check_int",
    "check_float",
    "shorten",
]

# files
MAX_FILE_BYTES = 5_000_000  # bytes
MAX_CHECKPOINT_BYTES = 200_000_000  # bytes
MAX_JSON_DEPTH = 64  # nesting levels of arrays and objects
MAX_INT_DIGITS = 40  # decimal digits of one JSON integer
MAX_NEURONS = 1_000  # neurons in one wiring
MAX_SYNAPSES = 300_000  # synapses in one wiring
MAX_OPERATIONS = 1_000  # records in a circuit's history
MAX_WEIGHT = 1e6  # dataset unit (synapse counts, EM sections)
MAX_NAME_CHARS = 100  # characters of a name echoed in a message
MAX_NAMES = 2_000  # names in one list
MAX_SUGGESTED = 5  # unknown names of one list matched for "did you mean"
# queries
MAX_HOPS = 10  # synapses
MAX_PATH_LENGTH = 4  # synapses
MAX_PATHS = 10_000  # paths enumerated by one query
MAX_PATH_COUNT = 50  # paths asked for (n)
# simulation
MAX_STEPS = 10_000_000  # integration steps
MAX_NEURON_STEPS = 60_000_000  # neurons x steps
MAX_RECORDED_VALUES = 10_000_000  # neurons x recorded samples
MIN_DT = 1e-7  # s (model time unit for LTC)
MAX_DT = 1.0  # s (model time unit for LTC)
MAX_UNFOLDS = 100  # LTC sub-steps per step
MAX_STIMULI = 400  # stimulus protocols in one run
MIN_SAMPLE_DT = 1e-6  # s
MAX_NOISE_SAMPLES = 10_000_000  # samples of noise in one run
MAX_ABS_PARAMETER = 1e6  # model unit
MAX_THREADS = 256  # threads
MAX_BODY_STEPS = 200_000  # body steps (10 s at ElegansBot's 50 µs step)
# training
MAX_GENERATIONS = 100_000  # generations
MAX_TRAIN_SECONDS = 86_400  # s
MAX_POPULATION = 1_000  # candidates per generation
MAX_EPISODES = 100  # episodes per candidate
MAX_EVAL_EPISODES = 200  # evaluation episodes
MAX_SEED = 2**31 - 1
# insight (the Train page's lesion and comparison panels)
MAX_LESION_SYNAPSES = 40  # synapses lesioned one by one
MAX_LESION_EPISODES = 20_000  # episodes of one lesion job (episodes x lesions)
MAX_WEB_COMPARE_SEEDS = 5  # seeds of one comparison from the page
MAX_WEB_COMPARE_SECONDS = 7_200  # s, runs x seconds of one comparison from the page
# web
MAX_URL_QUERY_CHARS = 8_000  # characters
MAX_REQUEST_BYTES = 4 * -(-MAX_FILE_BYTES // 3) + MAX_FILE_BYTES + 1_000_000  # bytes


def shorten(value, limit: int = MAX_NAME_CHARS) -> str:
    """``repr(value)``, cut to about ``limit`` characters, for an error message.

    >>> shorten("AVAL")
    "'AVAL'"
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

    >>> check_int(3, "n (paths)", 1, 50)
    3
    >>> check_int(0, "n (paths)", 1, 50)
    Traceback (most recent call last):
    ...
    connectome.errors.WormlabError: n (paths) must be a whole number in 1 .. 50, got 0
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok and not isinstance(value, numbers.Integral):
        ok = math.isfinite(value) and float(value).is_integer()
    if not ok or not lo <= value <= hi:
        raise error(f"{field} must be a whole number in {lo:,} .. {hi:,}, got {shorten(value)}")
    return int(value)


def check_float(value, field: str, lo: float, hi: float, error=WormlabError) -> float:
    """``value`` as a finite float in ``lo .. hi``, or ``error`` naming the field and the range.

    >>> check_float(2.5, "chemical threshold", 0, 1e6)
    2.5
    >>> check_float(float("inf"), "threshold", 0, 1e6)
    Traceback (most recent call last):
    ...
    connectome.errors.WormlabError: threshold must be a finite number in 0 .. 1e+06, got inf
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
