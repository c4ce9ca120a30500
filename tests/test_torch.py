"""The torch twin (sim.torch): equal to the numba controller step, differentiable, round trips
with wormlab controller files and with the real ncps, and BPTT fitting."""

import json
import math
import os
import subprocess
import sys

import ncps.torch
import ncps.wirings
import numpy as np
import pytest
import torch

from connectome.errors import ControllerError, WiringFormatError
from sim.control import Controller
from sim.envs import EnvSpec, env_info
from sim.torch import (
    CircuitModule,
    fit,
    from_ncps,
    load_ncps,
    ncps_names,
    save_ncps,
    to_ncps,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def box_env(obs_dim, act_dim, bounded=True):
    """A Box-action env description whose actions stay float64 (exact comparisons)."""
    hi = 2.0 if bounded else math.inf
    return EnvSpec(
        env_id="test-box", code=-1, obs_dim=obs_dim, obs_center=(0.5,) * obs_dim,
        obs_scale=(2.0,) * obs_dim, discrete=False, n_actions=0, action_low=(-hi,) * act_dim,
        action_high=(hi,) * act_dim, max_steps=100, action_dtype="float64",
    )  # fmt: skip


def random_controller(seed, *, n=12, n_sens=4, n_mot=2, gaps=True, env=None, **options):
    """A controller on a random circuit, its parameters drawn from the unit cube."""
    rng = np.random.default_rng(seed)
    names = [f"N{i}" for i in range(n)]
    roles = ["sensory"] * n_sens + ["inter"] * (n - n_sens - n_mot) + ["motor"] * n_mot
    syn = []
    for post in range(n):
        for pre in range(n):
            if rng.uniform() < 0.3:
                sign = int(rng.choice([-1, 1]))
                syn.append({"pre": names[pre], "post": names[post], "sign": sign, "weight": 1.0})
    gap = []
    if gaps:
        for a in range(n):
            for b in range(a + 1, n):
                if rng.uniform() < 0.15:
                    gap.append({"a": names[a], "b": names[b], "weight": 1.0})
    env = env or env_info("CartPole-v1")
    imap = {"kind": options.get("input_map", "dense"), "drive": options.get("drive", "current")}
    if imap["kind"] == "pairs":
        imap["pairs"] = [[j, names[2 * j], names[2 * j + 1]] for j in range(n_sens // 2)]
    omap = {"kind": options.get("output_map", "dense")}
    if omap["kind"] == "difference":
        omap["neurons"] = names[n - n_mot : n - n_mot + 2]
    ctrl = Controller(names, roles, syn, gap, env, imap, omap, None, dt=options.get("dt", 1.0))
    return ctrl.with_theta(ctrl.decode(rng.uniform(size=(1, ctrl.n_free)))[0])


def numba_rollout(ctrl, obs):
    """Potentials (B, T, n) and actions (B, T, act) of Controller.act (the numba step)."""
    vs, acts = np.zeros(obs.shape[:2] + (len(ctrl.neurons),)), []
    for b in range(obs.shape[0]):
        ctrl.reset()
        row = []
        for t in range(obs.shape[1]):
            row.append(np.atleast_1d(ctrl.act(obs[b, t])).astype(np.float64))
            vs[b, t] = ctrl.v
        acts.append(row)
    return vs, np.array(acts)


CASES = [
    dict(gaps=False),
    dict(gaps=True),
    dict(gaps=True, output_map="difference"),
    dict(gaps=True, input_map="pairs"),
    dict(gaps=True, drive="clamp"),
    dict(gaps=False, input_map="pairs", drive="clamp", output_map="difference"),
    dict(gaps=True, env=box_env(3, 2), dt=0.37),
    dict(gaps=True, env=box_env(3, 2, bounded=False), drive="clamp"),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_module_equals_the_numba_kernel_over_long_rollouts(case):
    options = dict(CASES[case])
    ctrl = random_controller(case, **options)
    module = CircuitModule(ctrl)
    rng = np.random.default_rng(100 + case)
    obs = rng.normal(size=(3, 2000, ctrl.env.obs_dim))
    with torch.no_grad():
        y, v = module(torch.from_numpy(obs))
        act = module.action(y)
    ref_v, ref_act = numba_rollout(ctrl, obs)
    # 1e-12, relative to the potential where it exceeds 1 (random circuits reach |v| ~ 1e3,
    # where one unit in the last place is 2e-13)
    worst = (np.abs(v.numpy() - ref_v) / np.maximum(1.0, np.abs(ref_v))).max(axis=(0, 2))
    bad = np.flatnonzero(worst > 1e-12)
    assert bad.size == 0, f"step {bad[:1]}: potentials differ by {worst.max():.2e} (relative)"
    assert np.ptp(ref_v[:, -500:]) > 1e-2  # still moving at the end: not a trivial fixed point
    if ctrl.env.discrete:
        np.testing.assert_array_equal(act.numpy()[..., None], ref_act)
    else:
        np.testing.assert_allclose(act.numpy(), ref_act, rtol=0, atol=1e-12)


def test_batch_items_are_independent():
    ctrl = random_controller(1)
    module = CircuitModule(ctrl)
    obs = torch.from_numpy(np.random.default_rng(0).normal(size=(5, 40, 4)))
    with torch.no_grad():
        y, v = module(obs)
        for b in range(5):
            yb, vb = module(obs[b : b + 1])
            # the same numbers up to summation order (matmul kernels depend on the batch size)
            torch.testing.assert_close(vb[0], v[b], rtol=0, atol=1e-13, msg=f"batch item {b}")


@pytest.mark.parametrize(
    "options",
    [dict(env=box_env(2, 2)), dict(input_map="pairs", output_map="difference", drive="clamp")],
)
def test_gradients_reach_every_trained_parameter_and_match_finite_differences(options):
    options = {"env": box_env(2, 1), **options}
    ctrl = random_controller(2, n=6, n_sens=2, gaps=True, **options)
    module = CircuitModule(ctrl)
    obs = torch.from_numpy(np.random.default_rng(1).normal(size=(2, 6, 2)))

    def loss():
        y, v = module(obs)
        return (module.action(y) ** 2).sum() + (v**2).sum()

    module.zero_grad()
    loss().backward()
    for group, p in module.trained().items():
        assert p.grad is not None and torch.all(torch.isfinite(p.grad)), group
        assert p.grad.abs().max() > 0, f"no gradient reaches {group}"
        # central differences on a few entries of each group
        flat = p.data.view(-1)
        for k in range(min(3, flat.numel())):
            old = float(flat[k])
            with torch.no_grad():
                flat[k] = old + 1e-6
                up = float(loss())
                flat[k] = old - 1e-6
                down = float(loss())
                flat[k] = old
            fd = (up - down) / 2e-6
            assert abs(p.grad.view(-1)[k] - fd) <= 1e-5 * max(1.0, abs(fd)), (group, k)


def test_parameters_follow_the_controller_ranges():
    ctrl = random_controller(3, ranges=None)
    ctrl = Controller(
        ctrl.neurons, ctrl.roles, ctrl.synapses, ctrl.gaps, ctrl.env, ctrl.input_map,
        ctrl.output_map, {"cm": [0.5, 0.5, "lin"]},
    )  # fmt: skip
    module = CircuitModule(ctrl)
    assert not module.cm.requires_grad  # a fixed range is not trained
    assert set(module.trained()) == set(ctrl.group_names) - {"cm"}
    # log-scale groups are stored as logs
    np.testing.assert_allclose(module.w.detach().numpy(), np.log(ctrl.parameters["w"]))
    with torch.no_grad():
        module.w.fill_(50.0)
        module.mu.fill_(-7.0)
    module.project_()
    np.testing.assert_allclose(module.physical("w").detach().numpy(), 10.0, rtol=1e-15)
    np.testing.assert_array_equal(module.mu.detach().numpy(), -1.0)


@pytest.mark.parametrize("case", range(len(CASES)))
def test_controller_module_controller_round_trip(case, tmp_path):
    ctrl = random_controller(case, **CASES[case])
    back = CircuitModule(ctrl).to_controller()
    assert np.abs(back.theta - ctrl.theta).max() <= 1e-12 * np.abs(ctrl.theta).max()
    a, b = ctrl.to_dict(), back.to_dict()
    assert json.loads(json.dumps(a)).keys() == b.keys()
    for key in a:
        if key not in ("neurons", "synapses", "gaps", "input_map", "output_map"):
            assert a[key] == b[key], key
    ctrl.save(tmp_path / "a.json")
    back.save(tmp_path / "b.json")
    np.testing.assert_allclose(
        Controller.load(tmp_path / "b.json").theta, ctrl.theta, rtol=1e-14, atol=0
    )


def test_importing_sim_never_imports_torch():
    code = (
        "import sys, sim, sim.control, sim.trainer, sim.evaluation, sim.cli, connectome\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "assert 'ncps' not in sys.modules, 'ncps imported'\n"
    )
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


# ----------------------------------------------------------------------------- ncps


def custom_wiring():
    """A small hand-made ncps wiring with recurrent, self and mixed-sign synapses."""
    w = ncps.wirings.Wiring(5)
    for s, d, pol in [
        (2, 0, 1),
        (3, 0, -1),
        (1, 2, 1),
        (2, 3, 1),
        (3, 1, -1),
        (0, 0, 1),
        (4, 1, 1),
    ]:
        w.add_synapse(s, d, pol)
    w.build(3)
    for s, d, pol in [(0, 1, 1), (1, 1, -1), (1, 2, 1), (2, 4, -1), (0, 3, 1)]:
        w.add_sensory_synapse(s, d, pol)
    w.set_output_dim(2)
    return w


WIRINGS = {
    "custom": (custom_wiring, 3),
    "AutoNCP": (lambda: ncps.wirings.AutoNCP(12, 3, seed=5), 4),
    "FullyConnected": (lambda: ncps.wirings.FullyConnected(6, 2), 3),
}


def trained_ncps(wiring, n_in, implicit, cell=False, seed=0):
    """An ncps LTC (or its cell) with every trainable parameter moved off its initial value,
    erev included (ncps trains it), float64."""
    torch.manual_seed(seed)
    ltc = ncps.torch.LTC(n_in, wiring(), implicit_param_constraints=implicit).double()
    c = ltc.rnn_cell
    with torch.no_grad():
        for name, p in c.named_parameters():
            if not p.requires_grad:
                continue
            if name in ("erev", "sensory_erev"):
                p.mul_(0.6 + 0.4 * torch.rand_like(p))  # trained away from +-1, within [-1, 1]
            elif name in ("input_w", "output_w", "input_b", "output_b"):
                p.copy_(torch.randn_like(p))
            else:
                p.add_(0.3 * torch.randn_like(p))
    if not implicit:
        c.apply_weight_constraints()  # the ReLU clip explicit-mode training applies
    if cell:
        cell_only = ncps.torch.LTCCell(wiring(), n_in, implicit_param_constraints=implicit)
        cell_only = cell_only.double()
        cell_only.load_state_dict(c.state_dict())
        return cell_only
    return ltc


def ncps_outputs(model, xs):
    """ncps outputs (B, T, motor) for inputs xs (B, T, I), from zero potentials."""
    with torch.no_grad():
        if isinstance(model, ncps.torch.LTC):
            return model(torch.from_numpy(xs))[0].numpy()
        h = torch.zeros(xs.shape[0], model.state_size, dtype=torch.float64)
        out = []
        for t in range(xs.shape[1]):
            o, h = model(torch.from_numpy(xs[:, t]), h)
            out.append(o)
        return torch.stack(out, 1).numpy()


def controller_outputs(ctrl, xs):
    out = np.zeros(xs.shape[:2] + (len(ctrl.motor),))
    for b in range(xs.shape[0]):
        ctrl.reset()
        for t in range(xs.shape[1]):
            out[b, t] = ctrl.act(xs[b, t])
    return out


@pytest.mark.parametrize("implicit", [True, False])
@pytest.mark.parametrize("kind", ["LTC", "LTCCell"])
@pytest.mark.parametrize("wiring", sorted(WIRINGS))
def test_trained_ncps_to_a_wormlab_controller(wiring, kind, implicit):
    make, n_in = WIRINGS[wiring]
    model = trained_ncps(make, n_in, implicit, cell=kind == "LTCCell")
    ctrl = from_ncps(model)
    assert ctrl.input_map["drive"] == "clamp" and not ctrl.gaps
    xs = np.random.default_rng(1).normal(size=(3, 300, n_in))
    ref = ncps_outputs(model, xs)
    assert np.ptp(ref) > 0.1
    got = controller_outputs(ctrl, xs)
    assert np.abs(got - ref).max() <= 1e-12, np.abs(got - ref).max()
    # and the torch twin of that controller
    with torch.no_grad():
        y, _ = CircuitModule(ctrl)(torch.from_numpy(xs))
    assert np.abs(y.numpy() - ref).max() <= 1e-12


def test_softplus_is_what_separates_the_two_ncps_constraint_modes():
    """ncps.torch.LTC applies softplus to w, sensory_w, cm, gleak by default; LTCCell does not."""
    assert (
        ncps.torch.LTC(3, custom_wiring()).rnn_cell.make_positive_fn.__class__ is torch.nn.Softplus
    )
    assert isinstance(ncps.torch.LTCCell(custom_wiring(), 3).make_positive_fn, torch.nn.Identity)
    model = trained_ncps(custom_wiring, 3, implicit=True)
    wrong = trained_ncps(custom_wiring, 3, implicit=False)
    wrong.rnn_cell.load_state_dict(model.rnn_cell.state_dict())  # same numbers, no softplus
    xs = np.random.default_rng(2).normal(size=(2, 50, 3))
    ctrl = from_ncps(model)
    assert np.abs(controller_outputs(ctrl, xs) - ncps_outputs(model, xs)).max() <= 1e-12
    # the same numbers without softplus are another model: here a negative leak, which a
    # wormlab controller refuses (issue 13: leak non-negative)
    with pytest.raises(ControllerError, match=r"gleak\[\d+\] = -"):
        from_ncps(wrong)


@pytest.mark.parametrize("implicit", [True, False])
def test_wormlab_controller_to_ncps_and_back(implicit, tmp_path):
    env = box_env(4, 2, bounded=False)  # outputs y are the actions; obs centre 0.5, scale 2
    ctrl = random_controller(7, gaps=False, drive="clamp", env=env, dt=0.37)
    theta, off = ctrl.theta.copy(), ctrl.offsets
    for b, k in ((7, 4), (9, 2)):  # ncps holds diagonal io maps
        theta[off[b] : off[b + 1]] *= np.eye(k).ravel()
    ctrl = ctrl.with_theta(theta)
    assert any(s["post"] in ctrl.sensory for s in ctrl.synapses)  # left out: they change nothing
    ltc = to_ncps(ctrl, implicit_param_constraints=implicit)
    assert isinstance(ltc.rnn_cell.make_positive_fn, torch.nn.Softplus) == implicit
    xs = np.random.default_rng(5).normal(size=(3, 300, 4))
    ref = controller_outputs(ctrl, xs)
    assert np.ptp(ref) > 0.1
    assert np.abs(ncps_outputs(ltc, xs) - ref).max() <= 1e-12
    # ... and back again, through the file: a controller with the same names and outputs
    save_ncps(ltc, tmp_path / "ltc.json", names=ncps_names(ctrl))
    names = json.loads((tmp_path / "ltc.json").read_text())["wormlab"]
    back = from_ncps(load_ncps(tmp_path / "ltc.json"), **names)
    assert set(back.neurons) == set(ctrl.neurons) and back.motor == ctrl.motor
    assert np.abs(controller_outputs(back, xs) - ref).max() <= 1e-12
    # the controller JSON of an ncps model can be kept (unbounded actions are null)
    back.save(tmp_path / "c.json")
    assert Controller.load(tmp_path / "c.json").to_dict() == back.to_dict()


def test_ncps_refuses_gap_junctions_and_current_drive():
    with pytest.raises(ControllerError, match="gap junctions and ncps has no electrical"):
        to_ncps(random_controller(0, gaps=True, drive="clamp"))
    with pytest.raises(ControllerError, match="driven by currents"):
        to_ncps(random_controller(0, gaps=False))
    with pytest.raises(ControllerError, match="difference output is not"):
        to_ncps(random_controller(0, gaps=False, drive="clamp", output_map="difference"))
    model = trained_ncps(custom_wiring, 3, implicit=False)
    with torch.no_grad():
        model.rnn_cell.erev[2, 0] = 1.7
    with pytest.raises(ControllerError, match="erev = 1.7 lies outside"):
        from_ncps(model)
    mixed = ncps.torch.LTC(3, custom_wiring(), mixed_memory=True)
    with pytest.raises(ControllerError, match="mixed_memory"):
        from_ncps(mixed)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_ncps_file_round_trip(tmp_path, dtype):
    model = trained_ncps(WIRINGS["AutoNCP"][0], 4, implicit=True).to(dtype)
    path = tmp_path / "ltc.json"
    save_ncps(model, path, names={"unit_names": [f"n{i}" for i in range(12)]})
    d = json.loads(path.read_text())
    assert d["format"] == "wormlab-ncps-ltc" and d["version"] == 1
    assert ncps.wirings.Wiring.from_config(d["wiring"]).units == 12  # ncps reads the wiring
    back = load_ncps(path)
    for (k, a), (k2, b) in zip(model.state_dict().items(), back.state_dict().items(), strict=True):
        assert k == k2 and a.dtype == b.dtype == dtype and torch.equal(a, b), k
    xs = np.random.default_rng(6).normal(size=(2, 100, 4))
    x = torch.from_numpy(xs).to(dtype)
    with torch.no_grad():
        assert torch.equal(model(x)[0], back(x)[0])
    (tmp_path / "bad.json").write_text(json.dumps({**d, "version": 9}))
    with pytest.raises(WiringFormatError, match="version 9"):
        load_ncps(tmp_path / "bad.json")
    (tmp_path / "bad.json").write_text(json.dumps({**d, "parameters": {"w": [[0.0]]}}))
    with pytest.raises(WiringFormatError, match="malformed"):
        load_ncps(tmp_path / "bad.json")


def test_a_wormlab_ncps_wiring_trained_in_ncps_comes_back_with_its_names(tw):
    config = json.loads(json.dumps(connectome_io().to_ncps(tw)))
    names = config["wormlab"]
    torch.manual_seed(0)
    ltc = ncps.torch.LTC(config["input_dim"], ncps.wirings.Wiring.from_config(config)).double()
    with torch.no_grad():
        for p in ltc.rnn_cell.parameters():
            if p.requires_grad:
                p.add_(0.2 * torch.randn_like(p)).clamp_(-1, 1)  # erev stays in [-1, 1]
    ctrl = from_ncps(ltc, unit_names=names["unit_names"], input_names=names["input_names"])
    assert set(ctrl.neurons) == set(tw.neurons.index)
    assert ctrl.sensory == tuple(tw.sensory) and ctrl.motor == tuple(tw.motor)
    xs = np.random.default_rng(3).normal(size=(2, 200, config["input_dim"]))
    assert np.abs(controller_outputs(ctrl, xs) - ncps_outputs(ltc, xs)).max() <= 1e-12


def connectome_io():
    import connectome.io

    return connectome.io


# ----------------------------------------------------------------------------- fitting


def test_fit_distils_a_teacher_with_wiring_signs_and_ranges_kept(tw):
    teacher = Controller.from_circuit(tw, box_env(4, 1))
    rng = np.random.default_rng(12)
    teacher = teacher.with_theta(teacher.decode(rng.uniform(0.3, 0.7, (1, teacher.n_free)))[0])
    x = np.clip(teacher.to_unit() + 0.3 * rng.normal(size=teacher.n_free), 0, 1)
    student = teacher.with_theta(teacher.decode(x[None])[0])
    obs = rng.normal(size=(4, 30, 4))
    with torch.no_grad():
        module = CircuitModule(teacher)
        target = module.action(module(torch.from_numpy(obs))[0]).numpy()
    result = fit(student, obs, target, read="action", steps=60, lr=0.05)
    assert result.loss < 0.2 * result.history[0], (result.history[0], result.loss)
    ctrl = result.controller
    assert ctrl.synapses == student.synapses and ctrl.gaps == student.gaps
    assert np.all(ctrl.theta >= ctrl.lo - 1e-12) and np.all(ctrl.theta <= ctrl.hi + 1e-12)
    # the returned controller is the fitted one: its numba actions give the reported loss
    _, acts = numba_rollout(ctrl, obs)
    assert abs(((acts - target) ** 2).mean() - result.loss) <= 1e-10
    assert ctrl.provenance["trainer"] == "sim.torch.fit" and ctrl.provenance["steps"] == 60


def test_fit_to_a_recorded_trace_trains_only_the_given_groups():
    teacher = random_controller(13, n=8, n_sens=3, gaps=True, env=box_env(3, 2))
    rng = np.random.default_rng(14)
    student = teacher.with_theta(teacher.decode(rng.uniform(size=(1, teacher.n_free)))[0])
    obs = rng.normal(size=(3, 25, 3))
    trace, _ = numba_rollout(teacher, obs)
    read = ["N4", "N6", "N7"]
    target = trace[..., [4, 6, 7]]
    result = fit(student, obs, target, read=read, steps=40, lr=0.05, groups=["w", "cm"])
    assert result.loss < 0.5 * result.history[0]
    before, after = student.parameters, result.controller.parameters
    for group in student.group_names:
        changed = not np.array_equal(before[group], after[group])
        assert changed == (group in ("w", "cm")), group


def test_fit_errors_name_the_problem():
    ctrl = random_controller(0)  # CartPole: discrete actions
    obs, tgt = np.zeros((1, 3, 4)), np.zeros((1, 3, 1))
    with pytest.raises(ControllerError, match="discrete actions"):
        fit(ctrl, obs, tgt, read="action", steps=1)
    with pytest.raises(ControllerError, match=r"unknown neurons \['AVX'\]"):
        fit(ctrl, obs, tgt, read=["AVX"], steps=1)
    with pytest.raises(ControllerError, match=r"groups \['tau'\]"):
        fit(ctrl, obs, tgt, groups=["tau"], steps=1)
    with pytest.raises(ControllerError, match="same batch and time"):
        fit(ctrl, obs, np.zeros((1, 4, 1)), steps=1)
    with pytest.raises(ControllerError, match="gives 2 values per step, the targets 3"):
        fit(ctrl, obs, np.zeros((1, 3, 3)), steps=1)
    with pytest.raises(ControllerError, match="must be finite"):
        fit(ctrl, obs, np.full((1, 3, 1), np.nan), steps=1)
    with pytest.raises(ControllerError, match="positive sum"):
        fit(ctrl, obs, tgt, weights=np.zeros((1, 3)), steps=1)


@pytest.mark.parametrize(("inp", "out"), [("linear", "none"), ("none", "linear")])
def test_ncps_models_with_other_io_mappings(inp, out, tmp_path):
    torch.manual_seed(4)
    ltc = ncps.torch.LTC(3, 5, input_mapping=inp, output_mapping=out).double()  # 5 units, FC
    with torch.no_grad():
        for p in ltc.rnn_cell.parameters():
            if p.requires_grad:
                p.add_(0.2 * torch.randn_like(p)).clamp_(-1, 1)
    xs = np.random.default_rng(8).normal(size=(2, 100, 3))
    ref = ncps_outputs(ltc, xs)
    assert np.abs(controller_outputs(from_ncps(ltc), xs) - ref).max() <= 1e-12
    save_ncps(ltc, tmp_path / "fc.json")
    back = load_ncps(tmp_path / "fc.json")
    assert np.array_equal(ncps_outputs(back, xs), ref)
    d = json.loads((tmp_path / "fc.json").read_text())
    assert (d["ltc"]["input_mapping"], d["ltc"]["output_mapping"]) == (inp, out)


def test_an_imported_ncps_model_keeps_its_values_inside_the_training_ranges():
    model = trained_ncps(WIRINGS["AutoNCP"][0], 4, implicit=True)
    ctrl = from_ncps(model)
    ok = (ctrl.theta >= ctrl.lo) & (ctrl.theta <= ctrl.hi)
    assert ok.all(), np.flatnonzero(~ok)[:5]
    module = CircuitModule(ctrl)
    before = module.theta().detach().clone()
    module.project_()  # nothing to clip: a fit starts from the ncps model itself
    assert torch.equal(module.theta().detach(), before)
