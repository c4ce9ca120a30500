"""Environment descriptions (one per env) and the classic-control envs in numba, bit for bit.

Every environment wormlab trains on has one :class:`EnvSpec`: id, observation layout and
scaling, action space, stop-at score, episode length, labels (:func:`env_spec` for the numba
ports, :func:`env_info` for any gymnasium id, :func:`gym_env_spec` read from gymnasium's own
spaces for the Python-loop adapter).

Four tasks from ``gymnasium.envs.classic_control`` run inside numba kernels so
that a batched rollout never leaves compiled code. Each kernel reproduces
gymnasium's arithmetic: the same float32 casts, the same order of operations,
the same C library calls (``pow`` where gymnasium writes ``x**2``, numpy's own
float32 sine and cosine where gymnasium applies them to float32 values), so
observations, rewards and termination equal gymnasium's exactly.

===========================  ====  =========  ==========  =========================  =========
env id                       code  state_dim  obs_dim     action                     max_steps
===========================  ====  =========  ==========  =========================  =========
``CartPole-v1``              0     6          4           Discrete(2)                500
``MountainCarContinuous-v0`` 1     4          2           Box([-1], [1]) float32     999
``Pendulum-v1``              2     5          3           Box([-2], [2]) float32     200
``Acrobot-v1``               3     7          6           Discrete(3)                500
``lane-keeping-v0``          4     1618       12          Box([-1], [1]) float32     200
===========================  ====  =========  ==========  =========================  =========

``lane-keeping-v0`` is highway-env's (1.12.1), ported in :mod:`sim.lanekeeping` (its state
carries the episode's observation noise, drawn from the env's own generator stream).

State layouts (float64 arrays); every classic-control state ends with the episode's
physical parameters (:attr:`EnvSpec.physics`, gymnasium's attribute names; nominal unless
:func:`reset_states` randomises them, ``randomise=f``: each uniform within ``+-f`` of nominal,
drawn from the episode's seed, :func:`physics_values`):

- CartPole: cart position (m), cart velocity (m/s), pole angle (rad), pole
  angular velocity (rad/s), pole mass ``masspole`` (kg), half pole length
  ``length`` (m). Terminates when ``|x| > 2.4`` or
  ``|theta| > 12 degrees``; reward 1.0 on every step, the terminating one
  included.
- MountainCarContinuous: position (-1.2..0.6), velocity (-0.07..0.07),
  ``fresh``, engine ``power``. Terminates at ``position >= 0.45`` with ``velocity >= 0``;
  reward ``-0.1 a**2`` (raw, unclipped action) plus 100 on termination.
- Pendulum: angle (rad, not wrapped; 0 = upright), angular velocity
  (rad/s, clipped to +-8), mass ``m`` (kg), length ``l`` (m), gravity ``g``
  (m/s^2). Never terminates; reward
  ``-(wrap(theta)**2 + 0.1 thetadot**2 + 0.001 u**2)``.
- Acrobot: theta1, theta2 (rad, wrapped to [-pi, pi]), dtheta1 (+-4 pi rad/s),
  dtheta2 (+-9 pi rad/s), ``fresh``, link masses ``LINK_MASS_1``,
  ``LINK_MASS_2``. Integrated with one RK4 step of 0.2 s using the "book"
  dynamics (gymnasium's default). Terminates when the tip is more than one link
  length above the pivot; reward -1.0, 0.0 on termination.

``fresh`` is 1.0 in a state straight from ``reset`` and 0.0 after a step. It
stands for the dtype gymnasium keeps: MountainCar's reset state is float64 and
its first step computes in float64 (later steps in float32); Acrobot's reset
state is float32, so its reset observation uses numpy's float32 ``cos`` and
``sin`` (a SIMD polynomial on CPUs with FMA; for reset angles in [-0.1, 0.1]
it differs from the rounded float64 value for 0.07 % of angles (cos) and
0.03 % (sin), so about 1 reset in 500 would differ without it).

Actions enter the kernels as float64. Discrete: the action index (0.0, 1.0,
2.0). Box: the raw action, rounded to float32 first, because the replay in
gymnasium sends ``np.array([a], dtype=np.float32)`` (the action space's dtype)
and gymnasium's arithmetic depends on it; it is then clipped exactly as
gymnasium does.

References
----------
.. [1] Towers M. et al. (2024) Gymnasium: a standard interface for
   reinforcement learning environments. arXiv:2407.17032,
   doi:10.48550/arXiv.2407.17032
.. [2] Barto A.G., Sutton R.S., Anderson C.W. (1983) Neuronlike adaptive
   elements that can solve difficult learning control problems. IEEE Trans.
   Syst. Man Cybern. 13(5):834-846, doi:10.1109/TSMC.1983.6313077
.. [3] Moore A.W. (1990) Efficient memory-based learning for robot control.
   PhD thesis, University of Cambridge (Mountain Car).
.. [4] Sutton R.S. (1996) Generalization in reinforcement learning: successful
   examples using sparse coarse coding. NIPS 8:1038-1044 (Acrobot);
   Spong M.W. (1995) The swing up control problem for the Acrobot. IEEE
   Control Syst. Mag. 15(1):49-55, doi:10.1109/37.341864
"""

import math
import numbers
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numba import njit

from connectome import limits
from connectome.errors import ControllerError
from sim import lanekeeping
from sim.libm import fma32, pow32, pow64

__all__ = [
    "ENV_IDS",
    "CLASSIC_CONTROL",
    "EnvSpec",
    "env_spec",
    "env_info",
    "gym_env_spec",
    "make_gym_env",
    "reset_states",
    "MAX_RANDOMISE",
    "PHYSICS_STREAM",
    "check_randomise",
    "physics_values",
    "apply_physics",
    "env_observe",
    "env_step",
    "warmup",
]

#: Largest physics randomisation fraction (every parameter stays positive).
MAX_RANDOMISE = 0.9
#: SeedSequence spawn key of the physics draws of an episode (its reset seed is the entropy).
PHYSICS_STREAM = 77
# Largest observation or action count (sizes reach the kernels as int64; in a file, the
# weights that go with them bound them far below this).
_MAX_SIZE = 2**31 - 1
ENV_IDS = (
    "CartPole-v1",
    "MountainCarContinuous-v0",
    "Pendulum-v1",
    "Acrobot-v1",
    "lane-keeping-v0",
)
CARTPOLE, MOUNTAIN_CAR, PENDULUM, ACROBOT, LANE_KEEPING = 0, 1, 2, 3, 4  # index in ENV_IDS
#: gymnasium's classic-control envs among :data:`ENV_IDS` (lane keeping needs highway-env).
CLASSIC_CONTROL = ENV_IDS[:LANE_KEEPING]


@dataclass(frozen=True)
class EnvSpec:
    """Everything wormlab knows about one environment: its one description.

    The four numba ports have fixed descriptions (:func:`env_spec`, tested field by field
    against gymnasium's spaces); any other gymnasium env is described from its spaces
    (:func:`env_info`) and runs through the Python-loop adapter.

    Attributes
    ----------
    env_id : str
        Gymnasium id.
    code : int
        The integer the kernels dispatch on (index in :data:`ENV_IDS`), -1 for envs stepped in
        Python.
    obs_dim : int
        Number of observation components.
    obs_center, obs_scale : tuple of float
        Centre and half-width of the observation space per component (0 and 1 when
        unbounded); a controller normalises ``(obs - center) / scale``.
    discrete : bool
        True for ``Discrete`` action spaces.
    n_actions : int
        Number of discrete actions; 0 for ``Box``.
    action_low, action_high : tuple of float
        Box bounds per action component (empty for Discrete).
    max_steps : int
        gymnasium's ``TimeLimit``: the episode is truncated after this many steps.
    action_dtype : str
        dtype of an action as sent to gymnasium (the Box space's, float32 for the classic
        control envs, which the numba ports round the action to as well; int64 for Discrete).
    state_dim : int
        Length of the numba kernel's state (0 for envs stepped in Python), the physical
        parameters at its end included.
    obs_labels : tuple of str
        What each observation component is, for people.
    action_label : str
        What the action does, for people.
    target : float or None
        Score at which a training run stops by default: CartPole's maximum, gymnasium's
        reward threshold for MountainCar and Acrobot; None (Pendulum) trains until the budget
        is spent.
    physics : tuple of (str, float)
        The physical parameters a numba port reads from the end of its state, by their
        gymnasium attribute name (on ``env.unwrapped``) and nominal value; what
        :func:`reset_states` randomises. Empty for envs that cannot be randomised.
    """

    env_id: str
    code: int
    obs_dim: int
    obs_center: tuple
    obs_scale: tuple
    discrete: bool
    n_actions: int
    action_low: tuple
    action_high: tuple
    max_steps: int
    action_dtype: str = "float32"
    state_dim: int = 0
    obs_labels: tuple = ()
    action_label: str = ""
    target: float | None = None
    physics: tuple = ()

    def __post_init__(self):
        """Check that the description can drive a controller: sizes that agree, a finite
        observation centre, a finite positive scale (a controller divides by it), ordered
        action bounds and a bounded episode length."""
        where = f"environment {limits.shorten(self.env_id)}"
        if not isinstance(self.env_id, str) or not self.env_id:
            raise ControllerError(f"env id must be a non-empty string, got {where}")
        obs_dim = limits.check_int(self.obs_dim, f"{where}: obs_dim", 1, _MAX_SIZE, ControllerError)
        center = np.asarray(self.obs_center, np.float64)
        scale = np.asarray(self.obs_scale, np.float64)
        if center.shape != (obs_dim,) or scale.shape != (obs_dim,):
            raise ControllerError(
                f"{where}: obs_center and obs_scale need {obs_dim} values each (obs_dim), got "
                f"{center.size} and {scale.size}"
            )
        if not np.all(np.isfinite(center)):
            raise ControllerError(f"{where}: obs_center must be finite, got {center.tolist()}")
        if not (np.all(np.isfinite(scale)) and np.all(scale > 0)):
            raise ControllerError(
                f"{where}: obs_scale (the observation's half-width, divided by) must be finite "
                f"and > 0, got {scale.tolist()}"
            )
        low = np.asarray(self.action_low, np.float64)
        high = np.asarray(self.action_high, np.float64)
        if self.discrete:
            limits.check_int(self.n_actions, f"{where}: n_actions", 1, _MAX_SIZE, ControllerError)
            if low.size or high.size:
                raise ControllerError(f"{where}: a Discrete action has no action_low/high")
        else:
            if self.n_actions != 0:
                raise ControllerError(f"{where}: n_actions must be 0 for a Box action")
            if low.ndim != 1 or low.size < 1 or low.shape != high.shape:
                raise ControllerError(
                    f"{where}: action_low and action_high need the same number (>= 1) of values"
                )
            if np.any(np.isnan(low)) or np.any(np.isnan(high)) or np.any(low > high):
                raise ControllerError(
                    f"{where}: action bounds must be numbers with low <= high, got "
                    f"{low.tolist()} .. {high.tolist()}"
                )
        limits.check_int(
            self.max_steps, f"{where}: max_steps", 1, limits.MAX_STEPS, ControllerError
        )
        if np.dtype(self.action_dtype).kind not in "iuf":
            raise ControllerError(
                f"{where}: action_dtype {self.action_dtype!r} is not an integer or float type"
            )

    @property
    def act_dim(self) -> int:
        """Length of the action vector (1 for Discrete)."""
        return 1 if self.discrete else len(self.action_low)

    def to_json(self) -> dict:
        """The fields a controller file keeps (:meth:`from_json` reads them back)."""
        return {
            "env_id": self.env_id,
            "obs_dim": self.obs_dim,
            "obs_center": list(self.obs_center),
            "obs_scale": list(self.obs_scale),
            "discrete": self.discrete,
            "n_actions": self.n_actions,
            # unbounded Box actions: null (strict JSON has no infinity)
            "action_low": [x if math.isfinite(x) else None for x in self.action_low],
            "action_high": [x if math.isfinite(x) else None for x in self.action_high],
            "max_steps": self.max_steps,
            "action_dtype": self.action_dtype,
        }

    @classmethod
    def from_json(cls, d) -> "EnvSpec":
        """The description stored in a controller file (numba port code and labels from
        :func:`env_spec` for its ids).

        Raises
        ------
        ControllerError
            A description of a numba port that differs from the port's, or fields that cannot
            drive a controller (see the class's checks). Another id need not be registered
            here (a controller imported from ncps acts in no gymnasium env, ``"ncps"``):
            making its env (evaluation, training) refuses an id gymnasium does not know.
        """
        env_id = d["env_id"]
        if not isinstance(env_id, str):
            raise ControllerError(f"env id must be a string, got {limits.shorten(env_id)}")
        known = _SPECS.get(env_id)
        if not isinstance(d["discrete"], bool):
            raise ControllerError(f"env discrete must be true or false, got {d['discrete']!r}")
        spec = cls(
            env_id=env_id,
            code=known.code if known else -1,
            obs_dim=_whole(d, "obs_dim"),
            obs_center=_numbers(d, "obs_center"),
            obs_scale=_numbers(d, "obs_scale"),
            discrete=d["discrete"],
            n_actions=_whole(d, "n_actions"),
            action_low=_numbers(d, "action_low", none=-math.inf),
            action_high=_numbers(d, "action_high", none=math.inf),
            max_steps=_whole(d, "max_steps"),
            action_dtype=str(np.dtype(d.get("action_dtype", "float32"))),
            state_dim=known.state_dim if known else 0,
            obs_labels=known.obs_labels if known else (),
            action_label=known.action_label if known else "",
            target=known.target if known else None,
            physics=known.physics if known else (),
        )
        if known is not None:
            mine, theirs = spec.to_json(), known.to_json()
            diff = [k for k in theirs if mine[k] != theirs[k]]
            if diff:
                sizes = (
                    f"{spec.obs_dim} observations, gymnasium's has {known.obs_dim}; "
                    if spec.obs_dim != known.obs_dim
                    else ""
                )
                wanted = ", ".join(f"{k} = {limits.shorten(theirs[k], 40)}" for k in diff)
                raise ControllerError(
                    f"env: the file describes {env_id} with {sizes}other {', '.join(diff)} than "
                    f"the environment has ({wanted})"
                )
        return spec


def _whole(d, name) -> int:
    """Field ``name`` of a stored description as an int (checked by EnvSpec's ranges)."""
    return limits.check_int(d[name], f"env {name}", 0, _MAX_SIZE, ControllerError)


def _numbers(d, name, none=None) -> tuple:
    """Field ``name`` of a stored description as a tuple of floats; ``null`` entries become
    ``none`` when given (unbounded action bounds: strict JSON has no infinity)."""
    values = d[name]
    if none is not None and isinstance(values, list | tuple):
        values = [none if x is None else x for x in values]
    if isinstance(values, list | tuple) and all(
        isinstance(x, numbers.Real) and not isinstance(x, bool) for x in values
    ):
        try:
            return tuple(float(x) for x in values)
        except OverflowError:  # an int beyond a float
            pass
    raise ControllerError(f"env {name} must be a list of numbers, got {limits.shorten(values)}")


def _center_scale(low, high):
    """Centre and half-width per component of a Box (0 and 1 where it is unbounded)."""
    lo = np.asarray(low, np.float64)
    hi = np.asarray(high, np.float64)
    bounded = np.isfinite(lo) & np.isfinite(hi) & (hi > lo)
    lo, hi = np.where(bounded, lo, -1.0), np.where(bounded, hi, 1.0)
    center, scale = 0.5 * (lo + hi), 0.5 * (hi - lo)
    return tuple(float(x) for x in center), tuple(float(x) for x in scale)


def _port(env_id, code, state_dim, obs_high, action, max_steps, obs_labels, action_label,
          target, obs_low=None):  # fmt: skip
    """The description of a numba port; bounds as gymnasium declares them (float32)."""
    high = np.asarray(obs_high, np.float32)
    low = -high if obs_low is None else np.asarray(obs_low, np.float32)
    center, scale = _center_scale(low, high)
    if isinstance(action, int):  # Discrete(action)
        discrete, n_actions, alo, ahi, adtype = True, action, (), (), "int64"
    else:
        discrete, n_actions, adtype = False, 0, "float32"
        alo, ahi = (float(np.float32(action[0])),), (float(np.float32(action[1])),)
    return EnvSpec(
        env_id=env_id, code=code, obs_dim=len(high), obs_center=center, obs_scale=scale,
        discrete=discrete, n_actions=n_actions, action_low=alo, action_high=ahi,
        max_steps=max_steps, action_dtype=adtype, state_dim=state_dim,
        obs_labels=tuple(obs_labels), action_label=action_label, target=target,
        physics=_PHYSICS[env_id],
    )  # fmt: skip


_INF = math.inf
# The physical parameters a numba port keeps at the end of its state, by gymnasium's attribute
# name on ``env.unwrapped`` and nominal value (randomised per episode by reset_states).
_PHYSICS = MappingProxyType(
    {
        "CartPole-v1": (("masspole", 0.1), ("length", 0.5)),
        "MountainCarContinuous-v0": (("power", 0.0015),),
        "Pendulum-v1": (("m", 1.0), ("l", 1.0), ("g", 10.0)),
        "Acrobot-v1": (("LINK_MASS_1", 1.0), ("LINK_MASS_2", 1.0)),
    }
)
_SPECS = MappingProxyType(
    {
        spec.env_id: spec
        for spec in (
            _port(
                "CartPole-v1",
                CARTPOLE,
                4 + len(_PHYSICS["CartPole-v1"]),
                [2 * 2.4, _INF, 2 * 12 * 2 * math.pi / 360, _INF],
                2,
                500,
                ("cart position", "cart velocity", "pole angle", "pole angular velocity"),
                "push left / right (Discrete 2)",
                500.0,
            ),
            _port(
                "MountainCarContinuous-v0",
                MOUNTAIN_CAR,
                3 + len(_PHYSICS["MountainCarContinuous-v0"]),
                [0.6, 0.07],
                (-1.0, 1.0),
                999,
                ("car position", "car velocity"),
                "engine force in [-1, 1]",
                90.0,
                obs_low=[-1.2, -0.07],
            ),
            _port(
                "Pendulum-v1",
                PENDULUM,
                2 + len(_PHYSICS["Pendulum-v1"]),
                [1.0, 1.0, 8.0],
                (-2.0, 2.0),
                200,
                ("cos \u03b8", "sin \u03b8", "angular velocity"),
                "torque in [-2, 2]",
                None,
            ),
            _port(
                "Acrobot-v1",
                ACROBOT,
                5 + len(_PHYSICS["Acrobot-v1"]),
                [1.0, 1.0, 1.0, 1.0, 4 * math.pi, 9 * math.pi],
                3,
                500,
                (
                    "cos \u03b81",
                    "sin \u03b81",
                    "cos \u03b82",
                    "sin \u03b82",
                    "\u03b81 velocity",
                    "\u03b82 velocity",
                ),
                "torque -1 / 0 / +1 (Discrete 3)",
                -100.0,
            ),
            EnvSpec(
                env_id="lane-keeping-v0",
                code=LANE_KEEPING,
                obs_dim=lanekeeping.OBS_DIM,
                obs_center=(0.0,) * lanekeeping.OBS_DIM,
                obs_scale=lanekeeping.OBS_SCALE,
                discrete=False,
                n_actions=0,
                action_low=(-1.0,),
                action_high=(1.0,),
                max_steps=lanekeeping.MAX_STEPS,
                action_dtype="float32",
                state_dim=lanekeeping.STATE_DIM,
                obs_labels=lanekeeping.OBS_LABELS,
                action_label="steering in [-1, 1] (x pi/3 rad)",
                target=None,
            ),
        )  # fmt: skip
    }
)


def env_spec(env_id: str) -> EnvSpec:
    """Return the :class:`EnvSpec` of one of the numba environments (:data:`ENV_IDS`).

    Raises
    ------
    ControllerError
        If ``env_id`` is not one of :data:`ENV_IDS` (the message lists them).

    Examples
    --------
    >>> spec = env_spec("Pendulum-v1")
    >>> spec.code, spec.obs_dim, spec.action_high, spec.max_steps
    (2, 3, (2.0,), 200)
    """
    spec = _SPECS.get(env_id) if isinstance(env_id, str) else None
    if spec is not None:
        return spec
    raise ControllerError(
        f"unknown environment {env_id!r}; the numba environments are {', '.join(ENV_IDS)} "
        "(other gymnasium environments with Box observations go through the Python adapter)"
    )


def make_gym_env(env_id, **kwargs):
    """``gymnasium.make(env_id, **kwargs)`` with a ControllerError that names the problem."""
    try:
        import gymnasium
    except ImportError as err:  # pragma: no cover - gymnasium is a dependency
        raise ControllerError("training needs gymnasium: pip install gymnasium") from err
    if env_id == "lane-keeping-v0":
        return lanekeeping.make_env(**kwargs)
    hint = (
        f"numba ports: {', '.join(ENV_IDS)}, or any registered gymnasium env with Box "
        "observations and a Box or Discrete action"
    )
    if not isinstance(env_id, str) or env_id not in gymnasium.registry:
        # only registered ids: gymnasium.make would import a module named in "module:id"
        raise ControllerError(f"unknown env id {limits.shorten(env_id)} (not registered); {hint}")
    try:
        return gymnasium.make(env_id, **kwargs)
    except gymnasium.error.Error as err:
        raise ControllerError(f"env id {env_id!r} cannot be made ({err}); {hint}") from err


def gym_env_spec(env_id) -> EnvSpec:
    """The description of any registered gymnasium env, read from its spaces (``code`` -1:
    stepped in Python).

    Raises
    ------
    ControllerError
        Unknown id, spaces a controller cannot use (observations that are not a 1-D Box,
        actions neither a 1-D Box nor Discrete from 0), or no episode step limit.
    """
    import gymnasium

    env = make_gym_env(env_id)
    try:
        osp, asp = env.observation_space, env.action_space
        max_steps = env.spec.max_episode_steps if env.spec is not None else None
        target = env.spec.reward_threshold if env.spec is not None else None
    finally:
        env.close()
    if not isinstance(osp, gymnasium.spaces.Box) or len(osp.shape) != 1:
        raise ControllerError(
            f"{env_id}: observation space {osp} is not a 1-D Box; controllers read 1-D Box "
            "observations (flatten the env with gymnasium.wrappers.FlattenObservation first)"
        )
    center, scale = _center_scale(osp.low, osp.high)
    if isinstance(asp, gymnasium.spaces.Discrete):
        if asp.start != 0:
            raise ControllerError(f"{env_id}: Discrete actions must start at 0, got {asp}")
        discrete, n_actions, alo, ahi, adtype = True, int(asp.n), (), (), "int64"
    elif isinstance(asp, gymnasium.spaces.Box) and len(asp.shape) == 1:
        discrete, n_actions, adtype = False, 0, str(np.dtype(asp.dtype))
        alo = tuple(float(x) for x in asp.low)
        ahi = tuple(float(x) for x in asp.high)
    else:
        raise ControllerError(
            f"{env_id}: action space {asp} is neither a 1-D Box nor Discrete; controllers "
            "drive only those"
        )
    if max_steps is None:
        raise ControllerError(
            f"{env_id} has no episode step limit (max_episode_steps); register it with one"
        )
    return EnvSpec(
        env_id=env_id, code=-1, obs_dim=int(osp.shape[0]), obs_center=center, obs_scale=scale,
        discrete=discrete, n_actions=n_actions, action_low=alo, action_high=ahi,
        max_steps=int(max_steps), action_dtype=adtype,
        target=None if target is None else float(target),
    )  # fmt: skip


def env_info(env_id) -> EnvSpec:
    """Describe any gymnasium environment for a controller.

    Parameters
    ----------
    env_id : str
        A gymnasium id. The four classic-control ids of :data:`ENV_IDS` run in numba
        (:func:`env_spec`); any other registered env with a 1-D Box observation and a Box or
        Discrete action space runs through the Python-loop adapter (:func:`gym_env_spec`).

    Raises
    ------
    ControllerError
        Unknown id, or spaces a controller cannot use.
    """
    if not isinstance(env_id, str):
        raise ControllerError(f"env id must be a string, got {env_id!r}")
    if env_id in _SPECS:
        return _SPECS[env_id]
    return gym_env_spec(env_id)


def reset_states(env_id: str, seeds, randomise=0.0, variant=None) -> np.ndarray:
    """Start states from gymnasium's own ``env.reset(seed=s)``, with the episode's physics.

    Parameters
    ----------
    env_id : str
        One of :data:`ENV_IDS`.
    seeds : iterable of int
        Non-negative integer seeds, one episode each.
    randomise : float
        0 (default): every episode has the nominal physics. ``f`` in ``(0, MAX_RANDOMISE]``:
        each physical parameter of :attr:`EnvSpec.physics` is drawn from the episode's seed,
        uniformly within ``+-f`` of its nominal value (:func:`physics_values`).
    variant : str or sim.lanekeeping.RoadVariant, optional
        lane-keeping-v0 only: the road (:func:`sim.lanekeeping.road_variant`).

    Returns
    -------
    numpy.ndarray
        ``(len(seeds), state_dim)`` float64: row ``i`` holds
        ``env.unwrapped.state`` after ``env.reset(seed=seeds[i])`` (its float32
        values exactly, for Acrobot), with ``fresh = 1.0`` for MountainCar and
        Acrobot, then the physical parameters. A replay in gymnasium with the same seed
        (and :func:`apply_physics` of the same parameters) starts from the same state.
    """
    spec = env_spec(env_id)
    seeds = _check_seeds(seeds)
    randomise = check_randomise(randomise)
    if spec.code == LANE_KEEPING:  # the start state and the episode's observation noise
        if randomise:
            raise ControllerError(f"{env_id} has no physical parameters to randomise")
        return lanekeeping.reset_states(seeds, variant)
    if variant is not None:
        raise ControllerError(
            f"road variant {limits.shorten(variant)} given for {env_id}; variants are "
            "lane-keeping-v0's (sim.lanekeeping.VARIANTS)"
        )
    import gymnasium

    k = len(spec.physics)
    n = spec.state_dim - k - (1 if spec.code in (MOUNTAIN_CAR, ACROBOT) else 0)
    out = np.zeros((len(seeds), spec.state_dim))
    env = gymnasium.make(env_id)
    try:
        for i, seed in enumerate(seeds):
            env.reset(seed=seed)
            out[i, :n] = np.asarray(env.unwrapped.state, dtype=np.float64)
            out[i, spec.state_dim - k :] = physics_values(env_id, seed, randomise)
    finally:
        env.close()
    if n < spec.state_dim - k:
        out[:, n] = 1.0
    return out


def check_randomise(fraction) -> float:
    """``fraction`` as a physics randomisation fraction: a number in ``[0, MAX_RANDOMISE]``.

    Raises
    ------
    ControllerError
        Naming the value and the range.
    """
    return limits.check_float(fraction, "randomise (fraction)", 0.0, MAX_RANDOMISE, ControllerError)


def physics_values(env_id, seed, fraction) -> np.ndarray:
    """The physical parameters (:attr:`EnvSpec.physics` order) of the episode with reset seed
    ``seed``: the nominal values for ``fraction == 0``; else ``nominal * (1 + fraction * u)``
    with ``u`` uniform in ``[-1, 1)``, drawn by ``numpy.random.default_rng(SeedSequence(seed,
    spawn_key=(PHYSICS_STREAM,)))``, a stream of its own (the reset's draws are untouched).

    Examples
    --------
    >>> physics_values("Pendulum-v1", 3, 0.0).tolist()
    [1.0, 1.0, 10.0]
    >>> bool(abs(physics_values("Pendulum-v1", 3, 0.2)[2] - 10.0) <= 2.0)
    True
    """
    spec = env_spec(env_id)
    nominal = np.array([v for _, v in spec.physics], np.float64)
    fraction = check_randomise(fraction)
    if fraction == 0.0:
        return nominal
    ss = np.random.SeedSequence(int(seed), spawn_key=(PHYSICS_STREAM,))
    u = np.random.default_rng(ss).uniform(-1.0, 1.0, size=nominal.shape[0])
    return nominal * (1.0 + fraction * u)


def apply_physics(env, env_id, values) -> None:
    """Set the physical parameters ``values`` (:attr:`EnvSpec.physics` order, e.g. from
    :func:`physics_values`) on a gymnasium env of ``env_id`` (``env.unwrapped``), and the
    quantities gymnasium derives from them once in ``__init__`` (CartPole's ``total_mass``
    and ``polemass_length``): its steps then equal the numba port's with those parameters."""
    spec = env_spec(env_id)
    values = [float(v) for v in values]  # Python floats: numpy would change the arithmetic
    if len(values) != len(spec.physics):
        raise ControllerError(
            f"{env_id} has {len(spec.physics)} physical parameters "
            f"({', '.join(x for x, _ in spec.physics)}), got {len(values)} values"
        )
    raw = env.unwrapped
    for (name, _), v in zip(spec.physics, values, strict=True):
        setattr(raw, name, v)
    if spec.code == CARTPOLE:
        raw.total_mass = raw.masspole + raw.masscart
        raw.polemass_length = raw.masspole * raw.length


def _check_seeds(seeds):
    """Return seeds as a list of Python ints >= 0, or raise ControllerError."""
    if isinstance(seeds, (int, np.integer)):
        raise ControllerError(f"seeds must be a sequence of integers, got the single int {seeds}")
    checked = []
    for s in seeds:
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ControllerError(f"seeds must be non-negative integers; got {s!r}")
        checked.append(int(s))
    return checked


# numpy's float32 sin/cos on CPUs with FMA (numpy/_core/src/umath/
# loops_trigonometric.dispatch.cpp): Cody-Waite reduction by pi/2 in three
# parts, then minimax polynomials on [-pi/4, pi/4]; libm beyond the range.
def _f32hex(text):
    return np.float32(float.fromhex(text))


_TRIG_2_OVER_PI = _f32hex("0x1.45f306p-1")
_TRIG_RINT_MAGIC = _f32hex("0x1.8p+23")
_TRIG_PIO2 = (_f32hex("-0x1.921fb0p+00"), _f32hex("-0x1.5110b4p-22"), _f32hex("-0x1.846988p-48"))
_TRIG_COS = (_f32hex("0x1.98e616p-16"), _f32hex("-0x1.6c06dcp-10"), _f32hex("0x1.55553cp-05"))
_TRIG_SIN = (
    _f32hex("0x1.7d3bbcp-19"),
    _f32hex("-0x1.a06bbap-13"),
    _f32hex("0x1.11119ap-07"),
    _f32hex("-0x1.555556p-03"),
)
_TRIG_COS_RANGE = np.float32(71476.0625)
_TRIG_SIN_RANGE = np.float32(117435.992)


@njit(cache=True)
def _numpy_trig_f32(x, want_cos):
    """``np.cos(x)`` (or ``np.sin``) of a float32 ``x``, as numpy computes it."""
    if x != x:
        return x
    if abs(x) > (_TRIG_COS_RANGE if want_cos else _TRIG_SIN_RANGE):
        return np.float32(math.cos(x)) if want_cos else np.float32(math.sin(x))
    quadrant = fma32(x, _TRIG_2_OVER_PI, _TRIG_RINT_MAGIC) - _TRIG_RINT_MAGIC
    r = fma32(quadrant, _TRIG_PIO2[0], x)
    r = fma32(quadrant, _TRIG_PIO2[1], r)
    r = fma32(quadrant, _TRIG_PIO2[2], r)
    r2 = r * r
    c = fma32(_TRIG_COS[0], r2, _TRIG_COS[1])
    c = fma32(c, r2, _TRIG_COS[2])
    c = fma32(c, r2, np.float32(-0.5))
    c = fma32(c, r2, np.float32(1.0))
    s = fma32(_TRIG_SIN[0], r2, _TRIG_SIN[1])
    s = fma32(s, r2, _TRIG_SIN[2])
    s = fma32(s, r2, _TRIG_SIN[3])
    s = fma32(s, r2, np.float32(0.0))
    s = fma32(s, r, r)
    k = np.int32(quadrant) + (1 if want_cos else 0)
    out = s if (k & 1) == 0 else c
    if (k & 2) == 2:
        out = np.float32(0.0) - out
    return out


# ------------------------------------------------------------------- CartPole
_CP_GRAVITY = 9.8  # m/s^2
_CP_MASSCART = 1.0  # kg
_CP_MASSPOLE = 0.1  # kg
_CP_LENGTH = 0.5  # m, half the pole
_CP_FORCE = 10.0  # N
_CP_TAU = 0.02  # s
_CP_FOUR_THIRDS = 4.0 / 3.0
_CP_THETA_LIMIT = 12 * 2 * math.pi / 360  # rad
_CP_X_LIMIT = 2.4  # m


@njit(cache=True)
def _cartpole_step(state, action):
    x, x_dot, theta, theta_dot = state[0], state[1], state[2], state[3]
    masspole, length = state[4], state[5]  # the episode's physics (nominal: 0.1, 0.5)
    total_mass = masspole + _CP_MASSCART  # gymnasium derives these two in __init__
    polemass_length = masspole * length
    force = _CP_FORCE if action == 1.0 else -_CP_FORCE
    cos_t = math.cos(theta)
    sin_t = math.sin(theta)
    temp = (force + polemass_length * (theta_dot * theta_dot) * sin_t) / total_mass
    theta_acc = (_CP_GRAVITY * sin_t - cos_t * temp) / (
        length * (_CP_FOUR_THIRDS - masspole * (cos_t * cos_t) / total_mass)
    )
    x_acc = temp - polemass_length * theta_acc * cos_t / total_mass
    # explicit Euler: positions advance with the old velocities
    state[0] = x + _CP_TAU * x_dot
    state[1] = x_dot + _CP_TAU * x_acc
    state[2] = theta + _CP_TAU * theta_dot
    state[3] = theta_dot + _CP_TAU * theta_acc
    x, theta = state[0], state[2]
    terminated = x < -_CP_X_LIMIT or x > _CP_X_LIMIT or theta < -_CP_THETA_LIMIT
    terminated = terminated or theta > _CP_THETA_LIMIT
    return 1.0, terminated


# -------------------------------------------------------- MountainCarContinuous
_MC_POWER = 0.0015
_MC_HILL = 0.0025  # gravity term: -0.0025 cos(3 x)
_MC_MAX_SPEED = 0.07
_MC_MIN_POS = -1.2
_MC_MAX_POS = 0.6
_MC_GOAL_POS = 0.45
_MC_GOAL_REWARD = 100.0


@njit(cache=True)
def _mountain_car_step(state, action):
    # gymnasium types: position/velocity are np.float64 in the reset state and
    # np.float32 afterwards; a clipped force is a Python float. numpy 2 casts a
    # Python float operand to float32 when the other operand is np.float32.
    a = np.float32(action)
    clipped = a < np.float32(-1.0) or a > np.float32(1.0)
    if state[2] != 0.0:  # fresh: float64 state
        hill = _MC_HILL * math.cos(3.0 * state[0])
    else:
        hill = _MC_HILL * math.cos(np.float64(np.float32(3.0) * np.float32(state[0])))
    power = state[3]  # the episode's physics (nominal 0.0015)
    if clipped:
        delta = (-1.0 if a < np.float32(-1.0) else 1.0) * power - hill
    else:
        delta = np.float64(a * np.float32(power) - np.float32(hill))
    if state[2] != 0.0:
        pos, vel = state[0], state[1] + delta
        if vel > _MC_MAX_SPEED:
            vel = _MC_MAX_SPEED
        if vel < -_MC_MAX_SPEED:
            vel = -_MC_MAX_SPEED
        pos = pos + vel
        if pos > _MC_MAX_POS:
            pos = _MC_MAX_POS
        if pos < _MC_MIN_POS:
            pos = _MC_MIN_POS
        if pos == _MC_MIN_POS and vel < 0.0:
            vel = 0.0
        terminated = pos >= _MC_GOAL_POS and vel >= 0.0
    else:
        # float32 throughout; a value clamped to a Python-float bound behaves
        # like that bound rounded to float32 in every later use.
        pos32 = np.float32(state[0])
        vel32 = np.float32(state[1]) + np.float32(delta)
        if vel32 > np.float32(_MC_MAX_SPEED):
            vel32 = np.float32(_MC_MAX_SPEED)
        if vel32 < np.float32(-_MC_MAX_SPEED):
            vel32 = np.float32(-_MC_MAX_SPEED)
        pos32 = pos32 + vel32
        if pos32 > np.float32(_MC_MAX_POS):
            pos32 = np.float32(_MC_MAX_POS)
        if pos32 < np.float32(_MC_MIN_POS):
            pos32 = np.float32(_MC_MIN_POS)
        if pos32 == np.float32(_MC_MIN_POS) and vel32 < np.float32(0.0):
            vel32 = np.float32(0.0)
        terminated = pos32 >= np.float32(_MC_GOAL_POS) and vel32 >= np.float32(0.0)
        pos, vel = np.float64(pos32), np.float64(vel32)
    state[0] = np.float32(pos)
    state[1] = np.float32(vel)
    state[2] = 0.0
    base = _MC_GOAL_REWARD if terminated else 0.0
    a64 = np.float64(a)
    return base - pow64(a64, 2.0) * 0.1, terminated


# ------------------------------------------------------------------ Pendulum
_PD_MAX_SPEED = 8.0  # rad/s
_PD_MAX_TORQUE = 2.0
_PD_DT = 0.05  # s
_PD_G = 10.0  # m/s^2
_PD_M = 1.0  # kg
_PD_L = 1.0  # m


@njit(cache=True)
def _pendulum_step(state, action):
    th, thdot = state[0], state[1]
    m, length, g = state[2], state[3], state[4]  # the episode's physics (nominal 1, 1, 10)
    u = np.float32(action)
    if u < np.float32(-_PD_MAX_TORQUE):
        u = np.float32(-_PD_MAX_TORQUE)
    elif u > np.float32(_PD_MAX_TORQUE):
        u = np.float32(_PD_MAX_TORQUE)
    wrapped = ((th + math.pi) % (2 * math.pi)) - math.pi
    effort = np.float32(0.001) * pow32(u, np.float32(2.0))
    costs = pow64(wrapped, 2.0) + 0.1 * pow64(thdot, 2.0) + np.float64(effort)
    gravity_gain = 3.0 * g / (2.0 * length)
    torque_gain = 3.0 / (m * pow64(length, 2.0))
    accel = gravity_gain * math.sin(th) + np.float64(np.float32(torque_gain) * u)
    newthdot = thdot + accel * _PD_DT
    if newthdot < -_PD_MAX_SPEED:  # np.clip: NaN passes through
        newthdot = -_PD_MAX_SPEED
    elif newthdot > _PD_MAX_SPEED:
        newthdot = _PD_MAX_SPEED
    state[0] = th + newthdot * _PD_DT
    state[1] = newthdot
    return -costs, False


# ------------------------------------------------------------------- Acrobot
_AC_DT = 0.2  # s
_AC_L1 = 1.0  # m
_AC_M1 = 1.0  # kg
_AC_M2 = 1.0  # kg
_AC_LC1 = 0.5  # m, centre of mass of link 1
_AC_LC2 = 0.5  # m
_AC_I1 = 1.0  # kg m^2
_AC_I2 = 1.0
_AC_G = 9.8  # m/s^2
_AC_MAX_VEL_1 = 4 * math.pi
_AC_MAX_VEL_2 = 9 * math.pi
# constant factors, grouped as gymnasium's left-to-right products group them (the link
# masses are the episode's physics, state[5] and state[6]: the factors with a mass are
# formed per step, in gymnasium's order)
_AC_LC1_SQ = _AC_LC1**2
_AC_D1_B = _AC_L1**2 + _AC_LC2**2
_AC_D1_C = 2 * _AC_L1 * _AC_LC2
_AC_D2_A = _AC_LC2**2
_AC_D2_B = _AC_L1 * _AC_LC2


@njit(cache=True)
def _acrobot_derivs(theta1, theta2, dtheta1, dtheta2, torque, m1, m2):
    """Time derivatives of the Acrobot state (book dynamics), gymnasium's order."""
    cos2 = math.cos(theta2)
    sin2 = math.sin(theta2)
    d1 = m1 * _AC_LC1_SQ + m2 * (_AC_D1_B + _AC_D1_C * cos2) + _AC_I1 + _AC_I2
    d2 = m2 * (_AC_D2_A + _AC_D2_B * cos2) + _AC_I2
    phi2 = m2 * _AC_LC2 * _AC_G * math.cos(theta1 + theta2 - math.pi / 2.0)
    phi1 = (
        -m2 * _AC_L1 * _AC_LC2 * pow64(dtheta2, 2.0) * sin2
        - 2.0 * m2 * _AC_L1 * _AC_LC2 * dtheta2 * dtheta1 * sin2
        + (m1 * _AC_LC1 + m2 * _AC_L1) * _AC_G * math.cos(theta1 - math.pi / 2)
        + phi2
    )
    num = torque + d2 / d1 * phi1 - m2 * _AC_L1 * _AC_LC2 * pow64(dtheta1, 2.0) * sin2 - phi2
    ddtheta2 = num / (m2 * _AC_D2_A + _AC_I2 - pow64(d2, 2.0) / d1)
    ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
    return dtheta1, dtheta2, ddtheta1, ddtheta2


@njit(cache=True)
def _wrap(x, low, high):
    """gymnasium's ``wrap``: shift by whole periods into [low, high]."""
    if math.isinf(x):  # gymnasium loops forever here; leave it infinite
        return x
    period = high - low
    while x > high:
        x = x - period
    while x < low:
        x = x + period
    return x


@njit(cache=True)
def _bound(x, low, high):
    """``min(max(x, low), high)`` with Python's semantics (NaN passes)."""
    y = low if low > x else x
    return high if high < y else y


@njit(cache=True)
def _acrobot_step(state, action):
    torque = action - 1.0  # actions 0, 1, 2 -> torque -1, 0, +1
    y0, y1, y2, y3 = state[0], state[1], state[2], state[3]
    m1, m2 = state[5], state[6]
    half = _AC_DT / 2.0
    a0, a1, a2, a3 = _acrobot_derivs(y0, y1, y2, y3, torque, m1, m2)
    b0, b1, b2, b3 = _acrobot_derivs(
        y0 + half * a0, y1 + half * a1, y2 + half * a2, y3 + half * a3, torque, m1, m2
    )
    c0, c1, c2, c3 = _acrobot_derivs(
        y0 + half * b0, y1 + half * b1, y2 + half * b2, y3 + half * b3, torque, m1, m2
    )
    d0, d1, d2, d3 = _acrobot_derivs(
        y0 + _AC_DT * c0, y1 + _AC_DT * c1, y2 + _AC_DT * c2, y3 + _AC_DT * c3, torque, m1, m2
    )
    w = _AC_DT / 6.0
    n0 = y0 + w * (a0 + 2.0 * b0 + 2.0 * c0 + d0)
    n1 = y1 + w * (a1 + 2.0 * b1 + 2.0 * c1 + d1)
    n2 = y2 + w * (a2 + 2.0 * b2 + 2.0 * c2 + d2)
    n3 = y3 + w * (a3 + 2.0 * b3 + 2.0 * c3 + d3)
    state[0] = _wrap(n0, -math.pi, math.pi)
    state[1] = _wrap(n1, -math.pi, math.pi)
    state[2] = _bound(n2, -_AC_MAX_VEL_1, _AC_MAX_VEL_1)
    state[3] = _bound(n3, -_AC_MAX_VEL_2, _AC_MAX_VEL_2)
    state[4] = 0.0
    terminated = -math.cos(state[0]) - math.cos(state[1] + state[0]) > 1.0
    return (0.0 if terminated else -1.0), terminated


# -------------------------------------------------------------------- public
@njit(cache=True)
def env_observe(code, state, obs):
    """Write gymnasium's observation of ``state`` into ``obs``.

    Parameters
    ----------
    code : int
        :attr:`EnvSpec.code`.
    state : numpy.ndarray
        ``(state_dim,)`` float64 (see the module docstring for the layouts).
    obs : numpy.ndarray
        ``(obs_dim,)`` float64, overwritten with gymnasium's float32
        observation (stored in float64, values equal). CartPole: the state;
        MountainCar: position, velocity; Pendulum: cos, sin, angular
        velocity; Acrobot: cos theta1, sin theta1, cos theta2, sin theta2,
        dtheta1, dtheta2.
    """
    if code == CARTPOLE:
        for i in range(4):
            obs[i] = np.float32(state[i])
    elif code == MOUNTAIN_CAR:
        obs[0] = np.float32(state[0])
        obs[1] = np.float32(state[1])
    elif code == PENDULUM:
        obs[0] = np.float32(math.cos(state[0]))
        obs[1] = np.float32(math.sin(state[0]))
        obs[2] = np.float32(state[1])
    elif code == ACROBOT:
        if state[4] != 0.0:  # reset state: gymnasium holds it in float32
            t1, t2 = np.float32(state[0]), np.float32(state[1])
            obs[0] = _numpy_trig_f32(t1, True)
            obs[1] = _numpy_trig_f32(t1, False)
            obs[2] = _numpy_trig_f32(t2, True)
            obs[3] = _numpy_trig_f32(t2, False)
        else:
            obs[0] = np.float32(math.cos(state[0]))
            obs[1] = np.float32(math.sin(state[0]))
            obs[2] = np.float32(math.cos(state[1]))
            obs[3] = np.float32(math.sin(state[1]))
        obs[4] = np.float32(state[2])
        obs[5] = np.float32(state[3])
    elif code == LANE_KEEPING:
        lanekeeping.observe(state, obs)
    else:
        raise ValueError("unknown environment code")


@njit(cache=True)
def env_step(code, state, action, obs):
    """Advance ``state`` in place by one gymnasium step and observe it.

    Parameters
    ----------
    code : int
        :attr:`EnvSpec.code`.
    state : numpy.ndarray
        ``(state_dim,)`` float64, updated in place.
    action : float
        Discrete: the action index as a float (0.0 or 1.0 for CartPole,
        where anything but 1.0 pushes left; 0.0, 1.0 or 2.0 for Acrobot).
        Box: the raw action; rounded to float32 and clipped as gymnasium does.
    obs : numpy.ndarray
        ``(obs_dim,)`` float64, overwritten with the new observation.

    Returns
    -------
    reward : float
        gymnasium's reward for this step, equal as a float.
    terminated : bool
        gymnasium's ``terminated``. Truncation (``EnvSpec.max_steps``) is the
        caller's; steps after termination are outside gymnasium's contract
        (CartPole then pays 0.0, this kernel 1.0): stop the episode.
    """
    if code == CARTPOLE:
        reward, terminated = _cartpole_step(state, action)
    elif code == MOUNTAIN_CAR:
        reward, terminated = _mountain_car_step(state, action)
    elif code == PENDULUM:
        reward, terminated = _pendulum_step(state, action)
    elif code == ACROBOT:
        reward, terminated = _acrobot_step(state, action)
    elif code == LANE_KEEPING:  # observes before it integrates, as highway-env does
        return lanekeeping.step(state, action, obs), False
    else:
        raise ValueError("unknown environment code")
    env_observe(code, state, obs)
    return reward, terminated


def warmup() -> None:
    """Compile (or load from the cache) the kernels for every numba environment."""
    for spec in _SPECS.values():
        state = np.zeros(spec.state_dim)
        k = len(spec.physics)
        state[spec.state_dim - k :] = [v for _, v in spec.physics]
        obs = np.zeros(spec.obs_dim)
        env_observe(spec.code, state, obs)
        env_step(spec.code, state, 0.0, obs)
