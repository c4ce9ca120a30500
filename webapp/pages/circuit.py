"""The Circuit page: build a circuit step by step, check it, and download it.

A circuit starts from a preset (tap withdrawal, locomotion, chemotaxis), from the Explore
page's selection ("store-selection") or from an uploaded wiring JSON; operations (add,
ablate, k-hop expansion, paths, thresholds, top-k inputs, class merging, signs, roles) are
kept as an ordered list that can be undone one step at a time.

State lives in the browser: ``circuit-state`` (a session ``dcc.Store``) holds::

    {"start": {"kind": "ops" | "upload", "label": str, "wiring": dict (uploads only)},
     "ops": [operation records as in Circuit.ops],
     "seen": the Explore selection this state already accounts for}

The circuit is rebuilt from it with :meth:`connectome.Circuit.replay` (or
:func:`connectome.io.from_dict` plus the operations, for an uploaded file) through a
content-keyed cache, and written to the shared ``store-circuit`` as
:func:`connectome.io.to_dict`, which the Simulate and Train pages read.
"""

import base64
import binascii
import functools
import json
from types import MappingProxyType

import dash_cytoscape as cyto
from dash import Input, Output, State, ctx, dcc, html, no_update

import connectome
from connectome import io as wiring_io
from connectome.errors import WormlabError
from connectome.neurons import as_name_list
from webapp import components as ui
from webapp.figures.control import (
    ROLE_COLORS,
    circuit_elements,
    circuit_stats_figure,
    circuit_stylesheet,
    empty_figure,
)
from webapp.forms import parse_number

__all__ = [
    "PATH",
    "NAME",
    "ORDER",
    "PRESET_LABELS",
    "layout",
    "register_callbacks",
    "parse_names",
    "describe_op",
    "build_circuit",
    "apply_op",
    "state_from_preset",
    "state_from_selection",
    "state_from_upload",
    "decode_upload",
    "export_file",
]

PATH = "/circuit"
NAME = "Circuit"
ORDER = 2

PRESET_LABELS = MappingProxyType(
    {
        "tap_withdrawal": "Tap withdrawal (Lechner et al. 2018)",
        "locomotion": "Locomotion command circuit",
        "chemotaxis": "Chemotaxis (ASE, AWC)",
    }
)
_EXPORTS = MappingProxyType(
    {
        "json": ("wiring JSON", "circuit.json"),
        "ncps": ("ncps config", "ncps-wiring.json"),
        "graphml": ("GraphML", "circuit.graphml"),
        "csv": ("CSV edge list", "synapses.csv"),
    }
)
_KINDS = (
    ("all synapses", "any"),
    ("chemical", "chemical"),
    ("electrical (gap junctions)", "electrical"),
)


# ------------------------------------------------------------------------ page helpers
def parse_names(text) -> list[str]:
    """Names typed by a user ("AVA, avb PLM") as a list; empty input gives []."""
    if not text:
        return []
    return as_name_list(str(text))


def _short(names, limit=8) -> str:
    names = list(names or [])
    if not names:
        return "none"
    more = len(names) - limit
    return ", ".join(names[:limit]) + (f" \u2026 (+{more} more)" if more > 0 else "")


def describe_op(op: dict) -> str:
    """A one-line description of a circuit operation record (``Circuit.ops`` entry)."""
    name = op.get("op")
    kind = op.get("kind")
    kind_text = f" {kind}" if kind else ""
    if name == "from_neurons":
        unit = "classes" if op.get("level") == "class" else "neurons"
        names = op.get("neurons", [])
        return f"Start: {len(names)} {unit} of {op.get('dataset')}: {_short(names)}"
    if name == "from_paths":
        return (
            f"Start: paths of at most {op.get('max_length')}{kind_text} synapses from "
            f"{_short(op.get('sources'))} to {_short(op.get('targets'))} ({op.get('dataset')})"
        )
    if name == "add":
        return f"Add {_short(op.get('names'))}"
    if name == "ablate":
        return f"Ablate {_short(op.get('names'))}"
    if name == "expand":
        k = op.get("k")
        hops = "hop" if k == 1 else "hops"
        what = f"{kind} synapses" if kind else "all synapses"
        return f"Expand by {k} {hops} ({what}, direction {op.get('direction')})"
    if name == "add_paths":
        return (
            f"Add paths of at most {op.get('max_length')}{kind_text} synapses from "
            f"{_short(op.get('sources'))} to {_short(op.get('targets'))}"
        )
    if name == "threshold":
        parts = [
            f"{k} weight \u2265 {op[k]:g}"
            for k in ("chemical", "electrical")
            if op.get(k) is not None
        ]
        return "Threshold: keep " + (" and ".join(parts) if parts else "everything")
    if name == "top_k_inputs":
        what = f"{kind} inputs" if kind else "inputs"
        return f"Keep each neuron's {op.get('k')} heaviest {what}"
    if name == "set_sign":
        word = "excitatory" if op.get("sign", 1) > 0 else "inhibitory"
        return f"Make chemical synapses from {_short(op.get('names'))} {word}"
    if name == "merge_classes":
        return "Merge neurons into classes"
    if name == "set_roles":
        parts = []
        for role in ("sensory", "motor"):
            if op.get(role) is not None:
                parts.append(f"{role} {_short(op.get(role))}")
        return "Roles: " + "; ".join(parts)
    return f"{name}: {json.dumps({k: v for k, v in op.items() if k != 'op'})}"


def apply_op(circuit, op: dict):
    """Apply one recorded operation (not a constructor) to ``circuit``."""
    args = dict(op)
    name = args.pop("op", None)
    if name not in (
        "add", "expand", "add_paths", "ablate", "threshold", "top_k_inputs", "set_sign",
        "merge_classes", "set_roles",
    ):  # fmt: skip
        raise connectome.CircuitError(f"unknown circuit operation {name!r}")
    return getattr(circuit, name)(**args)


@functools.lru_cache(maxsize=32)
def _build_cached(key: str):
    state = json.loads(key)
    start, ops = state["start"], state["ops"]
    if start["kind"] == "upload":
        circuit = wiring_io.from_dict(start["wiring"])
        for op in ops:
            circuit = apply_op(circuit, op)
        return circuit
    return connectome.Circuit.replay(ops)


def build_circuit(state: dict):
    """The circuit a page state describes (content-keyed cache; circuits are immutable).

    Raises
    ------
    WormlabError
        When the state cannot be rebuilt (unknown neuron, bad operation...).
    """
    if not isinstance(state, dict) or "start" not in state or "ops" not in state:
        raise connectome.CircuitError("no circuit yet: start from a preset, a selection or a file")
    key = json.dumps({"start": state["start"], "ops": state["ops"]}, sort_keys=True)
    return _build_cached(key)


def state_from_preset(name: str, dataset: str = "cook2019", seen=None) -> dict:
    """A page state starting from a preset on ``dataset``."""
    circuit = connectome.presets.preset(name, connectome.load(dataset))
    label = f"{PRESET_LABELS.get(name, name)} on {dataset}"
    return {"start": {"kind": "ops", "label": label}, "ops": list(circuit.ops), "seen": seen}


def state_from_selection(selection) -> dict:
    """A page state from the Explore page's selection
    ``{"dataset": key, "level": "neuron"|"class", "names": [...]}``."""
    if not isinstance(selection, dict) or not selection.get("names"):
        raise connectome.CircuitError(
            "the Explore page has no selection yet: select neurons there and press 'Use as circuit'"
        )
    dataset = selection.get("dataset") or "cook2019"
    level = selection.get("level") or "neuron"
    circuit = connectome.Circuit.from_neurons(
        connectome.load(dataset), list(selection["names"]), level=level
    )
    unit = "classes" if level == "class" else "neurons"
    label = f"Explore selection ({len(circuit)} {unit} of {dataset})"
    return {"start": {"kind": "ops", "label": label}, "ops": list(circuit.ops), "seen": selection}


def decode_upload(contents: str, filename: str | None = None) -> bytes:
    """The bytes of a ``dcc.Upload`` data URL, refusing files over
    :data:`connectome.io.MAX_BYTES`.

    Raises
    ------
    WiringFormatError
        Not a data URL, not base64, or too large.
    """
    if not isinstance(contents, str) or "," not in contents:
        raise connectome.WiringFormatError("the upload is empty or not a file")
    _header, _, payload = contents.partition(",")
    # base64 is 4/3 the size: refuse before decoding a huge payload
    if len(payload) * 3 // 4 > wiring_io.MAX_BYTES + 3:
        raise connectome.WiringFormatError(
            f"file too large: about {len(payload) * 3 // 4:,} bytes; the limit is "
            f"{wiring_io.MAX_BYTES:,} bytes"
        )
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as err:
        raise connectome.WiringFormatError(f"the upload could not be decoded ({err})") from err


def state_from_upload(contents: str, filename: str | None = None, seen=None) -> dict:
    """A page state from an uploaded wiring JSON (validated by
    :func:`connectome.io.from_json`; nothing is unpickled or evaluated)."""
    raw = decode_upload(contents, filename)
    try:
        circuit = wiring_io.from_json(raw)
    except connectome.WiringFormatError as err:
        text = str(err)
        if "wormlab-controller" in text:
            text += " (a trained controller: evaluate it on the Train page)"
        raise connectome.WiringFormatError(text) from err
    label = f"Uploaded {filename or 'file'} ({len(circuit)} neurons)"
    return {
        "start": {"kind": "upload", "label": label, "wiring": wiring_io.to_dict(circuit)},
        "ops": [],
        "seen": seen,
    }


def export_file(circuit, fmt: str) -> dict:
    """``dcc.send_string``-style download data of ``circuit`` in ``fmt``
    (json, ncps, graphml, csv)."""
    if fmt not in _EXPORTS:
        raise ValueError(f"unknown export format {fmt!r}")
    text = wiring_io.export(circuit, fmt)
    stem = f"{circuit.dataset}-{'-'.join(circuit.sensory[:1] + circuit.motor[:1]) or 'circuit'}"
    filename = f"{stem}-{_EXPORTS[fmt][1]}".lower()
    return {"content": text, "filename": filename, "type": "text/plain", "base64": False}


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
    presets = [{"label": v, "value": k} for k, v in PRESET_LABELS.items()]
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
                    children=html.Div(["Drop a wiring JSON here or ", html.A("choose a file")]),
                    accept=".json,application/json",
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
                    [ui.button(label, f"circuit-dl-{fmt}") for fmt, (label, _) in _EXPORTS.items()]
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


def _operation(trigger, circuit, values):
    """The new circuit for an operation button (raises WormlabError/ValueError)."""
    if trigger in ("circuit-add", "circuit-ablate"):
        names = parse_names(values["names"])
        if not names:
            raise connectome.CircuitError("Neurons or classes: type one or more names")
        return circuit.add(names) if trigger == "circuit-add" else circuit.ablate(names)
    if trigger == "circuit-expand":
        k = parse_number(values["expand_k"], "Hops k", integer=True, lo=1)
        return circuit.expand(k, _kind_arg(values["expand_kind"]), values["expand_direction"])
    if trigger == "circuit-paths":
        src = parse_names(values["paths_from"]) or circuit.sensory
        dst = parse_names(values["paths_to"]) or circuit.motor
        if not src:
            raise connectome.CircuitError("From: the circuit has no sensory neuron; type names")
        if not dst:
            raise connectome.CircuitError("To: the circuit has no motor neuron; type names")
        length = parse_number(values["paths_length"], "Max synapses", integer=True, lo=1)
        return circuit.add_paths(src, dst, length, _kind_arg(values["paths_kind"]))
    if trigger == "circuit-threshold":
        chem, elec = values["th_chemical"], values["th_electrical"]
        if chem in (None, "") and elec in (None, ""):
            raise connectome.CircuitError("Thresholds: enter a chemical or an electrical weight")
        chem = None if chem in (None, "") else parse_number(chem, "Chemical weight", lo=0)
        elec = None if elec in (None, "") else parse_number(elec, "Electrical weight", lo=0)
        return circuit.threshold(chemical=chem, electrical=elec)
    if trigger == "circuit-topk":
        k = parse_number(values["topk_k"], "Top k", integer=True, lo=0)
        return circuit.top_k_inputs(k, _kind_arg(values["topk_kind"]))
    if trigger == "circuit-merge":
        merged = circuit.merge_classes()
        if merged is circuit:
            raise connectome.CircuitError("the circuit is already at class level")
        return merged
    if trigger == "circuit-sign":
        names = parse_names(values["sign_names"])
        if not names:
            raise connectome.CircuitError("Presynaptic neurons: type one or more names")
        return circuit.set_sign(names, int(values["sign_value"]))
    if trigger == "circuit-roles":
        return circuit.set_roles(
            sensory=list(values["role_sensory"] or []), motor=list(values["role_motor"] or [])
        )
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


def _update_state(trigger, state, selection, preset, dataset, upload, filename, values):
    """The page state transition for one user action.

    Returns ``(state or no_update, start message, upload message, op message)``.
    """
    none = (no_update, "", "", "")
    try:
        if trigger is None or trigger == "store-selection":
            # page load or a new Explore selection: start from the selection when it is new
            fresh = (
                selection
                and selection.get("names")
                and (not state or selection != state.get("seen"))
            )
            if fresh:
                new = state_from_selection(selection)
                return new, ui.info(f"Started from the {new['start']['label']}."), "", ""
            if state:
                build_circuit(state)
                return none
            return state_from_preset("tap_withdrawal", dataset or "cook2019", selection), "", "", ""
        if trigger == "circuit-preset-load":
            new = state_from_preset(preset, dataset or "cook2019", selection)
            return new, ui.info(f"Started from the {new['start']['label']}."), "", ""
        if trigger == "circuit-from-selection":
            new = state_from_selection(selection)
            return new, ui.info(f"Started from the {new['start']['label']}."), "", ""
        if trigger == "circuit-upload":
            new = state_from_upload(upload, filename, selection)
            return new, "", ui.info(f"Loaded {filename}: {new['start']['label']}."), ""
    except (WormlabError, ValueError, TypeError) as err:
        where = 2 if trigger == "circuit-upload" else 1
        out = ["", "", ""]
        prefix = f"Upload {filename or ''}: " if where == 2 else ""
        out[where - 1] = ui.error(prefix + str(err))
        return (no_update, *out)
    if trigger == "circuit-undo":
        floor = 1 if state and state["start"]["kind"] == "ops" else 0
        if not state or len(state["ops"]) <= floor:
            return no_update, "", "", ui.error("Nothing to undo: this is where the circuit starts.")
        undone = state["ops"][-1]
        new = dict(state, ops=state["ops"][:-1])
        return new, "", "", ui.info(f"Undid: {describe_op(undone)}")
    try:
        circuit = build_circuit(state)
        result = _operation(trigger, circuit, values)
    except (WormlabError, ValueError, TypeError) as err:
        return no_update, "", "", ui.error(str(err))
    new = dict(state, ops=[*state["ops"], dict(result.ops[-1])])
    return new, "", "", ui.info(f"Done: {describe_op(result.ops[-1])}")


def _graph_info(node, edge, trigger):
    if trigger == "circuit-graph.tapEdgeData" and edge:
        arrow = "\u2014" if edge.get("kind") == "electrical" else "\u2192"
        sign = "" if edge.get("kind") == "electrical" else (
            " excitatory" if edge.get("sign", 1) > 0 else " inhibitory"
        )  # fmt: skip
        return (
            f"{edge['source']} {arrow} {edge['target']}: {edge['kind']}{sign}, weight "
            f"{edge.get('w', 0):g}"
        )
    if node:
        return f"{node['id']}: {node.get('role', '')}"
    return ""


def register_callbacks(app) -> None:
    """Attach the Circuit page's callbacks to ``app``."""

    @app.callback(
        Output("circuit-state", "data"),
        Output("circuit-start-msg", "children"),
        Output("circuit-upload-msg", "children"),
        Output("circuit-op-msg", "children"),
        Output("circuit-upload", "contents"),
        Input("circuit-preset-load", "n_clicks"),
        Input("circuit-from-selection", "n_clicks"),
        Input("circuit-upload", "contents"),
        Input("circuit-undo", "n_clicks"),
        *[Input(b, "n_clicks") for b in _OP_BUTTONS],
        Input("store-selection", "data"),
        State("circuit-state", "data"),
        State("circuit-preset", "value"),
        State("circuit-dataset", "value"),
        State("circuit-upload", "filename"),
        *[State(cid, prop) for _, cid, prop in _OP_FIELDS],
    )
    def update_state(*args):
        n_in = 4 + len(_OP_BUTTONS) + 1
        upload = args[2]
        selection = args[n_in - 1]
        state, preset, dataset, filename, *fields = args[n_in:]
        values = dict(zip((k for k, _, _ in _OP_FIELDS), fields, strict=True))
        trigger = ctx.triggered_id
        if trigger == "circuit-upload" and not upload:
            # cleared below, so that the same file can be dropped again
            return no_update, no_update, no_update, no_update, no_update
        out = _update_state(trigger, state, selection, preset, dataset, upload, filename, values)
        return (*out, None if trigger == "circuit-upload" else no_update)

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
            circuit = build_circuit(state)
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
        problems = circuit.problems()
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
            items.append(html.Li(describe_op(op)))
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
        Output("circuit-download", "data"),
        Output("circuit-dl-msg", "children"),
        *[Input(f"circuit-dl-{fmt}", "n_clicks") for fmt in _EXPORTS],
        State("circuit-state", "data"),
        prevent_initial_call=True,
    )
    def download(*args):
        state = args[-1]
        trigger = ctx.triggered_id
        if not trigger or not any(args[:-1]):
            return no_update, ""
        fmt = trigger.removeprefix("circuit-dl-")
        try:
            return export_file(build_circuit(state), fmt), ""
        except (WormlabError, ValueError) as err:
            return no_update, ui.error(f"{_EXPORTS[fmt][0]}: {err}")

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
            f"{selection.get('dataset', 'cook2019')}: {_short(names, 10)}",
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
