"""Baselines: controllers that ask whether a circuit's wiring matters.

Each baseline is a :class:`~sim.control.Controller` like any other (same file format, same
trainer :func:`sim.trainer.train`, same evaluation on held-out episodes); :func:`baseline`
builds one by name from a circuit and an environment:

================  ===========================================================================
name              what
================  ===========================================================================
``circuit``       the circuit itself (LTC core), for reference
``linear``        a linear policy ``y = W z + b`` (``obs_dim + 1`` parameters for a 1-D or
                  Discrete action; core ``linear``)
``mlp``           a one-hidden-layer tanh MLP, ``y = w2 . tanh(W1 z + b1) + b``, its width
                  chosen so its parameter count is closest to the circuit's (core ``mlp``)
``shuffled``      the circuit with its wiring shuffled by seeded degree-preserving swaps:
                  chemical synapses keep every neuron's in- and out-degree (and each synapse
                  its presynaptic neuron's sign and its count); gap junctions keep every
                  neuron's gap degree
``no_inter``      the circuit with its interneurons (role ``inter``) and their synapses
                  removed: sensory -> motor paths only
``full_ltc``      a fully connected LTC of the same neurons and roles: every ordered pair
                  (self-connections included) has a chemical synapse, no gap junctions, signs
                  drawn as ``ncps.wirings.FullyConnected`` draws them (+1 with probability
                  2/3, seeded)
================  ===========================================================================

The linear and MLP baselines are expressed in the controller's own terms: their "neurons"
are a hidden layer (role sensory: the dense input map drives them) and two read-out units
(role motor: the difference output reads ``u_a - u_b``; ``u_b`` is held at 0), connected by
"synapses" whose strength is a signed weight (range [-5, 5]); the ranges of the LTC-only
groups are fixed, so only the policy's own parameters are trained (:attr:`Controller.n_free`).
For actions with more than one component the read-out is dense (one motor unit per component).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from connectome.errors import ControllerError
from sim.control import Controller
from sim.envs import EnvSpec, env_info
from sim.ranges import DEFAULT_RANGES

__all__ = ["BASELINES", "WiringSource", "baseline", "shuffle_wiring", "remove_interneurons",
           "fully_connected", "mlp_width"]  # fmt: skip

BASELINES = ("circuit", "linear", "mlp", "shuffled", "no_inter", "full_ltc")

_STATIC_FIXED = ("mu", "sigma", "gap", "cm", "gleak", "vleak", "in_gain")


@dataclass(frozen=True)
class WiringSource:
    """A wiring a :class:`Controller` can be built from (what a ``connectome.Circuit``
    offers): a neuron table indexed by name with a ``role`` column, and an edge table
    (pre, post, kind, weight, sign)."""

    name: str
    neurons: pd.DataFrame
    edges: pd.DataFrame


def _tables(circuit):
    neurons = getattr(circuit, "neurons", None)
    edges = getattr(circuit, "edges", None)
    if neurons is None or edges is None or "role" not in neurons.columns:
        raise ControllerError(f"{circuit!r} is not a circuit with roles (.neurons.role, .edges)")
    return neurons.copy(), edges.reset_index(drop=True).copy()


def _swap(pairs, rng, n_swaps, undirected):
    """Degree-preserving double-edge swaps of ``pairs`` ((m, 2) int), no duplicate edges (and
    no self-pairs when ``undirected``)."""
    pairs = pairs.copy()
    m = pairs.shape[0]
    if m < 2:
        return pairs
    key = (lambda a, b: (min(a, b), max(a, b))) if undirected else (lambda a, b: (a, b))
    present = {key(a, b) for a, b in pairs.tolist()}
    for _ in range(n_swaps):
        i, j = rng.integers(0, m, size=2)
        if i == j:
            continue
        a, b = pairs[i]
        c, d = pairs[j]
        if undirected and rng.random() < 0.5:
            c, d = d, c
        new1, new2 = key(a, d), key(c, b)
        if new1 == new2 or new1 in present or new2 in present:
            continue
        if undirected and (a == d or c == b):
            continue
        present -= {key(a, b), key(c, d)}
        present |= {new1, new2}
        pairs[i] = (a, d)
        pairs[j] = (c, b)
    return pairs


def shuffle_wiring(circuit, seed=0, swaps_per_edge=10) -> WiringSource:
    """The circuit with its wiring shuffled by seeded degree-preserving double-edge swaps.

    Chemical synapses ``a -> b, c -> d`` become ``a -> d, c -> b`` (each keeps its
    presynaptic neuron, so its count and transmitter sign); gap-junction pairs are swapped
    as undirected edges (no self-pairs). Every neuron keeps its chemical in- and out-degree
    and its gap degree; no edge appears twice.

    Parameters
    ----------
    circuit : connectome.Circuit or WiringSource
    seed : int
        Seeds the swaps (``numpy.random.default_rng(seed)``).
    swaps_per_edge : int
        Attempted swaps per edge.
    """
    neurons, edges = _tables(circuit)
    names = [str(x) for x in neurons.index]
    idx = {x: i for i, x in enumerate(names)}
    rng = np.random.default_rng(int(seed))
    parts = []
    for kind in ("chemical", "electrical"):
        sub = edges[edges["kind"] == kind].copy()
        if kind == "electrical":
            sub = sub[sub["pre"] != sub["post"]]
        pairs = np.array([[idx[a], idx[b]] for a, b in zip(sub["pre"], sub["post"], strict=True)])
        pairs = pairs.reshape(-1, 2).astype(np.int64)
        pairs = _swap(pairs, rng, swaps_per_edge * len(sub), kind == "electrical")
        sub["pre"] = [names[a] for a in pairs[:, 0]]
        sub["post"] = [names[b] for b in pairs[:, 1]]
        parts.append(sub)
    name = f"{getattr(circuit, 'name', 'circuit')} shuffled (seed {seed})"
    return WiringSource(name, neurons, pd.concat(parts, ignore_index=True))


def remove_interneurons(circuit) -> WiringSource:
    """The circuit without its interneurons (role ``inter``) and their synapses."""
    neurons, edges = _tables(circuit)
    keep = neurons[neurons["role"] != "inter"]
    names = set(map(str, keep.index))
    edges = edges[edges["pre"].isin(names) & edges["post"].isin(names)]
    name = f"{getattr(circuit, 'name', 'circuit')} without interneurons"
    return WiringSource(name, keep, edges.reset_index(drop=True))


def fully_connected(circuit, seed=0) -> WiringSource:
    """A fully connected wiring of the circuit's neurons and roles (no gap junctions).

    Every ordered pair, self-connections included, gets one chemical synapse of count 1 and
    sign +1 with probability 2/3, else -1 (``ncps.wirings.FullyConnected``'s rule), drawn by
    ``numpy.random.default_rng(seed)``.
    """
    neurons, _ = _tables(circuit)
    names = [str(x) for x in neurons.index]
    rng = np.random.default_rng(int(seed))
    pre = [a for a in names for _ in names]
    post = [b for _ in names for b in names]
    signs = rng.choice(np.array([-1, 1, 1]), size=len(pre))
    edges = pd.DataFrame(
        {"pre": pre, "post": post, "kind": "chemical", "weight": 1.0, "sign": signs}
    )
    return WiringSource(f"fully connected ({len(names)} neurons)", neurons, edges)


def _static_source(n_hidden, n_motor, hidden_to_all):
    """Hidden units H1..Hh (sensory) and read-out units (motor) with H -> read-out synapses."""
    hidden = [f"H{k + 1}" for k in range(n_hidden)]
    motor = [f"Y{k + 1}" for k in range(n_motor)]
    neurons = pd.DataFrame(
        {"role": ["sensory"] * n_hidden + ["motor"] * n_motor}, index=pd.Index(hidden + motor)
    )
    targets = motor if hidden_to_all else motor[:1]
    pre = [h for h in hidden for _ in targets]
    post = [y for _ in hidden for y in targets]
    edges = pd.DataFrame({"pre": pre, "post": post, "kind": "chemical", "weight": 1.0, "sign": 1})
    return WiringSource("static", neurons, edges)


def _static_ranges(kind):
    fixed = {g: [DEFAULT_RANGES[g].lo] * 2 for g in _STATIC_FIXED}
    fixed["vleak"] = [0.0, 0.0]
    if kind == "linear":
        return {**fixed, "w": [1.0, 1.0], "in_b": [0.0, 0.0], "out_gain": [1.0, 1.0]}
    return {**fixed, "w": [-5.0, 5.0, "lin"], "out_gain": [1.0, 1.0]}


def _static(kind, env, n_hidden):
    one_d = env.discrete or env.act_dim == 1
    n_motor = 2 if one_d else env.act_dim
    if kind == "linear":
        n_hidden = 1 if one_d else env.act_dim
    source = _static_source(n_hidden, n_motor, hidden_to_all=not one_d)
    if kind == "linear" and not one_d:
        edges = source.edges
        keep = [a[1:] == b[1:] for a, b in zip(edges["pre"], edges["post"], strict=True)]
        source = WiringSource("static", source.neurons, edges[keep].reset_index(drop=True))
    output_map = "difference" if one_d else "dense"
    return Controller.from_circuit(
        source, env, input_map="dense", output_map=output_map, ranges=_static_ranges(kind),
        core=kind, output_neurons=("Y1", "Y2") if one_d else None,
    )  # fmt: skip


def mlp_width(n_params, env) -> int:
    """The hidden width whose MLP baseline has the parameter count closest to ``n_params``."""
    env = env if isinstance(env, EnvSpec) else env_info(env)
    one_d = env.discrete or env.act_dim == 1
    widths = range(1, 513)
    if one_d:  # W1 (h x k), b1 (h), w2 (h), b (1)
        counts = [h * (env.obs_dim + 2) + 1 for h in widths]
    else:  # W1, b1, w2 (h x m), dense out (m x m, m)
        m = env.act_dim
        counts = [h * (env.obs_dim + 1 + m) + m * m + m for h in widths]
    return int(widths[int(np.argmin(np.abs(np.asarray(counts) - n_params)))])


def baseline(name, circuit, env_id, *, seed=0, **controller_options) -> Controller:
    """Build baseline ``name`` (:data:`BASELINES`) of ``circuit`` for ``env_id``.

    Parameters
    ----------
    name : str
        One of :data:`BASELINES`.
    circuit : connectome.Circuit or WiringSource
        The circuit under test.
    env_id : str or EnvSpec
    seed : int
        Seeds the shuffle (``shuffled``) and the signs (``full_ltc``).
    **controller_options
        Options of :meth:`Controller.from_circuit` for the circuit-based baselines
        (``circuit``, ``shuffled``, ``no_inter``, ``full_ltc``); the MLP's width matches the
        parameter count of the circuit built with them.

    Examples
    --------
    >>> import connectome
    >>> tw = connectome.presets.tap_withdrawal(connectome.load("cook2019"))
    >>> baseline("linear", tw, "CartPole-v1").n_free
    5
    >>> baseline("circuit", tw, "CartPole-v1").n_free, baseline("mlp", tw, "CartPole-v1").n_free
    (174, 175)
    """
    if name not in BASELINES:
        raise ControllerError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")
    env = env_id if isinstance(env_id, EnvSpec) else env_info(env_id)
    if name == "linear":
        return _static("linear", env, 1)
    if name == "mlp":
        n = Controller.from_circuit(circuit, env, **controller_options).n_free
        return _static("mlp", env, mlp_width(n, env))
    source = {
        "circuit": lambda: circuit,
        "shuffled": lambda: shuffle_wiring(circuit, seed),
        "no_inter": lambda: remove_interneurons(circuit),
        "full_ltc": lambda: fully_connected(circuit, seed),
    }[name]()
    return Controller.from_circuit(source, env, **controller_options)
