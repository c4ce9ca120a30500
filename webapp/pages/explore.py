"""The Explore page: browse a wiring diagram, find neurons and paths, compare datasets.

This module holds the layout and thin callbacks. The page state (dataset, selection,
filters, view, path ends, tab) lives in the URL query string, so a copied link reopens the
same view; the state model (:class:`~webapp.exploration.ExploreState`) and the view model
(:func:`~webapp.exploration.render`, :func:`~webapp.exploration.path_rows`) are in
:mod:`webapp.exploration`.

The network is drawn by dash-cytoscape with positions from :mod:`webapp.network`. Its
elements travel in the ``explore-elements`` store (packed in columns) and are applied to
the graph by ``assets/explore.js`` rather than through the component's ``elements``
property, whose write-back races with quick successive updates (see that file). The first
drawing comes with the page layout; callbacks send new elements only when what is drawn
changes (a digest of it is kept in ``explore-drawn``) and restyle the graph otherwise
(colours, highlighted neurons). Every callback turns errors into a message in the page.
"""

import dataclasses
import json
import logging
import math

import dash_cytoscape as cyto
from dash import ALL, ClientsideFunction, Input, Output, State, ctx, dcc, html, no_update

import connectome
from connectome.errors import WormlabError
from connectome.limits import shorten
from webapp import network
from webapp.circuit_state import short_list
from webapp.components import dataset_options
from webapp.exploration import (
    HEATMAP_KINDS,
    SUGGESTED,
    ExploreState,
    edge_text,
    fingerprint,
    format_weight,
    kept_selection,
    network_of,
    neuron_classes,
    path_rows,
    render,
    resolve,
    search_box_values,
    search_options,
    search_suggestions,
    stored_paths,
)
from webapp.figures.network import adjacency_heatmap

__all__ = ["PATH", "NAME", "ORDER", "layout", "register_callbacks", "warm_up"]

PATH = "/"
NAME = "Explore"
ORDER = 0

log = logging.getLogger(__name__)

MAX_PANELS = 3  # detail panels shown at once; more selected neurons are listed by name
MAX_PARTNERS = 12  # partner rows per table before "n more"
SEARCH_PLACEHOLDER = "Search a neuron or class (e.g. AVA, aval, PLM)…"
#: what the search box says while its options for a new dataset or level are on the way
LOADING_PLACEHOLDER = "Loading the names of this dataset and level…"


# ------------------------------------------------------------------ pieces of layout
def _dataset_note(dataset: str):
    info = connectome.dataset_info(dataset)
    return [
        html.Strong(info["title"] + ". "),
        html.Span("Weight: " + info["weight_meaning"].split(".")[0] + ". "),
        html.A("doi:" + info["doi"], href=f"https://doi.org/{info['doi']}", target="_blank"),
    ]


def _messages(problems, kind="warning"):
    if not problems:
        return []
    return [html.Div(p, className=f"wl-message wl-{kind}", role="alert") for p in problems]


def _legend(items, compare: bool, selected: bool = False):
    if compare:
        items = [("neuron", network.COMPARE_NODE_COLOR, "circle")]
    chips = [
        html.Span(
            [html.Span(className=f"wl-swatch wl-{shape}", style={"background": colour}), label],
            className="wl-legend-item",
        )
        for label, colour, shape in items
    ]
    if compare:
        edges = [
            html.Span(
                [html.Span(className="wl-line", style={"background": c}), ch],
                className="wl-legend-item",
            )
            for ch, c in network.CHANGE_COLORS.items()
        ]
    else:
        edges = [
            html.Span(
                [html.Span(className="wl-line wl-chem"), "chemical →"], className="wl-legend-item"
            ),
            html.Span(
                [html.Span(className="wl-line wl-gap"), "gap junction"], className="wl-legend-item"
            ),
        ]
        if selected:
            edges += [
                html.Span(
                    [html.Span(className="wl-line", style={"background": c}), label],
                    className="wl-legend-item wl-legend-selection",
                )
                for label, c in network.SELECTION_EDGE_COLORS.items()
            ]
        edges.append(html.Span("width ∝ log(weight)", className="wl-legend-item wl-muted"))
    return [html.Div(chips, className="wl-legend-row"), html.Div(edges, className="wl-legend-row")]


def _partner_rows(rows, direction: str):
    """Partner rows; a button's id names its table too (a partner can be in several, and
    Dash reads the first of two equal ids: a click on the second would be lost)."""
    return [
        html.Tr(
            [
                html.Td(
                    html.Button(
                        p,
                        id={"type": "explore-partner", "name": p, "table": direction},
                        className="wl-link",
                        title=f"select {p}",
                    )
                ),
                html.Td(format_weight(w), className="wl-num"),
            ]
        )
        for p, w in rows
    ]


def _partner_table(rows, direction: str, title: str):
    """The first :data:`MAX_PARTNERS` partners, the rest behind a "show all" expander."""
    head = html.Thead(html.Tr([html.Th("partner"), html.Th("weight")]))
    body = _partner_rows(rows[:MAX_PARTNERS], direction)
    if not rows:
        body = [html.Tr(html.Td("none", colSpan=2, className="wl-muted"))]
    children = [
        html.H4(f"{title} ({len(rows)})"),
        html.Table(
            [head, html.Tbody(body)], className="wl-partners", **{"data-direction": direction}
        ),
    ]
    if len(rows) > MAX_PARTNERS:
        children.append(
            html.Details(
                [
                    html.Summary(f"show all {len(rows)} ({len(rows) - MAX_PARTNERS} more)"),
                    html.Table(
                        html.Tbody(_partner_rows(rows[MAX_PARTNERS:], direction)),
                        className="wl-partners wl-partners-more",
                        **{"data-direction": direction},
                    ),
                ],
                className="wl-more",
            )
        )
    return html.Div(children)


def _node_panel(dataset: str, level: str, name: str):
    net = network_of(dataset, level)
    table = network.node_table(net)
    row = table.loc[name]
    if row["type"] in network.NEURON_TYPES:
        info = net.neurons.loc[name]
        p = connectome.partners(net, name)
        lineage = "one per member neuron" if level == "class" else "not known"
        facts = [
            ("full name", info["full_name"] or "not known"),
            ("class", info["class"] or name),
            ("type", info["type"]),
            ("category", info["category"] or "not known"),
            ("neurotransmitter", info["transmitter"] or "not known"),
            ("lineage", info["lineage"] or lineage),
            ("ganglion", info["ganglion"] or "not in wormlab's sources (cect, c302)"),
        ]
        if math.isnan(row["x"]):
            facts.append(("position", "not known"))
        else:
            facts.append(("position", f"x {row['x']:.1f}, y {row['y']:.1f}, z {row['z']:.1f} µm"))
        facts.append(("description", info["description"] or "—"))
        groups = {
            d: list(
                zip(
                    p.loc[p["direction"] == d, "partner"],
                    p.loc[p["direction"] == d, "weight"],
                    strict=True,
                )
            )
            for d in ("in", "out", "gap")
        }
    else:
        cells = net.cells
        facts = [
            ("type", row["type"] if row["type"] == "muscle" else "other cell"),
            ("description", cells.loc[name, "description"] or "—"),
        ]
        e = net.edges
        groups = {
            "in": list(
                e.loc[(e["post"] == name) & (e["kind"] == "chemical"), ["pre", "weight"]]
                .sort_values("weight", ascending=False)
                .itertuples(index=False, name=None)
            ),
            "out": [],
            "gap": list(
                e.loc[(e["post"] == name) & (e["kind"] == "electrical"), ["pre", "weight"]]
                .sort_values("weight", ascending=False)
                .itertuples(index=False, name=None)
            ),
        }
    return html.Section(
        [
            html.H3(name),
            html.Dl([item for k, v in facts for item in (html.Dt(k), html.Dd(v))]),
            _partner_table(groups["in"], "in", "Inputs (chemical)"),
            _partner_table(groups["out"], "out", "Outputs (chemical)"),
            _partner_table(groups["gap"], "gap", "Gap junctions"),
        ],
        className="wl-node",
        **{"data-name": name},
    )


def _panel(state: ExploreState):
    nodes, problems = resolve(state.dataset, state.level, state.select)
    if not nodes:
        hint = html.P(
            "Search for a neuron or class, or click a node, to see its partners.",
            className="wl-muted",
        )
        return _messages(problems) + [hint]
    out = _messages(problems) + [
        _node_panel(state.dataset, state.level, n) for n in nodes[:MAX_PANELS]
    ]
    if len(nodes) > MAX_PANELS:
        out.append(html.P(f"Also selected: {', '.join(nodes[MAX_PANELS:])}", className="wl-muted"))
    return out


def _path_list(rows, message: str, state: ExploreState):
    if message:
        return _messages([message])
    if not rows:
        return []
    unit = "synapse" if state.level == "neuron" else "connection"
    items = [
        html.Li(
            [
                html.Span(" → ".join(r["path"]), className="wl-path"),
                html.Span(
                    f" {r['length']} {unit}{'s' if r['length'] != 1 else ''}, "
                    f"cost {r['cost']:.3g}, weakest link {format_weight(r['bottleneck'])}",
                    className="wl-muted",
                ),
            ],
            **{"data-cost": repr(float(r["cost"]))},
        )
        for r in rows
    ]
    how = (
        "Ranked by cost = Σ 1/weight over the path's links (lower is stronger)."
        if state.paths == "strongest"
        else "Fewest links first; ties ranked by cost = Σ 1/weight (lower is stronger)."
    )
    return [html.P(how, className="wl-muted wl-path-rank"), html.Ol(items, className="wl-paths")]


def _control(label, component, help_text=None):
    children = [html.Label(label, htmlFor=component.id), component]
    if help_text:
        children.append(html.Small(help_text, className="wl-muted"))
    return html.Div(children, className="wl-control")


def _choices(label, id_, value, options, help_text=None):
    """A labelled row of radio buttons (``options``: (label, value) pairs)."""
    items = dcc.RadioItems(
        id=id_, options=[{"label": t, "value": v} for t, v in options], value=value, inline=True
    )
    return _control(label, items, help_text)


def layout(**query):
    """The Explore page for a URL query (see :class:`ExploreState` for the keys)."""
    state, url_problems = ExploreState.from_query(query)
    # names in the link that this dataset does not know: say so once, and leave them out of
    # the search box (which only holds known names)
    known, problems = search_box_values(state.dataset, state.level, state.select)
    url_problems += problems
    state = dataclasses.replace(state, select=tuple(known))
    rows, path_message = _path_rows_safe(state)
    view = _render_safe(state, [r["path"] for r in rows])
    datasets = dataset_options()
    neuron_types = [{"label": t, "value": t} for t in network.NEURON_TYPES]
    sidebar = html.Aside(
        [
            html.Section(
                [
                    html.H2("Data"),
                    _control(
                        "Dataset",
                        dcc.Dropdown(
                            id="explore-dataset",
                            options=datasets,
                            value=state.dataset,
                            clearable=False,
                            searchable=False,
                        ),
                    ),
                    html.Div(
                        _dataset_note(state.dataset), id="explore-dataset-note", className="wl-note"
                    ),
                    _control(
                        "Compare with",
                        dcc.Dropdown(
                            id="explore-compare",
                            options=[{"label": "no comparison", "value": ""}] + datasets,
                            value=state.compare,
                            clearable=False,
                            searchable=False,
                        ),
                        "edges coloured by gain, loss or change",
                    ),
                ],
                className="wl-section",
            ),
            html.Section(
                [
                    html.H2("Drawing"),
                    _choices(
                        "Nodes",
                        "explore-level",
                        state.level,
                        [("neurons", "neuron"), ("classes", "class")],
                    ),
                    _choices(
                        "Layout",
                        "explore-view",
                        state.view,
                        [
                            ("schematic", "schematic"),
                            ("anatomical", "anatomical"),
                            ("layered", "layered"),
                        ],
                        "schematic: the body straightened, the head spread out",
                    ),
                    _choices(
                        "Edges",
                        "explore-edges",
                        state.edges,
                        [("the selection's", "selection"), ("all", "all")],
                        "in the whole network; neighbourhoods draw all theirs",
                    ),
                    _choices(
                        "Colour by",
                        "explore-color",
                        state.color,
                        [("type", "type"), ("transmitter", "transmitter")],
                    ),  # fmt: skip
                ],
                className="wl-section",
            ),
            html.Section(
                [
                    html.H2("Filters"),
                    _control(
                        "Show",
                        dcc.Dropdown(
                            id="explore-show",
                            options=[
                                {"label": "the whole network", "value": "all"},
                                {"label": "the selection only", "value": "0"},
                                {"label": "selection + 1 hop", "value": "1"},
                                {"label": "selection + 2 hops", "value": "2"},
                                {"label": "selection + 3 hops", "value": "3"},
                            ],
                            value=state.show,
                            clearable=False,
                            searchable=False,
                        ),
                    ),
                    html.Div(
                        [
                            _control(
                                "Min. chemical",
                                dcc.Input(
                                    id="explore-min-chem",
                                    type="number",
                                    min=0,
                                    step=1,
                                    value=state.chem,
                                    debounce=True,
                                ),
                            ),
                            _control(
                                "Min. gap junction",
                                dcc.Input(
                                    id="explore-min-gap",
                                    type="number",
                                    min=0,
                                    step=1,
                                    value=state.gap,
                                    debounce=True,
                                ),
                            ),
                        ],
                        className="wl-row",
                    ),
                    _control(
                        "Neuron types",
                        dcc.Checklist(
                            id="explore-types",
                            options=neuron_types,
                            value=list(state.types),
                            inline=True,
                        ),
                    ),
                    dcc.Checklist(
                        id="explore-cells",
                        options=[{"label": "show muscles and other cells", "value": "show"}],
                        value=["show"] if state.cells else [],
                    ),
                ],
                className="wl-section",
            ),
            html.Section(
                [
                    html.H2("Path finder"),
                    html.Div(
                        [
                            _control(
                                "From",
                                dcc.Input(
                                    id="explore-path-from",
                                    value=state.source,
                                    placeholder="e.g. PLM",
                                    debounce=True,
                                ),
                            ),
                            _control(
                                "To",
                                dcc.Input(
                                    id="explore-path-to",
                                    value=state.target,
                                    placeholder="e.g. AVA",
                                    debounce=True,
                                ),
                            ),
                        ],
                        className="wl-row",
                    ),
                    html.Div(
                        [
                            dcc.RadioItems(
                                id="explore-path-mode",
                                options=[
                                    {"label": "strongest", "value": "strongest"},
                                    {"label": "fewest synapses", "value": "shortest"},
                                ],
                                value=state.paths,
                                inline=True,
                            ),
                            html.Button(
                                "Find paths", id="explore-path-go", className="wl-button wl-primary"
                            ),
                        ],
                        className="wl-stack",
                    ),
                    html.Div(_path_list(rows, path_message, state), id="explore-path-list"),
                ],
                className="wl-section",
            ),
            html.Section(
                [
                    html.H2("Export"),
                    html.Div(
                        [
                            html.Button(
                                "PNG image", id="explore-export-png", className="wl-button"
                            ),
                            html.Button(
                                "Edges CSV", id="explore-export-csv", className="wl-button"
                            ),
                            html.Button(
                                "Use as circuit",
                                id="explore-use-circuit",
                                className="wl-button wl-primary",
                                title="send the drawn neurons to the Circuit page",
                            ),
                            html.Span(
                                [
                                    dcc.Clipboard(id="explore-copy-link", className="wl-clip"),
                                    " copy link",
                                ],
                                className="wl-button wl-clip-box",
                                title="copy a link to this view",
                            ),
                        ],
                        className="wl-buttons",
                    ),
                    html.Div(id="explore-export-message"),
                    dcc.Download(id="explore-download"),
                ],
                className="wl-section",
            ),
        ],
        className="wl-sidebar",
    )
    main = html.Main(
        [
            html.Div(
                [
                    dcc.Dropdown(
                        id="explore-search",
                        options=list(search_options(state.dataset, state.level)),
                        value=list(state.select),
                        multi=True,
                        placeholder=SEARCH_PLACEHOLDER,
                        className="wl-search",
                        maxHeight=320,
                    ),
                    dcc.RadioItems(
                        id="explore-tab",
                        options=[
                            {"label": "Network", "value": "network"},
                            {"label": "Adjacency matrix", "value": "heatmap"},
                        ],
                        value=state.tab,
                        inline=True,
                        className="wl-tabs",
                    ),
                ],
                className="wl-toolbar",
            ),
            html.Div(_messages(url_problems), id="explore-url-message"),
            html.Div(id="explore-select-message"),
            html.Div(_messages(view["problems"]), id="explore-message"),
            html.Div(view["summary"], id="explore-summary", className="wl-summary"),
            html.Div(
                [
                    # elements arrive through the explore-elements store (see assets/explore.js)
                    cyto.Cytoscape(
                        id="explore-graph",
                        elements=[],
                        stylesheet=view["stylesheet"],
                        layout={"name": "preset", "fit": True, "padding": 24},
                        minZoom=0.05,
                        maxZoom=8,
                        autoungrabify=True,
                        boxSelectionEnabled=False,
                        className="wl-graph",
                        style={"width": "100%", "height": "100%"},
                    ),
                    html.Div(
                        [
                            dcc.RadioItems(
                                id="explore-heatmap-kind",
                                options=[
                                    {"label": "chemical synapses", "value": "chemical"},
                                    {"label": "gap junctions", "value": "electrical"},
                                ],
                                value="chemical",
                                inline=True,
                            ),
                            # the graph is created when the tab opens: plotly.js loads only then
                            dcc.Loading(html.Div(id="explore-heatmap")),
                        ],
                        id="explore-heatmap-box",
                        className="wl-overlay",
                        style={"display": "block" if state.tab == "heatmap" else "none"},
                    ),
                ],
                className="wl-stage",
            ),
            html.Div(
                _legend(view["legend"], bool(state.compare), bool(view["selected"])),
                id="explore-legend",
                className="wl-legend",
            ),
            html.Div(id="explore-edge-info", className="wl-muted"),
            _muscles_controls(),
        ],
        className="wl-main",
    )
    panel = html.Aside(_panel_safe(state), id="explore-panel", className="wl-panel")
    return html.Div(
        [
            sidebar,
            main,
            panel,
            dcc.Store(
                id="explore-paths",
                data={"key": [state.dataset, state.level], "paths": [r["path"] for r in rows]},
            ),
            dcc.Store(id="explore-elements", data=network.pack(view["elements"])),
            dcc.Store(id="explore-applied"),
            dcc.Store(id="explore-search-marked", data=False),
            dcc.Store(id="explore-query", data=state.to_query()),
            dcc.Store(id="explore-drawn", data=fingerprint(state, view, [r["path"] for r in rows])),
            dcc.Location(id="explore-goto", refresh="callback-nav"),
        ],
        className="wl-explore",
        id="explore-page",
    )


# ------------------------------------------------------------------ safety nets
def _failure(err: Exception) -> str:
    log.exception("explore: unexpected error")
    return f"Something went wrong ({type(err).__name__}: {err}). The view was left as it was."


def _render_safe(state, paths):
    try:
        return render(state, paths)
    except WormlabError as err:
        problem = str(err)
    except Exception as err:  # noqa: BLE001 - shown in the page, never as a traceback
        problem = _failure(err)
    return {
        "elements": [],
        "stylesheet": network.stylesheet(),
        "legend": [],
        "summary": "",
        "problems": [problem],
        "nodes": [],
        "edges": None,
        "selected": [],
    }


def _path_rows_safe(state):
    try:
        return path_rows(state)
    except WormlabError as err:
        return [], str(err)
    except Exception as err:  # noqa: BLE001
        return [], _failure(err)


def _panel_safe(state):
    try:
        return _panel(state)
    except Exception as err:  # noqa: BLE001
        return _messages([str(err) if isinstance(err, WormlabError) else _failure(err)])


# ------------------------------------------------------------------ callbacks
#: control id -> (property, state field)
CONTROLS = {
    "explore-dataset": ("value", "dataset"),
    "explore-compare": ("value", "compare"),
    "explore-level": ("value", "level"),
    "explore-view": ("value", "view"),
    "explore-color": ("value", "color"),
    "explore-search": ("value", "select"),
    "explore-show": ("value", "show"),
    "explore-edges": ("value", "edges"),
    "explore-min-chem": ("value", "chem"),
    "explore-min-gap": ("value", "gap"),
    "explore-types": ("value", "types"),
    "explore-cells": ("value", "cells"),
    "explore-path-from": ("value", "source"),
    "explore-path-to": ("value", "target"),
    "explore-path-mode": ("value", "paths"),
    "explore-tab": ("value", "tab"),
}


PATH_IDS = ("explore-path-from", "explore-path-to", "explore-path-mode")
#: controls that change what is drawn on the graph
DRAW_IDS = tuple(cid for cid in CONTROLS if cid not in (*PATH_IDS, "explore-tab"))


def _deps(kind, ids) -> dict:
    """``{control id: Input/State(control id, property)}`` for a callback's dict signature."""
    return {cid: kind(cid, CONTROLS[cid][0]) for cid in ids}


def _state(values: dict) -> tuple[ExploreState, list[str]]:
    """An ExploreState from control values keyed by control id (missing ones: defaults)."""
    raw = {}
    for cid, value in values.items():
        if cid == "explore-cells" and isinstance(value, list):  # the checklist's ticks
            value = "show" in value
        elif cid == "explore-types" and value is None:  # nothing ticked
            value = []
        raw[CONTROLS[cid][1]] = value
    return ExploreState.parse(raw)


def register_callbacks(app) -> None:
    """Attach the Explore page's callbacks to ``app``."""

    @app.callback(
        output=[
            Output("explore-elements", "data"),
            Output("explore-drawn", "data"),
            Output("explore-graph", "stylesheet"),
            Output("explore-legend", "children"),
            Output("explore-summary", "children"),
            Output("explore-message", "children"),
        ],
        inputs={"controls": _deps(Input, DRAW_IDS), "stored": Input("explore-paths", "data")},
        state={
            "others": _deps(State, (*PATH_IDS, "explore-tab")),
            "drawn_key": State("explore-drawn", "data"),
        },
        prevent_initial_call=True,
    )
    def _redraw(controls, stored, others, drawn_key):
        state, problems = _state({**controls, **others})
        paths, bad_store = stored_paths(stored, state)
        view = _render_safe(state, paths)
        key = fingerprint(state, view, paths)
        elements = network.pack(view["elements"]) if key != drawn_key else no_update
        return (
            elements,
            key,
            view["stylesheet"],
            _legend(view["legend"], bool(state.compare), bool(view["selected"])),
            view["summary"],
            _messages(problems + bad_store + view["problems"]),
        )

    @app.callback(
        Output("explore-search", "options"),
        Output("explore-search-marked", "data"),
        Input("explore-search", "search_value"),
        State("explore-dataset", "value"),
        State("explore-level", "value"),
        State("explore-search-marked", "data"),
        prevent_initial_call=True,
    )
    def _suggest(typed, dataset, level, marked):
        """While typing: a typo gets the closest names ("did you mean?"). The options are
        sent only when they change (``explore-search-marked``: suggestions are shown)."""
        state, _ = ExploreState.parse({"dataset": dataset, "level": level})
        typed = typed if isinstance(typed, str) else ""
        options = search_suggestions(state.dataset, state.level, typed)
        suggests = any(o["label"].endswith(SUGGESTED) for o in options)
        if not suggests and not marked:
            return no_update, no_update
        return options, suggests

    # Between a switch of dataset or level and the arrival of the new options, the search
    # box would offer the old names, and a name picked from them (AVAL, at class level)
    # would be dropped by the box when the new options land (a Dash dropdown keeps only
    # values among its options). So the box is disabled at once, in the browser, and the
    # callback that sends the new options enables it again.
    app.clientside_callback(
        f"""
        function(dataset, level) {{ return [true, {json.dumps(LOADING_PLACEHOLDER)}]; }}
        """,
        Output("explore-search", "disabled"),
        Output("explore-search", "placeholder"),
        Input("explore-dataset", "value"),
        Input("explore-level", "value"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output("explore-search", "options", allow_duplicate=True),
        Output("explore-dataset-note", "children"),
        Output("explore-search", "value", allow_duplicate=True),
        Output("explore-select-message", "children"),
        Output("explore-search", "disabled", allow_duplicate=True),
        Output("explore-search", "placeholder", allow_duplicate=True),
        Input("explore-dataset", "value"),
        Input("explore-level", "value"),
        State("explore-search", "value"),
        prevent_initial_call=True,
    )
    def _options(dataset, level, selected):
        # the options of this dataset and level, without suggestions (explore-search-marked
        # may be stale for a moment: it only costs one resend); the box is enabled again
        state, problems = ExploreState.parse({"dataset": dataset, "level": level})
        options = list(search_options(state.dataset, state.level))
        note = _dataset_note(state.dataset)
        enable = (False, SEARCH_PLACEHOLDER)
        if ctx.triggered_id != "explore-dataset" or not selected:
            return options, note, no_update, _messages(problems), *enable
        try:
            kept, missing = kept_selection(state.dataset, state.level, selected)
        except WormlabError as err:
            message = _messages(problems + [f"{err}; the selection is empty."])
            return options, note, [], message, *enable
        message = _messages(problems)
        if missing:
            message += _messages(
                [
                    f"Not in {state.dataset}: {short_list(missing, 20)}"
                    + (f"; kept {', '.join(kept)}." if kept else "; the selection is empty.")
                ],
                "info",
            )
        return options, note, kept, message, *enable

    @app.callback(
        Output("explore-search", "value", allow_duplicate=True),
        Input("explore-level", "value"),
        State("explore-search", "value"),
        State("explore-dataset", "value"),
        prevent_initial_call=True,
    )
    def _selection_to_level(level, selected, dataset):
        """Going to class level, a selected neuron becomes its class."""
        state, _ = ExploreState.parse({"dataset": dataset, "select": selected})
        if level != "class" or not state.select:
            return no_update  # (a selection that is not names is told by _update_panel)
        classes = neuron_classes(state.dataset)
        return list(dict.fromkeys(classes.get(n.lower(), n) for n in state.select))

    @app.callback(
        Output("explore-search", "value"),
        Output("explore-select-message", "children", allow_duplicate=True),
        Input("explore-graph", "tapNodeData"),
        Input({"type": "explore-partner", "name": ALL, "table": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def _select_clicked(node, _clicks):
        trigger = ctx.triggered_id
        if trigger == "explore-graph":
            if not node:
                return no_update, no_update
            name = node.get("id") if isinstance(node, dict) else None
            if not isinstance(name, str) or not name:
                message = f"The tapped node was not understood ({shorten(node)}): it has no name."
                return no_update, _messages([message])
            return [name], []
        if isinstance(trigger, dict) and ctx.triggered and ctx.triggered[0]["value"]:
            name = trigger.get("name")
            if isinstance(name, str) and name:
                return [name], []
        return no_update, no_update

    @app.callback(
        Output("explore-edge-info", "children"),
        Input("explore-graph", "tapEdgeData"),
        prevent_initial_call=True,
    )
    def _edge_info(edge):
        if not edge:
            return ""
        try:
            return edge_text(edge)
        except WormlabError as err:
            return _messages([f"The tapped edge was not understood: {err}"])

    @app.callback(
        Output("explore-panel", "children"),
        Input("explore-dataset", "value"),
        Input("explore-level", "value"),
        Input("explore-search", "value"),
        prevent_initial_call=True,
    )
    def _update_panel(dataset, level, selected):
        state, problems = ExploreState.parse(
            {"dataset": dataset, "level": level, "select": selected}
        )
        return _messages(problems) + _panel_safe(state)

    @app.callback(
        Output("explore-paths", "data"),
        Output("explore-path-list", "children"),
        Input("explore-path-go", "n_clicks"),
        Input("explore-path-from", "n_submit"),
        Input("explore-path-to", "n_submit"),
        Input("explore-path-mode", "value"),
        Input("explore-dataset", "value"),
        Input("explore-level", "value"),
        State("explore-path-from", "value"),
        State("explore-path-to", "value"),
        prevent_initial_call=True,
    )
    def _find_paths(_go, _s1, _s2, mode, dataset, level, source, target):
        state, problems = ExploreState.parse(
            {"paths": mode, "dataset": dataset, "level": level, "source": source, "target": target}
        )
        if problems:
            return {"key": [state.dataset, state.level], "paths": []}, _messages(problems)
        if ctx.triggered_id == "explore-path-go" and not state.source and not state.target:
            message = "Enter a neuron or class in From and in To, then find paths."
            return {"key": [state.dataset, state.level], "paths": []}, _messages([message])
        rows, message = _path_rows_safe(state)
        data = {"key": [state.dataset, state.level], "paths": [r["path"] for r in rows]}
        return data, _path_list(rows, message, state)

    @app.callback(
        output=Output("explore-query", "data"),
        inputs={"controls": _deps(Input, CONTROLS)},
        prevent_initial_call=True,
    )
    def _query(controls):
        state, _ = _state(controls)
        return state.to_query()

    app.clientside_callback(
        ClientsideFunction(namespace="wormlab", function_name="syncQuery"),
        Output("app-explore-query", "data"),
        Input("explore-query", "data"),
    )

    app.clientside_callback(
        ClientsideFunction(namespace="wormlab", function_name="applyElements"),
        Output("explore-applied", "data"),
        Input("explore-elements", "data"),
        State("explore-graph", "id"),
    )

    app.clientside_callback(
        ClientsideFunction(namespace="wormlab", function_name="pageLink"),
        Output("explore-copy-link", "content"),
        Input("explore-copy-link", "n_clicks"),
        prevent_initial_call=True,
    )

    app.clientside_callback(
        ClientsideFunction(namespace="wormlab", function_name="heatmapBoxStyle"),
        Output("explore-heatmap-box", "style"),
        Input("explore-tab", "value"),
    )

    @app.callback(
        output=Output("explore-heatmap", "children"),
        inputs={
            "kind": Input("explore-heatmap-kind", "value"),
            "controls": _deps(Input, (*DRAW_IDS, "explore-tab")),
        },
    )
    def _heatmap(kind, controls):
        state, problems = _state(controls)
        if state.tab != "heatmap":
            return no_update
        if kind not in (None, *HEATMAP_KINDS):
            problems.append(
                f"unknown heatmap kind {shorten(kind)}; use one of {', '.join(HEATMAP_KINDS)}"
            )
        if problems:
            return _messages(problems)
        try:
            view = render(state)
            if not view["nodes"]:
                return _messages(["Nothing to show: no neuron passes the filters."])
            what = "classes" if state.level == "class" else "neurons"
            pair = state.dataset + (f" → {state.compare}" if state.compare else "")
            figure = adjacency_heatmap(
                network_of(state.dataset, state.level),
                view["nodes"],
                view["edges"],
                kind or "chemical",
                title=f"Adjacency of the drawn {what}, {pair}",
            )
        except WormlabError as err:
            return _messages([str(err)])
        except Exception as err:  # noqa: BLE001
            return _messages([_failure(err)], "error")
        return dcc.Graph(
            id="explore-heatmap-graph",
            figure=figure,
            config={"displaylogo": False, "responsive": True},
            className="wl-heatmap-graph",
        )

    @app.callback(
        Output("explore-graph", "generateImage"),
        Input("explore-export-png", "n_clicks"),
        State("explore-dataset", "value"),
        prevent_initial_call=True,
    )
    def _png(_n, dataset):
        state, _ = ExploreState.parse({"dataset": dataset})
        return {
            "type": "png",
            "action": "download",
            "filename": f"wormlab-{state.dataset}",
            "options": {"bg": "#ffffff", "scale": 2},
        }

    @app.callback(
        output=[Output("explore-download", "data"), Output("explore-export-message", "children")],
        inputs={"_clicks": Input("explore-export-csv", "n_clicks")},
        state={"controls": _deps(State, CONTROLS), "stored": State("explore-paths", "data")},
        prevent_initial_call=True,
    )
    def _csv(_clicks, controls, stored):
        state, problems = _state(controls)
        paths, bad_store = stored_paths(stored, state)
        if problems or bad_store:
            return no_update, _messages(problems + bad_store + ["Nothing was exported."])
        view = _render_safe(state, paths)
        if view["edges"] is None:
            return no_update, _messages(view["problems"])
        edges = view["edges"]
        name = f"wormlab-{state.dataset}-{state.level}-edges.csv"
        return dcc.send_data_frame(edges.to_csv, name, index=False), _messages(
            [f"{len(edges)} edges exported to {name}."], "info"
        )

    @app.callback(
        output=[
            Output("store-selection", "data"),
            Output("explore-goto", "pathname"),
            Output("explore-goto", "search"),
            Output("explore-export-message", "children", allow_duplicate=True),
        ],
        inputs={"n_clicks": Input("explore-use-circuit", "n_clicks")},
        state={"controls": _deps(State, CONTROLS), "stored": State("explore-paths", "data")},
        prevent_initial_call=True,
    )
    def _use_as_circuit(n_clicks, controls, stored):
        # fires when the page is inserted (its first output lives in the app shell)
        if not n_clicks:
            return no_update, no_update, no_update, no_update
        state, problems = _state(controls)
        paths, bad_store = stored_paths(stored, state)
        if problems or bad_store:
            message = _messages(problems + bad_store + ["Nothing was sent to the Circuit page."])
            return no_update, no_update, no_update, message
        view = _render_safe(state, paths)
        table = network.node_table(network_of(state.dataset, state.level))
        names = [n for n in view["nodes"] if table.loc[n, "type"] in network.NEURON_TYPES]
        if not names:
            message = "No neuron is drawn: nothing to send to the Circuit page."
            return no_update, no_update, no_update, _messages([message])
        selection = {"dataset": state.dataset, "level": state.level, "names": names}
        return selection, app.get_relative_path("/circuit"), "", []

    @app.callback(
        Output("store-dataset", "data"),
        Input("explore-dataset", "value"),
    )
    def _dataset_store(dataset):
        state, _ = ExploreState.parse({"dataset": dataset})
        return state.dataset

    _register_muscles(app)


# ------------------------------------------------------------------ body-wall muscles
def _muscles_controls():
    """The neuromuscular option: a toggle and the neuron -> muscle heatmap it opens."""
    return html.Div(
        [
            dcc.Checklist(
                id="explore-muscles",
                options=[
                    {
                        "label": " Body-wall muscles: the selected (or drawn) neurons' junctions "
                        "on MDL/MDR/MVL/MVR 01-24 (Cook 2019 NMJ map)",
                        "value": "on",
                    }
                ],
                value=[],
                inline=True,
            ),
            # the graph is created when the option is on: plotly.js loads only then
            dcc.Loading(html.Div(id="explore-muscles-box")),
        ],
        className="wl-muscles",
    )


def _muscles_figure(state: ExploreState, view: dict):
    from connectome.datasets import read_neurons
    from connectome.neurons import class_names
    from sim.muscles import neuromuscular_map
    from webapp.figures.network import neuromuscular_groups, neuromuscular_heatmap

    nmj = neuromuscular_map()
    names = view["selected"] or view["nodes"]
    classes = class_names(read_neurons()).to_dict() if state.level == "class" else None
    groups = neuromuscular_groups(nmj, names, classes)
    if not groups:
        which = "selected" if view["selected"] else "drawn"
        return _messages(
            [f"None of the {which} neurons makes junctions on body-wall muscles (Cook 2019)."]
        )
    return dcc.Graph(
        id="explore-muscles-graph",
        figure=neuromuscular_heatmap(nmj, groups),
        config={"displaylogo": False, "responsive": True},
    )


def _register_muscles(app) -> None:
    @app.callback(
        output=Output("explore-muscles-box", "children"),
        inputs={
            "on": Input("explore-muscles", "value"),
            "controls": _deps(Input, DRAW_IDS),
            "stored": Input("explore-paths", "data"),
        },
    )
    def _muscles(on, controls, stored):
        if not on:
            return []
        state, _ = _state(controls)
        try:
            return _muscles_figure(state, render(state, stored_paths(stored, state)))
        except WormlabError as err:
            return _messages([str(err)])
        except Exception as err:  # noqa: BLE001
            return _messages([_failure(err)], "error")


def warm_up() -> None:
    """Compute the default view once (positions, node tables, search options)."""
    state = ExploreState()
    render(state)
    search_options(state.dataset, state.level)
    for view in network.VIEWS:
        network.positions(network_of(state.dataset, "neuron"), view)
        network.positions(network_of(state.dataset, "class"), view)
