"""Figures of the Explore page: the adjacency heatmap and the neuron -> muscle heatmap.

Pure functions from wiring data to ``plotly.graph_objects.Figure``; no Dash here.
"""

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from webapp.network import NODE_TYPES, node_table, ordered_nodes

__all__ = [
    "adjacency_matrix",
    "adjacency_heatmap",
    "neuromuscular_groups",
    "neuromuscular_matrix",
    "neuromuscular_heatmap",
]

_KIND_LABEL = {"chemical": "chemical synapses", "electrical": "gap junctions"}


def adjacency_matrix(net, nodes, edges: pd.DataFrame, kind: str = "chemical") -> pd.DataFrame:
    """The weighted adjacency matrix of the drawn nodes, ordered by type, class and name.

    Parameters
    ----------
    net : Connectome or Circuit
    nodes : list of str
        Nodes to include (rows and columns).
    edges : pandas.DataFrame
        ``pre, post, kind`` and ``weight`` (or, in compare mode, ``delta``).
    kind : {"chemical", "electrical"}
        Gap junctions are symmetric: both (a, b) and (b, a) are filled.

    Returns
    -------
    pandas.DataFrame
        Rows presynaptic, columns postsynaptic; NaN where there is no synapse. Values are
        weights, or ``delta`` (B - A) when ``edges`` has that column.
    """
    if kind not in _KIND_LABEL:
        raise ValueError(f"unknown kind {kind!r}; use 'chemical' or 'electrical'")
    order = ordered_nodes(net, nodes)
    index = {name: i for i, name in enumerate(order)}
    value = "delta" if "delta" in edges.columns else "weight"
    part = edges[(edges["kind"] == kind) & edges["pre"].isin(index) & edges["post"].isin(index)]
    z = np.full((len(order), len(order)), np.nan)
    rows = part["pre"].map(index).to_numpy(dtype=int)
    cols = part["post"].map(index).to_numpy(dtype=int)
    vals = part[value].to_numpy(dtype=float)
    z[rows, cols] = vals
    if kind == "electrical":
        z[cols, rows] = vals
    return pd.DataFrame(z, index=pd.Index(order, name="pre"), columns=pd.Index(order, name="post"))


def _log_colorscale(zmax: float, scale: str = "Viridis", steps: int = 12) -> list:
    """A colour scale over [1, zmax] whose colours follow log(weight)."""
    if zmax <= 1:
        return [
            [0.0, sample_colorscale(scale, [0.0])[0]],
            [1.0, sample_colorscale(scale, [1.0])[0]],
        ]
    out = []
    for i in range(steps + 1):
        frac = i / steps
        value = math.exp(frac * math.log(zmax))  # weight at this colour
        out.append([(value - 1) / (zmax - 1), sample_colorscale(scale, [frac])[0]])
    out[0][0], out[-1][0] = 0.0, 1.0
    return out


def adjacency_heatmap(
    net, nodes, edges: pd.DataFrame, kind: str = "chemical", title: str = ""
) -> go.Figure:
    """A heatmap of :func:`adjacency_matrix` with the type groups marked.

    Colours follow log(weight) (weights span two to three decades); hovering shows the
    real weight. In compare mode (``edges`` has ``delta``) colours show B - A on a
    diverging scale.
    """
    matrix = adjacency_matrix(net, nodes, edges, kind)
    names = list(matrix.index)
    z = matrix.to_numpy()
    compare = "delta" in edges.columns
    finite = z[np.isfinite(z)]
    if compare:
        bound = float(np.abs(finite).max()) if finite.size else 1.0
        trace = go.Heatmap(
            z=z,
            x=names,
            y=names,
            zmid=0,
            zmin=-bound,
            zmax=bound,
            colorscale="RdBu",
            colorbar={"title": {"text": "B - A"}},
            hovertemplate="%{y} → %{x}<br>change %{z}<extra></extra>",
            hoverongaps=False,
        )
    else:
        zmax = float(finite.max()) if finite.size else 1.0
        trace = go.Heatmap(
            z=z,
            x=names,
            y=names,
            zmin=1,
            zmax=max(zmax, 1.0),
            colorscale=_log_colorscale(max(zmax, 1.0)),
            colorbar={"title": {"text": "weight"}},
            hovertemplate="%{y} → %{x}<br>weight %{z}<extra></extra>",
            hoverongaps=False,
        )
    fig = go.Figure(trace)
    types = node_table(net).loc[names, "type"].to_numpy() if names else []
    shapes, annotations = [], []
    start = 0
    for t in NODE_TYPES:
        count = int((np.asarray(types) == t).sum())
        if not count:
            continue
        end = start + count
        if start:
            for axis in ("x", "y"):
                shapes.append(_boundary(axis, start - 0.5))
        annotations.append(
            {
                "x": (start + end - 1) / 2,
                "y": 1.0,
                "xref": "x",
                "yref": "paper",
                "yanchor": "bottom",
                "text": t,
                "showarrow": False,
                "font": {"size": 11},
            }
        )
        start = end
    label = _KIND_LABEL[kind]
    fig.update_layout(
        # no fixed height: the figure fills the box the page gives it, and the margins grow
        # to hold the tick labels (automargin), so nothing is cut off in a short window
        title={
            "text": title or f"Adjacency, {label} (rows: presynaptic)",
            "x": 0.01,
            "y": 0.99,
            "yref": "container",
            "yanchor": "top",
        },
        xaxis={
            "title": "postsynaptic",
            "tickfont": {"size": 7},
            "showgrid": False,
            "automargin": True,
        },
        yaxis={
            "title": "presynaptic",
            "autorange": "reversed",
            "tickfont": {"size": 7},
            "showgrid": False,
            "scaleanchor": "x",
            "automargin": True,
        },
        shapes=shapes,
        annotations=annotations,
        margin={"l": 50, "r": 10, "t": 64, "b": 40},
        plot_bgcolor="white",
    )
    return fig


def _boundary(axis: str, at: float) -> dict:
    if axis == "x":
        return {
            "type": "line",
            "x0": at,
            "x1": at,
            "y0": 0,
            "y1": 1,
            "yref": "paper",
            "line": {"color": "#444", "width": 1},
        }
    return {
        "type": "line",
        "y0": at,
        "y1": at,
        "x0": 0,
        "x1": 1,
        "xref": "paper",
        "line": {"color": "#444", "width": 1},
    }


def neuromuscular_groups(nmj, names, classes=None) -> dict:
    """The rows of a neuron -> muscle heatmap: ``{label: mapped neurons}``.

    Parameters
    ----------
    nmj : sim.muscles.NeuromuscularMap
    names : sequence of str
        Drawn (or selected) nodes: neuron names, or class names when ``classes`` is given.
    classes : mapping neuron -> class, optional
        At class level: each class's row gathers its mapped members.

    Returns
    -------
    dict
        Only labels with at least one mapped neuron, in the order of ``names``.
    """
    mapped = set(nmj.neurons)
    if classes is None:
        return {n: [n] for n in names if n in mapped}
    members = {}
    for n in nmj.neurons:
        members.setdefault(classes.get(n, n), []).append(n)
    return {c: members[c] for c in names if c in members}


def neuromuscular_matrix(nmj, groups) -> pd.DataFrame:
    """Signed EM sections of neuromuscular junctions from each group to each muscle.

    Parameters
    ----------
    nmj : sim.muscles.NeuromuscularMap
        Counts (sections) and signs (+1 cholinergic, -1 GABAergic) per neuron.
    groups : mapping label -> sequence of neuron names
        (:func:`neuromuscular_groups`)

    Returns
    -------
    pandas.DataFrame
        Rows the labels, columns the 95 muscles (``nmj.muscles``: MDL01..24, MDR, MVL, MVR);
        ``sum over the group's neurons of sign * sections`` (0 where none).
    """
    col = {n: j for j, n in enumerate(nmj.neurons)}
    signed = nmj.counts * nmj.sign[None, :]
    z = np.zeros((len(groups), len(nmj.muscles)))
    for i, members in enumerate(groups.values()):
        for n in members:
            z[i] += signed[:, col[n]]
    return pd.DataFrame(
        z,
        index=pd.Index(list(groups), name="neuron"),
        columns=pd.Index(list(nmj.muscles), name="muscle"),
    )


def neuromuscular_heatmap(nmj, groups, title: str = "") -> go.Figure:
    """A heatmap of :func:`neuromuscular_matrix`: neurons (rows) -> body-wall muscles,
    red excitatory, blue inhibitory, the four quadrants marked; the title gives the totals.
    """
    matrix = neuromuscular_matrix(nmj, groups)
    z = matrix.to_numpy()
    shown = np.where(z == 0, np.nan, z)
    bound = float(np.abs(z).max()) if z.size and np.abs(z).max() > 0 else 1.0
    exc, inh = float(z[z > 0].sum()), float(-z[z < 0].sum())
    fig = go.Figure(
        go.Heatmap(
            z=shown,
            x=list(matrix.columns),
            y=list(matrix.index),
            zmid=0,
            zmin=-bound,
            zmax=bound,
            colorscale="RdBu_r",
            colorbar={"title": {"text": "sections<br>(− GABA)"}},
            hovertemplate="%{y} → %{x}<br>%{z} sections (signed)<extra></extra>",
            hoverongaps=False,
        )
    )
    shapes, annotations, start = [], [], 0
    for quadrant in ("MDL", "MDR", "MVL", "MVR"):
        count = sum(m.startswith(quadrant) for m in matrix.columns)
        if start:
            shapes.append(_boundary("x", start - 0.5))
        annotations.append(
            {
                "x": start + (count - 1) / 2,
                "y": 1.0,
                "xref": "x",
                "yref": "paper",
                "yanchor": "bottom",
                "text": quadrant,
                "showarrow": False,
                "font": {"size": 11},
            }
        )
        start += count
    fig.update_layout(
        title={
            "text": title
            or (
                f"{len(matrix)} rows → {len(matrix.columns)} body-wall muscles: "
                f"{exc:g} excitatory, {inh:g} inhibitory NMJ sections (Cook 2019)"
            ),
            "x": 0.01,
            "font": {"size": 13},
        },
        xaxis={"title": "muscle (head 01 → tail 24)", "tickfont": {"size": 7}, "showgrid": False},
        yaxis={
            "autorange": "reversed",
            "tickfont": {"size": 8},
            "showgrid": False,
            "automargin": True,
        },  # fmt: skip
        shapes=shapes,
        annotations=annotations,
        height=max(260, 120 + 14 * len(matrix)),
        margin={"l": 50, "r": 10, "t": 60, "b": 50},
        plot_bgcolor="white",
    )
    return fig
