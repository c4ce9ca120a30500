"""Lane keeping on the Train page without a browser: the road and lateral-error figures
(webapp.figures.road) against a rollout of sim.lanekeeping and against highway-env itself,
the page's evaluation (highway-env's replay, or the port's score where highway-env is not
installed), and the session's comparison of circuits."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import connectome
from sim import lanekeeping
from sim.evaluation import STREAM_EVALUATION, episode_seeds, evaluate, rollout
from tests.test_webapp_control import random_controller
from webapp import training
from webapp.figures import road as figs

LANE = "lane-keeping-v0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def klino():
    return connectome.presets.klinotaxis(connectome.load("cook2019"))


@pytest.fixture(scope="module", params=[3, 11])
def ctrl(request, klino):
    """A klinotaxis controller with parameters drawn from its unit cube (it steers: its
    path leaves the straight line a car without steering drives)."""
    return random_controller(klino, LANE, request.param)


def port_rollout(ctrl, seed):
    """The episode in sim.lanekeeping, stepped here: vehicle states, lateral offsets,
    rewards."""
    state = lanekeeping.reset_states([seed])[0]
    obs = np.zeros(lanekeeping.OBS_DIM)
    lanekeeping.observe(state, obs)
    c = ctrl.with_theta(ctrl.theta)
    c.reset()
    states, lateral, rewards = [state[:6].copy()], [lanekeeping.lateral_offset(state)], []
    for _ in range(lanekeeping.MAX_STEPS):
        rewards.append(lanekeeping.step(state, float(c.act(obs)[0]), obs))
        states.append(state[:6].copy())
        lateral.append(lanekeeping.lateral_offset(state))
    return np.array(states), np.array(lateral), np.array(rewards)


def test_the_page_offers_lane_keeping_with_the_klinotaxis_preset(klino):
    assert LANE in training.ENVS and training.LANE_ENV == LANE
    assert training.DEFAULT_CIRCUITS[LANE] == "klinotaxis"
    assert "klinotaxis" in training.CIRCUIT_PRESETS
    assert training.OBS_LABELS[LANE] == lanekeeping.OBS_LABELS
    # a 200-step episode pays at most 200: the page's stop-at score is below it
    assert 0 < training.DEFAULT_TARGETS[LANE] < lanekeeping.MAX_STEPS
    io = training.default_io(klino, LANE)
    c = training.make_controller(klino, LANE, io)
    assert c.env.env_id == LANE and list(c.motor) == klino.motor
    config = training.training_config(
        {"circuit": "klinotaxis", "store_circuit": None, "dataset": "cook2019", "env": LANE,
         "io": io, "seconds": 5, "generations": 1, "target": 190, "episodes": 1, "seed": 0,
         "eval_episodes": 2}
    )  # fmt: skip
    assert config["env_id"] == LANE and config["target"] == 190.0


def test_the_animation_is_the_port_rollout(ctrl):
    seed = 12345
    states, lateral, rewards = port_rollout(ctrl, seed)
    ep = training.record_episode(ctrl, seed)
    assert ep["env_id"] == LANE and ep["seed"] == seed
    fig = figs.road_figure(ep)
    assert [f.name for f in fig.frames] == [str(t) for t in range(lanekeeping.MAX_STEPS + 1)]
    for t, frame in enumerate(fig.frames):
        outline, centre, path, _label = frame.data
        assert (centre.x[0], centre.y[0]) == (states[t, 0], states[t, 1]), f"step {t}"
        # the outline is the 5 m x 2 m car around that centre, turned to the heading
        ox, oy = np.array(outline.x[:4]), np.array(outline.y[:4])
        np.testing.assert_allclose([ox.mean(), oy.mean()], states[t, :2], atol=1e-9)
        front = np.array([ox[1] + ox[2], oy[1] + oy[2]]) / 2 - states[t, :2]
        np.testing.assert_allclose(
            front, 2.5 * np.array([np.cos(states[t, 2]), np.sin(states[t, 2])]), atol=1e-9
        )
        assert list(path.x) == list(states[: t + 1, 0]), f"step {t}: the path so far"
    # the car steered: it left the straight line it starts on
    assert np.ptp(states[:, 2]) > 0.1
    assert ep["return"] == sum(rewards)


def test_the_lateral_error_is_the_port_offset_the_reward_squares(ctrl):
    seed = 7
    _, lateral, rewards = port_rollout(ctrl, seed)
    ep = training.record_episode(ctrl, seed)
    fig = figs.lateral_error_figure(ep)
    assert list(fig.data[0].y) == list(lateral)
    assert list(fig.data[0].x) == list(range(lanekeeping.MAX_STEPS + 1))
    # highway-env's reward, 1 - (offset / lane width)^2, from that offset after each step
    # (in Python floats, as highway-env computes it: float ** 2 is the C library's pow, which
    # can differ from numpy's x * x by one ulp)
    assert np.array_equal([1 - (float(lat) / 10.0) ** 2 for lat in lateral[1:]], rewards)


def test_lateral_offset_and_positions_equal_highway_env(ctrl):
    pytest.importorskip("highway_env")
    seed = 4
    ep = training.record_episode(ctrl, seed)
    env = lanekeeping.make_env()
    c = ctrl.with_theta(ctrl.theta)
    try:
        obs, _ = env.reset(seed=seed)
        c.reset()
        for t in range(lanekeeping.MAX_STEPS):
            obs, *_ = env.step(c.act(obs))
            car = env.unwrapped.vehicle
            where = f"step {t + 1}"
            assert list(car.position) == ep["states"][t + 1][:2], where
            assert car.heading == ep["states"][t + 1][2], where
            offset = env.unwrapped.lane.local_coordinates(car.position)[1]
            assert offset == ep["lateral"][t + 1], where
    finally:
        env.close()


def test_evaluation_is_replayed_in_highway_env(ctrl):
    pytest.importorskip("highway_env")
    out = training.evaluate_controller(ctrl, episodes=3, seed=5)
    ev = out["evaluation"]
    seeds = list(episode_seeds(5, STREAM_EVALUATION, 3))
    assert ev["replay"] == "highway-env" and ev["seeds"] == seeds
    real = evaluate(ctrl, episodes=3, seed=5)
    assert ev["returns"] == list(real.returns) and ev["mean"] == real.mean
    assert ev["returns"] == list(rollout(ctrl, seeds)[0][0])  # the port's batched kernel
    errors = [np.mean(np.abs(port_rollout(ctrl, s)[1][1:])) for s in seeds]
    assert ev["lateral_errors"] == errors and ev["lateral_error"] == np.mean(errors)
    assert out["episode"]["seed"] == seeds[0]
    assert out["episode"]["return"] == real.returns[0]
    json.dumps(out)  # JSON-ready for the page's store


def test_without_highway_env_the_port_scores_and_no_traceback(ctrl, tmp_path):
    """A Python without highway-env (its import blocked) scores lane keeping in the port;
    the page's job says where the score comes from."""
    path = tmp_path / "ctrl.json"
    ctrl.save(path)
    code = (
        "import sys, json; sys.modules['highway_env'] = None\n"
        "from sim.control import Controller\n"
        "from webapp import training\n"
        "assert not training.highway_env_installed()\n"
        f"ctrl = Controller.load({str(path)!r})\n"
        "out = training.evaluate_controller(ctrl, episodes=3, seed=5)\n"
        "print(json.dumps(out['evaluation']))\n"
    )
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=600, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    ev = json.loads(proc.stdout.splitlines()[-1])
    seeds = list(episode_seeds(5, STREAM_EVALUATION, 3))
    assert ev["replay"] == "numba port" and ev["seeds"] == seeds
    assert ev["returns"] == list(rollout(ctrl, seeds)[0][0])


def test_comparison_of_circuits(ctrl, klino):
    out = training.evaluate_controller(ctrl, episodes=2, seed=0)
    result = {"source": "trained", "controller": ctrl.to_dict(), **out}
    row = training.lane_run_summary(result)
    assert row["label"].startswith("klinotaxis (24 neurons, dense/difference")
    assert row["return"] == out["evaluation"]["mean"]
    assert row["lateral_error"] == out["evaluation"]["lateral_error"]
    assert training.lane_run_summary(result)["key"] == row["key"]  # one row per run
    other = ctrl.with_theta(ctrl.theta * 1.01)
    assert (
        training.lane_run_summary({**result, "controller": other.to_dict()})["key"] != (row["key"])
    )
    assert training.lane_run_summary({**result, "source": "uploaded"}) is None
    rows = [row, {**row, "label": "other", "return": 12.5, "lateral_error": 4.25}]
    fig = figs.circuit_comparison_figure(rows)
    returns, errors = fig.data
    assert list(returns.x) == [row["return"], 12.5] and list(returns.y) == [row["label"], "other"]
    assert list(errors.x) == [row["lateral_error"], 4.25]


def test_road_is_highway_envs():
    pytest.importorskip("highway_env")
    env = lanekeeping.make_env()
    try:
        env.reset(seed=0)
        # after reset the start lane is the reference, the sine lane comes next
        straight, sine = env.unwrapped.lane, env.unwrapped.lanes[0]
        road = lanekeeping.road()
        assert road["straight"]["start"] == tuple(straight.start)
        assert road["straight"]["end"] == tuple(straight.end)
        assert road["straight"]["width"] == straight.width
        for key in ("amplitude", "pulsation", "phase"):
            assert road["sine"][key] == getattr(sine, key), key
        assert road["sine"]["width"] == sine.width
    finally:
        env.close()
