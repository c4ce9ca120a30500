"""compile / simulate / simulate_batch: structure, batches, errors, convergence, stability."""

import math

import numpy as np
import pandas as pd
import pytest

import connectome
from connectome.errors import DivergenceError, SimulationError, UnknownNeuronError
from sim.compiler import Wiring, compile_circuit, graded_thresholds
from sim.models import GradedParams, LTCParams
from sim.runner import simulate, simulate_batch
from sim.stimulus import array, noise, pulse_train, ramp, sine, step


@pytest.fixture(scope="module")
def varshney():
    return connectome.load("varshney2011")


@pytest.fixture(scope="module")
def cook():
    return connectome.load("cook2019")


def small_wiring():
    edges = pd.DataFrame(
        {
            "pre": ["A", "B", "C", "D", "A", "B", "D", "A"],
            "post": ["B", "C", "A", "A", "C", "D", "C", "B"],
            "kind": ["chemical"] * 5 + ["electrical"] * 2 + ["chemical"],
            "weight": [3.0, 2.0, 1.0, 4.0, 1.0, 2.0, 1.0, 2.0],
            "sign": [1, -1, 1, -1, 1, 1, 1, 1],
        }
    )
    neurons = pd.DataFrame(
        {"class": ["A", "B", "CD", "CD"]}, index=pd.Index(["A", "B", "C", "D"], name="name")
    )
    return Wiring(neurons, edges, "small")


# ----------------------------------------------------------------- compile


def test_compile_structure_matches_edges(cook):
    cc = compile_circuit(cook, "graded")
    names = set(cook.neurons.index)
    e = cook.edges[cook.edges.pre.isin(names) & cook.edges.post.isin(names)]
    chem = e[e.kind == "chemical"]
    assert cc.n == 302 and cc.n_synapses == len(chem)
    dense = cc.dense("chemical")
    i = [cc.names.index(x) for x in chem.post]
    j = [cc.names.index(x) for x in chem.pre]
    np.testing.assert_allclose(dense[i, j], 100.0 * chem.weight.to_numpy())
    gap = e[(e.kind == "electrical") & (e.pre != e.post)]
    g = cc.dense("electrical")
    np.testing.assert_array_equal(g, g.T)
    assert cc.n_gap == 2 * len(gap)
    assert g.sum() == pytest.approx(2 * 100.0 * gap.weight.sum())
    inh = cc.synapse_params["erev"] == -48.0
    assert np.array_equal(inh, cc.sign < 0)


def test_ablation_removes_neurons_and_their_synapses(cook):
    full = compile_circuit(cook, "graded")
    cc = compile_circuit(cook, "graded", ablate=["AVA", "PVCL"])
    assert cc.n == full.n - 3 and not {"AVAL", "AVAR", "PVCL"} & set(cc.names)
    assert cc.ablated == ("AVAL", "AVAR", "PVCL") and "AVA" in cc.ablated_classes
    keep = [full.names.index(x) for x in cc.names]
    np.testing.assert_array_equal(cc.dense("chemical"), full.dense("chemical")[np.ix_(keep, keep)])
    np.testing.assert_array_equal(
        cc.dense("electrical"), full.dense("electrical")[np.ix_(keep, keep)]
    )
    with pytest.raises(UnknownNeuronError, match="ablated"):
        simulate(cc, step("AVAL", 10.0), duration=0.01)


def test_ablation_equals_circuit_without_the_neurons():
    w = small_wiring()
    ablated = compile_circuit(w, "ltc", ablate=["B"])
    keep = ["A", "C", "D"]
    e = w.edges[w.edges.pre.isin(keep) & w.edges.post.isin(keep)]
    direct = compile_circuit(Wiring(w.neurons.loc[keep], e, "small"), "ltc")
    stim = [sine("A", 0.5, 0.2)]
    a = simulate(ablated, stim, duration=20.0)
    b = simulate(direct, stim, duration=20.0)
    np.testing.assert_array_equal(a.V, b.V)


def test_unknown_model_and_params():
    w = small_wiring()
    with pytest.raises(SimulationError, match="unknown model"):
        compile_circuit(w, "hodgkin")
    with pytest.raises(SimulationError, match="takes GradedParams"):
        compile_circuit(w, "graded", LTCParams())
    with pytest.raises(SimulationError, match="unknown parameter"):
        GradedParams().replace(Cm=2.0)
    with pytest.raises(SimulationError, match="must be > 0"):
        GradedParams(C=-1.0)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("duration", [0.0, -1.0, math.nan, math.inf, 0.01234567])
def test_bad_durations(duration):
    cc = compile_circuit(small_wiring(), "graded")
    with pytest.raises(SimulationError, match="duration"):
        simulate(cc, duration=duration, dt=1e-3)


@pytest.mark.parametrize("dt", [-1e-4, 0.0, math.nan])
def test_bad_dt(dt):
    cc = compile_circuit(small_wiring(), "graded")
    with pytest.raises(SimulationError, match="dt"):
        simulate(cc, duration=0.1, dt=dt)


def test_unknown_neuron_in_stimulus(varshney):
    cc = compile_circuit(varshney, "graded")
    with pytest.raises(UnknownNeuronError, match="did you mean") as err:
        simulate(cc, "PLMX:step:amp=10", duration=0.01)
    assert "PLM" in str(err.value)


def test_nan_stimulus_is_refused():
    cc = compile_circuit(small_wiring(), "ltc")
    with pytest.raises(SimulationError, match="finite"):
        simulate(cc, step("A", math.nan), duration=1.0)
    with pytest.raises(SimulationError, match="finite"):
        simulate(cc, array("A", [0.0, math.nan, 1.0]), duration=1.0)
    with pytest.raises(SimulationError, match="finite"):
        simulate(cc, "A:sine:amp=inf,freq=1", duration=1.0)


def test_memory_refused_up_front_with_size(cook):
    cc = compile_circuit(cook, "graded")
    with pytest.raises(SimulationError, match=r"would need 1\.13 GiB"):
        simulate(cc, duration=100.0, dt=1e-4, max_bytes=2**30)
    with pytest.raises(SimulationError, match="at most 10,000,000 steps"):
        simulate(cc, duration=1e6, dt=1e-4)  # 30 TB: refused by the step bound before that


def test_divergence_names_step_and_neuron():
    w = small_wiring()
    cc = compile_circuit(w, "ltc").with_arrays(cm=-0.3)  # negative capacitance: v grows ~7x a step
    with pytest.raises(DivergenceError) as err:
        simulate(cc, step("A", 1.0), duration=2000.0)
    e = err.value
    assert e.neuron in cc.names and 1 < e.step < 2000
    assert f"step {e.step}" in str(e) and f"neuron {e.neuron}" in str(e)
    # the step named is the first bad one: one step less runs and stays finite
    before = simulate(cc, step("A", 1.0), duration=float(e.step - 1))
    assert np.all(np.isfinite(before.final_state))


# --------------------------------------------------------------- results


def test_record_every_and_dataframe():
    cc = compile_circuit(small_wiring(), "graded")
    r = simulate(cc, step("CD", 50.0), duration=0.1, dt=1e-4, record_every=10)
    assert r.V.dtype == np.float32 and r.V.shape == (101, 4)
    np.testing.assert_allclose(r.t, np.arange(101) * 1e-3)
    full = simulate(cc, step("CD", 50.0), duration=0.1, dt=1e-4)
    np.testing.assert_array_equal(r.V, full.V[::10])
    df = r.to_dataframe("CD")
    assert list(df.columns) == ["C", "D"] and df.index.name == "t"
    np.testing.assert_array_equal(df["D"].to_numpy(), r.trace("D"))


def test_class_stimulus_drives_its_members():
    cc = compile_circuit(small_wiring(), "ltc")
    by_class = simulate(cc, step("CD", 1.0), duration=10.0)
    by_names = simulate(cc, [step("C", 1.0), step("D", 1.0)], duration=10.0)
    np.testing.assert_array_equal(by_class.V, by_names.V)
    assert np.ptp(by_class.trace("D")) > 0.1


def test_noise_is_seeded():
    cc = compile_circuit(small_wiring(), "ltc")
    a = simulate(cc, noise("A", 0.5, seed=3), duration=10.0, dt=0.1)
    b = simulate(cc, noise("A", 0.5, seed=3), duration=10.0, dt=0.1)
    c = simulate(cc, noise("A", 0.5, seed=4), duration=10.0, dt=0.1)
    for k in range(len(a.t)):
        assert np.array_equal(a.V[k], b.V[k]), f"step {k}"
    assert not np.array_equal(a.V, c.V)


def test_given_initial_state_and_continuation():
    cc = compile_circuit(small_wiring(), "graded")
    stim = [pulse_train("A", 100.0, 0.05, 0.01)]
    whole = simulate(cc, stim, duration=0.2, dt=1e-4)
    first = simulate(cc, stim, duration=0.1, dt=1e-4)
    v, s = first.final_state
    np.testing.assert_array_equal(v.astype(np.float32), whole.V[1000])
    # a continuation from a given state follows the same equations (stimulus times restart at 0)
    again = simulate(cc, (), duration=0.1, dt=1e-4, initial=(v, s))
    np.testing.assert_array_equal(again.V[0], first.V[-1])
    with pytest.raises(SimulationError, match="initial"):
        simulate(cc, duration=0.1, dt=1e-4, initial=np.full(3, -35.0))


def test_progress_is_reported(varshney):
    seen = []
    simulate(
        compile_circuit(varshney, "graded"), duration=0.5, record_every=100, progress=seen.append
    )
    assert seen and seen[-1] == 1.0 and all(a < b for a, b in zip(seen, seen[1:], strict=False))


# ---------------------------------------------------------------- batches


@pytest.mark.parametrize("model", ["graded", "ltc"])
def test_batch_equals_one_by_one(model):
    w = small_wiring()
    cc = compile_circuit(w, model)
    dt = cc.params.dt
    amp = 100.0 if model == "graded" else 1.0
    stims = [
        [step("A", amp, start=5 * dt)],
        [sine("B", amp, 1 / (20 * dt))],
        [ramp("CD", amp, 30 * dt)],
        [noise("C", amp, seed=2), step("D", -amp)],
        [],
    ]
    p = cc.params
    params = [p, p.replace(Gc=20.0) if model == "graded" else p.replace(gleak=0.9)] * 2 + [p]
    duration = 60 * dt
    singles = [
        simulate(cc.with_params(q), s, duration=duration, dt=dt)
        for s, q in zip(stims, params, strict=True)
    ]
    for lanes in (1, 2, 32):
        batch = simulate_batch(cc, stims, params=params, duration=duration, dt=dt, lanes=lanes)
        for b, (one, many) in enumerate(zip(singles, batch, strict=True)):
            if lanes == 1:  # the same code path: bit for bit
                np.testing.assert_array_equal(many.V, one.V, err_msg=f"item {b}")
            np.testing.assert_allclose(many.V, one.V, rtol=1e-6, atol=1e-5, err_msg=f"item {b}")
            np.testing.assert_allclose(
                many.final_state, one.final_state, rtol=1e-11, atol=1e-11, err_msg=f"item {b}"
            )
            assert many.params == params[b]


def test_batch_on_real_connectome_equals_singles(varshney):
    cc = compile_circuit(varshney, "graded")
    stims = [[step("PLM", a)] for a in (500.0, 1000.0, 2000.0)] + [[sine("ALM", 300.0, 2.0)]]
    batch = simulate_batch(cc, stims, duration=0.3, record_every=50)
    for b, s in enumerate(stims):
        one = simulate(cc, s, duration=0.3, record_every=50)
        np.testing.assert_allclose(batch[b].final_state, one.final_state, rtol=1e-10, atol=1e-9)


def test_batch_length_mismatch():
    cc = compile_circuit(small_wiring(), "ltc")
    with pytest.raises(SimulationError, match="equal numbers"):
        simulate_batch(cc, [[], []], params=[cc.params] * 3, duration=1.0)


# ------------------------------------------------- graded model numerics


def _linear_steady_state(source, p):
    """The graded model's linear steady state with every s = ar / (ar + 2 ad), assembled edge
    by edge from the connectome table and solved by LAPACK (independent of sim.compiler)."""
    names = list(source.neurons.index)
    pos = {x: i for i, x in enumerate(names)}
    n = len(names)
    s_eq = p.ar / (p.ar + 2.0 * p.ad)
    a = np.diag(np.full(n, p.Gc))
    b = np.full(n, p.Gc * p.Ec)
    for pre, post, kind, w, sign in source.edges[["pre", "post", "kind", "weight", "sign"]].values:
        if pre not in pos or post not in pos:
            continue  # neuron -> muscle
        i, j = pos[post], pos[pre]
        if kind == "chemical":
            g = p.gsyn * w * s_eq
            a[i, i] += g
            b[i] += g * (p.E_inh if sign < 0 else p.E_exc)
        elif i != j:  # a gap junction, stored once per pair
            g = p.ggap * w
            a[i, i] += g
            a[j, j] += g
            a[i, j] -= g
            a[j, i] -= g
    return np.linalg.solve(a, b)


def test_graded_rest_is_fixed_point_and_thresholds(varshney):
    cc = compile_circuit(varshney, "graded")
    r = simulate(cc, duration=1.0, record_every=100)
    want = _linear_steady_state(varshney, cc.params)
    assert np.ptp(want) > 10.0  # a real network state, not a constant
    np.testing.assert_allclose(graded_thresholds(cc), want, rtol=1e-11, atol=1e-9)
    np.testing.assert_allclose(r.V[0], want.astype(np.float32), rtol=1e-6)
    assert np.abs(r.V - r.V[0]).max() < 1e-4
    s_eq = 1.0 / 11.0
    np.testing.assert_allclose(r.final_state[1], s_eq, rtol=1e-12)
    # initial="rest" is the default; said explicitly it is the same run
    explicit = simulate(cc, duration=1.0, record_every=100, initial="rest")
    np.testing.assert_array_equal(explicit.V, r.V)


def test_ltc_initial_rest_is_vleak():
    """initial="rest" starts every ltc neuron at its own vleak (isolated neurons stay there)."""
    w = Wiring(["A", "B", "C"], pd.DataFrame(columns=["pre", "post", "kind", "weight", "sign"]))
    vleak = np.array([-0.3, 0.0, 0.45])
    cc = compile_circuit(w, "ltc").with_arrays(vleak=vleak)
    r = simulate(cc, duration=5.0, initial="rest")
    np.testing.assert_array_equal(r.V[0], vleak.astype(np.float32))
    # (up to the fused step's epsilon of 1e-8 in the denominator)
    np.testing.assert_allclose(r.V, np.tile(vleak, (len(r.t), 1)), rtol=1e-7, atol=0)
    moved = simulate(cc, duration=5.0, initial=np.zeros(3))
    assert moved.V[0].tolist() == [0.0, 0.0, 0.0] and moved.V[-1, 0] < -0.29
    with pytest.raises(SimulationError, match="'rest'"):
        simulate(cc, duration=1.0, initial="resting")


def test_graded_threshold_rest_keeps_the_no_input_thresholds():
    """threshold="input" recomputes Vth under a constant input (its fixed point then does not
    move); threshold="rest" keeps the thresholds of no input, so the same state moves, and
    its first synaptic update is the sigmoid around the rest thresholds, exactly."""
    cc = compile_circuit(small_wiring(), "graded")
    dt = cc.params.dt
    stim = [step("A", 300.0), step("B", -200.0)]
    current = np.array([300.0, -200.0, 0.0, 0.0])
    v_in = graded_thresholds(cc, current)
    v_rest = graded_thresholds(cc)
    assert np.abs(v_in - v_rest).max() > 5.0
    s_eq = np.full(4, 1.0 / 11.0)
    fixed = simulate(cc, stim, duration=0.05, initial=(v_in, s_eq))
    assert np.abs(fixed.V - fixed.V[0]).max() < 1e-4
    rest = cc.with_params(GradedParams(threshold="rest"))
    moving = simulate(rest, stim, duration=0.05, initial=(v_in, s_eq))
    assert np.abs(moving.V - moving.V[0]).max() > 1.0
    one = simulate(rest, stim, duration=dt, dt=dt, initial=(v_in, s_eq))
    p = cc.params
    phi = dt * p.ar / (1.0 + np.exp(-p.beta * (v_in - v_rest)))
    np.testing.assert_allclose(one.final_state[1], (s_eq + phi) / (1 + phi + dt * p.ad), rtol=1e-12)
    with pytest.raises(SimulationError, match="threshold"):
        GradedParams(threshold="never")


def test_stimulus_windows_open_and_close_on_the_step_they_name():
    """Window edges that fall on a step open and close on that step although k dt is not the
    decimal edge in floating point (3 x 0.3 = 0.8999999999999999 < 0.9; 6 x 0.3 < 1.8): the
    kernels' edge tolerance. Without it the current would start and stop one step late."""
    assert 3 * 0.3 < 0.9 and 6 * 0.3 < 1.8
    w = Wiring(["A"], pd.DataFrame(columns=["pre", "post", "kind", "weight", "sign"]))
    cc = compile_circuit(w, "ltc")
    p = cc.params
    dt = 0.3
    r = simulate(cc, step("A", 1.0, start=0.9, stop=1.8), duration=3.0, dt=dt)
    # exact fused steps of an isolated neuron with the current on during steps 3, 4 and 5
    h = dt / p.unfolds
    v, want = 0.0, [0.0]
    for k in range(10):
        current = 1.0 if k in (3, 4, 5) else 0.0
        for _ in range(p.unfolds):
            v = (p.cm / h * v + p.gleak * p.vleak + current) / (p.cm / h + p.gleak + 1e-8)
        want.append(v)
    np.testing.assert_allclose(r.V[:, 0], np.array(want, np.float32), rtol=1e-6, atol=0)
    assert r.V[3, 0] == 0.0 and r.V[4, 0] > 0.0 and r.V[7, 0] < r.V[6, 0]


def test_log1p_weight_map():
    """weight_map="log1p": conductances scale * log(1 + count), for synapses and gaps."""
    from sim.models import map_weights

    np.testing.assert_allclose(
        map_weights([0.0, 1.0, math.e - 1.0, 9.0], "log1p", 100.0),
        [0.0, 100.0 * math.log(2.0), 100.0, 100.0 * math.log(10.0)],
        rtol=1e-15,
    )
    cc = compile_circuit(small_wiring(), "graded", GradedParams(weight_map="log1p", gsyn=7.0))
    lin = compile_circuit(small_wiring(), "graded", GradedParams(gsyn=7.0))
    np.testing.assert_array_equal(cc.count, lin.count)
    np.testing.assert_allclose(cc.synapse_params["g"], 7.0 * np.log(1.0 + lin.count), rtol=1e-15)
    np.testing.assert_allclose(cc.gw, 100.0 * np.log(1.0 + lin.gcount), rtol=1e-15)
    assert cc.synapse_params["g"].tolist() != lin.synapse_params["g"].tolist()
    ltc = compile_circuit(small_wiring(), "ltc", LTCParams(weight_map="log1p", w_scale=0.5))
    np.testing.assert_allclose(ltc.synapse_params["w"], 0.5 * np.log1p(ltc.count), rtol=1e-15)


@pytest.mark.parametrize("model", ["graded", "ltc"])
def test_batch_per_item_initial_states(model):
    """initial (B, N): each item starts from its own row, and equals its run alone."""
    cc = compile_circuit(small_wiring(), model)
    rng = np.random.default_rng(11)
    base = -35.0 if model == "graded" else 0.0
    spread = 20.0 if model == "graded" else 0.5
    init = base + spread * rng.uniform(-1, 1, (3, cc.n))
    amp = 100.0 if model == "graded" else 1.0
    stims = [[step("A", amp)], [], [sine("B", amp, 2.0)]]
    dt = cc.params.dt
    runs = simulate_batch(cc, stims, duration=40 * dt, dt=dt, initial=init, lanes=2)
    for b, run in enumerate(runs):
        np.testing.assert_array_equal(run.V[0], init[b].astype(np.float32), err_msg=f"item {b}")
        alone = simulate(cc, stims[b], duration=40 * dt, dt=dt, initial=init[b])
        np.testing.assert_array_equal(run.V, alone.V, err_msg=f"item {b}")
    assert not np.array_equal(runs[0].V[0], runs[1].V[0])
    with pytest.raises(SimulationError, match=r"expected \(3, 4\)"):
        simulate_batch(cc, stims, duration=40 * dt, dt=dt, initial=init[:2])


def test_results_are_read_only():
    """Caches share results between sessions: writing into one raises."""
    cc = compile_circuit(small_wiring(), "ltc")
    r = simulate(cc, step("A", 1.0), duration=2.0)
    for a in (r.V, r.t, r.final_state, r.trace("A")):
        assert not a.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            a[0] = 1.0
    df = r.to_dataframe()  # a DataFrame of the result is the caller's own copy
    df.iloc[0, 0] = 5.0
    assert df.iloc[0, 0] == 5.0 and r.V[0, 0] != 5.0


def test_graded_convergence(varshney):
    """Fixed step justified: the semi-implicit step is first order; from dt = 0.1 ms, halving
    dt changes the 2 s trajectory (onset transient of hundreds of mV, then oscillation) by less
    than 1% of its largest excursion, and the error against dt/8 shrinks in proportion to dt."""
    cc = compile_circuit(varshney, "graded")
    stim = [step("PLM", 2000.0)]
    runs = {
        dt: simulate(cc, stim, duration=2.0, dt=dt, record_every=round(1e-3 / dt)).V.astype(float)
        for dt in (1e-4, 5e-5, 1.25e-5)
    }
    ref = runs[1.25e-5]
    scale = np.abs(ref - ref[0]).max()
    assert scale > 100.0
    err = {dt: np.abs(runs[dt] - ref).max() / scale for dt in (1e-4, 5e-5)}
    halving = np.abs(runs[1e-4] - runs[5e-5]).max() / scale
    assert halving < 0.01
    assert err[1e-4] < 0.01 and err[5e-5] < 0.005
    assert 0.3 < err[5e-5] / err[1e-4] < 0.6  # first order


@pytest.mark.parametrize("dt", [1e-4, 1e-3])
def test_graded_stiff_cook_is_stable(cook, dt):
    """Cook 2019's heavy gap junctions (fastest rate ~1.7e5/s) need dt < 1.2e-5 s with explicit
    Euler; the semi-implicit step stays bounded at 0.1 ms and 1 ms."""
    cc = compile_circuit(cook, "graded")
    r = simulate(cc, step("PLM", 2000.0), duration=1.0, dt=dt, record_every=10)
    assert np.all(np.isfinite(r.V))
    assert np.abs(r.V).max() < 1e4


def test_cn_is_second_order_and_euler_first_on_stiff_cook(cook):
    """The onset transient of Cook 2019 under 2000 pA into PLM (heavy gap junctions: g dt / C
    up to 13 at 0.1 ms): against a fine ``cn`` reference, halving dt divides the ``cn`` error
    by about 4 (observed order 2) and the ``euler`` error by about 2 (order 1)."""
    cc = compile_circuit(cook, "graded")
    cn = cc.with_params(cc.params.replace(scheme="cn"))
    stim = step("PLM", 2000.0)
    duration = 0.05

    def run(c, dt):
        return simulate(c, stim, duration=duration, dt=dt, record_every=round(1e-3 / dt)).V

    ref = run(cn, 5e-6).astype(float)
    scale = np.abs(ref - ref[0]).max()
    assert scale > 100.0
    for c, order in ((cn, 2.0), (cc, 1.0)):
        err = [np.abs(run(c, dt) - ref).max() / scale for dt in (2e-4, 1e-4, 5e-5)]
        observed = np.log2(np.array(err[:-1]) / np.array(err[1:]))
        assert np.all(np.abs(observed - order) < 0.3), (c.params.scheme, err, observed)
    assert err[1] > 20 * (np.abs(run(cn, 1e-4) - ref).max() / scale)  # cn: 1e-4 much better


def test_cn_batch_equals_one_by_one(varshney):
    cc = compile_circuit(varshney, "graded", GradedParams(scheme="cn"))
    stims = [[step("PLM", a)] for a in (500.0, 2000.0)] + [[sine("ALM", 300.0, 20.0)], []]
    singles = [simulate(cc, s, duration=0.05, record_every=10) for s in stims]
    for lanes in (1, 3, 32):
        batch = simulate_batch(cc, stims, duration=0.05, record_every=10, lanes=lanes)
        for b, (one, many) in enumerate(zip(singles, batch, strict=True)):
            if lanes == 1:
                np.testing.assert_array_equal(many.V, one.V, err_msg=f"item {b}")
            np.testing.assert_allclose(
                many.final_state, one.final_state, rtol=1e-11, atol=1e-10, err_msg=f"item {b}"
            )


def test_cn_rest_is_fixed_point_and_scheme_is_checked(varshney):
    cc = compile_circuit(varshney, "graded", GradedParams(scheme="cn"))
    r = simulate(cc, duration=0.2, dt=5e-4, record_every=100)
    assert np.abs(r.V - r.V[0]).max() < 1e-4
    with pytest.raises(SimulationError, match="scheme = 'rk4'"):
        GradedParams(scheme="rk4")
    with pytest.raises(SimulationError, match="same scheme"):
        simulate_batch(cc, [[]], params=[cc.params, GradedParams()], duration=0.01)
