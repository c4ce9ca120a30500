"""The Simulate page: stimulate neurons and watch the whole network respond.

The user picks a source (the whole connectome of a dataset, or the circuit made on the Circuit
page), a neuron model (``graded``, Kunert et al. 2014, in mV, pA and s; or ``ltc``, liquid
time-constant neurons, unitless) with its main parameters, a list of stimuli (a neuron or a
class, a protocol: step, pulse train, sine, ramp or noise, and its parameters), ablations, the
duration and the step. Presets set up known experiments in one click and run them.

Results: traces of the stimulated neurons and of the strongest responders (any neuron can be
added), a heatmap of every neuron ordered by type, a phase portrait of the motor neurons on
their first two principal components, the network coloured by activity with a time slider and
a play button, a table of each neuron's peak and latency, and CSV downloads. The Body view
drives ElegansBot's worm with the run's motor neurons (:mod:`sim.body`; the ``body`` extra):
the worm on its plate at the time of the shared slider, the kymogram beside it, the centroid's
trajectory and one line on where the worm went; its presets are :data:`sim.body.PRESETS`.

This module holds the layout and thin callbacks. The request model, the content-keyed
caches, the analysis, the background runs and the CSV builders are in
:mod:`webapp.simulation` (how a run is served is described there); the result panels are
built by :mod:`webapp.figures.results`; the network animation runs in the browser
(``assets/simulate.js``); styles are in ``assets/wormlab.css``. Every field is checked before
anything runs and each problem is shown next to its field; the page never shows a traceback.
"""

import functools
import logging
import time
import uuid

import dash_cytoscape as cyto
from dash import ALL, MATCH, ClientsideFunction, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

import connectome
from connectome import io as wiring_io
from connectome.errors import DivergenceError, SimulationError, WormlabError
from connectome.limits import shorten
from webapp import components as ui
from webapp import network, simulation
from webapp.figures import body as body_figures
from webapp.figures import results
from webapp.figures.control import empty_figure
from webapp.jobs import clear_stop, job_id, request_stop, stop_path
from webapp.screening import (
    PANEL_KINDS,
    panel_choices,
    screen_csv,
    screen_figures,
    start_screen,
    table_from_store,
)
from webapp.simulation import (
    BODY_MISSING,
    CHOICES,
    FIELDS,
    PARAMS,
    PRESETS,
    PROTOCOLS,
    STIM_DEFAULTS,
    TIMING,
    VOLTS_NOTE,
    FormError,
    Request,
    analyse,
    body_available,
    body_result,
    body_verdict,
    check_body,
    check_names,
    check_request,
    cord_traces,
    dataset_source,
    default_traces,
    form_from_query,
    form_params,
    form_row,
    is_long,
    is_long_body,
    job_result,
    load_source,
    onset_of,
    oscillation_period,
    preset_form,
    read_form,
    response_size,
    run_simulation,
    simulated,
    source_tag,
    source_text,
    stimulated_neurons,
    summary_csv,
    trace_reference,
    traces_csv,
    units_of,
)
from webapp.tempdirs import app_folder

__all__ = ["PATH", "NAME", "ORDER", "layout", "register_callbacks", "warm_up"]

log = logging.getLogger(__name__)

PATH = "/simulate"
NAME = "Simulate"
ORDER = 1


def _param_fields(model, values):
    fields = []
    for key, unit, help_ in PARAMS[model]:
        fields.append(
            ui.field(
                key,
                ui.text_input({"type": "simulate-param", "key": key}, values.get(key, "")),
                {"type": "simulate-param-err", "key": key},
                unit,
                title=help_,
                width="third",
            )
        )
    for key, choices, help_ in CHOICES[model]:
        fields.append(
            ui.field(
                key,
                dcc.Dropdown(
                    id={"type": "simulate-param", "key": key},
                    options=[{"label": c, "value": c} for c in choices],
                    value=values.get(key, choices[0]),
                    clearable=False,
                    searchable=False,
                ),
                {"type": "simulate-param-err", "key": key},
                title=help_,
                width="half",
            )
        )
    return html.Div(fields, className="wl-fields")


def _stim_params(index, kind, values, model):
    units = units_of(model)
    out = []
    for key, label, unit in FIELDS[kind]:
        hint = "blank: never" if key == "stop" and kind != "ramp" else None
        hint = "blank: every step" if key == "sample_dt" else hint
        out.append(
            ui.field(
                label,
                ui.text_input(
                    {"type": "simulate-stim-par", "index": index, "key": key},
                    values.get(key, ""),
                    placeholder=hint,
                ),
                {"type": "simulate-stim-err", "index": index, "key": key},
                units[unit],
                width="third",
            )
        )
    return out


def _stim_row(row, model, options):
    i = row["index"]
    return html.Div(
        [
            html.Div(
                [
                    html.Div(
                        [
                            dcc.Dropdown(
                                id={"type": "simulate-stim-target", "index": i},
                                options=options,
                                value=row["target"],
                                placeholder="neuron or class",
                                clearable=True,
                            ),
                            ui.field_error(
                                {"type": "simulate-stim-err", "index": i, "key": "target"}
                            ),
                        ],
                        className="wl-sim-stim-target",
                    ),
                    html.Div(
                        dcc.Dropdown(
                            id={"type": "simulate-stim-kind", "index": i},
                            options=[{"label": v, "value": k} for k, v in PROTOCOLS.items()],
                            value=row["kind"],
                            clearable=False,
                            searchable=False,
                        ),
                        className="wl-sim-stim-kind",
                    ),
                    html.Button(
                        "✕",
                        id={"type": "simulate-stim-remove", "index": i},
                        className="wl-button",
                        title="remove this stimulus",
                        n_clicks=0,
                    ),
                ],
                className="wl-sim-stim-head",
            ),
            html.Div(
                _stim_params(i, row["kind"], row["values"], model),
                id={"type": "simulate-stim-params", "index": i},
                className="wl-sim-stim-params",
            ),
            ui.field_error({"type": "simulate-stim-err", "index": i, "key": "row"}),
        ],
        className="simulate-stim-row wl-sim-stim-row",
    )


@functools.lru_cache(maxsize=16)
def _target_options(source):
    """Dropdown options: classes with several members first, then every neuron."""
    net = load_source(source)
    table = net.neurons
    classes = table.groupby("class", sort=False).size()
    out = [
        {"label": f"{c} (class: {n} neurons)", "value": str(c)}
        for c, n in classes.items()
        if n > 1 and c not in table.index
    ]
    out += [
        {"label": f"{name} · {t}", "value": name}
        for name, t in zip(table.index, table["type"], strict=True)
    ]
    return tuple(out)


def _options_for(source_kind, dataset, circuit):
    try:
        src = source_text(source_kind, dataset, circuit)
        return list(_target_options(src))
    except WormlabError:
        return []


def _rows_to_form(ids, targets, kinds, par_ids, par_values):
    """Rebuild the stimulus rows from the pattern-matching states."""
    rows = {}
    for id_, target, kind in zip(ids, targets, kinds, strict=True):
        rows[id_["index"]] = {"index": id_["index"], "target": target, "kind": kind, "values": {}}
    for id_, value in zip(par_ids, par_values, strict=True):
        if id_["index"] in rows:
            rows[id_["index"]]["values"][id_["key"]] = value
    return [rows[i] for i in sorted(rows)]


# ===================================================================== layout
#: Choices of the page's radio buttons: (value, label).
SOURCES = (("dataset", "whole connectome"), ("circuit", "circuit from the Circuit page"))
TRACE_LAYOUTS = (("stacked", "stacked"), ("overlaid", "overlaid"))
TRACE_REFERENCES = (("raw", "V"), ("fixed", "V − fixed point"))
TRACE_SETS = (("strongest", "strongest responders"), ("cord", "cord motor neurons"))


def _radio(id_, choices, value):
    """An inline radio group of ``(value, label)`` choices."""
    options = [{"label": label, "value": v} for v, label in choices]
    return dcc.RadioItems(id=id_, options=options, value=value, inline=True)


def _preset_buttons(body, disabled=False):
    """The buttons of the :data:`webapp.simulation.PRESETS` that drive the body (``body``:
    the Body view's) or not (the sidebar's Experiments)."""
    return html.Div(
        [
            html.Button(
                p["label"],
                id={"type": "simulate-preset", "name": key},
                className="wl-button",
                n_clicks=0,
                title=p["note"],
                disabled=disabled,
            )
            for key, p in PRESETS.items()
            if bool(p.get("body")) == body
        ],
        className="wl-buttons",
    )


def _section(title, children):
    return html.Div([html.H2(title), *children], className="wl-section")


def layout(**query):
    """The page. Query keys: ``preset`` (plm, ava, ase), ``dataset``, ``model``, ``stim``
    (``TARGET:kind:key=value,...`` separated by ``;``), ``ablate``, ``duration``, ``dt``."""
    form = form_from_query(query)
    model = form["model"]
    units = units_of(model)
    src = dataset_source(form["dataset"])
    options = list(_target_options(src)) if form["dataset"] in _dataset_keys() else []
    presets = _preset_buttons(body=False)
    sidebar = html.Div(
        [
            _section(
                "Experiments",
                [
                    presets,
                    html.Div(form["note"], id="simulate-preset-note", className="wl-note"),
                ],
            ),
            _section(
                "Source",
                [
                    _radio("simulate-source", SOURCES, form["source"]),
                    dcc.Dropdown(
                        id="simulate-dataset",
                        options=ui.dataset_options(),
                        value=form["dataset"],
                        clearable=False,
                    ),
                    html.Div(id="simulate-circuit-info", className="wl-note"),
                    ui.field_error("simulate-source-msg"),
                ],
            ),
            _section(
                "Model",
                [
                    dcc.RadioItems(
                        id="simulate-model",
                        options=[
                            {"label": "graded (Kunert 2014; mV, pA, s)", "value": "graded"},
                            {"label": "ltc (liquid time-constant; unitless)", "value": "ltc"},
                        ],
                        value=model,
                    ),
                ],
            ),
            _section(
                "Stimulus",
                [
                    html.Div(
                        [_stim_row(r, model, options) for r in form["rows"]],
                        id="simulate-stim-rows",
                    ),
                    ui.field_error("simulate-stim-msg"),
                    html.Div(
                        [
                            html.Button(
                                "+ stimulus",
                                id="simulate-stim-add",
                                className="wl-button",
                                n_clicks=0,
                            ),
                            html.Span("Clicking a neuron in the network:", className="wl-note"),
                            dcc.RadioItems(
                                id="simulate-tap-mode",
                                options=[
                                    {"label": "stimulates it", "value": "stim"},
                                    {"label": "ablates it", "value": "ablate"},
                                ],
                                value="stim",
                                inline=True,
                            ),
                        ],
                        className="wl-sim-bar wl-sim-wrap",
                    ),
                ],
            ),
            _section(
                "Ablation",
                [
                    ui.field(
                        "remove neurons or classes",
                        ui.text_input(
                            "simulate-ablate", form["ablate"], placeholder="e.g. AVA, PVCL"
                        ),
                        "simulate-ablate-msg",
                    )
                ],
            ),
            _section(
                "Run",
                [
                    html.Div(
                        [
                            ui.field(
                                "duration",
                                ui.text_input("simulate-duration", form["duration"]),
                                "simulate-duration-msg",
                            ),
                            ui.field(
                                "dt",
                                ui.text_input("simulate-dt", form["dt"]),
                                "simulate-dt-msg",
                            ),
                            ui.field(
                                "record every",
                                ui.text_input("simulate-record", form["record"]),
                                "simulate-record-msg",
                                "steps",
                            ),
                        ],
                        className="wl-sim-bar",
                    ),
                    html.Div(
                        f"duration and dt in {units['t']}",
                        id="simulate-time-unit",
                        className="wl-note",
                    ),
                    html.Button(
                        "Run",
                        id="simulate-run",
                        className="wl-button wl-primary wl-sim-run",
                        n_clicks=0,
                    ),
                    html.Div(id="simulate-running", role="status", className="wl-sim-running"),
                    html.Div(id="simulate-status", role="status", className="wl-sim-status"),
                    html.Div(id="simulate-job-progress", role="status", className="wl-sim-status"),
                ],
            ),
            _section(
                "Model parameters",
                [
                    html.Div(
                        "Defaults from the papers (sim.models); hover a name for its meaning.",
                        className="wl-note",
                    ),
                    html.Div(_param_fields(model, form["params"]), id="simulate-params"),
                ],
            ),
        ],
        className="wl-sidebar",
    )
    net_panel = html.Div(
        [
            html.Div(
                [
                    html.Strong("Network activity"),
                    dcc.RadioItems(
                        id="simulate-view",
                        options=[{"label": v, "value": v} for v in network.VIEWS],
                        value="anatomical",
                        inline=True,
                    ),
                    html.Span(id="simulate-net-caption", className="wl-note"),
                ],
                className="wl-sim-bar wl-sim-wrap wl-sim-wide",
            ),
            cyto.Cytoscape(
                id="simulate-network",
                elements=[],
                layout=dict(results.NETWORK_LAYOUT),
                stylesheet=network.stylesheet("type"),
                className="wl-sim-network",
                # dash-cytoscape's default inline size (600 x 600 px) would override the class
                style={"width": "100%", "height": "330px"},
                minZoom=0.05,
                maxZoom=4,
                wheelSensitivity=0.2,
                boxSelectionEnabled=False,
                autoungrabify=True,
            ),
            html.Div(
                [
                    html.Button("▶ Play", id="simulate-play", className="wl-button", n_clicks=0),
                    html.Div(
                        dcc.Slider(
                            id="simulate-slider",
                            min=0,
                            max=1,
                            step=1,
                            value=0,
                            marks=None,
                            updatemode="drag",
                            allow_direct_input=False,
                        ),
                        className="wl-grow",
                    ),
                    html.Span(
                        "t = –",
                        id="simulate-time-label",
                        className="wl-sim-time",
                    ),
                ],
                className="wl-sim-bar wl-sim-player",
            ),
            html.Div(id="simulate-colour-key", className="wl-note"),
            dcc.Interval(id="simulate-interval", interval=150, disabled=True),
        ],
        className="wl-sim-panel",
    )
    traces = html.Div(
        [
            html.Div(
                [
                    html.Strong("Traces"),
                    _radio("simulate-trace-layout", TRACE_LAYOUTS, "stacked"),
                    _radio("simulate-trace-ref", TRACE_REFERENCES, form["reference"]),
                    _radio("simulate-trace-set", TRACE_SETS, form["traces"]),
                    dcc.Dropdown(
                        id="simulate-trace-pick",
                        options=[],
                        value=[],
                        multi=True,
                        placeholder="neurons to plot",
                        className="wl-grow",
                    ),
                ],
                className="wl-sim-bar",
            ),
            dcc.Graph(
                id="simulate-traces",
                figure=empty_figure("Press Run (or pick an experiment) to simulate", 340),
                config={"displaylogo": False},
            ),
            html.Div(id="simulate-trace-note", className="wl-note"),
        ]
    )
    plots = html.Div(
        [
            html.Div(
                dcc.Graph(
                    id="simulate-heatmap",
                    figure=empty_figure("", 520),
                    config={"displaylogo": False},
                ),
                className="wl-sim-heatmap",
            ),
            html.Div(
                dcc.Graph(
                    id="simulate-pca", figure=empty_figure("", 400), config={"displaylogo": False}
                ),
                className="wl-sim-pca",
            ),
        ],
        className="wl-sim-bar wl-sim-wrap",
    )
    table = html.Div(
        [
            html.Div(
                [
                    html.Strong("Responses"),
                    html.Button("Traces CSV", id="simulate-csv", className="wl-button", n_clicks=0),
                    html.Button(
                        "Summary CSV", id="simulate-csv-summary", className="wl-button", n_clicks=0
                    ),
                    html.Span(id="simulate-csv-msg", className="wl-field-error"),
                ],
                className="wl-sim-bar",
            ),
            html.Div(id="simulate-summary", className="wl-sim-summary"),
            dcc.Download(id="simulate-download"),
        ]
    )
    main = html.Div(
        [net_panel, _body_panel(form), traces, plots, table, _screen_panel()],
        className="wl-main wl-sim-main",
    )
    stores = [
        dcc.Store(id="simulate-result"),
        dcc.Store(id="simulate-frames"),
        dcc.Store(id="simulate-net-base"),
        dcc.Store(id="simulate-traces-drawn"),
        dcc.Store(id="simulate-job"),
        dcc.Store(id="simulate-autorun", data=0),
        dcc.Store(id="simulate-body", data=_body_placeholder()),
        dcc.Store(id="simulate-screen-result"),
        dcc.Store(id="simulate-screen-session", data=uuid.uuid4().hex),
        dcc.Store(
            id="simulate-query-dataset",
            data=bool(query.get("dataset") or query.get("preset") in PRESETS),
        ),
    ]
    return html.Div(
        [sidebar, main, *stores],
        id="simulate-page",
        className="wl-simulate",
    )


#: The Body view's friction choices: (value, label).
FRICTIONS = (("agar", "agar"), ("water", "water"))
SHOWN, HIDDEN = {"display": "block"}, {"display": "none"}


def _body_placeholder(message=None):
    """The ``simulate-body`` store when there is no body to show: the figure the worm's
    graph shows instead (``assets/simulate.js``)."""
    if message is None:
        message = (
            "Tick “drive the body” and Run, or pick a body experiment"
            if body_available()
            else BODY_MISSING
        )
    return {"placeholder": empty_figure(message, 420).to_plotly_json()}


def _body_panel(form):
    """The Body view: ElegansBot's worm driven by the run (:mod:`sim.body`), its posture at
    the shared slider's time, the kymogram, the centroid's trajectory and the verdict."""
    available = body_available()
    presets = _preset_buttons(body=True, disabled=not available)
    note = (
        "The run's motor neurons drive the 95 body-wall muscles through Cook 2019's "
        "neuromuscular junctions and ElegansBot's 25-rod body (sim.body); the slider and Play "
        "above move the worm."
        if available
        else BODY_MISSING
    )
    graph = {"config": {"displaylogo": False}}
    return html.Div(
        [
            html.Div(
                [
                    html.Strong("Body"),
                    dcc.Checklist(
                        id="simulate-body-on",
                        options=[
                            {"label": "drive the body", "value": "on", "disabled": not available}
                        ],
                        value=["on"] if form.get("body") and available else [],
                        inline=True,
                    ),  # fmt: skip
                    html.Span("friction:", className="wl-note"),
                    _radio("simulate-body-friction", FRICTIONS, "agar"),
                    html.Span(id="simulate-body-time", className="wl-sim-time"),
                ],
                className="wl-sim-bar wl-sim-wrap",
            ),
            presets,
            html.Div(note, id="simulate-body-note", className="wl-note"),
            ui.field_error("simulate-body-msg"),
            html.Div(id="simulate-body-verdict", role="status", className="wl-sim-body-verdict"),
            html.Div(
                [
                    html.Div(
                        [
                            html.Div(
                                dcc.Graph(
                                    id="simulate-body-posture",
                                    figure=empty_figure("", 420),
                                    **graph,
                                ),
                                className="wl-sim-body-worm",
                            ),
                            html.Div(
                                dcc.Graph(
                                    id="simulate-body-kymogram",
                                    figure=empty_figure("", 420),
                                    **graph,
                                ),
                                className="wl-sim-body-kymogram",
                            ),
                        ],
                        className="wl-sim-bar wl-sim-wrap",
                    ),
                    dcc.Graph(id="simulate-body-trajectory", figure=empty_figure("", 300), **graph),
                ],
                id="simulate-body-graphs",
                style=HIDDEN,  # until there is a body to show
            ),  # fmt: skip
        ],
        id="simulate-body-panel",
        className="wl-sim-panel wl-sim-body",
    )


def _screen_panel():
    """The collapsible Screen card: a lesion screen or an amplitude sweep of the current
    setup, run in the background (:mod:`webapp.screening`)."""
    kinds = [(k, label) for k, (label, _, _) in PANEL_KINDS.items()]
    fields = html.Div(
        [
            _radio("simulate-screen-kind", kinds, "amplitude"),
            ui.field(
                "amplitude from",
                ui.text_input("simulate-screen-from", "1000"),
                "simulate-screen-from-msg",
            ),
            ui.field("to", ui.text_input("simulate-screen-to", "3000"), "simulate-screen-to-msg"),
            ui.field(
                "count", ui.text_input("simulate-screen-count", "5"), "simulate-screen-count-msg"
            ),
        ],
        className="wl-sim-bar wl-sim-wrap",
    )
    buttons = html.Div(
        [
            ui.button("Run screen", "simulate-screen-run", primary=True),
            ui.button("Cancel", "simulate-screen-cancel", disabled=True),
            html.Button(
                "Download CSV", id="simulate-screen-csv", className="wl-button", n_clicks=0
            ),  # fmt: skip
            html.Progress(id="simulate-screen-progress", value="0", max="100"),
            html.Span("Not started.", id="simulate-screen-progress-text", role="status"),
        ],
        className="wl-sim-bar wl-sim-wrap",
    )
    graph = {"config": {"displaylogo": False}, "style": {"display": "none"}}
    return html.Details(
        [
            html.Summary(html.Strong("Screen")),
            html.Div(
                "Every single ablation of the current setup against its baseline, ranked by "
                "the change in the cord's oscillation, or the first stimulus's amplitude "
                "swept; run as a background job.",
                className="wl-note",
            ),
            fields,
            buttons,
            html.Div(id="simulate-screen-msg", role="status"),
            dcc.Graph(id="simulate-screen-ranking", **graph),
            dcc.Graph(id="simulate-screen-sweep", **graph),
            dcc.Download(id="simulate-screen-download"),
        ],
        id="simulate-screen",
        className="wl-section",
    )


@functools.cache
def _dataset_keys():
    return tuple(connectome.datasets().index)


# ===================================================================== callbacks
def register_callbacks(app):
    """Attach the page's callbacks to ``app``."""
    _screen_callbacks(app)

    # ------------------------------------------------------------ dataset from the shell
    @app.callback(
        Output("simulate-dataset", "value", allow_duplicate=True),
        Input("store-dataset", "data"),
        State("simulate-query-dataset", "data"),
        State("simulate-dataset", "value"),
        prevent_initial_call="initial_duplicate",
    )
    def _dataset_from_store(store, fixed, current):
        if fixed or not store or store == current or store not in _dataset_keys():
            raise PreventUpdate
        return store

    @app.callback(
        Output("simulate-dataset", "disabled"),
        Input("simulate-source", "value"),
    )
    def _dataset_enabled(source_kind):
        return source_kind == "circuit"

    @app.callback(
        Output("simulate-source", "options"),
        Output("simulate-circuit-info", "children"),
        Input("store-circuit", "data"),
    )
    def _circuit_info(circuit):
        options = [
            {"label": "whole connectome", "value": "dataset"},
            {"label": "circuit from the Circuit page", "value": "circuit",
             "disabled": not circuit},
        ]  # fmt: skip
        if not circuit:
            return options, "No circuit yet: make one on the Circuit page."
        try:
            c = wiring_io.from_dict(circuit)
        except WormlabError as err:
            return options, f"The stored circuit cannot be read: {err}"
        return options, (
            f"Circuit: {len(c.neurons)} {'classes' if c.level == 'class' else 'neurons'} "
            f"from {c.dataset}, {len(c.edges)} synapses."
        )

    # ------------------------------------------------------------ network drawing
    @app.callback(
        Output("simulate-network", "elements"),
        Output("simulate-network", "layout"),
        Output("simulate-net-base", "data"),
        Output("simulate-net-caption", "children"),
        Output("simulate-source-msg", "children"),
        Output({"type": "simulate-stim-target", "index": ALL}, "options"),
        Input("simulate-source", "value"),
        Input("simulate-dataset", "value"),
        Input("store-circuit", "data"),
        Input("simulate-view", "value"),
        State({"type": "simulate-stim-target", "index": ALL}, "id"),
    )
    def _draw_network(source_kind, dataset, circuit, view, target_ids):
        try:
            src = source_text(source_kind, dataset, circuit)
            net = load_source(src)
            nodes, edges, m = results.activity_network(net)
            els = results.stretch_to_panel(
                network.elements(net, nodes, edges, view or "anatomical")
            )
        except WormlabError as err:
            return [], no_update, None, "", str(err), [[] for _ in target_ids]
        sheet = results.activity_sheet(net, view or "anatomical")
        base = {"source": source_tag(src), "sheet": sheet}
        caption = f"{len(nodes)} neurons; synapses with weight ≥ {m} drawn ({len(edges)})"
        options = list(_target_options(src))
        layout = dict(results.NETWORK_LAYOUT, drawing=f"{base['source']}|{view}")
        return els, layout, base, caption, "", [options for _ in target_ids]

    app.clientside_callback(
        ClientsideFunction(namespace="wormlab_simulate", function_name="activityStyle"),
        Output("simulate-network", "stylesheet"),
        Output("simulate-time-label", "children"),
        Input("simulate-frames", "data"),
        Input("simulate-slider", "value"),
        Input("simulate-net-base", "data"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="wormlab_simulate", function_name="running"),
        Output("simulate-running", "children"),
        Input("simulate-run", "n_clicks"),
        Input("simulate-autorun", "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="wormlab_simulate", function_name="play"),
        Output("simulate-slider", "value", allow_duplicate=True),
        Output("simulate-interval", "disabled"),
        Output("simulate-play", "children"),
        Input("simulate-play", "n_clicks"),
        Input("simulate-interval", "n_intervals"),
        State("simulate-interval", "disabled"),
        State("simulate-slider", "value"),
        State("simulate-slider", "max"),
        prevent_initial_call=True,
    )

    # ------------------------------------------------------------ the form
    @app.callback(
        output={
            "rows": Output("simulate-stim-rows", "children"),
            "params": Output("simulate-params", "children"),
            "model": Output("simulate-model", "value"),
            "source": Output("simulate-source", "value"),
            "dataset": Output("simulate-dataset", "value", allow_duplicate=True),
            "duration": Output("simulate-duration", "value"),
            "dt": Output("simulate-dt", "value"),
            "record": Output("simulate-record", "value"),
            "ablate": Output("simulate-ablate", "value"),
            "note": Output("simulate-preset-note", "children"),
            "unit": Output("simulate-time-unit", "children"),
            "autorun": Output("simulate-autorun", "data"),
            "trace_set": Output("simulate-trace-set", "value"),
            "trace_ref": Output("simulate-trace-ref", "value"),
            "body_on": Output("simulate-body-on", "value"),
        },
        inputs={
            "presets": Input({"type": "simulate-preset", "name": ALL}, "n_clicks"),
            "add": Input("simulate-stim-add", "n_clicks"),
            "removes": Input({"type": "simulate-stim-remove", "index": ALL}, "n_clicks"),
            "tap": Input("simulate-network", "tapNodeData"),
            "model": Input("simulate-model", "value"),
        },
        state={
            "target_ids": State({"type": "simulate-stim-target", "index": ALL}, "id"),
            "targets": State({"type": "simulate-stim-target", "index": ALL}, "value"),
            "kinds": State({"type": "simulate-stim-kind", "index": ALL}, "value"),
            "par_ids": State({"type": "simulate-stim-par", "index": ALL, "key": ALL}, "id"),
            "pars": State({"type": "simulate-stim-par", "index": ALL, "key": ALL}, "value"),
            "param_ids": State({"type": "simulate-param", "key": ALL}, "id"),
            "params": State({"type": "simulate-param", "key": ALL}, "value"),
            "source": State("simulate-source", "value"),
            "dataset": State("simulate-dataset", "value"),
            "circuit": State("store-circuit", "data"),
            "ablate": State("simulate-ablate", "value"),
            "tap_mode": State("simulate-tap-mode", "value"),
            "autorun": State("simulate-autorun", "data"),
        },
        prevent_initial_call=True,
    )
    def _edit_form(presets, add, removes, tap, model, **s):
        trig = ctx.triggered_id
        rows = _rows_to_form(s["target_ids"], s["targets"], s["kinds"], s["par_ids"], s["pars"])
        out = {k: no_update for k in ("rows", "params", "model", "source", "dataset",
                                      "duration", "dt", "record", "ablate", "note", "unit",
                                      "autorun", "trace_set", "trace_ref",
                                      "body_on")}  # fmt: skip
        next_index = max((r["index"] for r in rows), default=-1) + 1
        form_model = model
        if isinstance(trig, dict) and trig.get("type") == "simulate-preset":
            if not ctx.triggered[0]["value"]:
                raise PreventUpdate
            form = preset_form(trig["name"], s["dataset"] or "cook2019")
            rows = [dict(r, index=next_index + r["index"]) for r in form["rows"]]
            form_model = form["model"]
            out.update(
                params=_param_fields(form_model, form["params"]),
                model=form_model,
                source="dataset",
                dataset=form["dataset"],
                duration=form["duration"],
                dt=form["dt"],
                record=form["record"],
                ablate="",
                note=form["note"],
                autorun=(s["autorun"] or 0) + 1,
                trace_set=form["traces"],
                trace_ref=form["reference"],
                body_on=["on"] if form["body"] and body_available() else [],
            )
        elif isinstance(trig, dict) and trig.get("type") == "simulate-stim-remove":
            if not ctx.triggered[0]["value"]:
                raise PreventUpdate
            rows = [r for r in rows if r["index"] != trig["index"]]
        elif trig == "simulate-stim-add":
            rows.append(form_row(next_index, None, "step", None, model))
        elif trig == "simulate-network":
            name = (tap or {}).get("id")
            if not name:
                raise PreventUpdate
            if s["tap_mode"] == "ablate":
                have = [x for x in str(s["ablate"] or "").replace(",", " ").split() if x]
                if name not in have:
                    out["ablate"] = ", ".join([*have, name])
                return out
            empty = [r for r in rows if not r["target"]]
            if empty:
                empty[0]["target"] = name
            else:
                rows.append(form_row(next_index, name, "step", None, model))
        elif trig == "simulate-model":
            rows = [form_row(r["index"], r["target"], r["kind"], None, model) for r in rows]
            out.update(
                params=_param_fields(model, form_params(model, s["source"] != "circuit")),
                note=f"Model {model}: parameters, timing and stimulus sizes set to its defaults.",
                **TIMING[model],
            )  # fmt: skip
        else:
            raise PreventUpdate
        source = out["source"] if out["source"] is not no_update else s["source"]
        dataset = out["dataset"] if out["dataset"] is not no_update else s["dataset"]
        options = _options_for(source, dataset, s["circuit"])
        out["rows"] = [_stim_row(r, form_model, options) for r in rows]
        out["unit"] = f"duration and dt in {units_of(form_model)['t']}"
        return out

    @app.callback(
        Output({"type": "simulate-stim-params", "index": MATCH}, "children"),
        Input({"type": "simulate-stim-kind", "index": MATCH}, "value"),
        State({"type": "simulate-stim-par", "index": MATCH, "key": ALL}, "id"),
        State({"type": "simulate-stim-par", "index": MATCH, "key": ALL}, "value"),
        State("simulate-model", "value"),
        prevent_initial_call=True,
    )
    def _change_kind(kind, ids, values, model):
        index = ctx.triggered_id["index"]
        try:  # the model comes back from the browser: say so here when it is not one
            units_of(model)
        except SimulationError as err:
            return [ui.error(f"{err}; reload the page")]
        keep = dict(STIM_DEFAULTS[model])
        keep.update(
            {
                i.get("key"): v
                for i, v in zip(ids or (), values or (), strict=False)
                if isinstance(i, dict) and isinstance(v, str)
            }
        )
        if not isinstance(kind, str) or kind not in FIELDS:
            out = _stim_params(index, "step", keep, model)
            return [ui.error(f"unknown stimulus kind {shorten(kind)}; showing a step")] + out
        return _stim_params(index, kind, keep, model)

    # ------------------------------------------------------------ running
    err_ids = {
        "duration": "simulate-duration-msg",
        "dt": "simulate-dt-msg",
        "record": "simulate-record-msg",
        "ablate": "simulate-ablate-msg",
        "stimulus": "simulate-stim-msg",
        "source": "simulate-source-msg",
        "body": "simulate-body-msg",
    }

    @app.callback(
        output={
            "result": Output("simulate-result", "data"),
            "status": Output("simulate-status", "children"),
            "traces": Output("simulate-traces", "figure"),
            "pick_options": Output("simulate-trace-pick", "options"),
            "pick": Output("simulate-trace-pick", "value"),
            "drawn": Output("simulate-traces-drawn", "data"),
            "job": Output("simulate-job", "data"),
            "trace_note": Output("simulate-trace-note", "children"),
            "running": Output("simulate-running", "children", allow_duplicate=True),
            "stim_errs": Output(
                {"type": "simulate-stim-err", "index": ALL, "key": ALL}, "children"
            ),
            "param_errs": Output({"type": "simulate-param-err", "key": ALL}, "children"),
            **{
                f"msg_{k}": Output(v, "children", allow_duplicate=k == "source")
                for k, v in err_ids.items()
            },
        },
        inputs={
            "run": Input("simulate-run", "n_clicks"),
            "autorun": Input("simulate-autorun", "data"),
        },
        state={
            **_form_states(),
            "layout": State("simulate-trace-layout", "value"),
            "trace_set": State("simulate-trace-set", "value"),
            "trace_ref": State("simulate-trace-ref", "value"),
            "body_on": State("simulate-body-on", "value"),
            "friction": State("simulate-body-friction", "value"),
        },
        prevent_initial_call=True,
    )
    def _run(run, autorun, **s):
        if not (run or autorun):
            raise PreventUpdate
        out = {k: no_update for k in ("result", "traces", "pick_options", "pick", "drawn", "job",
                                      "trace_note")}  # fmt: skip
        errors = {}
        tic = time.perf_counter()
        try:
            out.update(_run_request(s, errors))
            status = out.pop("_status")
            status = html.Span(f"{status} ({time.perf_counter() - tic:.2f} s).",
                               className="wl-muted")  # fmt: skip
        except FormError as err:
            errors.update(err.errors)
            n = len(errors)
            status = html.Div(
                f"Nothing was run: {n} field{'s' if n > 1 else ''} to fix (see the messages "
                "in red).",
                className="wl-message wl-error",
            )
        except Exception as err:  # noqa: BLE001 - the page must never show a traceback
            status = _failed(err)
        out["status"] = status
        out["running"] = ""
        out["stim_errs"] = [errors.get(f"stim:{i['index']}:{i['key']}", "") for i in s["err_ids"]]
        out["param_errs"] = [errors.get(f"param:{i['key']}", "") for i in s["param_err_ids"]]
        for k in err_ids:
            out[f"msg_{k}"] = errors.get(k, errors.get("model", "") if k == "source" else "")
        return out

    @app.callback(
        output={
            "result": Output("simulate-result", "data", allow_duplicate=True),
            "status": Output("simulate-status", "children", allow_duplicate=True),
            "traces": Output("simulate-traces", "figure", allow_duplicate=True),
            "pick_options": Output("simulate-trace-pick", "options", allow_duplicate=True),
            "pick": Output("simulate-trace-pick", "value", allow_duplicate=True),
            "drawn": Output("simulate-traces-drawn", "data", allow_duplicate=True),
            "trace_note": Output("simulate-trace-note", "children", allow_duplicate=True),
            "dt": Output("simulate-dt-msg", "children", allow_duplicate=True),
        },
        inputs={"job": Input("simulate-job", "data")},
        state={"circuit": State("store-circuit", "data")},
        background=True,
        progress=[Output("simulate-job-progress", "children")],
        running=[(Output("simulate-run", "disabled"), True, False)],
        interval=250,
        prevent_initial_call=True,
    )
    def _run_job(set_progress, job, circuit):
        """A long run, as a background job (:func:`webapp.simulation.run_simulation`)."""
        if not job:
            raise PreventUpdate
        out = {k: no_update for k in ("result", "traces", "pick_options", "pick", "drawn",
                                      "trace_note")}  # fmt: skip
        out["dt"] = ""
        tic = time.perf_counter()
        try:
            request = Request.from_json(job["request"], circuit)
            steps = request.n_steps

            def on_progress(msg):
                if msg.get("kind") == "phase":  # the body, after the network
                    set_progress(f"Simulated {steps:,} steps; now {msg['text']}.")
                    return
                done = int(round(msg["fraction"] * steps))
                set_progress(f"Simulating in the background: {done:,} of {steps:,} steps.")

            set_progress(f"Simulating in the background: starting ({steps:,} steps).")
            ran = run_simulation(request, on_progress, job.get("body"))
            if ran["kind"] == "error":
                raise SimulationError(ran["text"])
            if "diverged" in ran:
                out["dt"] = ran["diverged"]
                status = html.Div(
                    "Nothing was run: 1 field to fix (see the messages in red).",
                    className="wl-message wl-error",
                )
            else:
                out.update(_run_outputs(request, job_result(request), job["view"], job["run"]))
                status = html.Span(f"{out.pop('_status')} ({time.perf_counter() - tic:.2f} s, "
                                   "in the background).", className="wl-muted")  # fmt: skip
        except Exception as err:  # noqa: BLE001 - the page must never show a traceback
            status = _failed(err)
        finally:
            set_progress("")
        out["status"] = status
        return out

    @app.callback(
        output={
            "heatmap": Output("simulate-heatmap", "figure"),
            "pca": Output("simulate-pca", "figure"),
            "frames": Output("simulate-frames", "data"),
            "slider_max": Output("simulate-slider", "max"),
            "slider": Output("simulate-slider", "value"),
            "key": Output("simulate-colour-key", "children"),
            "summary": Output("simulate-summary", "children"),
        },
        inputs={"result": Input("simulate-result", "data")},
        state={"circuit": State("store-circuit", "data")},
        prevent_initial_call=True,
    )
    def _results(result, circuit):
        if not result:
            raise PreventUpdate
        try:
            return _result_panels(result, circuit)
        except WormlabError as err:
            message = f"These results cannot be shown: {err}"
        except Exception:  # the page must never show a traceback
            log.exception("simulate: unexpected error while drawing results")
            message = "An unexpected error stopped the drawing (logged on the server)."
        blank = empty_figure(message, 300)
        return {
            "heatmap": blank,
            "pca": blank,
            "frames": None,
            "slider_max": 1,
            "slider": 0,
            "key": "",
            "summary": html.Div(message, className="wl-message wl-error"),
        }

    @app.callback(
        output={
            "store": Output("simulate-body", "data"),
            "kymogram": Output("simulate-body-kymogram", "figure"),
            "trajectory": Output("simulate-body-trajectory", "figure"),
            "verdict": Output("simulate-body-verdict", "children"),
            "graphs": Output("simulate-body-graphs", "style"),
        },
        inputs={
            "result": Input("simulate-result", "data"),
            "on": Input("simulate-body-on", "value"),
            "friction": Input("simulate-body-friction", "value"),
        },
        state={"circuit": State("store-circuit", "data")},
        prevent_initial_call=True,
    )
    def _body(result, on, friction, circuit):
        friction = _body_choice(on, friction)
        blank = {"kymogram": empty_figure("", 420), "trajectory": empty_figure("", 300),
                 "graphs": HIDDEN}  # fmt: skip
        if friction is None or not result:
            return {"store": _body_placeholder(), **blank, "verdict": ""}
        try:
            request = Request.from_json(result["request"], circuit)
            return {**_body_panels(request, friction, result["run"]), "graphs": SHOWN}
        except FormError as err:
            message = "The body cannot be driven: " + "; ".join(err.errors.values())
        except WormlabError as err:
            message = f"The body cannot be shown: {err}"
        except Exception:  # the page must never show a traceback
            log.exception("simulate: unexpected error while driving the body")
            message = "An unexpected error stopped the body (logged on the server)."
        return {"store": _body_placeholder(message), **blank,
                "verdict": html.Div(message, className="wl-message wl-error")}  # fmt: skip

    app.clientside_callback(
        ClientsideFunction(namespace="wormlab_simulate", function_name="bodyPose"),
        Output("simulate-body-posture", "figure"),
        Output("simulate-body-time", "children"),
        Input("simulate-slider", "value"),
        Input("simulate-body", "data"),
        State("simulate-frames", "data"),
    )

    @app.callback(
        Output("simulate-traces", "figure", allow_duplicate=True),
        Output("simulate-traces-drawn", "data", allow_duplicate=True),
        Input("simulate-trace-pick", "value"),
        Input("simulate-trace-layout", "value"),
        Input("simulate-trace-ref", "value"),
        State("simulate-traces-drawn", "data"),
        State("simulate-result", "data"),
        State("store-circuit", "data"),
        prevent_initial_call=True,
    )
    def _pick_traces(names, how, ref, drawn, result, circuit):
        if not result or names is None:
            raise PreventUpdate
        want = {"run": result["run"], "names": names, "layout": how, "ref": ref}
        if drawn == want:
            raise PreventUpdate
        try:
            request = Request.from_json(result["request"], circuit)
            res = simulated(request)
            fig = _traces(res, request, names, result["stimulated"], result["run"], how, ref)
        except WormlabError as err:
            return empty_figure(str(err), 340), None
        return fig, want

    @app.callback(
        Output("simulate-download", "data"),
        Output("simulate-csv-msg", "children"),
        Input("simulate-csv", "n_clicks"),
        Input("simulate-csv-summary", "n_clicks"),
        State("simulate-result", "data"),
        State("store-circuit", "data"),
        prevent_initial_call=True,
    )
    def _download(_a, _b, result, circuit):
        if not result:
            return no_update, "Run a simulation first."
        try:
            request = Request.from_json(result["request"], circuit)
            res = simulated(request)
        except WormlabError as err:
            return no_update, str(err)
        if ctx.triggered_id == "simulate-csv-summary":
            return {"content": summary_csv(res, request), "filename": "wormlab-responses.csv"}, ""
        return {"content": traces_csv(res), "filename": "wormlab-traces.csv"}, ""


def _screen_callbacks(app):
    """The Screen panel's callbacks (the job and its helpers are in :mod:`webapp.screening`)."""
    shown, hidden = {"display": "block"}, {"display": "none"}

    @app.callback(
        output={
            "result": Output("simulate-screen-result", "data"),
            "msg": Output("simulate-screen-msg", "children"),
        },
        inputs={"n_run": Input("simulate-screen-run", "n_clicks")},
        state={
            **_form_states(),
            "session": State("simulate-screen-session", "data"),
            "choice": State("simulate-screen-kind", "value"),
            "start": State("simulate-screen-from", "value"),
            "stop": State("simulate-screen-to", "value"),
            "count": State("simulate-screen-count", "value"),
        },
        background=True,
        progress=[
            Output("simulate-screen-progress", "value"),
            Output("simulate-screen-progress", "max"),
            Output("simulate-screen-progress-text", "children"),
        ],
        running=[
            (Output("simulate-screen-run", "disabled"), True, False),
            (Output("simulate-screen-cancel", "disabled"), False, True),
        ],
        interval=300,
        prevent_initial_call=True,
    )
    def _screen(set_progress, n_run, session, choice, start, stop, count, **s):
        if not n_run:
            raise PreventUpdate
        try:
            choices = panel_choices(choice, start, stop, count)
            request = _form_request(s, {})
            stop_file = stop_path(app_folder(app), job_id(session, n_run))
        except FormError as err:
            fields = ", ".join(sorted(err.errors))
            return {"result": no_update, "msg": ui.error(f"Fix the form first ({fields}).")}
        except WormlabError as err:
            return {"result": no_update, "msg": ui.error(str(err))}
        set_progress((0, 100, "starting the screen"))
        try:
            out = start_screen(
                request,
                lambda msg: set_progress((int(100 * msg["fraction"]), 100, msg["text"])),
                stop_file,
                **choices,
            )
        except WormlabError as err:
            out = {"kind": "error", "text": str(err)}
        finally:
            clear_stop(stop_file)
        if out["kind"] == "error":
            return {"result": no_update, "msg": ui.error(f"The screen failed: {out['text']}")}
        note = "Done." if out["complete"] else "Cancelled: the points done so far."
        return {"result": out, "msg": ui.info(note)}

    @app.callback(
        Output("simulate-screen-msg", "children", allow_duplicate=True),
        Input("simulate-screen-cancel", "n_clicks"),
        State("simulate-screen-session", "data"),
        State("simulate-screen-run", "n_clicks"),
        prevent_initial_call=True,
    )
    def _screen_cancel(n_cancel, session, n_run):
        if not n_cancel:
            raise PreventUpdate
        try:
            request_stop(stop_path(app_folder(app), job_id(session, n_run)))
        except WormlabError as err:
            return ui.error(str(err))
        return ui.info("Cancelling: the screen stops after its current chunk of points.")

    @app.callback(
        Output("simulate-screen-ranking", "figure"),
        Output("simulate-screen-ranking", "style"),
        Output("simulate-screen-sweep", "figure"),
        Output("simulate-screen-sweep", "style"),
        Input("simulate-screen-result", "data"),
        prevent_initial_call=True,
    )
    def _screen_draw(result):
        if not result:
            raise PreventUpdate
        ranking, swept = screen_figures(result)
        return (
            ranking or no_update, shown if ranking else hidden,
            swept or no_update, shown if swept else hidden,
        )  # fmt: skip

    @app.callback(
        Output("simulate-screen-download", "data"),
        Output("simulate-screen-msg", "children", allow_duplicate=True),
        Input("simulate-screen-csv", "n_clicks"),
        State("simulate-screen-result", "data"),
        prevent_initial_call=True,
    )
    def _screen_download(n_clicks, result):
        if not n_clicks:
            raise PreventUpdate
        if not result:
            return no_update, ui.error("Run a screen first.")
        text = screen_csv(table_from_store(result["table"]))
        name = "wormlab-screen.csv" if result["axis"] == "ablate" else "wormlab-sweep.csv"
        return {"content": text, "filename": name}, no_update


def _failed(err):
    """The status line of a run that ``err`` stopped (an unexpected error is logged)."""
    if isinstance(err, WormlabError):
        return html.Div(f"The simulation failed: {err}", className="wl-message wl-error")
    log.error("simulate: unexpected error", exc_info=err)
    return html.Div(
        "An unexpected error stopped the simulation (logged on the server).",
        className="wl-message wl-error",
    )


def _form_states():
    """The ``State`` of every form field a run (or a screen) reads, keyed as
    :func:`_form_request` expects."""
    return {
        "source": State("simulate-source", "value"),
        "dataset": State("simulate-dataset", "value"),
        "circuit": State("store-circuit", "data"),
        "model": State("simulate-model", "value"),
        "param_ids": State({"type": "simulate-param", "key": ALL}, "id"),
        "params": State({"type": "simulate-param", "key": ALL}, "value"),
        "target_ids": State({"type": "simulate-stim-target", "index": ALL}, "id"),
        "targets": State({"type": "simulate-stim-target", "index": ALL}, "value"),
        "kinds": State({"type": "simulate-stim-kind", "index": ALL}, "value"),
        "par_ids": State({"type": "simulate-stim-par", "index": ALL, "key": ALL}, "id"),
        "pars": State({"type": "simulate-stim-par", "index": ALL, "key": ALL}, "value"),
        "err_ids": State({"type": "simulate-stim-err", "index": ALL, "key": ALL}, "id"),
        "param_err_ids": State({"type": "simulate-param-err", "key": ALL}, "id"),
        "ablate": State("simulate-ablate", "value"),
        "duration": State("simulate-duration", "value"),
        "dt": State("simulate-dt", "value"),
        "record": State("simulate-record", "value"),
    }


def _form_request(s, errors):
    """The checked :class:`Request` of the form state ``s`` (raises FormError)."""
    param_values = {i["key"]: v for i, v in zip(s["param_ids"], s["params"], strict=True)}
    rows = _rows_to_form(s["target_ids"], s["targets"], s["kinds"], s["par_ids"], s["pars"])
    try:
        source = source_text(s["source"], s["dataset"], s["circuit"])
    except WormlabError as err:
        source, errors["source"] = None, str(err)
    try:
        form = read_form(
            s["model"], param_values, rows, s["ablate"], s["duration"], s["dt"], s["record"]
        )
    except FormError as err:
        # report unknown names together with the other problems
        names = check_names(source, rows, s["ablate"]) if source else {}
        raise FormError({**names, **errors, **err.errors}) from err
    if source is None:
        raise FormError(errors)
    return check_request(source, form)


def _run_request(s, errors):
    """The run callback's work: parse, check, then simulate and draw the traces (a long run
    is handed to the background job instead: ``{"job": ...}``)."""
    request = _form_request(s, errors)
    view = {"layout": s["layout"], "set": s["trace_set"], "ref": s["trace_ref"]}
    body = _body_choice(s.get("body_on"), s.get("friction"))
    if body is not None:
        check_body(request, body)
    if is_long(request) or (body is not None and is_long_body(request)):
        job = {"request": request.to_json(), "view": view, "run": uuid.uuid4().hex}
        what = f"{request.n_steps:,} steps"
        if body is not None:
            job["body"] = body
            what += f" and the body on {body}"
        return {"_status": f"Queued {what} as a background job", "job": job}
    try:
        result = simulated(request)
    except DivergenceError as err:
        raise FormError({"dt": str(err)}) from err
    return _run_outputs(request, result, view, uuid.uuid4().hex)


def _body_choice(on, friction):
    """The friction the body is driven on (checked by :func:`webapp.simulation.check_body`),
    or None when the Body view's "drive the body" is not ticked."""
    return friction if isinstance(on, list) and "on" in on else None


def _body_panels(request, friction, run_id):
    """The Body view's outputs for ``request``'s run on ``friction``: the body store (the
    worm's frames, shown at the slider's time by ``assets/simulate.js``), the kymogram, the
    trajectory and the verdict. A long body is read from its background job's file
    (:func:`webapp.simulation.body_result`), never driven here."""
    worm = body_result(request, friction, here=not (is_long(request) or is_long_body(request)))
    figs = body_figures.body_panels(worm, {"run": run_id, "friction": friction},
                                    friction=friction)  # fmt: skip
    verdict = body_verdict(worm)
    if worm.missing:
        verdict += f" ({len(worm.missing)} mapped motor neurons are not in this circuit.)"
    return {"store": figs["posture"].to_plotly_json(), "kymogram": figs["kymogram"],
            "trajectory": figs["trajectory"], "verdict": verdict}  # fmt: skip


def _traces(result, request, names, stimulated, run_id, layout, ref):
    reference, quantity = trace_reference(result, request, ref)
    return results.traces(
        result, names, stimulated, run_id, layout != "overlaid", reference, quantity
    )


def _run_outputs(request, result, view, run_id):
    """What a finished run shows at once: the status, the result store and the traces
    (``view``: the traces' ``layout``, ``set`` and ``ref`` choices)."""
    stimulated = stimulated_neurons(result, request)
    size = response_size(result, onset_of(result, request))
    picks = cord_traces(result) if view.get("set") == "cord" else []
    picks = picks or default_traces(result.names, size, stimulated)
    layout = view.get("layout")
    units = units_of(result.model)
    status = (
        f"Simulated {request.duration:g} {units['t']} of {result.circuit.n} neurons "
        f"({request.model}, dt {request.dt:g}, {request.n_steps:,} steps)"
    )
    return {
        "_status": status,
        "result": {
            "run": run_id,
            "request": request.to_json(),
            "stimulated": stimulated,
            "source": source_tag(request.source),
        },
        "traces": _traces(result, request, picks, stimulated, run_id, layout, view.get("ref")),
        "pick_options": list(result.names),
        "pick": picks,
        "drawn": {"run": run_id, "names": picks, "layout": layout, "ref": view.get("ref")},
        "trace_note": _volts_note(result, stimulated),
    }


def _volts_note(result, stimulated):
    """:data:`webapp.simulation.VOLTS_NOTE` when a stimulated graded neuron passes 1 V."""
    if result.model != "graded" or not stimulated:
        return ""
    big = abs(result.V[:, result.indices(stimulated)]).max() > 1000.0  # mV
    return VOLTS_NOTE if big else ""


def _result_panels(result, circuit):
    """The results callback's work: analyse a run (from the cache) and draw the rest."""
    request = Request.from_json(result["request"], circuit)
    res = simulated(request)
    info = analyse(res, request)
    heat, portrait, frames = results.run_figures(
        res, request, info, result["run"], result["source"]
    )
    units = units_of(res.model)
    period = oscillation_period(info)
    note = (
        f"The motor neurons oscillate with period {period:.3g} {units['t']}."
        if period is not None
        else "The motor neurons do not oscillate."
    )
    n_frames = len(frames["codes"])
    return {
        "heatmap": heat,
        "pca": portrait,
        "frames": frames,
        "slider_max": n_frames - 1,
        "slider": n_frames - 1,
        "key": results.colour_key(frames),
        "summary": [
            html.Div(note, id="simulate-oscillation", className="wl-note"),
            *results.summary_table(info["summary"], info["stimulated"], units["V"], units["t"]),
        ],
    }


def warm_up():
    """Get the page's first request ready: the simulation kernels and the default network
    (:func:`webapp.simulation.warm_up`)."""
    simulation.warm_up()
