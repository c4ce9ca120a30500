"""The graph layer on the real datasets."""

import networkx as nx
import pandas as pd
import pytest

import connectome
from connectome import UnknownDatasetError, UnknownNeuronError, load
from connectome.datasets import dataset_info, manifest, read_cells, read_edges, read_neurons


@pytest.fixture(scope="module")
def cook():
    return load("cook2019")


def test_load_every_dataset_matches_its_file():
    for name in connectome.datasets().index:
        c = load(name)
        raw = read_edges(name)
        assert len(c.edges) == len(raw)
        assert c.graph.number_of_edges() == len(raw)
        assert set(c.graph.nodes) == set(raw["pre"]) | set(raw["post"])


def test_load_is_shared_and_read_only(cook):
    assert load("cook2019") is cook
    assert load(" Cook2019") is cook
    edges = cook.edges
    edges["weight"] = 0.0
    assert cook.edges["weight"].min() > 0
    assert nx.is_frozen(cook.graph)


def test_unknown_dataset_lists_the_shipped_ones():
    with pytest.raises(UnknownDatasetError, match="varshney2011"):
        load("cook2020")


def test_edge_signs_follow_presynaptic_transmitter(cook):
    e = cook.edges
    chem = e[e["kind"] == "chemical"]
    assert (chem.loc[chem["pre"] == "DD1", "sign"] == -1).all()  # GABA
    assert (chem.loc[chem["pre"] == "AVAL", "sign"] == 1).all()  # ACh
    assert (e.loc[e["kind"] == "electrical", "sign"] == 1).all()


def test_resolve_is_case_insensitive_and_expands_classes(cook):
    assert cook.resolve("ava") == ["AVAL", "AVAR"]
    assert cook.resolve(["va1", "AVAL"]) == ["VA1", "AVAL"]
    assert cook.resolve("VA") == [f"VA{i}" for i in range(1, 13)]
    assert cook.resolve("DVA") == ["DVA"]


def test_unknown_neuron_suggests_close_names(cook):
    with pytest.raises(UnknownNeuronError) as err:
        cook.resolve("AVLA")
    assert "AVAL" in str(err.value)
    assert "AVAL" in err.value.suggestions


def test_partners_sorted_by_weight_and_match_edges(cook):
    p = connectome.partners(cook, "aval")
    e = cook.edges
    out = p[p["direction"] == "out"]
    expected = e[(e["pre"] == "AVAL") & (e["kind"] == "chemical")]
    assert len(out) == len(expected)
    assert out["weight"].is_monotonic_decreasing
    assert out["weight"].sum() == expected["weight"].sum()
    gap = p[p["direction"] == "gap"]
    eg = e[(e["kind"] == "electrical") & ((e["pre"] == "AVAL") | (e["post"] == "AVAL"))]
    assert gap["weight"].sum() == eg["weight"].sum()
    with pytest.raises(UnknownNeuronError):
        connectome.partners(cook, "AVA")  # a class, not a neuron


def test_neighbourhood_hops(cook):
    one = connectome.neighbourhood(cook, "PLML", k=1)
    assert one[0] == "PLML"
    direct = set(connectome.partners(cook, "PLML")["partner"]) & set(cook.neurons.index)
    assert set(one[1:]) == direct
    two = connectome.neighbourhood(cook, "PLML", k=2)
    assert set(one) < set(two)
    assert connectome.neighbourhood(cook, "PLML", k=0) == ["PLML"]
    out_only = connectome.neighbourhood(cook, "PLML", k=1, kind="chemical", direction="out")
    e = cook.neuron_edges
    assert set(out_only[1:]) == set(e[(e["pre"] == "PLML") & (e["kind"] == "chemical")]["post"])


def test_neighbourhood_inputs_only(cook):
    """direction="in" follows chemical synapses backwards (presynaptic partners) and gap
    junctions either way; "out" and "in" together make "both"."""
    e = cook.neuron_edges
    chem, gap = e[e["kind"] == "chemical"], e[e["kind"] == "electrical"]
    for seed in ("AVAL", "PLML", "DD1"):
        inputs = set(chem.loc[chem["post"] == seed, "pre"])
        outputs = set(chem.loc[chem["pre"] == seed, "post"])
        gaps = set(gap.loc[gap["pre"] == seed, "post"]) | set(gap.loc[gap["post"] == seed, "pre"])
        got = connectome.neighbourhood(cook, seed, k=1, direction="in")
        assert got[0] == seed
        assert set(got) == ({seed} | inputs | gaps), seed
        chem_in = connectome.neighbourhood(cook, seed, k=1, kind="chemical", direction="in")
        assert set(chem_in) == {seed} | inputs, seed
        out = connectome.neighbourhood(cook, seed, k=1, direction="out")
        both = connectome.neighbourhood(cook, seed, k=1)
        assert set(out) == {seed} | outputs | gaps, seed
        assert set(both) == set(got) | set(out), seed
    # PLM has no chemical inputs: backwards along chemical synapses it reaches nothing
    assert connectome.neighbourhood(cook, "PLML", k=3, kind="chemical", direction="in") == ["PLML"]
    # two hops backwards: the inputs of the inputs
    two = connectome.neighbourhood(cook, "AVBL", k=2, kind="chemical", direction="in")
    one = set(chem.loc[chem["post"] == "AVBL", "pre"])
    expected = {"AVBL"} | one | set(chem.loc[chem["post"].isin(one), "pre"])
    assert set(two) == expected
    with pytest.raises(connectome.QueryError, match="direction must be"):
        connectome.neighbourhood(cook, "AVBL", direction="up")
    with pytest.raises(connectome.QueryError, match="unknown synapse kind"):
        connectome.neighbourhood(cook, "AVBL", kind="gap")


def test_strongest_path_is_the_cheapest(cook):
    paths = connectome.strongest_paths(cook, "PLML", "AVBL", n=3)
    assert paths and paths[0]["path"][0] == "PLML" and paths[0]["path"][-1] == "AVBL"
    costs = [p["cost"] for p in paths]
    assert costs == sorted(costs)
    g = connectome.queries.strength_graph(cook)
    best = nx.shortest_path_length(g, "PLML", "AVBL", weight="cost")
    assert paths[0]["cost"] == pytest.approx(best)


def test_all_paths_respects_length(cook):
    rows = connectome.all_paths(cook, "PLM", "AVA", max_length=2)
    assert rows
    assert all(r["length"] <= 2 for r in rows)
    assert all(r["path"][0] in ("PLML", "PLMR") for r in rows)
    assert {"AVAL", "AVAR"} >= {r["target"] for r in rows}


def test_no_path_gives_empty_list(cook):
    # no chemical synapse ends on PLML or PLMR in Cook 2019: along chemical synapses nothing
    # reaches them, while their gap junctions do connect them to AVAL
    e = cook.neuron_edges
    assert not (e["post"].isin(["PLML", "PLMR"]) & (e["kind"] == "chemical")).any()
    chem = connectome.queries.strength_graph(cook, kind="chemical")
    assert chem.in_degree("PLML") == chem.in_degree("PLMR") == 0
    assert not nx.has_path(chem, "AVAL", "PLML")
    assert connectome.strongest_paths(cook, "AVAL", "PLM", kind="chemical") == []
    assert connectome.shortest_paths(cook, "AVAL", "PLM", kind="chemical") == []
    assert connectome.all_paths(cook, "AVAL", "PLM", max_length=4, kind="chemical") == []
    # over every synapse there is a path, so the empty answers above are about the kind
    assert connectome.strongest_paths(cook, "AVAL", "PLML", n=1)[0]["path"][-1] == "PLML"
    # a neuron is not a path to itself
    assert connectome.strongest_paths(cook, "AVAL", "AVAL") == []


def test_degrees_and_hubs(cook):
    d = connectome.degrees(cook)
    assert len(d) == 302
    e = cook.neuron_edges
    chem = e[e["kind"] == "chemical"]
    assert d.loc["AVAL", "chem_in"] == (chem["post"] == "AVAL").sum()
    assert d.loc["AVAL", "chem_in_weight"] == chem.loc[chem["post"] == "AVAL", "weight"].sum()
    top = connectome.hubs(cook, 5)
    assert top["degree"].is_monotonic_decreasing and len(top) == 5


def test_class_level_sums_weights(cook):
    cls = cook.to_classes()
    assert "AVA" in cls.neurons.index and "AVAL" not in cls.neurons.index
    e, ce = cook.edges, cls.edges
    members = cook.resolve("AVA")
    chem = e[
        (e["kind"] == "chemical") & e["pre"].isin(members) & e["post"].isin(cook.resolve("PVC"))
    ]
    row = ce[(ce["pre"] == "AVA") & (ce["post"] == "PVC") & (ce["kind"] == "chemical")]
    assert row["weight"].item() == chem["weight"].sum()
    for kind in ("chemical", "electrical"):
        assert (
            ce.loc[ce["kind"] == kind, "weight"].sum() == e.loc[e["kind"] == kind, "weight"].sum()
        )


def test_compare_developmental_stages():
    l1, adult = load("witvliet2021_1"), load("witvliet2021_8")
    diff = connectome.compare(l1, adult)
    assert set(diff["change"]) <= {"gained", "lost", "changed", "same"}
    assert (diff.loc[diff["change"] == "gained", "weight_a"] == 0).all()
    assert (diff.loc[diff["change"] == "lost", "weight_b"] == 0).all()
    # the adult nerve ring has more chemical synapse weight than L1 (Witvliet et al. 2021)
    chem = diff[diff["kind"] == "chemical"]
    assert chem["weight_b"].sum() > chem["weight_a"].sum()
    same = connectome.compare(adult, adult)
    assert (same["change"] == "same").all()


def test_class_level_self_gap_listed_once():
    cls = load("cook2019").to_classes()
    p = connectome.partners(cls, "AVA")
    self_gap = p[(p["direction"] == "gap") & (p["partner"] == "AVA")]
    e = cls.edges
    expected = e[(e["kind"] == "electrical") & (e["pre"] == "AVA") & (e["post"] == "AVA")]
    assert len(self_gap) == len(expected) == 1
    assert self_gap["weight"].item() == expected["weight"].item()


def test_shared_connectome_tables_cannot_be_changed_by_a_caller(cook):
    before = cook.neuron_edges.copy(deep=True)
    edges = cook.neuron_edges
    edges["weight"] = 0.0
    pd.testing.assert_frame_equal(cook.neuron_edges, before)
    for read in (read_neurons, read_cells, lambda: read_edges("cook2019")):
        first = read().copy(deep=True)
        table = read()
        table.iloc[0, 0] = "changed"
        pd.testing.assert_frame_equal(read(), first)
    manifest()["datasets"]["cook2019"]["counts"]["neurons"] = -1
    dataset_info("cook2019")["counts"]["neurons"] = -1
    assert manifest()["datasets"]["cook2019"]["counts"]["neurons"] == 302
    assert dataset_info("cook2019")["counts"]["neurons"] == 302
    cook.info["counts"]["neurons"] = -1
    assert cook.info["counts"]["neurons"] == cook.to_classes().info["counts"]["neurons"] == 302
