"""Controllers (sim.control): wiring, the controller step against a NumPy reference, the unit
cube, save/load, and clear errors for bad inputs."""

import json
import math

import gymnasium
import numpy as np
import pytest

from connectome.errors import ControllerError, WiringFormatError
from sim.control import Controller, load_controller
from sim.ranges import DEFAULT_RANGES, ParamRange


def reference_step(ctrl, obs, v):
    """A slow, obvious NumPy version of one controller step (loops over named synapses)."""
    p = ctrl.parameters
    idx = {x: i for i, x in enumerate(ctrl.neurons)}
    n = len(ctrl.neurons)
    z = (np.asarray(obs, float) - np.array(ctrl.env.obs_center)) / np.array(ctrl.env.obs_scale)
    current = np.zeros(n)
    for i, x in enumerate(ctrl.sensory):
        current[idx[x]] = p["in_b"][i]
    if ctrl.input_map["kind"] == "dense":
        for i, x in enumerate(ctrl.sensory):
            current[idx[x]] += p["in_w"][i] @ z
    else:
        for k, (j, pos, neg) in enumerate(ctrl.input_map["pairs"]):
            current[idx[pos]] += p["in_gain"][k] * max(z[j], 0.0)
            current[idx[neg]] += p["in_gain"][k] * max(-z[j], 0.0)
    h = ctrl.dt / ctrl.unfolds
    v = np.array(v, float)
    for _ in range(ctrl.unfolds):
        old = v.copy()
        num = p["cm"] / h * old + p["gleak"] * p["vleak"] + current
        den = p["cm"] / h + p["gleak"]
        for k, s in enumerate(ctrl.synapses):
            with np.errstate(over="ignore"):
                e = np.exp(-p["sigma"][k] * (old[idx[s["pre"]]] - p["mu"][k]))
            a = p["w"][k] / (1 + e)
            num[idx[s["post"]]] += a * (1.0 if s["sign"] > 0 else -1.0)
            den[idx[s["post"]]] += a
        for k, g in enumerate(ctrl.gaps):
            a, b = idx[g["a"]], idx[g["b"]]
            num[a] += p["gap"][k] * old[b]
            den[a] += p["gap"][k]
            num[b] += p["gap"][k] * old[a]
            den[b] += p["gap"][k]
        v = num / (den + 1e-8)
    if ctrl.output_map["kind"] == "difference":
        a, b = ctrl.output_map["neurons"]
        y = np.array([p["out_gain"][0] * (v[idx[a]] - v[idx[b]]) + p["out_b"][0]])
    else:
        y = p["out_w"] @ np.array([v[idx[x]] for x in ctrl.motor]) + p["out_b"]
    env = ctrl.env
    if env.discrete:
        if ctrl.output_map["kind"] == "dense":
            return int(np.argmax(y)), v, y
        return min(int(np.floor((np.tanh(y[0]) + 1) / 2 * env.n_actions)), env.n_actions - 1), v, y
    lo, hi = np.array(env.action_low), np.array(env.action_high)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        return y, v, y  # an unbounded Box: the output itself
    return (lo + hi) / 2 + (hi - lo) / 2 * np.tanh(y), v, y


def test_wiring_from_the_tap_withdrawal_circuit(tw):
    ctrl = Controller.from_circuit(tw, "CartPole-v1")
    assert ctrl.neurons == tuple(tw.neurons.index)
    assert ctrl.sensory == ("PLM", "AVM", "ALM", "PVD")
    assert ctrl.motor == ("AVA", "AVB")
    chem = tw.edges[tw.edges.kind == "chemical"]
    expected = {(r.pre, r.post): r.weight for r in chem.itertuples()}
    assert {(s["pre"], s["post"]): s["weight"] for s in ctrl.synapses} == expected
    posts = [ctrl.neurons.index(s["post"]) for s in ctrl.synapses]
    assert posts == sorted(posts)  # CSR order
    gap = tw.edges[(tw.edges.kind == "electrical") & (tw.edges.pre != tw.edges.post)]
    assert {frozenset((g["a"], g["b"])) for g in ctrl.gaps} == {
        frozenset((r.pre, r.post)) for r in gap.itertuples()
    }
    # AVB - AVA (forward minus reverse) is the default difference output
    assert ctrl.output_map == {"kind": "difference", "neurons": ["AVB", "AVA"]}
    m, g, n = len(ctrl.synapses), len(ctrl.gaps), len(ctrl.neurons)
    assert ctrl.size == 3 * m + g + 3 * n + 4 * 4 + 4 + 2


CASES = [
    ("CartPole-v1", {}),
    ("CartPole-v1", {"output_map": "dense"}),
    ("CartPole-v1", {"input_map": "pairs", "pairs": {2: ("PLM", "ALM"), 3: ("AVM", "PVD")}}),
    ("MountainCarContinuous-v0", {"input_map": "pairs"}),
    ("Pendulum-v1", {"output_map": "dense"}),
    ("Acrobot-v1", {}),
    ("Acrobot-v1", {"output_map": "dense"}),
]


@pytest.mark.parametrize(("env_id", "options"), CASES)
def test_step_matches_numpy_reference(tw, env_id, options, random_controller):
    ctrl = random_controller(Controller.from_circuit(tw, env_id, **options), seed=3)
    rng = np.random.default_rng(4)
    env = gymnasium.make(env_id)
    ctrl.reset()
    v = np.zeros(len(ctrl.neurons))
    for step in range(60):
        obs = env.observation_space.sample() if step % 2 else rng.normal(size=ctrl.env.obs_dim)
        action = ctrl.act(obs)
        ref_action, v, _ = reference_step(ctrl, obs, v)
        np.testing.assert_allclose(ctrl.v, v, rtol=1e-12, atol=1e-13, err_msg=f"step {step}")
        if ctrl.env.discrete:
            assert action == ref_action, f"step {step}"
        else:
            assert action.dtype == np.float32  # the action space's dtype, sent to gymnasium
            np.testing.assert_allclose(action, ref_action, rtol=1e-6, err_msg=f"step {step}")
    assert np.ptp(ctrl.v) > 1e-3  # the potentials moved


def test_unit_cube_decoding(tw):
    ranges = {"cm": ParamRange(0.5, 0.5), "w": [0.01, 10.0, "log"], "mu": [-2, 2, "lin"]}
    ctrl = Controller.from_circuit(tw, "CartPole-v1", ranges=ranges)
    n, m = len(ctrl.neurons), len(ctrl.synapses)
    assert ctrl.n_free == ctrl.size - n  # cm fixed
    x = np.zeros((3, ctrl.n_free))
    x[1] = 1.0
    x[2] = 0.5
    th = ctrl.decode(x)
    w, mu = slice(0, m), slice(m, 2 * m)
    np.testing.assert_allclose(th[0, w], 0.01, rtol=1e-14)
    np.testing.assert_allclose(th[1, w], 10.0, rtol=1e-14)
    np.testing.assert_allclose(th[2, w], math.sqrt(0.1), rtol=1e-14)
    np.testing.assert_array_equal(th[:, mu], [[-2.0] * m, [2.0] * m, [0.0] * m])
    cm = slice(ctrl.offsets[4], ctrl.offsets[5])
    np.testing.assert_array_equal(th[:, cm], 0.5)
    # outside the cube: clipped
    np.testing.assert_array_equal(ctrl.decode(x * 3 - 1), ctrl.decode(np.clip(x * 3 - 1, 0, 1)))
    # to_unit inverts decode
    c2 = ctrl.with_theta(th[2])
    np.testing.assert_allclose(c2.to_unit(), 0.5, atol=1e-12)
    assert set(DEFAULT_RANGES) >= {"w", "mu", "sigma", "gap", "cm", "gleak", "vleak"}


@pytest.mark.parametrize(("env_id", "options"), [CASES[0], CASES[3], CASES[4], CASES[6]])
def test_save_and_load_give_the_same_actions(tw, tmp_path, env_id, options, random_controller):
    ctrl = random_controller(Controller.from_circuit(tw, env_id, **options), seed=7)
    ctrl = ctrl.with_theta(ctrl.theta, provenance={"env": env_id, "seed": 7, "score": 1.5})
    path = tmp_path / "ctrl.json"
    ctrl.save(path)
    back = load_controller(path)
    np.testing.assert_array_equal(back.theta, ctrl.theta)
    assert back.to_dict() == ctrl.to_dict()
    d = json.loads(path.read_text())
    assert d["env"]["env_id"] == env_id and d["provenance"]["seed"] == 7
    assert {s["pre"] for s in d["synapses"]} <= set(ctrl.neurons)
    assert d["input_map"]["kind"] == ctrl.input_map["kind"]
    # the same actions along a gymnasium episode, each controller as the policy
    env = gymnasium.make(env_id)
    obs, _ = env.reset(seed=11)
    ctrl.reset()
    back.reset()
    for step in range(100):
        a, b = ctrl.act(obs), back.act(obs)
        assert np.array_equal(a, b), f"step {step}"
        obs, _, term, trunc, _ = env.step(a)
        if term or trunc:
            break


def test_unknown_env_id_is_a_clear_error(tw):
    with pytest.raises(ControllerError, match="unknown env id 'CartPol-v1'"):
        Controller.from_circuit(tw, "CartPol-v1")


def test_circuit_without_sensory_or_motor_neurons(tw):
    with pytest.raises(ControllerError, match="no sensory neurons"):
        Controller.from_circuit(tw.set_roles(sensory=[]), "CartPole-v1")
    with pytest.raises(ControllerError, match="no motor neurons"):
        Controller.from_circuit(tw.set_roles(motor=[]), "CartPole-v1")


def test_observation_size_must_match_the_input_map(tw):
    ctrl = Controller.from_circuit(tw, "CartPole-v1")
    with pytest.raises(ControllerError, match="observation has 3 components.*expects 4"):
        ctrl.act(np.zeros(3))
    with pytest.raises(ControllerError, match="not finite"):
        ctrl.act([0.0, np.nan, 0.0, 0.0])


def test_bad_io_maps(tw):
    with pytest.raises(ControllerError, match="two sensory neurons per observation"):
        Controller.from_circuit(tw, "CartPole-v1", input_map="pairs")
    with pytest.raises(ControllerError, match="not a sensory neuron"):
        Controller.from_circuit(tw, "CartPole-v1", input_map="pairs", pairs={0: ("PLM", "AVA")})
    with pytest.raises(ControllerError, match="component 7"):
        Controller.from_circuit(tw, "CartPole-v1", input_map="pairs", pairs={7: ("PLM", "ALM")})
    with pytest.raises(ControllerError, match="not a motor neuron"):
        Controller.from_circuit(
            tw, "CartPole-v1", output_map="difference", output_neurons=("AVB", "AVD")
        )
    with pytest.raises(ControllerError, match="input_map must be"):
        Controller.from_circuit(tw, "CartPole-v1", input_map="sparse")
    with pytest.raises(ControllerError, match="log-scale range"):
        Controller.from_circuit(tw, "CartPole-v1", ranges={"w": [0.0, 1.0, "log"]})
    with pytest.raises(ControllerError, match="unknown parameter group 'tau'"):
        Controller.from_circuit(tw, "CartPole-v1", ranges={"tau": [0.1, 1.0, "log"]})


def test_malformed_controller_files(tw, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(WiringFormatError, match="not valid JSON"):
        load_controller(bad)
    bad.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(WiringFormatError, match="not a wormlab controller"):
        load_controller(bad)
    d = Controller.from_circuit(tw, "CartPole-v1").to_dict()
    del d["synapses"][0]["mu"]
    bad.write_text(json.dumps(d))
    with pytest.raises(WiringFormatError, match="malformed"):
        load_controller(bad)


class _UnboundedPush(gymnasium.Env):
    """A point pushed by an unbounded force: x' = x + 0.1 a; observation x, reward -x^2."""

    observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (1,), np.float64)
    action_space = gymnasium.spaces.Box(-np.inf, np.inf, (2,), np.float64)

    def __init__(self, render_mode=None):
        self.render_mode = render_mode

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x = float(self.np_random.uniform(-1, 1))
        return np.array([self.x]), {}

    def step(self, action):
        self.x += 0.1 * float(action[0] - action[1])
        return np.array([self.x]), -(self.x**2), False, False, {}


UNBOUNDED = "wormlab-test/UnboundedPush-v0"
if UNBOUNDED not in gymnasium.registry:
    gymnasium.register(UNBOUNDED, entry_point=_UnboundedPush, max_episode_steps=30)


def test_unbounded_box_actions_are_the_raw_output(tw, random_controller):
    """An unbounded Box action is y itself (no tanh squashing), through the Python adapter."""
    ctrl = random_controller(Controller.from_circuit(tw, UNBOUNDED), seed=5)
    assert ctrl.env.code == -1 and ctrl.env.act_dim == 2
    assert ctrl.env.action_low == (-math.inf, -math.inf) and ctrl.env.obs_scale == (1.0,)
    assert ctrl.output_map["kind"] == "dense"  # two action components
    big = ctrl.with_theta(np.where(np.arange(ctrl.size) >= ctrl.offsets[-3], 50.0, ctrl.theta))
    for c in (ctrl, big):
        c.reset()
        v = np.zeros(len(c.neurons))
        for step in range(20):
            obs = [np.sin(step)]
            action = c.act(obs)
            ref_action, v, y = reference_step(c, obs, v)
            assert action.dtype == np.float64
            np.testing.assert_allclose(action, y, rtol=1e-12, atol=1e-12, err_msg=f"{step}")
            np.testing.assert_allclose(action, ref_action, rtol=1e-12, atol=1e-12)
    assert np.abs(action).max() > 10.0  # large weights: far outside any tanh range
    from sim.evaluation import evaluate

    ev = evaluate(ctrl, seeds=[0, 1])
    assert ev.lengths == (30, 30) and all(np.isfinite(ev.returns))


def test_file_synapses_must_be_in_compiled_order(tw):
    """A controller file's synapse list is the theta order: it must be the compiler's order,
    each synapse once, and gap junctions once per pair."""
    d = Controller.from_circuit(tw, "CartPole-v1").to_dict()
    Controller.from_dict(json.loads(json.dumps(d)))  # as written: fine
    swapped = json.loads(json.dumps(d))
    swapped["synapses"][0], swapped["synapses"][1] = swapped["synapses"][1], swapped["synapses"][0]
    with pytest.raises(WiringFormatError, match="ordered by postsynaptic neuron"):
        Controller.from_dict(swapped)
    twice = json.loads(json.dumps(d))
    twice["gaps"].append(dict(twice["gaps"][0], pre=twice["gaps"][0]["post"],
                              post=twice["gaps"][0]["pre"]))  # fmt: skip
    with pytest.raises(WiringFormatError, match="listed twice"):
        Controller.from_dict(twice)
    own = json.loads(json.dumps(d))
    own["gaps"][0]["post"] = own["gaps"][0]["pre"]
    with pytest.raises(WiringFormatError, match="itself"):
        Controller.from_dict(own)
