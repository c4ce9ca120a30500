"""sim.lanekeeping against highway-env's own lane-keeping-v0: every step, bit for bit."""

import numpy as np
import pytest

pytest.importorskip("highway_env")

from highway_env.road.lane import SineLane  # noqa: E402

from sim import lanekeeping  # noqa: E402
from sim.envs import (  # noqa: E402
    env_observe,
    env_spec,
    env_step,
    make_gym_env,
    reset_states,  # noqa: E402
)

LK = "lane-keeping-v0"


def _follow(obs, gain):
    """A lateral-offset + heading-error steering law (NumPy), clipped: drives both lanes."""
    lat = obs[8] - obs[4]  # y - reference y
    return float(np.clip(-gain * (0.08 * lat + 1.2 * (obs[9] - obs[5])), -1.0, 1.0))


def _replay(seed, policy):
    """Kernel and highway-env side by side for one whole episode; every step compared.

    Returns (steps, switched to the sine lane, return)."""
    spec = env_spec(LK)
    env = make_gym_env(LK)
    gym_obs, _ = env.reset(seed=seed)
    state = reset_states(LK, [seed])[0]
    obs = np.empty(spec.obs_dim)
    env_observe(spec.code, state, obs)
    assert np.array_equal(obs, gym_obs), f"seed {seed} reset: {obs} != {gym_obs}"
    total, t = 0.0, 0
    while True:
        a = policy(obs, t)
        gym_obs, gym_r, term, trunc, _ = env.step(np.array([a], np.float32))
        r, done = env_step(spec.code, state, a, obs)
        where = f"seed {seed} step {t}"
        assert np.array_equal(obs, gym_obs), f"{where}: obs {obs} != {gym_obs}"
        assert r == gym_r, f"{where}: reward {r!r} != {gym_r!r}"
        vehicle = env.unwrapped.vehicle
        assert np.array_equal(state[:6], vehicle.state[:, 0]), f"{where}: vehicle state"
        on_sine = isinstance(env.unwrapped.lane, SineLane)
        assert (state[6] == 0.0) == on_sine, f"{where}: reference lane"
        assert not done and not term, where
        total += r
        t += 1
        if trunc:
            env.close()
            return t, state[6] == 0.0, total


@pytest.mark.parametrize("seed", [0, 1, 7, 2**31 - 2, 2**40 + 3])
def test_random_actions_match_highway_env(seed):
    rng = np.random.default_rng(seed % 1000)
    steps, _, _ = _replay(seed, lambda obs, t: float(rng.uniform(-1.5, 1.5)))
    assert steps == lanekeeping.MAX_STEPS


@pytest.mark.parametrize("seed", [3, 11, 12345, 99, 2024])
@pytest.mark.parametrize("gain", [0.5, 2.0])
def test_lane_following_policy_matches_highway_env(seed, gain):
    steps, switched, total = _replay(seed, lambda obs, t: _follow(obs, gain))
    assert steps == lanekeeping.MAX_STEPS
    assert switched  # the episode covered both the straight lane and the sine lane
    assert total > 0.0


def test_saturated_steering_spins_past_the_yaw_rate_clip():
    """Full lock: the yaw-rate clip and the lane switch are taken by both."""
    steps, switched, _ = _replay(5, lambda obs, t: 1.0 if t < 100 else -1.0)
    assert steps == lanekeeping.MAX_STEPS and switched


def test_spec_matches_highway_env():
    spec = env_spec(LK)
    env = make_gym_env(LK)
    assert spec.max_steps == env.spec.max_episode_steps == 200
    assert (spec.obs_dim,) == env.observation_space.shape
    space = env.action_space
    assert space.shape == (1,) and space.dtype == np.float32
    assert (spec.action_low, spec.action_high) == ((space.low[0],), (space.high[0],))
    assert len(spec.obs_labels) == spec.obs_dim and spec.state_dim == lanekeeping.STATE_DIM
    env.close()


def test_reset_noise_is_the_envs_own_stream():
    """The stored noise of observation k is what env.np_random draws at observation k."""
    env = make_gym_env(LK)
    env.reset(seed=8)
    state = reset_states(LK, [8])[0]
    nxt = env.unwrapped.np_random.uniform(-0.05, 0.05, size=8)
    assert np.array_equal(state[16:24], nxt)
    env.close()
