"""Wiring files: JSON round trips, validation messages, ncps, GraphML and CSV."""

import json

import numpy as np
import pandas as pd
import pytest

from connectome import Circuit, WiringFormatError, io, load


@pytest.fixture(scope="module")
def neuron_circuit():
    c = load("cook2019")
    return Circuit.from_neurons(c, "PLM PVC AVA AVB AVD").threshold(chemical=2)


def test_json_round_trip_is_byte_identical(tw, neuron_circuit):
    for circuit in (tw, neuron_circuit, tw.set_sign("PLM", -1)):
        text = io.to_json(circuit)
        back = io.from_json(text)
        assert io.to_json(back) == text
        assert back.edges.equals(circuit.edges)
        assert back.roles == circuit.roles


def test_json_schema_content(tw):
    data = json.loads(io.to_json(tw))
    assert data["format"] == "wormlab-wiring" and data["version"] == 1
    assert data["dataset"] == "cook2019" and data["level"] == "class"
    assert [n["name"] for n in data["neurons"]] == list(tw.neurons.index)
    assert {s["kind"] for s in data["synapses"]} == {"chemical", "electrical"}
    assert data["operations"][0]["op"] == "from_neurons"


def _broken(tw, edit):
    data = json.loads(io.to_json(tw))
    edit(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.pop("synapses"), "missing field 'synapses'"),
        (lambda d: d["neurons"][0].pop("role"), r"neurons\[0\]: missing field 'role'"),
        (lambda d: d["neurons"][1].update(name="AVX"), r"neurons\[1\].name: unknown neuron"),
        (lambda d: d["synapses"][2].update(weight=-3), r"synapses\[2\].weight: bad value -3"),
        (lambda d: d["synapses"][0].update(kind="magic"), "use 'chemical' or 'electrical'"),
        (lambda d: d["synapses"][0].update(pre="RIA"), "not among the file's neurons"),
        (lambda d: d.update(version=7), "version 7 is not supported"),
        (lambda d: d.update(dataset="cook2020"), "unknown dataset"),
        (lambda d: d["neurons"][0].update(role="boss"), "roles are sensory, inter, motor"),
        (lambda d: d["synapses"][0].update(weight="3"), "must be int/float"),
    ],
)
def test_import_says_what_is_wrong(tw, edit, message):
    with pytest.raises(WiringFormatError, match=message):
        io.from_json(_broken(tw, edit))


def test_import_refuses_big_files_and_bad_json():
    with pytest.raises(WiringFormatError, match="too large"):
        io.from_json(b" " * (io.MAX_BYTES + 1))
    with pytest.raises(WiringFormatError, match="not valid JSON"):
        io.from_json("{'format': 1}")
    with pytest.raises(WiringFormatError, match="JSON object"):
        io.from_json("[1, 2]")


def test_graphml_round_trip(tw, neuron_circuit):
    for circuit in (tw, neuron_circuit):
        back = io.from_graphml(io.to_graphml(circuit))
        assert io.to_json(back) == io.to_json(circuit)
    with pytest.raises(WiringFormatError, match="GraphML"):
        io.from_graphml("<graphml><oops")


def test_csv_round_trip(neuron_circuit, tw):
    back = io.from_csv(io.to_csv(neuron_circuit), dataset="cook2019")
    assert back.edges.equals(neuron_circuit.edges)
    back = io.from_csv(io.to_csv(tw), dataset="cook2019", level="class")
    assert back.edges.equals(tw.edges)
    with pytest.raises(WiringFormatError, match="missing column"):
        io.from_csv("a,b\n1,2\n")
    with pytest.raises(WiringFormatError, match="unknown neuron"):
        io.from_csv("pre,post,kind,weight\nAVAL,AVX,chemical,1\n")


def test_csv_without_a_sign_column_takes_the_presynaptic_neurons_default():
    """Chemical synapses get the sign of their presynaptic neuron's transmitter (DD1 is
    GABAergic: -1; AVAL cholinergic: +1), gap junctions +1; roles follow neuron types."""
    cook = load("cook2019")
    e = cook.neuron_edges
    names = ["DD1", "DD2", "DA2", "VD2", "AVAL", "PLML", "VA1"]
    rows = e[e["pre"].isin(names) & e["post"].isin(names)]
    assert set(rows["kind"]) == {"chemical", "electrical"}
    text = rows[["pre", "post", "kind", "weight"]].to_csv(index=False)
    c = io.from_csv(text, dataset="cook2019")
    expected = Circuit(cook, list(dict.fromkeys([*rows["pre"], *rows["post"]])), {}, rows)
    pd.testing.assert_frame_equal(c.edges, expected.edges)
    signs = cook.neurons["sign"]
    assert signs["DD1"] == -1 and signs["AVAL"] == 1
    for r in c.edges.itertuples():
        assert r.sign == (signs[r.pre] if r.kind == "chemical" else 1), r
    assert (c.edges.loc[c.edges["pre"] == "DD1", "sign"] == -1).any()
    assert c.roles == {n: {"motor": "motor", "sensory": "sensory"}.get(
        cook.neurons.loc[n, "type"], "inter") for n in c.neurons.index}  # fmt: skip
    # at class level the class's sign counts
    cls = io.from_csv("pre,post,kind,weight\nDD,VA,chemical,3\nAVA,VA,chemical,2\n", level="class")
    assert dict(zip(cls.edges["pre"], cls.edges["sign"], strict=True)) == {"DD": -1, "AVA": 1}


def test_ncps_config_matches_circuit(tw):
    cfg = io.to_ncps(tw)
    meta = cfg["wormlab"]
    assert cfg["output_dim"] == 2 and meta["unit_names"][:2] == ["AVA", "AVB"]
    assert cfg["input_dim"] == 4 and meta["input_names"] == ["PLM", "AVM", "ALM", "PVD"]
    adj = np.array(cfg["adjacency_matrix"])
    units = meta["unit_names"]
    e = tw.edges
    chem = e[(e["kind"] == "chemical") & e["pre"].isin(units) & e["post"].isin(units)]
    assert np.count_nonzero(adj) == len(chem)
    for r in chem.itertuples():
        assert adj[units.index(r.pre), units.index(r.post)] == r.sign
    n_gap = int((e["kind"] == "electrical").sum())
    assert len(meta["dropped"]["gap_junctions"]) == n_gap


def test_ncps_accepts_the_config_and_runs(tw):
    torch = pytest.importorskip("torch")
    ncps_wirings = pytest.importorskip("ncps.wirings")
    from ncps.torch import LTC

    cfg = json.loads(io.export(tw.set_sign("AVD", -1), "ncps"))
    wiring = ncps_wirings.Wiring.from_config(cfg)
    assert wiring.units == cfg["units"] and wiring.output_dim == 2
    assert wiring.synapse_count == np.count_nonzero(cfg["adjacency_matrix"])
    assert wiring.sensory_synapse_count == np.count_nonzero(cfg["sensory_adjacency_matrix"])
    assert (wiring.erev_initializer() == np.array(cfg["adjacency_matrix"])).all()
    rnn = LTC(cfg["input_dim"], wiring, batch_first=True)
    y, _ = rnn(torch.zeros(2, 5, cfg["input_dim"]))
    assert tuple(y.shape) == (2, 5, 2)
    assert torch.isfinite(y).all()


def test_ncps_needs_roles():
    c = Circuit.from_neurons(load("cook2019"), "AVA AVB")
    with pytest.raises(WiringFormatError, match="sensory"):
        io.to_ncps(c)
    with pytest.raises(WiringFormatError, match="unknown export format 'xlsx'; use one of json"):
        io.export(c, "xlsx")
