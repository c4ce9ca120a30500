"""The neuromuscular map and the muscle layer: motor neuron potentials -> muscle activation.

The map
-------
:func:`neuromuscular_map` reads the neuron -> body-wall-muscle rows of Cook et al. 2019
(hermaphrodite; ``data/edges/cook2019.csv``, chemical rows whose ``post`` is one of the 95
muscles ``MDL01-24, MDR01-24, MVL01-23, MVR01-24``; there is no MVL24). A weight is the
number of EM serial sections showing the neuromuscular junction; the sign is the presynaptic
neuron's default sign in ``data/neurons.csv`` (-1 when GABA is its primary transmitter, the
VD, DD, RME, ... neurons; else +1: cholinergic motor neurons excite). The map is keyed by
neuron name, so it applies to the same motor neurons in any dataset (Varshney 2011 lumps its
NMJs into one ``BWM`` node, which the map does not use). The 5 neuron-muscle gap-junction rows
of Cook 2019 (9 sections) are left out.

The muscle layer
----------------
===========  ==========================================  =====================
variable     meaning                                     unit
===========  ==========================================  =====================
x_n          drive of neuron n: V_n - Vref_n             mV (graded)
u_m          input of muscle m: sum_n W_mn sign_n x_n    mV
A_m          activation of muscle m                      mV
===========  ==========================================  =====================

::

    tau dA_m/dt = u_m - A_m,        W = counts / mean over muscles of each muscle's total count

The first-order low-pass muscle of Boyle, Berri & Cohen 2012 (Front Comput Neurosci 6:10,
doi:10.3389/fncom.2012.00010; their ``T_muscle`` = 0.1 s), fed, as in modWorm (Kim, Santos,
Alkema & Shlizerman 2019, bioRxiv doi:10.1101/724328), by the map applied to the motor
neurons' potentials relative to their thresholds. The input is held constant over each
control interval ``dt`` and the filter is stepped exactly:
``A[k+1] = A[k] exp(-dt/tau) + u[k] (1 - exp(-dt/tau))``. Contraction is ``max(A, 0)``
(muscles pull, never push; Boyle et al.'s ``fmax(V_muscle, 0)``).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import njit

from connectome.datasets import read_edges, read_neurons
from connectome.errors import SimulationError

__all__ = [
    "MUSCLES",
    "MuscleParams",
    "NeuromuscularMap",
    "neuromuscular_map",
    "muscle_input",
    "muscle_activation",
    "filter_first_order",
    "weigh_rows",
    "sparse_rows",
]

_QUADRANTS = ("MDL", "MDR", "MVL", "MVR")
#: The 95 body-wall muscles, quadrant by quadrant, head (01) to tail (24); MVL24 does not exist.
MUSCLES = tuple(
    f"{q}{row:02d}" for q in _QUADRANTS for row in range(1, 25) if f"{q}{row:02d}" != "MVL24"
)
_MUSCLE_RE = re.compile(r"^(MDL|MDR|MVL|MVR)(\d\d)$")


@dataclass(frozen=True)
class MuscleParams:
    """Parameters of the first-order muscle layer.

    Attributes
    ----------
    tau : float
        Muscle time constant, s (0.1; Boyle, Berri & Cohen 2012, Front Comput Neurosci 6:10,
        doi:10.3389/fncom.2012.00010, ``T_muscle``).
    reference : {"threshold", "rest"}
        What a motor neuron's drive ``V - Vref`` is measured from (graded model).
        ``"threshold"`` (modWorm's choice): its sigmoid threshold ``Vth`` as the network uses
        it, recomputed for each constant input, so a constant input whose new fixed point is
        stable leaves no drive once the transient is over; ``"rest"``: the no-input ``Vth``
        (the potential at rest), so a tonic depolarisation drives the muscles tonically.
        The ltc model always uses ``vleak``.
    """

    tau: float = 0.1  # s
    reference: str = "threshold"

    def __post_init__(self):
        if not (isinstance(self.tau, int | float) and math.isfinite(self.tau) and self.tau > 0):
            raise SimulationError(f"muscle tau = {self.tau!r} must be a finite number > 0 (s)")
        if self.reference not in ("threshold", "rest"):
            raise SimulationError(
                f"muscle reference = {self.reference!r}; use 'threshold' or 'rest'"
            )


@dataclass(frozen=True, eq=False)
class NeuromuscularMap:
    """Neuron -> body-wall-muscle synapses: who drives which of the 95 muscles, how strongly.

    Attributes
    ----------
    neurons : tuple of str
        Presynaptic neurons (those with at least one NMJ row), sorted.
    muscles : tuple of str
        The 95 muscles (:data:`MUSCLES` order).
    counts : ndarray, shape (95, n_neurons)
        EM serial-section counts of each neuron -> muscle junction (0 where none).
    sign : ndarray, shape (n_neurons,)
        +1 excitatory, -1 inhibitory (GABAergic presynaptic neuron).
    source : str
        Dataset the rows come from.
    """

    neurons: tuple
    muscles: tuple
    counts: np.ndarray = field(repr=False)
    sign: np.ndarray = field(repr=False)
    source: str = "cook2019"

    def __repr__(self):
        return (
            f"<NeuromuscularMap {self.source}: {len(self.neurons)} neurons -> "
            f"{len(self.muscles)} muscles, {int((self.counts > 0).sum())} junctions, "
            f"{self.counts.sum():g} sections>"
        )

    @property
    def row(self):
        """Muscle row of each muscle, 1 (head) to 24 (tail), shape (95,)."""
        return np.array([int(m[3:]) for m in self.muscles])

    @property
    def dorsal(self):
        """True for the dorsal muscles (MDL, MDR), shape (95,)."""
        return np.array([m.startswith("MD") for m in self.muscles])

    @property
    def weights(self):
        """Signed, normalised weights ``sign * counts / mean_m(sum_n counts)``, shape (95, n):
        a muscle with the average total NMJ count gets unit total weight."""
        total = self.counts.sum(axis=1).mean()
        return self.counts * self.sign[None, :] / total

    def table(self):
        """One row per junction: neuron, muscle, weight (sections), sign, row, side."""
        m, n = np.nonzero(self.counts)
        return pd.DataFrame(
            {
                "neuron": [self.neurons[j] for j in n],
                "muscle": [self.muscles[i] for i in m],
                "weight": self.counts[m, n],
                "sign": self.sign[n],
                "row": self.row[m],
                "side": np.where(self.dorsal[m], "dorsal", "ventral"),
            }
        )

    def columns(self, names):
        """Match the map's neurons to a circuit's neuron order.

        Parameters
        ----------
        names : sequence of str
            A circuit's neurons (e.g. ``SimResult.names``).

        Returns
        -------
        idx : ndarray of int
            Column of ``names`` for each mapped neuron present there.
        weights : ndarray, shape (95, len(idx))
            The matching columns of :attr:`weights`.
        missing : tuple of str
            Mapped neurons that ``names`` lacks (their junctions are dropped).
        """
        where = {n: i for i, n in enumerate(names)}
        keep = [j for j, n in enumerate(self.neurons) if n in where]
        missing = tuple(n for n in self.neurons if n not in where)
        idx = np.array([where[self.neurons[j]] for j in keep], dtype=np.int64)
        return idx, self.weights[:, keep], missing


@functools.cache
def _cook_map(dataset):
    edges = read_edges(dataset)
    signs = read_neurons()["sign"]
    rows = edges[(edges["kind"] == "chemical") & edges["post"].str.match(_MUSCLE_RE)]
    rows = rows[rows["pre"].isin(signs.index)]
    neurons = tuple(sorted(rows["pre"].unique()))
    col = {n: j for j, n in enumerate(neurons)}
    mrow = {m: i for i, m in enumerate(MUSCLES)}
    counts = np.zeros((len(MUSCLES), len(neurons)))
    for pre, post, w in zip(rows["pre"], rows["post"], rows["weight"], strict=True):
        counts[mrow[post], col[pre]] += w
    counts.setflags(write=False)
    sign = signs.loc[list(neurons)].to_numpy(dtype=np.float64)
    sign.setflags(write=False)
    return NeuromuscularMap(neurons, MUSCLES, counts, sign, dataset)


def neuromuscular_map(dataset="cook2019"):
    """The neuron -> muscle map from a dataset's NMJ rows (Cook et al. 2019 by default).

    Parameters
    ----------
    dataset : str
        A shipped dataset whose edge file names the 95 body-wall muscles: ``cook2019``
        (Cook et al. 2019, Nature 571:63, doi:10.1038/s41586-019-1352-7).

    Returns
    -------
    NeuromuscularMap

    Examples
    --------
    >>> nmj = neuromuscular_map()
    >>> nmj
    <NeuromuscularMap cook2019: 162 neurons -> 95 muscles, 956 junctions, 5515 sections>
    >>> nmj.table().groupby("sign")["weight"].sum().to_dict()
    {-1.0: 841.0, 1.0: 4674.0}
    """
    nmj = _cook_map(str(dataset))
    if not nmj.neurons:
        raise SimulationError(
            f"dataset {dataset!r} has no neuron -> body-wall-muscle rows (MDL01 ... MVR24); "
            "use 'cook2019'"
        )
    return nmj


def muscle_input(drive, weights):
    """Muscle inputs ``u[k, m] = sum_n weights[m, n] drive[k, n]`` (mV), shape (T, 95).

    Summed over each muscle's non-zero weights in neuron order, one row at a time
    (:func:`weigh_rows`), so a row's input has the same bits whether it comes alone or with
    others: the body's two-way coupling, which computes one row per control interval, then
    equals the one-way path exactly (a BLAS product rounds differently with the number of rows).

    Parameters
    ----------
    drive : ndarray, shape (T, n)
        Each mapped neuron's drive ``V - Vref`` over time (the columns of
        :meth:`NeuromuscularMap.columns`).
    weights : ndarray, shape (95, n)
    """
    drive = np.ascontiguousarray(drive, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if drive.ndim != 2 or weights.ndim != 2 or drive.shape[1] != weights.shape[1]:
        raise SimulationError(
            f"drive has shape {drive.shape} and weights {weights.shape}; expected (T, n) "
            "and (muscles, n)"
        )
    out = np.empty((drive.shape[0], weights.shape[0]))
    weigh_rows(drive, *sparse_rows(weights), out)
    return out


def sparse_rows(weights):
    """The non-zero entries of a matrix row by row, ``(ptr, cols, vals)`` for
    :func:`weigh_rows`: row ``m``'s are ``cols[ptr[m]:ptr[m+1]]`` (ascending), ``vals[...]``."""
    weights = np.asarray(weights, dtype=np.float64)
    rows, cols = np.nonzero(weights)
    ptr = np.searchsorted(rows, np.arange(weights.shape[0] + 1)).astype(np.int64)
    return ptr, cols.astype(np.int64), np.ascontiguousarray(weights[rows, cols])


def muscle_activation(u, dt, params=None, initial=None):
    """Step the first-order muscles through inputs ``u`` held over intervals of ``dt``.

    Parameters
    ----------
    u : ndarray, shape (T, M)
        Input of each muscle during interval k (mV).
    dt : float
        Interval, s.
    params : MuscleParams, optional
    initial : ndarray, shape (M,), optional
        Activation at the start (zero: muscles at rest).

    Returns
    -------
    ndarray, shape (T, M)
        ``A[k]``, the activation at the start of interval k (``A[0] = initial``).

    Examples
    --------
    >>> a = muscle_activation(np.ones((3, 1)), 0.1, MuscleParams(tau=0.1))
    >>> np.round(a[:, 0], 6).tolist()   # 1 - exp(-k)
    [0.0, 0.632121, 0.864665]
    """
    params = MuscleParams() if params is None else params
    u = np.ascontiguousarray(u, dtype=np.float64)
    if u.ndim != 2:
        raise SimulationError(f"muscle input has shape {u.shape}; expected (T, muscles)")
    if not np.all(np.isfinite(u)):
        raise SimulationError("muscle input must be finite (check the network run)")
    if not (math.isfinite(dt) and dt > 0):
        raise SimulationError(f"dt = {dt!r} must be a finite number > 0 (s)")
    a0 = np.zeros(u.shape[1]) if initial is None else np.asarray(initial, dtype=np.float64)
    if a0.shape != (u.shape[1],):
        raise SimulationError(f"initial activation has shape {a0.shape}; expected {u.shape[1:]}")
    out = np.empty_like(u)
    filter_first_order(u, math.exp(-dt / params.tau), a0.copy(), out)
    return out


# ---------------------------------------------------------------- numba kernel (arrays only)
@njit(cache=True)
def filter_first_order(u, decay, a, out):
    """Exact first-order filter with inputs held per interval: ``out[k] = a`` then
    ``a = a * decay + u[k] * (1 - decay)``; ``a`` (M,) is updated in place."""
    gain = 1.0 - decay
    for k in range(u.shape[0]):
        for m in range(u.shape[1]):
            out[k, m] = a[m]
            a[m] = a[m] * decay + u[k, m] * gain


@njit(cache=True)
def weigh_rows(drive, ptr, cols, vals, out):
    """``out[k, m] = sum over p in ptr[m]:ptr[m+1] of vals[p] * drive[k, cols[p]]``, summed in
    that order for every row ``k`` alone (no fastmath: the same bits whatever the rows)."""
    for k in range(drive.shape[0]):
        for m in range(ptr.shape[0] - 1):
            acc = 0.0
            for p in range(ptr[m], ptr[m + 1]):
                acc += vals[p] * drive[k, cols[p]]
            out[k, m] = acc
