"""Current-injection protocols and their compact encoding for the kernels.

A :class:`Stimulus` injects one protocol into one or more neurons or classes (a class means all
its members). Currents are in the model's current unit: pA for ``graded``, unitless for
``ltc``; times in the model's time unit (s for ``graded``). Every protocol is zero outside its
``[start, stop)`` window.

=========  ===============================================================================
kind       parameters
=========  ===============================================================================
step       amp, start=0, stop=inf
pulse      amp, period, width, start=0, stop=inf  (pulses of ``width`` every ``period``)
sine       amp, freq (1/time unit), phase=0 (rad), offset=0, start=0, stop=inf
ramp       amp1, stop, amp0=0, start=0  (linear from amp0 at start to amp1 at stop)
noise      std, mean=0, seed=0, sample_dt=dt, start=0, stop=inf  (Gaussian, held for
           ``sample_dt``; each target neuron gets its own stream from ``(seed, member)``)
array      values, sample_dt=dt, start=0, interp="linear" or "hold"
=========  ===============================================================================

Protocols are evaluated inside the kernel at every step from one parameter row each (plus the
samples of noise and arrays), so a long run never holds a dense time x neuron input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from connectome import limits
from connectome.errors import SimulationError
from sim import kernels

__all__ = [
    "KINDS",
    "N_PAR",
    "Stimulus",
    "StimulusArrays",
    "step",
    "pulse_train",
    "sine",
    "ramp",
    "noise",
    "array",
    "parse_stimulus",
    "encode",
    "constant_epochs",
]

#: kind -> (required parameters, optional parameters with defaults)
KINDS = MappingProxyType(
    {
        "step": (("amp",), {"start": 0.0, "stop": math.inf}),
        "pulse": (("amp", "period", "width"), {"start": 0.0, "stop": math.inf}),
        "sine": (("amp", "freq"), {"phase": 0.0, "offset": 0.0, "start": 0.0, "stop": math.inf}),
        "ramp": (("amp1", "stop"), {"amp0": 0.0, "start": 0.0}),
        "noise": (
            ("std",),
            {"mean": 0.0, "seed": 0, "sample_dt": None, "start": 0.0, "stop": math.inf},
        ),
        "array": ((), {"sample_dt": None, "start": 0.0, "interp": "linear"}),
    }
)
N_PAR = 8  # columns of a kernel parameter row


def _targets(target):
    if isinstance(target, str):
        names = (target,)
    else:
        names = tuple(target)
    if not names or not all(isinstance(n, str) and n.strip() for n in names):
        raise SimulationError(f"stimulus target must be neuron or class name(s), not {target!r}")
    return names


@dataclass(frozen=True, eq=False)
class Stimulus:
    """One current protocol into one or more neurons or classes.

    Build with :func:`step`, :func:`pulse_train`, :func:`sine`, :func:`ramp`, :func:`noise`,
    :func:`array` or :func:`parse_stimulus`.

    Attributes
    ----------
    target : tuple of str
        Neuron or class names (resolved when the stimulus is encoded for a circuit).
    kind : str
        One of :data:`KINDS`.
    params : mapping
        The protocol's parameters (see the module docstring).
    values : ndarray or None
        Samples of an ``array`` stimulus.
    """

    target: tuple
    kind: str
    params: MappingProxyType
    values: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise SimulationError(f"unknown stimulus kind {self.kind!r}; use one of {list(KINDS)}")
        required, optional = KINDS[self.kind]
        p = dict(self.params)
        unknown = sorted(set(p) - set(required) - set(optional))
        if unknown:
            raise SimulationError(
                f"unknown parameter(s) {unknown} for a {self.kind} stimulus; "
                f"it takes {list(required) + list(optional)}"
            )
        missing = [k for k in required if k not in p]
        if missing:
            raise SimulationError(f"a {self.kind} stimulus needs {missing}")
        full = {k: p.get(k, optional.get(k)) for k in (*required, *optional)}
        for key, value in full.items():
            if key == "interp":
                if value not in ("linear", "hold"):
                    raise SimulationError(f"interp = {value!r}; use 'linear' or 'hold'")
                continue
            if value is None:
                continue
            try:
                x = float(value)
            except (TypeError, ValueError):
                raise SimulationError(
                    f"stimulus parameter {key} = {value!r} is not a number"
                ) from None
            if math.isnan(x) or (math.isinf(x) and key != "stop"):
                raise SimulationError(f"stimulus parameter {key} = {value!r} must be finite")
            full[key] = int(x) if key == "seed" else x
        if "stop" in full and full["start"] >= full["stop"]:
            raise SimulationError(
                f"stimulus start {full['start']} must be before stop {full['stop']}"
            )
        for key in ("period", "width", "sample_dt"):
            if full.get(key) is not None and full[key] <= 0:
                raise SimulationError(f"stimulus parameter {key} = {full[key]} must be > 0")
        if self.kind == "noise" and full["std"] < 0:
            raise SimulationError(f"noise std = {full['std']} must be >= 0")
        if self.kind == "noise" and full["sample_dt"] is not None:
            if full["sample_dt"] < limits.MIN_SAMPLE_DT:
                raise SimulationError(
                    f"noise sample_dt = {full['sample_dt']!r} is below the limit "
                    f"{limits.MIN_SAMPLE_DT:g} (one sample per sample_dt is kept in memory); "
                    f"use sample_dt >= {limits.MIN_SAMPLE_DT:g}"
                )
        if self.kind == "pulse" and full["width"] > full["period"]:
            raise SimulationError("pulse width must not exceed the period")
        if self.kind == "array":
            v = np.asarray(self.values, dtype=np.float64) if self.values is not None else None
            if v is None or v.ndim != 1 or v.size == 0:
                raise SimulationError("an array stimulus needs a non-empty 1-D array of values")
            if not np.all(np.isfinite(v)):
                raise SimulationError("array stimulus values must be finite (found NaN or inf)")
            v = v.copy()
            v.setflags(write=False)
            object.__setattr__(self, "values", v)
        object.__setattr__(self, "target", _targets(self.target))
        object.__setattr__(self, "params", MappingProxyType(full))

    def __repr__(self):
        shown = ", ".join(f"{k}={v}" for k, v in self.params.items() if v is not None)
        return f"Stimulus({'+'.join(self.target)}: {self.kind} {shown})"

    def spec(self):
        """The command-line form ``TARGET:kind:key=value,...`` (not for ``array``)."""
        shown = ",".join(f"{k}={v}" for k, v in self.params.items() if v is not None)
        return f"{'+'.join(self.target)}:{self.kind}:{shown}"


def step(target, amp, start=0.0, stop=math.inf):
    """Constant current ``amp`` during ``[start, stop)``.

    >>> step("PLM", 2000.0)
    Stimulus(PLM: step amp=2000.0, start=0.0, stop=inf)
    """
    return Stimulus(target, "step", {"amp": amp, "start": start, "stop": stop})


def pulse_train(target, amp, period, width, start=0.0, stop=math.inf):
    """Pulses of height ``amp`` and length ``width`` every ``period`` from ``start``."""
    return Stimulus(
        target,
        "pulse",
        {"amp": amp, "period": period, "width": width, "start": start, "stop": stop},
    )


def sine(target, amp, freq, phase=0.0, offset=0.0, start=0.0, stop=math.inf):
    """``offset + amp sin(2 pi freq (t - start) + phase)`` during ``[start, stop)``."""
    return Stimulus(
        target,
        "sine",
        {"amp": amp, "freq": freq, "phase": phase, "offset": offset, "start": start, "stop": stop},
    )


def ramp(target, amp1, stop, amp0=0.0, start=0.0):
    """Linear from ``amp0`` at ``start`` to ``amp1`` at ``stop``; zero outside."""
    return Stimulus(target, "ramp", {"amp1": amp1, "stop": stop, "amp0": amp0, "start": start})


def noise(target, std, mean=0.0, seed=0, sample_dt=None, start=0.0, stop=math.inf):
    """Gaussian current (``mean``, ``std``), a new sample every ``sample_dt`` (default: the
    simulation step), reproducible from ``seed``; every target neuron has its own stream."""
    return Stimulus(
        target,
        "noise",
        {
            "std": std,
            "mean": mean,
            "seed": seed,
            "sample_dt": sample_dt,
            "start": start,
            "stop": stop,
        },
    )


def array(target, values, sample_dt=None, start=0.0, interp="linear"):
    """A given waveform: ``values[k]`` at ``start + k sample_dt`` (default: the simulation
    step), linearly interpolated (or held, ``interp="hold"``); zero outside the samples."""
    return Stimulus(
        target, "array", {"sample_dt": sample_dt, "start": start, "interp": interp}, values
    )


def parse_stimulus(spec):
    """Parse ``TARGET[+TARGET...]:kind:key=value,...`` (the command line's form).

    >>> parse_stimulus("PLM:step:amp=2000,start=0.5")
    Stimulus(PLM: step amp=2000.0, start=0.5, stop=inf)
    >>> parse_stimulus("AVAL+AVAR:sine:amp=1,freq=2").target
    ('AVAL', 'AVAR')
    """
    parts = str(spec).split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise SimulationError(
            f"cannot read stimulus {spec!r}; expected TARGET:kind:key=value,... "
            f"(e.g. PLM:step:amp=2000,start=0.5), kinds {list(KINDS)}"
        )
    kind = parts[1].strip().lower()
    if kind == "array":
        raise SimulationError("array stimuli cannot be given on the command line")
    params = {}
    if len(parts) == 3 and parts[2].strip():
        for item in parts[2].split(","):
            key, eq, value = item.partition("=")
            if not eq:
                raise SimulationError(f"cannot read {item!r} in stimulus {spec!r}; use key=value")
            params[key.strip()] = value.strip()
    return Stimulus(tuple(parts[0].split("+")), kind, params)


@dataclass(frozen=True)
class StimulusArrays:
    """A batch of stimuli encoded for :func:`sim.kernels.run_chunks` (see its docstring)."""

    ptr: np.ndarray
    neuron: np.ndarray
    kind: np.ndarray
    par: np.ndarray
    wave_ptr: np.ndarray
    waves: np.ndarray


_KIND_CODE = {
    "step": kernels.STIM_STEP,
    "pulse": kernels.STIM_PULSE,
    "sine": kernels.STIM_SINE,
    "ramp": kernels.STIM_RAMP,
}


def _row(stim, scale, dt, duration, member):
    """(kind code, parameter row, samples) of one stimulus for one target neuron."""
    p = stim.params
    par = np.zeros(N_PAR)
    if stim.kind == "step":
        par[:3] = (scale * p["amp"], p["start"], p["stop"])
    elif stim.kind == "pulse":
        par[:5] = (scale * p["amp"], p["start"], p["stop"], p["period"], p["width"])
    elif stim.kind == "sine":
        par[:6] = (
            scale * p["amp"],
            p["freq"],
            p["phase"],
            scale * p["offset"],
            p["start"],
            p["stop"],
        )
    elif stim.kind == "ramp":
        par[:4] = (scale * p["amp0"], scale * p["amp1"], p["start"], p["stop"])
    if stim.kind in _KIND_CODE:
        return _KIND_CODE[stim.kind], par, None
    sample_dt = p["sample_dt"] if p["sample_dt"] is not None else dt
    par[:3] = (p["start"], sample_dt, scale)
    if stim.kind == "array":
        code = kernels.STIM_INTERP if p["interp"] == "linear" else kernels.STIM_HOLD
        return code, par, stim.values
    count = _noise_samples(stim, dt, duration)
    rng = np.random.default_rng([p["seed"], member])
    return kernels.STIM_HOLD, par, p["mean"] + p["std"] * rng.standard_normal(count)


def _noise_samples(stim, dt, duration):
    """Samples one target neuron of noise stimulus ``stim`` draws for a run."""
    p = stim.params
    sample_dt = p["sample_dt"] if p["sample_dt"] is not None else dt
    end = min(p["stop"], duration + dt)
    return max(1, math.ceil((end - p["start"]) / sample_dt - 1e-9))


def encode(batch, cc, dt, duration):
    """Encode a batch of stimulus lists for compiled circuit ``cc``.

    Parameters
    ----------
    batch : sequence of sequence of Stimulus
        One list of stimuli per batch item.
    cc : CompiledCircuit
        Resolves targets (neurons or classes) to indices.
    dt, duration : float
        Step and run length (noise is drawn for the run).

    Returns
    -------
    StimulusArrays
        Currents in the equations' unit (``cc.params.current_scale`` applied).
    """
    scale = cc.params.current_scale
    total = sum(
        _noise_samples(stim, dt, duration) * len(cc.indices(stim.target))
        for stims in batch
        for stim in stims
        if stim.kind == "noise"
    )
    if total > limits.MAX_NOISE_SAMPLES:
        raise SimulationError(
            f"the noise stimuli would draw {total:,} samples; the limit is "
            f"{limits.MAX_NOISE_SAMPLES:,} (one per sample_dt per target neuron): raise "
            "sample_dt, shorten the noise or the run, or target fewer neurons"
        )
    ptr = [0]
    neuron, kind, par, wave_ptr, waves = [], [], [], [0], []
    for stims in batch:
        for stim in stims:
            idx = cc.indices(stim.target)
            for member, i in enumerate(idx):
                code, row, samples = _row(stim, scale, dt, duration, member)
                neuron.append(i)
                kind.append(code)
                par.append(row)
                if samples is not None:
                    waves.append(np.asarray(samples, dtype=np.float64))
                    wave_ptr.append(wave_ptr[-1] + len(samples))
                else:
                    wave_ptr.append(wave_ptr[-1])
        ptr.append(len(neuron))
    return StimulusArrays(
        ptr=np.asarray(ptr, dtype=np.int64),
        neuron=np.asarray(neuron, dtype=np.int64),
        kind=np.asarray(kind, dtype=np.int64),
        par=np.asarray(par, dtype=np.float64).reshape(len(par), N_PAR),
        wave_ptr=np.asarray(wave_ptr, dtype=np.int64),
        waves=np.concatenate(waves) if waves else np.zeros(1),
    )


def constant_epochs(stims, cc, duration):
    """The constant (step) part of the input, piecewise: ``(times (E,), currents (E, n))``.

    Epoch ``e`` starts at ``times[e]`` (the first at 0); its current (model's unit, before
    ``current_scale``) is the sum of the step stimuli active then. Used for the graded model's
    input-dependent thresholds.
    """
    edges = {0.0}
    steps = [s for s in stims if s.kind == "step"]
    for s in steps:
        for t in (s.params["start"], s.params["stop"]):
            if 0.0 < t < duration:
                edges.add(float(t))
    times = np.array(sorted(edges))
    cur = np.zeros((len(times), cc.n))
    for s in steps:
        on = (times >= s.params["start"]) & (times < s.params["stop"])
        for i in cc.indices(s.target):
            cur[on, i] += s.params["amp"]
    return times, cur
