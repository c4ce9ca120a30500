"""Reading and writing the files a user keeps: wiring JSON, ncps configs, GraphML, CSV.

Every importer goes through :func:`from_dict`, which validates the data and
says exactly what is wrong (the field, the bad value, the fix). Nothing is
unpickled or evaluated. Every reader applies the bounds of :mod:`connectome.limits` before
any work: files larger than :data:`MAX_BYTES`, JSON nested deeper than ``MAX_JSON_DEPTH``,
integers longer than ``MAX_INT_DIGITS`` digits, ``NaN``/``Infinity``, bytes that are not UTF-8,
more than ``MAX_NEURONS`` neurons or ``MAX_SYNAPSES`` synapses and weights outside
``0 < w <= MAX_WEIGHT`` are each refused with a :class:`WiringFormatError` that names the
field. :func:`read_bytes` (a file, read no further than the limit) and :func:`parse_json` (the
bounded JSON reader) are shared with the other file readers (controllers, checkpoints).

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
import re
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from connectome import limits
from connectome.circuit import ROLES, Circuit
from connectome.errors import UnknownDatasetError, UnknownNeuronError, WiringFormatError
from connectome.graph import EDGE_COLUMNS, load
from connectome.neurons import default_role

__all__ = [
    "FORMAT",
    "VERSION",
    "MAX_BYTES",
    "parse_json",
    "read_bytes",
    "to_dict",
    "from_dict",
    "to_json",
    "from_json",
    "to_ncps",
    "NcpWiring",
    "from_ncps",
    "to_graphml",
    "from_graphml",
    "to_csv",
    "from_csv",
    "export",
    "EXPORT_FORMATS",
]

FORMAT = "wormlab-wiring"
VERSION = 1
MAX_BYTES = limits.MAX_FILE_BYTES  # bytes; the whole Cook 2019 connectome as JSON is about 1 MB
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


def _check_size(data, max_bytes=MAX_BYTES) -> None:
    if not isinstance(data, str | bytes | bytearray):
        raise WiringFormatError(f"expected the file's text or bytes, got {type(data).__name__}")
    size = len(data)
    if size > max_bytes:
        raise WiringFormatError(
            f"file too large: {size:,} bytes; the limit is {max_bytes:,} bytes "
            "(a wiring of the whole connectome is about 1 MB)"
        )


def read_bytes(path, max_bytes=MAX_BYTES) -> bytes:
    """The bytes of the file at ``path``, at most ``max_bytes`` of them (``MAX_FILE_BYTES``;
    training checkpoints have their own bound): read no further, so ``/dev/zero`` or a 20 GB
    file is refused after reading just past the limit.

    Raises
    ------
    WiringFormatError
        The file is larger than the limit, or cannot be read (missing, a folder, no
        permission); the message names the path.
    """
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as err:
        raise WiringFormatError(
            f"cannot read {limits.shorten(str(path))}: {err.strerror or err}"
        ) from err
    if len(data) > max_bytes:
        raise WiringFormatError(
            f"{limits.shorten(str(path))} is larger than the limit of {max_bytes:,} bytes (the "
            "whole connectome as wiring JSON is about 1 MB)"
        )
    return data


def _utf8(data) -> str:
    if isinstance(data, str):
        return data
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as err:
        raise WiringFormatError(
            f"the file is not UTF-8 text: byte {err.object[err.start]:#04x} at offset "
            f"{err.start:,} ({err.reason}); save it as UTF-8"
        ) from err


def _outside_strings(raw: bytes) -> np.ndarray:
    """The bytes of JSON text that lie outside its strings (closing quotes kept), as uint8.

    Escapes go first (``\\\\``, then ``\\"``); the quotes left then pair up. On any
    valid prefix this reads the text as the json module does, so a bound found here bounds
    what json's parser meets (its recursion depth, its number lengths).
    """
    raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    b = np.frombuffer(raw, dtype=np.uint8)
    inside = np.bitwise_xor.accumulate(b == ord('"'))  # from an opening quote to its closing one
    return b[~inside]


def _json_depth(outside: np.ndarray) -> int:
    """The deepest nesting of arrays and objects, without recursion: the running count of
    opening minus closing brackets (outside strings)."""
    opening = (outside == ord("[")) | (outside == ord("{"))
    closing = (outside == ord("]")) | (outside == ord("}"))
    steps = opening[opening | closing].astype(np.int32) * 2 - 1
    return int(np.cumsum(steps).max()) if steps.size else 0


_LONG_NUMBER = re.compile(rb"\d{%d,}" % (limits.MAX_INT_DIGITS + 1))


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise WiringFormatError(
            f"the number {limits.shorten(text)} is beyond the range of a float; give a finite "
            "number"
        )
    return value


def _parse_constant(name: str):
    raise WiringFormatError(f"{name} is not a number wormlab reads; give a finite number")


def parse_json(data, what: str = "the file", max_bytes=MAX_BYTES):
    """Parse JSON text or bytes within the bounds of :mod:`connectome.limits`.

    Refused with a :class:`WiringFormatError` naming ``what``: more than
    ``max_bytes`` bytes (``MAX_FILE_BYTES``), bytes that are not UTF-8, nesting deeper than
    ``MAX_JSON_DEPTH`` (checked before parsing, without recursion), integers longer than
    ``MAX_INT_DIGITS`` digits, ``NaN`` / ``Infinity``, and anything that is not JSON.

    >>> parse_json('{"a": [1, 2.5]}')
    {'a': [1, 2.5]}
    >>> parse_json("[" * 100 + "]" * 100)
    Traceback (most recent call last):
    ...
    connectome.errors.WiringFormatError: the file is nested 100 levels deep; the limit is 64
    """
    _check_size(data, max_bytes)
    text = _utf8(data)
    raw = text.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    _check_size(raw, max_bytes)
    outside = _outside_strings(raw)
    depth = _json_depth(outside)
    if depth > limits.MAX_JSON_DEPTH:
        raise WiringFormatError(
            f"{what} is nested {depth:,} levels deep; the limit is {limits.MAX_JSON_DEPTH}"
        )
    long = _LONG_NUMBER.search(outside.tobytes())
    if long:
        raise WiringFormatError(
            f"{what} holds a number of {len(long[0]):,} digits; numbers in wormlab files have "
            f"at most {limits.MAX_INT_DIGITS} digits"
        )
    try:
        return json.loads(text, parse_float=_parse_float, parse_constant=_parse_constant)
    except WiringFormatError as err:  # a number the parser hooks refused: name the file
        raise WiringFormatError(f"{what}: {err}") from None
    except json.JSONDecodeError as err:
        raise WiringFormatError(
            f"{what} is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}"
        ) from err
    except (ValueError, RecursionError) as err:  # a bound the checks above did not foresee
        raise WiringFormatError(f"{what} is not readable JSON: {err}") from err


def from_json(text) -> Circuit:
    """Read a wiring JSON (str or bytes) back into a :class:`Circuit`.

    Raises
    ------
    WiringFormatError
        Naming the field and what is wrong with it (see :func:`parse_json` for the bounds).
    """
    return from_dict(parse_json(text))


def _field(obj, key, where, types, check=None, hint=""):
    if not isinstance(obj, dict):
        raise WiringFormatError(f"{where} must be an object, got {type(obj).__name__}")
    if key not in obj:
        raise WiringFormatError(f"{where}: missing field {key!r}")
    value = obj[key]
    if not isinstance(value, types) or isinstance(value, bool) and bool not in _tuple(types):
        names = "/".join(t.__name__ for t in _tuple(types))
        raise WiringFormatError(
            f"{where}.{key} must be {names}, got {type(value).__name__} {limits.shorten(value)}"
        )
    if check is not None and not check(value):
        raise WiringFormatError(f"{where}.{key}: bad value {limits.shorten(value)}{hint}")
    return value


def _tuple(types):
    return types if isinstance(types, tuple) else (types,)


def _list(data, key, most, what):
    """``data[key]``, a list of at most ``most`` entries."""
    entries = _field(data, key, "file", list)
    if len(entries) > most:
        raise WiringFormatError(
            f"file.{key} has {len(entries):,} entries; the limit is {most:,} {what}"
        )
    return entries


def _check_depth(value, where) -> None:
    """Refuse data nested deeper than ``MAX_JSON_DEPTH`` (data handed over as Python objects,
    e.g. a store coming back from the browser), without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limits.MAX_JSON_DEPTH:
            raise WiringFormatError(
                f"{where} is nested more than {limits.MAX_JSON_DEPTH} levels deep"
            )
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list | tuple):
            stack.extend((v, depth + 1) for v in item)


def _weight(value) -> bool:
    return math.isfinite(value) and 0 < value <= limits.MAX_WEIGHT


def from_dict(data) -> Circuit:
    """Validate wiring data (as in the JSON file) and build the :class:`Circuit`.

    Every neuron must exist in the named dataset at the named level; every synapse must join
    two listed neurons, with a known kind, a finite positive weight of at most
    ``MAX_WEIGHT`` and a sign of +1 or -1. Files hold at most ``MAX_NEURONS`` neurons,
    ``MAX_SYNAPSES`` synapses and ``MAX_OPERATIONS`` operations (:mod:`connectome.limits`).
    """
    if not isinstance(data, dict):
        raise WiringFormatError(f"the file must hold a JSON object, got {type(data).__name__}")
    fmt = _field(data, "format", "file", str)
    if fmt != FORMAT:
        raise WiringFormatError(f"file.format is {limits.shorten(fmt)}; expected {FORMAT!r}")
    version = _field(data, "version", "file", int)
    if version != VERSION:
        raise WiringFormatError(
            f"file.version {limits.shorten(version)} is not supported; this wormlab reads "
            f"version {VERSION}"
        )
    dataset = _field(data, "dataset", "file", str)
    level = _field(
        data, "level", "file", str, lambda v: v in ("neuron", "class"), " (use 'neuron' or 'class')"
    )
    neurons = _list(data, "neurons", limits.MAX_NEURONS, "neurons")
    synapses = _list(data, "synapses", limits.MAX_SYNAPSES, "synapses")
    ops = _list(data, "operations", limits.MAX_OPERATIONS, "operations")
    try:
        net = load(dataset)
    except UnknownDatasetError as err:
        raise WiringFormatError(f"file.dataset: {err}") from err
    source = net.to_classes() if level == "class" else net
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
    listed = {name.lower(): name for name in nodes}  # one look-up per synapse end
    rows = []
    seen = set()
    for i, entry in enumerate(synapses):
        where = f"synapses[{i}]"
        ends = []
        for key in ("pre", "post"):
            name = _field(entry, key, where, str)
            match = listed.get(name.strip().lower())
            if match is None:
                raise WiringFormatError(
                    f"{where}.{key}: {limits.shorten(name)} is not among the file's neurons; "
                    "add it to 'neurons' or remove this synapse"
                )
            ends.append(match)
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
            _weight,
            f" (weights must be finite, > 0 and <= {limits.MAX_WEIGHT:g})",
        )
        sign = _field(entry, "sign", where, int, lambda v: v in (-1, 1), " (use 1 or -1)")
        pre, post = ends
        if kind == "electrical" and pre > post:
            pre, post = post, pre
        if (pre, post, kind) in seen:
            raise WiringFormatError(f"{where}: a second {kind} synapse {pre} -> {post}")
        seen.add((pre, post, kind))
        rows.append((pre, post, kind, float(weight), sign))
    for i, op in enumerate(ops):
        _field(op, "op", f"operations[{i}]", str)
    _check_depth(ops, "file.operations")
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


@dataclass(frozen=True)
class NcpWiring:
    """An ncps wiring as a wormlab wiring source: neuron table (with roles) and edge table.

    Inputs are named ``s0, s1, ...`` (sensory), units ``u0, u1, ...``; units
    ``0 .. output_dim - 1`` are motor (ncps's convention), the rest inter. Every synapse has
    weight 1 (ncps keeps only polarity). :meth:`sim.control.Controller.from_circuit` and
    :func:`to_ncps` take it as they take a :class:`~connectome.circuit.Circuit`.
    """

    neurons: pd.DataFrame
    edges: pd.DataFrame
    name: str = "ncps"
    dataset: str = "ncps"
    level: str = "neuron"

    @property
    def sensory(self) -> list:
        return [x for x, r in self.neurons["role"].items() if r == "sensory"]

    @property
    def motor(self) -> list:
        return [x for x, r in self.neurons["role"].items() if r == "motor"]


def from_ncps(wiring, input_dim=None) -> NcpWiring:
    """Import an ncps wiring: an ``ncps.wirings.Wiring`` (NCP, AutoNCP, FullyConnected, ...),
    its base config (``Wiring.get_config``: units, adjacency matrices, dims), or an
    ``NCP``/``AutoNCP`` constructor config (their ``get_config()``) with ``input_dim``.

    Raises
    ------
    WiringFormatError
        A config neither form, an unbuilt wiring without ``input_dim``, or adjacency entries
        other than -1, 0, +1.
    """
    if not isinstance(wiring, dict):
        try:
            from ncps.wirings import Wiring
        except ImportError as err:
            msg = "importing an ncps wiring needs ncps: pip install ncps"
            raise WiringFormatError(msg) from err
        if not wiring.is_built():
            if input_dim is None:
                raise WiringFormatError("the ncps wiring is not built: give input_dim")
            wiring.build(int(input_dim))
        config = Wiring.get_config(wiring)
    elif "adjacency_matrix" in wiring:
        config = wiring
    elif "units" in wiring or "inter_neurons" in wiring:
        try:
            from ncps import wirings
        except ImportError as err:
            msg = "importing an ncps config needs ncps: pip install ncps"
            raise WiringFormatError(msg) from err
        cls = wirings.NCP if "inter_neurons" in wiring else wirings.AutoNCP
        return from_ncps(cls(**wiring), input_dim=input_dim)
    else:
        raise WiringFormatError(
            f"not an ncps wiring config (keys {sorted(wiring)}); expected units, "
            "adjacency_matrix, sensory_adjacency_matrix, input_dim, output_dim"
        )
    adj = np.asarray(config["adjacency_matrix"], dtype=np.int64)
    sadj = np.asarray(config["sensory_adjacency_matrix"], dtype=np.int64)
    units, n_in, n_out = int(config["units"]), int(config["input_dim"]), int(config["output_dim"])
    if adj.shape != (units, units) or sadj.shape != (n_in, units):
        raise WiringFormatError(
            f"adjacency shapes {adj.shape} and {sadj.shape} do not fit units={units}, "
            f"input_dim={n_in}"
        )
    if not (np.isin(adj, (-1, 0, 1)).all() and np.isin(sadj, (-1, 0, 1)).all()):
        raise WiringFormatError("ncps adjacency entries must be -1, 0 or +1")
    inputs = [f"s{j}" for j in range(n_in)]
    unit_names = [f"u{i}" for i in range(units)]
    roles = ["sensory"] * n_in + ["motor" if i < n_out else "inter" for i in range(units)]
    names = inputs + unit_names
    neurons = pd.DataFrame(
        {"class": names, "type": roles, "role": roles, "sign": 0},
        index=pd.Index(names, name="name"),
    )
    si, sj = np.nonzero(sadj)
    ui, uj = np.nonzero(adj)
    rows = [(inputs[a], unit_names[b], int(sadj[a, b])) for a, b in zip(si, sj, strict=True)]
    rows += [(unit_names[a], unit_names[b], int(adj[a, b])) for a, b in zip(ui, uj, strict=True)]
    edges = pd.DataFrame(
        {
            "pre": [r[0] for r in rows],
            "post": [r[1] for r in rows],
            "kind": "chemical",
            "weight": 1.0,
            "sign": [r[2] for r in rows],
        }
    )
    return NcpWiring(neurons, edges)


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
    raw = _utf8(text).encode("utf-8", "surrogatepass")
    try:
        g = nx.read_graphml(io.BytesIO(raw), force_multigraph=True)
    except Exception as err:  # networkx raises several kinds for bad XML
        raise WiringFormatError(f"not readable as GraphML: {limits.shorten(str(err))}") from err
    meta = g.graph
    ops = meta.get("operations", "[]")
    if not isinstance(ops, str):
        raise WiringFormatError(
            f"graph attribute 'operations' must be JSON text, got {type(ops).__name__}"
        )
    ops = parse_json(ops, "graph attribute 'operations'")
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
    text = _utf8(text)
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
