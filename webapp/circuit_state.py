"""The Circuit page's state: where a circuit starts, its operations, undo, rebuild and export.

The Circuit page keeps its layout and callbacks; what it does with a user's
actions lives here, testable without a browser (as Simulate and Train keep
theirs in :mod:`webapp.simulation` and :mod:`webapp.training`).

State lives in the browser (the page's ``circuit-state``, a session
``dcc.Store``)::

    {"start": {"kind": "ops" | "upload", "label": str, "wiring": dict (uploads only)},
     "ops": [operation records as in Circuit.ops],
     "seen": the Explore selection this state already accounts for}

A state that starts from operations is rebuilt with
:meth:`connectome.Circuit.replay`; an uploaded file with
:func:`connectome.io.from_dict` and then :meth:`connectome.Circuit.apply` for
each operation, through a content-keyed cache (circuits are immutable). The
state comes back from the browser, so it is checked before it is used: a
damaged one raises :class:`~connectome.errors.CircuitError`, never a bare
``KeyError``.
"""

import functools
import json
from types import MappingProxyType

import connectome
from connectome import io as wiring_io
from connectome.errors import CircuitError, WiringFormatError, WormlabError
from webapp.uploads import decode_upload

__all__ = [
    "PRESET_LABELS",
    "EXPORTS",
    "short_list",
    "describe_op",
    "build_circuit",
    "is_new_selection",
    "state_from_preset",
    "state_from_selection",
    "state_from_upload",
    "UPLOAD_KINDS",
    "problems_in_page_words",
    "with_op",
    "undo",
    "export_file",
    "NCPS_CHOICES",
    "ncps_trained_file",
]

PRESET_LABELS = MappingProxyType(
    {
        "tap_withdrawal": "Tap withdrawal (Lechner et al. 2018)",
        "locomotion": "Locomotion command circuit",
        "chemotaxis": "Chemotaxis (ASE, AWC)",
    }
)
#: The ncps download's choice -> its label ("trained" needs a trained controller).
NCPS_CHOICES = MappingProxyType({"wiring": "wiring only", "trained": "with trained parameters"})
#: Export format -> (button label, file name ending).
EXPORTS = MappingProxyType(
    {
        "json": ("wiring JSON", "circuit.json"),
        "ncps": ("ncps config", "ncps-wiring.json"),
        "graphml": ("GraphML", "circuit.graphml"),
        "csv": ("CSV edge list", "synapses.csv"),
    }
)
_START_KINDS = ("ops", "upload")
#: File name ending -> what the upload reads it as (the page's own exports).
UPLOAD_KINDS = MappingProxyType(
    {
        ".json": "wormlab wiring JSON",
        ".graphml": "GraphML",
        ".xml": "GraphML",
        ".csv": "CSV edge list (pre, post, kind, weight[, sign])",
    }
)
#: Circuit.problems speaks the Python API; the page names its own controls instead.
_PAGE_WORDS = MappingProxyType(
    {
        "set_roles(sensory=...)": "2. Operations → Roles → Sensory, then Apply roles",
        "set_roles(motor=...)": "2. Operations → Roles → Motor, then Apply roles",
    }
)


# ------------------------------------------------------------------------ descriptions
def short_list(names, limit=8) -> str:
    """Names joined by commas, at most ``limit`` of them ("none" for no names).

    >>> short_list(["A", "B", "C"], limit=2)
    'A, B … (+1 more)'
    """
    names = list(names or [])
    if not names:
        return "none"
    more = len(names) - limit
    return ", ".join(names[:limit]) + (f" \u2026 (+{more} more)" if more > 0 else "")


def describe_op(op: dict) -> str:
    """A one-line description of a circuit operation record (``Circuit.ops`` entry).

    >>> describe_op({"op": "expand", "k": 2, "kind": None, "direction": "in"})
    'Expand by 2 hops (all synapses, direction in)'
    """
    name = op.get("op")
    kind = op.get("kind")
    kind_text = f" {kind}" if kind else ""
    if name == "from_neurons":
        unit = "classes" if op.get("level") == "class" else "neurons"
        names = op.get("neurons", [])
        return f"Start: {len(names)} {unit} of {op.get('dataset')}: {short_list(names)}"
    if name == "from_paths":
        return (
            f"Start: paths of at most {op.get('max_length')}{kind_text} synapses from "
            f"{short_list(op.get('sources'))} to {short_list(op.get('targets'))} "
            f"({op.get('dataset')})"
        )
    if name == "add":
        return f"Add {short_list(op.get('names'))}"
    if name == "ablate":
        return f"Ablate {short_list(op.get('names'))}"
    if name == "expand":
        k = op.get("k")
        hops = "hop" if k == 1 else "hops"
        what = f"{kind} synapses" if kind else "all synapses"
        return f"Expand by {k} {hops} ({what}, direction {op.get('direction')})"
    if name == "add_paths":
        return (
            f"Add paths of at most {op.get('max_length')}{kind_text} synapses from "
            f"{short_list(op.get('sources'))} to {short_list(op.get('targets'))}"
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
        return f"Make chemical synapses from {short_list(op.get('names'))} {word}"
    if name == "merge_classes":
        return "Merge neurons into classes"
    if name == "set_roles":
        parts = []
        for role in ("sensory", "motor"):
            if op.get(role) is not None:
                parts.append(f"{role} {short_list(op.get(role))}")
        return "Roles: " + "; ".join(parts)
    return f"{name}: {json.dumps({k: v for k, v in op.items() if k != 'op'})}"


# ------------------------------------------------------------------------ rebuilding
def _checked(state) -> dict:
    """``state`` if it has the shape of a page state, else a CircuitError saying what is off."""
    if not isinstance(state, dict) or "start" not in state or "ops" not in state:
        raise CircuitError("no circuit yet: start from a preset, a selection or a file")
    start, ops = state["start"], state["ops"]
    if not isinstance(start, dict) or start.get("kind") not in _START_KINDS:
        raise CircuitError(
            "the page's circuit state is damaged (start.kind must be 'ops' or 'upload'); "
            "start again from a preset, a selection or a file"
        )
    if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
        raise CircuitError(
            "the page's circuit state is damaged (ops must be a list of operation records); "
            "start again from a preset, a selection or a file"
        )
    return state


@functools.lru_cache(maxsize=32)
def _build_cached(key: str):
    state = json.loads(key)
    start, ops = state["start"], state["ops"]
    if start["kind"] == "upload":
        circuit = wiring_io.from_dict(start.get("wiring"))
        for op in ops:
            circuit = circuit.apply(op)
        return circuit
    return connectome.Circuit.replay(ops)


def build_circuit(state: dict):
    """The circuit a page state describes (content-keyed cache; circuits are immutable).

    Raises
    ------
    WormlabError
        When the state cannot be rebuilt (no state, a damaged one, an unknown neuron, a bad
        operation...).
    """
    state = _checked(state)
    key = json.dumps({"start": state["start"], "ops": state["ops"]}, sort_keys=True)
    return _build_cached(key)


# ------------------------------------------------------------------------ starting points
def is_new_selection(state, selection) -> bool:
    """Whether ``selection`` (the Explore page's) names neurons that ``state`` has not yet
    accounted for, so that the page should start from it."""
    if not isinstance(selection, dict) or not selection.get("names"):
        return False
    return not isinstance(state, dict) or selection != state.get("seen")


def state_from_preset(name: str, dataset: str = "cook2019", seen=None) -> dict:
    """A page state starting from a preset on ``dataset``.

    The start keeps the preset's name (downloads are named after it) and how many
    operations the preset itself made (``base``: undo stops there).
    """
    circuit = connectome.presets.preset(name, connectome.load(dataset))
    label = f"{PRESET_LABELS.get(name, name)} on {dataset}"
    start = {"kind": "ops", "label": label, "preset": name, "base": len(circuit.ops)}
    return {"start": start, "ops": list(circuit.ops), "seen": seen}


def state_from_selection(selection) -> dict:
    """A page state from the Explore page's selection
    ``{"dataset": key, "level": "neuron"|"class", "names": [...]}``."""
    if not isinstance(selection, dict) or not selection.get("names"):
        raise CircuitError(
            "the Explore page has no selection yet: select neurons there and press 'Use as circuit'"
        )
    dataset = selection.get("dataset") or "cook2019"
    level = selection.get("level") or "neuron"
    names = selection["names"]
    if not isinstance(names, list) or not isinstance(dataset, str):
        raise CircuitError(
            "the Explore selection is damaged (names must be a list, dataset a name); "
            "select neurons again on the Explore page"
        )
    circuit = connectome.Circuit.from_neurons(connectome.load(dataset), list(names), level=level)
    unit = "classes" if level == "class" else "neurons"
    label = f"Explore selection ({len(circuit)} {unit} of {dataset})"
    return {"start": {"kind": "ops", "label": label}, "ops": list(circuit.ops), "seen": selection}


def state_from_upload(
    contents: str, filename: str | None = None, seen=None, dataset: str = "cook2019"
) -> dict:
    """A page state from an uploaded file: what the page exports (a wormlab wiring JSON,
    GraphML, or a CSV edge list, read as a circuit of ``dataset`` since the CSV does not
    name its dataset). The ``dcc.Upload`` data URL is decoded by
    :func:`webapp.uploads.decode_upload` and read by :mod:`connectome.io`; nothing is
    unpickled or evaluated.

    Raises
    ------
    WiringFormatError
        Naming what is wrong with the file, or which files the page takes.
    """
    name = filename or "file"
    ending = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if ending not in UPLOAD_KINDS:
        raise WiringFormatError(
            f"{name!r} is not a file the page reads; it takes what it exports: "
            + ", ".join(f"{k} ({v})" for k, v in UPLOAD_KINDS.items() if k != ".xml")
        )
    raw = decode_upload(contents)
    note = ""
    if ending == ".json":
        circuit = _from_json_upload(raw)
    elif ending in (".graphml", ".xml"):
        circuit = wiring_io.from_graphml(raw)
    else:
        circuit = _from_csv_upload(raw, dataset)
        note = f", read as {circuit.dataset}; roles from neuron types"
    label = f"Uploaded {name} ({len(circuit)} neurons{note})"
    return {
        "start": {"kind": "upload", "label": label, "wiring": wiring_io.to_dict(circuit)},
        "ops": [],
        "seen": seen,
    }


def _from_json_upload(raw):
    try:
        return wiring_io.from_json(raw)
    except WiringFormatError as err:
        text = str(err)
        if "wormlab-controller" in text:
            text += " (a trained controller: evaluate it on the Train page)"
        elif _is_ncps_config(raw):
            text = (
                "this is an ncps wiring config (units, adjacency matrices): it keeps only "
                "the synapses' polarity, not their weights or the neurons' names and roles, "
                "so a circuit cannot be rebuilt from it. Upload the wiring JSON, GraphML or "
                "CSV edge list of the same circuit instead"
            )
        raise WiringFormatError(text) from err


def _is_ncps_config(raw) -> bool:
    try:
        data = json.loads(raw)
    except (ValueError, TypeError):
        return False
    return isinstance(data, dict) and {"units", "adjacency_matrix"} <= set(data)


def _from_csv_upload(raw, dataset):
    """A CSV edge list as a circuit of ``dataset``: neuron names, or class names (the
    export of a class-level circuit)."""
    try:
        return wiring_io.from_csv(raw, dataset=dataset, level="neuron")
    except WiringFormatError as err:
        try:
            return wiring_io.from_csv(raw, dataset=dataset, level="class")
        except WiringFormatError:
            raise WiringFormatError(f"{err} (read as {dataset}: choose its Dataset above)") from err


def problems_in_page_words(circuit) -> list[str]:
    """:meth:`connectome.Circuit.problems`, naming the page's controls rather than the
    Python API.

    >>> locomotion = connectome.presets.preset("locomotion", connectome.load("cook2019"))
    >>> problems_in_page_words(locomotion)[0]
    'no sensory (input) neuron: set one in 2. Operations → Roles → Sensory, then Apply roles'
    """
    out = []
    for problem in circuit.problems():
        for python, page in _PAGE_WORDS.items():
            problem = problem.replace("with " + python, "in " + page).replace(python, page)
        out.append(problem)
    return out


# ------------------------------------------------------------------------ steps
def with_op(state: dict, op: dict) -> tuple[dict, dict]:
    """The state after one more operation, and the operation as the circuit recorded it.

    ``op`` is an operation record (``{"op": "add", "names": [...]}``, see
    :data:`connectome.circuit.OPERATIONS`), carried out by :meth:`connectome.Circuit.apply`.

    Raises
    ------
    WormlabError
        When the operation cannot be carried out (the message says why), or it would
        change nothing (merging a circuit that is already at class level).
    """
    circuit = build_circuit(state)
    if op.get("op") == "add":
        there = [n for n in op.get("names", []) if _in_circuit(circuit, n)]
        if there and len(there) == len(op["names"]):
            word = "is" if len(there) == 1 else "are"
            raise CircuitError(f"{', '.join(there)} {word} already in the circuit; nothing added")
    result = circuit.apply(op)
    if result is circuit:
        raise CircuitError("the circuit is already at class level")
    if _same(result, circuit):
        raise CircuitError(f"{describe_op(dict(result.ops[-1]))} changes nothing; not recorded")
    recorded = dict(result.ops[-1])
    return dict(state, ops=[*state["ops"], recorded]), recorded


def _in_circuit(circuit, name) -> bool:
    """Whether ``name`` (a neuron or class) names only neurons already in ``circuit``."""
    try:
        return set(circuit.source.names.resolve(name)) <= set(circuit.neurons.index)
    except WormlabError:
        return False


def _same(a, b) -> bool:
    """Whether two circuits hold the same neurons, roles, signs and synapses."""
    return a.neurons.equals(b.neurons) and a.edges.reset_index(drop=True).equals(
        b.edges.reset_index(drop=True)
    )


def undo(state: dict) -> tuple[dict, dict]:
    """The state without its last operation, and that operation.

    A circuit that starts from operations keeps those it started with (a preset's own
    steps, ``start["base"]``, or the first one); an uploaded circuit can go back to the
    file as it was.

    Raises
    ------
    CircuitError
        When there is nothing to undo.
    """
    if not state:
        raise CircuitError("Nothing to undo: this is where the circuit starts.")
    state = _checked(state)
    floor = 0
    if state["start"]["kind"] == "ops":
        base = state["start"].get("base", 1)
        floor = base if isinstance(base, int) and not isinstance(base, bool) and base >= 1 else 1
    if len(state["ops"]) <= floor:
        raise CircuitError("Nothing to undo: this is where the circuit starts.")
    return dict(state, ops=state["ops"][:-1]), state["ops"][-1]


# ------------------------------------------------------------------------ export
def export_file(circuit, fmt: str, preset: str | None = None) -> dict:
    """``dcc.send_string``-style download data of ``circuit`` in ``fmt``
    (one of :data:`EXPORTS`: json, ncps, graphml, csv), named after the preset it started
    from (``tap_withdrawal-cook2019-circuit.json``), else after its dataset and first
    sensory and motor neurons.

    Raises
    ------
    WiringFormatError
        For an unknown format, or a circuit that format cannot hold (ncps needs roles).
    """
    if fmt not in EXPORTS:
        raise WiringFormatError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORTS)}")
    text = wiring_io.export(circuit, fmt)
    if preset in PRESET_LABELS:
        stem = f"{preset}-{circuit.dataset}"
    else:
        ends = "-".join(circuit.sensory[:1] + circuit.motor[:1]) or "circuit"
        stem = f"{circuit.dataset}-{ends}"
    filename = f"{stem}-{EXPORTS[fmt][1]}".lower()
    return {"content": text, "filename": filename, "type": "text/plain", "base64": False}


def ncps_trained_file(controller) -> dict:
    """``dcc.send_string``-style download data of a trained controller as an ncps LTC:
    :func:`sim.torch.ncps_to_dict` of :func:`sim.torch.to_ncps` JSON, with the neuron names
    (:func:`sim.torch.ncps_names`), read back by :func:`sim.torch.load_ncps`.

    ``controller`` is :meth:`sim.control.Controller.to_dict` data (the app's
    ``store-controller``, which the Train page fills when a run finishes).

    Raises
    ------
    WormlabError
        No controller; a damaged one (WiringFormatError); one ncps cannot hold: gap
        junctions, current drive, a difference output (ControllerError, saying which); or
        torch / ncps not installed (naming the pip extra).
    """
    from sim.control import Controller

    if not controller:
        raise WormlabError("no trained controller in this session: train one on the Train page")
    ctrl = Controller.from_dict(controller)
    try:
        from sim import torch as sim_torch  # the optional torch extra, only when asked for

        model = sim_torch.to_ncps(ctrl)
    except ImportError as err:
        raise WormlabError(
            f"the ncps download needs PyTorch and ncps ({err.name} is missing): "
            "pip install 'wormlab[torch]'"
        ) from err
    data = sim_torch.ncps_to_dict(model, names=sim_torch.ncps_names(ctrl))
    filename = f"{ctrl.env.env_id}-ncps-ltc.json".lower()
    return {"content": json.dumps(data), "filename": filename, "type": "application/json",
            "base64": False}  # fmt: skip
