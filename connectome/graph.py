"""The :class:`Connectome`: one dataset as a networkx graph with pandas views.

Chemical synapses are directed edges; gap junctions (``kind="electrical"``)
are symmetric and stored once per unordered pair. Edge attributes are
``kind``, ``weight`` (what a weight means is in the dataset's manifest entry:
EM serial-section counts for Cook 2019, synapse counts for Varshney 2011) and
``sign`` (+1 excitatory / -1 inhibitory, the presynaptic neuron's default
sign from its transmitter; +1 for gap junctions).
"""

import copy
import functools
import os

import networkx as nx
import numpy as np
import pandas as pd

from connectome.datasets import dataset_info, dataset_key, read_cells, read_edges, read_neurons
from connectome.neurons import NameIndex, class_names

__all__ = ["Connectome", "load", "merge_edges", "NEURON_COLUMNS", "EDGE_COLUMNS"]

NEURON_COLUMNS = [
    *("class", "type", "transmitter", "sign", "x", "y", "z", "ganglion", "description"),
    *("full_name", "category", "lineage"),
]
EDGE_COLUMNS = ["pre", "post", "kind", "weight", "sign"]


class Connectome:
    """A wiring diagram: neurons, other cells (muscles) and weighted synapses.

    Use :func:`load` for a shipped dataset. The object is shared read-only
    between callers: its ``neurons``, ``edges`` and ``cells`` properties hand
    out copies (cheap: pandas copy-on-write), and ``graph`` is frozen.

    Parameters
    ----------
    name : str
        Dataset key (``"cook2019"``), or the key plus ``":classes"`` at class level.
    neurons : pandas.DataFrame
        Indexed by neuron name, columns :data:`NEURON_COLUMNS`.
    edges : pandas.DataFrame
        Columns :data:`EDGE_COLUMNS`; may include rows to or from ``cells``.
    cells : pandas.DataFrame, optional
        Non-neuron nodes (muscles, other cells) indexed by name, column ``cell_type``.
    level : {"neuron", "class"}
    info : dict, optional
        The dataset's manifest entry (citation, DOI, weight meaning).
    """

    def __init__(self, name, neurons, edges, cells=None, level="neuron", info=None):
        self.name = name
        self.level = level
        self._info = copy.deepcopy(dict(info or {}))
        self._neurons = neurons[NEURON_COLUMNS]
        self._edges = edges[EDGE_COLUMNS].reset_index(drop=True)
        if cells is None:
            cells = pd.DataFrame(
                {"cell_type": pd.Series(dtype=str), "description": pd.Series(dtype=str)}
            )
        self._cells = cells
        self.names = NameIndex(self._neurons, name)

    def __repr__(self):
        counts = self._edges["kind"].value_counts()
        return (
            f"<Connectome {self.name}: {len(self._neurons)} neurons, "
            f"{len(self._cells)} other cells, {counts.get('chemical', 0)} chemical and "
            f"{counts.get('electrical', 0)} electrical edges>"
        )

    @property
    def info(self) -> dict:
        """The dataset's manifest entry: citation, DOI, what a weight means (a copy)."""
        return copy.deepcopy(self._info)

    @property
    def neurons(self) -> pd.DataFrame:
        """Neurons of this network, indexed by name (a copy)."""
        return self._neurons.copy(deep=False)

    @property
    def edges(self) -> pd.DataFrame:
        """All edges: pre, post, kind, weight, sign (a copy)."""
        return self._edges.copy(deep=False)

    @property
    def cells(self) -> pd.DataFrame:
        """Nodes that are not neurons (muscles and other cells), indexed by name (a copy)."""
        return self._cells.copy(deep=False)

    @property
    def neuron_edges(self) -> pd.DataFrame:
        """Edges whose two ends are both neurons (what a simulator uses; a copy)."""
        return self._neuron_edges.copy(deep=False)

    @functools.cached_property
    def _neuron_edges(self) -> pd.DataFrame:
        names = self._neurons.index
        keep = self._edges["pre"].isin(names) & self._edges["post"].isin(names)
        return self._edges[keep].reset_index(drop=True)

    @functools.cached_property
    def graph(self) -> nx.MultiDiGraph:
        """A frozen networkx MultiDiGraph with node and edge attributes."""
        g = nx.MultiDiGraph(name=self.name)
        for name, row in self._neurons.iterrows():
            attrs = {k: _plain(v) for k, v in row.items()}
            g.add_node(name, cell_type="neuron", **attrs)
        for name, row in self._cells.iterrows():
            g.add_node(name, cell_type=row["cell_type"], description=row["description"])
        for pre, post, kind, weight, sign in self._edges.itertuples(index=False):
            g.add_edge(pre, post, key=kind, kind=kind, weight=float(weight), sign=int(sign))
        return nx.freeze(g)

    def resolve(self, names) -> list[str]:
        """Neurons named by ``names``: neuron or class names in any case.

        >>> load("cook2019").resolve("ava")
        ['AVAL', 'AVAR']

        Raises
        ------
        UnknownNeuronError
            With the closest real names: ``resolve("AVLA")`` suggests AVAL.
        """
        return self.names.resolve(names)

    def is_muscle(self, name: str) -> bool:
        """Whether ``name`` is a muscle node of this network."""
        return name in self._cells.index and self._cells.loc[name, "cell_type"] == "muscle"

    @functools.cached_property
    def _classes(self):
        return _aggregate_classes(self)

    def to_classes(self) -> "Connectome":
        """The class-level network: L/R and numbered members merged, weights summed.

        A class keeps its members' type, transmitter and sign (the first member's when they
        differ), the mean of their positions, a ``members`` list in ``description``, the
        words their full names share ("Anterior Ventral Process A") and the first member's
        category; ``lineage`` is empty (each member has its own). Gap junctions between
        two members of one class become a self-pair.
        """
        if self.level == "class":
            return self
        return self._classes


def _plain(value):
    """numpy scalars and NaN -> plain Python values, for networkx/GraphML."""
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def merge_edges(edges: pd.DataFrame, to_class) -> pd.DataFrame:
    """Edges at class level: each end renamed by ``to_class``, parallel edges summed.

    Parameters
    ----------
    edges : pandas.DataFrame
        Columns ``pre, post, kind, weight, sign``.
    to_class : mapping
        Node name -> class name; a name it does not hold stays as it is (muscles, cells).

    Returns
    -------
    pandas.DataFrame
        Columns ``pre, post, kind, weight, sign``: one row per (pre, post, kind), weights
        summed, the first row's sign kept; a gap junction's ends in name order (a gap
        junction between two members of one class becomes a self-pair); sorted by kind,
        pre, post.

    Examples
    --------
    >>> e = pd.DataFrame({"pre": ["AVAL", "AVAR", "AVBL"], "post": ["PVCL", "PVCR", "AVAL"],
    ...                   "kind": ["chemical", "chemical", "electrical"],
    ...                   "weight": [2.0, 3.0, 1.0], "sign": [1, 1, 1]})
    >>> m = merge_edges(e, {"AVAL": "AVA", "AVAR": "AVA", "AVBL": "AVB",
    ...                     "PVCL": "PVC", "PVCR": "PVC"})
    >>> m[["pre", "post", "kind", "weight"]].values.tolist()
    [['AVA', 'PVC', 'chemical', 5.0], ['AVA', 'AVB', 'electrical', 1.0]]
    """
    edges = edges.assign(
        pre=edges["pre"].map(lambda n: to_class.get(n, n)),
        post=edges["post"].map(lambda n: to_class.get(n, n)),
    )
    gap = edges["kind"] == "electrical"
    lo = edges.loc[gap, ["pre", "post"]].min(axis=1)
    hi = edges.loc[gap, ["pre", "post"]].max(axis=1)
    edges.loc[gap, "pre"], edges.loc[gap, "post"] = lo, hi
    return (
        edges.groupby(["pre", "post", "kind"], sort=True, as_index=False)
        .agg(weight=("weight", "sum"), sign=("sign", "first"))
        .sort_values(["kind", "pre", "post"], kind="stable")
        .reset_index(drop=True)
    )


def _aggregate_classes(c: Connectome) -> Connectome:
    neurons = c._neurons
    cls = class_names(neurons)
    grouped = neurons.assign(_cls=cls).groupby("_cls", sort=False)
    first = grouped.first()
    means = grouped[["x", "y", "z"]].mean()
    members = grouped.apply(lambda g: " ".join(g.index), include_groups=False)
    classes = pd.DataFrame(
        {
            "class": first.index,
            "type": first["type"],
            "transmitter": first["transmitter"],
            "sign": first["sign"].astype(int),
            "x": means["x"],
            "y": means["y"],
            "z": means["z"],
            "ganglion": first["ganglion"],
            "description": "members: " + members,
            "full_name": grouped["full_name"].agg(_common_words),
            "category": first["category"],
            "lineage": "",
        },
        index=first.index.rename("name"),
    )
    edges = merge_edges(c._edges, dict(zip(neurons.index, cls, strict=True)))
    return Connectome(f"{c.name}:classes", classes, edges, c._cells, "class", c._info)


def _neuron_table(edges: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """neurons.csv rows of the nodes present, plus male-specific neurons from cells.csv."""
    herm = read_neurons()
    present = pd.Index(pd.unique(edges[["pre", "post"]].to_numpy().ravel()))
    table = herm[herm.index.isin(present)]
    extra = cells[(cells["cell_type"] == "neuron") & cells.index.isin(present)]
    if len(extra):
        rows = pd.DataFrame(
            {
                "class": [_lr_class(n, extra.index) for n in extra.index],
                "type": "other",
                "transmitter": "",
                "sign": 1,
                "x": np.nan,
                "y": np.nan,
                "z": np.nan,
                "ganglion": "",
                "description": extra["description"],
                "full_name": "",
                "category": "",
                "lineage": "",
            },
            index=extra.index,
        )
        table = pd.concat([table, rows])
    return table


def _common_words(names: pd.Series) -> str:
    """The words the members' full names start with: "Anterior Ventral Process A" for
    "Anterior Ventral Process A Left" and "... Right"."""
    return " ".join(os.path.commonprefix([n.split() for n in names]))


def _lr_class(name: str, names) -> str:
    """Male-specific neurons: merge an L/R pair into one class, otherwise keep the name."""
    if name[-1:] in ("L", "R"):
        twin = name[:-1] + ("R" if name[-1] == "L" else "L")
        if twin in names:
            return name[:-1]
    return name


def load(name: str = "cook2019") -> Connectome:
    """Load a shipped dataset (once per process; the result is shared read-only).

    Parameters
    ----------
    name : str
        A key of :func:`connectome.datasets`: ``cook2019`` (default, all 302 neurons),
        ``cook2019_male``, ``varshney2011``, ``white1986``, ``witvliet2021_1`` .. ``_8``.

    Examples
    --------
    >>> c = load("cook2019")
    >>> len(c.neurons)
    302
    """
    return _load(dataset_key(name))


@functools.cache
def _load(key: str) -> Connectome:
    info = dataset_info(key)
    raw = read_edges(key)
    all_cells = read_cells()
    neurons = _neuron_table(raw, all_cells)
    present = pd.unique(raw[["pre", "post"]].to_numpy().ravel())
    cells = all_cells[all_cells.index.isin(present) & ~all_cells.index.isin(neurons.index)]
    sign = neurons["sign"]
    chemical = raw["kind"] == "chemical"
    edge_sign = np.where(chemical, raw["pre"].map(sign).fillna(1).to_numpy(), 1).astype(int)
    edges = raw.assign(sign=edge_sign)
    return Connectome(info["name"], neurons, edges, cells, "neuron", info)
