"""sim.analysis on signals with known answers."""

import math

import numpy as np
import pandas as pd
import pytest

from connectome.errors import SimulationError
from sim.analysis import dominant_period, oscillation_summary, pca, response_summary
from sim.compiler import Wiring, compile_circuit
from sim.runner import SimResult, simulate
from sim.stimulus import step


def fake_result(t, v, names):
    """A SimResult around given traces (its circuit only resolves the names)."""
    edges = pd.DataFrame(columns=["pre", "post", "kind", "weight", "sign"])
    cc = compile_circuit(Wiring(names, edges, "fake"), "ltc")
    return SimResult(
        t=t, V=v.astype(np.float32), names=tuple(names), model="ltc", params=cc.params,
        stimulus=(), dt=float(t[1] - t[0]), record_every=1, final_state=v[-1:].astype(float),
        circuit=cc,
    )  # fmt: skip


def test_pca_two_modes():
    rng = np.random.default_rng(0)
    t = np.arange(0, 10, 0.01)
    a, b = np.sin(2 * np.pi * t / 1.3), 0.5 * np.cos(2 * np.pi * t / 1.3)
    load = rng.normal(size=(2, 8))
    v = np.outer(a, load[0]) + np.outer(b, load[1]) + 3.0
    r = fake_result(t, v, [f"N{i}" for i in range(8)])
    p = pca(r)
    assert p.explained[:2].sum() == pytest.approx(1.0, abs=1e-5)
    assert p.explained[0] > p.explained[1] > 0.05
    np.testing.assert_allclose(p.mean, 3.0 + 0 * p.mean + v.mean(0) - 3.0, atol=1e-5)
    recon = p.projections[:, :2] @ p.components[:2] + p.mean
    np.testing.assert_allclose(recon, v, atol=1e-4)
    sub = pca(r, ["N1", "N3"], start=2.0, n_components=1)
    assert sub.names == ("N1", "N3") and sub.projections.shape == ((t >= 2.0).sum(), 1)


def test_pca_of_constant_activity_has_no_modes():
    t = np.arange(0, 1, 0.1)
    r = fake_result(t, np.ones((10, 3)), ["A", "B", "C"])
    assert np.all(pca(r).explained == 0)


@pytest.mark.parametrize("period", [0.37, 1.25, 4.0])
def test_dominant_period_of_periodic_signals(period):
    t = np.arange(0, 40, 0.005)
    x = np.sin(2 * np.pi * t / period) + 0.3 * np.sin(4 * np.pi * t / period + 1.0)
    est = dominant_period(x, 0.005)
    assert est.period == pytest.approx(period, rel=2e-3)
    assert est.strength > 0.95 and est.frequency == pytest.approx(1 / est.period)


def test_dominant_period_of_noise_and_constants():
    rng = np.random.default_rng(1)
    est = dominant_period(rng.normal(size=4000), 0.01)
    assert est.strength < 0.2
    assert np.isnan(dominant_period(np.ones(100), 0.01).period)
    assert np.isnan(dominant_period(np.linspace(0, 1, 100), 0.01).period)
    with pytest.raises(SimulationError):
        dominant_period(np.ones((3, 3)), 0.1)


def test_response_summary_exact_for_leaky_neuron():
    """An isolated ltc neuron under a step from t = 2: v = (I / gleak) (1 - r^k) after k
    sub-steps; peak at the end, latency at the first record above 10% of it."""
    edges = pd.DataFrame(
        {"pre": ["A"], "post": ["B"], "kind": ["chemical"], "weight": [1.0], "sign": [1]}
    )
    cc = compile_circuit(Wiring(["A", "B"], edges, "pair"), "ltc").with_arrays(w=0.0)
    r = simulate(cc, step("A", 1.0, start=2.0), duration=20.0, dt=0.5)
    df = response_summary(r, onset=2.0)
    cm, gleak, h = 0.5, 0.5, 0.5 / 6
    rate = (cm / h) / (cm / h + gleak + 1e-8)
    k = np.arange(1, 37) * 6  # sub-steps after onset at each record
    v = (1.0 / (gleak + 1e-8)) * (1 - rate**k)  # vleak = 0
    assert df.loc["A", "peak"] == pytest.approx(v[-1], rel=1e-6)
    np.testing.assert_allclose(r.V[r.t > 2.0, 0], v, rtol=1e-6)
    assert df.loc["A", "peak_time"] > 15.0  # flat at v_inf in float32 from there on
    # latency, exactly: the first record after k* = log(1 - level (1 - r^K)) / log(r)
    # sub-steps (K = 216 at the peak), i.e. record ceil(k* / 6), 0.5 apart
    for level, record in [(0.1, 1), (0.5, 2), (0.9, 5)]:
        k_star = math.log(1 - level * (1 - rate**216)) / math.log(rate)
        assert math.ceil(k_star / 6) == record  # (k* / 6 is far from a whole number)
        got = response_summary(r, onset=2.0, level=level).loc["A", "latency"]
        assert got == 0.5 * record, f"level {level}"
    assert df.loc["A", "baseline"] == 0.0
    assert np.isnan(df.loc["B", "latency"]) and df.loc["B", "peak"] == 0.0


def test_oscillation_summary_of_sine():
    t = np.arange(0, 30, 0.01)
    v = np.stack([np.sin(2 * np.pi * t / 2.0), 2 * np.cos(2 * np.pi * t / 2.0)], 1)
    osc = oscillation_summary(fake_result(t, v, ["A", "B"]), start=5.0)
    assert osc.period == pytest.approx(2.0, rel=1e-3)
    assert osc.amplitude == pytest.approx(4.0, rel=1e-3)
    assert sum(osc.explained[:2]) == pytest.approx(1.0)
