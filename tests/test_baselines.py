"""Baselines (sim.baselines), priors (sim.priors), the comparison (sim.comparison), training
under observation noise, and the checkpoint's whole-state checks (sim.checkpoint)."""

import json
from collections import Counter

import numpy as np
import pytest

import connectome
from connectome.errors import ControllerError, WiringFormatError
from sim.baselines import (
    BASELINES,
    baseline,
    fully_connected,
    remove_interneurons,
    shuffle_wiring,
)
from sim.cli import main
from sim.comparison import compare, lesion_returns
from sim.control import Controller, load_controller
from sim.evaluation import evaluate, rollout
from sim.kernels import BLOCK_GAP, BLOCK_W
from sim.priors import FORWARD_PATHWAY, REVERSE_PATHWAY
from sim.trainer import train

RUN = dict(seed=3, generations=4, episodes=4, validation_episodes=8, popsize=8, test_episodes=10)


@pytest.mark.parametrize("name", BASELINES)
def test_baselines_train_through_the_trainer_and_replay_in_gymnasium(
    tw, name, tmp_path, random_controller
):
    """Every baseline is a Controller: trained by train(), saved and loaded in the controller
    format, and its numba rollout equals gymnasium's replay exactly (also the static cores)."""
    env_id = "MountainCarContinuous-v0" if name in ("mlp", "shuffled") else "CartPole-v1"
    start = baseline(name, tw, env_id, seed=1)
    out = tmp_path / "c.json"
    result = train(start, output=out, **RUN)
    loaded = load_controller(out)
    assert loaded.to_dict() == result.controller.to_dict()
    assert loaded.core == {"linear": "linear", "mlp": "mlp"}.get(name, "ltc")
    assert result.heldout == loaded.provenance["heldout"]["mean"]
    ctrl = random_controller(start, seed=4)
    seeds = [0, 7, 99]
    returns, lengths = rollout(ctrl, seeds)
    ev = evaluate(ctrl, seeds=seeds)
    assert list(ev.returns) == returns[0].tolist()
    assert list(ev.lengths) == lengths[0].tolist()


def test_linear_and_mlp_cores_against_numpy(tw, random_controller):
    """The linear core computes y = W z + b; the MLP core y = w2 . tanh(W1 z + b1) + b (the
    action: Discrete(2) pushes right iff y > 0; the Box action is tanh(y))."""
    rng = np.random.default_rng(0)
    lin = random_controller(baseline("linear", tw, "CartPole-v1"), seed=1)
    assert lin.n_free == 5
    p = lin.parameters
    for _ in range(50):
        obs = rng.normal(size=4)
        z = (obs - np.array(lin.env.obs_center)) / np.array(lin.env.obs_scale)
        y = float(p["in_w"][0] @ z + p["out_b"][0])
        lin.reset()
        assert lin.act(obs) == int(y > 0)
    mlp = random_controller(baseline("mlp", tw, "MountainCarContinuous-v0"), seed=2)
    p = mlp.parameters
    h = len(mlp.sensory)
    assert mlp.n_free == h * (2 + 2) + 1
    for _ in range(50):
        obs = rng.uniform(-1, 1, size=2)
        z = (obs - np.array(mlp.env.obs_center)) / np.array(mlp.env.obs_scale)
        hidden = np.tanh(p["in_w"] @ z + p["in_b"])
        y = p["w"] @ hidden + p["out_b"][0]
        mlp.reset()
        np.testing.assert_allclose(mlp.act(obs)[0], np.tanh(y), rtol=1e-6)


def test_mlp_parameter_count_matches_the_circuit(tw):
    for env_id in ("CartPole-v1", "Pendulum-v1", "Acrobot-v1"):
        n = Controller.from_circuit(tw, env_id).n_free
        m = baseline("mlp", tw, env_id).n_free
        assert abs(m - n) <= 3 + tw.neurons.shape[0], (env_id, n, m)


def _degrees(edges, kind):
    sub = edges[edges["kind"] == kind]
    if kind == "electrical":
        sub = sub[sub["pre"] != sub["post"]]
        return Counter(list(sub["pre"]) + list(sub["post"]))
    return Counter(sub["pre"]), Counter(sub["post"])


def test_shuffle_preserves_degrees_and_changes_the_wiring(tw):
    a = shuffle_wiring(tw, seed=5)
    b = shuffle_wiring(tw, seed=5)
    c = shuffle_wiring(tw, seed=6)
    assert a.edges.equals(b.edges)  # seeded
    for kind in ("chemical", "electrical"):
        assert _degrees(a.edges, kind) == _degrees(tw.edges, kind)
    chem = tw.edges[tw.edges.kind == "chemical"]

    def pairs(e):
        chem = e[e.kind == "chemical"]
        return set(zip(chem.pre, chem.post, strict=True))

    assert pairs(a.edges) != pairs(tw.edges) and pairs(a.edges) != pairs(c.edges)
    assert len(pairs(a.edges)) == len(chem)  # no duplicates
    # each synapse keeps its presynaptic neuron's counts
    by_pre = lambda e: sorted(  # noqa: E731
        zip(e[e.kind == "chemical"].pre, e[e.kind == "chemical"].weight, strict=True)
    )
    assert by_pre(a.edges) == by_pre(tw.edges)


def test_no_interneurons_and_fully_connected(tw):
    bare = remove_interneurons(tw)
    assert set(bare.neurons["role"]) == {"sensory", "motor"}
    assert not set(bare.edges.pre) & {"AVD", "PVC", "DVA"}
    full = fully_connected(tw, seed=0)
    n = tw.neurons.shape[0]
    assert len(full.edges) == n * n and set(full.edges.kind) == {"chemical"}
    ctrl = baseline("full_ltc", tw, "CartPole-v1", seed=0)
    assert len(ctrl.synapses) == n * n and not ctrl.gaps
    assert sorted(set(ctrl.program_erev.tolist())) == [-1.0, 1.0]


def test_sign_models_set_the_built_reversal_potentials(tw):
    plain = Controller.from_circuit(tw, "CartPole-v1")
    assert plain.program_erev.tolist() == [1.0] * 37  # Glu +1 by default: all excitatory
    wicks = Controller.from_circuit(tw, "CartPole-v1", signs="wicks1996")
    expected = []
    for s in wicks.synapses:
        a = "r" if s["pre"] in REVERSE_PATHWAY else "f" if s["pre"] in FORWARD_PATHWAY else None
        b = "r" if s["post"] in REVERSE_PATHWAY else "f" if s["post"] in FORWARD_PATHWAY else None
        expected.append(-1.0 if a and b and a != b else 1.0)
    order = {(s["pre"], s["post"]): k for k, s in enumerate(wicks.synapses)}
    assert wicks.program_erev.tolist() == expected
    for pre, post, e in [("AVA", "AVB", -1), ("AVB", "AVA", -1), ("AVD", "AVA", 1),
                         ("PLM", "AVD", -1), ("ALM", "PVC", -1), ("PVD", "AVA", 1),
                         ("PVC", "AVB", 1), ("DVA", "PVC", 1)]:  # fmt: skip
        assert wicks.program_erev[order[pre, post]] == e, (pre, post)
    assert wicks.program_erev.tolist().count(-1.0) == 13
    # GABA-only rule on a circuit with GABAergic neurons (DD, VD)
    loc = connectome.presets.locomotion(connectome.load("cook2019"))
    loc = loc.set_roles(sensory=["AVA", "AVB"], motor=["DD", "VD"])
    gaba = Controller.from_circuit(loc, "CartPole-v1", signs="gaba")
    tx = loc.neurons["transmitter"]
    want = [-1.0 if tx[s["pre"]] == "GABA" else 1.0 for s in gaba.synapses]
    assert gaba.program_erev.tolist() == want and -1.0 in want
    with pytest.raises(ControllerError, match="unknown sign model"):
        Controller.from_circuit(tw, "CartPole-v1", signs="wicks")


def test_count_prior_initialises_strengths_from_counts(tw):
    plain = Controller.from_circuit(tw, "CartPole-v1")
    ctrl = Controller.from_circuit(tw, "CartPole-v1", count_prior="init")
    for block, items, group in ((BLOCK_W, ctrl.synapses, "w"), (BLOCK_GAP, ctrl.gaps, "gap")):
        counts = np.array([x["weight"] for x in items])
        mid = np.sqrt(0.01 * 10.0)  # geometric midpoint of the default [0.01, 10] log range
        want = np.clip(mid * counts / np.exp(np.log(counts).mean()), 0.01, 10.0)
        np.testing.assert_allclose(ctrl.parameters[group], want, rtol=1e-12)
        np.testing.assert_allclose(plain.parameters[group], mid, rtol=1e-12)
        sl = slice(ctrl.offsets[block], ctrl.offsets[block + 1])
        np.testing.assert_array_equal(ctrl.theta[sl], ctrl.parameters[group])
    heavy = int(np.argmax([s["weight"] for s in ctrl.synapses]))
    assert ctrl.synapses[heavy]["pre"] == "AVD"  # AVD -> AVA, 167 contacts: the strongest
    assert ctrl.parameters["w"][heavy] == ctrl.parameters["w"].max() > 5.0
    rest = np.ones(ctrl.size, bool)
    rest[ctrl.offsets[BLOCK_W] : ctrl.offsets[BLOCK_W + 1]] = False
    rest[ctrl.offsets[BLOCK_GAP] : ctrl.offsets[BLOCK_GAP + 1]] = False
    np.testing.assert_array_equal(ctrl.theta[rest], plain.theta[rest])


def test_observation_noise_in_kernel_equals_gymnasium_replay(tw, random_controller):
    from sim.envs import make_gym_env
    from sim.evaluation import observation_noise, play_episode

    ctrl = random_controller(Controller.from_circuit(tw, "Pendulum-v1"), seed=3)
    seeds = [1, 2]
    clean = rollout(ctrl, seeds)[0]
    np.testing.assert_array_equal(rollout(ctrl, seeds, None, 0.0, 5)[0], clean)
    noisy = rollout(ctrl, seeds, None, 0.3, 5)[0]
    assert not np.array_equal(noisy, clean)
    noise = observation_noise(ctrl, 2, 0.3, 5)
    env = make_gym_env("Pendulum-v1")
    replay = [play_episode(env, ctrl.with_theta(ctrl.theta), s, noise[e])[0]
              for e, s in enumerate(seeds)]  # fmt: skip
    assert replay == noisy[0].tolist()
    quiet = train(tw, "CartPole-v1", **RUN)
    loud = train(tw, "CartPole-v1", obs_noise=0.5, **RUN)
    assert loud.controller.provenance["obs_noise"] == 0.5
    assert [h["mean"] for h in quiet.history] != [h["mean"] for h in loud.history]


def test_lesions_and_compare_tables(tw, tmp_path):
    ctrl = Controller.from_circuit(tw, "CartPole-v1")
    seeds = [0, 1, 2]
    les = lesion_returns(ctrl, seeds)
    assert list(les) == list(ctrl.neurons)
    res = compare(tw, "CartPole-v1", seeds=[0], baselines=["circuit", "linear"],
                  generations=2, test_episodes=5, lesion_episodes=3, output=tmp_path,
                  popsize=6, episodes=2, validation_episodes=4)  # fmt: skip
    assert list(res.summary["baseline"]) == ["circuit", "linear"]
    assert res.summary.loc[1, "params"] == 5
    assert set(res.lesions["neuron"]) == set(ctrl.neurons)  # lesions of the circuit only
    assert set(res.lesions["baseline"]) == {"circuit"}
    for f in res.files.values():
        assert (tmp_path / f).exists() if not str(f).startswith("/") else True
    ctrl0 = load_controller(res.runs.loc[0, "file"])
    assert ctrl0.provenance["heldout"]["mean"] == res.runs.loc[0, "heldout"]


def test_compare_command_writes_its_table(tmp_path, capsys):
    out = tmp_path / "cmp"
    code = main(["compare", "--preset", "tap_withdrawal", "--env", "CartPole-v1", "--seeds", "1",
                 "--generations", "2", "--popsize", "6", "--episodes", "2",
                 "--test-episodes", "5", "--quiet", "-o", str(out)])  # fmt: skip
    assert code == 0
    import pandas as pd

    table = pd.read_csv(out / "summary.csv")
    assert list(table["baseline"]) == list(BASELINES)
    assert (out / "comparison.html").exists() and (out / "lesions.csv").exists()
    assert "heldout_mean" in capsys.readouterr().out
    assert main(["compare", "--env", "CartPole-v1", "--baselines", "nope", "-o", str(out)]) == 2


# ------------------------------------------------------------------------------ checkpoints

CKPT_RUN = dict(seed=2, episodes=2, validation_episodes=4, popsize=6, test_episodes=0)


@pytest.fixture(scope="module")
def checkpoint_text(tw, tmp_path_factory):
    path = tmp_path_factory.mktemp("ck") / "c.json"
    train(tw, "CartPole-v1", checkpoint=path, generations=3, **CKPT_RUN)
    return path.read_text()


def _corrupt(d, kind):
    if kind == "fitness_nan":
        d["fitness"][1][2] = float("nan")
    elif kind == "fitness_short":
        d["fitness"][0] = d["fitness"][0][:-1]
    elif kind == "fitness_string":
        d["fitness"][2][0] = "x"
    elif kind == "fitness_changed":  # finite, outside the top mu: the replay must notice
        worst = int(np.argmax(d["fitness"][1]))
        d["fitness"][1][worst] += 1.0
    elif kind == "fitness_rows":
        d["fitness"] = d["fitness"][:2]
    elif kind == "history_missing":
        d["history"] = d["history"][:-1]
    elif kind == "history_inf":
        d["history"][0]["mean"] = float("inf")
    elif kind == "history_not_dict":
        d["history"][1] = 5
    elif kind == "best_score":
        d["best_info"]["score"] = 1e9
    elif kind == "best_score_both":  # history agrees with the fake: re-scoring catches it
        d["best_info"]["score"] = 1e9
        d["history"][-1]["best"] = 1e9
    elif kind == "best_score_null":
        d["best_info"]["score"] = None
    elif kind == "mean_nan":
        d["mean"][0] = float("nan")
    elif kind == "optimiser_sigma":
        d["optimiser"]["sigma"] *= 1.0000001
    elif kind == "optimiser_missing":
        del d["optimiser"]
    elif kind == "generation":
        d["generation"] = "3"
    elif kind == "elapsed":
        d["elapsed"] = None
    return d


KINDS = ["fitness_nan", "fitness_short", "fitness_string", "fitness_changed", "fitness_rows",
         "history_missing", "history_inf", "history_not_dict", "best_score", "best_score_both",
         "best_score_null", "mean_nan", "optimiser_sigma", "optimiser_missing", "generation",
         "elapsed"]  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_corrupted_checkpoint_is_refused(tw, tmp_path, checkpoint_text, kind):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(_corrupt(json.loads(checkpoint_text), kind)))
    with pytest.raises((WiringFormatError, ControllerError)) as info:
        train(tw, "CartPole-v1", checkpoint=path, resume=True, generations=4, **CKPT_RUN)
    assert "checkpoint" in str(info.value)
    # and on the command line: a one-line error, exit code 2, no traceback
    code = main(["train", "--env", "CartPole-v1", "--seed", "2", "--episodes", "2",
                 "--validation-episodes", "4", "--popsize", "6", "--generations", "4",
                 "--checkpoint", str(path), "--resume", "--quiet",
                 "-o", str(tmp_path / "o.json")])  # fmt: skip
    assert code == 2


def test_resume_equals_uninterrupted_on_the_whole_optimiser_state(tw, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    train(tw, "CartPole-v1", checkpoint=a, generations=2, **CKPT_RUN)
    resumed = train(tw, "CartPole-v1", checkpoint=a, resume=True, generations=5, **CKPT_RUN)
    fresh = train(tw, "CartPole-v1", checkpoint=b, generations=5, **CKPT_RUN)
    da, db = json.loads(a.read_text()), json.loads(b.read_text())
    for key in ("optimiser", "mean", "fitness", "segments", "best", "best_info", "generation"):
        assert da[key] == db[key], key
    assert set(da["optimiser"]) == {"mean", "sigma", "countiter", "C", "pc", "ps", "fitness"}
    assert da["optimiser"]["countiter"] == 5
    np.testing.assert_array_equal(resumed.controller.theta, fresh.controller.theta)
    strip = lambda h: [{k: v for k, v in x.items() if k != "elapsed"} for x in h]  # noqa: E731
    assert strip(da["history"]) == strip(db["history"])
