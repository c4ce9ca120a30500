"""Parameters of wormlab's two neuron models, with their units and sources.

``ltc`` — liquid time-constant neurons (unitless, as in ``ncps``)
------------------------------------------------------------------
=========  ============================  ==========
state      meaning                       range
=========  ============================  ==========
v_i        membrane potential            unbounded
=========  ============================  ==========

::

    cm dv_i/dt = gleak (vleak - v_i) + sum_s w_s sig(sigma_s (v_pre - mu_s)) (erev_s - v_i)
                 + sum_gap gw (v_j - v_i) + I_i

Hasani, Lechner, Amini, Rus & Grosu 2021, "Liquid time-constant networks", AAAI 35(9):7657,
doi:10.1609/aaai.v35i9.16936; Lechner et al. 2020, Nat Mach Intell 2:642,
doi:10.1038/s42256-020-00237-3. Integrated with the fused semi-implicit Euler step of ncps's
``LTCCell`` (6 unfolds per step).

``graded`` — Kunert, Shlizerman & Kutz 2014 (mV, pF, pS, s; current in pA)
--------------------------------------------------------------------------
=========  ==============================  =========
state      meaning                         range
=========  ==============================  =========
V_i        membrane potential (mV)         unbounded
s_i        synaptic activation (1)         [0, 1]
=========  ==============================  =========

::

    C dV_i/dt = -Gc (V_i - Ec) - sum_j ggap Gg_ij (V_i - V_j) - sum_j gsyn Gs_ij s_j (V_i - E_j)
                + I_i
    ds_i/dt   = ar phi(V_i) (1 - s_i) - ad s_i,   phi(V) = 1 / (1 + exp(-beta (V - Vth_i)))

Kunert, Shlizerman & Kutz 2014, "Low-dimensional functionality of complex network dynamics:
neurosensory integration in the Caenorhabditis elegans connectome", Phys Rev E 89:052805,
doi:10.1103/PhysRevE.89.052805; Wicks, Roehrig & Rankin 1996, J Neurosci 16:4017,
doi:10.1523/JNEUROSCI.16-12-04017.1996 (the graded synapse); Kim, Leahy & Shlizerman 2019,
"Neural Interactome", Front Comput Neurosci 12:101, doi:10.3389/fncom.2018.00101.
``Vth_i`` puts the network's steady state at the sigmoid's midpoint: the linear steady state
with every ``s_j = ar / (ar + 2 ad)``, including the constant part of the input (see
:func:`sim.compiler.graded_thresholds`).

Connectome weights (synapse or gap-junction counts ``G``) become conductances through
:func:`map_weights`: ``g = scale * f(G)`` with ``f`` linear (the papers' choice), ``log1p`` or
``binary``; the per-count conductances (``gsyn``, ``ggap``, ``w_scale``, ``gap_scale``) are the
user's scale knobs.

Which chemical synapses are inhibitory is a named sign set (:data:`SIGN_SETS`, the graded
model's ``signs``): ``"transmitter"`` (wormlab's default: the presynaptic neuron's ``sign`` in
the data, -1 when GABA is its primary transmitter after Wang et al. 2024, 31 neurons) or
``"kunert2014"`` (the classical GABAergic set of McIntire et al. 1993 that Kunert et al. 2014
used, 26 neurons: :data:`KUNERT2014_INHIBITORY`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, fields, replace

import numpy as np

from connectome import limits
from connectome.errors import SimulationError

__all__ = [
    "MODELS",
    "WEIGHT_MAPS",
    "SIGN_SETS",
    "KUNERT2014_INHIBITORY",
    "GradedParams",
    "LTCParams",
    "default_params",
    "map_weights",
]

MODELS = ("graded", "ltc")
WEIGHT_MAPS = ("linear", "log1p", "binary")
#: Named sign sets of chemical synapses (which presynaptic neurons are inhibitory):
#: "transmitter" reads each edge's ``sign`` (wormlab's data: -1 when GABA is the neuron's primary
#: transmitter, Wang et al. 2024, eLife 13:RP95402, doi:10.7554/eLife.95402: 31 neurons, the 26
#: below and ALA, AVJL/R, RIBL/R); "kunert2014" makes exactly :data:`KUNERT2014_INHIBITORY`
#: inhibitory and every other synapse excitatory, as Kunert, Shlizerman & Kutz 2014 did.
SIGN_SETS = ("transmitter", "kunert2014")
#: The classical GABAergic neurons (McIntire, Jorgensen & Horvitz 1993, Nature 364:337,
#: doi:10.1038/364337a0), the inhibitory set of Kunert et al. 2014: DD1-6, VD1-13, RMED/L/R/V,
#: AVL, DVB and RIS (26). At class level the classes DD, VD, RME, AVL, DVB and RIS.
KUNERT2014_INHIBITORY = frozenset(
    [f"DD{i}" for i in range(1, 7)]
    + [f"VD{i}" for i in range(1, 14)]
    + ["RMED", "RMEL", "RMER", "RMEV", "AVL", "DVB", "RIS"]
)


def map_weights(weights, mapping="linear", scale=1.0):
    """Turn connectome weights (counts) into conductances: ``scale * f(weights)``.

    Parameters
    ----------
    weights : array_like
        Non-negative weights (EM synapse or gap-junction counts).
    mapping : {"linear", "log1p", "binary"}
        ``f(G) = G``, ``log(1 + G)`` or ``1`` (for ``G > 0``).
    scale : float
        Conductance per unit of ``f(G)`` (pS for the graded model).

    Examples
    --------
    >>> map_weights([1.0, 3.0], "linear", 100.0).tolist()
    [100.0, 300.0]
    >>> map_weights([0.0, 5.0], "binary", 2.0).tolist()
    [0.0, 2.0]
    """
    w = np.asarray(weights, dtype=np.float64)
    if mapping == "linear":
        f = w
    elif mapping == "log1p":
        f = np.log1p(w)
    elif mapping == "binary":
        f = (w > 0).astype(np.float64)
    else:
        raise SimulationError(f"unknown weight mapping {mapping!r}; use one of {WEIGHT_MAPS}")
    return scale * f


class _Params:
    """Shared checks and helpers of the parameter dataclasses."""

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "unfolds":
                value = limits.check_int(
                    value, "parameter unfolds", 1, limits.MAX_UNFOLDS, SimulationError
                )
            elif f.type in ("float", float):
                if not (isinstance(value, numbers.Real) and not isinstance(value, bool)):
                    raise SimulationError(
                        f"parameter {f.name} = {limits.shorten(value)} must be a number"
                    )
                lo, hi = (
                    (limits.MIN_DT, limits.MAX_DT)
                    if f.name == "dt"
                    else (-limits.MAX_ABS_PARAMETER, limits.MAX_ABS_PARAMETER)
                )
                value = limits.check_float(value, f"parameter {f.name}", lo, hi, SimulationError)
            object.__setattr__(self, f.name, value)
        if self.weight_map not in WEIGHT_MAPS:
            raise SimulationError(
                f"unknown weight_map {limits.shorten(self.weight_map)}; use one of {WEIGHT_MAPS}"
            )
        for name in self._positive:
            if getattr(self, name) <= 0:
                raise SimulationError(f"parameter {name} = {getattr(self, name)!r} must be > 0")
        for name in self._non_negative:
            if getattr(self, name) < 0:
                raise SimulationError(f"parameter {name} = {getattr(self, name)!r} must be >= 0")

    def replace(self, **changes):
        """A copy with some fields changed (checked again).

        Raises
        ------
        SimulationError
            For a name that is not a parameter of this model.
        """
        known = {f.name for f in fields(self)}
        bad = sorted(set(changes) - known)
        if bad:
            raise SimulationError(
                f"unknown parameter(s) {bad} for {type(self).__name__}; known: {sorted(known)}"
            )
        return replace(self, **changes)

    def as_dict(self):
        """The parameters as a plain dict (field name -> value)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class GradedParams(_Params):
    """Parameters of the graded-potential model of Kunert, Shlizerman & Kutz 2014.

    Defaults are the paper's (Phys Rev E 89:052805, doi:10.1103/PhysRevE.89.052805, Sec. II,
    after Wicks et al. 1996 and Varshney et al. 2011), as in the Neural Interactome
    (doi:10.3389/fncom.2018.00101).

    Attributes
    ----------
    C : float
        Membrane capacitance, pF (1).
    Gc : float
        Leak conductance, pS (10).
    Ec : float
        Leak reversal potential, mV (-35).
    ggap : float
        Conductance per gap-junction count, pS (100).
    gsyn : float
        Conductance per chemical-synapse count, pS (100).
    ar, ad : float
        Synaptic activation rise and decay rates, 1/s (1 and 5).
    beta : float
        Slope of the presynaptic sigmoid, 1/mV (0.125).
    E_exc, E_inh : float
        Reversal potentials of excitatory and inhibitory synapses, mV (0 and -48). A synapse is
        inhibitory when its sign is -1 (in wormlab's data: a GABAergic presynaptic neuron).
    weight_map : {"linear", "log1p", "binary"}
        How counts become conductances (:func:`map_weights`); "linear" in the paper.
    signs : {"transmitter", "kunert2014"}
        Which chemical synapses are inhibitory (:data:`SIGN_SETS`): the data's sign
        (``"transmitter"``, default) or the paper's 26 GABAergic neurons (``"kunert2014"``).
    threshold : {"input", "rest"}
        ``"input"``: ``Vth`` is recomputed, as in the Neural Interactome, whenever the constant
        (step) input changes; ``"rest"``: ``Vth`` is that of the network without input.
    dt : float
        Default step, s (1e-4). Both schemes are stable for any dt, but not exact: measured
        on Varshney 2011 with 2000 pA into PLM (default parameters, scheme "euler"), 0.1 ms differs
        from a 12.5 µs step by 0.14 mV over the ventral cord motor neurons and 0.66 mV over
        all neurons at t = 0.5 s, and by up to 56 mV during the onset transient (t = 5 ms,
        while the stimulated neurons charge by volts):
        ``PYTHONPATH=$PWD python benchmarks/bench_graded_dt.py``. Use a smaller dt where
        the first milliseconds matter.
    unfolds : int
        Sub-steps per step (1).
    scheme : {"euler", "cn"}
        Time stepping. ``"euler"`` (default): the fused semi-implicit Euler step, first order,
        gap junctions coupled explicitly (Jacobi); cheapest per step. On Cook 2019 under 2000 pA
        into PLM its error against a converged reference is about 5% of the swing at 0.1 ms
        (the onset transient), 9% at 0.2 ms and 18% at 0.5 ms; on Varshney 2011, under 1%
        at 0.1 ms (tests/test_simulate.py::test_graded_convergence). ``"cn"``: second order,
        Crank-Nicolson on the linear system in V with the gap junctions coupled implicitly
        (a sparse LDL^T solve per step, :func:`sim.kernels.graded_cn_step_lanes`); on the same
        Cook 2019 run about 0.08%, 0.3% and 2% at 0.1, 0.2 and 0.5 ms, but a step costs about
        60 times an ``euler`` step in a single run (the factorisation) and about 10 times per
        item in batches of 32: since ``euler``'s error shrinks in proportion to dt, ``cn`` is
        the cheaper way only to tolerances below about 1e-3 of the swing
        (tests/test_simulate.py::test_cn_is_second_order_and_euler_first_on_stiff_cook;
        benchmarks/bench_peers.py prints both schemes' errors and times).
    """

    C: float = 1.0  # pF
    Gc: float = 10.0  # pS
    Ec: float = -35.0  # mV
    ggap: float = 100.0  # pS per gap-junction count
    gsyn: float = 100.0  # pS per synapse count
    ar: float = 1.0  # 1/s
    ad: float = 5.0  # 1/s
    beta: float = 0.125  # 1/mV
    E_exc: float = 0.0  # mV
    E_inh: float = -48.0  # mV
    weight_map: str = "linear"
    threshold: str = "input"
    signs: str = "transmitter"
    dt: float = 1e-4  # s
    unfolds: int = 1
    scheme: str = "euler"

    _positive = ("C", "Gc", "ar", "ad", "beta")
    _non_negative = ("ggap", "gsyn")

    def __post_init__(self):
        super().__post_init__()
        if self.threshold not in ("input", "rest"):
            raise SimulationError(f"threshold = {self.threshold!r}; use 'input' or 'rest'")
        if self.signs not in SIGN_SETS:
            raise SimulationError(
                f"signs = {self.signs!r} is not a sign set; use one of {', '.join(SIGN_SETS)}"
            )
        if self.scheme not in ("euler", "cn"):
            raise SimulationError(f"scheme = {self.scheme!r}; use 'euler' or 'cn'")

    @property
    def s_eq(self):
        """Synaptic activation at the sigmoid's midpoint, ``ar / (ar + 2 ad)``."""
        return self.ar / (self.ar + 2.0 * self.ad)

    @property
    def tau_m(self):
        """Membrane time constant of an isolated neuron, ``C / Gc``, s."""
        return self.C / self.Gc

    @property
    def current_scale(self):
        """Factor from the API's current unit (pA) to the equations' (fA = pS mV): 1000."""
        return 1e3


@dataclass(frozen=True)
class LTCParams(_Params):
    """Parameters of liquid time-constant neurons on a connectome (unitless, as in ncps).

    Defaults are the midpoints of ncps 1.0.1's ``LTCCell`` initialisation ranges (cm 0.4-0.6,
    gleak 0.001-1, vleak -0.2-0.2, mu 0.3-0.8, sigma 3-8), Hasani et al. 2021
    (doi:10.1609/aaai.v35i9.16936). Chemical synapse weights are ``w_scale * f(count)``, gap
    junction conductances ``gap_scale * f(count)``; reversal potentials +1 / -1 from the
    synapse sign, as ncps's polarity.

    Attributes
    ----------
    cm : float
        Membrane capacitance (0.5).
    gleak : float
        Leak conductance (0.5).
    vleak : float
        Leak potential (0).
    w_scale : float
        Synaptic weight per synapse count (0.1).
    gap_scale : float
        Gap-junction conductance per count (0.1).
    mu : float
        Half-activation presynaptic potential of every synapse (0.55).
    sigma : float
        Slope of every synapse's sigmoid (5.5).
    erev_exc, erev_inh : float
        Reversal potentials of excitatory (sign +1) and inhibitory (sign -1) synapses (+1, -1).
    weight_map : {"linear", "log1p", "binary"}
        How counts become weights (:func:`map_weights`).
    dt : float
        Default step, in the model's time unit (1, ncps's default ``elapsed_time``).
    unfolds : int
        Semi-implicit sub-steps per step (6, as ncps).
    """

    cm: float = 0.5
    gleak: float = 0.5
    vleak: float = 0.0
    w_scale: float = 0.1
    gap_scale: float = 0.1
    mu: float = 0.55
    sigma: float = 5.5
    erev_exc: float = 1.0
    erev_inh: float = -1.0
    weight_map: str = "linear"
    dt: float = 1.0
    unfolds: int = 6

    _positive = ("cm",)
    _non_negative = ("gleak", "w_scale", "gap_scale")

    @property
    def tau_m(self):
        """Time constant of an isolated neuron, ``cm / gleak``."""
        return self.cm / self.gleak if self.gleak > 0 else np.inf

    @property
    def current_scale(self):
        """Factor from the API's current unit to the equations' (1: unitless)."""
        return 1.0


def default_params(model, **overrides):
    """Default parameters of ``model`` ("graded" or "ltc"), with some fields overridden.

    Examples
    --------
    >>> default_params("graded").Ec
    -35.0
    >>> default_params("ltc", unfolds=3).unfolds
    3
    """
    if model == "graded":
        return GradedParams().replace(**overrides)
    if model == "ltc":
        return LTCParams().replace(**overrides)
    raise SimulationError(f"unknown model {model!r}; use one of {MODELS}")
