"""Circuits pruned out of the real connectome, their operations and presets."""

import pytest

import connectome
from connectome import Circuit, CircuitError, UnknownNeuronError, load, presets


@pytest.fixture(scope="module")
def cook():
    return load("cook2019")


def test_from_neurons_keeps_every_synapse_among_them(cook):
    names = cook.resolve("PLM PVC AVA AVB AVD")
    c = Circuit.from_neurons(cook, names)
    e = cook.neuron_edges
    expected = e[e["pre"].isin(names) & e["post"].isin(names)]
    assert len(c.edges) == len(expected)
    assert c.edges["weight"].sum() == expected["weight"].sum()
    assert c.sensory == ["PLML", "PLMR"]
    assert c.roles["AVAL"] == "inter"


def test_threshold_separately_per_kind(cook):
    c = Circuit.from_neurons(cook, "PLM PVC AVA AVB AVD DVA")
    t = c.threshold(chemical=5)
    chem = t.edges[t.edges["kind"] == "chemical"]
    assert chem["weight"].min() >= 5
    assert (t.edges["kind"] == "electrical").sum() == (c.edges["kind"] == "electrical").sum()
    t2 = c.threshold(electrical=3)
    gap = t2.edges[t2.edges["kind"] == "electrical"]
    assert gap["weight"].min() >= 3
    with pytest.raises(CircuitError, match="threshold"):
        c.threshold(chemical=-1)


def test_threshold_holds_for_later_additions(cook):
    c = Circuit.from_neurons(cook, "AVA").threshold(chemical=10, electrical=10).add("AVD PVC")
    assert c.edges["weight"].min() >= 10
    direct = Circuit.from_neurons(cook, "AVA AVD PVC").threshold(chemical=10, electrical=10)
    assert len(direct.edges) == len(c.edges)


def test_ablate_removes_neuron_and_synapses(cook):
    c = presets.tap_withdrawal(cook)
    a = c.ablate("AVD")
    assert "AVD" not in a.neurons.index
    assert not ((a.edges["pre"] == "AVD") | (a.edges["post"] == "AVD")).any()
    with pytest.raises(UnknownNeuronError):
        c.ablate("AVX")
    with pytest.raises(CircuitError):
        Circuit.from_neurons(cook, "AVAL").ablate("AVAL")


def test_top_k_inputs(cook):
    c = Circuit.from_neurons(cook, "PLM PVC AVA AVB AVD DVA").top_k_inputs(2, kind="chemical")
    chem = c.edges[c.edges["kind"] == "chemical"]
    assert chem.groupby("post").size().max() <= 2
    full = Circuit.from_neurons(cook, "PLM PVC AVA AVB AVD DVA").edges
    fc = full[(full["kind"] == "chemical") & (full["post"] == "AVAL")]
    kept = chem[chem["post"] == "AVAL"]
    assert sorted(kept["weight"]) == sorted(fc["weight"].nlargest(2))


def test_expand_adds_the_k_hop_neighbourhood(cook):
    c = Circuit.from_neurons(cook, "PLML").expand(1, kind="chemical", direction="out")
    e = cook.neuron_edges
    targets = set(e[(e["pre"] == "PLML") & (e["kind"] == "chemical")]["post"])
    assert set(c.neurons.index) == {"PLML"} | targets


def test_from_paths_roles(cook):
    c = Circuit.from_paths(cook, "PLM", "AVB", max_length=2)
    assert set(c.sensory) == {"PLML", "PLMR"}
    assert set(c.motor) <= {"AVBL", "AVBR"} and c.motor
    with pytest.raises(CircuitError, match="no path"):
        Circuit.from_paths(load("varshney2011"), "PLM", "AVB", max_length=1)


def test_merge_classes_sums(cook):
    c = Circuit.from_neurons(cook, "PLM PVC AVA").merge_classes()
    assert list(c.neurons.index) == ["PLM", "PVC", "AVA"]
    assert c.level == "class"
    e = cook.neuron_edges
    plm, ava = cook.resolve("PLM"), cook.resolve("AVA")
    w = e[(e["kind"] == "chemical") & e["pre"].isin(plm) & e["post"].isin(ava)]["weight"].sum()
    row = c.edges[
        (c.edges["pre"] == "PLM") & (c.edges["post"] == "AVA") & (c.edges["kind"] == "chemical")
    ]
    assert row["weight"].item() == w


def test_set_roles_and_problems(cook):
    c = Circuit.from_neurons(cook, "AVA AVB AVD")
    assert any("sensory" in p for p in c.problems())
    r = c.set_roles(sensory="AVD", motor="AVA")
    assert r.sensory == ["AVDL", "AVDR"] and r.motor == ["AVAL", "AVAR"]
    assert r.problems() == []
    with pytest.raises(CircuitError, match="both sensory and motor"):
        c.set_roles(sensory="AVA", motor="AVA")
    lone = Circuit.from_neurons(cook, "AVAL ASHL").set_roles(sensory="ASHL", motor="AVAL")
    disconnected = Circuit.from_neurons(cook, "AVAL DD1").set_roles(sensory="DD1", motor="AVAL")
    assert any("disconnected" in p for p in disconnected.problems()) or not lone.problems()


def test_set_sign_overrides_glutamate(cook):
    tw = presets.tap_withdrawal(cook).set_sign("PLM", -1)
    e = tw.edges
    assert (e[(e["pre"] == "PLM") & (e["kind"] == "chemical")]["sign"] == -1).all()
    assert (e[(e["pre"] == "PLM") & (e["kind"] == "electrical")]["sign"] == 1).all()


def test_replay_rebuilds_the_same_circuit(cook):
    c = (
        Circuit.from_neurons(cook, "PLM PVC AVB")
        .expand(1, kind="electrical")
        .threshold(chemical=3)
        .top_k_inputs(4)
        .set_sign("PLM", -1)
        .ablate("AVD")
        .merge_classes()
        .set_roles(sensory="PLM", motor="AVB")
    )
    again = Circuit.replay(c.ops)
    assert list(again.neurons.index) == list(c.neurons.index)
    assert again.edges.equals(c.edges)
    assert again.roles == c.roles


def test_tap_withdrawal_preset_from_data(cook):
    tw = presets.tap_withdrawal(cook)
    assert tw.sensory == ["PLM", "AVM", "ALM", "PVD"]
    assert tw.motor == ["AVA", "AVB"]
    assert tw.inter == ["AVD", "PVC", "DVA"]
    assert tw.problems() == []
    # the anterior (AVD -> AVA) and posterior (PVC -> AVB) pathways of Wicks et al. 1996
    e = tw.edges
    chem = e[e["kind"] == "chemical"].set_index(["pre", "post"])["weight"]
    assert chem[("AVD", "AVA")] == chem.max()
    assert chem[("PVC", "AVB")] > 50
    # on another dataset the preset reads that dataset's wiring
    v = presets.tap_withdrawal(load("varshney2011"))
    assert v.sensory == tw.sensory and not v.edges.equals(tw.edges)


def test_other_presets():
    loco = presets.locomotion()
    assert set(loco.motor) == {"VA", "VB", "DA", "DB", "AS", "DD", "VD"}
    assert not loco.sensory
    chemo = presets.chemotaxis()
    assert chemo.sensory == ["ASE", "AWC"] and "RMD" in chemo.motor
    assert connectome.presets.preset("tap-withdrawal").motor == ["AVA", "AVB"]
    with pytest.raises(CircuitError, match="presets are"):
        connectome.presets.preset("swimming")
