"""A slow, obvious NumPy reference for one step of a liquid time-constant (LTC) network.

Written out neuron by neuron and synapse by synapse from the equations (Hasani et al. 2021,
doi:10.1609/aaai.v35i9.16936), with the parameter names of ``ncps.torch.LTCCell``'s state dict,
so that it can be held against ncps itself (tests/test_kernels.py does, in the same run) and
the numba kernel against it. ``pre`` indexes rows and ``post`` columns of every synapse matrix,
as in ncps. Beyond ncps it takes an external current and gap junctions, as wormlab's model does.

For each of ``unfolds`` sub-steps of length ``h = elapsed_time / unfolds``, every neuron ``j``:

    v_j <- (cm_j / h v_j + gleak_j vleak_j + sum_i a_ij erev_ij + sum_k g_jk v_k + I_j)
           / (cm_j / h + gleak_j + sum_i a_ij + sum_k g_jk + epsilon)

with ``a_ij = w_ij sigmoid(sigma_ij (v_i - mu_ij))`` over the synapses ``i -> j`` (the previous
sub-step's potentials) plus the sensory synapses from the mapped inputs
``x_s input_w_s + input_b_s`` (fixed during the step).
"""

import math

import numpy as np

__all__ = ["ltc_step"]


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def ltc_step(p, inputs, v, elapsed_time=1.0, unfolds=6, epsilon=1e-8, current=None, gap=None):
    """The potentials after one step (a new float64 array; ``v`` is left alone).

    Parameters
    ----------
    p : dict of ndarray
        ``gleak, vleak, cm`` (n,); ``w, mu, sigma, erev, sparsity_mask`` (n, n) [pre, post];
        ``input_w, input_b`` (k,); ``sensory_w, sensory_mu, sensory_sigma, sensory_erev,
        sensory_sparsity_mask`` (k, n) [input, post].
    inputs : ndarray (k,)
        The step's inputs (before the affine input mapping).
    v : ndarray (n,)
        Potentials at the start of the step.
    elapsed_time : float
        Step length.
    unfolds : int
        Fused sub-steps.
    epsilon : float
        Added to every denominator (ncps's 1e-8).
    current : ndarray (n,), optional
        External current into each neuron.
    gap : ndarray (n, n), optional
        Symmetric gap-junction conductances.
    """
    n = len(v)
    k = len(inputs)
    v = [float(x) for x in v]
    current = [0.0] * n if current is None else [float(x) for x in current]
    mapped = [float(inputs[s]) * float(p["input_w"][s]) + float(p["input_b"][s]) for s in range(k)]
    sensory_num = [0.0] * n
    sensory_den = [0.0] * n
    for s in range(k):
        for j in range(n):
            if p["sensory_sparsity_mask"][s, j] != 0:
                a = p["sensory_w"][s, j] * _sigmoid(
                    p["sensory_sigma"][s, j] * (mapped[s] - p["sensory_mu"][s, j])
                )
                sensory_num[j] += a * p["sensory_erev"][s, j]
                sensory_den[j] += a
    h = elapsed_time / unfolds
    for _ in range(unfolds):
        new = []
        for j in range(n):
            c = p["cm"][j] / h
            num = c * v[j] + p["gleak"][j] * p["vleak"][j] + sensory_num[j] + current[j]
            den = c + p["gleak"][j] + sensory_den[j]
            for i in range(n):
                if p["sparsity_mask"][i, j] != 0:
                    a = p["w"][i, j] * _sigmoid(p["sigma"][i, j] * (v[i] - p["mu"][i, j]))
                    num += a * p["erev"][i, j]
                    den += a
                if gap is not None and gap[j, i] != 0:
                    num += gap[j, i] * v[i]
                    den += gap[j, i]
            new.append(num / (den + epsilon))
        v = new
    return np.array(v, dtype=np.float64)
