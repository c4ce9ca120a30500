"""Circuits pruned out of the real connectome, their operations and presets."""

import pandas as pd
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


def test_problems_name_the_disconnected_parts(cook):
    # AVAL and DD1 share no synapse in Cook 2019
    e = cook.neuron_edges
    assert not (e["pre"].isin(["AVAL", "DD1"]) & e["post"].isin(["AVAL", "DD1"])).any()
    two = Circuit.from_neurons(cook, "AVAL DD1").set_roles(sensory="DD1", motor="AVAL")
    assert two.problems() == [
        "the circuit falls into 2 disconnected parts (unconnected: AVAL, DD1)"
    ]
    # PLML-AVAL-AVAR are connected; RMEL and RMER touch none of them nor each other
    three = Circuit.from_neurons(cook, "PLML AVAL AVAR RMEL RMER").set_roles(
        sensory="PLML", motor="AVAL"
    )
    assert three.problems() == [
        "the circuit falls into 3 disconnected parts (unconnected: RMEL, RMER)"
    ]
    # joined through a gap junction (AVAL - AVAR) and chemical synapses, one piece
    assert (
        Circuit.from_neurons(cook, "PLML AVAL AVAR")
        .set_roles(sensory="PLML", motor="AVAL")
        .problems()
        == []
    )
    # ten neurons without a synapse among them: the first eight are named
    lone = "ADAR ADFL AFDR AIML AIYL AIZR ALA ALMR ALNL ALNR"
    assert Circuit.from_neurons(cook, lone).problems()[1] == (
        "the circuit falls into 10 disconnected parts (unconnected: ADAR, ADFL, AFDR, AIML, "
        "AIYL, AIZR, ALA, ALMR...)"
    )


def _top_k_reference(edges, k, kind):
    """Each neuron's k heaviest inputs (a gap junction is an input of both its ends; ties
    by partner name, then chemical before electrical); an edge stays if an end that counts
    it as an input keeps it. Edges of the other kind are left alone."""
    kept = set()
    rows = list(edges.itertuples(index=False))
    considered = [r for r in rows if kind is None or r.kind == kind]
    inputs = {}
    for i, r in enumerate(rows):
        if kind is not None and r.kind != kind:
            kept.add(i)
            continue
        inputs.setdefault(r.post, []).append((-r.weight, r.pre, r.kind != "chemical", i))
        if r.kind == "electrical" and r.pre != r.post:
            inputs.setdefault(r.pre, []).append((-r.weight, r.post, True, i))
    for items in inputs.values():
        kept |= {i for *_, i in sorted(items)[:k]}
    assert considered
    return edges.iloc[sorted(kept)].reset_index(drop=True)


@pytest.mark.parametrize("k", [0, 1, 2, 4])
@pytest.mark.parametrize("kind", [None, "electrical", "chemical"])
def test_top_k_inputs_counts_gap_junctions_at_both_ends(cook, k, kind):
    c = Circuit.from_neurons(cook, "PLM PVC AVA AVB AVD DVA")
    got = c.top_k_inputs(k, kind=kind).edges
    expected = _top_k_reference(c.edges, k, kind)
    pd.testing.assert_frame_equal(got, expected)


def test_top_k_inputs_keeps_a_gap_junction_that_one_end_keeps(cook):
    c = Circuit.from_neurons(cook, "PLM PVC AVA AVB AVD DVA")
    one = c.top_k_inputs(1, kind="electrical").edges
    gap = c.edges[c.edges["kind"] == "electrical"]
    # each neuron's heaviest gap junction survives, and nothing else
    best = {}
    for r in gap.itertuples():
        for end, other in ((r.post, r.pre), (r.pre, r.post)):
            best.setdefault(end, []).append((-r.weight, other, (r.pre, r.post)))
    wanted = {min(v)[2] for v in best.values()}
    kept = {(p, q) for p, q, kind in one[["pre", "post", "kind"]].itertuples(index=False)
            if kind == "electrical"}  # fmt: skip
    assert kept == wanted
    # at least one survives for one end only: the other end's heaviest is elsewhere
    ends_keeping = {pair: [end for end, v in best.items() if min(v)[2] == pair] for pair in wanted}
    assert any(len(ends) == 1 for ends in ends_keeping.values())
    # chemical synapses are not considered with kind="electrical"
    assert (one["kind"] == "chemical").sum() == (c.edges["kind"] == "chemical").sum()


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


def test_apply_carries_out_each_recorded_operation(cook):
    """Circuit.apply(record) is the method of that name called with the record's
    arguments, and replay goes through it."""
    c = (
        Circuit.from_neurons(cook, "PLM PVC AVB")
        .add("AVD")
        .expand(1, kind="electrical", direction="in")
        .add_paths("PLM", "AVA", max_length=2)
        .threshold(chemical=3)
        .top_k_inputs(4, kind="chemical")
        .set_sign("PLM", -1)
        .ablate("DVA")
        .merge_classes()
        .set_roles(sensory="PLM", motor="AVB")
    )
    step = Circuit.replay(c.ops[:1])
    for op in c.ops[1:]:
        nxt = step.apply(op)
        assert nxt.ops[-1] == op  # records itself as it was recorded
        assert nxt.ops[:-1] == step.ops
        step = nxt
    assert connectome.io.to_json(step) == connectome.io.to_json(c)
    assert [op["op"] for op in c.ops[1:]] == [
        "add", "expand", "add_paths", "threshold", "top_k_inputs", "set_sign", "ablate",
        "merge_classes", "set_roles",
    ]  # fmt: skip
    assert set(connectome.circuit.OPERATIONS) == {op["op"] for op in c.ops[1:]}


@pytest.mark.parametrize(
    "op, text",
    [
        ({"op": "explode"}, "unknown circuit operation 'explode'; operations are add, expand"),
        ({"names": ["AVAL"]}, "unknown circuit operation None"),
        ({"op": "from_neurons", "names": ["AVAL"]}, "unknown circuit operation 'from_neurons'"),
        ("ablate AVAL", "must be a record"),
        ({"op": "add", "neurons_please": ["AVAL"]}, "operation 'add': .*(it takes names)"),
        ({"op": "add"}, "operation 'add': missing a required argument"),
        ({"op": "expand", "k": "two"}, r"k \(hops\) must be a whole number in 0 .. 10, got 'two'"),
        ({"op": "add", "names": 7}, "operation 'add': bad arguments"),
        ({"op": "threshold", "chemical": -1}, "chemical threshold must be a finite number in 0"),
        ({"op": "expand", "direction": "up"}, "direction must be 'both', 'in' or 'out'"),
        ({"op": "set_sign", "names": ["AVAL"], "sign": 0}, "sign must be 1 or -1"),
    ],
)
def test_apply_refuses_unknown_operations_and_bad_arguments(cook, op, text):
    c = Circuit.from_neurons(cook, "AVA PVC")
    with pytest.raises(CircuitError if "direction" not in text else connectome.QueryError,
                       match=text):  # fmt: skip
        c.apply(op)


def test_replay_refuses_what_is_not_a_record_of_operations(cook):
    good = Circuit.from_neurons(cook, "AVA PVC").ops
    for ops, text in [
        ([], "must start with one of from_neurons, from_paths"),
        ({"op": "from_neurons"}, "must be a list of records"),
        ("from_neurons", "must be a list of records"),
        ([{"op": "add", "names": ["AVAL"]}], "must start with one of"),
        ([{k: v for k, v in good[0].items() if k != "dataset"}], "missing field 'dataset'"),
        ([good[0], {"op": "explode"}], "unknown circuit operation 'explode'"),
        ([dict(good[0], level="organ")], "level must be 'neuron' or 'class'"),
    ]:
        with pytest.raises(CircuitError, match=text):
            Circuit.replay(ops)
    # without "dataset" the network given is used
    assert Circuit.replay(
        [{k: v for k, v in good[0].items() if k != "dataset"}], cook
    ).edges.equals(Circuit.replay(good).edges)


def test_a_circuit_is_read_only(cook):
    """Circuits are shared (the web app caches them for every session): nothing a caller
    gets from one changes it."""
    c = Circuit.from_neurons(cook, "PLM AVA").set_roles(sensory="PLM", motor="AVA")
    text = connectome.io.to_json(c)
    c.ops[0]["neurons"].append("DVA")
    c.ops[-1]["motor"] = ["PLML"]
    edges, neurons = c.edges, c.neurons
    edges["weight"] = 0.0
    neurons["role"] = "motor"
    c.roles["AVAL"] = "sensory"
    assert connectome.io.to_json(c) == text
