"""Synapse lesions of a trained LTC controller: the return with each synapse removed.

A neuron's lesion is :func:`sim.comparison.lesion_returns`; this module lesions single
synapses: one chemical synapse (its maximum conductance ``w`` set to 0) or one gap junction
(its conductance ``g`` set to 0) at a time, every other parameter as trained.
:func:`strongest_synapses` picks which to lesion when a circuit has too many to try them all
(the largest trained conductances first); :func:`synapse_lesion_returns` scores them on the
given episodes in one batched rollout (:func:`sim.evaluation.rollout`), so each synapse's
number does not depend on which others are scored with it.

>>> import connectome
>>> from sim.control import Controller
>>> tw = connectome.presets.tap_withdrawal(connectome.load("cook2019"))
>>> ctrl = Controller.from_circuit(tw, "CartPole-v1")
>>> len(synapse_list(ctrl)), len(strongest_synapses(ctrl, 40))
(51, 40)
"""

import numpy as np

from connectome.errors import ControllerError
from sim.evaluation import rollout
from sim.kernels import BLOCK_GAP, BLOCK_W

__all__ = ["SYNAPSE_KINDS", "synapse_list", "strongest_synapses", "synapse_lesion_returns"]

#: The two kinds of synapse a controller has, as :func:`synapse_list` names them.
SYNAPSE_KINDS = ("chemical", "electrical")


def _check_ltc(controller):
    if controller.core != "ltc":
        raise ControllerError(
            f"synapse lesions apply to LTC circuits, not to the {controller.core} core"
        )


def synapse_list(controller) -> list:
    """Every synapse of an LTC ``controller``, chemical synapses (CSR order) then gap
    junctions, as ``{"kind", "index", "pre", "post", "weight"}`` (``index`` into
    ``controller.synapses`` or ``controller.gaps``; ``weight`` the trained conductance,
    ``w`` or ``g``; a gap junction's ``pre``/``post`` are its two ends ``a``/``b``)."""
    _check_ltc(controller)
    w = controller.theta[controller.offsets[BLOCK_W] : controller.offsets[BLOCK_W + 1]]
    g = controller.theta[controller.offsets[BLOCK_GAP] : controller.offsets[BLOCK_GAP + 1]]
    out = [
        {"kind": "chemical", "index": k, "pre": s["pre"], "post": s["post"], "weight": float(w[k])}
        for k, s in enumerate(controller.synapses)
    ]
    out += [
        {"kind": "electrical", "index": k, "pre": x["a"], "post": x["b"], "weight": float(g[k])}
        for k, x in enumerate(controller.gaps)
    ]
    return out


def strongest_synapses(controller, limit: int) -> list:
    """The ``limit`` synapses of :func:`synapse_list` with the largest |trained conductance|
    (ties in list order), strongest first; all of them when there are at most ``limit``."""
    items = synapse_list(controller)
    order = sorted(range(len(items)), key=lambda i: (-abs(items[i]["weight"]), i))
    return [items[i] for i in order[: max(int(limit), 0)]]


def synapse_lesion_returns(controller, seeds, synapses) -> list:
    """Mean return over ``seeds`` with each of ``synapses`` (items of :func:`synapse_list`)
    lesioned alone: its conductance set to 0. Returns one float per synapse, in order."""
    _check_ltc(controller)
    if not synapses:
        return []
    blocks = {"chemical": (BLOCK_W, len(controller.synapses)),
              "electrical": (BLOCK_GAP, len(controller.gaps))}  # fmt: skip
    thetas = np.repeat(controller.theta[None, :], len(synapses), axis=0)
    for row, s in enumerate(synapses):
        if s.get("kind") not in blocks:
            raise ControllerError(f"synapse kind {s.get('kind')!r}; use one of {SYNAPSE_KINDS}")
        block, count = blocks[s["kind"]]
        k = s.get("index")
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 <= k < count:
            raise ControllerError(f"{s['kind']} synapse index {k!r} is not in 0 .. {count - 1}")
        thetas[row, controller.offsets[block] + k] = 0.0
    return [float(m) for m in rollout(controller, seeds, thetas)[0].mean(axis=1)]
