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
``gaba``
    The classical rule used by whole-connectome models (Kunert, Shlizerman & Kutz 2014, Phys
    Rev E 89:052805, doi:10.1103/PhysRevE.89.052805; Varshney et al. 2011): inhibitory if and
    only if the presynaptic neuron is GABAergic, every other synapse excitatory. The
    tap-withdrawal circuit has no GABAergic neuron, so here it is all-excitatory.
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
    (Tying strengths to counts, one trained scale per kind, is not implemented.)
"""

import numpy as np

from connectome.errors import ControllerError
from sim.kernels import BLOCK_GAP, BLOCK_W

__all__ = [
    "SIGN_MODELS",
    "COUNT_PRIORS",
    "REVERSE_PATHWAY",
    "FORWARD_PATHWAY",
    "apply_sign_model",
    "count_init",
]

SIGN_MODELS = ("transmitter", "gaba", "wicks1996")
COUNT_PRIORS = (None, "init")
#: The tap-withdrawal pathways of the ``wicks1996`` sign model.
REVERSE_PATHWAY = frozenset({"ALM", "AVM", "AVD", "AVA"})
FORWARD_PATHWAY = frozenset({"PLM", "PVC", "AVB"})


def _pathway(name):
    if name in REVERSE_PATHWAY:
        return "reverse"
    if name in FORWARD_PATHWAY:
        return "forward"
    return None


def apply_sign_model(synapses, model, transmitters=None):
    """The synapses with signs from sign model ``model`` (new dicts; weight and ends kept).

    Parameters
    ----------
    synapses : sequence of dict
        ``pre``, ``post``, ``sign``, ``weight`` per chemical synapse.
    model : str
        One of :data:`SIGN_MODELS`.
    transmitters : dict, optional
        Neuron -> transmitter string (``"GABA"``, ``"ACh;Glu"``); needed by ``gaba``.

    Examples
    --------
    >>> syn = [{"pre": "AVD", "post": "AVA", "sign": 1, "weight": 167.0},
    ...        {"pre": "AVA", "post": "AVB", "sign": 1, "weight": 9.0}]
    >>> [s["sign"] for s in apply_sign_model(syn, "wicks1996")]
    [1, -1]
    >>> [s["sign"] for s in apply_sign_model(syn, "gaba", {"AVD": "GABA", "AVA": "ACh"})]
    [-1, 1]
    """
    if model not in SIGN_MODELS:
        raise ControllerError(f"unknown sign model {model!r}; known: {', '.join(SIGN_MODELS)}")
    out = [dict(s) for s in synapses]
    if model == "transmitter":
        return out
    if model == "gaba":
        if transmitters is None:
            raise ControllerError(
                "sign model 'gaba' needs each neuron's transmitter (a circuit whose neuron table "
                "has a 'transmitter' column)"
            )
        for s in out:
            tx = str(transmitters.get(s["pre"], "") or "")
            s["sign"] = -1 if "GABA" in tx.upper().split(";") else 1
        return out
    for s in out:  # wicks1996
        a, b = _pathway(s["pre"]), _pathway(s["post"])
        if a is not None and b is not None:
            s["sign"] = 1 if a == b else -1
    return out


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
    blocks = (
        (BLOCK_W, [s["weight"] for s in controller.synapses]),
        (BLOCK_GAP, [g["weight"] for g in controller.gaps]),
    )
    for block, counts in blocks:
        counts = np.asarray(counts, np.float64)
        if counts.size == 0:
            continue
        if not np.all(counts > 0) or not np.all(np.isfinite(counts)):
            raise ControllerError(
                "count_prior='init' needs positive synapse counts (weights); this circuit has "
                f"{counts.min()!r}: use count_prior=None"
            )
        sl = slice(controller.offsets[block], controller.offsets[block + 1])
        lo, hi, lg = controller.lo[sl], controller.hi[sl], controller.logscale[sl]
        mid = np.where(lg, np.sqrt(lo * hi), 0.5 * (lo + hi))
        rel = counts / np.exp(np.mean(np.log(counts)))
        theta[sl] = np.where(lo < hi, np.clip(mid * rel, lo, hi), theta[sl])
    return theta
