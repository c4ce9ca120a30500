"""Network elements, positions, stylesheets, the adjacency figure and the Explore state,
checked against the connectome API without a browser."""

import itertools
import math

import networkx as nx
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import connectome
from connectome.errors import QueryError, UnknownNeuronError
from connectome.queries import filter_network, shortest_paths, strength_graph
from webapp import exploration, network
from webapp.figures.network import adjacency_heatmap, adjacency_matrix
from webapp.pages import explore

DATASETS = list(connectome.datasets().index)


@pytest.fixture(scope="module")
def cook():
    return connectome.load("cook2019")


def _api_edges(c, min_chem=1.0, min_gap=1.0, cells=False, types=network.NEURON_TYPES):
    """The edges a view should draw, straight from the connectome tables."""
    neurons = c.neurons
    keep = set(neurons.index[neurons["type"].isin(types)])
    if cells:
        keep |= set(c.cells.index)
    e = c.edges
    ends = e["pre"].isin(keep) & e["post"].isin(keep)
    chem = (e["kind"] == "chemical") & (e["weight"] >= min_chem)
    gap = (e["kind"] == "electrical") & (e["weight"] >= min_gap)
    return e[ends & (chem | gap)]


# ------------------------------------------------------------------ positions
@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("level", ["neuron", "class"])
def test_every_node_gets_a_finite_distinct_position(dataset, level):
    c = connectome.load(dataset)
    net = c if level == "neuron" else c.to_classes()
    table = network.node_table(net)
    for view in network.VIEWS:
        pos = network.positions(net, view)
        assert list(pos.index) == list(table.index)
        assert np.isfinite(pos.to_numpy()).all(), (dataset, level, view)
        if view == "layered":
            assert not pos.duplicated().any(), (dataset, level)


def test_anatomical_view_is_a_side_view_of_the_soma_positions(cook):
    pos = network.positions(cook, "anatomical")
    soma = cook.neurons
    assert pos.loc["AVAL", "x"] == pytest.approx(soma.loc["AVAL", "y"] * network.SCALE)
    height = soma.loc["AVAL", "z"] * network.VERTICAL_STRETCH
    height += soma.loc["AVAL", "x"] * network.LATERAL_TILT
    assert pos.loc["AVAL", "y"] == pytest.approx(-height * network.SCALE)
    # left/right partners share y and z; the tilt keeps them apart
    assert pos.loc["PVCL", "x"] == pos.loc["PVCR", "x"]
    assert abs(pos.loc["PVCL", "y"] - pos.loc["PVCR", "y"]) > 20
    assert pos.loc["AVAL", "x"] < pos.loc["PLML", "x"]  # head left of tail
    # cells without a soma position go in a grid below the body
    muscles = network.node_table(cook).query("type == 'muscle'").index
    assert pos.loc[muscles, "y"].min() > pos.loc[soma.index, "y"].max()


def test_layered_view_puts_sensory_before_inter_before_motor(cook):
    pos = network.positions(cook, "layered")
    types = network.node_table(cook)["type"]
    order = ["sensory", "interneuron", "motor", "other", "muscle", "cell"]
    for a, b in itertools.pairwise(order):
        assert pos.loc[types == a, "x"].max() < pos.loc[types == b, "x"].min(), (a, b)
    # members of one class sit next to each other, in one column
    assert pos.loc["AVAL", "x"] == pos.loc["AVAR", "x"]
    assert abs(pos.loc["AVAL", "y"] - pos.loc["AVAR", "y"]) == pytest.approx(network._ROW)


def test_a_circuit_is_layered_by_role():
    c = connectome.load("cook2019")
    circ = connectome.Circuit.from_neurons(c, ["PLM", "AVA", "AVD", "VA1"]).set_roles(
        sensory=["AVDL"]
    )
    table = network.node_table(circ)
    assert table.loc["AVDL", "type"] == "sensory"
    assert table.loc["AVDR", "type"] == "interneuron"
    pos = network.positions(circ, "layered")
    assert pos.loc["AVDL", "x"] < pos.loc["AVAL", "x"] < pos.loc["VA1", "x"]


# ------------------------------------------------------------------ filters
@pytest.mark.parametrize("min_chem,min_gap", [(1, 1), (5, 1), (1, 10), (20, 20)])
def test_thresholds_keep_the_edges_the_api_keeps(cook, min_chem, min_gap):
    nodes, edges = filter_network(cook, min_chemical=min_chem, min_electrical=min_gap)
    expected = _api_edges(cook, min_chem, min_gap)
    assert len(edges) == len(expected)
    assert set(zip(edges["pre"], edges["post"], edges["kind"], strict=True)) == set(
        zip(expected["pre"], expected["post"], expected["kind"], strict=True)
    )
    assert nodes == list(cook.neurons.index)


def test_types_and_cells_filters(cook):
    nodes, edges = filter_network(cook, types=("sensory", "motor"))
    assert set(nodes) == set(cook.neurons.index[cook.neurons["type"].isin(["sensory", "motor"])])
    assert len(edges) == len(_api_edges(cook, types=("sensory", "motor")))
    nodes, edges = filter_network(cook, show_cells=True)
    assert len(nodes) == len(cook.neurons) + len(cook.cells)
    assert len(edges) == len(cook.edges)


def test_k_hop_neighbourhood_over_the_drawn_edges(cook):
    for k, min_chem in [(0, 1), (1, 1), (1, 10), (2, 10)]:
        nodes, edges = filter_network(cook, min_chemical=min_chem, focus=["AVAL"], hops=k)
        _, drawn = filter_network(cook, min_chemical=min_chem)
        g = nx.Graph()
        g.add_node("AVAL")
        g.add_edges_from(zip(drawn["pre"], drawn["post"], strict=True))
        expected = set(nx.single_source_shortest_path_length(g, "AVAL", cutoff=k))
        assert set(nodes) == expected, (k, min_chem)
        assert edges["pre"].isin(expected).all() and edges["post"].isin(expected).all()
    nodes, _ = filter_network(cook, focus=["AVAL"], hops=0)
    assert nodes == ["AVAL"]


def test_kept_nodes_are_drawn_whatever_the_filters(cook):
    nodes, _ = filter_network(cook, types=("motor",), keep=["AVAL"])
    assert "AVAL" in nodes and "PLML" not in nodes


def test_compare_mode_matches_connectome_compare():
    a, b = connectome.load("witvliet2021_1"), connectome.load("witvliet2021_8")
    nodes, edges = filter_network(a, compare_to=b)
    table = connectome.compare(a, b)
    assert len(edges) == len(table)
    assert edges["change"].value_counts().to_dict() == table["change"].value_counts().to_dict()
    assert set(nodes) == set(a.neurons.index) & set(b.neurons.index)
    weight = np.maximum(edges["weight_a"], edges["weight_b"])
    assert (edges["weight"] == weight).all()
    _, strong = filter_network(a, compare_to=b, min_chemical=5, min_electrical=5)
    assert (strong["weight"] >= 5).all() and len(strong) < len(edges)


# ------------------------------------------------------------------ elements and styles
def test_elements_are_nodes_then_directed_edges(cook):
    nodes, edges = filter_network(cook, min_chemical=3)
    els = network.elements(cook, nodes, edges, "layered")
    node_els = [e for e in els if "source" not in e["data"]]
    edge_els = [e for e in els if "source" in e["data"]]
    assert [e["data"]["id"] for e in node_els] == nodes
    assert len(edge_els) == len(edges)
    ids = [e["data"]["id"] for e in els]
    assert len(ids) == len(set(ids))
    pos = network.positions(cook, "layered")
    first = node_els[0]
    assert first["position"]["x"] == pytest.approx(pos.loc[first["data"]["id"], "x"], abs=0.05)
    chem = [e for e in edge_els if e["classes"] == "chem"]
    assert len(chem) == int((edges["kind"] == "chemical").sum())
    row = edges[(edges["kind"] == "chemical")].iloc[0]
    match = [e for e in chem if e["data"]["id"] == f"c|{row['pre']}|{row['post']}"]
    assert match[0]["data"]["source"] == row["pre"] and match[0]["data"]["w"] == row["weight"]
    assert {e["classes"] for e in node_els} <= {
        f"{t} {network._nt_class(tr)}"
        for t, tr in itertools.product(network.NODE_TYPES, network.TRANSMITTER_COLORS)
    }


def test_pack_keeps_every_element(cook):
    nodes, edges = filter_network(cook, min_chemical=3)
    els = network.elements(cook, nodes, edges) + network.path_elements([["PLML", "AVAL"]])
    packed = network.pack(els)
    assert packed["n"] == nodes
    assert len(packed["s"]) == len(edges) + 1
    unpacked = {
        (packed["n"][s], packed["n"][t], c, w)
        for s, t, c, w in zip(packed["s"], packed["t"], packed["ec"], packed["w"], strict=True)
    }
    original = {
        (e["data"]["source"], e["data"]["target"], e["classes"], e["data"].get("w"))
        for e in els
        if "source" in e["data"]
    }
    assert unpacked == original
    node = els[0]
    assert (packed["x"][0], packed["y"][0]) == (node["position"]["x"], node["position"]["y"])


def test_edge_width_grows_with_weight_and_is_bounded():
    w = network.edge_width([1, 2, 3, 10, 100, 1000])
    assert (np.diff(w) >= 0).all()
    assert w[0] == pytest.approx(0.8) and w[-1] == pytest.approx(9.0)


def test_path_elements_follow_the_path_once():
    els = network.path_elements([["PLML", "AVDL", "AVAL"], ["PLML", "AVDL", "AVAR"]])
    pairs = [(e["data"]["source"], e["data"]["target"]) for e in els]
    assert pairs == [("PLML", "AVDL"), ("AVDL", "AVAL"), ("AVDL", "AVAR")]
    assert all(e["classes"] == "path" for e in els)


@pytest.mark.parametrize("color_by", network.COLOR_BY)
def test_every_drawn_node_class_has_a_colour_rule(cook, color_by):
    nodes, edges = filter_network(cook, show_cells=True)
    sheet = network.stylesheet(color_by)
    coloured = {
        r["selector"].removeprefix("node.")
        for r in sheet
        if "background-color" in r["style"] and r["selector"].startswith("node.")
    }
    for el in network.elements(cook, nodes, edges.head(0)):
        assert set(el["classes"].split()) & coloured, el


def test_selection_styles_name_the_selected_nodes_and_their_edges():
    sheet = network.stylesheet("type", selected=["AVAL"], partners=["AVBL"], path_nodes=["PLML"])
    selectors = [r["selector"] for r in sheet]
    assert 'node[id = "AVAL"]' in selectors
    assert 'edge.chem[target = "AVAL"]' in selectors and 'edge.chem[source = "AVAL"]' in selectors
    assert any('node[id = "AVBL"]' in s for s in selectors)
    assert 'node[id = "PLML"]' in selectors
    plain = network.stylesheet("type")
    assert not any("AVAL" in r["selector"] for r in plain)
    with pytest.raises(QueryError, match="colouring"):
        network.stylesheet("size")
    with pytest.raises(QueryError, match="views are anatomical, layered"):
        network.positions(connectome.load("cook2019"), "top")


def test_legend_lists_what_is_drawn(cook):
    table = network.node_table(cook)
    labels = [label for label, _, _ in network.legend("type", table.loc[cook.neurons.index])]
    assert labels == ["sensory", "interneuron", "motor", "other"]
    labels = [label for label, _, _ in network.legend("transmitter", table)]
    assert "ACh" in labels and "GABA" in labels and "muscle" in labels


# ------------------------------------------------------------------ paths
def test_shortest_paths_have_the_fewest_synapses(cook):
    rows = shortest_paths(cook, "PLM", "AVB", n=5)
    g = strength_graph(cook)
    best = min(
        nx.shortest_path_length(g, s, t)
        for s, t in itertools.product(cook.resolve("PLM"), cook.resolve("AVB"))
    )
    assert rows and all(r["length"] == best for r in rows)
    for r in rows:
        assert all(g.has_edge(a, b) for a, b in itertools.pairwise(r["path"]))
        weights = [g[a][b]["weight"] for a, b in itertools.pairwise(r["path"])]
        assert r["bottleneck"] == min(weights)
        assert r["cost"] == pytest.approx(sum(1 / w for w in weights))
    with pytest.raises(UnknownNeuronError, match="AVAL"):
        shortest_paths(cook, "AVLA", "AVB")
    assert shortest_paths(connectome.load("varshney2011"), "AVA", "VC6") == []


# ------------------------------------------------------------------ figure
def test_adjacency_matrix_holds_the_drawn_weights(cook):
    nodes, edges = filter_network(cook, min_chemical=2)
    chem = adjacency_matrix(cook, nodes, edges, "chemical")
    assert np.nansum(chem.to_numpy()) == pytest.approx(
        edges.loc[edges["kind"] == "chemical", "weight"].sum()
    )
    row = edges.query("pre == 'AVAL' and post == 'PVCL' and kind == 'chemical'")
    assert chem.loc["AVAL", "PVCL"] == row["weight"].item()
    gap = adjacency_matrix(cook, nodes, edges, "electrical").to_numpy()
    assert np.array_equal(np.isnan(gap), np.isnan(gap.T))
    assert np.allclose(np.nan_to_num(gap), np.nan_to_num(gap.T))
    order = list(chem.index)
    rank = network.node_table(cook).loc[order, "type"].map(network.NODE_TYPES.index)
    assert rank.is_monotonic_increasing
    assert order == network.ordered_nodes(cook, nodes)


def test_adjacency_heatmap_figure(cook):
    nodes, edges = filter_network(cook)
    fig = adjacency_heatmap(cook, nodes, edges, "chemical")
    assert isinstance(fig, go.Figure)
    trace = fig.data[0]
    assert trace.type == "heatmap"
    assert np.asarray(trace.z).shape == (len(nodes), len(nodes))
    assert list(trace.x) == network.ordered_nodes(cook, nodes)
    assert [a.text for a in fig.layout.annotations] == ["sensory", "interneuron", "motor", "other"]
    a, b = connectome.load("witvliet2021_1"), connectome.load("witvliet2021_8")
    nodes, edges = filter_network(a, compare_to=b)
    fig = adjacency_heatmap(a, nodes, edges, "chemical")
    assert fig.data[0].zmid == 0
    with pytest.raises(ValueError, match="kind"):
        adjacency_matrix(cook, nodes, edges, "both")


# ------------------------------------------------------------------ page state
def test_query_round_trip():
    state, problems = exploration.ExploreState.parse(
        {
            "dataset": "witvliet2021_8",
            "level": "class",
            "view": "layered",
            "color": "transmitter",
            "select": ["AVA", "PLM"],
            "show": "1",
            "chem": 3,
            "gap": 2.5,
            "types": ["sensory", "motor"],
            "cells": True,
            "compare": "witvliet2021_1",
            "source": "PLM",
            "target": "AVA",
            "paths": "shortest",
            "tab": "heatmap",
        }
    )
    assert problems == []
    query = state.to_query()
    parsed = dict(pair.split("=") for pair in query[1:].split("&"))
    again, problems = exploration.ExploreState.from_query(parsed)
    assert problems == [] and again == state
    assert exploration.ExploreState().to_query() == ""


def test_bad_query_values_fall_back_with_a_message():
    state, problems = exploration.ExploreState.from_query(
        {"dataset": "nope", "chem": "lots", "gap": "-2", "view": "top", "types": "glia"}
    )
    assert state.dataset == "cook2019" and state.chem == 1.0 and state.gap == 1.0
    assert state.view == "schematic" and state.types == ()
    text = " ".join(problems)
    for word in ("nope", "lots", "-2", "top", "glia"):
        assert word in text
    # the weights are read by webapp.forms: the message names the field, the value, the range
    assert "Minimum chemical weight: 'lots' is not a number; using 1" in problems
    assert "Minimum gap-junction weight: must be >= 0 (got -2); using 1" in problems


def test_render_counts_and_messages(cook):
    state, _ = exploration.ExploreState.parse({"chem": 5, "select": ["AVAL"]})
    view = exploration.render(state)
    expected = _api_edges(cook, 5, 1)
    n_chem = int((expected["kind"] == "chemical").sum())
    assert f"{n_chem} chemical synapses" in view["summary"]
    assert f"{len(expected) - n_chem} gap junctions" in view["summary"]
    assert view["selected"] == ["AVAL"]
    sheet = [r["selector"] for r in view["stylesheet"]]
    assert 'node[id = "AVAL"]' in sheet
    state, _ = exploration.ExploreState.parse({"select": ["AVLA"], "show": "1"})
    view = exploration.render(state)
    text = " ".join(view["problems"])
    assert "unknown neuron 'AVLA'" in text and "AVAL" in text
    assert "Select a neuron" in text
    assert len(view["nodes"]) == len(cook.neurons)
    state, _ = exploration.ExploreState.parse({"chem": 1000, "gap": 1000})
    assert "No synapse passes" in " ".join(exploration.render(state)["problems"])


def test_class_level_selection_accepts_neuron_names():
    state, _ = exploration.ExploreState.parse({"level": "class", "select": ["aval", "PLM"]})
    view = exploration.render(state)
    assert view["selected"] == ["AVA", "PLM"]


def test_path_finder_messages():
    ok, _ = exploration.ExploreState.parse({"source": "PLM", "target": "AVA"})
    rows, message = exploration.path_rows(ok)
    assert message == ""
    assert [r["path"] for r in rows] == [
        r["path"] for r in connectome.strongest_paths(connectome.load(), "PLM", "AVA", n=5)
    ]
    for values, words in [
        ({"source": "PLM"}, "both ends"),
        ({"source": "PLM", "target": "AVX"}, "unknown neuron 'AVX'"),
        ({"dataset": "varshney2011", "source": "AVA", "target": "VC6"}, "No path"),
        ({"source": "AVAL", "target": "AVAL"}, "same neurons"),
    ]:
        state, _ = exploration.ExploreState.parse(values)
        rows, message = exploration.path_rows(state)
        assert rows == [] and words in message, values


def _find(component, cid):
    """The component with id ``cid`` in a layout tree."""
    if getattr(component, "id", None) == cid:
        return component
    children = getattr(component, "children", None)
    if not isinstance(children, list | tuple):
        children = [children]
    for child in children:
        if hasattr(child, "to_plotly_json"):
            found = _find(child, cid)
            if found is not None:
                return found
    return None


def test_layout_draws_what_the_api_says():
    page = explore.layout(dataset="varshney2011", chem="4", select="aval", edges="all")
    store = _find(page, "explore-elements")
    c = connectome.load("varshney2011")
    expected = _api_edges(c, 4, 1)
    assert len(store.data["s"]) == len(expected)
    # by default the whole network draws only the selection's synapses
    default = _find(
        explore.layout(dataset="varshney2011", chem="4", select="aval"), "explore-elements"
    )
    touching = expected[(expected["pre"] == "AVAL") | (expected["post"] == "AVAL")]
    assert len(default.data["s"]) == len(touching) > 0
    assert len(store.data["n"]) == len(c.neurons)
    assert _find(page, "explore-dataset").value == "varshney2011"
    assert _find(page, "explore-search").value == ["AVAL"]  # the spelling of the options
    panel = _find(page, "explore-panel")
    assert panel.children[0].children[0].children == "AVAL"


def test_create_app_can_be_called_repeatedly():
    from webapp.app import create_app

    apps = [create_app(), create_app()]
    for app in apps:
        outputs = " ".join(app.callback_map)
        assert "explore-elements.data" in outputs
        client = app.server.test_client()
        assert client.get("/").status_code == 200
        assert client.get("/_dash-layout").status_code == 200
    assert apps[0].callback_map.keys() == apps[1].callback_map.keys()


def test_positions_table_is_shared_but_not_recomputed(cook):
    a, b = network.positions(cook, "anatomical"), network.positions(cook, "anatomical")
    pd.testing.assert_frame_equal(a, b)
    assert np.shares_memory(a["x"].to_numpy(), b["x"].to_numpy())  # one computation, shared
    circ = connectome.Circuit.from_neurons(cook, ["AVA", "PLM"])
    a, b = network.positions(circ, "anatomical"), network.positions(circ, "anatomical")
    pd.testing.assert_frame_equal(a, b)
    assert not math.isnan(a.loc["AVAL", "x"])


@pytest.mark.parametrize("level", ["neuron", "class"])
def test_cached_tables_cannot_be_changed_by_a_caller(cook, level):
    """node_table() and positions() are computed once per dataset and shared between
    sessions: whatever one caller does to its table, the next caller gets the original."""
    net = cook if level == "neuron" else cook.to_classes()
    name = net.neurons.index[0]
    before_table = network.node_table(net).copy(deep=True)
    before_pos = {v: network.positions(net, v).copy(deep=True) for v in network.VIEWS}
    table = network.node_table(net)
    table.loc[name, "type"] = "muscle"
    table["x"] = 0.0
    with pytest.raises(ValueError, match="read-only"):
        network.node_table(net)["y"].to_numpy()[0] = 1.0
    for view in network.VIEWS:
        pos = network.positions(net, view)
        pos.loc[name, "x"] = -1e9
        pos["y"] *= 2
        with pytest.raises(ValueError, match="read-only"):
            network.positions(net, view)["x"].to_numpy()[:] = 0.0
    pd.testing.assert_frame_equal(network.node_table(net), before_table)
    for view in network.VIEWS:
        pd.testing.assert_frame_equal(network.positions(net, view), before_pos[view])


def test_search_suggests_close_names_for_a_typo_and_finds_classes_by_member():
    typo = exploration.search_suggestions("cook2019", "neuron", "AVLA")
    marked = [o["value"] for o in typo if o["label"].endswith("did you mean?")]
    expected = connectome.load("cook2019").names.suggest("AVLA")
    assert marked == expected and marked[0] == "AVAL"
    # the marked options carry the typed text, so the box's own filter keeps them
    assert all("avla" in o["search"] for o in typo[: len(marked)])
    assert len(typo) == len(exploration.search_options("cook2019", "neuron"))
    # a name that matches needs no suggestion
    plain = exploration.search_suggestions("cook2019", "neuron", "aval")
    assert not any(o["label"].endswith("did you mean?") for o in plain)
    # at class level a member neuron's name finds its class, as ?select=rimr does
    rim = [o["value"] for o in exploration.search_options("cook2019", "class")
           if "rimr" in o["search"].split()]  # fmt: skip
    assert rim == exploration.resolve("cook2019", "class", "rimr")[0] == ["RIM"]


def test_switching_dataset_keeps_the_neurons_it_has_and_names_the_rest():
    kept, missing = exploration.kept_selection("witvliet2021_8", "neuron", ["aval", "CANL"])
    assert "CANL" not in connectome.load("witvliet2021_8").neurons.index
    assert (kept, missing) == (["AVAL"], ["CANL"])


def test_partner_tables_show_every_partner_behind_an_expander(cook):
    panel = explore._node_panel("cook2019", "neuron", "AVAL")
    p = connectome.partners(cook, "AVAL")
    tables = {}

    def walk(node):
        if getattr(node, "className", "") and "wl-partners" in node.className:
            d = node.to_plotly_json()["props"]["data-direction"]
            rows = tables.setdefault(d, [])
            for tbody in node.children if isinstance(node.children, list) else [node.children]:
                if isinstance(tbody, explore.html.Tbody):
                    rows += [tr.children[0].children.children for tr in tbody.children]
        for child in getattr(node, "children", None) or []:
            if hasattr(child, "children"):
                walk(child)

    walk(panel)
    for d in ("in", "out", "gap"):
        assert tables[d] == list(p.loc[p["direction"] == d, "partner"]), d
    assert len(tables["in"]) > explore.MAX_PARTNERS


def test_path_list_shows_the_cost_it_ranks_by(cook):
    state = exploration.ExploreState(source="PLM", target="AVA")
    rows, _ = exploration.path_rows(state)
    costs = [r["cost"] for r in rows]
    assert costs == sorted(costs)
    items = explore._path_list(rows, "", state)[1].children
    assert [float(li.to_plotly_json()["props"]["data-cost"]) for li in items] == costs
    for li, c in zip(items, costs, strict=True):
        assert f"cost {c:.3g}" in li.children[1].children


def test_selection_edges_have_their_own_colours_and_legend_entries():
    used = set(network.TYPE_COLORS.values())
    assert not used & set(network.SELECTION_EDGE_COLORS.values())
    sheet = network.stylesheet("type", ["AVAL"])
    inputs = next(r for r in sheet if r["selector"] == 'edge.chem[target = "AVAL"]')
    assert inputs["style"]["line-color"] == network.SELECTION_EDGE_COLORS["input to the selection"]
    legend = str(explore._legend(network.legend("type"), False, True))
    assert "input to the selection" in legend and "output of the selection" in legend
    assert "input to the selection" not in str(explore._legend(network.legend("type"), False))


def _label_boxes(net, view="schematic"):
    """Each neuron's node and label box (model px) as the stylesheet draws them unselected:
    the node a square of the node width, its label centred above it (``text-valign: top``,
    ``text-margin-y``), ``font-size`` high and 0.7 em per character wide (capitals and
    digits of a sans-serif font are about 0.6 to 0.68 em)."""
    sheet = network.stylesheet(scale=network.view_scale(net, view))
    node = next(r["style"] for r in sheet if r["selector"] == "node")
    size, font, margin = node["width"], node["font-size"], -node["text-margin-y"]
    pos = network.positions(net, view)
    neurons = network.node_table(net)["type"].isin(network.NEURON_TYPES)
    out = {}
    for name, x, y in zip(pos.index[neurons], pos.loc[neurons, "x"], pos.loc[neurons, "y"],
                          strict=True):  # fmt: skip
        half = max(size, 0.7 * font * len(name)) / 2
        out[name] = (x - half, y - size / 2 - margin - font, x + half, y + size / 2)
    return out


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("level", ["neuron", "class"])
def test_schematic_view_has_no_two_labelled_nodes_overlapping(dataset, level):
    net = exploration.network_of(dataset, level)
    boxes = _label_boxes(net)
    items = sorted(boxes.items(), key=lambda kv: kv[1][0])
    clashes = []
    for i, (a, (_, ay0, ax1, ay1)) in enumerate(items):
        for b, (bx0, by0, _, by1) in items[i + 1 :]:
            if bx0 >= ax1:
                break
            if by0 < ay1 and ay0 < by1:
                clashes.append((a, b))
    assert clashes == []
    # the anatomical view it replaces as the default: the head is a pile of labels
    if dataset == "cook2019" and level == "neuron":
        side = _label_boxes(net, "anatomical")
        names = sorted(side, key=lambda n: side[n][0])
        overlapping = sum(
            1
            for i, a in enumerate(names)
            for b in names[i + 1 : i + 40]
            if side[b][0] < side[a][2] and side[b][1] < side[a][3] and side[a][1] < side[b][3]
        )
        assert overlapping > 100


def test_schematic_view_keeps_the_body_order(cook):
    pos = network.positions(cook, "schematic")
    soma = cook.neurons[["y"]].dropna()
    x = pos.loc[soma.index, "x"]
    # head to tail: a neuron further back is never in an earlier column
    order = soma["y"].sort_values(kind="stable").index
    assert (x.loc[order].diff().dropna() >= 0).all()
    assert x.loc["AVAL"] < x.loc["DA9"] < x.loc["PLML"]


def test_partner_buttons_have_distinct_ids(cook):
    """PVCL is both an input and an output of AVAL: two buttons, two ids."""
    ids = []

    def walk(node):
        if isinstance(node, explore.html.Button) and isinstance(node.id, dict):
            ids.append(tuple(sorted(node.id.items())))
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list) else [children]:
            if hasattr(child, "children"):
                walk(child)

    walk(explore._node_panel("cook2019", "neuron", "AVAL"))
    p = connectome.partners(cook, "AVAL")
    assert len(ids) == len(p) == len(set(ids))


def test_a_tapped_chemical_edge_is_named_so_with_the_page_s_ids():
    """The page's edges arrive with ids "chem|pre|post" (assets/explore.js unpacks them);
    the server's own are "c|pre|post". Both name a chemical synapse."""
    for prefix, kind in (("chem", "chemical synapse"), ("c", "chemical synapse"),
                         ("gap", "gap junction"), ("g", "gap junction")):  # fmt: skip
        edge = {"id": f"{prefix}|PLML|AVAL", "source": "PLML", "target": "AVAL", "w": 2.5}
        assert exploration.edge_text(edge).endswith(f": {kind}, weight 2.5"), prefix
    assert exploration.edge_text({"id": "path|A|B", "source": "A", "target": "B"}) == ""


def test_bad_control_values_are_told_and_bounded():
    state, problems = exploration.ExploreState.parse(
        {
            "select": [f"N{i}" for i in range(2_001)],
            "source": ["PLML"],
            "types": 5,
            "level": ["class"],
            "cells": "maybe",
        }  # fmt: skip
    )
    assert state.select == () and state.source == "" and state.level == "neuron"
    assert state.types == () and state.cells is False
    text = " | ".join(problems)
    assert "Selection: more than 2,000 names; at most 2,000 at once" in text
    assert "From: expected text, got ['PLML']" in text
    assert "Neuron types: expected names (text), got 5" in text
    assert "unknown level ['class']" in text and "Cells: expected a yes or no" in text
