"""The Explore page's state and view model, without Dash: what a URL asks for and what is drawn.

:class:`ExploreState` is everything that defines one view of the Explore page (dataset,
selection, filters, view, path ends, tab); it reads and writes the URL query string, so a
copied link reopens the same view (``?dataset=witvliet2021_8&level=class&select=AVA&chem=3``;
defaults are left out), and it parses raw control values into valid ones, explaining each
fallback. :func:`render` turns a state into what the page draws (cytoscape elements,
stylesheet, legend, counts), :func:`path_rows` into the path finder's rows, and
:func:`search_options` lists what the search box offers. Everything here is plain Python and
pandas, testable without a browser; the page (:mod:`webapp.pages.explore`) holds the layout
and thin callbacks.
"""

import dataclasses
import functools
import hashlib
from types import MappingProxyType
from urllib.parse import urlencode

import connectome
from connectome.errors import FieldError, UnknownNeuronError, WormlabError
from connectome.limits import (
    MAX_NEURONS,
    MAX_PATH_COUNT,
    MAX_SUGGESTED,
    MAX_WEIGHT,
    check_float,
    shorten,
)
from connectome.neurons import as_name_list, class_by_name
from webapp import network
from webapp.circuit_state import short_list
from webapp.forms import parse_number

__all__ = [
    "SHOW",
    "EDGES",
    "PATH_MODES",
    "TABS",
    "HEATMAP_KINDS",
    "LEVELS",
    "MAX_HIGHLIGHT",
    "N_PATHS",
    "SUGGESTED",
    "ExploreState",
    "network_of",
    "neuron_classes",
    "resolve",
    "search_box_values",
    "kept_selection",
    "path_rows",
    "format_weight",
    "edge_text",
    "render",
    "search_options",
    "search_suggestions",
    "fingerprint",
    "stored_paths",
]

SHOW = ("all", "0", "1", "2", "3")
EDGES = ("selection", "all")
PATH_MODES = ("strongest", "shortest")
TABS = ("network", "heatmap")
HEATMAP_KINDS = ("chemical", "electrical")
LEVELS = ("neuron", "class")
MAX_HIGHLIGHT = 40  # selected nodes highlighted at once (the stylesheet grows with each)
N_PATHS = 5
SUGGESTED = " · did you mean?"  # the end of a suggested option's label


def _weight(raw, name, default, problems):
    """A minimum weight (>= 0) from ``raw``, or ``default`` with a message in ``problems``."""
    try:
        return float(parse_number(raw, f"Minimum {name} weight", lo=0))
    except FieldError as err:
        problems.append(f"{err}; using {default:g}")
        return default


def _choice(raw, allowed, default, what, problems):
    if raw is None or raw == "":
        return default
    if not isinstance(raw, str) or raw not in allowed:
        problems.append(f"unknown {what} {shorten(raw)}; use one of {', '.join(allowed)}")
        return default
    return raw


def _names(raw, field="Selection") -> tuple[str, ...]:
    """Names from a text or a list of texts (:func:`connectome.neurons.as_name_list`), each
    once.

    Raises
    ------
    FieldError
        For a value that is neither (a number, a dict, a list holding one) or more than
        ``MAX_NAMES`` names (:mod:`connectome.limits`).
    """
    if raw is None:
        return ()
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, (list, tuple)) or not all(isinstance(t, str) for t in texts):
        raise FieldError(field, raw, f"expected names (text), got {shorten(raw)}")
    return tuple(dict.fromkeys(as_name_list(texts, field)))


def _checked_names(raw, field, problems) -> tuple[str, ...]:
    """:func:`_names`, or none with the reason in ``problems``."""
    try:
        return _names(raw, field)
    except FieldError as err:
        problems.append(f"{err}; nothing was taken from it")
        return ()


def _text(raw, field, problems) -> str:
    """A text field's value (stripped), or "" with a message when it is not text; names in
    it are checked as :func:`_names` does."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        problems.append(f"{field}: expected text, got {shorten(raw)}; left empty")
        return ""
    count = len(problems)
    _checked_names(raw, field, problems)
    return raw.strip() if len(problems) == count else ""


def _dataset(raw, datasets, what, problems) -> str:
    """A dataset key from a control value ("" for none), with a message when unknown."""
    if raw is None or raw == "":
        return ""
    key = raw.strip().lower() if isinstance(raw, str) else None
    if key not in datasets:
        problems.append(f"unknown {what} {shorten(raw)}; use one of {', '.join(datasets)}")
        return ""
    return key


@dataclasses.dataclass(frozen=True)
class ExploreState:
    """Everything that defines one view of the Explore page.

    Attributes
    ----------
    dataset : str
        A shipped dataset key (:func:`connectome.datasets`).
    level : {"neuron", "class"}
        Draw neurons, or classes (L/R and numbered members merged).
    view : {"schematic", "anatomical", "layered"}
        The schematic view (the default) keeps every label readable; see
        :mod:`webapp.network`.
    color : {"type", "transmitter"}
    select : tuple of str
        Selected neurons or classes, as typed (resolved when drawn).
    show : {"all", "0", "1", "2", "3"}
        The whole network, or only the selection and its k-hop neighbourhood.
    edges : {"selection", "all"}
        In the whole network (``show="all"``, no comparison), draw only the selection's
        synapses (the default: thousands of edges hide the drawing), or all of them.
        Neighbourhoods and comparisons draw all their edges.
    chem, gap : float
        Minimum chemical / gap-junction weight drawn (the dataset's unit).
    types : tuple of str
        Neuron types drawn.
    cells : bool
        Also draw muscles and other non-neuron cells.
    compare : str
        "" or a second dataset: edges are coloured by how they change from ``dataset``.
    source, target : str
        Path finder ends (neurons or classes, comma separated).
    paths : {"strongest", "shortest"}
    tab : {"network", "heatmap"}
    """

    dataset: str = "cook2019"
    level: str = "neuron"
    view: str = "schematic"
    color: str = "type"
    select: tuple = ()
    show: str = "all"
    edges: str = "selection"
    chem: float = 1.0
    gap: float = 1.0
    types: tuple = network.NEURON_TYPES
    cells: bool = False
    compare: str = ""
    source: str = ""
    target: str = ""
    paths: str = "strongest"
    tab: str = "network"

    #: query key -> field name (the URL is short and readable)
    QUERY = MappingProxyType(
        {
            "dataset": "dataset",
            "level": "level",
            "view": "view",
            "color": "color",
            "select": "select",
            "show": "show",
            "edges": "edges",
            "chem": "chem",
            "gap": "gap",
            "types": "types",
            "cells": "cells",
            "compare": "compare",
            "from": "source",
            "to": "target",
            "paths": "paths",
            "tab": "tab",
        }
    )

    @classmethod
    def parse(cls, values: dict) -> tuple["ExploreState", list[str]]:
        """A valid state from raw control or query values, and what had to be corrected.

        Unknown or malformed values fall back to the defaults; each fallback is explained
        in the returned list of messages.
        """
        problems: list[str] = []
        default = cls()
        datasets = tuple(connectome.datasets().index)
        dataset = _dataset(values.get("dataset"), datasets, "dataset", problems)
        if not dataset:
            if values.get("dataset") not in (None, ""):
                problems[-1] += f"; showing {default.dataset}"
            dataset = default.dataset
        compare = _dataset(values.get("compare"), datasets, "dataset to compare with", problems)
        if compare == dataset:
            compare = ""
        types = values.get("types")
        if types is None:
            types = default.types
        else:
            types = _checked_names(types, "Neuron types", problems)
            bad = [t for t in types if t not in network.NEURON_TYPES]
            if bad:
                problems.append(
                    f"unknown neuron type(s) {shorten(', '.join(bad))}; types are "
                    + ", ".join(network.NEURON_TYPES)
                )
            types = tuple(t for t in network.NEURON_TYPES if t in types)
        cells = values.get("cells")
        if not isinstance(cells, bool):
            cells = cells if cells is None else str(cells).lower()
            if cells not in (None, "", "0", "1", "true", "false"):
                problems.append(f"Cells: expected a yes or no, got {shorten(cells)}; not shown")
            cells = cells in ("1", "true")
        show = values.get("show")
        show = str(show) if isinstance(show, int) and not isinstance(show, bool) else show
        state = cls(
            dataset=dataset,
            level=_choice(values.get("level"), LEVELS, default.level, "level", problems),
            view=_choice(values.get("view"), network.VIEWS, default.view, "view", problems),
            color=_choice(
                values.get("color"), network.COLOR_BY, default.color, "colouring", problems
            ),
            select=_checked_names(values.get("select"), "Selection", problems),
            show=_choice(show, SHOW, "all", "neighbourhood", problems),
            edges=_choice(values.get("edges"), EDGES, default.edges, "edge choice", problems),
            chem=_weight(values.get("chem", default.chem), "chemical", default.chem, problems),
            gap=_weight(values.get("gap", default.gap), "gap-junction", default.gap, problems),
            types=types,
            cells=cells,
            compare=compare,
            source=_text(values.get("source"), "From", problems),
            target=_text(values.get("target"), "To", problems),
            paths=_choice(values.get("paths"), PATH_MODES, default.paths, "path mode", problems),
            tab=_choice(values.get("tab"), TABS, default.tab, "tab", problems),
        )
        return state, problems

    @classmethod
    def from_query(cls, query: dict) -> tuple["ExploreState", list[str]]:
        """Parse the URL query (as Dash pages passes it: str, or a list for repeated keys)."""
        values = {}
        for key, field in cls.QUERY.items():
            if key in query:
                raw = query[key]
                values[field] = raw[-1] if isinstance(raw, list) else raw
        return cls.parse(values)

    def to_query(self) -> str:
        """The URL query string ("?dataset=...", or "" for the default view); only the
        values that differ from the defaults are written."""
        default = ExploreState()
        out = {}
        for key, field in self.QUERY.items():
            value = getattr(self, field)
            if value == getattr(default, field):
                continue
            if isinstance(value, tuple):
                value = ",".join(value)
            elif isinstance(value, bool):
                value = "1" if value else "0"
            elif isinstance(value, float):
                value = f"{value:g}"
            out[key] = value
        return "?" + urlencode(out, safe=",") if out else ""


# ------------------------------------------------------------------ the view model
def network_of(dataset: str, level: str):
    """The network drawn for ``dataset`` at ``level``: the connectome, or its classes."""
    c = connectome.load(dataset)
    return c if level == "neuron" else c.to_classes()


@functools.cache
def neuron_classes(dataset: str) -> dict:
    """Neuron name (lower case) -> class name in ``dataset``, for class-level lookups of
    neuron names (:func:`connectome.neurons.class_by_name`)."""
    return class_by_name(connectome.load(dataset).neurons)


def resolve(dataset: str, level: str, names) -> tuple[list[str], list[str]]:
    """Node names for what a user typed, and a message for the names that matched nothing.

    Neurons and classes resolve case-insensitively; at class level a neuron name means its
    class; muscles and other cells are matched by their exact name. The first
    ``MAX_SUGGESTED`` unknown names get "did you mean" matches (:mod:`connectome.limits`);
    the rest are listed in one message.
    """
    found, missing = _lookup(dataset, level, _names(names))
    nodes = list(dict.fromkeys(n for ns in found.values() for n in ns))
    return nodes, _unknown_messages(dataset, level, missing)


def _lookup(dataset: str, level: str, names) -> tuple[dict, list[str]]:
    """``{name: its nodes}`` for the names that match, and the names that do not."""
    net = network_of(dataset, level)
    lower = {n.lower(): n for n in network.node_table(net).index}
    classes = neuron_classes(dataset) if level == "class" else {}
    found, missing = {}, []
    for raw in names:
        key = raw.lower()
        if raw in net.names:
            found[raw] = net.resolve(raw)
        elif key in classes:
            found[raw] = [classes[key]]
        elif key in lower:
            found[raw] = [lower[key]]
        else:
            missing.append(raw)
    return found, missing


def _unknown_messages(dataset: str, level: str, missing) -> list[str]:
    net = network_of(dataset, level)
    out = []
    for name in missing[:MAX_SUGGESTED]:
        try:
            net.resolve(name)
        except UnknownNeuronError as err:  # with the closest real names
            out.append(str(err))
    rest = missing[MAX_SUGGESTED:]
    if rest:
        out.append(f"{len(rest):,} more unknown names in {dataset}: {short_list(rest, 20)}")
    return out


def search_box_values(dataset: str, level: str, names) -> tuple[list[str], list[str]]:
    """What the search box holds for ``names`` (from a link): each known name in the box's
    spelling, a neuron name at class level as its class; and a message for the unknown."""
    options = {o["value"].lower(): o["value"] for o in search_options(dataset, level)}
    found, missing = _lookup(dataset, level, _names(names))
    known = []
    for name, nodes in found.items():
        known += [options[name.lower()]] if name.lower() in options else nodes
    return list(dict.fromkeys(known)), _unknown_messages(dataset, level, missing)


def kept_selection(dataset: str, level: str, names) -> tuple[list[str], list[str]]:
    """Which selected names ``dataset`` has (in the search box's spelling) and which it
    has not: what is kept, and what is said, when the user switches dataset."""
    options = {o["value"].lower(): o["value"] for o in search_options(dataset, level)}
    kept, missing = [], []
    for name in _names(names):
        if name.lower() in options:
            kept.append(options[name.lower()])
        else:
            missing.append(name)
    return kept, missing


def path_rows(state: ExploreState) -> tuple[list[dict], str]:
    """The paths the path finder asks for, and a message when there are none."""
    if not state.source and not state.target:
        return [], ""
    if not state.source or not state.target:
        return [], "Enter both ends of the path: a neuron or class in From and in To."
    net = network_of(state.dataset, state.level)
    src, bad_src = resolve(state.dataset, state.level, state.source)
    dst, bad_dst = resolve(state.dataset, state.level, state.target)
    if bad_src or bad_dst:
        return [], "; ".join(bad_src + bad_dst)
    names = set(net.neurons.index)
    src, dst = [n for n in src if n in names], [n for n in dst if n in names]
    if not src or not dst:
        return [], "Paths run between neurons; muscles and other cells cannot be ends."
    if state.paths == "strongest":
        rows = connectome.strongest_paths(net, src, dst, n=N_PATHS)
    else:
        rows = connectome.shortest_paths(net, src, dst, n=N_PATHS)
    if not rows:
        if set(src) == set(dst):
            return [], "From and To name the same neurons: choose two different ones."
        return [], (
            f"No path from {state.source} to {state.target} in {state.dataset}: no chain of "
            "synapses links them."
        )
    return rows, ""


def format_weight(w) -> str:
    w = float(w)
    return f"{w:.0f}" if w.is_integer() else f"{w:.3g}"


def edge_text(edge) -> str:
    """What the page says about a tapped edge (cytoscape's ``tapEdgeData``, sent back by the
    browser): "PLML → AVAL: chemical synapse, weight 3"; "" for a path's link (no weight).

    >>> edge_text({"id": "chem|PLML|AVAL", "source": "PLML", "target": "AVAL", "w": 3.0})
    'PLML → AVAL: chemical synapse, weight 3'
    >>> edge_text({"id": "g|A|B", "source": "A", "target": "B", "w": "abc"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    connectome.errors.WormlabError: the tapped edge's weight must be a finite number ..., got 'abc'

    Raises
    ------
    WormlabError
        For data that is not an edge as the page draws it, naming what is wrong.
    """
    if not isinstance(edge, dict):
        raise WormlabError(f"the tapped edge's data must be a dict, got {shorten(edge)}")
    ends = edge.get("source"), edge.get("target")
    if not all(isinstance(n, str) and n for n in ends):
        raise WormlabError(
            f"the tapped edge's source and target must be names, got {shorten(ends)}"
        )
    if "w" not in edge:  # a path's link
        return ""
    weight = check_float(edge["w"], "the tapped edge's weight", -MAX_WEIGHT, MAX_WEIGHT)
    prefix = str(edge.get("id", "")).split("|", 1)[0]  # "c" or "g"; "chem" or "gap" in the page
    if prefix not in ("c", "chem", "g", "gap"):
        raise WormlabError(
            f"the tapped edge's id must start with chem| or gap|, got {shorten(edge.get('id'))}"
        )
    chemical = prefix in ("c", "chem")
    kind, arrow = ("chemical synapse", "→") if chemical else ("gap junction", "↔")
    return f"{ends[0]} {arrow} {ends[1]}: {kind}, weight {format_weight(weight)}"


def render(state: ExploreState, paths=()) -> dict:
    """Everything drawn for one state: cytoscape elements and stylesheet, legend, counts.

    Parameters
    ----------
    state : ExploreState
    paths : list of list of str
        Paths to draw on the graph (node names at the state's level).

    Returns
    -------
    dict
        ``elements, stylesheet, legend (list of (label, colour, shape)), summary (str),
        problems (list of str), nodes (list), edges (DataFrame: every edge that passes the
        filters, drawn or not), selected (list)``.
    """
    net = network_of(state.dataset, state.level)
    other = network_of(state.compare, state.level) if state.compare else None
    selected, problems = resolve(state.dataset, state.level, state.select)
    if len(selected) > MAX_HIGHLIGHT:
        problems.append(
            f"{len(selected)} nodes are selected; the first {MAX_HIGHLIGHT} are highlighted."
        )
        selected = selected[:MAX_HIGHLIGHT]
    table = network.node_table(net)
    paths = [list(p) for p in paths if all(n in table.index for n in p)]
    path_nodes = list(dict.fromkeys(n for p in paths for n in p))
    hops = None if state.show == "all" else int(state.show)
    if hops is not None and not selected:
        problems.append(
            "Select a neuron to show only its neighbourhood; showing the whole network."
        )
        hops = None
    nodes, edges = connectome.filter_network(
        net,
        min_chemical=state.chem,
        min_electrical=state.gap,
        types=state.types,
        show_cells=state.cells,
        focus=selected,
        hops=hops,
        keep=selected + path_nodes,
        compare_to=other,
    )
    drawn = set(nodes)
    selected = [n for n in selected if n in drawn]
    sel = set(selected)
    shown = edges
    if state.edges == "selection" and hops is None and other is None:
        shown = edges[edges["pre"].isin(sel) | edges["post"].isin(sel)]
    els = network.elements(net, nodes, shown, state.view)
    els += network.path_elements([p for p in paths if all(n in drawn for n in p)])
    touching = edges[edges["pre"].isin(sel) | edges["post"].isin(sel)]
    partners = sorted((set(touching["pre"]) | set(touching["post"])) - sel)
    sheet = network.stylesheet(
        state.color,
        selected,
        partners,
        path_nodes,
        compare=other is not None,
        scale=network.view_scale(net, state.view),
    )
    n_chem = int((edges["kind"] == "chemical").sum())
    n_gap = len(edges) - n_chem
    n_neurons = int(table.loc[nodes, "type"].isin(network.NEURON_TYPES).sum())
    what = "classes" if state.level == "class" else "neurons"
    summary = f"{n_neurons} {what}"
    if len(nodes) > n_neurons:
        summary += f", {len(nodes) - n_neurons} muscles and other cells"
    summary += f"; {n_chem} chemical synapses, {n_gap} gap junctions"
    if len(shown) == len(edges):
        summary += " drawn"
    else:
        whose = "the selection's" if sel else "none: select a neuron, or choose Edges: all"
        summary += f" pass the filters; {len(shown)} drawn ({whose})"
    if other is not None:
        counts = edges["change"].value_counts()
        summary += " — " + ", ".join(
            f"{counts.get(k, 0)} {k}" for k in ("gained", "lost", "changed", "same")
        )
        summary += f" from {state.dataset} to {state.compare}"
    if not len(edges):
        problems.append(
            "No synapse passes these filters: lower the minimum weights or tick more types."
        )
    return {
        "elements": els,
        "stylesheet": sheet,
        "legend": network.legend(state.color, table.loc[nodes]),
        "summary": summary,
        "problems": problems,
        "nodes": nodes,
        "edges": edges,
        "selected": selected,
    }


@functools.cache
def search_options(dataset: str, level: str) -> tuple:
    """Dropdown options: every node, plus (at neuron level) classes with several members.

    Each option's ``search`` text holds its label and, at class level, the lower-case
    names of the member neurons, so "rimr" finds the class RIM: the rule the URL and the
    path finder follow (:func:`connectome.neurons.class_by_name`).
    """
    net = network_of(dataset, level)
    table = network.node_table(net)
    aliases: dict[str, list[str]] = {}
    if level == "class":
        for neuron, cls in neuron_classes(dataset).items():
            if neuron != cls.lower():
                aliases.setdefault(cls, []).append(neuron)
    options = []
    for name, t in zip(table.index, table["type"], strict=True):
        label = f"{name} · {t}"
        search = _search_text(label, aliases.get(name))
        options.append({"label": label, "value": name, "search": search})
    if level == "neuron":
        members: dict[str, list[str]] = {}
        for name, cls, t in zip(table.index, table["class"], table["type"], strict=True):
            if t in network.NEURON_TYPES:
                members.setdefault(cls, []).append(name)
        for cls, names in members.items():
            if len(names) > 1 or (cls not in table.index):
                label = f"{cls} · class of {len(names)}"
                options.append({"label": label, "value": cls, "search": _search_text(label)})
    return tuple(options)


def _search_text(label: str, aliases=None) -> str:
    return " ".join([label.lower(), *(aliases or [])])


def search_suggestions(dataset: str, level: str, typed) -> list[dict]:
    """The search box's options while ``typed`` is in it: all of :func:`search_options`,
    and, when no option matches what was typed (a typo such as "AVLA"), the closest names
    marked "did you mean?" and made to match the typed text (the box filters by it).
    """
    options = list(search_options(dataset, level))
    key = str(typed or "").strip().lower()
    if not key or any(key in o["search"] for o in options):
        return options
    close = network_of(dataset, level).names.suggest(key)
    rank = {name: i for i, name in enumerate(close)}
    hits = [
        {**o, "label": o["label"] + SUGGESTED, "search": o["search"] + " " + key}
        for o in options
        if o["value"] in rank
    ]
    hits.sort(key=lambda o: rank[o["value"]])
    return hits + [o for o in options if o["value"] not in rank]


def fingerprint(state: ExploreState, view: dict, paths) -> str:
    """A digest of what the elements depend on: unchanged digest, unchanged elements."""
    key = (
        state.dataset,
        state.level,
        state.view,
        state.edges,
        state.compare,
        state.chem,
        state.gap,
        state.types,
        state.cells,
        tuple(view["nodes"]),
        tuple(tuple(p) for p in paths),
        len(view["elements"]),
    )
    return hashlib.sha1(repr(key).encode()).hexdigest()


def stored_paths(stored, state: ExploreState) -> tuple[list, list[str]]:
    """The paths in the explore-paths store, if they were found for this dataset and level,
    and a message when the store is not what the page writes (it comes back from the
    browser: at most ``MAX_PATH_COUNT`` paths of at most ``MAX_NEURONS`` names each)."""
    if stored is None:
        return [], []
    paths = stored.get("paths") if isinstance(stored, dict) else None
    ok = isinstance(paths, list) and len(paths) <= MAX_PATH_COUNT
    ok = ok and all(
        isinstance(p, list) and len(p) <= MAX_NEURONS and all(isinstance(n, str) for n in p)
        for p in paths
    )
    if not ok:
        return [], [
            f"The found paths were not understood ({shorten(stored)}): expected at most "
            f"{MAX_PATH_COUNT} lists of names; none drawn. Find the paths again."
        ]
    return (paths if stored.get("key") == [state.dataset, state.level] else []), []
