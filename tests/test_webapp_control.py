"""Circuit and Train pages without a browser: the figure functions (webapp.figures.control)
and the Train page helpers (webapp.training), checked against the connectome layer,
gymnasium and ncps. The Circuit page's state is tested in test_webapp_circuit.py."""

import base64
import json
import math
import os

import gymnasium
import numpy as np
import pytest

import connectome
from connectome import Circuit, io
from connectome.errors import ControllerError, FieldError, WiringFormatError
from sim.control import Controller
from sim.evaluation import evaluate
from webapp import jobs, runs
from webapp import training as training
from webapp.figures import control as figs


@pytest.fixture(scope="module")
def net():
    return connectome.load("cook2019")


@pytest.fixture(scope="module")
def tw(net):
    return connectome.presets.tap_withdrawal(net)


def random_controller(circuit, env_id, seed):
    """A controller with parameters drawn uniformly from its unit cube."""
    ctrl = Controller.from_circuit(circuit, env_id)
    rng = np.random.default_rng(seed)
    return ctrl.with_theta(ctrl.decode(rng.uniform(size=(1, ctrl.n_free)))[0])


def data_url(payload: bytes) -> str:
    return "data:application/json;base64," + base64.b64encode(payload).decode()


# ------------------------------------------------------------------ circuit graph
def _layers(elements):
    nodes = [e for e in elements if "source" not in e["data"]]
    return {e["data"]["id"]: (e["data"]["role"], e["position"]["x"]) for e in nodes}


def test_circuit_elements_are_layered_by_role(tw):
    els = figs.circuit_elements(tw)
    layers = _layers(els)
    assert set(layers) == set(tw.neurons.index)
    assert {n: r for n, (r, _) in layers.items()} == tw.roles
    xs = {role: [x for r, x in layers.values() if r == role] for role in ("sensory", "inter")}
    xs["motor"] = [x for r, x in layers.values() if r == "motor"]
    assert max(xs["sensory"]) < min(xs["inter"]) and max(xs["inter"]) < min(xs["motor"])
    edges = [e for e in els if "source" in e["data"]]
    assert len(edges) == len(tw.edges)
    chem = [e for e in edges if e["data"]["kind"] == "chemical"]
    assert all("exc" in e["classes"].split() for e in chem)  # Cook 2019 TW: all excitatory
    assert sum(e["classes"] == "gap" for e in edges) == (tw.edges["kind"] == "electrical").sum()


def test_circuit_elements_mark_inhibitory_synapses(tw):
    signed = tw.set_sign(["AVA"], -1)
    edges = [e for e in figs.circuit_elements(signed) if "source" in e["data"]]
    for e in edges:
        if e["data"]["kind"] == "chemical":
            expected = "inh" if e["data"]["source"] == "AVA" else "exc"
            assert expected in e["classes"].split(), e
            assert e["data"]["sign"] == (-1 if expected == "inh" else 1)


def test_circuit_elements_from_wiring_dict_match_the_circuit(tw):
    from_circuit = figs.circuit_elements(tw)
    from_dict = figs.circuit_elements(io.to_dict(tw))

    def edge_set(els):
        return {
            (e["data"]["source"], e["data"]["target"], e["classes"], e["data"]["w"])
            for e in els
            if "source" in e["data"]
        }

    assert edge_set(from_circuit) == edge_set(from_dict)
    assert {n: r for n, (r, _) in _layers(from_dict).items()} == tw.roles


def test_trained_elements_show_trained_conductances(tw):
    ctrl = random_controller(tw, "CartPole-v1", seed=1)
    d = ctrl.to_dict()
    els = figs.circuit_elements(d, trained=d)
    chem = [e["data"] for e in els if e["data"].get("kind") == "chemical"]
    by_pair = {(s["pre"], s["post"]): s for s in d["synapses"]}
    assert len(chem) == len(d["synapses"])
    for e in chem:
        s = by_pair[(e["source"], e["target"])]
        assert (e["tw"], e["mu"], e["sigma"]) == (s["w"], s["mu"], s["sigma"])
    order = sorted(chem, key=lambda e: e["tw"])
    widths = [e["wd"] for e in order]
    assert widths == sorted(widths) and widths[0] < widths[-1]
    nodes = {e["data"]["id"]: e["data"] for e in els if "source" not in e["data"]}
    p = ctrl.parameters
    for i, name in enumerate(ctrl.neurons):
        assert nodes[name]["cm"] == p["cm"][i] and nodes[name]["vleak"] == p["vleak"][i]


def test_circuit_stylesheet_colours_signs():
    sheet = figs.circuit_stylesheet(["AVA"])
    styles = {rule["selector"]: rule["style"] for rule in sheet}
    assert styles["edge.inh"]["target-arrow-shape"] == "tee"
    assert styles["edge.exc"]["line-color"] != styles["edge.inh"]["line-color"]
    assert 'node[id = "AVA"]' in styles


def test_stats_figure_counts(tw):
    s = tw.set_sign(["AVD"], -1).summary()
    fig = figs.circuit_stats_figure(s)
    roles, synapses = fig.data
    assert list(roles.x) == [s["sensory"], s["inter"], s["motor"]]
    assert list(synapses.x) == [s["excitatory"], s["inhibitory"], s["electrical"]]
    assert s["inhibitory"] > 0


# ------------------------------------------------------------------ learning curve
def test_learning_curve_traces_follow_history():
    history = [
        {"generation": g, "best": 10.0 * g, "mean": 5.0 * g, "gen_best": 8.0 * g}
        for g in range(1, 6)
    ]
    fig = figs.learning_curve_figure(history, target=50.0)
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["best (validated)"].y) == [10.0 * g for g in range(1, 6)]
    assert list(by_name["generation mean"].y) == [5.0 * g for g in range(1, 6)]
    assert list(by_name["generation best"].x) == list(range(1, 6))
    assert fig.layout.shapes[0].y0 == 50.0
    empty = figs.learning_curve_figure([])
    assert not empty.data and "learning curve" in empty.layout.annotations[0].text


# ------------------------------------------------------------------ episode animations
def test_cartpole_geometry():
    states = np.array([[0.5, 0.0, 0.1, 0.0], [0.6, 0.0, -0.2, 0.0]])
    fig = figs.episode_figure("CartPole-v1", states, rewards=[1.0])
    assert [f.name for f in fig.frames] == ["0", "1"]
    cart, pole, label = fig.frames[1].data
    assert np.allclose(pole.x, [0.6, 0.6 + math.sin(-0.2)])
    assert np.allclose(pole.y, [0.15, 0.15 + math.cos(-0.2)])
    assert np.isclose(np.mean(cart.x[:4]), 0.6)
    assert label.text[0] == "step 1   return 1.0"


def test_acrobot_tip_above_the_line_exactly_when_gymnasium_terminates():
    env = gymnasium.make("Acrobot-v1").unwrapped
    rng = np.random.default_rng(0)
    states = np.zeros((300, 4))
    states[:, :2] = rng.uniform(-np.pi, np.pi, (300, 2))
    fig = figs.episode_figure("Acrobot-v1", states, max_frames=300)
    assert len(fig.frames) == 300
    terminal = []
    for s, frame in zip(states, fig.frames, strict=True):
        env.state = s
        terminal.append(env._terminal())
        assert (frame.data[0].y[2] > 1.0) == terminal[-1], s
    assert 0 < sum(terminal) < 300


def test_pendulum_and_mountain_car_geometry():
    fig = figs.episode_figure("Pendulum-v1", [[0.0, 0.0], [math.pi / 2, 0.0]])
    rod = fig.frames[1].data[0]
    assert np.allclose([rod.x[1], rod.y[1]], [-1.0, 0.0])  # counter-clockwise for theta > 0
    assert np.allclose(fig.frames[0].data[0].y, [0.0, 1.0])  # upright at theta = 0
    fig = figs.episode_figure("MountainCarContinuous-v0", [[-0.5, 0.0], [0.45, 0.01]])
    car = fig.frames[1].data[0]
    centre = (np.mean(car.x[:4]), np.mean(car.y[:4]))
    hill = math.sin(3 * 0.45) * 0.45 + 0.55
    assert abs(centre[0] - 0.45) < 0.06 and 0 < centre[1] - hill < 0.06


def test_episode_figure_subsamples_and_rejects_unknown_envs():
    states = np.zeros((501, 4))
    fig = figs.episode_figure("CartPole-v1", states, max_frames=100)
    names = [int(f.name) for f in fig.frames]
    assert len(names) <= 101 and names[0] == 0 and names[-1] == 500
    assert len(fig.layout.sliders[0].steps) == len(names)
    with pytest.raises(ValueError, match="no animation"):
        figs.episode_figure("LunarLander-v3", states)
    with pytest.raises(ValueError, match="shape"):
        figs.episode_figure("CartPole-v1", [1.0, 2.0])


def test_recorded_episode_matches_gymnasium_evaluation(tw):
    ctrl = random_controller(tw, "Acrobot-v1", seed=2)
    ep = training.record_episode(ctrl, seed=11)
    ev = evaluate(ctrl, seeds=[11])
    assert ep["return"] == ev.returns[0]
    assert len(ep["states"]) == len(ep["rewards"]) + 1 == ev.lengths[0] + 1
    env = gymnasium.make("Acrobot-v1")
    env.reset(seed=11)
    assert np.array_equal(ep["states"][0], np.asarray(env.unwrapped.state, np.float64))
    fig = figs.episode_figure("Acrobot-v1", ep["states"], ep["rewards"])
    assert fig.frames[-1].name == str(len(ep["rewards"]))


# ------------------------------------------------------------------ train page helpers
def test_default_io(net, tw):
    io_ = training.default_io(tw, "CartPole-v1")
    assert io_["input_map"] == "dense" and io_["output_map"] == "difference"
    assert io_["output_neurons"] == ["AVB", "AVA"]
    chemo = connectome.presets.chemotaxis(net)
    assert training.default_io(chemo, "Pendulum-v1")["output_map"] == "dense"
    eight = Circuit.from_neurons(
        net, ["ASEL", "ASER", "AWCL", "AWCR", "AFDL", "AFDR", "ASHL", "ASHR", "AVAL", "AVBL"]
    ).set_roles(motor=["AVAL", "AVBL"])
    io_ = training.default_io(eight, "CartPole-v1")
    assert io_["input_map"] == "pairs"
    assert io_["pairs"] == [[0, "ASEL", "ASER"], [1, "AWCL", "AWCR"], [2, "AFDL", "AFDR"],
                            [3, "ASHL", "ASHR"]]  # fmt: skip
    ctrl = Controller.from_circuit(eight, "CartPole-v1", **training.io_options(io_))
    assert ctrl.input_map["kind"] == "pairs"
    assert "pole angle \u2192 AFDL (+) / AFDR (\u2212)" in training.describe_io(
        eight, "CartPole-v1", io_
    )


def test_io_options_errors():
    with pytest.raises(ControllerError, match="component 1 needs both"):
        training.io_options({"input_map": "pairs", "pairs": [[0, "A", "B"], [1, "C", None]]})
    with pytest.raises(ControllerError, match="at least one"):
        training.io_options({"input_map": "pairs", "pairs": [[0, None, None]]})
    with pytest.raises(ControllerError, match="two motor neurons"):
        training.io_options({"output_map": "difference", "output_neurons": ["AVA", None]})


def test_training_config_errors_name_the_field(tw):
    values = {
        "circuit": "tap_withdrawal", "store_circuit": None, "dataset": "cook2019",
        "env": "CartPole-v1", "seconds": 10, "generations": 5, "target": 500, "episodes": 4,
        "seed": 0, "eval_episodes": 5, "io": training.default_io(tw, "CartPole-v1"),
    }  # fmt: skip
    config = training.training_config(values)
    assert config["wiring"] == io.to_dict(tw) and config["target"] == 500.0
    for key, bad, text in [
        ("seed", -1, "Seed: must be a whole number"),
        ("seconds", "x", "Seconds: 'x' is not a number"),
        ("generations", 2.5, "Generations"),
        ("circuit", "locomotion", "Circuit: no sensory"),
        ("circuit", "current", "Circuit: there is no circuit from the Circuit page"),
        ("env", "os:system", "Environment: pick one of"),
    ]:
        with pytest.raises((ControllerError, WiringFormatError, FieldError), match=text):
            training.training_config({**values, key: bad})


def test_controller_upload_validation(tw):
    ctrl = random_controller(tw, "Pendulum-v1", 3)
    d = ctrl.to_dict()
    back = training.controller_from_upload(data_url(json.dumps(d).encode()))
    assert np.array_equal(back.theta, ctrl.theta) and back.env.env_id == "Pendulum-v1"
    for change, text in [
        (lambda x: x["env"].update(env_id="os:system"), "env.env_id is 'os:system'"),
        (lambda x: x["env"].update(env_id="Acrobot-v1"), "3 observations, gymnasium's has 6"),
        (lambda x: x.update(format="wormlab-wiring"), "circuit wiring file"),
        (lambda x: x.pop("neurons"), "malformed"),
    ]:
        bad = json.loads(json.dumps(d))
        change(bad)
        with pytest.raises((WiringFormatError, ControllerError), match=text):
            training.controller_from_upload(data_url(json.dumps(bad).encode()))
    with pytest.raises(WiringFormatError, match="file too large"):
        training.controller_from_upload(data_url(b" " * (io.MAX_BYTES + 10)))


def test_progress_state():
    value, vmax, text = training.progress_state("CartPole-v1", 3, 10, 100, 60.0, 250.0, 100.0, 30.0)
    assert (value, vmax) == (50, 100)  # the time fraction (30 of 60 s) leads
    assert text.startswith("CartPole-v1, seed 3: generation 10 of at most 100 \u00b7 best 250.0")
    value, _, _ = training.progress_state("CartPole-v1", 3, 80, 100, None, 1.0, 1.0, 99.0, "x")
    assert value == 80


def test_a_cancelled_run_returns_its_best_controller(tw, tmp_path):
    """The training process stops after one generation when the stop mark is there, and its
    best controller is evaluated in gymnasium like a finished run."""
    stop = tmp_path / "stop"
    stop.write_text("stop\n")
    config = {
        "wiring": io.to_dict(tw), "env_id": "CartPole-v1",
        "io": training.default_io(tw, "CartPole-v1"), "seed": 5, "generations": 50,
        "seconds": 60.0, "target": None, "episodes": 2, "eval_episodes": 3,
    }  # fmt: skip
    seen = []
    out = training.run_training(config, seen.append, str(stop))
    assert out["kind"] == "result", out
    assert out["reason"] == "stopped" and out["generations"] == 1
    assert [m["generation"] for m in seen if m["kind"] == "progress"] == [1]
    ctrl = Controller.from_dict(out["controller"])
    ev = evaluate(ctrl, episodes=3, seed=5)
    assert out["evaluation"]["returns"] == list(ev.returns)
    assert out["episode"]["return"] == ev.returns[0]
    assert ctrl.provenance["generations"] == 1 and ctrl.provenance["seed"] == 5
    assert os.path.exists(stop)  # the job, not the worker, removes the stop mark


def test_upload_evaluation_job_matches_gymnasium(tw, random_controller):
    """An uploaded controller is evaluated in a job process exactly as sim.evaluation.evaluate
    evaluates it in this one, with one progress message before the result."""
    ctrl = random_controller(
        training.make_controller(tw, "CartPole-v1", training.default_io(tw, "CartPole-v1")), 7
    )
    seen = []
    out = training.run_evaluation(ctrl.to_dict(), 3, 11, seen.append)
    assert out["kind"] == "result", out
    ev = evaluate(ctrl, episodes=3, seed=11)
    assert out["evaluation"]["returns"] == list(ev.returns)
    assert out["evaluation"]["seeds"] == list(ev.seeds)
    assert out["episode"]["return"] == ev.returns[0]
    assert seen == [{"kind": "phase", "text": "evaluating 3 episodes in gymnasium"}]


def test_a_job_error_is_reported_not_raised():
    bad = training.run_evaluation({"format": "nonsense"}, 1, 0, lambda msg: None)
    assert bad["kind"] == "error" and "not a wormlab controller" in bad["text"]
    with pytest.raises(ControllerError, match="unknown job 'shell'; jobs are train, evaluate"):
        jobs.run_job("shell", {}, lambda msg: None)


def test_check_result_names_the_missing_part():
    good = {
        "source": "uploaded",
        "evaluation": {"env_id": "CartPole-v1", "mean": 1, "min": 1, "max": 1, "episodes": 1},
        "episode": {"env_id": "CartPole-v1", "seed": 0, "states": [], "rewards": [], "return": 1},
        "controller": {"neurons": [{"name": "AVA"}], "synapses": [], "env": {}},
    }
    assert training.check_result(good) is good and training.check_result(None) is None
    for broken, text in [
        ([], "is a list, not a dict"),
        ({**good, "episode": None}, "has no episode"),
        ({**good, "evaluation": {"env_id": "x"}}, "evaluation lacks mean, min, max, episodes"),
        ({**good, "source": "trained"}, "lacks generations, elapsed, score"),
        ({**good, "controller": {**good["controller"], "neurons": [1]}}, "malformed neurons"),
    ]:
        with pytest.raises(WiringFormatError, match=text):
            training.check_result(broken)


@pytest.mark.parametrize(
    "key, bad, message",
    [
        ("seconds", "5000", "Seconds: must be from 1 to 3600 (got 5000)"),
        ("seconds", 0.5, "Seconds: must be from 1 to 3600 (got 0.5)"),
        ("seconds", None, "Seconds: enter a number"),
        ("generations", "0", "Generations: must be a whole number from 1 to 100000 (got 0)"),
        ("episodes", 1000, "Episodes / candidate: must be a whole number from 1 to 100 (got 1000)"),
        ("seed", "-1", "Seed: must be a whole number from 0 to 2147483647 (got -1)"),
        ("target", "nan", "Stop at return: must be a finite number, not nan"),
    ],
)
def test_budget_fields_name_the_value_and_the_range(key, bad, message):
    with pytest.raises(FieldError) as err:
        training.budget_field(key, bad)
    assert str(err.value) == message
    assert training.budget_field("target", "") is None
    assert training.budget_field("seconds", " 60 ") == 60.0


def test_a_recorded_run_keeps_its_state_checkpoint_and_result(tw, tmp_path):
    """A training job given a run folder records itself there: the checkpoint after every
    generation and its result last, so that any request reads its state."""
    folder = runs.run_folder("0" * 32 + "-1", root=str(tmp_path))
    config = {
        "wiring": io.to_dict(tw), "env_id": "CartPole-v1",
        "io": training.default_io(tw, "CartPole-v1"), "seed": 2, "generations": 3,
        "seconds": 600.0, "target": None, "episodes": 2, "eval_episodes": 2,
    }  # fmt: skip
    assert runs.run_status(folder)["state"] == "lost"
    runs.record_start(folder, config)
    assert runs.run_config(folder) == config
    status = runs.run_status(folder)
    assert status["state"] == "lost" and "before its first generation" in status["text"]
    out = training.training_job({**config, "folder": folder}, lambda msg: None, lambda: False)
    status = runs.run_status(folder)
    assert status["state"] == "done" and status["generation"] == 3
    assert [h["generation"] for h in status["history"]] == [1, 2, 3]
    assert status["result"] == {"kind": "result", **out}
    assert status["phase"] == "evaluating in gymnasium"
    plain = training.training_job(config, lambda msg: None, lambda: False)
    assert plain["controller"] == out["controller"] and plain["score"] == out["score"]
    for forged in ["../x", "0" * 32, "0" * 31 + "g-1", None, {"run": 1}]:
        with pytest.raises(ControllerError, match="not valid"):
            runs.run_folder(forged, root=str(tmp_path))
