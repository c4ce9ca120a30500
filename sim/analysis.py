"""Summaries of simulated activity: principal components, dominant periods, responses.

Each function takes a :class:`sim.runner.SimResult` (or plain arrays) and returns plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from connectome.errors import SimulationError

__all__ = [
    "PCAResult",
    "PeriodEstimate",
    "OscillationSummary",
    "pca",
    "dominant_period",
    "oscillation_summary",
    "response_summary",
]


@dataclass(frozen=True, eq=False)
class PCAResult:
    """Principal components of a set of neurons' activity.

    Attributes
    ----------
    explained : ndarray, shape (k,)
        Fraction of the total variance carried by each mode, largest first.
    components : ndarray, shape (k, N)
        Unit-norm loadings of each mode on the neurons.
    projections : ndarray, shape (T, k)
        Activity projected on each mode (mV for graded).
    mean : ndarray, shape (N,)
        Time average that was subtracted.
    names : tuple of str
        Neurons, the columns of ``components``.
    t : ndarray, shape (T,)
        Times of ``projections``.
    """

    explained: np.ndarray
    components: np.ndarray = field(repr=False)
    projections: np.ndarray = field(repr=False)
    mean: np.ndarray = field(repr=False)
    names: tuple
    t: np.ndarray = field(repr=False)


def _window(result, start, stop):
    t = result.t
    keep = (t >= (start if start is not None else -np.inf)) & (
        t <= (stop if stop is not None else np.inf)
    )
    if keep.sum() < 2:
        raise SimulationError(f"the window [{start}, {stop}] holds fewer than two records")
    return keep


def pca(result, neurons=None, *, start=None, stop=None, n_components=None):
    """Principal component analysis of the potentials of ``neurons`` over ``[start, stop]``.

    Parameters
    ----------
    result : SimResult
        A run.
    neurons : str or sequence of str, optional
        Neurons or classes (all when omitted).
    start, stop : float, optional
        Time window (model time unit); the whole run when omitted.
    n_components : int, optional
        Modes to keep (all when omitted).

    Returns
    -------
    PCAResult
        ``explained`` sums to 1 over all modes (to less when truncated). A constant signal
        has no variance: ``explained`` is then all zero.
    """
    keep = _window(result, start, stop)
    idx = result.indices(neurons)
    x = np.asarray(result.V[keep][:, idx], dtype=np.float64)
    mean = x.mean(axis=0)
    xc = x - mean
    u, s, vt = np.linalg.svd(xc, full_matrices=False)
    var = s**2
    total = var.sum()
    explained = var / total if total > 0 else np.zeros_like(var)
    k = len(s) if n_components is None else int(n_components)
    return PCAResult(
        explained=explained[:k],
        components=vt[:k],
        projections=u[:, :k] * s[:k],
        mean=mean,
        names=tuple(result.names[i] for i in idx),
        t=result.t[keep],
    )


@dataclass(frozen=True)
class PeriodEstimate:
    """Dominant period of a trace.

    Attributes
    ----------
    period : float
        Period (time unit of the input); NaN when the trace does not oscillate.
    frequency : float
        ``1 / period``.
    strength : float
        Autocorrelation at the period (1: perfectly periodic; about 0 for noise).
    """

    period: float
    frequency: float
    strength: float


def dominant_period(x, dt, *, min_period=None, max_period=None):
    """Dominant period of ``x`` from its autocorrelation.

    The mean is removed; the period is the lag of the first autocorrelation peak after the
    first zero crossing that reaches 90% of the highest one (within ``[min_period,
    max_period]``); the frequency is then refined to the peak of the Hann-windowed spectrum
    near it, which the finite window biases less than the autocorrelation.

    Parameters
    ----------
    x : array_like, shape (T,)
        Trace sampled every ``dt``.
    dt : float
        Sampling interval.
    min_period, max_period : float, optional
        Range of periods to consider (default: ``2 dt`` to half the trace).

    Returns
    -------
    PeriodEstimate

    Examples
    --------
    >>> t = np.arange(0, 20, 0.01)
    >>> est = dominant_period(np.sin(2 * np.pi * t / 1.25), 0.01)
    >>> round(float(est.period), 3), bool(est.strength > 0.9)
    (1.25, True)
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size < 4:
        raise SimulationError("dominant_period needs a 1-D trace of at least 4 samples")
    if not dt > 0:
        raise SimulationError(f"dt = {dt!r} must be > 0")
    nan = PeriodEstimate(np.nan, np.nan, 0.0)
    x = x - x.mean()
    n = x.size
    if not np.any(x):
        return nan
    size = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(x, size)
    ac = np.fft.irfft(f * np.conj(f), size)[:n]
    ac /= ac[0]
    ac /= (n - np.arange(n)) / n  # unbiased: every lag weighted by its overlap
    lo = max(2, int(np.floor((min_period or 0.0) / dt)))
    hi = min(n // 2, int(np.ceil(max_period / dt)) if max_period else n // 2)
    below = np.flatnonzero(ac[:hi] < 0)
    if below.size == 0:
        return nan
    lo = max(lo, int(below[0]))
    if hi - lo < 3:
        return nan
    seg = ac[lo - 1 : hi + 1]
    peaks = lo + np.flatnonzero((seg[1:-1] > seg[:-2]) & (seg[1:-1] >= seg[2:]))
    peaks = peaks[(peaks > lo) & (peaks < hi - 1)]
    if peaks.size == 0:
        return nan
    # the first peak nearly as high as the highest: multiples of the period are peaks too
    k = int(peaks[np.flatnonzero(ac[peaks] >= 0.9 * ac[peaks].max())[0]])
    a, b, c = ac[k - 1], ac[k], ac[k + 1]
    denom = a - 2 * b + c
    shift = 0.5 * (a - c) / denom if denom != 0 else 0.0
    freq = _spectral_peak(x, dt, 1.0 / ((k + shift) * dt))
    return PeriodEstimate(float(1.0 / freq), float(freq), float(min(1.0, b)))


def _spectral_peak(x, dt, f0, rel=0.15, points=121):
    """Frequency of the largest Hann-windowed spectral amplitude within ``f0 (1 +- rel)``,
    refined by a parabola: the autocorrelation's peak is biased by the finite window."""
    n = x.size
    w = np.hanning(n) * x
    f = f0 * np.linspace(1 - rel, 1 + rel, points)
    t = np.arange(n) * dt
    amp = np.empty(points)
    for j in range(points):  # a grid of DTFT values, one frequency at a time (O(n) memory)
        z = w @ np.exp(-2j * np.pi * f[j] * t)
        amp[j] = abs(z)
    j = int(np.argmax(amp))
    if j == 0 or j == points - 1:
        return f0
    a, b, c = np.log(amp[j - 1 : j + 2] + 1e-300)
    denom = a - 2 * b + c
    shift = 0.5 * (a - c) / denom if denom != 0 else 0.0
    return f[j] + shift * (f[1] - f[0])


def response_summary(result, neurons=None, *, onset=0.0, stop=None, baseline=None, level=0.1):
    """Peak and latency of each neuron's response to an input that starts at ``onset``.

    Parameters
    ----------
    result : SimResult
        A run.
    neurons : str or sequence of str, optional
        Neurons or classes (all when omitted).
    onset : float
        Start of the input (model time unit).
    stop : float, optional
        End of the response window (the run's end when omitted).
    baseline : float or ndarray, optional
        Reference potential per neuron; the value at the last record at or before ``onset``
        when omitted.
    level : float
        Latency is the first time after ``onset`` at which ``|V - baseline|`` reaches this
        fraction of the peak's size.

    Returns
    -------
    pandas.DataFrame
        Indexed by neuron: ``baseline``, ``peak`` (signed largest deviation from baseline),
        ``peak_time`` and ``latency`` (time from onset; NaN for a neuron that does not move).
    """
    idx = result.indices(neurons)
    t = result.t
    v = np.asarray(result.V[:, idx], dtype=np.float64)
    before = np.flatnonzero(t <= onset)
    if before.size == 0:
        raise SimulationError(f"onset {onset} is before the first record")
    base = v[before[-1]] if baseline is None else np.broadcast_to(baseline, (len(idx),))
    win = (t > onset) & (t <= (stop if stop is not None else np.inf))
    if not np.any(win):
        raise SimulationError("no records in the response window")
    dev = v[win] - base
    tw = t[win]
    k = np.argmax(np.abs(dev), axis=0)
    peak = dev[k, np.arange(len(idx))]
    latency = np.full(len(idx), np.nan)
    for j in range(len(idx)):
        if peak[j] != 0:
            hit = np.flatnonzero(np.abs(dev[:, j]) >= level * abs(peak[j]))
            latency[j] = tw[hit[0]] - onset
    moved = peak != 0
    return pd.DataFrame(
        {
            "baseline": base,
            "peak": peak,
            "peak_time": np.where(moved, tw[k], np.nan),
            "latency": latency,
        },
        index=pd.Index([result.names[i] for i in idx], name="neuron"),
    )


@dataclass(frozen=True)
class OscillationSummary:
    """How a set of neurons oscillates over a window (see :func:`oscillation_summary`).

    Attributes
    ----------
    period : float
        Dominant period of the first principal component (NaN if none).
    strength : float
        Autocorrelation of the first principal component at that period.
    explained : tuple of float
        Variance fraction of the first modes (up to 4).
    amplitude : float
        Largest peak-to-peak range of any neuron in the set (mV for graded).
    amplitude_pc : tuple of float
        Peak-to-peak range of the first two projections.
    """

    period: float
    strength: float
    explained: tuple
    amplitude: float
    amplitude_pc: tuple


def oscillation_summary(result, neurons=None, *, start=None, stop=None):
    """Period, dominant modes and amplitude of ``neurons``' activity over ``[start, stop]``.

    The period is that of the first principal component (:func:`dominant_period`), which
    carries the oscillation shared by the set.
    """
    p = pca(result, neurons, start=start, stop=stop, n_components=4)
    dt = float(np.median(np.diff(p.t)))
    est = dominant_period(p.projections[:, 0], dt)
    keep = _window(result, start, stop)
    x = np.asarray(result.V[keep][:, result.indices(neurons)], dtype=np.float64)
    k = min(2, p.projections.shape[1])
    return OscillationSummary(
        period=est.period,
        strength=est.strength,
        explained=tuple(float(e) for e in p.explained),
        amplitude=float(np.ptp(x, axis=0).max()),
        amplitude_pc=tuple(float(np.ptp(p.projections[:, j])) for j in range(k)),
    )
