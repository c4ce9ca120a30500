"""Sweeps: a grid of points over one base run, one row of metrics per point, as a DataFrame.

A sweep starts from one base run (a dataset or circuit, a model, stimuli, parameters, an
ablation, a duration) and varies it along axes:

==================  ======================================================================
axis                values
==================  ======================================================================
``ablate``          neuron or class sets removed before compiling (``"AVA+AVB"``, a list,
                    or ``""`` for none), on top of the base ablation
``dataset``         dataset keys (the base source must be a dataset)
``stim.K.FIELD``    a field of the K-th base stimulus, e.g. ``stim.0.amp``
any model field     a parameter of the model (``gsyn``, ``E_inh``, ``weight_map`` ...)
==================  ======================================================================

``grid`` takes the cartesian product of the axes (first axis slowest); ``points`` lists the
points one by one. Each point is simulated and summarised by metrics:

====================  ================================================================
metric                value
====================  ================================================================
``period``            dominant period of the first principal component of ``neurons``
``strength``          its autocorrelation at that period (1: perfectly periodic)
``amplitude``         largest peak-to-peak range of a neuron of ``neurons`` (mV)
``amplitude_pc1``     peak-to-peak range of the first principal component (mV)
``modes2``            variance fraction carried by the first two components
``peak:NAME``         signed largest deviation of neuron NAME from its value at ``onset``
``latency:NAME``      time from ``onset`` to 10% of that peak
``mean:NAME``         mean potential of NAME over the window
``ptp:NAME``          peak-to-peak range of NAME over the window
a callable            ``f(SimResult) -> float`` (or a mapping name -> float)
====================  ================================================================

(:func:`sim.analysis.oscillation_summary` and :func:`sim.analysis.response_summary`), over the
window from ``start`` (a third of the run when omitted) to the end.

Points that share a compiled network (same source and ablation) run together through
:func:`sim.simulate_batch`; the points are cut into chunks (:func:`plan`) and every chunk is
run by :func:`run_chunk`, in this process or on dask workers (:mod:`sim.distributed`), so
both give the same table bit for bit. A point that fails (divergence, a parameter value out
of range) gets a row with its ``error``; it never stops the sweep.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import numba
import numpy as np
import pandas as pd

import connectome
import sim
from connectome.errors import SimulationError, UnknownNeuronError, WormlabError
from sim.analysis import oscillation_summary, response_summary
from sim.models import MODELS, default_params
from sim.stimulus import KINDS, Stimulus, parse_stimulus
from sim.threads import one_blas_thread

__all__ = [
    "OSCILLATION_METRICS",
    "NEURON_METRICS",
    "SweepSpec",
    "Chunk",
    "sweep_spec",
    "check",
    "plan",
    "run_chunk",
    "assemble",
    "compiled_network",
    "load_source",
    "sweep",
]

#: Metrics of the oscillation of the ``neurons`` set.
OSCILLATION_METRICS = ("period", "strength", "amplitude", "amplitude_pc1", "modes2")
#: Metrics of one neuron, written ``KIND:NAME``.
NEURON_METRICS = ("peak", "latency", "mean", "ptp")
_SPECIAL_AXES = ("ablate", "dataset")
_DEFAULT_METRICS = ("period", "strength", "amplitude")


@dataclass(frozen=True)
class Chunk:
    """A run of points that one task simulates: ``index`` in the plan, point numbers."""

    index: int
    points: tuple


@dataclass(frozen=True)
class SweepSpec:
    """A checked, hashable description of a sweep (build it with :func:`sweep_spec`).

    Attributes
    ----------
    source : str
        Dataset key, or a wiring JSON text (:func:`connectome.io.to_json`).
    model : {"graded", "ltc"}
    stimulus : tuple of str
        Base stimuli in :func:`sim.stimulus.parse_stimulus` form.
    params : tuple of (name, value)
        Base parameter overrides.
    ablate : tuple of str
        Base ablation (neurons or classes).
    duration, dt, record_every
        As for :func:`sim.simulate` (``dt``: the model's when not given; None when ``dt`` is
        an axis, each point's own; s for graded).
    axes : tuple of str
        The axes the points vary.
    points : tuple of tuple
        Each point's values, in the order of ``axes`` (ablation sets as tuples of names).
    metrics : tuple of str or callable
    neurons : tuple of str
        Neurons or classes of the oscillation metrics (all when empty).
    start : float or None
        Start of the analysis window (a third of the run when None).
    onset : float
        Input onset for ``peak:`` and ``latency:`` metrics.
    lanes : int
        Items integrated side by side in one kernel thread.
    chunk_size : int
        Points per task.
    """

    source: str
    model: str
    stimulus: tuple
    params: tuple
    ablate: tuple
    duration: float
    dt: float | None
    record_every: int
    axes: tuple
    points: tuple
    metrics: tuple
    neurons: tuple
    start: float | None
    onset: float
    lanes: int
    chunk_size: int

    def __repr__(self):
        src = "circuit" if self.is_circuit else self.source
        return (
            f"<SweepSpec {self.model} on {src}: {len(self.points)} points over "
            f"{', '.join(self.axes)}; metrics {', '.join(self.metric_names)}>"
        )

    @property
    def is_circuit(self):
        """Whether ``source`` is a wiring JSON text (else a dataset key)."""
        return self.source.lstrip().startswith("{")

    @property
    def window_start(self):
        """Start of the analysis window (model time)."""
        return self.duration / 3.0 if self.start is None else self.start

    @property
    def metric_names(self):
        """Column name of each metric (a callable's ``__name__``)."""
        return tuple(m if isinstance(m, str) else _callable_name(m) for m in self.metrics)

    def to_dict(self):
        """The spec as JSON-able data (callable metrics as ``module:qualname``)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "metrics":
                value = [m if isinstance(m, str) else _callable_id(m) for m in value]
            elif f.name == "params":
                value = dict(value)
            elif f.name == "points":
                value = [[_json_value(v) for v in p] for p in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    def fingerprint(self):
        """sha256 of the canonical JSON of :meth:`to_dict`: the identity of a sweep's rows."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _json_value(v):
    return list(v) if isinstance(v, tuple) else v


def _callable_name(f):
    name = getattr(f, "__name__", type(f).__name__)
    return "lambda" if name == "<lambda>" else name


def _callable_id(f):
    return f"{getattr(f, '__module__', '?')}:{getattr(f, '__qualname__', _callable_name(f))}"


# --------------------------------------------------------------------------- building a spec
def _names(value, what):
    """A neuron-name list from ``"A+B"``, ``"A,B"``, a sequence, or ``""``/None (none)."""
    if value is None:
        return ()
    if isinstance(value, str):
        parts = value.replace(",", "+").split("+")
    elif isinstance(value, Sequence):
        parts = list(value)
    else:
        raise SimulationError(f"{what} = {value!r}: give neuron or class names")
    out = []
    for p in parts:
        if not isinstance(p, str):
            raise SimulationError(f"{what} = {value!r}: {p!r} is not a neuron or class name")
        p = p.strip()
        if p and p not in out:
            out.append(p)
    return tuple(out)


def _stimulus_specs(stimulus):
    if stimulus is None:
        return ()
    if isinstance(stimulus, str | Stimulus):
        stimulus = [stimulus]
    out = []
    for s in stimulus:
        if isinstance(s, Stimulus):
            if s.kind == "array":
                raise SimulationError("array stimuli cannot be swept; use step, pulse, sine ...")
            s = s.spec()
        if not isinstance(s, str):
            raise SimulationError(f"stimulus {s!r}: give 'TARGET:kind:key=value,...' strings")
        parse_stimulus(s)  # raises on a bad spec
        out.append(s)
    return tuple(out)


def _axis_kind(axis, model, stimuli):
    """'ablate', 'dataset', 'stim' or 'param' for a known axis name; raises otherwise."""
    if axis in _SPECIAL_AXES:
        return axis
    param_names = [f.name for f in fields(default_params(model))]
    if axis in param_names:
        return "param"
    if axis.startswith("stim."):
        parts = axis.split(".")
        if len(parts) != 3 or not parts[1].isdigit():
            raise SimulationError(f"axis {axis!r}: write stim.K.FIELD, e.g. stim.0.amp")
        k, name = int(parts[1]), parts[2]
        if k >= len(stimuli):
            raise SimulationError(
                f"axis {axis!r}: the base run has {len(stimuli)} stimuli (stim.0 .. "
                f"stim.{len(stimuli) - 1}); add the stimulus first"
            )
        kind = parse_stimulus(stimuli[k]).kind
        required, optional = KINDS[kind]
        allowed = [*required, *optional]
        if name not in allowed or name == "interp":
            raise SimulationError(f"axis {axis!r}: a {kind} stimulus has fields {allowed}")
        return "stim"
    raise SimulationError(
        f"unknown axis {axis!r}; use ablate, dataset, stim.K.FIELD (e.g. stim.0.amp) or a "
        f"{model} parameter: {', '.join(param_names)}"
    )


def _axis_value(axis, kind, value):
    if kind == "ablate":
        return _names(value, f"ablate value in axis {axis!r}")
    if kind == "dataset":
        if not isinstance(value, str) or not value:
            raise SimulationError(f"axis dataset: {value!r} is not a dataset key")
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real | str):
        raise SimulationError(f"axis {axis!r}: value {value!r} must be a number or a string")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if kind == "stim":
        raise SimulationError(f"axis {axis!r}: value {value!r} must be a number")
    return value


def _metric(m, model):
    if callable(m) and not isinstance(m, str):
        return m
    if not isinstance(m, str):
        raise SimulationError(f"metric {m!r}: give a metric name or a function of a SimResult")
    m = m.strip()
    if m in OSCILLATION_METRICS:
        return m
    kind, sep, name = m.partition(":")
    if sep and kind in NEURON_METRICS and name.strip():
        return f"{kind}:{name.strip()}"
    raise SimulationError(
        f"unknown metric {m!r}; use {', '.join(OSCILLATION_METRICS)}, "
        f"{', '.join(k + ':NAME' for k in NEURON_METRICS)} or a function of a SimResult"
    )


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise SimulationError(f"{name} = {value!r} must be a positive integer")
    return int(value)


def _number(name, value, *, allow_none=False, positive=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise SimulationError(f"{name} = {value!r} must be a finite number")
    if positive and value <= 0:
        raise SimulationError(f"{name} = {value!r} must be > 0")
    return float(value)


def _source_text(source):
    if isinstance(source, str):
        if not source.strip():
            raise SimulationError("source is empty: give a dataset key or a circuit")
        if not source.lstrip().startswith("{"):
            connectome.dataset_info(source)  # raises UnknownDatasetError with the keys
        return source
    if isinstance(source, connectome.Circuit):
        return connectome.io.to_json(source)
    raise SimulationError(
        f"source {type(source).__name__}: give a dataset key (e.g. 'varshney2011') or a "
        "connectome.Circuit"
    )


def sweep_spec(
    source="cook2019",
    stimulus=(),
    *,
    grid=None,
    points=None,
    model="graded",
    params=None,
    ablate=(),
    duration=10.0,
    dt=None,
    record_every=20,
    metrics=_DEFAULT_METRICS,
    neurons=(),
    start=None,
    onset=0.0,
    lanes=16,
    chunk_size=32,
):
    """Check and freeze the description of a sweep (no data is read but the dataset list).

    Parameters
    ----------
    source : str or connectome.Circuit
        Dataset key, wiring JSON text, or a circuit.
    stimulus : str, Stimulus or sequence of them
        Base stimuli (not ``array``).
    grid : mapping of axis -> sequence of values, optional
        Cartesian product of the axes (first axis slowest).
    points : sequence of mappings axis -> value, optional
        Points one by one (all with the same axes). Give ``grid`` or ``points``.
    model, params, ablate, duration, dt, record_every
        The base run (see :func:`sim.simulate`); ``params`` is a mapping of overrides.
    metrics : sequence of str or callable
        See the module docstring.
    neurons : str or sequence of str
        Neurons or classes of the oscillation metrics (all when empty).
    start, onset : float
        Start of the analysis window (default a third of the run); onset of the input for
        ``peak:`` and ``latency:``.
    lanes, chunk_size : int
        Items per kernel thread (16); points per task (32). Both shape the floating-point
        work, so the same values give the same table everywhere. Lanes pay on points that
        share a network and parameters (an amplitude sweep of 64 points on Cook 2019: 2.0x
        the synapse updates per CPU-second of lone runs with 8 lanes, 2.65x with 32;
        ``benchmarks/bench_sweep.py --batch``).

    Returns
    -------
    SweepSpec

    Raises
    ------
    SimulationError
        For an empty grid, an unknown axis, parameter or metric, a bad value type or range.
    UnknownDatasetError
        For an unknown dataset key.
    """
    if model not in MODELS:
        raise SimulationError(f"unknown model {model!r}; use one of {MODELS}")
    src = _source_text(source)
    stimuli = _stimulus_specs(stimulus)
    if params is not None and not isinstance(params, Mapping):
        raise SimulationError(f"params = {params!r}: give a mapping of parameter -> value")
    base = default_params(model, **dict(params or {}))  # raises on unknown names and bad values
    if grid is not None and points is not None:
        raise SimulationError("give grid (a cartesian product) or points (a list), not both")
    if grid is not None:
        if not isinstance(grid, Mapping) or not grid:
            raise SimulationError(
                "the grid is empty: give grid={axis: values}, e.g. {'stim.0.amp': [0, 2000]}"
            )
        axes = tuple(str(a) for a in grid)
        kinds = [_axis_kind(a, model, stimuli) for a in axes]
        columns = []
        for a, k in zip(axes, kinds, strict=True):
            values = grid[a]
            if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
                raise SimulationError(f"axis {a!r}: give a list of values, not {values!r}")
            if len(values) == 0:
                raise SimulationError(f"axis {a!r} has no values: the grid is empty")
            columns.append([_axis_value(a, k, v) for v in values])
        rows = tuple(itertools.product(*columns))
    elif points is not None:
        if isinstance(points, Mapping) or not isinstance(points, Sequence) or not points:
            raise SimulationError("points is empty: give a list of {axis: value} mappings")
        for p in points:
            if not isinstance(p, Mapping):
                raise SimulationError(f"point {p!r}: give a mapping of axis -> value")
        axes = tuple(str(a) for a in points[0])
        kinds = [_axis_kind(a, model, stimuli) for a in axes]
        rows = []
        for i, p in enumerate(points):
            if tuple(str(a) for a in p) != axes:
                raise SimulationError(
                    f"point {i} has axes {list(p)}; every point needs the same axes {list(axes)}"
                )
            rows.append(tuple(_axis_value(a, k, p[a]) for a, k in zip(axes, kinds, strict=True)))
        rows = tuple(rows)
    else:
        raise SimulationError(
            "the sweep has no points: give grid={axis: values} or points=[{axis: value}, ...]"
        )
    if "dataset" in axes:
        if src.lstrip().startswith("{"):
            raise SimulationError("a dataset axis needs a dataset as the base source")
        for row in rows:
            connectome.dataset_info(row[axes.index("dataset")])
    if not isinstance(metrics, Sequence) or isinstance(metrics, str):
        metrics = [metrics]
    metric_list = tuple(_metric(m, model) for m in metrics)
    if not metric_list:
        raise SimulationError("no metrics: give at least one (e.g. 'period')")
    names = [m if isinstance(m, str) else _callable_name(m) for m in metric_list]
    clash = sorted({n for n in names if names.count(n) > 1} | (set(names) & set(axes)))
    if clash:
        raise SimulationError(f"metric name(s) {clash} repeat a metric or an axis")
    duration = _number("duration", duration, positive=True)
    dt = _number("dt", dt, allow_none=True, positive=True)
    if dt is not None and "dt" in axes:
        raise SimulationError("dt is an axis of the sweep: leave the base dt out")
    start = _number("start", start, allow_none=True)
    if start is not None and not 0 <= start < duration:
        raise SimulationError(f"start = {start!r} must lie in [0, duration = {duration})")
    return SweepSpec(
        source=src,
        model=model,
        stimulus=stimuli,
        params=tuple(sorted(dict(params or {}).items())),
        ablate=_names(ablate, "ablate"),
        duration=duration,
        dt=None if "dt" in axes else float(base.dt) if dt is None else dt,
        record_every=_positive_int("record_every", record_every),
        axes=axes,
        points=rows,
        metrics=metric_list,
        neurons=_names(neurons, "neurons"),
        start=start,
        onset=_number("onset", onset),
        lanes=_positive_int("lanes", lanes),
        chunk_size=_positive_int("chunk_size", chunk_size),
    )


# --------------------------------------------------------------------------- networks
@functools.lru_cache(maxsize=16)
def load_source(source):
    """The Connectome of a dataset key or the Circuit of a wiring JSON text (cached)."""
    if source.lstrip().startswith("{"):
        return connectome.io.from_json(source)
    return connectome.load(source)


@functools.lru_cache(maxsize=32)
def compiled_network(source, model, params, ablate):
    """The compiled network of a dataset key or wiring JSON text, cached by content.

    A pure function of its (hashable) arguments, so each process (a dask worker, the app)
    compiles a network once and reuses it for every batch on it.

    Parameters
    ----------
    source : str
        Dataset key or wiring JSON text.
    model : str
    params : GradedParams or LTCParams
    ablate : tuple of str
    """
    return sim.compile_circuit(load_source(source), model, params, ablate=ablate)


def _point_fields(spec, values):
    """(source, ablate, params overrides, stimulus overrides) of one point."""
    source, ablate, over, stim = spec.source, spec.ablate, dict(spec.params), {}
    for axis, v in zip(spec.axes, values, strict=True):
        if axis == "ablate":
            ablate = ablate + tuple(x for x in v if x not in ablate)
        elif axis == "dataset":
            source = v
        elif axis.startswith("stim."):
            _, k, name = axis.split(".")
            stim.setdefault(int(k), {})[name] = v
        else:
            over[axis] = v
    return source, ablate, over, stim


def check(spec):
    """Check a spec against the data before any work: every source loads, every ablation set
    and stimulus target and metric neuron exists in every source it meets.

    Raises
    ------
    UnknownNeuronError
        Naming the bad neuron, the ablation set or stimulus, and the dataset.
    WormlabError
        A source that does not load or compile.
    """
    base = default_params(spec.model, **dict(spec.params))
    sources = {spec.source}
    sets = {spec.ablate}
    for values in spec.points:
        source, ablate, _, _ = _point_fields(spec, values)
        sources.add(source)
        sets.add(ablate)
    metric_neurons = [m.split(":", 1)[1] for m in spec.metrics if isinstance(m, str) and ":" in m]
    for source in sorted(sources):
        net = load_source(source)
        where = "the circuit" if source.lstrip().startswith("{") else source
        for ablate in sorted(sets):
            try:
                net.resolve(list(ablate))
            except UnknownNeuronError as err:
                raise UnknownNeuronError(
                    err.name, err.suggestions, f"{where} (ablation set {'+'.join(ablate)})"
                ) from err
        cc = compiled_network(source, spec.model, base, spec.ablate)
        for s in spec.stimulus:
            cc.resolve(list(parse_stimulus(s).target))
        for name in (*spec.neurons, *metric_neurons):
            cc.resolve([name])


def plan(spec):
    """Cut the points into chunks: points on the same network (source and ablation) in order
    of first appearance, ``chunk_size`` at a time. A pure function of the spec.

    Returns
    -------
    tuple of Chunk
    """
    groups = {}
    for i, values in enumerate(spec.points):
        source, ablate, _, _ = _point_fields(spec, values)
        groups.setdefault((source, ablate), []).append(i)
    chunks = []
    for members in groups.values():
        for s in range(0, len(members), spec.chunk_size):
            chunks.append(Chunk(len(chunks), tuple(members[s : s + spec.chunk_size])))
    return tuple(chunks)


# --------------------------------------------------------------------------- running a chunk
def _stimuli(spec, overrides):
    out = []
    for k, s in enumerate(spec.stimulus):
        stim = parse_stimulus(s)
        if k in overrides:
            stim = Stimulus(stim.target, stim.kind, {**stim.params, **overrides[k]})
        out.append(stim)
    return out


def _neuron_set(cc, names):
    """The names of ``names`` still in ``cc`` (ablated ones left out); all when empty."""
    if not names:
        return None
    kept = []
    for name in names:
        try:
            kept.extend(cc.resolve([name]))
        except UnknownNeuronError:
            if not any(name.lower() == a.lower() for a in cc.ablated + cc.ablated_classes):
                raise
    if not kept:
        raise SimulationError(f"every neuron of the metric set {list(names)} was ablated")
    return kept


def _metrics(spec, result):
    out = {}
    start = spec.window_start
    osc = None
    for m, name in zip(spec.metrics, spec.metric_names, strict=True):
        if not isinstance(m, str):
            value = m(result)
            if isinstance(value, Mapping):
                for k, v in value.items():
                    out[f"{name}.{k}"] = float(v)
            else:
                out[name] = float(value)
        elif m in OSCILLATION_METRICS:
            if osc is None:
                osc = oscillation_summary(
                    result, _neuron_set(result.circuit, spec.neurons), start=start
                )
            out[m] = {
                "period": osc.period,
                "strength": osc.strength,
                "amplitude": osc.amplitude,
                "amplitude_pc1": osc.amplitude_pc[0] if osc.amplitude_pc else math.nan,
                "modes2": float(sum(osc.explained[:2])),
            }[m]
        else:
            kind, target = m.split(":", 1)
            if kind in ("peak", "latency"):
                r = response_summary(result, target, onset=spec.onset)
                out[m] = float(r[kind].iloc[0])
            else:
                v = np.asarray(result.trace(target)[result.t >= start], dtype=np.float64)
                out[m] = float(v.mean() if kind == "mean" else np.ptp(v))
    return out


def _error_text(err):
    return f"{type(err).__name__}: {err}"


class _Threads:
    """Run numba's parallel kernels on ``n`` threads inside a ``with`` block."""

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        self.before = numba.get_num_threads()
        numba.set_num_threads(max(1, min(self.n, self.before)))

    def __exit__(self, *exc):
        numba.set_num_threads(self.before)


def _simulate(spec, cc, stimuli, params, threads):
    with _Threads(threads):
        return sim.simulate_batch(
            cc,
            stimuli,
            params=params,
            duration=spec.duration,
            dt=spec.dt,
            record_every=spec.record_every,
            lanes=spec.lanes,
        )


def _kernel_calls(items):
    """Group ``(point, stimuli, params)`` items into kernel calls whose lane layout does not
    depend on the number of threads: the items of a parameter set used twice or more form one
    call each; the rest (one item per parameter set) share one call per (dt, unfolds)."""
    by_params = {}
    for item in items:
        by_params.setdefault(item[2], []).append(item)
    calls, singles = [], {}
    for p, group in by_params.items():
        if len(group) > 1:
            calls.append(group)
        else:
            singles.setdefault((p.dt, p.unfolds), []).extend(group)
    return calls + list(singles.values())


def _threads_for(call, lanes):
    """Threads that make :func:`sim.simulate_batch` cut a call into consecutive blocks of
    ``lanes`` items (or one item each, for a call of distinct parameter sets)."""
    if len({item[2] for item in call}) > 1:
        return numba.get_num_threads()
    return max(1, len(call) // lanes)


def run_chunk(spec, chunk):
    """Simulate the points of one chunk and return their rows (see :func:`assemble`).

    The task a dask worker runs; in-process runs call it too, so both do the same floating-
    point work. Every point of a chunk is on one network, compiled once per process
    (:func:`compiled_network`). A kernel call that fails is re-run point by point, so only
    the failing points get an ``error``. BLAS runs on one thread (the metrics' small SVDs are
    many times slower threaded on a busy machine, and the result must not depend on it).
    """
    with one_blas_thread():
        return _run_chunk(spec, chunk)


def _run_chunk(spec, chunk):
    rows, items = {}, []
    base_source, base_ablate, _, _ = _point_fields(spec, spec.points[chunk.points[0]])
    for i in chunk.points:  # every point of a chunk is on the same network (see plan)
        _, _, over, stim = _point_fields(spec, spec.points[i])
        try:
            params = default_params(spec.model, **over)
            stimuli = _stimuli(spec, stim)
        except WormlabError as err:
            rows[i] = {"error": _error_text(err)}
            continue
        items.append((i, stimuli, params))
    cc = None
    if items:
        try:
            cc = compiled_network(
                base_source, spec.model, default_params(spec.model, **dict(spec.params)),
                base_ablate,
            )  # fmt: skip
        except WormlabError as err:
            for i, _, _ in items:
                rows[i] = {"error": _error_text(err)}
            items = []
    for call in _kernel_calls(items):
        try:
            results = _simulate(
                spec, cc, [s for _, s, _ in call], [p for _, _, p in call],
                _threads_for(call, spec.lanes),
            )  # fmt: skip
            done = list(zip(call, results, strict=True))
        except WormlabError as err:
            if len(call) == 1:
                rows[call[0][0]] = {"error": _error_text(err)}
                continue
            done = []
            for item in call:  # again one by one: only the failing points get an error
                try:
                    done.append((item, _simulate(spec, cc, [item[1]], [item[2]], 1)[0]))
                except WormlabError as one:
                    rows[item[0]] = {"error": _error_text(one)}
        for (i, _, _), result in done:
            try:
                rows[i] = {**_metrics(spec, result), "error": ""}
            except Exception as err:  # a user's metric function must not stop the sweep
                rows[i] = {"error": _error_text(err)}
    return pd.DataFrame([{"point": i, "chunk": chunk.index, **rows[i]} for i in chunk.points])


def assemble(spec, frames):
    """One table from chunk rows, the same whatever order the chunks finished in.

    Columns: ``point`` (the point's number), one column per axis (ablation sets as
    ``"A+B"``, ``""`` for none), the metrics (float64; a callable's mapping as
    ``name.key``, sorted), ``error`` (``""`` when the point ran). One row per point, in order.
    """
    frames = [f for f in frames if len(f)]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"point": []})
    rows = rows.sort_values("point", kind="stable").reset_index(drop=True)
    out = {"point": rows["point"].to_numpy(np.int64)}
    values = [spec.points[i] for i in out["point"]]
    for j, axis in enumerate(spec.axes):
        col = [v[j] for v in values]
        if axis == "ablate":
            out[axis] = pd.array(["+".join(v) for v in col], dtype="str")
        elif all(isinstance(p[j], int) for p in spec.points):
            out[axis] = np.asarray(col, dtype=np.int64)
        elif all(isinstance(p[j], int | float) for p in spec.points):
            out[axis] = np.asarray(col, dtype=np.float64)
        else:
            out[axis] = pd.array([str(v) for v in col], dtype="str")
    fixed = [m for m in spec.metrics if isinstance(m, str)]
    extra = sorted(c for c in rows.columns if c not in (*fixed, "point", "chunk", "error"))
    for name in (*fixed, *extra):
        col = rows[name] if name in rows else pd.Series(np.nan, index=rows.index)
        out[name] = col.to_numpy(np.float64, na_value=np.nan)
    err = rows["error"] if "error" in rows else pd.Series("", index=rows.index)
    out["error"] = pd.array(err.fillna("").astype(str).to_list(), dtype="str")
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- the entry point
def sweep(
    source="cook2019",
    stimulus=(),
    *,
    grid=None,
    points=None,
    spec=None,
    workers=None,
    scheduler=None,
    client=None,
    out=None,
    progress=None,
    should_stop=None,
    **options,
):
    """Run a sweep: one row of metrics per point, in-process or on dask.distributed.

    Parameters
    ----------
    source, stimulus, grid, points, **options
        The sweep (see :func:`sweep_spec` for ``model``, ``params``, ``ablate``,
        ``duration``, ``metrics``, ``neurons`` ...), or give a built ``spec``.
    workers : int, optional
        Run on a dask LocalCluster of this many worker processes (started and closed here).
    scheduler : str, optional
        Address of a running dask scheduler (``tcp://host:8786``).
    client : distributed.Client, optional
        A client the caller manages.
    out : str or path, optional
        A Parquet directory the rows are appended to as chunks finish; the same sweep with
        the same ``out`` skips the chunks already there (:mod:`sim.sweepstore`).
    progress : callable, optional
        Called with the fraction of points done (0..1) after each chunk.
    should_stop : callable, optional
        Asked after each chunk; when it returns True the sweep stops (pending dask tasks are
        cancelled) and returns the rows done so far.

    Returns
    -------
    pandas.DataFrame
        See :func:`assemble`. The same spec gives the same table, bit for bit, in-process and
        on dask with any number of workers, resumed or not.

    Examples
    --------
    >>> df = sweep("varshney2011", "PLM:step:amp=2000", grid={"stim.0.amp": [0.0, 500.0]},
    ...            metrics=["mean:AVBL"], duration=0.05)
    >>> df.columns.tolist()
    ['point', 'stim.0.amp', 'mean:AVBL', 'error']
    """
    from sim import distributed
    from sim.sweepstore import SweepStore

    if spec is None:
        spec = sweep_spec(source, stimulus, grid=grid, points=points, **options)
    elif grid is not None or points is not None or options:
        raise SimulationError("give a spec or the sweep's arguments, not both")
    check(spec)
    chunks = plan(spec)
    store = SweepStore(out, spec) if out is not None else None
    done = store.done() if store is not None else set()
    todo = [c for c in chunks if c.index not in done]
    frames = []
    total = len(spec.points)
    finished = total - sum(len(c.points) for c in todo)
    if progress is not None and todo:
        progress(finished / total)
    runs = distributed.execute(spec, todo, workers=workers, scheduler=scheduler, client=client)
    try:
        for chunk, rows in runs:
            if store is not None:
                store.write(chunk, rows)
            else:
                frames.append(rows)
            finished += len(chunk.points)
            if progress is not None:
                progress(finished / total)
            if should_stop is not None and should_stop():
                break
    finally:
        runs.close()  # cancels what is still pending on dask
    if store is not None:
        frames = store.read()
    return assemble(spec, frames)
