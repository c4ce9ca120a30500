"""The connectome as a prior: named synapse-sign models and count-based initial strengths.

A controller built from a circuit takes its wiring from the connectome; this module lets the
connectome say more than the topology.

Sign models (``signs=`` of :meth:`sim.control.Controller.from_circuit`)
---------------------------------------------------------------------------
Each chemical synapse has a reversal potential ``E = +1`` (excitatory) or ``-1`` (inhibitory)
in the unitless LTC model. :data:`SIGN_MODELS` names the rules:

``transmitter``
    The circuit's own signs (the default, and what wormlab did before the option existed):
    the dataset's default sign per synapse, from the presynaptic neuron's transmitter
    (Wang et al. 2024 eLife, doi:10.7554/eLife.95402, via ``cect``): ACh +, GABA -, Glu +
    by wormlab's documented default (Glu acts through both excitatory and inhibitory
    receptors, e.g. GLC-1/AVR-14 chloride channels, so its sign is genuinely ambiguous).
``kunert2014``
    The classical rule of whole-connectome models (Kunert, Shlizerman & Kutz 2014, Phys Rev E
    89:052805, doi:10.1103/PhysRevE.89.052805): inhibitory if and only if the presynaptic
    neuron is one of the 26 classical GABAergic neurons (McIntire et al. 1993;
    :data:`sim.models.KUNERT2014_NAMES`, the same set as the graded model's
    ``signs="kunert2014"``), every other synapse excitatory. The tap-withdrawal circuit has
    none of them, so there it is all-excitatory.
``wicks1996``
    The tap-withdrawal circuit's signs as inferred from behaviour by Wicks, Roehrig & Rankin
    1996 (J Neurosci 16:4017, doi:10.1523/JNEUROSCI.16-12-04017.1996) and used by Lechner
    et al. 2018 (arXiv:1803.08554, their Fig. 1). What wormlab encodes is the principle of
    that model, not a transcription of its synapse table (which is not in this repository):
    the circuit has a reverse pathway (anterior touch ALM, AVM -> AVD -> AVA) and a forward
    pathway (posterior touch PLM -> PVC -> AVB); chemical synapses *within* a pathway are
    excitatory, synapses from one pathway onto the other pathway's neurons are inhibitory
    (so the two command interneurons AVA and AVB inhibit each other). Synapses of PVD and
    DVA, which belong to neither pathway, keep the transmitter sign. Uncertain: the 1996
    model predicted signs only for the synapses of the 1985 diagram; Cook 2019 synapses it
    did not have (e.g. PVD -> PVC, PVC -> AVA, AVB -> AVD) get the pathway rule, which is
    wormlab's extrapolation; and individual synapses of the published model may differ from
    the rule. Check against the paper before citing a single synapse's sign.

Count prior (``count_prior=`` of :meth:`~sim.control.Controller.from_circuit`)
--------------------------------------------------------------------------------
``None``
    Every synapse starts at the middle of its range (unit-cube coordinate 0.5).
``"init"``
    Counts as the centre of each synapse's search: the initial strength of chemical synapse
    ``s`` (and of gap junction ``g``) is ``w_s = w_mid * n_s / gmean(n)``, clipped to the
    range, with ``w_mid`` the range's (geometric, for log ranges) midpoint, ``n_s`` the EM
    count and ``gmean`` the geometric mean of the counts of that kind. The trainer's CMA-ES
    starts from this point, so a heavy synapse starts strong; the ranges are unchanged.
``"tie"``
    Strengths tied to the counts: one trained scale per synapse kind (chemical, gap)
    times the EM count gives every synapse's strength, ``w_s = a_chem * n_s`` and
    ``g_k = a_gap * n_k`` exactly (one float product each); the trainer searches the two
    scales instead of the per-synapse strengths (:attr:`Controller.n_free` drops by the
    number of synapses and gaps, less 2). Each scale ranges over the kind's strength range
    divided by the geometric mean count, ``[lo / gmean(n), hi / gmean(n)]`` (log if the
    range is), so a synapse of typical count spans the usual range; it starts at the middle
    (count_prior ``"init"``'s point, unclipped). A kind whose range is fixed stays fixed.
    A tied controller's file says ``model.tie = "counts"`` and its strengths must be
    exactly scale x count (checked on load, :func:`tie_scale`).
"""

from dataclasses import dataclass

import numpy as np

from connectome.errors import ControllerError
from sim.kernels import BLOCK_GAP, BLOCK_W
from sim.models import KUNERT2014_NAMES

__all__ = [
    "SIGN_MODELS",
    "COUNT_PRIORS",
    "REVERSE_PATHWAY",
    "FORWARD_PATHWAY",
    "apply_sign_model",
    "count_init",
    "Tie",
    "tie_blocks",
    "tie_scale",
]

SIGN_MODELS = ("transmitter", "kunert2014", "wicks1996")
COUNT_PRIORS = (None, "init", "tie")
_TIE_KINDS = (("chemical", BLOCK_W, "synapses"), ("gap", BLOCK_GAP, "gaps"))
_ULPS = 4  # how far tie_scale looks from w / n for the scale whose products give w
#: The tap-withdrawal pathways of the ``wicks1996`` sign model.
REVERSE_PATHWAY = frozenset({"ALM", "AVM", "AVD", "AVA"})
FORWARD_PATHWAY = frozenset({"PLM", "PVC", "AVB"})


def _pathway(name):
    if name in REVERSE_PATHWAY:
        return "reverse"
    if name in FORWARD_PATHWAY:
        return "forward"
    return None


def apply_sign_model(synapses, model):
    """The synapses with signs from sign model ``model`` (new dicts; weight and ends kept).

    Parameters
    ----------
    synapses : sequence of dict
        ``pre``, ``post``, ``sign``, ``weight`` per chemical synapse.
    model : str
        One of :data:`SIGN_MODELS`.

    Examples
    --------
    >>> syn = [{"pre": "AVD", "post": "AVA", "sign": 1, "weight": 167.0},
    ...        {"pre": "AVA", "post": "AVB", "sign": 1, "weight": 9.0}]
    >>> [s["sign"] for s in apply_sign_model(syn, "wicks1996")]
    [1, -1]
    >>> [s["sign"] for s in apply_sign_model([{**syn[0], "pre": "DD1"}], "kunert2014")]
    [-1]
    """
    if model not in SIGN_MODELS:
        raise ControllerError(f"unknown sign model {model!r}; known: {', '.join(SIGN_MODELS)}")
    out = [dict(s) for s in synapses]
    if model == "transmitter":
        return out
    if model == "kunert2014":
        for s in out:
            s["sign"] = -1 if s["pre"] in KUNERT2014_NAMES else 1
        return out
    for s in out:  # wicks1996
        a, b = _pathway(s["pre"]), _pathway(s["post"])
        if a is not None and b is not None:
            s["sign"] = 1 if a == b else -1
    return out


def _counts(items, what):
    counts = np.asarray([x["weight"] for x in items], np.float64)
    if counts.size and not (np.all(counts > 0) and np.all(np.isfinite(counts))):
        raise ControllerError(
            f"count_prior={what!r} needs positive synapse counts (weights); this circuit has "
            f"{counts.min()!r}: use count_prior=None"
        )
    return counts


@dataclass(frozen=True)
class Tie:
    """One synapse kind's strengths tied to its counts (count_prior ``"tie"``).

    Attributes
    ----------
    kind : str
        ``"chemical"`` or ``"gap"``.
    block : int
        The parameter block (:data:`sim.kernels.BLOCK_W` or ``BLOCK_GAP``).
    counts : ndarray
        EM count of every synapse of the kind, in the controller's order.
    lo, hi : float
        The scale's range.
    log : bool
        Log scale (as the kind's strength range).
    """

    kind: str
    block: int
    counts: np.ndarray
    lo: float
    hi: float
    log: bool

    def scale_of(self, x) -> np.ndarray:
        """The scale at unit-cube coordinate(s) ``x``."""
        x = np.asarray(x, np.float64)
        if self.log:
            return self.lo * (self.hi / self.lo) ** x
        return self.lo + x * (self.hi - self.lo)

    def unit_of(self, scale) -> float:
        """The unit-cube coordinate of ``scale`` (clipped to [0, 1])."""
        if self.log:
            u = (np.log(scale) - np.log(self.lo)) / (np.log(self.hi) - np.log(self.lo))
        else:
            u = (scale - self.lo) / (self.hi - self.lo)
        return float(np.clip(u, 0.0, 1.0))


def tie_blocks(controller) -> tuple:
    """The :class:`Tie` of each synapse kind of ``controller`` that has synapses and a
    trained (not fixed) strength range."""
    ties = []
    for kind, block, attr in _TIE_KINDS:
        counts = _counts(getattr(controller, attr), "tie")
        r = controller.ranges[controller.group_names[block]]
        if counts.size == 0 or r.lo == r.hi:
            continue
        gm = float(np.exp(np.mean(np.log(counts))))
        ties.append(Tie(kind, block, counts, r.lo / gm, r.hi / gm, bool(r.log)))
    return tuple(ties)


def tie_scale(tie, strengths) -> float:
    """The scale ``a`` with ``a * tie.counts == strengths`` exactly (elementwise float
    products), found within a few ulps of ``strengths[0] / counts[0]``.

    Raises
    ------
    ControllerError
        The strengths are not one scale times the counts.
    """
    w = np.asarray(strengths, np.float64)
    q = w[0] / tie.counts[0]
    for direction in (np.inf, -np.inf):
        a = q
        for _ in range(_ULPS + 1):
            if np.array_equal(a * tie.counts, w):
                return float(a)
            a = np.nextafter(a, direction)
    raise ControllerError(
        f"a controller with strengths tied to counts (model.tie = 'counts') needs every "
        f"{tie.kind} strength to be one scale times its count; these are not (e.g. "
        f"{w[0]!r} / {tie.counts[0]!r} vs {w[-1]!r} / {tie.counts[-1]!r}): retrain, or drop "
        "the tie"
    )


def count_init(controller):
    """The controller's parameters with count-based initial synapse and gap strengths.

    See the module docstring (``count_prior="init"``). Entries whose range is fixed keep
    their value.

    Returns
    -------
    ndarray
        A new ``theta`` (the input is not changed).
    """
    theta = np.array(controller.theta)
    blocks = ((BLOCK_W, controller.synapses), (BLOCK_GAP, controller.gaps))
    for block, items in blocks:
        counts = _counts(items, "init")
        if counts.size == 0:
            continue
        sl = slice(controller.offsets[block], controller.offsets[block + 1])
        lo, hi, lg = controller.lo[sl], controller.hi[sl], controller.logscale[sl]
        mid = np.where(lg, np.sqrt(lo * hi), 0.5 * (lo + hi))
        rel = counts / np.exp(np.mean(np.log(counts)))
        theta[sl] = np.where(lo < hi, np.clip(mid * rel, lo, hi), theta[sl])
    return theta
