"""sim.lanekeeping against highway-env's own lane-keeping-v0: every step, bit for bit."""

import numpy as np
import pytest

pytest.importorskip("highway_env")

from highway_env.road.lane import SineLane  # noqa: E402

from connectome.errors import ControllerError  # noqa: E402
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


def _replay(seed, policy, variant=None):
    """Kernel and highway-env side by side for one whole episode; every step compared.

    Returns (steps, switched to the sine lane, return)."""
    spec = env_spec(LK)
    env = make_gym_env(LK) if variant is None else make_gym_env(LK, variant=variant)
    gym_obs, _ = env.reset(seed=seed)
    state = reset_states(LK, [seed], variant=variant)[0]
    obs = np.empty(spec.obs_dim)
    env_observe(spec.code, state, obs)
    assert np.array_equal(obs, gym_obs), f"seed {seed} reset: {obs} != {gym_obs}"
    total, t = 0.0, 0
    while True:
        a = policy(obs, t)
        gym_obs, gym_r, term, trunc, _ = env.step(np.array([a], np.float32))
        r, done = env_step(spec.code, state, a, obs)
        where = f"seed {seed} step {t} variant {variant}"
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
    first = lanekeeping.STATE_DIM - lanekeeping.NOISE_PER_OBS * (lanekeeping.MAX_STEPS + 1)
    k = lanekeeping.NOISE_PER_OBS
    assert np.array_equal(state[first + k : first + 2 * k], nxt)  # observation 1: the 1st step
    env.close()


# Every variant against highway-env configured (noise) or subclassed (road, car) to match.
@pytest.mark.parametrize(
    "variant",
    ["amplitude-8", "wavelength-60", "offset-2", "offset--3", "noise-x2", "noise-x4",
     "speed-12", "speed-5", "amplitude-2+wavelength-150+speed-20+noise-x3"],
)  # fmt: skip
def test_variants_match_highway_env(variant):
    steps, switched, total = _replay(21, lambda obs, t: _follow(obs, 1.0), variant)
    assert steps == lanekeeping.MAX_STEPS and switched


def test_variants_change_the_road_highway_env_builds():
    """The twin is really another road: amplitude, pulsation, start, speed, noise."""
    v = lanekeeping.road_variant("amplitude-8+wavelength-60+offset-2+speed-12+noise-x4")
    env = make_gym_env(LK, variant=v)
    env.reset(seed=0)
    u = env.unwrapped
    sine = u.lanes[-1]
    assert (sine.amplitude, sine.pulsation) == (8.0, 2 * np.pi / 60)
    assert u.lane.local_coordinates(u.vehicle.position)[1] == pytest.approx(-2.0)
    assert u.vehicle.speed == 12.0
    assert u.config["state_noise"] == u.config["derivative_noise"] == 0.2
    env.close()
    base = make_gym_env(LK, variant="base")
    base.reset(seed=0)
    assert type(base.unwrapped).__name__ == "LaneKeepingEnv"
    assert base.unwrapped.config["state_noise"] == 0.05
    base.close()


def test_variant_names():
    rv = lanekeeping.road_variant
    assert rv(None) == rv("base") == lanekeeping.BASE == lanekeeping.RoadVariant()
    assert rv("wavelength-60").pulsation == 2 * np.pi / 60
    assert lanekeeping.BASE.pulsation == 2 * np.pi / 100  # highway-env's expression
    assert rv("noise-x4").noise == 0.2 and rv("offset--2").offset == -2.0
    for name, v in lanekeeping.VARIANTS.items():
        assert v.name == name and rv(v.name) == v
    odd = lanekeeping.RoadVariant(amplitude=6.25, noise=0.07)
    assert rv(odd.name) == odd


@pytest.mark.parametrize(
    "bad, match",
    [("amplitude-80", "amplitude must be a finite number in 0 .. 50"),
     ("speed-0.5", "speed must be"), ("width-3", "unknown road variant"),
     ("amplitude-big", "'big' is not a number"), ("noise-xnan", "noise must be"),
     (3, "must be a name or a RoadVariant")],
)  # fmt: skip
def test_bad_variants_are_refused(bad, match):
    with pytest.raises(ControllerError, match=match):
        lanekeeping.road_variant(bad)


def test_lateral_rms_is_the_episodes_own_offset():
    """From the return, as highway-env pays it: replayed, the offsets agree."""
    env = make_gym_env(LK)
    obs, _ = env.reset(seed=4)
    lat2, total = [], 0.0
    for _ in range(lanekeeping.MAX_STEPS):
        obs, r, _, _, _ = env.step(np.array([_follow(obs, 1.0)], np.float32))
        u = env.unwrapped
        lat2.append(u.lane.local_coordinates(u.vehicle.position)[1] ** 2)
        total += r
    env.close()
    assert lanekeeping.lateral_rms(total) == pytest.approx(np.sqrt(np.mean(lat2)), rel=1e-9)


def test_variant_reaches_rollout_and_evaluate():
    """rollout (numba) and evaluate (highway-env) on the same variant give the same returns."""
    import connectome
    from sim.control import Controller
    from sim.evaluation import evaluate, rollout

    ctrl = Controller.from_circuit(connectome.presets.klinotaxis(), LK)
    seeds = [5, 6]
    for name in (None, "amplitude-8", "noise-x4"):
        ev = evaluate(ctrl, seeds=seeds, variant=name)
        assert ev.variant == lanekeeping.road_variant(name).name
        assert tuple(rollout(ctrl, seeds, variant=name)[0][0]) == ev.returns, name
    with pytest.raises(ControllerError, match="lane-keeping-v0's"):
        reset_states("CartPole-v1", [0], variant="amplitude-8")


def _klinotaxis_controller(**options):
    import connectome
    from sim.control import Controller

    return Controller.from_circuit(connectome.presets.klinotaxis(), LK, **options)


def test_klinotaxis_steers_by_dorsal_minus_ventral():
    """The default map: steering = g (mean dorsal - mean ventral head motor output) + b."""
    from connectome.presets import HEAD_MOTOR_DORSAL, HEAD_MOTOR_VENTRAL
    from sim.control import default_output_neurons

    ctrl = _klinotaxis_controller()
    dorsal = [x for x in ctrl.motor if x.startswith(HEAD_MOTOR_DORSAL)]
    ventral = [x for x in ctrl.motor if x.startswith(HEAD_MOTOR_VENTRAL)]
    assert len(dorsal) == len(ventral) == 6
    assert ctrl.output_map["kind"] == "difference"
    assert ctrl.output_map["neurons"] == [dorsal, ventral]
    assert default_output_neurons(ctrl.motor) == (tuple(dorsal), tuple(ventral))
    rng = np.random.default_rng(3)
    ctrl = ctrl.with_theta(ctrl.decode(rng.uniform(size=(1, ctrl.n_free)))[0])
    p = ctrl.parameters
    idx = {x: i for i, x in enumerate(ctrl.neurons)}
    ctrl.reset()
    env = make_gym_env(LK)
    obs, _ = env.reset(seed=2)
    moved = 0.0
    for _ in range(30):
        action = ctrl.act(obs)
        v = ctrl.v
        y = (
            p["out_gain"][0]
            * (np.mean([v[idx[x]] for x in dorsal]) - np.mean([v[idx[x]] for x in ventral]))
            + p["out_b"][0]
        )
        assert action[0] == pytest.approx(np.float32(np.tanh(y)), rel=1e-6, abs=1e-7)
        moved = max(moved, abs(y - p["out_b"][0]))
        obs, *_ = env.step(action)
    env.close()
    assert moved > 1e-3  # the circuit really drove the readout


def test_group_difference_map_round_trips_and_flips_sign():
    from sim.control import Controller

    ctrl = _klinotaxis_controller()
    dorsal, ventral = ctrl.output_map["neurons"]
    rng = np.random.default_rng(4)
    theta = ctrl.decode(rng.uniform(size=(1, ctrl.n_free)))[0]
    ctrl = ctrl.with_theta(theta)
    again = Controller.from_dict(ctrl.to_dict())
    assert again.output_map["neurons"] == [dorsal, ventral]
    assert np.array_equal(again.out_read, ctrl.out_read)
    seeds = [1, 2]
    from sim.evaluation import rollout

    assert np.array_equal(rollout(again, seeds)[0], rollout(ctrl, seeds)[0])
    flipped = _klinotaxis_controller(output_neurons=(ventral, dorsal))
    assert np.array_equal(flipped.out_read, -ctrl.out_read)
    one_pair = _klinotaxis_controller(output_neurons=("SMDDL", "SMDVL"))
    assert sorted(one_pair.out_read[one_pair.out_read != 0]) == [-1.0, 1.0]
    for bad in [(dorsal, dorsal[:1]), ("SMDDL",), ([], ventral), (["AVA"], ventral)]:
        with pytest.raises(ControllerError):
            _klinotaxis_controller(output_neurons=bad)


def test_cli_evaluates_on_variants(tmp_path, capsys):
    """``python -m sim evaluate --variant``: one line per road, highway-env's returns."""
    import argparse
    import json

    from sim.cli import add_training_commands
    from sim.evaluation import evaluate

    ctrl = _klinotaxis_controller()
    ctrl = ctrl.with_theta(ctrl.decode(np.random.default_rng(5).uniform(size=(1, ctrl.n_free)))[0])
    path = tmp_path / "lane.json"
    ctrl.save(path)
    parser = argparse.ArgumentParser()
    add_training_commands(parser.add_subparsers())
    argv = ["evaluate", str(path), "--episodes", "2", "--json"]
    args = parser.parse_args([*argv, "--variant", "base", "--variant", "wavelength-60"])
    assert args.func(args) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["variant"] for x in lines] == ["base", "wavelength-60"]
    for line in lines:
        ev = evaluate(ctrl, episodes=2, seed=0, variant=line["variant"])
        assert (line["mean"], line["min"], line["max"]) == (ev.mean, ev.min, ev.max)
    args = parser.parse_args([*argv, "--variant", "wobble-3"])
    assert args.func(args) == 2
    assert "unknown road variant 'wobble-3'" in capsys.readouterr().err
