"""The Explore page's neuron -> body-wall-muscle heatmap against the Cook 2019 map's data."""

import numpy as np

from connectome.datasets import read_edges, read_neurons
from connectome.neurons import class_names
from sim.muscles import neuromuscular_map
from webapp.figures.network import (
    neuromuscular_groups,
    neuromuscular_heatmap,
    neuromuscular_matrix,
)


def cook_nmj_rows():
    """The NMJ rows straight from the shipped edge file (chemical, post a body-wall muscle)."""
    e = read_edges("cook2019")
    return e[(e["kind"] == "chemical") & e["post"].str.match(r"^M[DV][LR]\d\d$")]


def test_figure_totals_equal_the_map_and_the_data():
    nmj = neuromuscular_map()
    fig = neuromuscular_heatmap(nmj, neuromuscular_groups(nmj, nmj.neurons))
    z = np.nan_to_num(np.asarray(fig.data[0].z, dtype=float))
    assert z.shape == (162, 95) and list(fig.data[0].x) == list(nmj.muscles)
    rows = cook_nmj_rows()
    sign = read_neurons()["sign"]
    signed = rows["weight"] * rows["pre"].map(sign)
    assert z[z > 0].sum() == signed[signed > 0].sum() == 4674
    assert -z[z < 0].sum() == -signed[signed < 0].sum() == 841
    assert np.count_nonzero(z) == int((nmj.counts > 0).sum()) == 956
    assert "4674 excitatory, 841 inhibitory" in fig.layout.title.text
    # each neuron's row is its own junctions, signed (VD/DD GABAergic: negative)
    by_pre = signed.groupby(rows["pre"]).sum()
    for i, name in enumerate(fig.data[0].y):
        assert z[i].sum() == by_pre[name], name
    assert z[list(fig.data[0].y).index("DD1")].max() <= 0
    assert z[list(fig.data[0].y).index("VB3")].min() >= 0


def test_class_rows_gather_their_members():
    nmj = neuromuscular_map()
    classes = class_names(read_neurons()).to_dict()
    groups = neuromuscular_groups(nmj, ["VB", "DD", "AVA", "VB1"], classes)
    assert list(groups) == ["VB", "DD"]  # AVA makes no NMJ; VB1 is not a class name
    assert groups["VB"] == [f"VB{i}" for i in (1, 10, 11, 2, 3, 4, 5, 6, 7, 8, 9)]
    m = neuromuscular_matrix(nmj, groups)
    rows = cook_nmj_rows()
    vb = rows[rows["pre"].str.match(r"^VB\d+$")]
    assert m.loc["VB"].sum() == vb["weight"].sum()
    for muscle, w in vb.groupby("post")["weight"].sum().items():
        assert m.loc["VB", muscle] == w
    assert (m.loc["VB", [c for c in m.columns if c.startswith("MD")]] == 0).all()
    assert neuromuscular_groups(nmj, ["AVAL", "PLML"]) == {}
