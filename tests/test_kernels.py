"""The numba kernels against slow NumPy references and exact answers."""

import math

import ncps.torch
import numpy as np
import pytest
import torch
from ncps.wirings import Wiring

from sim import kernels
from tests.ltc_numpy import ltc_step as reference_step


def random_circuit(rng, n, density, gap_density=0.0, zero_weights=False):
    """Dense random LTC circuit [pre, post] and its CSR (rows = post)."""
    mask = rng.random((n, n)) < density
    w = rng.uniform(0.001, 1.0, (n, n)) * mask
    if zero_weights:
        w[rng.random((n, n)) < 0.3] = 0.0
    erev = rng.choice([-1.0, 1.0], (n, n))
    mu = rng.uniform(0.3, 0.8, (n, n))
    sigma = rng.uniform(3.0, 8.0, (n, n))
    post, pre = np.nonzero(mask.T)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(post, minlength=n), out=indptr[1:])
    csr = dict(
        indptr=indptr,
        pre=pre.astype(np.int64),
        w=w[pre, post].copy(),
        erev=erev[pre, post].copy(),
        mu=mu[pre, post].copy(),
        sigma=sigma[pre, post].copy(),
    )
    upper = np.triu(rng.random((n, n)) < gap_density, 1)
    gap = rng.uniform(0.01, 0.5, (n, n)) * upper
    gap = gap + gap.T
    gpost, gpre = np.nonzero(gap)
    gindptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(gpost, minlength=n), out=gindptr[1:])
    csr.update(gindptr=gindptr, gpre=gpre.astype(np.int64), gw=gap[gpost, gpre].copy())
    dense = dict(w=w, erev=erev, mu=mu, sigma=sigma, mask=mask.astype(float), gap=gap)
    return dense, csr


def neuron_params(rng, n):
    return dict(
        cm=rng.uniform(0.4, 0.6, n),
        gleak=rng.uniform(0.001, 1.0, n),
        vleak=rng.uniform(-0.2, 0.2, n),
    )


def ref_params(dense, npar, n):
    """The reference's parameter dict (ncps LTCCell's names) of a circuit without inputs."""
    return {
        "input_w": np.ones(1),
        "input_b": np.zeros(1),
        "sensory_w": np.zeros((1, n)),
        "sensory_mu": np.full((1, n), 0.5),
        "sensory_sigma": np.full((1, n), 5.0),
        "sensory_erev": np.ones((1, n)),
        "sensory_sparsity_mask": np.zeros((1, n)),
        "w": dense["w"],
        "sparsity_mask": dense["mask"],
        "erev": dense["erev"],
        "mu": dense["mu"],
        "sigma": dense["sigma"],
        "output_w": np.ones(n),
        "output_b": np.zeros(n),
        **npar,
    }


def call_ltc_step(v, current, csr, npar, dt, unfolds):
    kernels.ltc_step(
        v, current, csr["indptr"], csr["pre"], csr["w"], csr["erev"], csr["mu"], csr["sigma"],
        csr["gindptr"], csr["gpre"], csr["gw"], npar["cm"], npar["gleak"], npar["vleak"], dt,
        unfolds, np.empty_like(v),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("n", "density", "zero_weights"),
    [(1, 0.0, False), (2, 1.0, False), (7, 0.4, True), (40, 0.15, False), (120, 0.05, True)],
)
def test_ltc_step_equals_reference(n, density, zero_weights):
    rng = np.random.default_rng(n)
    dense, csr = random_circuit(rng, n, density, zero_weights=zero_weights)
    npar = neuron_params(rng, n)
    p = ref_params(dense, npar, n)
    for dt, unfolds in [(1.0, 6), (0.37, 6), (2.5, 3), (0.1, 1)]:
        v0 = rng.normal(size=n)
        v = v0.copy()
        ref_v = v0.copy()
        for k in range(20):
            call_ltc_step(v, np.zeros(n), csr, npar, dt, unfolds)
            ref_v = reference_step(p, np.zeros(1), ref_v, elapsed_time=dt, unfolds=unfolds)
            np.testing.assert_allclose(v, ref_v, rtol=0, atol=1e-12, err_msg=f"step {k}")


def _random_ncps_cell(rng, n, k, dtype):
    """An ncps LTCCell with random wiring (sensory synapses too) and parameters off their
    initial values, and its state dict as float64 arrays (the reference's parameters)."""
    wiring = Wiring(n)
    for i in range(n):
        for j in range(n):
            if rng.random() < 0.4:
                wiring.add_synapse(i, j, int(rng.choice([-1, 1])))
    wiring.build(k)
    for s in range(k):
        for j in range(n):
            if rng.random() < 0.5:
                wiring.add_sensory_synapse(s, j, int(rng.choice([-1, 1])))
    wiring.set_output_dim(1)
    torch.manual_seed(int(rng.integers(2**31)))
    cell = ncps.torch.LTCCell(wiring, in_features=k, implicit_param_constraints=False)
    cell = cell.to(dtype)
    with torch.no_grad():
        for _name, prm in cell.named_parameters():
            if prm.requires_grad:
                prm.add_(torch.rand_like(prm) * 0.2)
    p = {key: val.detach().numpy().astype(np.float64) for key, val in cell.state_dict().items()}
    return cell, p


@pytest.mark.parametrize(
    ("dtype", "atol"), [(torch.float64, 1e-12), (torch.float32, 2e-6)], ids=["f64", "f32"]
)
@pytest.mark.parametrize(("n", "k"), [(1, 1), (5, 2), (12, 3)])
def test_reference_equals_ncps_ltccell(n, k, dtype, atol):
    """The NumPy reference against ncps 1.0.1's own LTCCell, inputs and sensory synapses
    included, for several step lengths and numbers of unfolds."""
    rng = np.random.default_rng(50 + n)
    cell, p = _random_ncps_cell(rng, n, k, dtype)
    for elapsed, unfolds in [(1.0, 6), (0.3, 6), (2.0, 2)]:
        cell._ode_unfolds = unfolds
        v = rng.normal(size=n)
        h = torch.tensor(v[None, :], dtype=dtype)
        for step in range(15):
            x = rng.normal(size=k)
            start = h.numpy()[0].astype(np.float64)  # each step from ncps's own state
            with torch.no_grad():
                _, h = cell(torch.tensor(x[None, :], dtype=dtype), h, elapsed)
            want = reference_step(p, x, start, elapsed_time=elapsed, unfolds=unfolds)
            np.testing.assert_allclose(
                h.numpy()[0].astype(np.float64), want, rtol=0, atol=atol,
                err_msg=f"dt {elapsed}, {unfolds} unfolds, step {step}",
            )  # fmt: skip


@pytest.mark.parametrize(("n", "density", "gap_density"), [(5, 0.0, 0.6), (30, 0.1, 0.1)])
def test_ltc_step_with_gaps_and_current(n, density, gap_density):
    rng = np.random.default_rng(7 + n)
    dense, csr = random_circuit(rng, n, density, gap_density)
    npar = neuron_params(rng, n)
    p = ref_params(dense, npar, n)
    v = rng.normal(size=n)
    vr = v.copy()
    for k in range(30):
        current = rng.normal(size=n)
        call_ltc_step(v, current, csr, npar, 0.5, 6)
        vr = reference_step(
            p, np.zeros(1), vr, elapsed_time=0.5, unfolds=6, current=current, gap=dense["gap"]
        )
        np.testing.assert_allclose(v, vr, rtol=0, atol=1e-12, err_msg=f"step {k}")


def test_ltc_lanes_equal_single():
    rng = np.random.default_rng(3)
    n, lanes = 25, 5
    dense, csr = random_circuit(rng, n, 0.2, 0.1)
    npar = neuron_params(rng, n)
    v = rng.normal(size=(n, lanes))
    cur = rng.normal(size=(n, lanes))
    single = [v[:, q].copy() for q in range(lanes)]
    for q in range(lanes):
        call_ltc_step(single[q], cur[:, q].copy(), csr, npar, 0.3, 4)
    kernels.ltc_step_lanes(
        v, cur, csr["indptr"], csr["pre"], csr["w"], csr["erev"], csr["mu"], csr["sigma"],
        csr["gindptr"], csr["gpre"], csr["gw"], npar["cm"], npar["gleak"], npar["vleak"], 0.3,
        4, np.empty_like(v), np.empty(lanes), np.empty(lanes),
    )  # fmt: skip
    np.testing.assert_allclose(v, np.stack(single, 1), rtol=0, atol=1e-13)


def test_ltc_leaky_decay_exact():
    """An isolated neuron: the fused step is v_k = vleak + (v0 - vleak) r^k with
    r = 1 / (1 + h gleak / cm) per sub-step (exactly), and tends to exp(-t gleak / cm) with
    the first-order error of implicit Euler, a relative excess of t h / (2 tau^2), checked
    while the signal is large (t <= 3.2 tau)."""
    empty = np.zeros(2, np.int64)
    none = np.zeros(0, np.int64)
    nof = np.zeros(0)
    cm, gleak, vleak, v0, dt, unfolds = 0.5, 0.8, -0.2, 1.0, 0.05, 6
    tau = cm / gleak  # 0.625: 12.5 steps
    v = np.array([v0])
    h = dt / unfolds
    r = (cm / h) / (cm / h + gleak + 1e-8)
    base = (gleak * vleak) / (cm / h + gleak + 1e-8)
    expect = v0
    checked = 0
    for k in range(1, 41):
        kernels.ltc_step(
            v, np.zeros(1), empty, none, nof, nof, nof, nof, empty, none, nof, np.array([cm]),
            np.array([gleak]), np.array([vleak]), dt, unfolds, np.empty(1),
        )  # fmt: skip
        for _ in range(unfolds):
            expect = r * expect + base
        assert v[0] == pytest.approx(expect, rel=1e-14, abs=1e-15), f"step {k}"
        if k in (10, 25, 40):  # t = 0.8, 2 and 3.2 tau
            t = k * dt
            decay = (v[0] - vleak) / (v0 - vleak)
            exact = math.exp(-t / tau)
            assert decay > 0.04, f"step {k}: the signal must still be there"
            assert decay / exact - 1 == pytest.approx(t * h / (2 * tau**2), rel=0.03), f"step {k}"
            checked += 1
    assert checked == 3


def graded_reference_step(v, s, current, g, erev, gap, npar, vth, dt):
    """Obvious dense NumPy graded step (g, erev, gap: [post, pre])."""
    num = npar["C"] / dt * v + npar["Gc"] * npar["Ec"] + (g * erev) @ s + gap @ v + current
    den = npar["C"] / dt + npar["Gc"] + g @ s + gap.sum(1)
    vn = num / den
    phi = dt * npar["ar"] / (1 + np.exp(-npar["beta"] * (v - vth)))
    sn = (s + phi) / (1 + phi + dt * npar["ad"])
    return vn, sn


def graded_case(rng, n, density, gap_density, gap_scale=200.0, zero_weights=False):
    """A random graded-model circuit: its CSR, dense [post, pre] matrices (g, erev, gap), the
    kernels' per-synapse and gap arrays and random neuron parameters and thresholds."""
    dense, csr = random_circuit(rng, n, density, gap_density, zero_weights)
    g = (dense["w"] * 300).T  # [post, pre], pS
    erev = np.where(dense["erev"] > 0, 0.0, -48.0).T
    gap = dense["gap"] * gap_scale
    post = np.repeat(np.arange(n), np.diff(csr["indptr"]))
    csr_g = g.T[csr["pre"], post]
    ge = csr_g * erev.T[csr["pre"], post]
    gw = csr["gw"] * gap_scale
    ends = csr["gindptr"]
    gsum = np.array([gw[a:b].sum() for a, b in zip(ends[:-1], ends[1:], strict=True)])
    npar = dict(
        C=rng.uniform(0.5, 2, n), Gc=rng.uniform(5, 20, n), Ec=rng.uniform(-40, -30, n),
        beta=np.full(n, 0.125), ar=np.ones(n), ad=np.full(n, 5.0),
    )  # fmt: skip
    vth = rng.uniform(-40, -10, n)
    return csr, g, erev, gap, csr_g, ge, gw, gsum, npar, vth


@pytest.mark.parametrize(
    ("n", "density", "gap_density"), [(1, 0.0, 0.0), (9, 0.3, 0.3), (60, 0.08, 0.05)]
)
def test_graded_step_equals_reference(n, density, gap_density):
    rng = np.random.default_rng(100 + n)
    csr, g, erev, gap, csr_g, ge, gw, gsum, npar, vth = graded_case(rng, n, density, gap_density)
    lanes = 3
    v = rng.uniform(-60, 10, (n, lanes))
    s = rng.uniform(0, 1, (n, lanes))
    vl, sl = v.copy(), s.copy()
    v1, s1 = v[:, 0].copy(), s[:, 0].copy()
    vr, sr = v.copy(), s.copy()
    dt = 1e-4
    for k in range(50):
        cur = rng.normal(0, 1e4, (n, lanes))
        kernels.graded_step_lanes(
            vl, sl, cur, csr["indptr"], csr["pre"], csr_g, ge, csr["gindptr"], csr["gpre"],
            gw, gsum, npar["C"], npar["Gc"], npar["Ec"], npar["beta"],
            np.repeat(vth[:, None], lanes, 1), npar["ar"], npar["ad"], dt, 1,
            np.empty((n, lanes)), np.empty(lanes), np.empty(lanes),
        )  # fmt: skip
        kernels.graded_step(
            v1, s1, cur[:, 0].copy(), csr["indptr"], csr["pre"], csr_g, ge, csr["gindptr"],
            csr["gpre"], gw, gsum, npar["C"], npar["Gc"], npar["Ec"], npar["beta"], vth,
            npar["ar"], npar["ad"], dt, 1, np.empty(n),
        )  # fmt: skip
        for q in range(lanes):
            vr[:, q], sr[:, q] = graded_reference_step(
                vr[:, q], sr[:, q], cur[:, q], g, erev, gap, npar, vth, dt
            )
        np.testing.assert_allclose(vl, vr, rtol=1e-12, atol=1e-10, err_msg=f"lanes, step {k}")
        np.testing.assert_allclose(sl, sr, rtol=1e-12, atol=1e-14, err_msg=f"lanes, step {k}")
        np.testing.assert_allclose(v1, vr[:, 0], rtol=1e-12, atol=1e-10, err_msg=f"step {k}")
        np.testing.assert_allclose(s1, sr[:, 0], rtol=1e-12, atol=1e-14, err_msg=f"step {k}")


def test_graded_fixed_point_is_exact():
    """With V at the linear steady state and s = ar/(ar + 2 ad), nothing moves, for any dt."""
    n = 2
    g = 100.0
    # A -> B excitatory; steady state solved by hand
    C, Gc, Ec, s_eq = 1.0, 10.0, -35.0, 1.0 / 11.0
    va = Ec
    vb = (Gc * Ec + g * s_eq * 0.0) / (Gc + g * s_eq)
    v = np.array([[va], [vb]])
    s = np.full((n, 1), s_eq)
    vth = v.copy()
    for dt in (1e-5, 1e-3, 0.1):
        vv, ss = v.copy(), s.copy()
        for _ in range(10):
            kernels.graded_step_lanes(
                vv, ss, np.zeros((n, 1)), np.array([0, 0, 1]), np.array([0]), np.array([g]),
                np.array([0.0]), np.zeros(3, np.int64), np.zeros(0, np.int64), np.zeros(0),
                np.zeros(n), np.full(n, C), np.full(n, Gc), np.full(n, Ec), np.full(n, 0.125), vth,
                np.ones(n), np.full(n, 5.0), dt, 1, np.empty((n, 1)), np.empty(1), np.empty(1),
            )  # fmt: skip
        np.testing.assert_allclose(vv, v, rtol=0, atol=1e-12)
        np.testing.assert_allclose(ss, s, rtol=0, atol=1e-15)


def python_stim(kind, p, waves, t):
    if kind == kernels.STIM_STEP:
        return p[0] if p[1] <= t < p[2] else 0.0
    if kind == kernels.STIM_PULSE:
        return p[0] if p[1] <= t < p[2] and (t - p[1]) % p[3] < p[4] else 0.0
    if kind == kernels.STIM_SINE:
        return (
            p[3] + p[0] * math.sin(2 * math.pi * p[1] * (t - p[4]) + p[2])
            if p[4] <= t < p[5]
            else 0.0
        )
    if kind == kernels.STIM_RAMP:
        return p[0] + (p[1] - p[0]) * (t - p[2]) / (p[3] - p[2]) if p[2] <= t < p[3] else 0.0
    x = (t - p[0]) / p[1]
    if kind == kernels.STIM_HOLD:
        i = math.floor(x)
        return p[2] * waves[i] if 0 <= i < len(waves) else 0.0
    if x < 0 or x > len(waves) - 1:
        return 0.0
    return p[2] * float(np.interp(x, np.arange(len(waves)), waves))


@pytest.mark.parametrize(
    ("kind", "par"),
    [
        (kernels.STIM_STEP, [2.0, 0.3, 0.7]),
        (kernels.STIM_PULSE, [1.5, 0.1, 0.9, 0.2, 0.05]),
        (kernels.STIM_SINE, [1.0, 3.0, 0.4, 0.5, 0.2, 0.8]),
        (kernels.STIM_RAMP, [-1.0, 2.0, 0.25, 0.75]),
        (kernels.STIM_HOLD, [0.2, 0.07, 3.0]),
        (kernels.STIM_INTERP, [0.2, 0.07, 3.0]),
    ],
)
def test_stim_value_matches_formula(kind, par):
    waves = np.array([0.5, -1.0, 2.0, 0.25, 1.0])
    p = np.zeros(8)
    p[: len(par)] = par
    for t in np.linspace(0.0, 1.0, 1001) + 1.2345e-4:  # off the window edges
        got = kernels.stim_value(kind, p, waves, 0, len(waves), t, 0.0)
        assert got == pytest.approx(python_stim(kind, p, waves, t), abs=1e-12), f"t = {t}"


def test_ltc_matches_ncps_cell():
    """The kernel against ncps's own LTCCell (no inputs), float64."""
    n = 6
    wiring = Wiring(n)
    for s, d, pol in [
        (0, 1, 1),
        (1, 2, -1),
        (2, 0, 1),
        (3, 4, 1),
        (4, 5, -1),
        (5, 3, 1),
        (2, 5, 1),
    ]:
        wiring.add_synapse(s, d, pol)
    wiring.build(1)
    wiring.set_output_dim(2)
    cell = ncps.torch.LTCCell(wiring, in_features=1, implicit_param_constraints=False).double()
    torch.manual_seed(0)
    with torch.no_grad():
        for _name, prm in cell.named_parameters():
            if prm.requires_grad:
                prm.add_(torch.rand_like(prm) * 0.2)
        cell.sensory_w.zero_()
    p = {k: v.detach().numpy().astype(np.float64) for k, v in cell.state_dict().items()}
    mask = p["sparsity_mask"]
    post, pre = np.nonzero(mask.T)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(post, minlength=n), out=indptr[1:])
    empty = np.zeros(n + 1, np.int64)
    v = np.random.default_rng(1).normal(size=n)
    h = torch.from_numpy(v[None, :].copy())
    x = torch.zeros(1, 1, dtype=torch.float64)
    for k in range(10):
        kernels.ltc_step(
            v, np.zeros(n), indptr, pre.astype(np.int64), p["w"][pre, post].copy(),
            p["erev"][pre, post].copy(), p["mu"][pre, post].copy(), p["sigma"][pre, post].copy(),
            empty, np.zeros(0, np.int64), np.zeros(0), p["cm"], p["gleak"], p["vleak"], 1.0, 6,
            np.empty(n),
        )  # fmt: skip
        with torch.no_grad():
            _, h = cell(x, h, 1.0)
        np.testing.assert_allclose(v, h.numpy()[0], rtol=0, atol=1e-12, err_msg=f"step {k}")


def graded_cn_reference_step(v, s, current, g, erev, gap, npar, vth, dt):
    """Obvious dense NumPy ``cn`` step (g, erev, gap: [post, pre]): half an Euler step of s,
    Crank-Nicolson on the whole linear system in V (np.linalg.solve), trapezoid for s."""
    hh = 0.5 * dt
    sig = 1 / (1 + np.exp(-npar["beta"] * (v - vth)))
    sh = (s + hh * npar["ar"] * sig) / (1 + hh * (npar["ar"] * sig + npar["ad"]))
    m = np.diag(npar["Gc"] + gap.sum(1) + g @ sh) - gap
    c = np.diag(npar["C"] / dt)
    rhs = (c - m / 2) @ v + npar["Gc"] * npar["Ec"] + (g * erev) @ sh + current
    vn = np.linalg.solve(c + m / 2, rhs)
    sig = 1 / (1 + np.exp(-npar["beta"] * ((v + vn) / 2 - vth)))
    r = dt * (npar["ar"] * sig + npar["ad"]) / 2
    sn = ((1 - r) * s + dt * npar["ar"] * sig) / (1 + r)
    return vn, sn


@pytest.mark.parametrize(
    ("n", "density", "gap_density", "zero_weights"),
    [(1, 0.0, 0.0, False), (2, 0.0, 1.0, False), (9, 0.3, 0.3, False), (60, 0.08, 0.1, True),
     (40, 0.0, 0.15, False)],
)  # fmt: skip
def test_graded_cn_step_equals_reference(n, density, gap_density, zero_weights):
    """Isolated neurons, gap-junction-only circuits, zero weights, stiff gaps (g h / C >> 1)."""
    from sim.ldl import ldl_pattern

    rng = np.random.default_rng(200 + n)
    # gaps up to 5e4 pS: 25 times C/dt, as Cook 2019's heaviest pairs
    csr, g, erev, gap, csr_g, ge, gw, gsum, npar, vth = graded_case(
        rng, n, density, gap_density, 1e5, zero_weights
    )
    pat = ldl_pattern(csr["gindptr"], csr["gpre"])
    lanes = 3
    v = rng.uniform(-60, 10, (n, lanes))
    s = rng.uniform(0, 1, (n, lanes))
    vr, sr = v.copy(), s.copy()
    dt = 1e-4
    nnz = len(pat.rows)
    for k in range(30):
        cur = rng.normal(0, 1e4, (n, lanes))
        kernels.graded_cn_step_lanes(
            v, s, cur, csr["indptr"], csr["pre"], csr_g, ge, csr["gindptr"], csr["gpre"],
            gw, gsum, npar["C"], npar["Gc"], npar["Ec"], npar["beta"],
            np.repeat(vth[:, None], lanes, 1), npar["ar"], npar["ad"], dt, 1, *pat.arrays(),
            np.empty((n, lanes)), np.empty((n + nnz, lanes)), np.empty((n, lanes)),
            np.empty((max(1, pat.max_col), lanes)),
        )  # fmt: skip
        for q in range(lanes):
            vr[:, q], sr[:, q] = graded_cn_reference_step(
                vr[:, q], sr[:, q], cur[:, q], g, erev, gap, npar, vth, dt
            )
        np.testing.assert_allclose(v, vr, rtol=1e-10, atol=1e-9, err_msg=f"step {k}")
        np.testing.assert_allclose(s, sr, rtol=1e-10, atol=1e-13, err_msg=f"step {k}")
