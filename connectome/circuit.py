"""Circuits: subnetworks pruned out of a connectome, with roles and the record of their making.

A :class:`Circuit` is immutable. Each operation returns a new circuit and
appends a record of itself to ``circuit.ops``, so the exported file says how
the circuit was made and :meth:`Circuit.replay` makes it again from the
dataset. A record is a dict ``{"op": name, **arguments}``; :data:`OPERATIONS`
lists the names and :meth:`Circuit.apply` carries out one record.

Roles: ``sensory`` (inputs), ``inter``, ``motor`` (outputs). By default a
neuron's role follows its type (sensory -> sensory, motor -> motor, the rest
inter); :meth:`Circuit.set_roles` changes them.

Edge filters (:meth:`Circuit.threshold`, :meth:`Circuit.top_k_inputs`) stay in
force: neurons added later bring only edges that pass them. Merging classes
aggregates the edges the circuit has at that point and starts afresh at class
level.
"""

import copy
import functools
import inspect
from collections.abc import Mapping

import networkx as nx
import pandas as pd

from connectome.errors import CircuitError, UnknownNeuronError, WormlabError
from connectome.graph import EDGE_COLUMNS, Connectome, load, merge_edges
from connectome.limits import (
    MAX_HOPS,
    MAX_OPERATIONS,
    MAX_SYNAPSES,
    MAX_WEIGHT,
    check_float,
    check_int,
)
from connectome.neurons import NameIndex, as_name_list, class_names, default_role
from connectome.queries import all_paths, neighbourhood

__all__ = ["Circuit", "ROLES", "CONSTRUCTORS", "OPERATIONS"]

ROLES = ("sensory", "inter", "motor")


class Circuit:
    """A pruned subnetwork with roles and the record of how it was made.

    Build one with :meth:`from_neurons`, :meth:`from_paths` or a preset
    (:mod:`connectome.presets`); import one with :mod:`connectome.io`.

    Attributes
    ----------
    source : Connectome
        The network operations draw on (neuron or class level).
    ops : tuple of dict
        The operations that made this circuit, first to last.
    """

    def __init__(self, source: Connectome, nodes, roles, edges, ops=(), filters=()):
        self.source = source
        self._nodes = tuple(nodes)
        missing = [n for n in self._nodes if n not in source.names.names]
        if missing:
            raise UnknownNeuronError(missing[0], source.names.suggest(missing[0]), source.name)
        self._roles = {n: roles.get(n) or self._default_role(n) for n in self._nodes}
        bad = {r for r in self._roles.values() if r not in ROLES}
        if bad:
            raise CircuitError(f"unknown role(s) {sorted(bad)}; roles are {', '.join(ROLES)}")
        keep = edges["pre"].isin(self._nodes) & edges["post"].isin(self._nodes)
        self._edges = (
            edges.loc[keep, EDGE_COLUMNS]
            .sort_values(["kind", "pre", "post"], kind="stable")
            .reset_index(drop=True)
        )
        self._ops = tuple(copy.deepcopy(dict(op)) for op in ops)
        self._filters = tuple(filters)

    # ----------------------------------------------------------------- views
    def __repr__(self):
        n_chem = int((self._edges["kind"] == "chemical").sum())
        return (
            f"<Circuit from {self.source.name}: {len(self._nodes)} neurons "
            f"({len(self.sensory)} sensory, {len(self.motor)} motor), {n_chem} chemical and "
            f"{len(self._edges) - n_chem} electrical synapses>"
        )

    def __len__(self):
        return len(self._nodes)

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def ops(self) -> tuple[dict, ...]:
        """The operations that made this circuit, first to last (copies: a circuit is shared
        read-only, e.g. by the web app's cache)."""
        return copy.deepcopy(self._ops)

    @property
    def dataset(self) -> str:
        """The shipped dataset this circuit comes from."""
        return self.source.name.split(":")[0]

    @property
    def level(self) -> str:
        return self.source.level

    @functools.cached_property
    def _neurons(self) -> pd.DataFrame:
        table = self.source.neurons.loc[list(self._nodes)]
        return table.assign(role=[self._roles[n] for n in self._nodes])

    @property
    def neurons(self) -> pd.DataFrame:
        """Circuit neurons in circuit order, with the source's columns and ``role``."""
        return self._neurons.copy(deep=False)

    @property
    def edges(self) -> pd.DataFrame:
        """Synapses between circuit neurons: pre, post, kind, weight, sign."""
        return self._edges.copy(deep=False)

    neuron_edges = edges

    @property
    def roles(self) -> dict[str, str]:
        return dict(self._roles)

    @property
    def sensory(self) -> list[str]:
        return [n for n in self._nodes if self._roles[n] == "sensory"]

    @property
    def motor(self) -> list[str]:
        return [n for n in self._nodes if self._roles[n] == "motor"]

    @property
    def inter(self) -> list[str]:
        return [n for n in self._nodes if self._roles[n] == "inter"]

    @functools.cached_property
    def names(self) -> NameIndex:
        return NameIndex(self._neurons, f"the circuit from {self.source.name}")

    def resolve(self, names) -> list[str]:
        """Circuit neurons named by ``names`` (neurons or classes, any case)."""
        return self.names.resolve(names)

    def summary(self) -> dict:
        """Counts a user wants at a glance: neurons by role, synapses by kind and sign."""
        e = self._edges
        chem = e[e["kind"] == "chemical"]
        return {
            "neurons": len(self._nodes),
            "sensory": len(self.sensory),
            "inter": len(self.inter),
            "motor": len(self.motor),
            "chemical": len(chem),
            "excitatory": int((chem["sign"] > 0).sum()),
            "inhibitory": int((chem["sign"] < 0).sum()),
            "electrical": int((e["kind"] == "electrical").sum()),
            "chemical_weight": float(chem["weight"].sum()),
            "electrical_weight": float(e.loc[e["kind"] == "electrical", "weight"].sum()),
        }

    def problems(self) -> list[str]:
        """Why this circuit cannot serve as a controller as it stands (empty if it can)."""
        out = []
        if not self.sensory:
            out.append("no sensory (input) neuron: set one with set_roles(sensory=...)")
        if not self.motor:
            out.append("no motor (output) neuron: set one with set_roles(motor=...)")
        g = nx.Graph()
        g.add_nodes_from(self._nodes)
        g.add_edges_from(zip(self._edges["pre"], self._edges["post"], strict=True))
        parts = list(nx.connected_components(g)) if len(g) else []
        if len(parts) > 1:
            lone = sorted(min(p) for p in parts if len(p) == 1)
            msg = f"the circuit falls into {len(parts)} disconnected parts"
            if lone:
                msg += f" (unconnected: {', '.join(lone[:8])}{'...' if len(lone) > 8 else ''})"
            out.append(msg)
        return out

    # ---------------------------------------------------------- construction
    def _default_role(self, name):
        return default_role(self.source.neurons.loc[name, "type"])

    def _derive(self, op, nodes=None, roles=None, edges=None, source=None, filters=None):
        return Circuit(
            source if source is not None else self.source,
            nodes if nodes is not None else self._nodes,
            roles if roles is not None else self._roles,
            edges if edges is not None else self._edges,
            self._ops + (op,),
            filters if filters is not None else self._filters,
        )

    @classmethod
    def from_neurons(cls, net: Connectome, names, level="neuron") -> "Circuit":
        """The circuit of the named neurons (or classes) and every synapse among them.

        Parameters
        ----------
        net : Connectome
        names : str or list of str
        level : {"neuron", "class"}
            At class level, names are classes of ``net.to_classes()``.

        Examples
        --------
        >>> from connectome import load
        >>> Circuit.from_neurons(load("cook2019"), ["PLM", "PVC"]).sensory
        ['PLML', 'PLMR']
        """
        source = _source(net, level)
        nodes = source.resolve(names)
        if not nodes:
            raise CircuitError("a circuit needs at least one neuron")
        op = {
            "op": "from_neurons",
            "dataset": source.name.split(":")[0],
            "level": level,
            "neurons": nodes,
        }
        return cls(source, nodes, {}, _induced(source, nodes), (op,))

    @classmethod
    def from_paths(cls, net, sources, targets, max_length=3, kind=None, level="neuron"):
        """The neurons on every simple path of at most ``max_length`` synapses from
        ``sources`` to ``targets``; sources become sensory, targets motor, the rest inter."""
        source = _source(net, level)
        nodes, src, dst = _path_nodes(source, sources, targets, max_length, kind)
        roles = dict.fromkeys(nodes, "inter") | dict.fromkeys(src, "sensory")
        roles |= dict.fromkeys(dst, "motor")
        op = {
            "op": "from_paths",
            "dataset": source.name.split(":")[0],
            "level": level,
            "sources": src,
            "targets": dst,
            "max_length": max_length,
            "kind": kind,
        }
        return cls(source, nodes, roles, _induced(source, nodes), (op,))

    @classmethod
    def replay(cls, ops, net=None) -> "Circuit":
        """Make a circuit again from its recorded operations.

        ``net`` defaults to the dataset named by the first operation, which must be one of
        :data:`CONSTRUCTORS`; the others are applied in turn with :meth:`apply`.

        Raises
        ------
        CircuitError
            For operations that are not a list of records, an unknown operation or bad
            arguments (the message names the operation).
        """
        if isinstance(ops, Mapping | str) or not hasattr(ops, "__iter__"):
            raise CircuitError(
                f"a circuit's operations must be a list of records, got {type(ops).__name__}"
            )
        ops = list(ops)
        if len(ops) > MAX_OPERATIONS:
            raise CircuitError(
                f"a circuit's record has {len(ops):,} operations; the limit is {MAX_OPERATIONS:,}"
            )
        first = ops[0] if ops else None
        if not isinstance(first, Mapping) or first.get("op") not in CONSTRUCTORS:
            raise CircuitError(
                "a circuit's operations must start with one of " + ", ".join(CONSTRUCTORS)
            )
        args = dict(first)
        name = args.pop("op")
        dataset = args.pop("dataset", None)
        if net is None:
            if dataset is None:
                raise CircuitError(
                    f"operation {name!r}: missing field 'dataset' (the dataset to start from)"
                )
            net = load(dataset)
        circuit = _call(name, getattr(cls, name), _arg_names(args), net)
        for op in ops[1:]:
            circuit = circuit.apply(op)
        return circuit

    def apply(self, op) -> "Circuit":
        """The circuit after one recorded operation (an entry of ``ops``, not a constructor).

        Parameters
        ----------
        op : dict
            ``{"op": name, **arguments}`` with ``name`` one of :data:`OPERATIONS` and the
            arguments of the method of that name, as :attr:`ops` records them.

        Raises
        ------
        CircuitError
            For an unknown operation or arguments the operation does not take or cannot use.

        Examples
        --------
        >>> from connectome import load
        >>> c = Circuit.from_neurons(load("cook2019"), "PLM AVA")
        >>> c.apply({"op": "ablate", "names": ["PLMR"]}).ops[-1]
        {'op': 'ablate', 'names': ['PLMR']}
        """
        if not isinstance(op, Mapping):
            raise CircuitError(
                "a circuit operation must be a record like {'op': 'add', 'names': [...]}, "
                f"got {type(op).__name__} {op!r}"
            )
        args = dict(op)
        name = args.pop("op", None)
        if name not in OPERATIONS:
            raise CircuitError(
                f"unknown circuit operation {name!r}; operations are {', '.join(OPERATIONS)}"
            )
        return _call(name, getattr(self, name), _arg_names(args))

    # ------------------------------------------------------------ operations
    def _with_nodes(self, op, nodes):
        new = [n for n in nodes if n not in self._nodes]
        nodes = list(self._nodes) + new
        fresh = _induced(self.source, nodes)
        fresh = fresh[fresh["pre"].isin(new) | fresh["post"].isin(new)]
        edges = _apply_filters(pd.concat([self._edges, fresh], ignore_index=True), self._filters)
        return self._derive(op, nodes=nodes, edges=edges)

    def add(self, names) -> "Circuit":
        """Add neurons (or classes) with their synapses to the circuit's neurons."""
        nodes = self.source.resolve(names)
        return self._with_nodes({"op": "add", "names": nodes}, nodes)

    def expand(self, k=1, kind=None, direction="both") -> "Circuit":
        """Add every neuron within ``k`` synapses of the circuit (see
        :func:`connectome.queries.neighbourhood`); ``k`` is 0 .. ``MAX_HOPS``."""
        k = check_int(k, "k (hops)", 0, MAX_HOPS, CircuitError)
        nodes = neighbourhood(self.source, list(self._nodes), k, kind, direction)
        return self._with_nodes(
            {"op": "expand", "k": k, "kind": kind, "direction": direction}, nodes
        )

    def add_paths(self, sources, targets, max_length=3, kind=None) -> "Circuit":
        """Add the neurons on all simple paths (at most ``max_length`` synapses) from
        ``sources`` to ``targets`` in the source network."""
        nodes, src, dst = _path_nodes(self.source, sources, targets, max_length, kind)
        op = {
            "op": "add_paths",
            "sources": src,
            "targets": dst,
            "max_length": max_length,
            "kind": kind,
        }
        return self._with_nodes(op, nodes)

    def ablate(self, names) -> "Circuit":
        """Remove neurons (or whole classes) and their synapses."""
        gone = set(self.resolve(names))
        nodes = [n for n in self._nodes if n not in gone]
        if not nodes:
            raise CircuitError("ablating these would leave an empty circuit")
        return self._derive({"op": "ablate", "names": sorted(gone)}, nodes=nodes)

    remove = ablate

    def threshold(self, chemical=None, electrical=None) -> "Circuit":
        """Drop chemical synapses lighter than ``chemical`` and gap junctions lighter than
        ``electrical`` (weights as in the dataset; None leaves a kind alone)."""
        for label, value in (("chemical", chemical), ("electrical", electrical)):
            if value is not None:
                check_float(value, f"{label} threshold", 0, MAX_WEIGHT, CircuitError)
        op = {"op": "threshold", "chemical": chemical, "electrical": electrical}
        return self._derive(
            op, edges=_apply_filters(self._edges, (op,)), filters=self._filters + (op,)
        )

    def top_k_inputs(self, k, kind=None) -> "Circuit":
        """Keep each neuron's ``k`` heaviest incoming synapses (gap junctions count as inputs
        to both ends; ties broken by name)."""
        k = check_int(k, "k (inputs kept per neuron)", 0, MAX_SYNAPSES, CircuitError)
        op = {"op": "top_k_inputs", "k": k, "kind": kind}
        return self._derive(
            op, edges=_apply_filters(self._edges, (op,)), filters=self._filters + (op,)
        )

    def set_sign(self, names, sign) -> "Circuit":
        """Make every chemical synapse from the named presynaptic neurons excitatory
        (``sign=1``) or inhibitory (``sign=-1``), e.g. to read glutamate as inhibitory.

        Like the edge filters, the choice holds for synapses that later operations bring in.
        """
        if sign not in (1, -1):
            raise CircuitError(f"sign must be 1 or -1, got {sign!r}")
        op = {"op": "set_sign", "names": self.resolve(names), "sign": int(sign)}
        return self._derive(
            op, edges=_apply_filters(self._edges, (op,)), filters=self._filters + (op,)
        )

    def merge_classes(self) -> "Circuit":
        """Merge L/R and numbered members into classes, summing their synapses
        (see :func:`connectome.graph.merge_edges`)."""
        if self.level == "class":
            return self
        classes = self.source.to_classes()
        to_class = class_names(self.source.neurons.loc[list(self._nodes)]).to_dict()
        nodes = list(dict.fromkeys(to_class[n] for n in self._nodes))
        roles = {}
        for n in self._nodes:
            roles.setdefault(to_class[n], self._roles[n])
        e = merge_edges(self._edges, to_class)
        return self._derive(
            {"op": "merge_classes"}, nodes=nodes, roles=roles, edges=e, source=classes, filters=()
        )

    def set_roles(self, sensory=None, motor=None) -> "Circuit":
        """Set the sensory (input) and/or motor (output) neurons; the others that had that
        role become ``inter``."""
        roles = dict(self._roles)
        picked = {}
        for role, names in (("sensory", sensory), ("motor", motor)):
            if names is None:
                continue
            chosen = self.resolve(names) if as_name_list(names) else []
            for n, r in roles.items():
                if r == role:
                    roles[n] = "inter"
            for n in chosen:
                roles[n] = role
            picked[role] = chosen
        if sensory is not None and motor is not None:
            both = set(picked["sensory"]) & set(picked["motor"])
            if both:
                raise CircuitError(f"neurons cannot be both sensory and motor: {sorted(both)}")
        op = {"op": "set_roles", "sensory": picked.get("sensory"), "motor": picked.get("motor")}
        return self._derive(op, roles=roles)


#: The operations a circuit's record starts with (class methods taking the network first).
CONSTRUCTORS = ("from_neurons", "from_paths")
#: The operations :meth:`Circuit.apply` carries out (methods of the same name).
OPERATIONS = (
    "add",
    "expand",
    "add_paths",
    "ablate",
    "threshold",
    "top_k_inputs",
    "set_sign",
    "merge_classes",
    "set_roles",
)


def _arg_names(args: dict) -> dict:
    return {("names" if k == "neurons" else k): v for k, v in args.items()}


def _call(name, method, args, *first):
    """``method(*first, **args)``, with a CircuitError naming the operation when the
    arguments do not fit it."""
    signature = inspect.signature(method)
    try:
        signature.bind(*first, **args)
    except TypeError as err:
        takes = ", ".join(list(signature.parameters)[len(first) :]) or "no arguments"
        raise CircuitError(f"operation {name!r}: {err} (it takes {takes})") from err
    try:
        return method(*first, **args)
    except WormlabError:
        raise
    except (TypeError, ValueError) as err:
        raise CircuitError(f"operation {name!r}: bad arguments {args!r} ({err})") from err


def _source(net: Connectome, level: str) -> Connectome:
    if level not in ("neuron", "class"):
        raise CircuitError(f"level must be 'neuron' or 'class', got {level!r}")
    return net.to_classes() if level == "class" else net


def _induced(source: Connectome, nodes) -> pd.DataFrame:
    e = source.neuron_edges
    return e[e["pre"].isin(nodes) & e["post"].isin(nodes)]


def _path_nodes(source, sources, targets, max_length, kind):
    src, dst = source.resolve(sources), source.resolve(targets)
    paths = all_paths(source, src, dst, max_length=max_length, kind=kind)
    if not paths:
        raise CircuitError(
            f"no path of at most {max_length} synapses from {', '.join(src)} to "
            f"{', '.join(dst)}; try a larger max_length"
        )
    on_path = {n for p in paths for n in p["path"]}
    nodes = [n for n in src if n in on_path] + sorted(on_path - set(src) - set(dst))
    nodes += [n for n in dst if n in on_path]
    return nodes, [n for n in src if n in on_path], [n for n in dst if n in on_path]


def _apply_filters(edges: pd.DataFrame, filters) -> pd.DataFrame:
    for f in filters:
        if f["op"] == "threshold":
            keep = pd.Series(True, index=edges.index)
            for kind in ("chemical", "electrical"):
                if f[kind] is not None:
                    keep &= ~((edges["kind"] == kind) & (edges["weight"] < f[kind]))
            edges = edges[keep]
        elif f["op"] == "top_k_inputs":
            edges = _top_k(edges, f["k"], f["kind"])
        elif f["op"] == "set_sign":
            hit = (edges["kind"] == "chemical") & edges["pre"].isin(f["names"])
            edges = edges.assign(sign=edges["sign"].where(~hit, f["sign"]))
    return edges


def _top_k(edges: pd.DataFrame, k: int, kind) -> pd.DataFrame:
    edges = edges.reset_index(drop=True)
    considered = edges if kind is None else edges[edges["kind"] == kind]
    gap = considered[considered["kind"] == "electrical"]
    inputs = pd.concat(
        [
            considered.assign(_to=considered["post"], _from=considered["pre"]),
            gap.assign(_to=gap["pre"], _from=gap["post"]),
        ]
    )
    inputs = inputs.rename_axis("_row").reset_index()
    inputs = inputs.sort_values(["_to", "weight", "_from"], ascending=[True, False, True])
    kept_rows = set(inputs.groupby("_to").head(k)["_row"])
    # a gap junction stays if either end keeps it among its top k
    drop = [i for i in considered.index if i not in kept_rows]
    return edges.drop(index=drop)
