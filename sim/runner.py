"""Run the models: one circuit, one or many stimuli or parameter sets, results as arrays.

:func:`simulate` runs one stimulus protocol; :func:`simulate_batch` runs many (different
stimuli, parameter sets or initial states) in one call of the parallel kernel, chunks of items
side by side with the whole time loop inside each chunk. Both return :class:`SimResult`.
:func:`prepare_batch` does the checking and encoding alone and hands back a :class:`BatchRun`
that the caller advances block by block (the body's two-way coupling does).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import numba
import numpy as np
import pandas as pd

from connectome import limits
from connectome.errors import DivergenceError, SimulationError
from sim import kernels
from sim.compiler import CompiledCircuit, Wiring, compile_circuit, graded_thresholds
from sim.ldl import ldl_pattern
from sim.stimulus import Stimulus, StimulusArrays, constant_epochs, encode, parse_stimulus

__all__ = [
    "SimResult",
    "BatchRun",
    "simulate",
    "simulate_batch",
    "prepare_batch",
    "prepare_run",
    "as_stimuli",
    "as_compiled",
    "count_steps",
    "warmup",
    "memory_available",
]

_LANES = 32  # batch items integrated side by side in one chunk (see benchmarks/bench_sim.py)


@dataclass(frozen=True, eq=False)
class SimResult:
    """The recorded trajectory of one run; its arrays are read-only (results are shared).

    Attributes
    ----------
    t : ndarray, shape (T,)
        Recording times (model time unit: s for graded), ``t[0] = 0`` the initial state.
    V : ndarray, shape (T, N), float32
        Membrane potentials (mV for graded) at ``t``.
    names : tuple of str
        Neuron of each column of ``V``.
    model : str
        "graded" or "ltc".
    params : GradedParams or LTCParams
        The model parameters.
    stimulus : tuple of Stimulus
        The input protocol.
    dt : float
        Integration step.
    record_every : int
        Steps between recordings.
    final_state : ndarray, shape (nvar, N), float64
        State after the last step (ltc: v; graded: V and s), to continue a run from.
    circuit : CompiledCircuit
        What was simulated.
    """

    t: np.ndarray
    V: np.ndarray
    names: tuple
    model: str
    params: object
    stimulus: tuple
    dt: float
    record_every: int
    final_state: np.ndarray = field(repr=False)
    circuit: CompiledCircuit = field(repr=False)

    def __repr__(self):
        return (
            f"<SimResult {self.model}: {len(self.names)} neurons, {len(self.t)} records over "
            f"{self.t[-1]:g} (dt {self.dt:g}, every {self.record_every}), "
            f"{len(self.stimulus)} stimuli>"
        )

    def indices(self, neurons=None):
        """Column indices of ``neurons`` (names or classes; all when None)."""
        if neurons is None:
            return np.arange(len(self.names))
        return self.circuit.indices(neurons)

    def trace(self, neuron):
        """The potential of one neuron over ``t`` (float32)."""
        idx = self.indices(neuron)
        if len(idx) != 1:
            raise SimulationError(f"{neuron!r} names {len(idx)} neurons; trace() takes one")
        return self.V[:, idx[0]]

    def to_dataframe(self, neurons=None):
        """``V`` as a DataFrame indexed by ``t`` with one column per neuron (all, or those of
        ``neurons``: names or classes)."""
        idx = self.indices(neurons)
        return pd.DataFrame(
            self.V[:, idx],
            index=pd.Index(self.t, name="t"),
            columns=pd.Index([self.names[i] for i in idx], name="neuron"),
        )


def memory_available():
    """Bytes of memory available for new allocations (Linux ``MemAvailable``; else total)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _gib(nbytes):
    return f"{nbytes / 2**30:.2f} GiB"


def as_stimuli(stimulus):
    """A stimulus specification (a :class:`Stimulus`, a string such as ``"PLM:step:amp=2000"``,
    a sequence of them, or None) as a tuple of :class:`Stimulus`."""
    if stimulus is None:
        return ()
    if isinstance(stimulus, Stimulus | str):
        stimulus = [stimulus]
    out = []
    for s in stimulus:
        if isinstance(s, str):
            s = parse_stimulus(s)
        if not isinstance(s, Stimulus):
            raise SimulationError(f"not a stimulus: {s!r} (use sim.stimulus.step(...) etc.)")
        out.append(s)
    return tuple(out)


def _steps(duration, dt):
    """Steps of ``dt`` in ``duration``, both checked (finite, ``dt`` in ``MIN_DT .. MAX_DT``,
    at most ``MAX_STEPS`` steps, a whole number of them)."""
    for name, value in (("duration", duration), ("dt", dt)):
        if not isinstance(value, int | float | np.floating | np.integer) or not math.isfinite(
            value
        ):
            raise SimulationError(f"{name} = {limits.shorten(value)} must be a finite number")
    if dt <= 0:
        raise SimulationError(f"dt = {dt!r} must be > 0")
    if duration <= 0:
        raise SimulationError(f"duration = {duration!r} must be > 0")
    limits.check_float(dt, "dt", limits.MIN_DT, limits.MAX_DT, SimulationError)
    if duration / dt > limits.MAX_STEPS + 0.5:
        raise SimulationError(
            f"duration = {duration!r} is {duration / dt:.3g} steps of dt = {dt!r}; a run has "
            f"at most {limits.MAX_STEPS:,} steps (1 .. {limits.MAX_STEPS:,}): shorten it or "
            "raise dt"
        )
    nsteps, nearest = count_steps(duration, dt)
    if nearest is not None:
        raise SimulationError(
            f"duration = {duration!r} is not a whole number of steps of dt = {dt!r}; "
            f"use {nearest[0]:.10g} or {nearest[1]:.10g}"
        )
    return nsteps


def count_steps(duration, dt):
    """Steps of ``dt`` in ``duration`` (both > 0), and whether that is a whole number.

    Returns
    -------
    nsteps : int
        ``duration / dt`` rounded.
    nearest : None or (float, float)
        None when ``duration`` is a whole number (>= 1) of steps to a relative 1e-6; else the
        two nearest durations that are.

    Examples
    --------
    >>> count_steps(1.0, 1e-4)
    (10000, None)
    >>> n, (lo, hi) = count_steps(1.00005, 1e-4); f"{lo:.10g} {hi:.10g}"
    '1 1.0001'
    """
    x = duration / dt
    nsteps = round(x)
    if nsteps < 1 or abs(x - nsteps) > 1e-6 * max(1.0, x):
        return nsteps, (max(1, math.floor(x)) * dt, max(1, math.ceil(x)) * dt)
    return nsteps, None


def as_compiled(circuit, model=None, params=None, ablate=()):
    """``circuit`` compiled for ``model`` with ``params`` and ``ablate`` (a
    :class:`CompiledCircuit` is handed back as is, and then takes none of them)."""
    if isinstance(circuit, CompiledCircuit):
        if params is not None or (ablate is not None and len(ablate)):
            raise SimulationError(
                "circuit is already compiled: give params/ablate to sim.compile_circuit, "
                "or use cc.with_params(...)"
            )
        if model is not None and model != circuit.model:
            raise SimulationError(f"circuit was compiled for {circuit.model!r}, not {model!r}")
        return circuit
    return compile_circuit(circuit, model or "graded", None, ablate=ablate or ())


def _initial_state(cc, initial, vth_rest):
    n = cc.n
    if cc.model == "graded":
        p = cc.neuron_params
        s_eq = p["ar"] / (p["ar"] + 2.0 * p["ad"])
        if isinstance(initial, str):
            if initial != "rest":
                raise SimulationError(f"initial = {initial!r}; use 'rest' or an array of V")
            return np.stack([vth_rest, s_eq])
        if isinstance(initial, tuple):
            parts = [np.asarray(x, dtype=np.float64) for x in initial]
        else:
            parts = [np.asarray(initial, dtype=np.float64), s_eq]
    else:
        if isinstance(initial, str):
            if initial != "rest":
                raise SimulationError(f"initial = {initial!r}; use 'rest' or an array of v")
            return cc.neuron_params["vleak"][None, :].copy()
        parts = [np.asarray(initial, dtype=np.float64)]
    for x in parts:
        if x.shape not in ((n,), ()):
            raise SimulationError(f"initial state has shape {x.shape}; expected ({n},)")
        if not np.all(np.isfinite(x)):
            raise SimulationError("initial state must be finite")
    return np.stack([np.broadcast_to(x, (n,)) for x in parts]).astype(np.float64)


def simulate(
    circuit,
    stimulus=(),
    *,
    duration,
    dt=None,
    model=None,
    params=None,
    ablate=(),
    record_every=1,
    initial="rest",
    progress=None,
    max_bytes=None,
):
    """Simulate one circuit under one input protocol.

    Parameters
    ----------
    circuit : CompiledCircuit, connectome.Connectome or connectome.Circuit
        A wiring source is compiled with ``model``, ``params`` and ``ablate``.
    stimulus : Stimulus, str or sequence of them
        Input protocols (strings as ``"PLM:step:amp=2000"``, see
        :func:`sim.stimulus.parse_stimulus`).
    duration : float
        Model time to simulate (s for graded); a whole number of steps.
    dt : float, optional
        Step; ``params.dt`` when omitted (0.1 ms for graded).
    model : {"graded", "ltc"}, optional
        For an uncompiled source ("graded" when omitted).
    params, ablate
        For an uncompiled source: see :func:`sim.compiler.compile_circuit`.
    record_every : int
        Keep every k-th step (and the initial state).
    initial : "rest", array (N,) or tuple (V, s)
        Initial state. "rest": graded, the no-input fixed point ``V = Vth``, ``s = s_eq``;
        ltc, ``v = vleak``.
    progress : callable, optional
        Called with the fraction done (0..1) between blocks of steps.
    max_bytes : int, optional
        Refuse runs whose recording needs more (default: the memory available).

    Returns
    -------
    SimResult

    Raises
    ------
    SimulationError
        Bad duration, dt, record_every, stimulus or initial state; a recording that would not
        fit in memory (the message gives the size).
    UnknownNeuronError
        A stimulus target not in the circuit.
    DivergenceError
        The state became NaN or inf (with the first step and neuron).
    """
    return prepare_run(
        circuit,
        stimulus,
        duration=duration,
        dt=dt,
        model=model,
        params=params,
        ablate=ablate,
        record_every=record_every,
        initial=initial,
        max_bytes=max_bytes,
    ).finish(progress)[0]


def prepare_run(
    circuit,
    stimulus=(),
    *,
    duration,
    dt=None,
    model=None,
    params=None,
    ablate=(),
    record_every=1,
    initial="rest",
    max_bytes=None,
):
    """:func:`simulate`'s checking and encoding without the run: a one-item :class:`BatchRun`
    at step 0 (parameters as for :func:`simulate`)."""
    cc = as_compiled(circuit, model, params, ablate)
    return prepare_batch(
        cc,
        [as_stimuli(stimulus)],
        duration=duration,
        dt=dt,
        record_every=record_every,
        initial=initial,
        max_bytes=max_bytes,
    )


def simulate_batch(
    circuit,
    stimuli=None,
    *,
    params=None,
    duration,
    dt=None,
    model=None,
    ablate=(),
    record_every=1,
    initial="rest",
    lanes=_LANES,
    progress=None,
    max_bytes=None,
):
    """Simulate many stimuli and/or parameter sets on one circuit in one parallel call.

    Parameters
    ----------
    circuit : CompiledCircuit, connectome.Connectome or connectome.Circuit
        As for :func:`simulate` (``model`` and ``ablate`` apply to an uncompiled source).
    stimuli : sequence, optional
        One stimulus specification per item (anything :func:`simulate` takes).
    params : sequence of GradedParams or LTCParams, optional
        One parameter set per item (the circuit's own when omitted). With both ``stimuli`` and
        ``params``, their lengths must match (or one has length 1 and is repeated). A set other
        than the circuit's rebuilds the arrays from the connectome weights
        (:meth:`CompiledCircuit.with_params`), so arrays set with ``with_arrays`` apply only to
        items that use the circuit's own parameters. All sets must share ``unfolds``.
    duration, dt, record_every, progress, max_bytes
        As for :func:`simulate`; ``dt`` defaults to the first parameter set's.
    initial : "rest", array (N,), array (B, N) or tuple (V, s)
        Initial state of every item (or of each, for (B, N)).
    lanes : int
        Largest number of items integrated side by side in one thread (1: each item alone).
        Items are split into chunks of at most ``lanes`` sharing one parameter set, spread
        over numba's threads (``numba.set_num_threads``).

    Returns
    -------
    list of SimResult
        One per item, in order.
    """
    run = prepare_batch(
        circuit,
        stimuli,
        params=params,
        duration=duration,
        dt=dt,
        model=model,
        ablate=ablate,
        record_every=record_every,
        initial=initial,
        lanes=lanes,
        max_bytes=max_bytes,
    )
    return run.finish(progress)


def prepare_batch(
    circuit,
    stimuli=None,
    *,
    params=None,
    duration,
    dt=None,
    model=None,
    ablate=(),
    record_every=1,
    initial="rest",
    lanes=_LANES,
    max_bytes=None,
):
    """Check and encode a batch for the kernel without running it: :func:`simulate_batch`'s
    first half, for a caller that advances the run block by block itself (e.g. to change an
    ``array`` stimulus's samples between blocks, as the body's feedback does).

    Parameters are those of :func:`simulate_batch` (no ``progress``).

    Returns
    -------
    BatchRun
        At step 0; :meth:`BatchRun.advance` integrates, :meth:`BatchRun.results` gives the
        :class:`SimResult` list once every step is done.
    """
    cc = as_compiled(circuit, model, None, ablate)
    stim_list = [()] if stimuli is None else [as_stimuli(s) for s in stimuli]
    par_list = [cc.params] if params is None else list(params)
    if not stim_list or not par_list:
        raise SimulationError("empty batch: give at least one stimulus or parameter set")
    batch = max(len(stim_list), len(par_list))
    for seq in (stim_list, par_list):
        if len(seq) not in (1, batch):
            raise SimulationError(
                f"{len(stim_list)} stimuli and {len(par_list)} parameter sets: "
                "give equal numbers, or one of either"
            )
    stim_list = stim_list * (batch // len(stim_list))
    par_list = par_list * (batch // len(par_list))
    if not isinstance(lanes, int | np.integer) or lanes < 1:
        raise SimulationError(f"lanes = {lanes!r} must be a positive integer")
    if not isinstance(record_every, int | np.integer) or record_every < 1:
        raise SimulationError(f"record_every = {record_every!r} must be a positive integer")

    # one compiled variant per distinct parameter set
    sets, prow = [], np.empty(batch, dtype=np.int64)
    for b, p in enumerate(par_list):
        for k, q in enumerate(sets):
            if q == p:
                prow[b] = k
                break
        else:
            prow[b] = len(sets)
            sets.append(p)
    variants = [cc if p == cc.params else cc.with_params(p) for p in sets]
    dt = float(variants[0].params.dt if dt is None else dt)
    nsteps = _steps(duration, dt)
    unfolds = variants[0].params.unfolds
    if any(v.params.unfolds != unfolds for v in variants):
        raise SimulationError("all parameter sets of a batch must have the same unfolds")
    scheme = getattr(variants[0].params, "scheme", "euler")
    if any(getattr(v.params, "scheme", "euler") != scheme for v in variants):
        raise SimulationError("all parameter sets of a batch must have the same scheme")
    n = cc.n
    records = nsteps // record_every + 1
    need = batch * records * n * 4
    limit = memory_available() if max_bytes is None else max_bytes
    if need > limit:
        raise SimulationError(
            f"the recording would need {_gib(need)} ({batch} runs x {records} records x {n} "
            f"neurons x 4 bytes) but {_gib(limit)} is available; raise record_every, shorten "
            "the run or split the batch"
        )
    if n * nsteps > limits.MAX_NEURON_STEPS:
        raise SimulationError(
            f"{n} neurons x {nsteps:,} steps = {n * nsteps:,} neuron-steps per run; the limit "
            f"is {limits.MAX_NEURON_STEPS:,}: shorten the run, raise dt or simulate a circuit"
        )
    for item in stim_list:
        if len(item) > limits.MAX_STIMULI:
            raise SimulationError(
                f"{len(item)} stimuli in one run; the limit is {limits.MAX_STIMULI} (a stimulus "
                "can target many neurons or a class at once)"
            )

    stim = encode(stim_list, cc, dt, duration)
    graded = cc.model == "graded"
    nvar = 2 if graded else 1
    state = np.empty((batch, nvar, n))
    vth_ptr = np.zeros(batch + 1, dtype=np.int64)
    vth_time, vth = [], []
    initial_arr = None if isinstance(initial, str | tuple) else np.asarray(initial, float)
    per_item_init = initial_arr is not None and initial_arr.ndim == 2
    if per_item_init and initial_arr.shape != (batch, n):
        raise SimulationError(f"initial has shape {initial_arr.shape}; expected ({batch}, {n})")
    for k, var in enumerate(variants):
        items = np.flatnonzero(prow == k)
        rest = None
        if graded:  # thresholds at rest (first row) and in every constant-input epoch: one solve
            epochs = [
                constant_epochs(stim_list[b], cc, duration)
                if var.params.threshold == "input"
                else (np.zeros(1), np.zeros((1, n)))
                for b in items
            ]
            th = graded_thresholds(var, np.concatenate([np.zeros((1, n))] + [c for _, c in epochs]))
            rest = th[0]
            start = 1
            for b, (times, _) in zip(items, epochs, strict=True):
                vth_time.append((b, times))
                vth.append((b, th[start : start + len(times)]))
                start += len(times)
        for b in items:
            init = initial_arr[b] if per_item_init else initial
            state[b] = _initial_state(var, init, rest)
    if graded:
        order = sorted(range(len(vth_time)), key=lambda i: vth_time[i][0])
        counts = [len(vth_time[i][1]) for i in order]
        vth_ptr[1:] = np.cumsum(counts)
        vth_t = np.concatenate([vth_time[i][1] for i in order])
        vth_v = np.concatenate([vth[i][1] for i in order])
    else:
        vth_t, vth_v = np.zeros(1), np.zeros((1, n))

    arrays = [v.kernel_arrays() for v in variants]
    npar = np.ascontiguousarray(np.stack([a[0] for a in arrays]))
    spar = np.ascontiguousarray(np.stack([a[1] for a in arrays]))
    gpar = np.ascontiguousarray(np.stack([a[2] for a in arrays]))

    # chunks: items sharing a parameter set, at most `lanes` each, enough to feed every thread
    threads = numba.get_num_threads()
    chunk_items, chunk_ptr, chunk_prow = [], [0], []
    for k in range(len(variants)):
        items = np.flatnonzero(prow == k)
        size = max(1, min(int(lanes), math.ceil(len(items) / threads)))
        for s in range(0, len(items), size):
            part = items[s : s + size]
            chunk_items.extend(part)
            chunk_ptr.append(len(chunk_items))
            chunk_prow.append(k)
    chunk_items = np.asarray(chunk_items, dtype=np.int64)
    chunk_ptr = np.asarray(chunk_ptr, dtype=np.int64)
    chunk_prow = np.asarray(chunk_prow, dtype=np.int64)

    out = np.zeros((batch, records, n), dtype=np.float32)
    out[:, 0, :] = state[:, 0, :]
    bad = np.full((batch, 2), -1, dtype=np.int64)
    if scheme == "cn":
        code, ldl = kernels.MODEL_GRADED_CN, ldl_pattern(cc.gindptr, cc.gpre).arrays()
    else:
        code = kernels.MODEL_GRADED if graded else kernels.MODEL_LTC
        ldl = ldl_pattern(np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)).arrays()
    return BatchRun(
        cc=cc,
        variants=variants,
        stim_list=stim_list,
        par_list=par_list,
        prow=prow,
        dt=dt,
        nsteps=nsteps,
        unfolds=unfolds,
        record_every=int(record_every),
        code=code,
        chunks=(chunk_ptr, chunk_items, chunk_prow),
        state=state,
        out=out,
        arrays=(npar, spar, gpar),
        stim=stim,
        thresholds=(vth_ptr, vth_t, vth_v),
        bad=bad,
        ldl=ldl,
    )


@dataclass(eq=False)
class BatchRun:
    """A batch encoded for :func:`sim.kernels.run_chunks`, advanced in place block by block
    (made by :func:`prepare_batch`). ``state`` and ``out`` are the kernel's own arrays; ``done``
    counts the steps taken."""

    cc: CompiledCircuit
    variants: list
    stim_list: list
    par_list: list
    prow: np.ndarray
    dt: float
    nsteps: int
    unfolds: int
    record_every: int
    code: int
    chunks: tuple
    state: np.ndarray = field(repr=False)
    out: np.ndarray = field(repr=False)
    arrays: tuple = field(repr=False)
    stim: StimulusArrays = field(repr=False)
    thresholds: tuple = field(repr=False)
    bad: np.ndarray = field(repr=False)
    ldl: tuple = field(repr=False)
    done: int = 0

    def advance(self, nsteps):
        """Integrate the next ``nsteps`` steps (at most those left).

        Raises
        ------
        DivergenceError
            The state of an item became NaN or inf (first step and neuron).
        """
        todo = int(nsteps)
        if not 1 <= todo <= self.nsteps - self.done:
            raise SimulationError(
                f"cannot advance {nsteps!r} steps: {self.nsteps - self.done} of {self.nsteps} "
                "are left"
            )
        cc, (npar, spar, gpar), stim = self.cc, self.arrays, self.stim
        chunk_ptr, chunk_items, chunk_prow = self.chunks
        vth_ptr, vth_t, vth_v = self.thresholds
        kernels.run_chunks(
            self.code,
            chunk_ptr, chunk_items, chunk_prow, todo, self.done, self.dt, self.unfolds,
            self.record_every, self.state, self.out, cc.indptr, cc.pre, cc.gindptr, cc.gpre,
            npar, spar, gpar, stim.ptr, stim.neuron, stim.kind, stim.par, stim.wave_ptr,
            stim.waves, vth_ptr, vth_t, vth_v, self.bad, self.ldl,
        )  # fmt: skip
        self.done += todo
        bad = self.bad
        if np.any(bad[:, 0] >= 0):
            b = int(np.argmin(np.where(bad[:, 0] >= 0, bad[:, 0], np.iinfo(np.int64).max)))
            step_no, neuron = int(bad[b, 0]), cc.names[int(bad[b, 1])]
            raise DivergenceError(
                step_no,
                neuron,
                f"t = {step_no * self.dt:.6g}"
                + (f", batch item {b}" if len(self.state) > 1 else "")
                + "; check the parameters and input sizes, or use a smaller dt",
            )

    def finish(self, progress=None):
        """Integrate the steps left, in one block (or, with ``progress``, in blocks of about
        0.3 s, calling ``progress`` with the fraction done after each), and return
        :meth:`results`."""
        block = self.nsteps if progress is None else min(self.nsteps, 1000)
        while self.done < self.nsteps:
            todo = min(block, self.nsteps - self.done)
            tic = time.perf_counter()
            self.advance(todo)
            if progress is not None:
                progress(self.done / self.nsteps)
                spent = max(time.perf_counter() - tic, 1e-6)
                block = max(1, int(todo * 0.3 / spent))
        return self.results()

    def samples(self, item, stimulus):
        """The samples of an ``array`` stimulus of one item, writable, shape (members, K):
        row ``m`` feeds the stimulus's ``m``-th target neuron (``cc.indices(target)`` order).
        Changing a sample the kernel has not reached yet changes the input of the steps to
        come."""
        stims = self.stim_list[item]
        if stims[stimulus].kind != "array":
            raise SimulationError(
                f"stimulus {stimulus} of item {item} is a {stims[stimulus].kind}, not an array"
            )
        row = int(self.stim.ptr[item]) + sum(
            len(self.cc.indices(s.target)) for s in stims[:stimulus]
        )
        members = len(self.cc.indices(stims[stimulus].target))
        w0, w1 = self.stim.wave_ptr[row], self.stim.wave_ptr[row + members]
        return self.stim.waves[w0:w1].reshape(members, -1)

    def results(self):
        """One :class:`SimResult` per item; the run must be complete. Its arrays become
        read-only (results are shared)."""
        if self.done != self.nsteps:
            raise SimulationError(f"the run is at step {self.done} of {self.nsteps}")
        cc, dt = self.cc, self.dt
        t = np.arange(len(self.out[0])) * (self.record_every * dt)
        # results are shared (caches hand one result to many sessions): nobody may change them
        for a in (t, self.out, self.state):
            a.setflags(write=False)
        return [
            SimResult(
                t=t,
                V=self.out[b],
                names=cc.names,
                model=cc.model,
                params=self.par_list[b],
                stimulus=self.stim_list[b],
                dt=dt,
                record_every=self.record_every,
                final_state=self.state[b],
                circuit=self.variants[self.prow[b]],
            )
            for b in range(len(self.state))
        ]


def warmup():
    """Compile (or load from numba's cache) every kernel by running both models, each stimulus
    kind, one item and a batch, on a three-neuron circuit. Call once at start-up.

    >>> warmup()
    """
    edges = pd.DataFrame(
        {
            "pre": ["A", "B", "C", "A"],
            "post": ["B", "C", "A", "C"],
            "kind": ["chemical", "chemical", "chemical", "electrical"],
            "weight": [1.0, 2.0, 1.0, 1.0],
            "sign": [1, -1, 1, 1],
        }
    )
    wiring = Wiring(["A", "B", "C"], edges, "warmup")
    from sim.stimulus import array, noise, pulse_train, ramp, sine, step

    stims = [
        step("A", 1.0),
        pulse_train("B", 1.0, 0.2, 0.1),
        sine("C", 1.0, 2.0),
        ramp("A", 1.0, 0.5),
        noise("B", 0.1, seed=1),
        array("C", [0.0, 1.0, 0.0], sample_dt=0.1),
        array("C", [0.0, 1.0], sample_dt=0.1, interp="hold"),
    ]
    for model in ("graded", "ltc", "cn"):
        cc = compile_circuit(wiring, "graded" if model == "cn" else model)
        if model == "cn":
            cc = cc.with_params(cc.params.replace(scheme="cn"))
        dt = cc.params.dt
        simulate(cc, stims, duration=4 * dt, dt=dt)
        simulate_batch(cc, [stims, stims[:1]], duration=4 * dt, dt=dt, lanes=2)
    v = np.zeros(3)
    cc = compile_circuit(wiring, "ltc")
    npar, spar, gw = cc.kernel_arrays()
    kernels.ltc_step(
        v, np.zeros(3), cc.indptr, cc.pre, spar[0], spar[1], spar[2], spar[3], cc.gindptr,
        cc.gpre, gw, npar[0], npar[1], npar[2], 0.1, 2, np.empty(3),
    )  # fmt: skip
