"""sim.envs against gymnasium itself: every step, bit for bit."""

import math

import gymnasium
import numpy as np
import pytest

from connectome.errors import ControllerError
from sim.envs import (
    ENV_IDS,
    MAX_RANDOMISE,
    PHYSICS_STREAM,
    EnvSpec,
    apply_physics,
    env_info,
    env_observe,
    env_spec,
    env_step,
    gym_env_spec,
    physics_values,
    reset_states,
    warmup,
)

CP, MC, PD, AC = CLASSIC = ENV_IDS[:4]  # lane-keeping-v0: tests/test_lanekeeping.py


@pytest.fixture(scope="module", autouse=True)
def _compiled():
    warmup()


def _gym_action(spec: EnvSpec, action: float):
    """The action as the replay sends it to gymnasium."""
    if spec.discrete:
        return int(action)
    return np.array([action], dtype=np.float32)


def _assert_same(obs, gym_obs, where):
    assert gym_obs.dtype == np.float32, where
    assert obs.shape == gym_obs.shape, where
    diff = np.max(np.abs(obs - gym_obs.astype(np.float64)))
    assert diff == 0.0, f"{where}: obs {obs} != gymnasium {gym_obs}"


def _physics(env_id):
    """The nominal physical parameters that end a kernel state (sim.envs.EnvSpec.physics)."""
    return [v for _, v in env_spec(env_id).physics]


def _assert_same_state(state, env, where):
    """The full state too, so float64 differences that the float32 observation hides show."""
    gym_state = np.asarray(env.unwrapped.state, dtype=np.float64)
    n = gym_state.shape[0]
    assert np.array_equal(state[:n], gym_state), f"{where}: state {state} != {gym_state}"


def _replay(env_id, seed, policy, rng=None, randomise=0.0):
    """Run our kernel and gymnasium side by side from reset(seed) to the episode's end
    (with ``randomise``: gymnasium's env given the parameters the episode seed draws).

    Returns (steps, terminated, episode return).
    """
    spec = env_spec(env_id)
    env = gymnasium.make(env_id)
    gym_obs, _ = env.reset(seed=seed)
    state = reset_states(env_id, [seed], randomise)[0]
    if randomise:
        apply_physics(env, env_id, physics_values(env_id, seed, randomise))
    obs = np.empty(spec.obs_dim)
    env_observe(spec.code, state, obs)
    _assert_same(obs, gym_obs, f"{env_id} seed {seed} reset")
    total = 0.0
    for t in range(1, spec.max_steps + 1):
        action = float(policy(obs, t, rng))
        reward, terminated = env_step(spec.code, state, action, obs)
        gym_obs, gym_reward, gym_term, gym_trunc, _ = env.step(_gym_action(spec, action))
        where = f"{env_id} seed {seed} step {t} action {action!r}"
        _assert_same(obs, gym_obs, where)
        _assert_same_state(state, env, where)
        assert isinstance(reward, float) and reward == gym_reward, (where, reward, gym_reward)
        assert terminated == gym_term, where
        assert gym_trunc == (t >= spec.max_steps), where
        total += reward
        if terminated or gym_trunc:
            env.close()
            return t, terminated, total
    raise AssertionError("gymnasium neither terminated nor truncated")


# ----------------------------------------------------------------- policies
def _random_discrete(n):
    return lambda obs, t, rng: rng.integers(n)


def _random_box(high):
    # 1.5 x the bound: about a third of the actions are clipped
    return lambda obs, t, rng: rng.uniform(-1.5 * high, 1.5 * high)


def _cartpole_pd(obs, t, rng):
    x, x_dot, theta, theta_dot = obs
    return 1.0 if theta + 0.3 * theta_dot + 0.01 * x + 0.05 * x_dot > 0 else 0.0


def _car_bang_bang(amplitude):
    return lambda obs, t, rng: amplitude if obs[1] >= 0 else -amplitude


def _pendulum_pump(obs, t, rng):
    cos_t, sin_t, w = obs
    if cos_t > 0.9:  # near the top: PD
        return -(8.0 * math.atan2(sin_t, cos_t) + 1.5 * w)
    energy = 0.5 * w * w + 15.0 * cos_t  # 15 cos = the top's potential
    return float(np.clip(0.5 * (15.5 - energy) * w, -3.0, 3.0))


def _acrobot_pump(obs, t, rng):
    return 2.0 if obs[5] > 0 else 0.0  # torque along the second joint's velocity


RANDOM_RUNS = [
    (CP, _random_discrete(2), range(8)),
    (MC, _random_box(1.0), range(2)),
    (PD, _random_box(2.0), range(3)),
    (AC, _random_discrete(3), range(2)),
]


@pytest.mark.parametrize("env_id, policy, seeds", RANDOM_RUNS, ids=[r[0] for r in RANDOM_RUNS])
def test_random_actions_match_gymnasium(env_id, policy, seeds):
    for seed in seeds:
        _replay(env_id, seed, policy, np.random.default_rng(1000 + seed))


RANDOMISED_RUNS = [
    (CP, _random_discrete(2), range(4)),
    (MC, _car_bang_bang(1.7), range(2)),
    (PD, _pendulum_pump, range(2)),
    (AC, _acrobot_pump, range(2)),
]


@pytest.mark.parametrize(
    "env_id, policy, seeds", RANDOMISED_RUNS, ids=[r[0] for r in RANDOMISED_RUNS]
)
def test_randomised_physics_match_gymnasium_with_those_parameters(env_id, policy, seeds):
    """Stepping with drawn physics equals gymnasium's env with the same attributes set (and
    the episode is really another one: it differs from the nominal episode)."""
    for seed in seeds:
        rng = np.random.default_rng(2000 + seed)
        randomised = _replay(env_id, seed, policy, rng, randomise=0.5)
        nominal = _replay(env_id, seed, policy, np.random.default_rng(2000 + seed))
        if env_id != CP:  # a random CartPole policy may end at the same step
            assert randomised != nominal, (env_id, seed)


@pytest.mark.parametrize("env_id", CLASSIC)
def test_physics_draws_are_what_the_seed_says(env_id):
    spec = env_spec(env_id)
    k = len(spec.physics)
    nominal = np.array([v for _, v in spec.physics])
    names = [x for x, _ in spec.physics]
    env = gymnasium.make(env_id)
    assert [getattr(env.unwrapped, x) for x in names] == nominal.tolist()  # gymnasium's own
    env.close()
    seeds = [0, 5, 2**33 + 1]
    # fraction 0: nominal, bit for bit the states of before (the same reset rows)
    zero = reset_states(env_id, seeds, 0.0)
    assert np.array_equal(zero, reset_states(env_id, seeds))
    assert np.array_equal(zero[:, -k:], np.tile(nominal, (3, 1)))
    f = 0.3
    drawn = reset_states(env_id, seeds, f)
    assert np.array_equal(drawn[:, :-k], zero[:, :-k])  # the same reset; only the physics
    for row, seed in zip(drawn, seeds, strict=True):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(PHYSICS_STREAM,)))
        want = nominal * (1.0 + f * rng.uniform(-1.0, 1.0, size=k))
        assert np.array_equal(row[-k:], want), (env_id, seed)
        assert np.all(np.abs(row[-k:] / nominal - 1.0) <= f)
    assert not np.array_equal(drawn[0, -k:], drawn[1, -k:])
    for bad in (-0.1, MAX_RANDOMISE + 0.01, math.nan, "0.2"):
        with pytest.raises(ControllerError, match="randomise"):
            reset_states(env_id, seeds, bad)


@pytest.mark.parametrize("seed", [0, 7, 123456])
def test_cartpole_pd_runs_to_truncation(seed):
    steps, terminated, total = _replay(CP, seed, _cartpole_pd)
    assert (steps, terminated, total) == (500, False, 500.0)


@pytest.mark.parametrize("amplitude", [1.0, 1.7])  # at the bound / clipped
@pytest.mark.parametrize("seed", [3, 99])
def test_mountain_car_bang_bang_reaches_goal(seed, amplitude):
    steps, terminated, total = _replay(MC, seed, _car_bang_bang(amplitude))
    assert terminated and steps < 200
    assert total > 50.0  # the +100 goal reward was paid


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pendulum_energy_pumping(seed):
    steps, terminated, _ = _replay(PD, seed, _pendulum_pump)
    assert (steps, terminated) == (200, False)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_acrobot_energy_pumping_reaches_goal(seed):
    steps, terminated, total = _replay(AC, seed, _acrobot_pump)
    assert terminated and steps < 500
    assert total == -(steps - 1)


# ---------------------------------------------------------------- specs, resets
def test_specs_match_gymnasium():
    for code, env_id in enumerate(CLASSIC):
        spec = env_spec(env_id)
        env = gymnasium.make(env_id)
        assert spec.env_id == env_id and spec.code == code
        assert spec.max_steps == env.spec.max_episode_steps
        assert (spec.obs_dim,) == env.observation_space.shape
        assert len(spec.obs_labels) == spec.obs_dim and spec.action_label
        space = env.action_space
        if spec.discrete:
            assert isinstance(space, gymnasium.spaces.Discrete)
            assert spec.n_actions == space.n and spec.act_dim == 1
            assert (spec.action_low, spec.action_high) == ((), ())
            assert spec.action_dtype == "int64"
        else:
            assert isinstance(space, gymnasium.spaces.Box) and space.shape == (1,)
            assert spec.n_actions == 0 and space.dtype == np.float32
            assert (spec.action_low, spec.action_high) == ((space.low[0],), (space.high[0],))
            assert spec.action_dtype == "float32"
        # the observation scaling: exactly the centre and half-width of gymnasium's bounds
        # (0 and 1 where a component is unbounded)
        low = np.asarray(env.observation_space.low, np.float64)
        high = np.asarray(env.observation_space.high, np.float64)
        for j in range(spec.obs_dim):
            if np.isfinite(low[j]) and np.isfinite(high[j]):
                assert spec.obs_center[j] == 0.5 * (low[j] + high[j]), (env_id, j)
                assert spec.obs_scale[j] == 0.5 * (high[j] - low[j]), (env_id, j)
            else:
                assert (spec.obs_center[j], spec.obs_scale[j]) == (0.0, 1.0), (env_id, j)
        # the stop-at score: CartPole's maximum return, else gymnasium's reward threshold
        want = 500.0 if env_id == CP else env.spec.reward_threshold
        assert spec.target == want, env_id
        # the Python adapter's description of the same env agrees field by field
        generic = gym_env_spec(env_id)
        for field in ("obs_dim", "obs_center", "obs_scale", "discrete", "n_actions",
                      "action_low", "action_high", "max_steps", "action_dtype"):  # fmt: skip
            assert getattr(generic, field) == getattr(spec, field), (env_id, field)
        assert generic.code == -1 and env_info(env_id) is spec
        assert EnvSpec.from_json(spec.to_json()) == spec
        env.close()


def test_unknown_env_id_lists_known_ids():
    for call in (lambda: env_spec("CartPole-v0"), lambda: reset_states("LunarLander-v3", [0])):
        with pytest.raises(ControllerError) as info:
            call()
        for env_id in ENV_IDS:
            assert env_id in str(info.value)


@pytest.mark.parametrize("bad", [[-1], [1.5], [True], 3])
def test_reset_states_rejects_bad_seeds(bad):
    with pytest.raises(ControllerError, match="seed"):
        reset_states(CP, bad)


@pytest.mark.parametrize("env_id", CLASSIC)
def test_reset_states_equal_gymnasium_state(env_id):
    spec = env_spec(env_id)
    seeds = [0, 1, 42, 2**40 + 3]
    states = reset_states(env_id, np.array(seeds))
    assert states.shape == (len(seeds), spec.state_dim) and states.dtype == np.float64
    env = gymnasium.make(env_id)
    for row, seed in zip(states, seeds, strict=True):
        gym_obs, _ = env.reset(seed=seed)
        gym_state = env.unwrapped.state
        n = gym_state.shape[0]
        assert np.array_equal(row[:n], gym_state.astype(np.float64)), (env_id, seed)
        k = len(spec.physics)
        if spec.state_dim - k > n:  # the fresh flag
            assert row[n : spec.state_dim - k].tolist() == [1.0]
        assert row[spec.state_dim - k :].tolist() == [v for _, v in spec.physics]
        obs = np.empty(spec.obs_dim)
        env_observe(spec.code, row, obs)
        _assert_same(obs, gym_obs, f"{env_id} seed {seed}")
    env.close()


# ------------------------------------------------------------------ Box actions
@pytest.mark.parametrize("env_id", [MC, PD])
def test_box_actions_at_and_beyond_bounds(env_id):
    spec = env_spec(env_id)
    high = spec.action_high[0]
    f32_above = float(np.nextafter(np.float32(high), np.float32(np.inf)))
    actions = [
        high,
        -high,
        f32_above,
        -f32_above,
        high * (1.0 + 1e-12),  # rounds to the bound in float32: not clipped
        0.1,  # not a float32: the kernel rounds it as the replay does
        -0.0,
        5.0 * high,
        -37.0,
        math.inf,
        -math.inf,
    ]
    env = gymnasium.make(env_id)
    for seed, action in enumerate(actions):
        gym_obs, _ = env.reset(seed=seed)
        state = reset_states(env_id, [seed])[0]
        obs = np.empty(spec.obs_dim)
        for t in range(3):  # first step from the reset state, then the later kind
            reward, terminated = env_step(spec.code, state, action, obs)
            gym_obs, gym_reward, gym_term, _, _ = env.step(_gym_action(spec, action))
            where = f"{env_id} action {action!r} step {t}"
            _assert_same(obs, gym_obs, where)
            assert reward == gym_reward and terminated == gym_term, where
    env.close()


# ------------------------------------------------- dtypes gymnasium keeps at reset
def test_mountain_car_fresh_flag_follows_gymnasium_dtype():
    """A float32-exact position computes differently as float64 (fresh) and float32."""
    spec = env_spec(MC)
    env = gymnasium.make(MC)
    action = np.array([1.5], np.float32)
    differing = 0
    for p in np.linspace(-0.6, -0.4, 40).astype(np.float32):
        gym_obs = {}
        env.reset(seed=0, options={"low": float(p), "high": float(p)})  # float64 [p, 0]
        assert env.unwrapped.state.dtype == np.float64
        gym_obs[1.0] = env.step(action)[0]
        env.unwrapped.state = np.array([p, 0.0], dtype=np.float32)  # as after a step
        gym_obs[0.0] = env.step(action)[0]
        differing += not np.array_equal(gym_obs[1.0], gym_obs[0.0])
        for fresh in (1.0, 0.0):
            state = np.array([p, 0.0, fresh, *_physics(MC)])
            obs = np.empty(spec.obs_dim)
            env_step(spec.code, state, 1.5, obs)
            _assert_same(obs, gym_obs[fresh], f"position {p} fresh {fresh}")
            assert state[2] == 0.0
    assert differing > 5  # the flag matters for these states
    env.close()


def _float32_trig_differs(x):
    double = x.astype(np.float64)
    return (np.cos(x) != np.cos(double).astype(np.float32)) | (
        np.sin(x) != np.sin(double).astype(np.float32)
    )


def test_acrobot_reset_observation_uses_numpy_float32_trig():
    """At reset gymnasium's state is float32 and numpy's float32 sin/cos is not the
    rounded float64 value; pick angles where the two differ."""
    spec = env_spec(AC)
    x = np.random.default_rng(5).uniform(-0.1, 0.1, 20000).astype(np.float32)
    angles = x[_float32_trig_differs(x)][:6]
    assert len(angles) == 6
    env = gymnasium.make(AC)
    for angle in angles:
        # low == high: all four state variables equal the angle, in float32
        gym_obs, _ = env.reset(seed=0, options={"low": float(angle), "high": float(angle)})
        state = np.array([angle] * 4 + [1.0] + _physics(AC), dtype=np.float64)
        obs = np.empty(spec.obs_dim)
        env_observe(spec.code, state, obs)
        _assert_same(obs, gym_obs, f"reset angle {angle}")
        for action in (2, 0, 1):
            reward, terminated = env_step(spec.code, state, float(action), obs)
            gym_obs, gym_reward, gym_term, _, _ = env.step(action)
            _assert_same(obs, gym_obs, f"angle {angle} action {action}")
            assert (reward, terminated) == (gym_reward, gym_term)
    env.close()


@pytest.mark.filterwarnings("ignore:.*not within the observation space")
def test_acrobot_float32_trig_beyond_reset_range():
    """Reset bounds are options: numpy's range reduction by pi/2 (quadrants, ties near
    odd multiples of pi/4) and its libm fallback for huge angles."""
    spec = env_spec(AC)
    near_ties = [
        np.float32((k + 0.5) * math.pi / 2) + np.float32(j) * np.spacing(np.float32(k + 1))
        for k in range(-40, 40)
        for j in range(-4, 5)
    ]
    x = np.random.default_rng(6).uniform(-100, 100, 200000).astype(np.float32)
    angles = [*near_ties, *x[_float32_trig_differs(x)], 1e5, -3e6, 0.0]
    env = gymnasium.make(AC)
    obs = np.empty(spec.obs_dim)
    for angle in np.array(angles, dtype=np.float32):
        gym_obs, _ = env.reset(options={"low": float(angle), "high": float(angle)})
        assert env.unwrapped.state.tolist() == [angle] * 4
        env_observe(spec.code, np.array([angle] * 4 + [1.0] + _physics(AC)), obs)
        _assert_same(obs, gym_obs, f"reset angle {angle!r}")
        assert np.array_equal(np.signbit(obs), np.signbit(gym_obs)), angle
    env.close()


# ------------------------------------------------- clamps, wraps and libm rounding
def _step_from_state(env_id, gym_state, kernel_state, actions):
    """Set gymnasium's state directly and compare a few steps."""
    spec = env_spec(env_id)
    env = gymnasium.make(env_id)
    env.reset(seed=0)
    env.unwrapped.state = gym_state
    state = np.array([*kernel_state, *_physics(env_id)], dtype=np.float64)
    obs = np.empty(spec.obs_dim)
    seen = []
    for t, action in enumerate(actions):
        reward, terminated = env_step(spec.code, state, float(action), obs)
        gym_obs, gym_reward, gym_term, _, _ = env.step(_gym_action(spec, action))
        where = f"{env_id} from {kernel_state} step {t}"
        _assert_same(obs, gym_obs, where)
        _assert_same_state(state, env, where)
        assert reward == gym_reward and terminated == gym_term, where
        seen.append(state.copy())
        if terminated:
            break
    env.close()
    return seen


@pytest.mark.parametrize(
    "start, action, check",
    [
        ((-0.7, 0.0699), 1.0, lambda s: s[1] == np.float32(0.07)),  # speed limit
        ((-0.3, -0.0699), -1.7, lambda s: s[1] == np.float32(-0.07)),
        ((0.595, 0.0699), 1.0, lambda s: s[0] == np.float32(0.6)),  # right edge
        ((-1.19, -0.0699), -1.0, lambda s: s[0] == np.float32(-1.2) and s[1] == 0.0),
    ],
)
def test_mountain_car_clamps(start, action, check):
    gym_state = np.array(start, dtype=np.float32)
    seen = _step_from_state(MC, gym_state, [*gym_state, 0.0], [action])
    assert check(seen[0])


def test_acrobot_velocity_bounds_and_angle_wrap():
    start = np.array([3.1, -3.1, 4 * math.pi - 0.05, -9 * math.pi + 0.05])
    for action in (0, 2):
        seen = _step_from_state(AC, start.copy(), [*start, 0.0], [action] * 6)
        assert any(abs(s[2]) == 4 * math.pi or abs(s[3]) == 9 * math.pi for s in seen)
        assert all(-math.pi <= s[0] <= math.pi and -math.pi <= s[1] <= math.pi for s in seen)


def test_pendulum_squares_use_libm_pow():
    """gymnasium's ``x**2`` is C ``pow``, which differs from ``x*x`` in a few cases in
    1000; the rewards must follow ``pow`` (float64 speed, float32 torque)."""
    rng = np.random.default_rng(11)
    speeds = [v for v in rng.uniform(-8, 8, 20000).tolist() if 0.1 * v**2 != 0.1 * (v * v)]
    torques = [
        u
        for u in rng.uniform(-2, 2, 20000).astype(np.float32)
        if np.float32(0.001) * u**2 != np.float32(0.001) * (u * u)
    ]
    assert len(speeds) >= 3 and len(torques) >= 3
    for v in speeds[:3]:
        _step_from_state(PD, np.array([0.0, v]), [0.0, v], [0.0])
    for u in torques[:3]:
        _step_from_state(PD, np.array([0.0, 0.0]), [0.0, 0.0], [float(u)])


def test_unknown_code_raises():
    state, obs = np.zeros(5), np.zeros(6)
    with pytest.raises(ValueError, match="unknown environment code"):
        env_step(9, state, 0.0, obs)
    with pytest.raises(ValueError, match="unknown environment code"):
        env_observe(-1, state, obs)
