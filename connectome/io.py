"""Reading and writing the files a user keeps: wiring JSON, ncps configs, GraphML, CSV.

Every importer goes through :func:`from_dict`, which validates the data and
says exactly what is wrong (the field, the bad value, the fix). Nothing is
unpickled or evaluated; files larger than :data:`MAX_BYTES` are refused.

Wiring JSON (``format = "wormlab-wiring"``, ``version = 1``)::

    {"format": "wormlab-wiring", "version": 1, "dataset": "cook2019", "level": "class",
     "neurons":  [{"name", "class", "type", "role", "sign"}, ...],     # circuit order
     "synapses": [{"pre", "post", "kind", "weight", "sign"}, ...],     # kind, pre, post order
     "operations": [{"op": "from_neurons", ...}, ...]}                 # how it was made

``weight`` is in the dataset's unit (see ``data/manifest.json``); ``sign`` is +1
(excitatory) or -1 (inhibitory) for chemical synapses and +1 for gap junctions.
A synapse's sign is what counts; a neuron's ``sign`` is its default as a
presynaptic partner, kept for reference. Export -> import -> export gives the
same bytes.
"""

import io
import json
import math

import networkx as nx
import pandas as pd

from connectome.circuit import ROLES, Circuit
from connectome.errors import UnknownDatasetError, UnknownNeuronError, WiringFormatError
from connectome.graph import EDGE_COLUMNS, load
from connectome.neurons import default_role

__all__ = [
    "FORMAT",
    "VERSION",
    "MAX_BYTES",
    "to_dict",
    "from_dict",
    "to_json",
    "from_json",
    "to_ncps",
    "to_graphml",
    "from_graphml",
    "to_csv",
    "from_csv",
    "export",
    "EXPORT_FORMATS",
]

FORMAT = "wormlab-wiring"
VERSION = 1
MAX_BYTES = 5_000_000  # bytes; the whole Cook 2019 connectome as JSON is about 1 MB
EXPORT_FORMATS = ("json", "ncps", "graphml", "csv")


# ----------------------------------------------------------------- wiring JSON
def to_dict(circuit: Circuit) -> dict:
    """The wiring of a circuit as plain JSON-ready data (see the module notes)."""
    neurons = circuit.neurons
    return {
        "format": FORMAT,
        "version": VERSION,
        "dataset": circuit.dataset,
        "level": circuit.level,
        "neurons": [
            {
                "name": name,
                "class": row["class"],
                "type": row["type"],
                "role": row["role"],
                "sign": int(row["sign"]),
            }
            for name, row in neurons.iterrows()
        ],
        "synapses": [
            {"pre": pre, "post": post, "kind": kind, "weight": float(weight), "sign": int(sign)}
            for pre, post, kind, weight, sign in circuit.edges.itertuples(index=False)
        ],
        "operations": [dict(op) for op in circuit.ops],
    }


def to_json(circuit: Circuit) -> str:
    """The wiring JSON text (stable: sorted keys, one-space indent, trailing newline)."""
    return json.dumps(to_dict(circuit), indent=1, sort_keys=True, allow_nan=False) + "\n"


def _check_size(data) -> None:
    size = len(data)
    if size > MAX_BYTES:
        raise WiringFormatError(
            f"file too large: {size:,} bytes; the limit is {MAX_BYTES:,} bytes "
            "(a wiring of the whole connectome is about 1 MB)"
        )


def from_json(text) -> Circuit:
    """Read a wiring JSON (str or bytes) back into a :class:`Circuit`.

    Raises
    ------
    WiringFormatError
        Naming the field and what is wrong with it.
    """
    _check_size(text)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            raise WiringFormatError(f"the file is not UTF-8 text ({err})") from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise WiringFormatError(
            f"not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}"
        ) from err
    return from_dict(data)


def _field(obj, key, where, types, check=None, hint=""):
    if not isinstance(obj, dict):
        raise WiringFormatError(f"{where} must be an object, got {type(obj).__name__}")
    if key not in obj:
        raise WiringFormatError(f"{where}: missing field {key!r}")
    value = obj[key]
    if not isinstance(value, types) or isinstance(value, bool) and bool not in _tuple(types):
        names = "/".join(t.__name__ for t in _tuple(types))
        raise WiringFormatError(
            f"{where}.{key} must be {names}, got {type(value).__name__} {value!r}"
        )
    if check is not None and not check(value):
        raise WiringFormatError(f"{where}.{key}: bad value {value!r}{hint}")
    return value


def _tuple(types):
    return types if isinstance(types, tuple) else (types,)


def from_dict(data) -> Circuit:
    """Validate wiring data (as in the JSON file) and build the :class:`Circuit`.

    Every neuron must exist in the named dataset at the named level; every synapse must join
    two listed neurons, with a known kind, a finite positive weight and a sign of +1 or -1.
    """
    if not isinstance(data, dict):
        raise WiringFormatError(f"the file must hold a JSON object, got {type(data).__name__}")
    fmt = _field(data, "format", "file", str)
    if fmt != FORMAT:
        raise WiringFormatError(f"file.format is {fmt!r}; expected {FORMAT!r}")
    version = _field(data, "version", "file", int)
    if version != VERSION:
        raise WiringFormatError(
            f"file.version {version} is not supported; this wormlab reads version {VERSION}"
        )
    dataset = _field(data, "dataset", "file", str)
    level = _field(
        data, "level", "file", str, lambda v: v in ("neuron", "class"), " (use 'neuron' or 'class')"
    )
    try:
        net = load(dataset)
    except UnknownDatasetError as err:
        raise WiringFormatError(f"file.dataset: {err}") from err
    source = net.to_classes() if level == "class" else net
    neurons = _field(data, "neurons", "file", list)
    if not neurons:
        raise WiringFormatError("file.neurons is empty; a circuit needs at least one neuron")
    nodes, roles = [], {}
    for i, entry in enumerate(neurons):
        where = f"neurons[{i}]"
        name = _field(entry, "name", where, str)
        role = _field(
            entry, "role", where, str, lambda v: v in ROLES, f" (roles are {', '.join(ROLES)})"
        )
        _field(entry, "sign", where, int, lambda v: v in (-1, 1), " (use 1 or -1)")
        try:
            name = source.names.canonical(name)
        except UnknownNeuronError as err:
            raise WiringFormatError(f"{where}.name: {err}") from err
        if name in roles:
            raise WiringFormatError(f"{where}.name: {name} is listed twice")
        nodes.append(name)
        roles[name] = role
    rows = []
    seen = set()
    for i, entry in enumerate(_field(data, "synapses", "file", list)):
        where = f"synapses[{i}]"
        ends = []
        for key in ("pre", "post"):
            name = _field(entry, key, where, str)
            match = [n for n in nodes if n.lower() == name.strip().lower()]
            if not match:
                raise WiringFormatError(
                    f"{where}.{key}: {name!r} is not among the file's neurons; add it to "
                    "'neurons' or remove this synapse"
                )
            ends.append(match[0])
        kind = _field(
            entry,
            "kind",
            where,
            str,
            lambda v: v in ("chemical", "electrical"),
            " (use 'chemical' or 'electrical')",
        )
        weight = _field(
            entry,
            "weight",
            where,
            (int, float),
            lambda v: math.isfinite(v) and v > 0,
            " (weights must be finite and > 0)",
        )
        sign = _field(entry, "sign", where, int, lambda v: v in (-1, 1), " (use 1 or -1)")
        pre, post = ends
        if kind == "electrical" and pre > post:
            pre, post = post, pre
        if (pre, post, kind) in seen:
            raise WiringFormatError(f"{where}: a second {kind} synapse {pre} -> {post}")
        seen.add((pre, post, kind))
        rows.append((pre, post, kind, float(weight), sign))
    ops = _field(data, "operations", "file", list)
    for i, op in enumerate(ops):
        _field(op, "op", f"operations[{i}]", str)
    edges = pd.DataFrame(rows, columns=EDGE_COLUMNS)
    return Circuit(source, nodes, roles, edges, ops)


# ------------------------------------------------------------------------ ncps
def to_ncps(circuit: Circuit) -> dict:
    """An ncps wiring config: ``ncps.wirings.Wiring.from_config(config)`` accepts it.

    ncps knows units and input features. Here the circuit's sensory neurons are the input
    features (``input_dim`` of them, in circuit order) and every other neuron is a unit, motor
    neurons first (ncps reads units ``0 .. output_dim - 1`` as its motor neurons).
    ``adjacency_matrix[i, j]`` (units x units) and ``sensory_adjacency_matrix[i, j]``
    (inputs x units) are the polarity (+1 / -1) of the chemical synapse from ``i`` to ``j``.

    What ncps cannot hold is dropped and listed under the extra key ``"wormlab"`` (ncps
    ignores it): gap junctions, synapses onto sensory neurons, and the weights (ncps trains
    its own).
    """
    sensory, motor = circuit.sensory, circuit.motor
    if not sensory or not motor:
        raise WiringFormatError(
            "an ncps wiring needs at least one sensory and one motor neuron; this circuit has "
            f"{len(sensory)} sensory and {len(motor)} motor (set roles first)"
        )
    units = motor + [n for n in circuit.neurons.index if n not in sensory and n not in motor]
    unit_at = {n: i for i, n in enumerate(units)}
    input_at = {n: i for i, n in enumerate(sensory)}
    adjacency = [[0] * len(units) for _ in units]
    sensory_adjacency = [[0] * len(units) for _ in sensory]
    dropped = {"electrical": [], "onto_sensory": []}
    for pre, post, kind, _weight, sign in circuit.edges.itertuples(index=False):
        if kind == "electrical":
            dropped["electrical"].append([pre, post])
        elif post in input_at:
            dropped["onto_sensory"].append([pre, post])
        elif pre in input_at:
            sensory_adjacency[input_at[pre]][unit_at[post]] = int(sign)
        else:
            adjacency[unit_at[pre]][unit_at[post]] = int(sign)
    return {
        "units": len(units),
        "adjacency_matrix": adjacency,
        "sensory_adjacency_matrix": sensory_adjacency,
        "input_dim": len(sensory),
        "output_dim": len(motor),
        "wormlab": {
            "dataset": circuit.dataset,
            "level": circuit.level,
            "unit_names": units,
            "input_names": sensory,
            "dropped": {
                "gap_junctions": dropped["electrical"],
                "synapses_onto_sensory_neurons": dropped["onto_sensory"],
                "weights": "ncps keeps only polarity; the dataset weights are not carried",
            },
        },
    }


# --------------------------------------------------------------------- GraphML
def to_graphml(circuit: Circuit) -> str:
    """GraphML text (networkx MultiDiGraph; gap junctions once per pair, kind="electrical")."""
    g = nx.MultiDiGraph(
        format=FORMAT,
        version=VERSION,
        dataset=circuit.dataset,
        level=circuit.level,
        operations=json.dumps(list(circuit.ops)),
    )
    for name, row in circuit.neurons.iterrows():
        g.add_node(
            name,
            **{
                "class": row["class"],
                "type": row["type"],
                "role": row["role"],
                "sign": int(row["sign"]),
            },
        )
    for pre, post, kind, weight, sign in circuit.edges.itertuples(index=False):
        g.add_edge(pre, post, key=kind, kind=kind, weight=float(weight), sign=int(sign))
    buf = io.BytesIO()
    nx.write_graphml(g, buf)
    return buf.getvalue().decode("utf-8")


def from_graphml(text) -> Circuit:
    """Read GraphML written by :func:`to_graphml` (validated like the JSON)."""
    _check_size(text)
    raw = text.encode("utf-8") if isinstance(text, str) else text
    try:
        g = nx.read_graphml(io.BytesIO(raw), force_multigraph=True)
    except Exception as err:  # networkx raises several kinds for bad XML
        raise WiringFormatError(f"not readable as GraphML: {err}") from err
    meta = g.graph
    try:
        ops = json.loads(meta.get("operations", "[]"))
    except json.JSONDecodeError as err:
        raise WiringFormatError(f"graph attribute 'operations' is not JSON: {err}") from err
    data = {
        "format": meta.get("format", FORMAT),
        "version": meta.get("version", VERSION),
        "dataset": meta.get("dataset", "cook2019"),
        "level": meta.get("level", "neuron"),
        "neurons": [{"name": n, **attrs} for n, attrs in g.nodes(data=True)],
        "synapses": [{"pre": u, "post": v, **attrs} for u, v, attrs in g.edges(data=True)],
        "operations": ops,
    }
    return from_dict(data)


# ------------------------------------------------------------------------- CSV
def to_csv(circuit: Circuit) -> str:
    """The synapses as a CSV edge list: pre, post, kind, weight, sign."""
    return circuit.edges.to_csv(index=False, lineterminator="\n")


def from_csv(text, dataset="cook2019", level="neuron") -> Circuit:
    """Read a CSV edge list (columns pre, post, kind, weight and optionally sign) as a circuit
    of ``dataset``. Its neurons are the edges' ends; roles follow neuron types."""
    _check_size(text)
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    try:
        table = pd.read_csv(io.StringIO(text), dtype={"pre": str, "post": str, "kind": str})
    except (ValueError, pd.errors.ParserError) as err:
        raise WiringFormatError(f"not readable as CSV: {err}") from err
    missing = [c for c in ("pre", "post", "kind", "weight") if c not in table.columns]
    if missing:
        raise WiringFormatError(
            f"CSV is missing column(s) {', '.join(missing)}; expected pre,post,kind,weight[,sign]"
        )
    net = load(dataset)
    source = net.to_classes() if level == "class" else net
    names = list(dict.fromkeys(list(table["pre"]) + list(table["post"])))
    try:
        canon = [source.names.canonical(n) for n in names]
    except UnknownNeuronError as err:
        raise WiringFormatError(f"CSV: {err}") from err
    signs = source.neurons["sign"]
    if "sign" not in table.columns:
        table["sign"] = [
            int(signs[source.names.canonical(p)]) if k == "chemical" else 1
            for p, k in zip(table["pre"], table["kind"], strict=True)
        ]
    data = {
        "format": FORMAT,
        "version": VERSION,
        "dataset": dataset,
        "level": level,
        "neurons": [
            {"name": n, "role": _default_role(source, n), "sign": int(signs[n])} for n in canon
        ],
        "synapses": [
            {
                "pre": r.pre,
                "post": r.post,
                "kind": r.kind,
                "weight": _number(r.weight, i),
                "sign": _number(r.sign, i),
            }
            for i, r in enumerate(table.itertuples(index=False))
        ],
        "operations": [],
    }
    return from_dict(data)


def _number(value, row):
    if isinstance(value, str):
        raise WiringFormatError(f"CSV row {row + 1}: {value!r} is not a number")
    value = float(value)
    return int(value) if value.is_integer() and abs(value) == 1 else value


def _default_role(source, name):
    return default_role(source.neurons.loc[name, "type"])


# ---------------------------------------------------------------- one entrance
def export(circuit: Circuit, fmt: str) -> str:
    """The circuit in one of :data:`EXPORT_FORMATS` as text."""
    if fmt == "json":
        return to_json(circuit)
    if fmt == "ncps":
        return json.dumps(to_ncps(circuit), indent=1) + "\n"
    if fmt == "graphml":
        return to_graphml(circuit)
    if fmt == "csv":
        return to_csv(circuit)
    raise WiringFormatError(
        f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}"
    )
