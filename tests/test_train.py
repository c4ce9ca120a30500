"""Training (sim.trainer, sim.evaluation): replay in gymnasium equals the numba rollout, the
Python-loop adapter, checkpoint/resume after a kill, a real CartPole solve, the command line,
and bad inputs."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import gymnasium
import numpy as np
import pytest

import connectome
from connectome.errors import ControllerError, SimulationError, WiringFormatError
from sim.cli import build_parser
from sim.control import Controller, load_controller
from sim.envs import ENV_IDS
from sim.evaluation import episode_seeds, evaluate, rollout
from sim.trainer import default_generations, train

REPO = Path(__file__).resolve().parents[1]


def same_run(a, b):
    """Two TrainResults are the same run (wall times aside)."""
    np.testing.assert_array_equal(a.controller.theta, b.controller.theta)
    assert a.score == b.score and a.generations == b.generations and a.reason == b.reason
    strip = [{k: v for k, v in h.items() if k != "elapsed"} for h in a.history]
    assert strip == [{k: v for k, v in h.items() if k != "elapsed"} for h in b.history]


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("output_map", ["auto", "dense"])
def test_gymnasium_replay_equals_numba_rollout(tw, env_id, output_map, random_controller):
    ctrl = random_controller(Controller.from_circuit(tw, env_id, output_map=output_map), seed=5)
    seeds = [0, 1, 12345, 2**31 - 2]
    returns, lengths = rollout(ctrl, seeds)
    ev = evaluate(ctrl, seeds=seeds)
    assert list(ev.returns) == returns[0].tolist()  # exactly, float for float
    assert list(ev.lengths) == lengths[0].tolist()
    assert ev.mean == np.mean(ev.returns) and ev.min == min(ev.returns)


def test_python_adapter_equals_numba_rollout(tw, random_controller):
    """The Python loop over gymnasium (used for envs without a numba port) gives the numba
    kernel's returns when pointed at an env that has a port."""
    for env_id in ("Pendulum-v1", "CartPole-v1"):
        ctrl = random_controller(Controller.from_circuit(tw, env_id), seed=2)
        slow = Controller.from_dict(ctrl.to_dict())
        slow.env = dataclasses.replace(slow.env, code=-1)
        thetas = ctrl.decode(np.random.default_rng(0).uniform(size=(3, ctrl.n_free)))
        fast_r, fast_n = rollout(ctrl, [4, 5], thetas)
        slow_r, slow_n = rollout(slow, [4, 5], thetas)
        np.testing.assert_array_equal(slow_r, fast_r)
        np.testing.assert_array_equal(slow_n, fast_n)


def test_training_an_env_without_numba_port(tw):
    result = train(tw, "MountainCar-v0", seed=1, generations=2, popsize=4, episodes=2,
                   validation_episodes=3)  # fmt: skip
    ctrl = result.controller
    assert ctrl.env.code == -1 and ctrl.env.n_actions == 3
    assert result.generations == 2 and len(result.history) == 2
    ev = evaluate(ctrl, seeds=episode_seeds(1, 0, 3))  # the validation episodes
    assert ev.mean == result.score
    assert all(np.isfinite(h["mean"]) for h in result.history)


def test_cartpole_is_solved_by_a_short_run(tw):
    result = train(tw, "CartPole-v1", seed=0, generations=60, target=500.0)
    assert result.reason == "target" and result.score == 500.0
    ev = evaluate(result.controller, episodes=100, seed=0)
    assert ev.mean >= 475.0  # gymnasium's solved threshold for CartPole-v1
    returns, _ = rollout(result.controller, ev.seeds)
    assert returns[0].tolist() == list(ev.returns)
    prov = result.controller.provenance
    assert prov["env"] == "CartPole-v1" and prov["seed"] == 0 and prov["score"] == 500.0


RUN = dict(seed=3, generations=10, episodes=4, validation_episodes=8, popsize=10)


def test_checkpoint_resume_after_kill(tw, tmp_path):
    ckpt = tmp_path / "run.ckpt.json"
    script = (
        "import sys, json\n"
        "import connectome\n"
        "from sim.trainer import train\n"
        "tw = connectome.presets.tap_withdrawal(connectome.load('cook2019'))\n"
        "train(tw, 'MountainCarContinuous-v0', checkpoint=sys.argv[1], **json.loads(sys.argv[2]))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", script, str(ckpt), json.dumps(RUN)], env=env)
    killed_at = None
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        if ckpt.exists():
            gen = json.loads(ckpt.read_text())["generation"]
            if gen >= 2:
                proc.send_signal(signal.SIGKILL)
                killed_at = gen
                break
        time.sleep(0.002)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert killed_at < RUN["generations"]
    resumed = train(tw, "MountainCarContinuous-v0", checkpoint=ckpt, resume=True, **RUN)
    fresh = train(tw, "MountainCarContinuous-v0", **RUN)
    same_run(resumed, fresh)
    final = resumed.controller.to_dict()
    assert final["provenance"].pop("heldout")["episodes"] == 100  # scored after the last save
    assert load_controller(ckpt).to_dict() == final


def test_should_stop_progress_and_resume(tw, tmp_path):
    ckpt, out = tmp_path / "c.json", tmp_path / "best.json"
    calls = []
    stopped = train(
        tw, "Pendulum-v1", checkpoint=ckpt, output=out, progress=lambda *a: calls.append(a),
        should_stop=lambda: len(calls) >= 3, **RUN,
    )  # fmt: skip
    assert stopped.reason == "stopped" and stopped.generations == 3
    assert [c[0] for c in calls] == [1, 2, 3]
    best = [c[1] for c in calls]
    assert best == sorted(best) and best[-1] == stopped.score
    elapsed = [c[3] for c in calls]
    assert elapsed == sorted(elapsed)
    assert load_controller(out).to_dict() == stopped.controller.to_dict()
    resumed = train(tw, "Pendulum-v1", checkpoint=ckpt, resume=True, **RUN)
    fresh = train(tw, "Pendulum-v1", **RUN)
    same_run(resumed, fresh)
    assert resumed.score >= stopped.score


def test_resume_refuses_another_run(tw, tmp_path):
    ckpt = tmp_path / "c.json"
    train(tw, "CartPole-v1", checkpoint=ckpt, **dict(RUN, generations=1))
    with pytest.raises(ControllerError, match="different run.*seed"):
        train(tw, "CartPole-v1", checkpoint=ckpt, resume=True, **dict(RUN, seed=4))


class _NanEnv(gymnasium.Env):
    observation_space = gymnasium.spaces.Box(-1.0, 1.0, (2,))
    action_space = gymnasium.spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, np.float32), {}

    def step(self, action):
        return np.zeros(2, np.float32), float("nan"), False, False, {}


@pytest.mark.filterwarnings("ignore:.*reward is a NaN")
def test_non_finite_fitness_is_an_error(tw):
    if "WormlabNanEnv-v0" not in gymnasium.registry:
        gymnasium.register("WormlabNanEnv-v0", entry_point=_NanEnv, max_episode_steps=5)
    with pytest.raises(SimulationError, match="returned nan"):
        train(tw, "WormlabNanEnv-v0", generations=1, popsize=2, episodes=1)


def test_bad_training_inputs(tw):
    with pytest.raises(ControllerError, match="unknown env id 'NoSuchEnv-v0'"):
        train(tw, "NoSuchEnv-v0")
    with pytest.raises(ControllerError, match="give env_id"):
        train(tw)
    with pytest.raises(ControllerError, match="generations must be"):
        train(tw, "CartPole-v1", generations=0)
    ctrl = Controller.from_circuit(tw, "CartPole-v1")
    with pytest.raises(ControllerError, match="built for CartPole-v1"):
        train(ctrl, "Pendulum-v1")
    with pytest.raises(ControllerError, match="built for CartPole-v1"):
        evaluate(ctrl, "Pendulum-v1", episodes=1)


def test_command_line(tw, tmp_path, capsys):
    parser = build_parser()
    wiring = tmp_path / "tw.json"
    wiring.write_text(connectome.io.to_json(tw))
    out = tmp_path / "ctrl.json"
    common = ["--env", "CartPole-v1", "--episodes", "2", "--popsize", "6", "--quiet"]
    common += ["--validation-episodes", "4", "--output", str(out)]
    args = parser.parse_args(["train", "--circuit", str(wiring), "--generations", "2", *common])
    assert args.func(args) == 0
    first = load_controller(out)
    assert first.provenance["generations"] == 2 and first.neurons == tuple(tw.neurons.index)
    args = parser.parse_args(
        ["train", "--circuit", str(wiring), "--generations", "3", "--resume", *common]
    )
    assert args.func(args) == 0
    assert load_controller(out).provenance["generations"] == 3
    capsys.readouterr()
    args = parser.parse_args(["evaluate", str(out), "--episodes", "3", "--json"])
    assert args.func(args) == 0
    report = json.loads(capsys.readouterr().out)
    ev = evaluate(load_controller(out), episodes=3, seed=0)
    assert report == {"env": "CartPole-v1", "mean": ev.mean, "min": ev.min, "max": ev.max,
                      "episodes": 3}  # fmt: skip
    args = parser.parse_args(["evaluate", str(tmp_path / "missing.json")])
    assert args.func(args) == 2
    assert "error:" in capsys.readouterr().err


def test_restarts_resume_exactly(tw, tmp_path):
    """A stagnating run restarts (same population, its own sampler stream, a new start);
    stopping at any point (also right at a restart) and resuming replays cma exactly."""
    run = dict(RUN, generations=16, popsize=6, restarts=2, patience=2)
    fresh = train(tw, "Pendulum-v1", **run)
    assert len(fresh.restarts) == 2 and fresh.restarts[0] < fresh.restarts[1]
    for start in fresh.restarts:  # no better validation score in the last `patience` gens
        assert fresh.history[start - 2]["best"] == fresh.history[start - 1]["best"]
    ckpt = tmp_path / "r.json"
    for stop_at in (fresh.restarts[0], fresh.restarts[0] + 1, fresh.restarts[1] + 1):
        ckpt.unlink(missing_ok=True)
        done = []
        train(tw, "Pendulum-v1", checkpoint=ckpt, progress=lambda *a, d=done: d.append(a),
              should_stop=lambda d=done, n=stop_at: len(d) >= n, **run)  # fmt: skip
        saved = json.loads(ckpt.read_text())
        assert saved["generation"] == stop_at
        assert [s for s, _ in saved["segments"]][1:] == [r for r in fresh.restarts if r <= stop_at]
        same_run(train(tw, "Pendulum-v1", checkpoint=ckpt, resume=True, **run), fresh)
    # Without restarts the same seed runs on: the first run's generations are the same.
    plain = train(tw, "Pendulum-v1", **dict(run, restarts=0))
    assert plain.restarts == ()
    first = fresh.restarts[0]
    strip = [{k: v for k, v in h.items() if k != "elapsed"} for h in plain.history[:first]]
    assert strip == [{k: v for k, v in h.items() if k != "elapsed"} for h in fresh.history[:first]]
    assert plain.history[first]["mean"] != fresh.history[first]["mean"]


def test_env_defaults_and_old_checkpoints(tw, tmp_path):
    """Pendulum's defaults (larger step size, restarts) are recorded in the checkpoint; a
    checkpoint written before restarts existed (no such keys) still resumes."""
    ckpt = tmp_path / "c.json"
    train(tw, "CartPole-v1", checkpoint=ckpt, **dict(RUN, generations=2))
    d = json.loads(ckpt.read_text())
    assert d["config"]["sigma0"] == 0.25 and d["config"]["restarts"] == 0
    for key in ("restarts", "patience"):
        del d["config"][key]
    del d["segments"]
    ckpt.write_text(json.dumps(d))
    resumed = train(tw, "CartPole-v1", checkpoint=ckpt, resume=True, **dict(RUN, generations=3))
    same_run(resumed, train(tw, "CartPole-v1", **dict(RUN, generations=3)))
    train(tw, "Pendulum-v1", checkpoint=ckpt, **dict(RUN, generations=1))
    cfg = json.loads(ckpt.read_text())["config"]
    assert (cfg["sigma0"], cfg["restarts"], cfg["patience"]) == (0.5, 100, 100)
    # the budget: Pendulum's restarts need more generations than the generic 100
    assert (default_generations("Pendulum-v1"), default_generations("CartPole-v1")) == (300, 100)
    assert build_parser().parse_args(["train", "-o", "x.json"]).generations is None


# ------------------------------------------------------------------ randomised physics
@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_randomised_physics_training(tw, env_id, random_controller, tmp_path):
    """randomise=0 is the run of before; a randomised run trains and selects on episodes
    whose physics the seeds draw (its validation score is what gymnasium gives with those
    parameters set), reports the held-out score on the nominal env, and resumes exactly."""
    run = dict(RUN, generations=3)
    plain = train(tw, env_id, **run)
    same_run(train(tw, env_id, randomise=0.0, **run), plain)
    ckpt = tmp_path / "rand.json"
    rand = train(tw, env_id, randomise=0.4, checkpoint=ckpt, **run)
    assert rand.history != plain.history
    ctrl = rand.controller
    assert ctrl.provenance["randomise"] == 0.4
    val = episode_seeds(run["seed"], 0, run["validation_episodes"])
    assert rollout(ctrl, val, randomise=0.4)[0].mean() == rand.score
    ev = evaluate(ctrl, seeds=val, randomise=0.4)  # gymnasium with the drawn parameters set
    assert ev.mean == rand.score
    test = episode_seeds(run["seed"], 1, 100)
    assert rand.heldout == rollout(ctrl, test)[0].mean()  # the nominal env
    assert rand.heldout == evaluate(ctrl, seeds=test).mean
    # the draws change the returns of a fixed controller
    other = random_controller(Controller.from_circuit(tw, env_id), seed=3)
    assert not np.array_equal(rollout(other, test, randomise=0.4)[0], rollout(other, test)[0])
    # resume: a shorter run continued gives the uninterrupted one; another fraction refuses
    short = tmp_path / "short.json"
    train(tw, env_id, randomise=0.4, checkpoint=short, **dict(run, generations=2))
    same_run(train(tw, env_id, randomise=0.4, checkpoint=short, resume=True, **run), rand)
    with pytest.raises(ControllerError, match="randomise"):
        train(tw, env_id, randomise=0.2, checkpoint=ckpt, resume=True, **run)
    for bad in (-0.1, 0.95, float("nan")):
        with pytest.raises(ControllerError, match="randomise"):
            train(tw, env_id, randomise=bad, **run)
    with pytest.raises(ControllerError, match="randomise"):
        train(tw, "MountainCar-v0", randomise=0.1, **run)  # the Python adapter: no physics


# ----------------------------------------------------------- strengths tied to counts
def test_tied_strengths_are_scale_times_count(tw, tmp_path, capsys):
    """count_prior='tie': one trained scale per synapse kind; each strength is exactly the
    scale times its count, through the same trainer, in the file, and refused otherwise."""
    free = Controller.from_circuit(tw, "CartPole-v1")
    tied = Controller.from_circuit(tw, "CartPole-v1", count_prior="tie")
    chem = np.array([s["weight"] for s in tied.synapses])
    gap = np.array([g["weight"] for g in tied.gaps])
    assert tied.n_free == free.n_free - len(chem) - len(gap) + 2
    result = train(tied, seed=1, generations=4, episodes=2, validation_episodes=4, popsize=8)
    assert result.generations == 4
    ctrl = result.controller
    scales = ctrl.tie_scales
    assert set(scales) == {"chemical", "gap"}
    w, g = ctrl.parameters["w"], ctrl.parameters["gap"]
    assert np.array_equal(w, scales["chemical"] * chem)  # exactly, float for float
    assert np.array_equal(g, scales["gap"] * gap)
    assert scales != tied.tie_scales  # the scales were trained
    start = tied.tie_scales  # the middle of the scale ranges: count_init's point unclipped
    mid = np.sqrt(free.ranges["w"].lo * free.ranges["w"].hi)
    assert np.allclose(start["chemical"] * chem, mid * chem / np.exp(np.log(chem).mean()))
    # the file keeps the tie; a strength that is not scale x count is refused on load
    path = tmp_path / "tied.json"
    ctrl.save(path)
    back = load_controller(path)
    assert back.tie == "counts" and np.array_equal(back.theta, ctrl.theta)
    assert back.n_free == tied.n_free
    d = json.loads(path.read_text())
    assert d["model"]["tie_scales"] == scales
    d["synapses"][3]["w"] *= 1.001
    path.write_text(json.dumps(d))
    with pytest.raises(WiringFormatError, match="scale times its count"):
        load_controller(path)
    # the command line
    out = tmp_path / "cli.json"
    args = build_parser().parse_args(
        ["train", "--env", "CartPole-v1", "--count-prior", "tie", "--generations", "1",
         "--episodes", "2", "--popsize", "4", "--validation-episodes", "2", "--quiet",
         "--output", str(out)]
    )  # fmt: skip
    assert args.func(args) == 0
    assert load_controller(out).tie == "counts"
    capsys.readouterr()
