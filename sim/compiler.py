"""Turn a circuit or connectome into the arrays the kernels integrate, once.

:func:`compile_circuit` fixes one neuron order (the source's) and builds two CSR structures
with rows = postsynaptic neuron: chemical synapses (conductance or weight, reversal potential
and, for the ltc model, each synapse's sigmoid) and gap junctions (both directions of each
pair). Ablated neurons are removed before the arrays are built, with every synapse they make
or receive.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from connectome.errors import SimulationError, UnknownNeuronError
from connectome.neurons import NameIndex
from sim.kernels import lu_solve
from sim.models import (
    KUNERT2014_INHIBITORY,
    MODELS,
    GradedParams,
    LTCParams,
    default_params,
    map_weights,
)

__all__ = [
    "Wiring",
    "NEURON_PARAMS",
    "SYNAPSE_PARAMS",
    "CompiledCircuit",
    "compile_circuit",
    "graded_thresholds",
]

#: Per-neuron parameter arrays of each model, in the kernels' order (units in sim.models).
NEURON_PARAMS = {"ltc": ("cm", "gleak", "vleak"), "graded": ("C", "Gc", "Ec", "beta", "ar", "ad")}
#: Per-synapse parameter arrays of each model, in the kernels' order.
SYNAPSE_PARAMS = {"ltc": ("w", "erev", "mu", "sigma"), "graded": ("g", "erev")}


class Wiring:
    """A minimal wiring source built from two tables, for circuits that come from no dataset
    (tests, user files): satisfies the protocol :func:`compile_circuit` reads.

    Parameters
    ----------
    neurons : pandas.DataFrame or sequence of str
        Neuron table indexed by name (a ``class`` column is optional), or just the names.
    edges : pandas.DataFrame
        Columns pre, post, kind ("chemical" | "electrical"), weight (> 0), sign (+1 / -1).
    name : str
        How the wiring is named in messages.

    Examples
    --------
    >>> import pandas as pd
    >>> w = Wiring(["A", "B"], pd.DataFrame({"pre": ["A"], "post": ["B"], "kind": ["chemical"],
    ...                                      "weight": [2.0], "sign": [1]}))
    >>> compile_circuit(w, "ltc").n_synapses
    1
    """

    def __init__(self, neurons, edges, name="wiring"):
        if not isinstance(neurons, pd.DataFrame):
            neurons = pd.DataFrame(index=pd.Index([str(n) for n in neurons], name="name"))
        if "class" not in neurons.columns:
            neurons = neurons.assign(**{"class": list(neurons.index)})
        missing = {"pre", "post", "kind", "weight", "sign"} - set(edges.columns)
        if missing:
            raise SimulationError(f"edge table lacks column(s) {sorted(missing)}")
        self.neurons = neurons
        self.edges = edges
        self.name = str(name)
        self._index = NameIndex(neurons, self.name)

    def resolve(self, names):
        """Neurons named by ``names`` (neurons or classes, any case)."""
        return self._index.resolve(names)


def _readonly(a, dtype=np.float64):
    a = np.array(a, dtype=dtype)  # a copy the caller cannot change behind our back
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class CompiledCircuit:
    """A circuit as arrays, in one fixed neuron order (see :func:`compile_circuit`).

    Attributes
    ----------
    model : str
        "graded" or "ltc".
    params : GradedParams or LTCParams
        The parameters the arrays were made from.
    names : tuple of str
        Neuron names; index ``i`` of every per-neuron array.
    neurons : pandas.DataFrame
        The source's neuron table, restricted to ``names`` and in their order.
    source_name : str
        The dataset (``source.name``).
    ablated : tuple of str
        Neurons removed before compiling.
    ablated_classes : tuple of str
        Classes all of whose members in the source were removed.
    indptr, pre : ndarray of int64
        Chemical synapses, CSR by postsynaptic neuron.
    count, sign : ndarray, shape (m,)
        Each chemical synapse's connectome weight (count) and sign (+1 / -1).
    gindptr, gpre : ndarray of int64
        Gap junctions, CSR with both directions of each pair.
    gcount : ndarray, shape (g,)
        Each stored gap-junction direction's weight (count).
    neuron_params : mapping of str to ndarray (n,)
        ``NEURON_PARAMS[model]`` arrays.
    synapse_params : mapping of str to ndarray (m,)
        ``SYNAPSE_PARAMS[model]`` arrays.
    gw : ndarray, shape (g,)
        Gap-junction conductances (pS for graded).
    """

    model: str
    params: GradedParams | LTCParams
    names: tuple
    neurons: pd.DataFrame = field(repr=False)
    source_name: str
    ablated: tuple
    ablated_classes: tuple
    indptr: np.ndarray = field(repr=False)
    pre: np.ndarray = field(repr=False)
    count: np.ndarray = field(repr=False)
    sign: np.ndarray = field(repr=False)
    gindptr: np.ndarray = field(repr=False)
    gpre: np.ndarray = field(repr=False)
    gcount: np.ndarray = field(repr=False)
    neuron_params: MappingProxyType = field(repr=False)
    synapse_params: MappingProxyType = field(repr=False)
    gw: np.ndarray = field(repr=False)

    # ------------------------------------------------------------------ sizes
    @property
    def n(self):
        """Number of neurons."""
        return len(self.names)

    @property
    def n_synapses(self):
        """Number of chemical synapses (distinct pre -> post connections)."""
        return int(self.pre.shape[0])

    @property
    def n_gap(self):
        """Number of stored gap-junction directions (two per pair)."""
        return int(self.gpre.shape[0])

    @property
    def post(self):
        """Postsynaptic neuron index of each chemical synapse, shape (m,)."""
        return np.repeat(np.arange(self.n), np.diff(self.indptr))

    @property
    def gpost(self):
        """Receiving neuron index of each stored gap-junction direction, shape (g,)."""
        return np.repeat(np.arange(self.n), np.diff(self.gindptr))

    def __repr__(self):
        return (
            f"<CompiledCircuit {self.model} from {self.source_name}: {self.n} neurons, "
            f"{self.n_synapses} chemical synapses, {self.n_gap // 2} gap-junction pairs"
            + (f", ablated {', '.join(self.ablated)}>" if self.ablated else ">")
        )

    # ------------------------------------------------------------------ names
    def resolve(self, names):
        """Neurons of this compiled circuit named by ``names`` (neurons or classes, any case).

        Raises
        ------
        UnknownNeuronError
            For a name not in the circuit, with the closest names; an ablated neuron is named
            as such.
        """
        try:
            return self._index.resolve(names)
        except UnknownNeuronError as err:
            key = str(err.name).strip().lower()
            if key in {str(a).lower() for a in self.ablated + self.ablated_classes}:
                raise UnknownNeuronError(
                    err.name, (), f"{self.source_name} (it was ablated before compiling)"
                ) from err
            raise

    @functools.cached_property
    def _index(self):
        return NameIndex(self.neurons, self.source_name)

    @functools.cached_property
    def _position(self):
        return {name: i for i, name in enumerate(self.names)}

    def indices(self, names):
        """Array indices (int64) of the neurons named by ``names`` (see :meth:`resolve`)."""
        pos = self._position
        return np.array([pos[name] for name in self.resolve(names)], dtype=np.int64)

    # ------------------------------------------------------------- parameters
    def with_params(self, params):
        """The same structure with the arrays recomputed from ``params`` (same model)."""
        _check_params(self.model, params)
        if getattr(params, "signs", None) != getattr(self.params, "signs", None):
            raise SimulationError(
                f"signs = {params.signs!r} changes which synapses are inhibitory; compile the "
                "source again with these parameters (compile_circuit)"
            )
        npar, spar, gw = _model_arrays(
            self.model, params, self.n, self.count, self.sign, self.gcount
        )
        return _replace(self, params=params, neuron_params=npar, synapse_params=spar, gw=gw)

    def with_arrays(self, **arrays):
        """A copy with some per-neuron (n,), per-synapse (m,) or gap (``gw``, (g,)) arrays
        replaced, e.g. ``cc.with_arrays(mu=np.full(cc.n_synapses, 0.3))``.

        Raises
        ------
        SimulationError
            For an unknown name, a wrong shape or a non-finite value.
        """
        npar = dict(self.neuron_params)
        spar = dict(self.synapse_params)
        gw = self.gw
        for key, value in arrays.items():
            if key in npar:
                target, shape = npar, (self.n,)
            elif key in spar:
                target, shape = spar, (self.n_synapses,)
            elif key == "gw":
                target, shape = None, (self.n_gap,)
            else:
                known = sorted([*npar, *spar, "gw"])
                raise SimulationError(f"unknown array {key!r} for model {self.model}; use {known}")
            a = np.asarray(value, dtype=np.float64)
            if a.ndim == 0:
                a = np.full(shape, float(a))
            if a.shape != shape:
                raise SimulationError(f"array {key!r} has shape {a.shape}; expected {shape}")
            if not np.all(np.isfinite(a)):
                raise SimulationError(f"array {key!r} has non-finite values")
            if target is None:
                gw = _readonly(a)
            else:
                target[key] = _readonly(a)
        return _replace(
            self,
            neuron_params=MappingProxyType(npar),
            synapse_params=MappingProxyType(spar),
            gw=gw,
        )

    def kernel_arrays(self):
        """``(npar (K, n), spar (Ks, m), gw (g,))`` in the kernels' order, float64."""
        npar = np.stack([self.neuron_params[k] for k in NEURON_PARAMS[self.model]])
        if self.n_synapses:
            spar = np.stack([self.synapse_params[k] for k in SYNAPSE_PARAMS[self.model]])
        else:
            spar = np.zeros((len(SYNAPSE_PARAMS[self.model]), 0))
        return npar, spar, np.array(self.gw, dtype=np.float64)

    def dense(self, kind="chemical"):
        """Dense ``(n, n)`` matrix ``[post, pre]`` of conductances (``g`` / ``w``) or gap
        conductances (``kind="electrical"``), for inspection and reference computations."""
        a = np.zeros((self.n, self.n))
        if kind == "chemical":
            key = SYNAPSE_PARAMS[self.model][0]
            np.add.at(a, (self.post, self.pre), self.synapse_params[key])
        elif kind == "electrical":
            np.add.at(a, (self.gpost, self.gpre), self.gw)
        else:
            raise SimulationError(f"kind must be 'chemical' or 'electrical', not {kind!r}")
        return a


def _replace(cc, **changes):
    values = {f: getattr(cc, f) for f in cc.__dataclass_fields__}
    values.update(changes)
    return CompiledCircuit(**values)


def _check_params(model, params):
    want = GradedParams if model == "graded" else LTCParams
    if not isinstance(params, want):
        raise SimulationError(f"model {model!r} takes {want.__name__}, not {type(params).__name__}")


def _signs(params, chem):
    """Each chemical edge's sign (+1 / -1) under the parameters' sign set
    (:data:`sim.models.SIGN_SETS`)."""
    if getattr(params, "signs", "transmitter") == "kunert2014":
        return np.where(chem["pre"].isin(_KUNERT_NAMES), -1, 1)
    return np.where(chem["sign"] < 0, -1, 1)


#: Kunert 2014's inhibitory neurons and their classes (for class-level circuits).
_KUNERT_NAMES = KUNERT2014_INHIBITORY | {"DD", "VD", "RME", "AVL", "DVB", "RIS"}


def _model_arrays(model, p, n, count, sign, gcount):
    ones = np.ones(n)
    if model == "graded":
        npar = {
            "C": p.C * ones,
            "Gc": p.Gc * ones,
            "Ec": p.Ec * ones,
            "beta": p.beta * ones,
            "ar": p.ar * ones,
            "ad": p.ad * ones,
        }
        spar = {
            "g": map_weights(count, p.weight_map, p.gsyn),
            "erev": np.where(sign < 0, p.E_inh, p.E_exc),
        }
        gw = map_weights(gcount, p.weight_map, p.ggap)
    else:
        npar = {"cm": p.cm * ones, "gleak": p.gleak * ones, "vleak": p.vleak * ones}
        m = count.shape[0]
        spar = {
            "w": map_weights(count, p.weight_map, p.w_scale),
            "erev": np.where(sign < 0, p.erev_inh, p.erev_exc),
            "mu": np.full(m, p.mu),
            "sigma": np.full(m, p.sigma),
        }
        gw = map_weights(gcount, p.weight_map, p.gap_scale)
    npar = MappingProxyType({k: _readonly(v) for k, v in npar.items()})
    spar = MappingProxyType({k: _readonly(v) for k, v in spar.items()})
    return npar, spar, _readonly(gw)


def _csr(post, pre, n, *ties):
    order = np.lexsort((*ties, pre, post))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(post, minlength=n), out=indptr[1:])
    return order, indptr


def compile_circuit(source, model="graded", params=None, *, ablate=()):
    """Compile a circuit or connectome into a :class:`CompiledCircuit` for ``model``.

    Parameters
    ----------
    source : connectome.Connectome or connectome.Circuit
        Anything with ``.neurons`` (DataFrame indexed by name with a ``class`` column),
        ``.edges`` (columns pre, post, kind, weight, sign), ``.resolve(names)`` and ``.name``.
        Edges whose pre or post is not a neuron (muscles) are dropped.
    model : {"graded", "ltc"}
        Neuron model.
    params : GradedParams or LTCParams, optional
        Model parameters; the model's defaults when omitted.
    ablate : str or sequence of str
        Neurons or classes to remove (with all their synapses) before compiling.

    Returns
    -------
    CompiledCircuit
        Neurons in the source's order; chemical synapses with the same pre, post and sign
        merged (weights added), in CSR order (by post, then pre, then sign); gap-junction
        pairs stored in both directions, self-pairs dropped (they carry no current).

    Raises
    ------
    UnknownNeuronError
        For an unknown name in ``ablate``.
    SimulationError
        For an unknown model, parameters of another model, or an ablation that leaves nothing.

    Examples
    --------
    >>> import connectome
    >>> cc = compile_circuit(connectome.load("cook2019"), "graded", ablate=["AVA"])
    >>> cc.n, "AVAL" in cc.names
    (300, False)
    """
    if model not in MODELS:
        raise SimulationError(f"unknown model {model!r}; use one of {MODELS}")
    params = default_params(model) if params is None else params
    _check_params(model, params)
    neurons = source.neurons
    gone = source.resolve(ablate) if _non_empty(ablate) else []
    keep = [name for name in neurons.index if name not in set(gone)]
    if not keep:
        raise SimulationError("nothing left to simulate: every neuron was ablated")
    pos = {name: i for i, name in enumerate(keep)}
    n = len(keep)

    edges = source.edges
    ok = edges["pre"].isin(pos) & edges["post"].isin(pos)
    edges = edges.loc[ok]
    chem = edges.loc[edges["kind"] == "chemical"]
    chem = chem.assign(sign=_signs(params, chem))
    chem = chem.groupby(["pre", "post", "sign"], as_index=False, sort=False)["weight"].sum()
    c_pre = chem["pre"].map(pos).to_numpy(np.int64)
    c_post = chem["post"].map(pos).to_numpy(np.int64)
    c_sign = chem["sign"].to_numpy(np.int64)
    order, indptr = _csr(c_post, c_pre, n, c_sign)
    pre = c_pre[order]
    count = chem["weight"].to_numpy(np.float64)[order]
    sign = c_sign[order]

    gap = edges.loc[edges["kind"] == "electrical"]
    a = gap["pre"].map(pos).to_numpy(np.int64)
    b = gap["post"].map(pos).to_numpy(np.int64)
    w = gap["weight"].to_numpy(np.float64)
    pair = pd.DataFrame({"a": np.minimum(a, b), "b": np.maximum(a, b), "w": w})
    pair = pair.loc[pair["a"] != pair["b"]].groupby(["a", "b"], as_index=False)["w"].sum()
    g_post = np.concatenate([pair["a"].to_numpy(), pair["b"].to_numpy()]).astype(np.int64)
    g_pre = np.concatenate([pair["b"].to_numpy(), pair["a"].to_numpy()]).astype(np.int64)
    g_w = np.concatenate([pair["w"].to_numpy(), pair["w"].to_numpy()]).astype(np.float64)
    gorder, gindptr = _csr(g_post, g_pre, n)

    npar, spar, gw = _model_arrays(model, params, n, count, sign, g_w[gorder])
    table = neurons.loc[keep].copy()
    if "class" not in table.columns:
        table["class"] = table.index
    return CompiledCircuit(
        model=model,
        params=params,
        names=tuple(keep),
        neurons=table,
        source_name=str(getattr(source, "name", "circuit")),
        ablated=tuple(gone),
        ablated_classes=_gone_classes(neurons, gone),
        indptr=_readonly(indptr, np.int64),
        pre=_readonly(pre, np.int64),
        count=_readonly(count),
        sign=_readonly(sign, np.int64),
        gindptr=_readonly(gindptr, np.int64),
        gpre=_readonly(g_pre[gorder], np.int64),
        gcount=_readonly(g_w[gorder]),
        neuron_params=npar,
        synapse_params=spar,
        gw=gw,
    )


def _gone_classes(neurons, gone):
    if not gone or "class" not in neurons.columns:
        return ()
    left = set(neurons["class"].drop(index=list(gone)))
    return tuple(sorted({str(c) for c in neurons.loc[list(gone), "class"]} - left))


def _non_empty(names):
    if isinstance(names, str):
        return bool(names)
    return names is not None and len(names) > 0


def graded_thresholds(cc, current=None):
    """Sigmoid thresholds ``Vth`` (mV) of the graded model: the network's linear steady state
    with every synaptic activation at ``s_eq = ar / (ar + 2 ad)``.

    Solves ``(Gc + sum_j gw_ij + s_eq sum_j g_ij) V_i - sum_j gw_ij V_j
    = Gc Ec + s_eq sum_j g_ij E_ij + I_i`` (Kunert et al. 2014, doi:10.1103/PhysRevE.89.052805,
    Sec. II). At ``V = Vth, s = s_eq`` every sigmoid sits at its midpoint, so that point is an
    exact fixed point of the full nonlinear model under the same constant input.

    Parameters
    ----------
    cc : CompiledCircuit
        A graded-model circuit (its per-neuron ``ar``, ``ad`` arrays give ``s_eq``).
    current : ndarray, shape (n,) or (k, n), optional
        Constant input currents, pA; none when omitted.

    Returns
    -------
    ndarray, shape (n,) or (k, n)
    """
    if cc.model != "graded":
        raise SimulationError("thresholds are defined for the graded model only")
    p = cc.neuron_params
    s_eq = p["ar"] / (p["ar"] + 2.0 * p["ad"])
    gsyn = cc.dense("chemical") * s_eq[None, :]
    esyn = np.zeros((cc.n, cc.n))
    np.add.at(esyn, (cc.post, cc.pre), cc.synapse_params["g"] * cc.synapse_params["erev"])
    ggap = cc.dense("electrical")
    m = -ggap
    m[np.diag_indices(cc.n)] += p["Gc"] + ggap.sum(1) + gsyn.sum(1)
    rhs = p["Gc"] * p["Ec"] + esyn @ s_eq
    if current is None:
        return lu_solve(m, rhs[None, :])[0]
    cur = np.asarray(current, dtype=np.float64) * cc.params.current_scale
    if cur.ndim == 1:
        return lu_solve(m, (rhs + cur)[None, :])[0]
    return lu_solve(m, np.ascontiguousarray(rhs[None, :] + cur))
