"""The Circuit page: the layout and callbacks to build, check and download a circuit.

A circuit starts from a preset (tap withdrawal, locomotion, chemotaxis), from the Explore
page's selection ("store-selection") or from an uploaded wiring JSON; operations (add,
ablate, k-hop expansion, paths, thresholds, top-k inputs, class merging, signs, roles) are
kept as an ordered list that can be undone one step at a time.

The callbacks read the form into an operation record (``{"op": "expand", "k": 1, ...}``,
as in ``Circuit.ops``) and hand it to :mod:`webapp.circuit_state`, which holds the page's
state (``circuit-state``, a session ``dcc.Store``), rebuilds the circuit, undoes, decodes
uploads and exports. The circuit is written to the shared ``store-circuit`` as
:func:`connectome.io.to_dict`, which the Simulate and Train pages read.
"""

import dash_cytoscape as cyto
from dash import Input, Output, State, ctx, dcc, html, no_update

import connectome
from connectome import io as wiring_io
from connectome.errors import WormlabError
from connectome.limits import MAX_WEIGHT, check_float, shorten
from connectome.neurons import as_name_list
from webapp import circuit_state as cs
from webapp import components as ui
from webapp.figures.control import (
    ROLE_COLORS,
    circuit_elements,
    circuit_stats_figure,
    circuit_stylesheet,
    empty_figure,
)
from webapp.forms import parse_number

__all__ = ["PATH", "NAME", "ORDER", "layout", "register_callbacks"]

PATH = "/circuit"
NAME = "Circuit"
ORDER = 2

_KINDS = (
    ("all synapses", "any"),
    ("chemical", "chemical"),
    ("electrical (gap junctions)", "electrical"),
)


# ------------------------------------------------------------------------ layout
def _num(id_, value, min_, max_=None, step=1):
    """The Circuit page's number inputs: narrow, and reported on Enter or blur."""
    return ui.number(id_, value, min_, max_, step, width=80, debounce=True)


def _text(id_, placeholder, width=260):
    return dcc.Input(
        id=id_, type="text", placeholder=placeholder, debounce=False,
        style={"width": f"{width}px"},
    )  # fmt: skip


def _kind(id_):
    return dcc.Dropdown(
        id=id_,
        options=[{"label": k, "value": v} for k, v in _KINDS],
        value="any",
        clearable=False,
        style={"width": "200px"},
    )


def _op_tabs():
    tab_style = {"padding": "4px 8px", "fontSize": "13px"}
    tabs = [
        ("Neurons", [
            ui.label("Neurons or classes", _text("circuit-names", "e.g. AVA, PVC, DVA")),
            html.Div(
                [ui.button("Add", "circuit-add"), ui.button("Ablate (remove)", "circuit-ablate")]
            ),
        ]),
        ("Expand", [
            ui.label("Hops k", _num("circuit-expand-k", 1, 1, 3)),
            ui.label("Along", _kind("circuit-expand-kind")),
            ui.label("Direction", dcc.Dropdown(
                id="circuit-expand-direction", clearable=False, value="both",
                options=[{"label": "both", "value": "both"},
                         {"label": "inputs (presynaptic)", "value": "in"},
                         {"label": "outputs (postsynaptic)", "value": "out"}],
                style={"width": "190px"})),
            html.Div(ui.button("Expand", "circuit-expand")),
        ]),
        ("Paths", [
            ui.label("From (sensory set)",
                   _text("circuit-paths-from", "default: the sensory neurons", 220)),
            ui.label("To (motor set)",
                   _text("circuit-paths-to", "default: the motor neurons", 220)),
            ui.label("Max synapses", _num("circuit-paths-length", 2, 1, 4)),
            ui.label("Along", _kind("circuit-paths-kind")),
            html.Div(ui.button("Add paths", "circuit-paths")),
        ]),
        ("Prune", [
            ui.label("Chemical weight \u2265", _num("circuit-th-chemical", None, 0, step="any")),
            ui.label(
                "Electrical weight \u2265", _num("circuit-th-electrical", None, 0, step="any")
            ),
            html.Div(ui.button("Apply thresholds", "circuit-threshold")),
            html.Hr(style={"margin": "8px 0"}),
            ui.label("Top k inputs per neuron", _num("circuit-topk-k", 3, 0, 50)),
            ui.label("Among", _kind("circuit-topk-kind")),
            html.Div(ui.button("Keep top k", "circuit-topk")),
        ]),
        ("Classes & signs", [
            html.Div([ui.button("Merge into classes", "circuit-merge"),
                      html.Span(" L/R and numbered members become one node; weights add up.",
                                style={"fontSize": "12px", "color": "#495057"})]),
            html.Hr(style={"margin": "8px 0"}),
            ui.label("Presynaptic neurons", _text("circuit-sign-names", "e.g. AVA", 180)),
            ui.label("Their chemical synapses", dcc.RadioItems(
                id="circuit-sign-value", value=-1, inline=True,
                options=[{"label": " inhibitory ", "value": -1},
                         {"label": " excitatory", "value": 1}])),
            html.Div(ui.button("Set sign", "circuit-sign")),
        ]),
        ("Roles", [
            ui.label("Sensory (inputs)", dcc.Dropdown(id="circuit-role-sensory", multi=True,
                                                    style={"width": "300px"})),
            ui.label("Motor (outputs)", dcc.Dropdown(id="circuit-role-motor", multi=True,
                                                   style={"width": "300px"})),
            html.Div(ui.button("Apply roles", "circuit-roles")),
        ]),
    ]  # fmt: skip
    return dcc.Tabs(
        id="circuit-op-tabs",
        value="Neurons",
        children=[
            dcc.Tab(
                label=label,
                value=label,
                children=html.Div(body, style={"padding": "8px 2px"}),
                style=tab_style,
                selected_style={**tab_style, "fontWeight": "bold"},
            )
            for label, body in tabs
        ],
    )


def layout(**_query):
    """The Circuit page (query parameters are ignored)."""
    presets = [{"label": v, "value": k} for k, v in cs.PRESET_LABELS.items()]
    datasets = [{"label": k, "value": k} for k in connectome.datasets().index]
    legend = html.Div(
        [
            html.Span("\u25cf " + role + "  ", style={"color": color, "fontWeight": "bold"})
            for role, color in ROLE_COLORS.items()
        ]
        + [
            html.Span("  \u2192 excitatory  ", style={"color": "#009E73", "fontWeight": "bold"}),
            html.Span("\u22a3 inhibitory  ", style={"color": "#CC3311", "fontWeight": "bold"}),
            html.Span("- - gap junction", style={"color": "#E69F00", "fontWeight": "bold"}),
            html.Span("  (line width: synapse weight; click for details)",
                      className="wl-muted"),
        ],
        style={"fontSize": "12px"},
    )  # fmt: skip
    left = html.Div(
        [
            ui.card(
                "1. Start",
                html.Div(
                    [
                        ui.label(
                            "Preset",
                            dcc.Dropdown(
                                id="circuit-preset",
                                options=presets,
                                value="tap_withdrawal",
                                clearable=False,
                                style={"width": "270px"},
                            ),
                        ),
                        ui.label(
                            "Dataset",
                            dcc.Dropdown(
                                id="circuit-dataset",
                                options=datasets,
                                value="cook2019",
                                clearable=False,
                                style={"width": "150px"},
                            ),
                        ),
                    ]
                ),  # fmt: skip
                ui.button("Start from preset", "circuit-preset-load", primary=True),
                ui.button("Start from the Explore selection", "circuit-from-selection"),
                html.Div(
                    id="circuit-selection-info",
                    style={"fontSize": "12px", "color": "#495057", "marginTop": "4px"},
                ),
                dcc.Upload(
                    id="circuit-upload",
                    # no `accept` filter: a file it would drop silently gets an answer instead
                    children=html.Div(
                        [
                            "Drop a wiring JSON, GraphML or CSV edge list (the downloads "
                            "below) here or ",
                            html.A("choose a file"),
                        ]
                    ),
                    multiple=False,
                    style={
                        "border": "1px dashed #adb5bd",
                        "borderRadius": "6px",
                        "padding": "8px",
                        "textAlign": "center",
                        "marginTop": "8px",
                        "fontSize": "13px",
                        "cursor": "pointer",
                    },
                ),
                ui.status("circuit-upload-msg"),
                ui.status("circuit-start-msg"),
            ),
            ui.card("2. Operations", _op_tabs(), ui.status("circuit-op-msg")),
            ui.card(
                "Steps",
                html.Ol(
                    id="circuit-ops",
                    style={"paddingLeft": "22px", "margin": "0", "fontSize": "13px"},
                ),
                ui.button("Undo last step", "circuit-undo"),
            ),  # fmt: skip
        ],
        style={"flex": "0 0 560px", "minWidth": "0"},
    )
    right = html.Div(
        [
            ui.card(
                "Circuit",
                html.Div(id="circuit-summary", style={"fontSize": "13px", "marginBottom": "4px"}),
                html.Div(id="circuit-problems"),
                legend,
                cyto.Cytoscape(
                    id="circuit-graph",
                    elements=[],
                    layout={"name": "preset", "fit": True, "padding": 20},
                    stylesheet=circuit_stylesheet(),
                    style={"width": "100%", "height": "470px", "background": "#fcfcfd"},
                    minZoom=0.2,
                    maxZoom=2,
                ),
                html.Div(
                    id="circuit-tap-info",
                    style={"fontSize": "12px", "color": "#495057", "minHeight": "16px"},
                ),
                dcc.Graph(
                    id="circuit-stats",
                    figure=empty_figure("", 190),
                    config={"displayModeBar": False},
                    style={"height": "190px"},
                ),
            ),
            ui.card(
                "3. Download",
                html.Div(
                    [
                        ui.button(label, f"circuit-dl-{fmt}")
                        for fmt, (label, _) in cs.EXPORTS.items()
                    ]
                ),
                ui.label(
                    "ncps config",
                    dcc.RadioItems(
                        id="circuit-ncps-choice",
                        value="wiring",
                        inline=True,
                        options=[
                            {"label": f" {text} ", "value": key}
                            for key, text in cs.NCPS_CHOICES.items()
                        ],
                    ),
                ),
                ui.status("circuit-dl-msg"),
                dcc.Download(id="circuit-download"),
                html.Div(
                    dcc.Link("Train this circuit as a controller \u2192", href="/train"),
                    style={"marginTop": "8px", "fontSize": "14px"},
                ),
            ),  # fmt: skip
        ],
        style={"flex": "1 1 500px", "minWidth": "0"},
    )
    return html.Div(
        [
            dcc.Store(id="circuit-state", storage_type="session"),
            html.H2("Circuit", style={"margin": "4px 0 2px 0"}),
            html.P(
                "Build a circuit step by step: start from a preset, your Explore selection "
                "or a file, prune and extend it, set which neurons take the inputs (sensory) "
                "and give the outputs (motor), then download it or train it.",
                style={"fontSize": "13px", "color": "#495057", "marginTop": 0},
            ),
            html.Div([left, right], style={"display": "flex", "gap": "14px", "flexWrap": "wrap"}),
        ],  # fmt: skip
        id="circuit-page",
        style={"padding": "6px 12px"},
    )


# ------------------------------------------------------------------------ callbacks


def _kind_arg(value):
    return None if value in (None, "", "any") else value


def _operation(trigger, circuit, values) -> dict:
    """The operation record an operation button asks for, read from the form fields
    (raises WormlabError naming the field)."""
    if trigger in ("circuit-add", "circuit-ablate"):
        names = as_name_list(values["names"] or "")
        if not names:
            raise connectome.CircuitError("Neurons or classes: type one or more names")
        return {"op": "add" if trigger == "circuit-add" else "ablate", "names": names}
    if trigger == "circuit-expand":
        k = parse_number(values["expand_k"], "Hops k", integer=True, lo=1)
        kind = _kind_arg(values["expand_kind"])
        return {"op": "expand", "k": k, "kind": kind, "direction": values["expand_direction"]}
    if trigger == "circuit-paths":
        src = as_name_list(values["paths_from"] or "") or circuit.sensory
        dst = as_name_list(values["paths_to"] or "") or circuit.motor
        if not src:
            raise connectome.CircuitError("From: the circuit has no sensory neuron; type names")
        if not dst:
            raise connectome.CircuitError("To: the circuit has no motor neuron; type names")
        length = parse_number(values["paths_length"], "Max synapses", integer=True, lo=1)
        kind = _kind_arg(values["paths_kind"])
        return {"op": "add_paths", "sources": src, "targets": dst, "max_length": length,
                "kind": kind}  # fmt: skip
    if trigger == "circuit-threshold":
        chem, elec = values["th_chemical"], values["th_electrical"]
        if chem in (None, "") and elec in (None, ""):
            raise connectome.CircuitError("Thresholds: enter a chemical or an electrical weight")
        chem = None if chem in (None, "") else parse_number(chem, "Chemical weight", lo=0)
        elec = None if elec in (None, "") else parse_number(elec, "Electrical weight", lo=0)
        return {"op": "threshold", "chemical": chem, "electrical": elec}
    if trigger == "circuit-topk":
        k = parse_number(values["topk_k"], "Top k", integer=True, lo=0)
        return {"op": "top_k_inputs", "k": k, "kind": _kind_arg(values["topk_kind"])}
    if trigger == "circuit-merge":
        return {"op": "merge_classes"}
    if trigger == "circuit-sign":
        names = as_name_list(values["sign_names"] or "")
        if not names:
            raise connectome.CircuitError("Presynaptic neurons: type one or more names")
        return {"op": "set_sign", "names": names, "sign": values["sign_value"]}
    if trigger == "circuit-roles":
        return {"op": "set_roles", "sensory": list(values["role_sensory"] or []),
                "motor": list(values["role_motor"] or [])}  # fmt: skip
    raise connectome.CircuitError(f"unknown operation {trigger!r}")


_OP_BUTTONS = (
    "circuit-add", "circuit-ablate", "circuit-expand", "circuit-paths", "circuit-threshold",
    "circuit-topk", "circuit-merge", "circuit-sign", "circuit-roles",
)  # fmt: skip
_OP_FIELDS = (
    ("names", "circuit-names", "value"),
    ("expand_k", "circuit-expand-k", "value"),
    ("expand_kind", "circuit-expand-kind", "value"),
    ("expand_direction", "circuit-expand-direction", "value"),
    ("paths_from", "circuit-paths-from", "value"),
    ("paths_to", "circuit-paths-to", "value"),
    ("paths_length", "circuit-paths-length", "value"),
    ("paths_kind", "circuit-paths-kind", "value"),
    ("th_chemical", "circuit-th-chemical", "value"),
    ("th_electrical", "circuit-th-electrical", "value"),
    ("topk_k", "circuit-topk-k", "value"),
    ("topk_kind", "circuit-topk-kind", "value"),
    ("sign_names", "circuit-sign-names", "value"),
    ("sign_value", "circuit-sign-value", "value"),
    ("role_sensory", "circuit-role-sensory", "value"),
    ("role_motor", "circuit-role-motor", "value"),
)


def _started(state) -> str:
    return ui.info(f"Started from the {state['start']['label']}.")


def _update_state(
    trigger, state, *, selection=None, preset=None, dataset=None, upload=None, filename=None,
    fields=None,
):  # fmt: skip
    """The page state transition for one user action (``trigger``: the id of the
    component that fired, None on page load).

    Returns ``(state or no_update, start message, upload message, op message)``.
    """
    none = (no_update, "", "", "")
    dataset = dataset or "cook2019"
    try:
        if trigger is None or trigger == "store-selection":
            # page load or a new Explore selection: start from the selection when it is new
            if cs.is_new_selection(state, selection):
                new = cs.state_from_selection(selection)
                return new, _started(new), "", ""
            if state:
                cs.build_circuit(state)
                return none
            return cs.state_from_preset("tap_withdrawal", dataset, selection), "", "", ""
        if trigger == "circuit-preset-load":
            new = cs.state_from_preset(preset, dataset, selection)
            return new, _started(new), "", ""
        if trigger == "circuit-from-selection":
            new = cs.state_from_selection(selection)
            return new, _started(new), "", ""
        if trigger == "circuit-upload":
            new = cs.state_from_upload(upload, filename, selection, dataset)
            return new, "", ui.info(f"Loaded {filename}: {new['start']['label']}."), ""
    except WormlabError as err:
        if trigger == "circuit-upload":
            return no_update, "", ui.error(f"Upload {filename or ''}: {err}"), ""
        return no_update, ui.error(str(err)), "", ""
    try:
        if trigger == "circuit-undo":
            new, undone = cs.undo(state)
            return new, "", "", ui.info(f"Undid: {cs.describe_op(undone)}")
        op = _operation(trigger, cs.build_circuit(state), fields or {})
        new, done = cs.with_op(state, op)
    except WormlabError as err:
        return no_update, "", "", ui.error(str(err))
    return new, "", "", ui.info(f"Done: {cs.describe_op(done)}")


def _graph_info(node, edge, trigger):
    """The words for a tapped edge or node (their data comes back from the browser: what is
    not as the graph draws it is said, not formatted)."""
    if trigger == "circuit-graph.tapEdgeData" and edge:
        if not isinstance(edge, dict) or edge.get("kind") not in ("chemical", "electrical"):
            return ui.error(f"The tapped edge was not understood: {shorten(edge)}")
        ends = edge.get("source"), edge.get("target")
        if not all(isinstance(n, str) for n in ends):
            return ui.error(f"The tapped edge's ends must be names, got {shorten(ends)}")
        try:
            weight = check_float(edge.get("w", 0), "the tapped edge's weight", -MAX_WEIGHT,
                                 MAX_WEIGHT)  # fmt: skip
            sign = check_float(edge.get("sign", 1), "the tapped edge's sign", -1, 1)
        except WormlabError as err:
            return ui.error(str(err))
        electrical = edge["kind"] == "electrical"
        arrow = "\u2014" if electrical else "\u2192"
        sign = "" if electrical else (" excitatory" if sign > 0 else " inhibitory")
        return f"{ends[0]} {arrow} {ends[1]}: {edge['kind']}{sign}, weight {weight:g}"
    if node:
        if not isinstance(node, dict) or not isinstance(node.get("id"), str):
            return ui.error(f"The tapped node was not understood: {shorten(node)}")
        role = node.get("role", "")
        return f"{node['id']}: {role if isinstance(role, str) else ''}"
    return ""


def register_callbacks(app) -> None:
    """Attach the Circuit page's callbacks to ``app``."""

    @app.callback(
        output=dict(
            state=Output("circuit-state", "data"),
            start_msg=Output("circuit-start-msg", "children"),
            upload_msg=Output("circuit-upload-msg", "children"),
            op_msg=Output("circuit-op-msg", "children"),
            upload_clear=Output("circuit-upload", "contents"),
        ),
        inputs=dict(
            buttons=dict(
                preset=Input("circuit-preset-load", "n_clicks"),
                from_selection=Input("circuit-from-selection", "n_clicks"),
                undo=Input("circuit-undo", "n_clicks"),
                ops={b: Input(b, "n_clicks") for b in _OP_BUTTONS},
            ),
            upload=Input("circuit-upload", "contents"),
            selection=Input("store-selection", "data"),
        ),
        state=dict(
            state=State("circuit-state", "data"),
            preset=State("circuit-preset", "value"),
            dataset=State("circuit-dataset", "value"),
            filename=State("circuit-upload", "filename"),
            fields={key: State(cid, prop) for key, cid, prop in _OP_FIELDS},
        ),
    )
    def update_state(buttons, upload, selection, state, preset, dataset, filename, fields):
        del buttons  # which one fired is ctx.triggered_id
        trigger = ctx.triggered_id
        if trigger == "circuit-upload" and not upload:
            # cleared below, so that the same file can be dropped again
            return dict(state=no_update, start_msg=no_update, upload_msg=no_update,
                        op_msg=no_update, upload_clear=no_update)  # fmt: skip
        new, start_msg, upload_msg, op_msg = _update_state(
            trigger, state, selection=selection, preset=preset, dataset=dataset,
            upload=upload, filename=filename, fields=fields,
        )  # fmt: skip
        return dict(
            state=new, start_msg=start_msg, upload_msg=upload_msg, op_msg=op_msg,
            upload_clear=None if trigger == "circuit-upload" else no_update,
        )  # fmt: skip

    @app.callback(
        Output("circuit-graph", "elements"),
        Output("circuit-graph", "stylesheet"),
        Output("circuit-stats", "figure"),
        Output("circuit-summary", "children"),
        Output("circuit-problems", "children"),
        Output("circuit-ops", "children"),
        Output("circuit-role-sensory", "options"),
        Output("circuit-role-sensory", "value"),
        Output("circuit-role-motor", "options"),
        Output("circuit-role-motor", "value"),
        Output("store-circuit", "data"),
        Input("circuit-state", "data"),
    )
    def render(state):
        if not state:
            return ([], no_update, empty_figure("", 190), "No circuit yet.", "", [], [], [],
                    [], [], no_update)  # fmt: skip
        try:
            circuit = cs.build_circuit(state)
        except WormlabError as err:
            problem = html.Div(ui.error(f"This circuit cannot be rebuilt: {err}"))
            return ([], no_update, empty_figure("", 190), "", problem, [], [], [], [], [],
                    no_update)  # fmt: skip
        wiring = wiring_io.to_dict(circuit)
        s = circuit.summary()
        unit = "classes" if circuit.level == "class" else "neurons"
        summary = (
            f"{s['neurons']} {unit} of {circuit.dataset} ({s['sensory']} sensory, "
            f"{s['inter']} inter, {s['motor']} motor); {s['chemical']} chemical synapses "
            f"({s['excitatory']} excitatory, {s['inhibitory']} inhibitory), "
            f"{s['electrical']} gap junctions."
        )
        problems = cs.problems_in_page_words(circuit)
        if problems:
            warn = html.Div(
                [html.B("Cannot serve as a controller yet: "),
                 html.Ul([html.Li(p) for p in problems], style={"margin": "2px 0"})],
                id="circuit-warning",
                style={"background": "#fff3bf", "border": "1px solid #f59f00",
                       "borderRadius": "4px", "padding": "4px 8px", "fontSize": "13px",
                       "margin": "4px 0"},
            )  # fmt: skip
        else:
            warn = html.Div(
                "\u2713 Ready to serve as a controller (has inputs, outputs, one connected piece).",
                id="circuit-ok",
                style={"color": "#2b8a3e", "fontSize": "13px", "margin": "4px 0"},
            )
        items = [html.Li(state["start"]["label"], style={"color": "#495057"})]
        for i, op in enumerate(state["ops"]):
            if i == 0 and state["start"]["kind"] == "ops":
                continue  # the label above describes the starting operation
            items.append(html.Li(cs.describe_op(op)))
        options = [{"label": n, "value": n} for n in circuit.neurons.index]
        return (
            circuit_elements(circuit),
            circuit_stylesheet(circuit.neurons.index),
            circuit_stats_figure(s),
            summary,
            warn,
            items,
            options,
            circuit.sensory,
            options,
            circuit.motor,
            wiring,
        )

    @app.callback(
        output=dict(
            data=Output("circuit-download", "data"),
            message=Output("circuit-dl-msg", "children"),
        ),
        inputs=dict(clicks={fmt: Input(f"circuit-dl-{fmt}", "n_clicks") for fmt in cs.EXPORTS}),
        state=dict(
            state=State("circuit-state", "data"),
            ncps_choice=State("circuit-ncps-choice", "value"),
            controller=State("store-controller", "data"),
        ),
        prevent_initial_call=True,
    )
    def download(clicks, state, ncps_choice, controller):
        trigger = ctx.triggered_id
        if not trigger or not any(clicks.values()):
            return dict(data=no_update, message="")
        fmt = trigger.removeprefix("circuit-dl-")
        try:
            if fmt == "ncps" and ncps_choice == "trained":
                return dict(data=cs.ncps_trained_file(controller), message="")
            circuit = cs.build_circuit(state)
            data = cs.export_file(circuit, fmt, state["start"].get("preset"))
            return dict(data=data, message="")
        except WormlabError as err:
            return dict(data=no_update, message=ui.error(f"{cs.EXPORTS[fmt][0]}: {err}"))

    @app.callback(
        Output("circuit-ncps-choice", "options"),
        Input("store-controller", "data"),
    )
    def ncps_choices(controller):
        """The ncps choice "with trained parameters" only with a trained controller."""
        return [
            {"label": f" {text} ", "value": key, "disabled": key == "trained" and not controller}
            for key, text in cs.NCPS_CHOICES.items()
        ]

    @app.callback(
        Output("circuit-dataset", "value"),
        Input("store-dataset", "data"),
    )
    def follow_dataset(dataset):
        return dataset if isinstance(dataset, str) and dataset else no_update

    @app.callback(
        Output("circuit-selection-info", "children"),
        Output("circuit-from-selection", "disabled"),
        Input("store-selection", "data"),
    )
    def selection_info(selection):
        if not isinstance(selection, dict) or not selection.get("names"):
            return "No Explore selection yet (select neurons on the Explore page).", True
        names = list(selection["names"])
        unit = "classes" if selection.get("level") == "class" else "neurons"
        return (
            f"Explore selection: {len(names)} {unit} of "
            f"{selection.get('dataset', 'cook2019')}: {cs.short_list(names, 10)}",
            False,
        )

    @app.callback(
        Output("circuit-tap-info", "children"),
        Input("circuit-graph", "tapNodeData"),
        Input("circuit-graph", "tapEdgeData"),
        prevent_initial_call=True,
    )
    def tap_info(node, edge):
        trigger = ctx.triggered[0]["prop_id"] if ctx.triggered else None
        return _graph_info(node, edge, trigger)
