"""Questions a user asks of a wiring diagram: partners, neighbourhoods, paths, filters, hubs.

Every function takes the network (a :class:`~connectome.graph.Connectome` or a
:class:`~connectome.circuit.Circuit`) first and returns plain data: lists and
DataFrames keyed by neuron name. Gap junctions count in both directions.

Path strength: a synapse of weight ``w`` (a count of synapses or EM sections)
is read as a strength, so a path's cost is ``sum(1 / w)`` over its edges; the
"strongest" path minimises that cost. Its ``bottleneck`` is the smallest
weight along it.
"""

import itertools
import math

import networkx as nx
import numpy as np
import pandas as pd

from connectome import limits
from connectome.errors import CircuitError, QueryError
from connectome.neurons import NEURON_TYPES, ROLE_TYPES

__all__ = [
    "KINDS",
    "partners",
    "neighbourhood",
    "strength_graph",
    "strongest_paths",
    "shortest_paths",
    "all_paths",
    "node_types",
    "filter_network",
    "degrees",
    "hubs",
    "compare",
]

KINDS = ("chemical", "electrical")


def _kinds(kind) -> tuple[str, ...]:
    if kind is None or kind == "both":
        return KINDS
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    for k in kinds:
        if k not in KINDS:
            raise QueryError(f"unknown synapse kind {k!r}; use 'chemical', 'electrical' or None")
    return kinds


def _directed(edges: pd.DataFrame, kinds) -> pd.DataFrame:
    """Edges as directed rows: gap junctions listed in both directions."""
    edges = edges[edges["kind"].isin(kinds)]
    gap = edges[edges["kind"] == "electrical"]
    flipped = gap.rename(columns={"pre": "post", "post": "pre"})
    flipped = flipped[flipped["pre"] != flipped["post"]]
    return pd.concat([edges, flipped[edges.columns]], ignore_index=True)


def partners(net, name, kind=None) -> pd.DataFrame:
    """The partners of one neuron, by direction and kind, strongest first.

    Parameters
    ----------
    net : Connectome or Circuit
    name : str
        One neuron (any case). A class name is not accepted here: ask for a member,
        or use the class-level network (``net.to_classes()``).
    kind : {"chemical", "electrical", None}
        None lists both.

    Returns
    -------
    pandas.DataFrame
        Columns ``partner, direction ('in' | 'out' | 'gap'), kind, weight, sign``, sorted by
        direction (in, out, gap) and then by weight, descending.

    Examples
    --------
    >>> from connectome import load
    >>> p = partners(load("cook2019"), "avl")
    >>> list(p.columns)
    ['partner', 'direction', 'kind', 'weight', 'sign']
    """
    neuron = net.names.canonical(name)
    edges = net.edges
    edges = edges[edges["kind"].isin(_kinds(kind))]
    chem = edges[edges["kind"] == "chemical"]
    gap = edges[edges["kind"] == "electrical"]
    parts = [
        chem[chem["post"] == neuron].assign(partner=lambda d: d["pre"], direction="in"),
        chem[chem["pre"] == neuron].assign(partner=lambda d: d["post"], direction="out"),
        gap[gap["post"] == neuron].assign(partner=lambda d: d["pre"], direction="gap"),
        gap[(gap["pre"] == neuron) & (gap["post"] != neuron)].assign(
            partner=lambda d: d["post"], direction="gap"
        ),
    ]
    order = {"in": 0, "out": 1, "gap": 2}
    out = pd.concat(parts, ignore_index=True)[["partner", "direction", "kind", "weight", "sign"]]
    out = out.assign(_o=out["direction"].map(order))
    out = out.sort_values(["_o", "weight", "partner"], ascending=[True, False, True])
    return out.drop(columns="_o").reset_index(drop=True)


def neighbourhood(net, names, k=1, kind=None, direction="both", neurons_only=True) -> list[str]:
    """The neurons within ``k`` synapses of ``names`` (the seeds come first).

    Parameters
    ----------
    names : str or list of str
        Neurons or classes.
    k : int
        Number of hops (0 returns the seeds), at most ``MAX_HOPS``
        (:mod:`connectome.limits`).
    direction : {"both", "in", "out"}
        Follow chemical synapses backwards ("in": presynaptic partners), forwards, or both.
        Gap junctions are followed whatever the direction.
    neurons_only : bool
        Leave out muscles and other cells.
    """
    k = _hops(k, "k (hops)")
    if direction not in ("both", "in", "out"):
        raise QueryError(f"direction must be 'both', 'in' or 'out', got {direction!r}")
    seeds = net.resolve(names)
    edges = net.edges if not neurons_only else net.neuron_edges
    edges = _directed(edges, _kinds(kind))
    fwd: dict[str, set[str]] = {}
    for pre, post, kind_ in zip(edges["pre"], edges["post"], edges["kind"], strict=True):
        if direction in ("both", "out") or kind_ == "electrical":
            fwd.setdefault(pre, set()).add(post)
        if direction in ("both", "in") and kind_ == "chemical":
            fwd.setdefault(post, set()).add(pre)
    seen = dict.fromkeys(seeds)
    frontier = list(seeds)
    for _ in range(k):
        if not frontier:
            break
        nxt = []
        for n in frontier:
            for m in sorted(fwd.get(n, ())):
                if m not in seen:
                    seen[m] = None
                    nxt.append(m)
        frontier = nxt
    return list(seen)


def strength_graph(net, kind=None, min_weight=0.0) -> nx.DiGraph:
    """A simple DiGraph of neuron-to-neuron edges for path finding.

    Parallel chemical and electrical edges between one ordered pair are summed; gap junctions
    run both ways. Edge attributes: ``weight`` (summed) and ``cost = 1 / weight``.
    """
    edges = _directed(net.neuron_edges, _kinds(kind))
    edges = edges[edges["weight"] >= min_weight]
    summed = edges.groupby(["pre", "post"], as_index=False)["weight"].sum()
    g = nx.DiGraph()
    g.add_nodes_from(net.neurons.index)
    for pre, post, w in summed.itertuples(index=False):
        if pre != post:
            g.add_edge(pre, post, weight=float(w), cost=1.0 / float(w))
    return g


def _path_row(g, path) -> dict:
    """One path's row: ends, names, length (edges), cost (sum of 1 / weight), bottleneck."""
    weights = [g[a][b]["weight"] for a, b in itertools.pairwise(path)]
    return {
        "source": path[0],
        "target": path[-1],
        "path": list(path),
        "length": len(path) - 1,
        "cost": sum(1.0 / w for w in weights),
        "bottleneck": min(weights),
    }


def strongest_paths(net, sources, targets, n=5, kind=None) -> list[dict]:
    """The ``n`` strongest simple paths from any of ``sources`` to any of ``targets``.

    Strength is the inverse synapse count summed along the path (see the module notes);
    ties are broken by path length and then by name, so the answer is deterministic.
    ``n`` is at most ``MAX_PATH_COUNT`` (:mod:`connectome.limits`). One search runs over
    all the pairs at once (Yen's algorithm from a start joined to every source to an end
    joined from every target), so its cost does not grow with the number of pairs.

    Returns
    -------
    list of dict
        Each with ``source, target, path (list of names), length (edges), cost, bottleneck``,
        strongest first. Empty if no path exists.

    Examples
    --------
    >>> from connectome import load
    >>> [r["path"] for r in strongest_paths(load("cook2019"), "PLML", "AVAL", n=2)]
    [['PLML', 'PVR', 'PVCR', 'AVAL'], ['PLML', 'LUAL', 'AVAL']]
    """
    src, dst = net.resolve(sources), net.resolve(targets)
    n = _check_n(n)
    g = strength_graph(net, kind)
    start, end = ("start",), ("end",)  # tuples: never a neuron's name
    g.add_edges_from(((start, s) for s in src), cost=0.0)
    g.add_edges_from(((t, end) for t in dst), cost=0.0)
    if not nx.has_path(g, start, end):
        return []
    rows, extra = [], 0
    for path in nx.shortest_simple_paths(g, start, end, weight="cost"):
        path = path[1:-1]
        if len(path) < 2:  # a neuron that is both a source and a target
            continue
        row = _path_row(g, path)
        if len(rows) >= n:  # read on through ties with the n-th path, then stop
            if not math.isclose(row["cost"], rows[n - 1]["cost"], rel_tol=1e-12):
                break
            extra += 1
            if extra > limits.MAX_PATH_COUNT:
                break
        rows.append(row)
        rows.sort(key=lambda r: (r["cost"], r["length"], r["path"]))
    return rows[:n]


def _check_n(n) -> int:
    return limits.check_int(n, "n (number of paths)", 1, limits.MAX_PATH_COUNT, QueryError)


def _hops(k, field) -> int:
    return limits.check_int(k, field, 0, limits.MAX_HOPS, QueryError)


#: Most shortest paths read per (source, target) pair by :func:`shortest_paths`.
_SHORTEST_PER_PAIR = 50


def shortest_paths(net, sources, targets, n=5, kind=None) -> list[dict]:
    """The ``n`` paths with the fewest synapses from any of ``sources`` to any of ``targets``.

    Ties in length are broken by strength (the cost of :func:`strongest_paths`) and then by
    name; at most 50 shortest paths per (source, target) pair are considered. One
    breadth-first search runs per source, and pairs farther apart than the ``n``-th path are
    not walked. ``n`` is at most ``MAX_PATH_COUNT`` (:mod:`connectome.limits`).

    Returns
    -------
    list of dict
        The keys of :func:`strongest_paths`: ``source, target, path, length, cost,
        bottleneck``. Empty when no path exists.

    Raises
    ------
    UnknownNeuronError
        For a name that is neither a neuron nor a class of ``net``.

    Examples
    --------
    >>> from connectome import load
    >>> [r["path"] for r in shortest_paths(load("cook2019"), "PLML", "AVAL", n=2)]
    [['PLML', 'AVAL']]
    """
    n = _check_n(n)
    src, dst = net.resolve(sources), net.resolve(targets)
    g = strength_graph(net, kind)
    pairs = []  # (length, source, target, BFS predecessors): one search per source
    for s in src:
        pred, length = nx.predecessor(g, s, return_seen=True)
        pairs += [(length[t], s, t, pred) for t in dst if t != s and t in pred]
    pairs.sort(key=lambda p: p[0])
    rows = []
    for i, (length, s, t, pred) in enumerate(pairs):
        for path in itertools.islice(_paths_back(pred, s, t), _SHORTEST_PER_PAIR):
            rows.append(_path_row(g, path))
        if len(rows) >= n and (i + 1 == len(pairs) or pairs[i + 1][0] > length):
            break  # the pairs left have longer paths only
    rows.sort(key=lambda r: (r["length"], r["cost"], r["path"]))
    return rows[:n]


def _paths_back(pred, source, target):
    """Every shortest path from ``source`` to ``target`` given BFS predecessor lists, in the
    order of ``networkx.all_shortest_paths`` (a depth-first walk back from the target)."""
    path, stack = [target], [iter(pred[target])]
    while stack:
        if path[-1] == source:
            yield path[::-1]
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            path.pop()
        else:
            path.append(step)
            stack.append(iter(pred[step]))


def all_paths(net, sources, targets, max_length=3, kind=None, limit=limits.MAX_PATHS) -> list[dict]:
    """Every simple path of at most ``max_length`` synapses from ``sources`` to ``targets``,
    strongest first (same columns as :func:`strongest_paths`).

    ``max_length`` is 1 .. ``MAX_PATH_LENGTH`` and ``limit`` at most ``MAX_PATHS``
    (:mod:`connectome.limits`). The search follows only neurons from which a target is
    still within reach, so its work follows the number of paths found.

    Raises
    ------
    QueryError
        For a ``max_length`` or ``limit`` out of range.
    CircuitError
        If there are more than ``limit`` paths (ask for a shorter ``max_length``).
    """
    max_length = limits.check_int(
        max_length, "max_length (synapses)", 1, limits.MAX_PATH_LENGTH, QueryError
    )
    limit = limits.check_int(limit, "limit (paths)", 1, limits.MAX_PATHS, QueryError)
    src, dst = net.resolve(sources), net.resolve(targets)
    g = strength_graph(net, kind)
    # synapses from each neuron to the nearest target: a partial path that cannot reach a
    # target within max_length is not followed, so the work follows the paths found
    to_target = nx.multi_source_dijkstra_path_length(
        g.reverse(copy=False), set(dst), cutoff=max_length, weight=lambda u, v, d: 1
    )
    rows = []
    for s in src:
        for path in _simple_paths(g, s, set(dst) - {s}, max_length, to_target):
            rows.append(_path_row(g, path))
            if len(rows) > limit:
                raise CircuitError(
                    f"more than {limit} paths of length <= {max_length}; "
                    "ask for a shorter max_length or fewer sources/targets"
                )
    rows.sort(key=lambda r: (r["cost"], r["length"], r["path"]))
    return rows


def _simple_paths(g, source, targets, max_length, to_target):
    """The simple paths of at most ``max_length`` edges from ``source`` to any of
    ``targets`` (through other targets too), as ``networkx.all_simple_paths`` finds them,
    following only nodes ``v`` with ``to_target[v]`` edges left to spare."""
    path, on_path, stack = [source], {source}, [iter(g.successors(source))]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            on_path.discard(path.pop())
            continue
        if step in on_path or len(path) + to_target.get(step, max_length) > max_length:
            continue
        if step in targets:
            yield path + [step]
        path.append(step)
        on_path.add(step)
        stack.append(iter(g.successors(step)))


def node_types(net) -> pd.Series:
    """The type of every node: one of :data:`~connectome.neurons.NODE_TYPES`.

    Neurons first, in the network's order, with their type (a type outside
    :data:`~connectome.neurons.NEURON_TYPES` reads as ``other``; in a circuit the role
    decides, through :data:`~connectome.neurons.ROLE_TYPES`), then the muscles (``muscle``)
    and other cells (``cell``) of a Connectome.

    >>> from connectome import load
    >>> node_types(load("cook2019"))[["PLML", "AVAL", "VA1"]].tolist()
    ['sensory', 'interneuron', 'motor']
    """
    neurons = net.neurons
    types = neurons["type"].where(neurons["type"].isin(NEURON_TYPES), "other")
    if "role" in neurons.columns:
        types = neurons["role"].map(ROLE_TYPES).fillna(types)
    cells = getattr(net, "cells", None)
    if cells is not None and len(cells):
        kinds = np.where(cells["cell_type"] == "muscle", "muscle", "cell")
        types = pd.concat([types, pd.Series(kinds, index=cells.index)])
    return types.rename("type").rename_axis("name")


def filter_network(
    net,
    *,
    min_chemical: float = 1.0,
    min_electrical: float = 1.0,
    types=NEURON_TYPES,
    show_cells: bool = False,
    focus=(),
    hops=None,
    keep=(),
    compare_to=None,
):
    """The nodes and edges that pass a view's filters.

    Parameters
    ----------
    net : Connectome or Circuit
    min_chemical, min_electrical : float
        Smallest weight of a chemical synapse / gap junction to keep (the dataset's unit,
        e.g. EM serial sections for Cook 2019).
    types : iterable of str
        Neuron types to keep (subset of :data:`~connectome.neurons.NEURON_TYPES`; see
        :func:`node_types`).
    show_cells : bool
        Also keep muscles and other non-neuron cells (and the synapses onto them).
    focus : iterable of str
        Node names (already resolved) whose neighbourhood ``hops`` restricts the result to.
    hops : int or None
        None keeps every node that passes the filters; ``0 <= k <= MAX_HOPS`` keeps only
        ``focus`` and the nodes within ``k`` synapses of it over the edges that pass the
        filters (either direction; gap junctions both ways).
    keep : iterable of str
        Nodes kept whatever the filters say (a selection, the nodes of a drawn path).
    compare_to : Connectome, optional
        Compare mode: edges of :func:`compare` (``net`` is A, ``compare_to`` is B) between
        neurons present in both; the thresholds apply to the larger of the two weights.

    Returns
    -------
    nodes : list of str
        In :func:`node_types` order.
    edges : pandas.DataFrame
        Columns ``pre, post, kind, weight, sign`` (compare mode: ``pre, post, kind,
        weight_a, weight_b, delta, change, weight`` with weight the larger of the two).

    Examples
    --------
    >>> from connectome import load
    >>> nodes, edges = filter_network(
    ...     load("cook2019"), min_chemical=30, min_electrical=30, focus=["AVAL"], hops=1
    ... )
    >>> nodes, len(edges)
    (['AVAL', 'AVDL', 'AVDR', 'FLPL', 'PHBL', 'PHBR', 'SAAVL'], 8)
    """
    table = node_types(net)
    types = set(types)
    if compare_to is not None:
        edges = compare(net, compare_to)
        edges = edges.assign(weight=edges[["weight_a", "weight_b"]].max(axis=1))
        common = set(compare_to.neurons.index)
        allowed = table.index[table.isin(types) & table.index.isin(common)]
    else:
        edges = net.edges
        shown = types | ({"muscle", "cell"} if show_cells else set())
        allowed = table.index[table.isin(shown)]
    keep = [n for n in keep if n in table.index]
    allowed = set(allowed) | set(keep)
    ends = edges["pre"].isin(allowed) & edges["post"].isin(allowed)
    chem = edges["kind"] == "chemical"
    strong = np.where(chem, edges["weight"] >= min_chemical, edges["weight"] >= min_electrical)
    edges = edges[ends & strong].reset_index(drop=True)
    if hops is not None:
        hops = _hops(hops, "hops")
        focus = [n for n in focus if n in allowed]
        g = nx.Graph()
        g.add_nodes_from(focus)
        g.add_edges_from(zip(edges["pre"], edges["post"], strict=True))
        reach = nx.multi_source_dijkstra_path_length(g, set(focus), cutoff=hops)
        allowed = set(reach) | set(keep)
        edges = edges[edges["pre"].isin(allowed) & edges["post"].isin(allowed)]
        edges = edges.reset_index(drop=True)
    nodes = [n for n in table.index if n in allowed]
    return nodes, edges


def degrees(net) -> pd.DataFrame:
    """Degree and weight statistics per neuron (neuron-to-neuron edges only).

    Columns: ``chem_in, chem_out, gap`` (number of partners), ``chem_in_weight,
    chem_out_weight, gap_weight`` (summed weights), ``degree`` (distinct partners of any kind),
    ``strength`` (all weights), sorted by ``degree`` then ``strength``, descending.
    """
    edges = net.neuron_edges
    chem = edges[edges["kind"] == "chemical"]
    gap = _directed(edges[edges["kind"] == "electrical"], ("electrical",))
    idx = net.neurons.index
    table = pd.DataFrame(index=idx)
    table["chem_in"] = chem.groupby("post").size().reindex(idx, fill_value=0)
    table["chem_out"] = chem.groupby("pre").size().reindex(idx, fill_value=0)
    table["gap"] = gap.groupby("pre").size().reindex(idx, fill_value=0)
    table["chem_in_weight"] = chem.groupby("post")["weight"].sum().reindex(idx, fill_value=0)
    table["chem_out_weight"] = chem.groupby("pre")["weight"].sum().reindex(idx, fill_value=0)
    table["gap_weight"] = gap.groupby("pre")["weight"].sum().reindex(idx, fill_value=0)
    both = pd.concat(
        [
            edges[["pre", "post"]],
            edges[["post", "pre"]].rename(columns={"post": "pre", "pre": "post"}),
        ]
    )
    both = both[both["pre"] != both["post"]].drop_duplicates()
    table["degree"] = both.groupby("pre").size().reindex(idx, fill_value=0)
    table["strength"] = table[["chem_in_weight", "chem_out_weight", "gap_weight"]].sum(axis=1)
    return table.sort_values(["degree", "strength"], ascending=False, kind="stable")


def hubs(net, top=10) -> pd.DataFrame:
    """The ``top`` neurons by number of distinct partners (see :func:`degrees`)."""
    return degrees(net).head(top)


def compare(a, b, kind=None) -> pd.DataFrame:
    """Edge-by-edge differences between two networks (e.g. two developmental stages).

    Only neuron-to-neuron edges between neurons present in both networks are compared, so
    a stage whose data covers fewer neurons does not show their edges as lost.

    Returns
    -------
    pandas.DataFrame
        Columns ``pre, post, kind, weight_a, weight_b, delta, change`` with change one of
        ``gained`` (only in b), ``lost`` (only in a), ``changed``, ``same``; sorted by change
        and then by |delta|, descending.
    """
    common = a.neurons.index.intersection(b.neurons.index)
    kinds = _kinds(kind)

    def side(net):
        e = net.neuron_edges
        e = e[e["kind"].isin(kinds) & e["pre"].isin(common) & e["post"].isin(common)]
        return e.set_index(["pre", "post", "kind"])["weight"]

    wa, wb = side(a), side(b)
    table = pd.concat([wa.rename("weight_a"), wb.rename("weight_b")], axis=1).fillna(0.0)
    table["delta"] = table["weight_b"] - table["weight_a"]
    change = pd.Series("changed", index=table.index)
    change[table["weight_a"] == 0] = "gained"
    change[table["weight_b"] == 0] = "lost"
    change[table["delta"] == 0] = "same"
    table["change"] = change
    order = {"gained": 0, "lost": 1, "changed": 2, "same": 3}
    table = table.reset_index()
    table = table.assign(_o=table["change"].map(order), _d=-table["delta"].abs())
    table = table.sort_values(["_o", "_d", "pre", "post", "kind"])
    return table.drop(columns=["_o", "_d"]).reset_index(drop=True)
