"""highway-env's ``lane-keeping-v0`` (1.12.1) in numba, bit for bit, for the batched rollouts.

A dynamic bicycle model (Rajamani 2011, ch. 2: tyre cornering stiffness 15 N/rad per axle
side, mass 1 kg, 5 m x 2 m, inertia ``(25 + 4) / 12`` kg m^2) at a constant 8.3 m/s, steered
only, integrated by one RK4 step of 0.1 s per policy step (10 Hz), 200 steps (gymnasium's
``TimeLimit``). The car starts 4 m right of a straight lane from (50, 50) to (115, 15),
50 m along it; once it leaves that lane (``on_lane``: lateral offset beyond 5 m, or beyond
its ends by 5 m) the reference becomes the sine lane ``y = 5 sin(2 pi x / 100)``, 10 m wide,
for the rest of the episode, as highway-env's ``LaneKeepingEnv`` switches ``self.lane``.
Reward per step: ``1 - (lateral offset / 10) ** 2`` on the current reference lane, after the
step; never terminates.

Kernel state (float64, :data:`STATE_DIM`)
=========================================  =====================================
index                                      meaning
=========================================  =====================================
0, 1                                       position x, y (m)
2                                          heading (rad)
3                                          speed (m/s, constant)
4                                          lateral speed (m/s, body frame)
5                                          yaw rate (rad/s)
6                                          1.0 while the reference is the straight lane
7                                          observations made so far (0 at reset)
8                                          sine lane amplitude (m)
9                                          sine lane pulsation (rad/m)
10 + 8 k ... 10 + 8 k + 7                  the noise of observation ``k``
=========================================  =====================================

Road variants
-------------
The roads a controller never saw in training are parameters of the same port
(:class:`RoadVariant`; the defaults are highway-env's constants, so ``RoadVariant()`` is
``lane-keeping-v0`` itself). Each has a highway-env twin (:func:`make_env` with ``variant=``:
the noise through the env's own ``config``, the geometry and speed through a subclass of
``LaneKeepingEnv`` that sets its sine lane and its car), and the port equals that twin bit for
bit (tests/test_lanekeeping.py):

==============  =======  ==========================================================
field           default  meaning
==============  =======  ==========================================================
``amplitude``   5 m      amplitude of the sine lane ``y = A sin(2 pi x / wavelength)``
``wavelength``  100 m    its wavelength (pulsation ``2 pi / wavelength`` rad/m)
``offset``      4 m      start: this far right of the straight lane's centre line
                         (highway-env's lateral coordinate ``-offset``), 50 m along it
``noise``       0.05     half-width of the uniform observation noise, state and
                         derivative alike (highway-env's ``state_noise`` and
                         ``derivative_noise``; units of each observed component)
``speed``       8.3 m/s  the car's constant speed
==============  =======  ==========================================================

Named variants (:data:`VARIANTS`, :func:`road_variant`): ``base``, ``amplitude-8``,
``amplitude-2``, ``wavelength-60``, ``wavelength-150``, ``offset-2``, ``offset-0``,
``noise-x2``, ``noise-x4``, ``speed-5``, ``speed-12``; any ``field-value`` name (``noise-xK``
multiplies the default noise by K) and ``+``-joined combinations (``amplitude-8+speed-12``)
are read the same way.

The observation noise is part of the start state: highway-env draws it from the env's own
generator (``env.np_random``, seeded by ``reset(seed)``) at every observation, 4 uniform
values in ``[-0.05, 0.05)`` for the state and 4 for the derivative; :func:`reset_states`
draws the same numbers from the same stream (gymnasium's ``seeding.np_random(seed)``; a
``reset`` observes three times, so the first 16 draws are skipped), so a numba rollout and a
replay in highway-env see identical floats.

Observation (12 floats, :class:`gymnasium.wrappers.FlattenObservation` order: the Dict keys
sorted): ``derivative`` (world y velocity, yaw rate, d lateral speed, d yaw rate; noisy),
``reference_state`` (y of the reference lane point, its heading, 0, 0), ``state`` (y,
heading, lateral speed, yaw rate; noisy). highway-env observes *before* it integrates: the
observation returned by step ``t`` is the state before step ``t``'s integration, with step
``t``'s steering in the derivative, and :func:`step` keeps that order.

Action: ``Box(-1, 1, (1,), float32)``, clipped, mapped linearly to a steering angle in
``[-pi/3, pi/3]`` in float32 arithmetic as ``highway_env.utils.lmap`` computes it on a float32
action.

References
----------
.. [1] Leurent E. (2018) An environment for autonomous driving decision-making.
   https://github.com/eleurent/highway-env (version 1.12.1).
.. [2] Rajamani R. (2011) Vehicle Dynamics and Control, 2nd ed., Springer, ch. 2,
   doi:10.1007/978-1-4614-1433-9
"""

import dataclasses
import math
from types import MappingProxyType

import numpy as np
from numba import njit

from connectome import limits
from connectome.errors import ControllerError
from sim.libm import fma64, np_arctan, np_arctan2, pow64

__all__ = [
    "HIGHWAY_ENV_VERSION",
    "MAX_STEPS",
    "NOISE_PER_OBS",
    "STATE_DIM",
    "OBS_DIM",
    "OBS_LABELS",
    "OBS_SCALE",
    "LANE_WIDTH",
    "RoadVariant",
    "BASE",
    "VARIANTS",
    "road_variant",
    "lateral_rms",
    "reset_states",
    "observe",
    "step",
    "lateral_offset",
    "road",
    "make_env",
    "variant_env_class",
]

HIGHWAY_ENV_VERSION = "1.12.1"
MAX_STEPS = 200
NOISE_PER_OBS = 8
_AMP, _PULS = 8, 9  # state slots of the sine lane's amplitude and pulsation
_HEAD = 10
STATE_DIM = _HEAD + NOISE_PER_OBS * (MAX_STEPS + 1)
OBS_DIM = 12
OBS_LABELS = (
    "d/dt y (noisy)",
    "d/dt heading (noisy)",
    "d/dt lateral speed (noisy)",
    "d/dt yaw rate (noisy)",
    "reference y",
    "reference heading",
    "reference (0)",
    "reference (0)",
    "y (noisy)",
    "heading (noisy)",
    "lateral speed (noisy)",
    "yaw rate (noisy)",
)
# a controller's input scale per component (the Box is unbounded): m, rad, m/s, rad/s
OBS_SCALE = (10.0, 1.0, 10.0, 10.0, 10.0, 1.0, 1.0, 1.0, 10.0, 1.0, 1.0, 1.0)
_NOISE = 0.05  # state_noise and derivative_noise
_RESET_DRAWS = 16  # noise drawn by the two define_spaces() observations inside reset()

# BicycleVehicle constants, computed as highway-env computes them
_LENGTH, _WIDTH = 5.0, 2.0  # m
_MASS = 1  # kg (an int in highway-env)
_LENGTH_A = _LENGTH / 2
_LENGTH_B = _LENGTH / 2
_INERTIA_Z = 1 / 12 * _MASS * (_LENGTH**2 + _WIDTH**2)  # kg m^2
_FRICTION_FRONT = 15.0 * _MASS
_FRICTION_REAR = 15.0 * _MASS
_TWO_FF = 2 * _FRICTION_FRONT
_TWO_FR = 2 * _FRICTION_REAR
_INV_MASS = 1 / _MASS
_INV_INERTIA = 1 / _INERTIA_Z
_I_OVER_A = _INERTIA_Z / _LENGTH_A
_MAX_YAW = 2 * np.pi  # rad/s
_DT = 1 / 10  # s
_HALF_DT = _DT / 2
_SIXTH_DT = _DT / 6
_SPEED = 8.3  # m/s

# the straight start lane, from numpy as StraightLane.__init__ computes it
_S_START = np.array([50, 50])
_S_END = np.array([115, 15])
_S_LENGTH = float(np.linalg.norm(_S_END - _S_START))
_S_DIR = (_S_END - _S_START) / _S_LENGTH
_S_DIR0, _S_DIR1 = float(_S_DIR[0]), float(_S_DIR[1])
_S_LAT0, _S_LAT1 = float(-_S_DIR[1]), float(_S_DIR[0])
_S_HEADING = float(np.arctan2(_S_END[1] - _S_START[1], _S_END[0] - _S_START[0]))
_S_X0, _S_Y0 = 50.0, 50.0
_LANE_WIDTH = 10
#: Lane width (m), both lanes: the reward is ``1 - (lateral offset / LANE_WIDTH) ** 2``.
LANE_WIDTH = float(_LANE_WIDTH)
_VEHICLE_LENGTH = 5  # AbstractLane.VEHICLE_LENGTH
_S_LATERAL = np.array([-_S_DIR[1], _S_DIR[0]])  # StraightLane.direction_lateral
# the sine lane: start (0, 0), end (500, 0), so its frame is the world's
# steering: ContinuousAction's lmap onto steering_range [-pi/3, pi/3], in float32
_STEER_LO = -np.pi / 3
_STEER_SPAN = np.pi / 3 - (-np.pi / 3)


@dataclasses.dataclass(frozen=True)
class RoadVariant:
    """A lane-keeping road: highway-env's by default, or one a controller never trained on.

    Attributes (the module docstring's table has their meaning)
    ----------
    amplitude : float
        Sine lane amplitude, m, in [0, 50] (default 5, highway-env's).
    wavelength : float
        Sine lane wavelength, m, in [10, 10000] (default 100).
    offset : float
        Start offset right of the straight lane's centre, m, in [-20, 20] (default 4).
    noise : float
        Observation noise half-width, in [0, 10] (default 0.05).
    speed : float
        Constant speed, m/s, in [1, 40] (default 8.3; below 1 m/s highway-env switches to
        another tyre model, above 40 its speed clip brakes the car).

    Raises
    ------
    ControllerError
        A field outside its range (the message names it and the range).

    Examples
    --------
    >>> RoadVariant() == BASE, road_variant("noise-x2").noise
    (True, 0.1)
    """

    amplitude: float = 5.0
    wavelength: float = 100.0
    offset: float = 4.0
    noise: float = _NOISE
    speed: float = _SPEED

    def __post_init__(self):
        for field, (lo, hi) in _VARIANT_RANGES.items():
            value = limits.check_float(
                getattr(self, field), f"road variant {field}", lo, hi, ControllerError
            )
            object.__setattr__(self, field, value)

    @property
    def pulsation(self) -> float:
        """``2 pi / wavelength`` (rad/m), as highway-env writes ``2 * np.pi / 100``."""
        return 2 * np.pi / self.wavelength

    @property
    def geometry_is_base(self) -> bool:
        """The road and the car are highway-env's own (only the noise may differ)."""
        return dataclasses.replace(self, noise=BASE.noise) == BASE

    @property
    def name(self) -> str:
        """A name :func:`road_variant` reads back (``base`` for highway-env's road)."""
        parts = []
        for field in _VARIANT_RANGES:
            value, default = getattr(self, field), getattr(BASE, field)
            if value == default:
                continue
            times = _short(value / BASE.noise)
            if field == "noise" and float(times) * BASE.noise == value:
                parts.append(f"noise-x{times}")
            else:
                parts.append(f"{field}-{_short(value)}")
        return "+".join(parts) or "base"


def _short(x) -> str:
    """The shorter of ``%g`` and ``repr`` that reads back as ``x``."""
    text = f"{x:g}"
    return text if float(text) == x else repr(x)


_VARIANT_RANGES = MappingProxyType(
    {
        "amplitude": (0.0, 50.0),
        "wavelength": (10.0, 1e4),
        "offset": (-20.0, 20.0),
        "noise": (0.0, 10.0),
        "speed": (1.0, 40.0),
    }
)
#: highway-env's own road (lane-keeping-v0 as registered).
BASE = RoadVariant()
#: The named generalisation variants (one field changed each), by name.
VARIANTS = MappingProxyType(
    {
        "base": BASE,
        "amplitude-8": RoadVariant(amplitude=8.0),
        "amplitude-2": RoadVariant(amplitude=2.0),
        "wavelength-60": RoadVariant(wavelength=60.0),
        "wavelength-150": RoadVariant(wavelength=150.0),
        "offset-2": RoadVariant(offset=2.0),
        "offset-0": RoadVariant(offset=0.0),
        "noise-x2": RoadVariant(noise=2 * _NOISE),
        "noise-x4": RoadVariant(noise=4 * _NOISE),
        "speed-5": RoadVariant(speed=5.0),
        "speed-12": RoadVariant(speed=12.0),
    }
)


def road_variant(variant=None) -> RoadVariant:
    """The :class:`RoadVariant` of ``variant``: None (highway-env's road), a RoadVariant, or a
    name (:data:`VARIANTS`, any ``field-value`` such as ``amplitude-6.5`` or ``noise-x3``, or
    such names joined by ``+``).

    Raises
    ------
    ControllerError
        An unknown name or field, or a value outside its range.

    Examples
    --------
    >>> road_variant("amplitude-8+speed-12")
    RoadVariant(amplitude=8.0, wavelength=100.0, offset=4.0, noise=0.05, speed=12.0)
    """
    if variant is None:
        return BASE
    if isinstance(variant, RoadVariant):
        return variant
    if not isinstance(variant, str):
        raise ControllerError(
            f"road variant must be a name or a RoadVariant, got {limits.shorten(variant)}"
        )
    if variant in VARIANTS:
        return VARIANTS[variant]
    fields = {}
    for part in variant.split("+"):
        field, sep, text = part.strip().partition("-")
        if not sep or field not in _VARIANT_RANGES:
            raise ControllerError(
                f"unknown road variant {limits.shorten(variant)}: give a name of "
                f"{', '.join(VARIANTS)}, or field-value with a field of "
                f"{', '.join(_VARIANT_RANGES)} (noise-xK: K times the default noise), joined "
                "by '+'"
            )
        scale = field == "noise" and text.startswith("x")
        try:
            value = float(text[1:] if scale else text)
        except ValueError as err:
            raise ControllerError(
                f"road variant {limits.shorten(part)}: {limits.shorten(text)} is not a number"
            ) from err
        fields[field] = value * BASE.noise if scale else value
    return RoadVariant(**fields)


def lateral_rms(returns, steps=MAX_STEPS):
    """Root-mean-square lateral offset (m) of episodes from their returns: each step pays
    ``1 - (lat / LANE_WIDTH) ** 2``, so ``mean(lat ** 2) = LANE_WIDTH ** 2 (1 - R / steps)``
    (exact up to rounding; the offset is the one on the reference lane of each step)."""
    r = np.asarray(returns, np.float64)
    return LANE_WIDTH * np.sqrt(np.maximum(1.0 - r / steps, 0.0))


def reset_states(seeds, variant=None) -> np.ndarray:
    """Start states, noise included, of the episodes ``env.reset(seed=s)`` for ``seeds``.

    Parameters
    ----------
    seeds : list of int
        Non-negative reset seeds (checked by the caller, :func:`sim.envs.reset_states`).
    variant : RoadVariant or str, optional
        The road (:func:`road_variant`; default highway-env's).

    Returns
    -------
    numpy.ndarray
        ``(len(seeds), STATE_DIM)`` float64.
    """
    from gymnasium.utils import seeding

    v = road_variant(variant)
    # StraightLane.position(50, lateral), with numpy's arithmetic
    start = _S_START + 50 * _S_DIR + (-v.offset) * _S_LATERAL
    out = np.zeros((len(seeds), STATE_DIM))
    for i, seed in enumerate(seeds):
        rng, _ = seeding.np_random(int(seed))
        rng.uniform(low=-v.noise, high=v.noise, size=_RESET_DRAWS)
        out[i, 0], out[i, 1] = start[0], start[1]
        out[i, 2] = _S_HEADING
        out[i, 3] = v.speed
        out[i, 6] = 1.0
        out[i, _AMP] = v.amplitude
        out[i, _PULS] = v.pulsation
        out[i, _HEAD:] = rng.uniform(low=-v.noise, high=v.noise, size=STATE_DIM - _HEAD)
    return out


@njit(cache=True)
def _derivative(heading, speed, lat, yaw, steering):
    """``BicycleVehicle.derivative_func``, highway-env's order of operations: the world x and
    y velocities, the heading rate, d lateral speed and d yaw rate (the speed's derivative is
    the longitudinal action, always 0 here, and the position does not enter). Scalars in and
    out: the step allocates nothing."""
    theta_vf = np_arctan2(lat + _LENGTH_A * yaw, speed)
    theta_vr = np_arctan2(lat - _LENGTH_B * yaw, speed)
    f_yf = _TWO_FF * (steering - theta_vf)
    f_yr = _TWO_FR * (0.0 - theta_vr)
    if abs(speed) < 1:
        f_yf = -_MASS * lat - _I_OVER_A * yaw
        f_yr = -_MASS * lat + _I_OVER_A * yaw
    d_lat = _INV_MASS * (f_yf + f_yr) - yaw * speed
    d_yaw = _INV_INERTIA * (_LENGTH_A * f_yf - _LENGTH_B * f_yr)
    c, s = math.cos(heading), math.sin(heading)
    # R @ (speed, lat) with numpy's matmul (OpenBLAS dgemv): the first product fused
    return fma64(c, speed, (-s) * lat), fma64(s, speed, c * lat), yaw, d_lat, d_yaw


@njit(cache=True)
def _local(state):
    """Longitudinal and lateral coordinates of the car on its current reference lane."""
    px, py = state[0], state[1]
    if state[6] != 0.0:
        dx, dy = px - _S_X0, py - _S_Y0
        # np.dot of two 2-vectors (OpenBLAS ddot): the second product fused onto the first
        return fma64(dy, _S_DIR1, dx * _S_DIR0), fma64(dy, _S_LAT1, dx * _S_LAT0)
    return px, py - state[_AMP] * math.sin(state[_PULS] * px + 0)


@njit(cache=True)
def _steering(action):
    """The steering angle (rad) of a raw action, as ContinuousAction and clip_actions give it."""
    a = np.float32(action)
    if a < np.float32(-1.0):
        a = np.float32(-1.0)
    elif a > np.float32(1.0):
        a = np.float32(1.0)
    s = np.float32(_STEER_LO) + (a + np.float32(1.0)) * np.float32(_STEER_SPAN) / np.float32(2.0)
    return np.float64(s)


@njit(cache=True)
def _observe(state, steering, obs):
    """The flattened observation of ``state`` with ``steering`` applied (uses one noise row)."""
    k = int(state[7])
    base = _HEAD + NOISE_PER_OBS * k
    _, dy, dheading, dlat, dyaw = _derivative(state[2], state[3], state[4], state[5], steering)
    obs[0] = dy + state[base + 4]
    obs[1] = dheading + state[base + 5]
    obs[2] = dlat + state[base + 6]
    obs[3] = dyaw + state[base + 7]
    longi, lat = _local(state)
    obs[4] = state[1] - lat
    if state[6] != 0.0:
        obs[5] = _S_HEADING
    else:
        amp, puls = state[_AMP], state[_PULS]
        obs[5] = 0.0 + np_arctan(amp * puls * math.cos(puls * longi + 0))
    obs[6] = 0.0
    obs[7] = 0.0
    obs[8] = state[1] + state[base + 0]
    obs[9] = state[2] + state[base + 1]
    obs[10] = state[4] + state[base + 2]
    obs[11] = state[5] + state[base + 3]
    state[7] = k + 1


@njit(cache=True)
def observe(state, obs):
    """The reset observation (steering 0) into ``obs`` (12,)."""
    _observe(state, 0.0, obs)


@njit(cache=True)
def step(state, action, obs):
    """One ``env.step(action)``: ``state`` advanced in place, ``obs`` written; the reward.

    Order as in ``LaneKeepingEnv.step``: switch to the sine lane once the car is off the
    straight one; act; observe (before integrating); clip the yaw rate and integrate one RK4
    step; reward on the current lane.
    """
    if state[6] != 0.0:
        longi, lat = _local(state)
        on_lane = abs(lat) <= _LANE_WIDTH / 2 + 0 and (
            -_VEHICLE_LENGTH <= longi < _S_LENGTH + _VEHICLE_LENGTH
        )
        if not on_lane:
            state[6] = 0.0
    steering = _steering(action)
    _observe(state, steering, obs)
    yaw = state[5]
    if yaw < -_MAX_YAW:
        yaw = -_MAX_YAW
    elif yaw > _MAX_YAW:
        yaw = _MAX_YAW
    # RK4 as highway-env's rk4 writes it, one scalar per state component; the speed's
    # derivative is 0, so the speed stays exactly as it is (s + 0.0 * h == s)
    x0, y0, h0, v, l0, w0 = state[0], state[1], state[2], state[3], state[4], yaw
    ax, ay, ah, al, aw = _derivative(h0, v, l0, w0, steering)
    bx, by, bh, bl, bw = _derivative(
        h0 + ah * _HALF_DT, v, l0 + al * _HALF_DT, w0 + aw * _HALF_DT, steering
    )
    cx, cy, ch, cl, cw = _derivative(
        h0 + bh * _HALF_DT, v, l0 + bl * _HALF_DT, w0 + bw * _HALF_DT, steering
    )
    dx, dy, dh, dl, dw = _derivative(h0 + ch * _DT, v, l0 + cl * _DT, w0 + cw * _DT, steering)
    state[0] = x0 + _SIXTH_DT * (ax + 2 * bx + 2 * cx + dx)
    state[1] = y0 + _SIXTH_DT * (ay + 2 * by + 2 * cy + dy)
    state[2] = h0 + _SIXTH_DT * (ah + 2 * bh + 2 * ch + dh)
    state[4] = l0 + _SIXTH_DT * (al + 2 * bl + 2 * cl + dl)
    state[5] = w0 + _SIXTH_DT * (aw + 2 * bw + 2 * cw + dw)
    _, lat = _local(state)
    return 1 - pow64(lat / _LANE_WIDTH, 2.0)


@njit(cache=True)
def lateral_offset(state):
    """The car's lateral offset (m) from the centre of its current reference lane: the
    offset the reward squares (positive towards the lane's left, highway-env's lateral axis;
    on the sine lane, above its centre line)."""
    return _local(state)[1]


def road(variant=None) -> dict:
    """The road of the episode as plain numbers (m, rad/m), for drawing it; ``variant``:
    a road of :func:`road_variant` (default highway-env's own).

    Returns
    -------
    dict
        ``{"straight": {"start": (x, y), "end": (x, y), "width"}, "connector": {...},
        "sine": {"x_start", "x_end", "amplitude", "pulsation", "phase", "width"}}``: the
        start lane, the lane highway-env draws from its end towards the sine lane (never a
        reference lane), and the sine lane ``y = amplitude sin(pulsation x + phase)``.
    """
    variant = road_variant(variant)
    start = (float(_S_START[0]), float(_S_START[1]))
    end = (float(_S_END[0]), float(_S_END[1]))
    slope = (end[1] - start[1]) / (end[0] - start[0])
    return {
        "straight": {"start": start, "end": end, "width": float(_LANE_WIDTH)},
        "connector": {"start": end, "end": (end[0] + 20, end[1] + 20 * slope),
                      "width": float(_LANE_WIDTH)},
        "sine": {"x_start": 0.0, "x_end": 500.0, "amplitude": float(variant.amplitude),
                 "pulsation": float(variant.pulsation), "phase": 0.0, "width": float(_LANE_WIDTH)},
    }  # fmt: skip


def make_env(variant=None, **kwargs):
    """highway-env's ``lane-keeping-v0`` with its Dict observation flattened (12 floats).

    ``variant`` (:func:`road_variant`; default highway-env's own road) sets the observation
    noise through the env's ``config`` and, when the road or the car differ, makes the env
    from :func:`variant_env_class` (the registered spec with that entry point, so the same
    wrappers and the 200-step limit). ``render_mode`` (``'human'``, ``'rgb_array'`` or None)
    is set on the env after it is made.

    Raises
    ------
    ControllerError
        highway-env is not installed (the ``lane`` extra); a bad variant.
    """
    v = road_variant(variant)
    try:
        import gymnasium
        import highway_env  # noqa: F401  (registers lane-keeping-v0)
    except ImportError as err:
        raise ControllerError(
            f"lane-keeping-v0 needs highway-env {HIGHWAY_ENV_VERSION}: pip install 'wormlab[lane]'"
        ) from err
    # LaneKeepingEnv.__init__ takes no render_mode; AbstractEnv reads the attribute
    render_mode = kwargs.pop("render_mode", None)
    if v.noise != BASE.noise:
        config = dict(kwargs.pop("config", None) or {})
        config.update(state_noise=v.noise, derivative_noise=v.noise)
        kwargs["config"] = config
    spec = "lane-keeping-v0"
    if not v.geometry_is_base:
        spec = dataclasses.replace(gymnasium.spec(spec), entry_point=variant_env_class(v))
    env = gymnasium.make(spec, **kwargs)
    env.unwrapped.render_mode = render_mode
    return gymnasium.wrappers.FlattenObservation(env)


def variant_env_class(variant):
    """A subclass of highway-env's ``LaneKeepingEnv`` on the road of ``variant``: its sine lane
    takes the variant's amplitude and pulsation, its car the variant's start offset and speed
    (everything else, the noise included, is the parent's)."""
    from highway_env.envs.lane_keeping_env import LaneKeepingEnv

    v = road_variant(variant)

    class LaneKeepingVariant(LaneKeepingEnv):
        """lane-keeping-v0 on the road of :attr:`road_variant`."""

        road_variant = v

        def _make_road(self) -> None:
            super()._make_road()
            sine = self.lanes[-1]  # the lane the env switches to (the one left in the list)
            sine.amplitude, sine.pulsation = v.amplitude, v.pulsation

        def _make_vehicles(self) -> None:  # LaneKeepingEnv._make_vehicles with v's numbers
            lane = self.road.network.get_lane(("c", "d", 0))
            ego = self.action_type.vehicle_class(
                self.road, lane.position(50, -v.offset), heading=lane.heading_at(0),
                speed=v.speed,
            )  # fmt: skip
            self.road.vehicles.append(ego)
            self.vehicle = ego

    return LaneKeepingVariant
