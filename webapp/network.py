"""The network view: preset positions, cytoscape elements and stylesheets, computed in Python.

Which nodes and edges a view shows is a connectome query
(:func:`connectome.queries.filter_network`); this module draws them. Every
function here is pure: it takes a wiring source (a
:class:`~connectome.Connectome` or a :class:`~connectome.Circuit`) and returns
plain data that ``dash_cytoscape.Cytoscape`` accepts (``elements``,
``stylesheet``) or a DataFrame. Force layouts in the browser are slow for the
whole connectome (about 3.5 s for 300 nodes and 4000 edges against about 1 s
for ``preset``), so positions are computed here and drawn with the ``preset``
layout.

Views
-----
``anatomical``
    A side view of the animal: the soma's anterior-posterior coordinate ``y``
    (µm, head to the left) horizontally and its dorsal-ventral coordinate
    ``z`` (µm, dorsal up) vertically, stretched by :data:`VERTICAL_STRETCH` so
    that the thin body does not collapse into a line. Left/right partners share ``y``
    and ``z`` (they differ in ``x`` by 4 to 22 µm), so a pure side view would stack them:
    the view is tilted a little, adding :data:`LATERAL_TILT` times ``x`` to the height.
    Soma positions come from the OpenWorm c302 cell files (first segment of each
    ``*.cell.nml``). Nodes without a position (muscles, glia, male-specific neurons) are
    laid out in a grid below the body.
``schematic``
    The body straightened and the head spread out, so that every label can be read: the
    anterior-posterior order of the somata is kept, but a neuron's column comes from a
    blend of its rank along the body (weight :data:`SCHEMATIC_RANK`) and its true position,
    so the crowded nerve ring takes as many columns as it has neurons and the gaps between
    head, ventral cord and tail still show. Inside a column, neurons are stacked dorsal
    (top) to ventral, a row apart: no two nodes or labels overlap (a test measures it from
    these positions and the stylesheet's sizes). Nodes without a position are laid out in
    a grid below, as in the anatomical view.
``layered``
    Columns sensory -> interneuron -> motor (then other neurons, muscles,
    other cells); a circuit uses its roles (sensory -> inter -> motor). Inside
    a layer, classes are ordered from head to tail (the mean ``y`` of their
    members) and members of one class sit next to each other.

Colours come from a colour-blind-safe palette (Okabe & Ito 2008,
https://jfly.uni-koeln.de/color/). Styles are attached by class selectors
(``.sensory``, ``.nt-ACh``, ``.chem``) rather than per element, which keeps the
payload and the browser's style work small.

Edge width grows with the logarithm of the synapse weight (weights span 1 to
about 400 EM sections in Cook et al. 2019), see :func:`edge_width`.
"""

import functools
import itertools
import math

import numpy as np
import pandas as pd

from connectome import Connectome, load
from connectome.errors import QueryError, UnknownDatasetError
from connectome.neurons import NEURON_TYPES, NODE_TYPES, class_names, natural_key
from connectome.queries import node_types

__all__ = [
    "VIEWS",
    "COLOR_BY",
    "NODE_TYPES",
    "NEURON_TYPES",
    "TYPE_COLORS",
    "TRANSMITTER_COLORS",
    "CHANGE_COLORS",
    "COMPARE_NODE_COLOR",
    "SELECTION_EDGE_COLORS",
    "SCALE",
    "VERTICAL_STRETCH",
    "LATERAL_TILT",
    "SCHEMATIC_RANK",
    "SCHEMATIC_COLUMNS",
    "SCHEMATIC_COL",
    "SCHEMATIC_ROW",
    "primary_transmitter",
    "node_table",
    "positions",
    "ordered_nodes",
    "edge_width",
    "view_scale",
    "elements",
    "path_elements",
    "pack",
    "stylesheet",
    "legend",
]

VIEWS = ("anatomical", "layered", "schematic")
COLOR_BY = ("type", "transmitter")
# NODE_TYPES (layer order) and NEURON_TYPES live in connectome.neurons; imported here for the
# drawing's callers.

TYPE_COLORS = {
    "sensory": "#D55E00",
    "interneuron": "#0072B2",
    "motor": "#009E73",
    "other": "#999999",
    "muscle": "#CC79A7",
    "cell": "#C8C8C8",
}
#: Primary (first-listed) transmitter -> colour; "" means not known.
TRANSMITTER_COLORS = {
    "ACh": "#009E73",
    "Glu": "#0072B2",
    "GABA": "#D55E00",
    "DA": "#CC79A7",
    "5-HT": "#E69F00",
    "5-HTP": "#F0E442",
    "OA": "#56B4E9",
    "TA": "#8C6D31",
    "betaine": "#6A3D9A",
    "": "#999999",
}
#: Compare mode: how an edge changed from dataset A to dataset B.
CHANGE_COLORS = {
    "gained": "#1A9850",
    "lost": "#D73027",
    "changed": "#7B3294",
    "same": "#BBBBBB",
}
#: Compare mode draws every node in this colour: the edges carry the information.
COMPARE_NODE_COLOR = "#D5DBE1"
_CHEM_COLOR = "#7F8C99"
_GAP_COLOR = "#E69F00"
#: A selected neuron's own synapses: inputs and outputs, in colours no node type uses
#: (Paul Tol's indigo and wine).
SELECTION_EDGE_COLORS = {"input to the selection": "#332288", "output of the selection": "#882255"}
_IN_COLOR = SELECTION_EDGE_COLORS["input to the selection"]
_OUT_COLOR = SELECTION_EDGE_COLORS["output of the selection"]
_PATH_COLOR = "#E6007E"

SCALE = 4.0  # px per µm in the anatomical view
VERTICAL_STRETCH = 3.0  # the dorsal-ventral axis is drawn this much taller than it is
LATERAL_TILT = 1.5  # µm of height per µm of left-right position (L/R partners apart)
_COL = 38.0  # px between columns (layered view)
_ROW = 30.0  # px between rows
_LAYER_GAP = 110.0  # px between two layers
_MAX_COLS = 6  # the largest layer is this many columns wide
_GRID_COL, _GRID_ROW = 90.0, 70.0  # px: grid of cells without a soma position (anatomical)
SCHEMATIC_RANK = 0.7  # weight of the rank along the body in a schematic column
SCHEMATIC_COLUMNS = 20  # columns of the schematic view (head to tail)
SCHEMATIC_COL, SCHEMATIC_ROW = 42.0, 30.0  # px between columns / rows of the schematic view


def primary_transmitter(transmitter: str) -> str:
    """The first-listed transmitter of a ``;``-separated list ("" if unknown).

    >>> primary_transmitter("ACh;5-HT"), primary_transmitter("")
    ('ACh', '')
    """
    first = str(transmitter or "").split(";")[0].strip()
    return first if first in TRANSMITTER_COLORS else ""


def _nt_class(transmitter: str) -> str:
    key = primary_transmitter(transmitter)
    return "nt-" + (key.replace("-", "") or "none")


# ------------------------------------------------------------------ nodes
def _shipped_key(net):
    """(dataset, level) when ``net`` is the shared object :func:`connectome.load` returns."""
    if not isinstance(net, Connectome):
        return None
    base = net.name.split(":")[0]
    try:
        shipped = load(base)
    except UnknownDatasetError:
        return None
    canonical = shipped if net.level == "neuron" else shipped.to_classes()
    return (base, net.level) if net is canonical else None


def _net(key) -> Connectome:
    dataset, level = key
    c = load(dataset)
    return c if level == "neuron" else c.to_classes()


def node_table(net) -> pd.DataFrame:
    """Every node of a network with what the drawing needs.

    Parameters
    ----------
    net : Connectome or Circuit

    Returns
    -------
    pandas.DataFrame
        Indexed by node name (neurons first, in the network's order, then muscles and other
        cells of a Connectome), columns ``class, type`` (one of :data:`NODE_TYPES`; a
        circuit's role decides it: :func:`connectome.queries.node_types`), ``transmitter``
        (the full list), ``x, y, z`` (µm, NaN when unknown). Computed once for the shipped
        datasets and handed out as a copy (copy-on-write: cheap, and changing it leaves the
        next caller's table alone).
    """
    key = _shipped_key(net)
    if key is not None:
        return _cached_node_table(key).copy(deep=False)
    return _node_table(net)


@functools.cache
def _cached_node_table(key) -> pd.DataFrame:
    return _node_table(_net(key))


def _node_table(net) -> pd.DataFrame:
    neurons = net.neurons
    types = node_types(net)
    table = pd.DataFrame(
        {
            "class": class_names(neurons),
            "type": types[neurons.index],
            "transmitter": neurons["transmitter"],
            "x": neurons["x"].astype(float),
            "y": neurons["y"].astype(float),
            "z": neurons["z"].astype(float),
        },
        index=neurons.index,
    )
    cells = getattr(net, "cells", None)
    if cells is not None and len(cells):
        extra = pd.DataFrame(
            {
                "class": cells.index,
                "type": types[cells.index],
                "transmitter": "",
                "x": np.nan,
                "y": np.nan,
                "z": np.nan,
            },
            index=cells.index,
        )
        table = pd.concat([table, extra])
    table.index.name = "name"
    return table


def ordered_nodes(net, nodes=None) -> list[str]:
    """Nodes ordered by type (:data:`NODE_TYPES`), then class, then name (VA2 before VA10).

    Parameters
    ----------
    net : Connectome or Circuit
    nodes : iterable of str, optional
        A subset to order (default: every node of :func:`node_table`).
    """
    table = node_table(net)
    if nodes is not None:
        table = table.loc[[n for n in nodes if n in table.index]]
    return _type_order(table)


def positions(net, view: str = "anatomical") -> pd.DataFrame:
    """Preset positions (px, cytoscape's frame: y grows downwards) of every node.

    Parameters
    ----------
    net : Connectome or Circuit
    view : {"anatomical", "layered", "schematic"}
        See the module notes.

    Returns
    -------
    pandas.DataFrame
        Indexed like :func:`node_table`, columns ``x, y`` in px. Computed once per
        (dataset, level, view) for the shipped datasets and handed out as a copy
        (copy-on-write, like :func:`node_table`).

    Examples
    --------
    >>> from connectome import load
    >>> p = positions(load("cook2019"), "anatomical")
    >>> bool(p.loc["AVAL", "x"] < p.loc["PLML", "x"])   # head to the left
    True
    """
    if view not in VIEWS:
        raise QueryError(f"unknown view {view!r}; views are {', '.join(VIEWS)}")
    key = _shipped_key(net)
    if key is not None:
        return _cached_positions(key, view).copy(deep=False)
    return _positions(_node_table(net), view)


@functools.cache
def _cached_positions(key, view) -> pd.DataFrame:
    return _positions(_cached_node_table(key), view)


def _positions(table: pd.DataFrame, view: str) -> pd.DataFrame:
    if view == "anatomical":
        return _anatomical(table)
    if view == "schematic":
        return _schematic(table)
    return _layered(table)


def _grid(names, x0, y0, cols) -> dict:
    return {
        name: (x0 + (i % cols) * _GRID_COL, y0 + (i // cols) * _GRID_ROW)
        for i, name in enumerate(names)
    }


def _anatomical(table: pd.DataFrame) -> pd.DataFrame:
    placed = table["y"].notna() & table["z"].notna()
    xy = {
        name: (y * SCALE, -(z * VERTICAL_STRETCH + x * LATERAL_TILT) * SCALE)
        for name, x, y, z in zip(
            table.index[placed],
            table.loc[placed, "x"],
            table.loc[placed, "y"],
            table.loc[placed, "z"],
            strict=True,
        )
    }
    rest = _type_order(table.loc[~placed])
    if rest:
        if xy:
            xs = [p[0] for p in xy.values()]
            ys = [p[1] for p in xy.values()]
            left, width, top = min(xs), max(xs) - min(xs), max(ys) + 2 * _GRID_ROW
        else:
            left, width, top = 0.0, 20 * _GRID_COL, 0.0
        cols = max(10, int(width // _GRID_COL) + 1)
        xy.update(_grid(rest, left, top, cols))
    return _frame(xy, table.index)


def _schematic(table: pd.DataFrame) -> pd.DataFrame:
    placed = table.index[table["y"].notna() & table["z"].notna()]
    xy = {}
    if len(placed):
        ap = table.loc[placed, "y"].astype(float)
        rank = ap.rank(method="first").to_numpy() - 1
        span = float(np.ptp(ap)) or 1.0
        where = SCHEMATIC_RANK * rank / max(len(ap) - 1, 1) + (1 - SCHEMATIC_RANK) * (
            (ap.to_numpy() - float(ap.min())) / span
        )
        column = np.minimum((where * SCHEMATIC_COLUMNS).astype(int), SCHEMATIC_COLUMNS - 1)
        # dorsal first: the anatomical view's height (z stretched, tilted by x)
        height = table.loc[placed, "z"] * VERTICAL_STRETCH + table.loc[placed, "x"] * LATERAL_TILT
        columns: dict[int, list] = {}
        for name, col, h in zip(placed, column, height, strict=True):
            columns.setdefault(int(col), []).append((-float(h), natural_key(name), name))
        tallest = max(len(members) for members in columns.values())
        for col, members in sorted(columns.items()):
            top = (tallest - len(members)) * SCHEMATIC_ROW / 2  # centred on the body axis
            for i, (_, _, name) in enumerate(sorted(members)):
                xy[name] = (col * SCHEMATIC_COL, top + i * SCHEMATIC_ROW)
    rest = _type_order(table.loc[~table.index.isin(placed)])
    if rest:
        top = (max(p[1] for p in xy.values()) + 2 * _GRID_ROW) if xy else 0.0
        cols = max(10, int(SCHEMATIC_COLUMNS * SCHEMATIC_COL // _GRID_COL))
        xy.update(_grid(rest, 0.0, top, cols))
    return _frame(xy, table.index)


def _type_order(table: pd.DataFrame) -> list[str]:
    """Names of a node table sorted by type, class, name."""
    rank = {t: i for i, t in enumerate(NODE_TYPES)}
    keys = {
        name: (rank[t], natural_key(str(c)), natural_key(name))
        for name, t, c in zip(table.index, table["type"], table["class"], strict=True)
    }
    return sorted(keys, key=keys.__getitem__)


def _layer_order(layer: pd.DataFrame) -> list[str]:
    """Classes from head to tail (mean soma y; unknown last), members together."""
    class_y = layer.groupby("class")["y"].mean()
    keys = {}
    for name, cls in zip(layer.index, layer["class"], strict=True):
        y = class_y.get(cls, np.nan)
        keys[name] = (
            math.isnan(y),
            0.0 if math.isnan(y) else y,
            natural_key(str(cls)),
            natural_key(name),
        )
    return sorted(keys, key=keys.__getitem__)


def _layered(table: pd.DataFrame) -> pd.DataFrame:
    layers = [table[table["type"] == t] for t in NODE_TYPES]
    layers = [layer for layer in layers if len(layer)]
    biggest = max((len(layer) for layer in layers), default=1)
    rows = max(8, math.ceil(biggest / _MAX_COLS))
    xy = {}
    x0 = 0.0
    for layer in layers:
        names = _layer_order(layer)
        cols = math.ceil(len(names) / rows)
        height = min(rows, len(names))
        top = (rows - height) * _ROW / 2  # centre short layers vertically
        for i, name in enumerate(names):
            xy[name] = (x0 + (i // rows) * _COL, top + (i % rows) * _ROW)
        x0 += cols * _COL + _LAYER_GAP
    return _frame(xy, table.index)


def _frame(xy: dict, index) -> pd.DataFrame:
    out = pd.DataFrame.from_dict(xy, orient="index", columns=["x", "y"])
    return out.reindex(index)


# ------------------------------------------------------------------ edges
def edge_width(weight) -> np.ndarray:
    """Drawn edge width (px at zoom 1): ``0.8 + 1.1 log2(w)``, between 0.8 and 9.

    >>> edge_width([1, 2, 400]).tolist()
    [0.8, 1.9, 9.0]
    """
    w = np.maximum(np.asarray(weight, dtype=float), 1.0)
    return np.round(np.clip(0.8 + 1.1 * np.log2(w), 0.8, 9.0), 1)


def view_scale(net, view: str = "anatomical") -> float:
    """How much to enlarge nodes and labels so they read alike in every view.

    A view fitted to the screen is shown at a zoom inversely proportional to its width;
    the anatomical view of the whole animal is about twice as wide as the layered view.
    Returns ``width / 1200 px`` clipped to [1, 2.5].

    >>> from connectome import load
    >>> view_scale(load("cook2019"), "layered"), view_scale(load("cook2019"), "anatomical")
    (1.0, 2.4)
    """
    pos = positions(net, view)
    neurons = node_table(net)["type"].isin(NEURON_TYPES)
    width = float(np.ptp(pos.loc[neurons, "x"])) if neurons.any() else 0.0
    return round(float(np.clip(width / 1200.0, 1.0, 2.5)), 1)


def elements(net, nodes, edges, view: str = "anatomical") -> list[dict]:
    """Cytoscape elements with preset positions.

    Parameters
    ----------
    net : Connectome or Circuit
    nodes : list of str
        The nodes to draw (e.g. from :func:`connectome.queries.filter_network`).
    edges : pandas.DataFrame
        ``pre, post, kind, weight`` (and ``change`` in compare mode); both ends in ``nodes``.
    view : {"anatomical", "layered"}

    Returns
    -------
    list of dict
        Nodes: ``data`` = {id}, ``classes`` = "<type> nt-<transmitter>", ``position``.
        Edges: ``data`` = {id ("c|pre|post" or "g|pre|post"), source, target, w (weight),
        wd (width)}, ``classes`` = "chem"
        or "gap" (plus the change in compare mode). Chemical edges are directed pre -> post;
        gap junctions are one edge per pair.
    """
    table = node_table(net)
    pos = positions(net, view)
    out = []
    for name in nodes:
        row = table.loc[name]
        x, y = pos.loc[name, "x"], pos.loc[name, "y"]
        out.append(
            {
                "data": {"id": name},
                "classes": f"{row['type']} {_nt_class(row['transmitter'])}",
                "position": {"x": round(float(x), 1), "y": round(float(y), 1)},
            }
        )
    # gap junctions first, so chemical synapses are drawn over them
    edges = edges.iloc[np.argsort((edges["kind"] == "chemical").to_numpy(), kind="stable")]
    kinds = np.where(edges["kind"] == "chemical", "chem", "gap")
    prefix = {"chem": "c", "gap": "g"}
    widths = edge_width(edges["weight"].to_numpy()) if len(edges) else []
    change = edges["change"] if "change" in edges.columns else itertools.repeat(None)
    for pre, post, kind, w, wd, ch in zip(
        edges["pre"], edges["post"], kinds, edges["weight"], widths, change, strict=False
    ):
        classes = kind if ch is None else f"{kind} {ch}"
        out.append(
            {
                "data": {
                    "id": f"{prefix[kind]}|{pre}|{post}",
                    "source": pre,
                    "target": post,
                    "w": float(w),
                    "wd": float(wd),
                },
                "classes": classes,
            }
        )
    return out


def pack(elements) -> dict:
    """Cytoscape elements as columns, about a third of the JSON of the element list.

    Nodes: ``n`` (ids), ``nc`` (classes), ``x``, ``y`` (positions). Edges: ``s``, ``t``
    (indices into ``n``), ``ec`` (classes, the first one being the kind: chem, gap or path),
    ``w`` (weight, or null), ``wd`` (width, or null). ``webapp/assets/explore.js`` unpacks it
    (edge ids there are "<first class>|<source>|<target>").

    Examples
    --------
    >>> els = [{"data": {"id": "A"}, "classes": "motor", "position": {"x": 1, "y": 2}},
    ...        {"data": {"id": "B"}, "classes": "motor", "position": {"x": 3, "y": 4}},
    ...        {"data": {"id": "c|A|B", "source": "A", "target": "B", "w": 2.0, "wd": 1.9},
    ...         "classes": "chem"}]
    >>> pack(els)["s"], pack(els)["t"], pack(els)["ec"]
    ([0], [1], ['chem'])
    """
    nodes = [e for e in elements if "source" not in e["data"]]
    edges = [e for e in elements if "source" in e["data"]]
    index = {e["data"]["id"]: i for i, e in enumerate(nodes)}
    return {
        "n": [e["data"]["id"] for e in nodes],
        "nc": [e.get("classes", "") for e in nodes],
        "x": [e["position"]["x"] for e in nodes],
        "y": [e["position"]["y"] for e in nodes],
        "s": [index[e["data"]["source"]] for e in edges],
        "t": [index[e["data"]["target"]] for e in edges],
        "ec": [e.get("classes", "") for e in edges],
        "w": [e["data"].get("w") for e in edges],
        "wd": [e["data"].get("wd") for e in edges],
    }


def path_elements(paths) -> list[dict]:
    """Overlay edges (class ``path``) along paths given as lists of node names.

    Each consecutive pair is drawn once, directed along the path, whatever synapses
    (chemical, gap junction or both) connect them.
    """
    seen = {}
    for path in paths:
        for a, b in itertools.pairwise(path):
            seen.setdefault((a, b), None)
    return [
        {"data": {"id": f"path|{a}|{b}", "source": a, "target": b}, "classes": "path"}
        for a, b in seen
    ]


# ------------------------------------------------------------------ styles
def _ids(names) -> str:
    return ", ".join(f'node[id = "{n}"]' for n in names)


def stylesheet(
    color_by: str = "type",
    selected=(),
    partners=(),
    path_nodes=(),
    compare: bool = False,
    labels=(),
    scale: float = 1.0,
) -> list[dict]:
    """The cytoscape stylesheet of a view.

    Parameters
    ----------
    color_by : {"type", "transmitter"}
        Node colour: neuron type (muscles and other cells have their own colours and
        shapes) or primary neurotransmitter.
    selected : iterable of str
        Selected nodes: outlined and enlarged; their synapses are coloured (inputs indigo,
        outputs wine: :data:`SELECTION_EDGE_COLORS`; gap junctions orange) and everything
        not connected is dimmed.
    partners : iterable of str
        Nodes that stay undimmed with the selection (its drawn partners).
    path_nodes : iterable of str
        Nodes of drawn paths (outlined in purple; their ``path`` edges are drawn on top).
    compare : bool
        Colour edges by their change (gained, lost, changed, same) instead of by kind, and
        every node in :data:`COMPARE_NODE_COLOR`.
    labels : iterable of str
        Nodes whose label is always shown (otherwise labels appear when zoomed in).
    scale : float
        Node sizes, label sizes and path widths are multiplied by this (see
        :func:`view_scale`: a drawing that is wider in model px is shown at a smaller zoom).
    """
    if color_by not in COLOR_BY:
        raise QueryError(f"unknown colouring {color_by!r}; use one of {', '.join(COLOR_BY)}")
    sheet = [
        {
            "selector": "node",
            "style": {
                "width": 14 * scale,
                "height": 14 * scale,
                "label": "data(id)",
                "font-size": 9 * scale,
                "min-zoomed-font-size": 7,
                "text-valign": "top",
                "text-margin-y": -2,
                "color": "#222",
                "border-width": 0.5,
                "border-color": "#444",
            },
        },
        {
            "selector": "edge",
            "style": {
                "width": "data(wd)",
                "opacity": 0.35,
                "curve-style": "straight",
                "line-color": _CHEM_COLOR,
            },
        },
        {
            "selector": "edge.chem",
            "style": {
                "target-arrow-shape": "triangle",
                "target-arrow-color": _CHEM_COLOR,
                "arrow-scale": 0.7,
            },
        },
        {
            # gap junctions: undirected, orange, drawn as cheap "haystack" lines
            "selector": "edge.gap",
            "style": {
                "line-color": _GAP_COLOR,
                "curve-style": "haystack",
                "haystack-radius": 0,
                "opacity": 0.3,
            },
        },
        {"selector": "edge:loop", "style": {"curve-style": "bezier", "loop-sweep": "-60deg"}},
        {"selector": "node.muscle", "style": {"shape": "rectangle"}},
        {"selector": "node.cell", "style": {"shape": "diamond"}},
    ]
    if color_by == "type":
        sheet += [
            {"selector": f"node.{t}", "style": {"background-color": c}}
            for t, c in TYPE_COLORS.items()
        ]
    else:
        sheet += [
            {
                "selector": f"node.{_nt_class(k) if k else 'nt-none'}",
                "style": {"background-color": c},
            }
            for k, c in TRANSMITTER_COLORS.items()
        ]
        sheet += [
            {"selector": f"node.{t}", "style": {"background-color": TYPE_COLORS[t]}}
            for t in ("muscle", "cell")
        ]
    if compare:
        sheet.append({"selector": "node", "style": {"background-color": COMPARE_NODE_COLOR}})
        sheet += [
            {
                "selector": f"edge.{ch}",
                "style": {"line-color": c, "target-arrow-color": c, "opacity": 0.6},
            }
            for ch, c in CHANGE_COLORS.items()
        ]
        sheet.append({"selector": "edge.same", "style": {"opacity": 0.2}})
    selected, partners, path_nodes = list(selected), list(partners), list(path_nodes)
    if selected or path_nodes:
        sheet += [
            {"selector": "node", "style": {"opacity": 0.25}},
            {"selector": "edge", "style": {"opacity": 0.06}},
        ]
    if partners or selected:
        sheet.append(
            {
                "selector": _ids(partners + selected),
                "style": {"opacity": 1, "font-size": 13 * scale, "min-zoomed-font-size": 0},
            }
        )
    for name in selected:
        out_sel = f'edge.chem[source = "{name}"]'
        in_sel = f'edge.chem[target = "{name}"]'
        gap_sel = f'edge.gap[source = "{name}"], edge.gap[target = "{name}"]'
        sheet += [
            {
                "selector": in_sel,
                "style": {
                    "opacity": 0.85,
                    "line-color": _IN_COLOR,
                    "target-arrow-color": _IN_COLOR,
                },
            },
            {
                "selector": out_sel,
                "style": {
                    "opacity": 0.85,
                    "line-color": _OUT_COLOR,
                    "target-arrow-color": _OUT_COLOR,
                },
            },
            {"selector": gap_sel, "style": {"opacity": 0.9, "line-color": _GAP_COLOR}},
        ]
    if selected:
        sheet.append(
            {
                "selector": _ids(selected),
                "style": {
                    "width": 24 * scale,
                    "height": 24 * scale,
                    "border-width": 3,
                    "border-color": "#111",
                    "font-size": 20 * scale,
                    "font-weight": "bold",
                    "z-index": 10,
                },
            }
        )
    if labels:
        sheet.append({"selector": _ids(labels), "style": {"min-zoomed-font-size": 0}})
    sheet.append(
        {
            "selector": "edge.path",
            "style": {
                "width": 5 * scale,
                "opacity": 1,
                "line-color": _PATH_COLOR,
                "target-arrow-shape": "triangle",
                "target-arrow-color": _PATH_COLOR,
                "arrow-scale": 1.2,
                "z-index": 20,
                "line-style": "solid",
            },
        }
    )
    if path_nodes:
        sheet.append(
            {
                "selector": _ids(path_nodes),
                "style": {
                    "opacity": 1,
                    "border-width": 3,
                    "border-color": _PATH_COLOR,
                    "font-size": 15 * scale,
                    "min-zoomed-font-size": 0,
                    "z-index": 15,
                },
            }
        )
    return sheet


def legend(color_by: str = "type", present=None) -> list[tuple[str, str, str]]:
    """The node colour key: ``(label, colour, shape)`` for what is drawn.

    Parameters
    ----------
    color_by : {"type", "transmitter"}
    present : pandas.DataFrame, optional
        The :func:`node_table` rows drawn; only their categories are listed.

    Examples
    --------
    >>> [label for label, _, _ in legend("type")][:3]
    ['sensory', 'interneuron', 'motor']
    """
    shapes = {"muscle": "square", "cell": "diamond"}
    types = set(present["type"]) if present is not None else set(NODE_TYPES)
    if color_by == "type":
        return [
            (t if t != "cell" else "other cell", TYPE_COLORS[t], shapes.get(t, "circle"))
            for t in NODE_TYPES
            if t in types
        ]
    if present is not None:
        found = {
            primary_transmitter(t)
            for t in present.loc[~present["type"].isin(shapes), "transmitter"]
        }
    else:
        found = set(TRANSMITTER_COLORS)
    out = [(k or "not known", c, "circle") for k, c in TRANSMITTER_COLORS.items() if k in found]
    out += [
        (t if t != "cell" else "other cell", TYPE_COLORS[t], shapes[t])
        for t in ("muscle", "cell")
        if t in types
    ]
    return out
