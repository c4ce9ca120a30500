"""The neuromuscular map against the shipped Cook 2019 rows; the muscle layer against NumPy."""

import math

import numpy as np
import pandas as pd
import pytest

from connectome.datasets import DATA_DIR
from connectome.errors import SimulationError
from sim.muscles import (
    MUSCLES,
    MuscleParams,
    muscle_activation,
    muscle_input,
    neuromuscular_map,
)


@pytest.fixture(scope="module")
def nmj_rows():
    """Cook 2019's neuron -> body-wall-muscle chemical rows, read straight from the CSV."""
    edges = pd.read_csv(DATA_DIR / "edges" / "cook2019.csv")
    neurons = set(pd.read_csv(DATA_DIR / "neurons.csv")["name"])
    bwm = edges["post"].str.fullmatch(r"M[DV][LR]\d\d")
    return edges[bwm & (edges["kind"] == "chemical") & edges["pre"].isin(neurons)]


def test_95_muscles_without_mvl24():
    assert len(MUSCLES) == 95 == len(set(MUSCLES))
    assert "MVL24" not in MUSCLES and "MVR24" in MUSCLES and "MDL24" in MUSCLES


def test_map_totals_match_the_data(nmj_rows):
    nmj = neuromuscular_map()
    assert nmj.counts.sum() == nmj_rows["weight"].sum() == 5515
    assert int((nmj.counts > 0).sum()) == len(nmj_rows) == 956
    assert set(nmj.neurons) == set(nmj_rows["pre"]) and len(nmj.neurons) == 162
    assert set(nmj_rows["post"]) == set(MUSCLES)  # every one of the 95 muscles is innervated
    per_neuron = nmj_rows.groupby("pre")["weight"].sum()
    for j, name in enumerate(nmj.neurons):
        assert nmj.counts[:, j].sum() == per_neuron[name], name
    per_muscle = nmj_rows.groupby("post")["weight"].sum()
    for i, name in enumerate(nmj.muscles):
        assert nmj.counts[i].sum() == per_muscle[name], name
    table = nmj.table()
    assert len(table) == 956 and table["weight"].sum() == 5515
    row = nmj_rows.set_index(["pre", "post"])["weight"]
    for r in table.sample(50, random_state=0).itertuples():
        assert row[(r.neuron, r.muscle)] == r.weight


def test_map_counts_match_the_manifest():
    from connectome.datasets import manifest

    entry = manifest()["neuromuscular"]
    nmj = neuromuscular_map(entry["dataset"])
    assert entry["junctions"] == int((nmj.counts > 0).sum())
    assert entry["sections"] == nmj.counts.sum()
    assert entry["neurons"] == len(nmj.neurons) and entry["muscles"] == len(nmj.muscles)
    assert entry["excitatory_sections"] == nmj.counts[:, nmj.sign > 0].sum()
    assert entry["inhibitory_sections"] == nmj.counts[:, nmj.sign < 0].sum()


def test_map_signs_gaba_inhibitory_cholinergic_excitatory():
    nmj = neuromuscular_map()
    sign = dict(zip(nmj.neurons, nmj.sign, strict=True))
    for name in ("VD1", "VD13", "DD1", "DD6", "RMED", "RMEV"):
        assert sign[name] == -1, name
    for name in ("VB1", "DB1", "VA1", "DA1", "AS1", "SMDVL", "SABD"):
        assert sign[name] == 1, name
    # weights: signed, normalised so the mean muscle's total is 1
    w = nmj.weights
    assert math.isclose(np.abs(w).sum(axis=1).mean(), 1.0, rel_tol=1e-12)
    assert np.all(np.sign(w[:, nmj.sign < 0]) <= 0) and np.all(np.sign(w[:, nmj.sign > 0]) >= 0)


def test_map_rows_and_sides():
    nmj = neuromuscular_map()
    assert nmj.row.min() == 1 and nmj.row.max() == 24
    assert nmj.dorsal.sum() == 48 and (~nmj.dorsal).sum() == 47
    # VD neurons innervate ventral muscles, DD dorsal ones (White et al. 1986), with two
    # exceptions in Cook 2019: DD3 -> MVL/MVR (1 section), VD13 -> MD (3 sections)
    t = nmj.table()
    side = t.groupby([t["neuron"].str[:2], "side"])["weight"].sum()
    assert side[("VD", "ventral")] == 362 and side[("VD", "dorsal")] == 3
    assert side[("DD", "dorsal")] == 243 and side[("DD", "ventral")] == 1


def test_map_applies_by_name_to_another_dataset():
    import connectome

    nmj = neuromuscular_map()
    names = tuple(connectome.load("varshney2011").neurons.index)
    idx, weights, missing = nmj.columns(names)
    assert len(idx) + len(missing) == len(nmj.neurons)
    assert weights.shape == (95, len(idx))
    assert [names[i] for i in idx] == [n for n in nmj.neurons if n not in missing]
    assert set(missing) <= set(nmj.neurons) and not set(missing) & set(names)


def test_map_needs_muscle_rows():
    with pytest.raises(SimulationError, match="no neuron -> body-wall-muscle rows"):
        neuromuscular_map("varshney2011")


def reference_activation(u, dt, tau, a0):
    """The slow, obvious version: one time step at a time, the exact exponential update."""
    decay = math.exp(-dt / tau)
    a = np.array(a0, dtype=np.float64)
    out = np.zeros_like(u)
    for k in range(u.shape[0]):
        out[k] = a
        a = decay * a + (1.0 - decay) * u[k]
    return out


@pytest.mark.parametrize(
    "case",
    ["random", "zero input", "zero input from a state", "one muscle", "single step", "long tau"],
)
def test_muscle_layer_matches_numpy_reference(case):
    rng = np.random.default_rng(7)
    dt, tau, a0 = 1e-4, 0.1, np.zeros(95)
    u = rng.normal(0.0, 5.0, size=(500, 95))
    if case == "zero input":
        u[:] = 0.0
    elif case == "zero input from a state":
        u[:] = 0.0
        a0 = rng.normal(size=95)
    elif case == "one muscle":
        u, a0 = u[:, :1], a0[:1]
    elif case == "single step":
        u = u[:1]
    elif case == "long tau":
        tau, dt = 50.0, 0.01
    got = muscle_activation(u, dt, MuscleParams(tau=tau), initial=a0)
    want = reference_activation(u, dt, tau, a0)
    for k in range(len(u)):
        np.testing.assert_allclose(got[k], want[k], rtol=1e-13, atol=1e-13, err_msg=f"step {k}")
    if case == "zero input":
        assert np.all(got == 0.0)


def test_muscle_step_response_is_exponential():
    tau, dt = 0.1, 1e-3
    a = muscle_activation(np.full((1001, 1), 3.0), dt, MuscleParams(tau=tau))[:, 0]
    t = np.arange(1001) * dt
    np.testing.assert_allclose(a, 3.0 * (1.0 - np.exp(-t / tau)), rtol=1e-12, atol=1e-12)


def test_muscle_input_is_the_weighted_sum():
    rng = np.random.default_rng(3)
    drive, weights = rng.normal(size=(20, 7)), rng.normal(size=(95, 7))
    u = muscle_input(drive, weights)
    for k in range(20):
        for m in (0, 50, 94):
            assert math.isclose(u[k, m], sum(weights[m, j] * drive[k, j] for j in range(7)))


@pytest.mark.parametrize("tau", [0.0, -1.0, float("nan")])
def test_bad_tau(tau):
    with pytest.raises(SimulationError, match="muscle tau"):
        MuscleParams(tau=tau)


def test_bad_inputs():
    with pytest.raises(SimulationError, match="finite"):
        muscle_activation(np.array([[np.nan]]), 1e-3)
    with pytest.raises(SimulationError, match="shape"):
        muscle_activation(np.zeros(3), 1e-3)
    with pytest.raises(SimulationError, match="dt"):
        muscle_activation(np.zeros((3, 1)), 0.0)
