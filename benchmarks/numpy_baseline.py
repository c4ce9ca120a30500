"""Plain NumPy / SciPy-sparse implementation of the graded model's step, the benchmark's peer.

The same equations and the same fused semi-implicit step as :func:`sim.kernels.graded_step`
(Kunert et al. 2014, doi:10.1103/PhysRevE.89.052805), written the obvious vectorised way: three
sparse matrix-vector products and a handful of array operations per step. ``scheme="expeuler"``
takes Brian2's ``exponential_euler`` step of the same equations instead (each neuron's V and s
integrated exactly over the step with the sums frozen at its start), to check Brian2 against.
"""

import numpy as np
import scipy.sparse as sp

__all__ = ["GradedNumpy"]


class GradedNumpy:
    """The graded model of a :class:`sim.compiler.CompiledCircuit` with NumPy and SciPy.

    Parameters
    ----------
    cc : CompiledCircuit
        A graded-model circuit.
    """

    def __init__(self, cc):
        n = cc.n
        post, gpost = cc.post, cc.gpost
        g = cc.synapse_params["g"]
        ge = g * cc.synapse_params["erev"]
        self.G = sp.csr_matrix((g, (post, cc.pre)), shape=(n, n))
        self.GE = sp.csr_matrix((ge, (post, cc.pre)), shape=(n, n))
        self.Gap = sp.csr_matrix((cc.gw, (gpost, cc.gpre)), shape=(n, n))
        self.gap_sum = np.asarray(self.Gap.sum(axis=1)).ravel()
        p = cc.neuron_params
        self.C, self.Gc, self.Ec = p["C"], p["Gc"], p["Ec"]
        self.beta, self.ar, self.ad = p["beta"], p["ar"], p["ad"]
        self.scale = cc.params.current_scale

    def run(self, v, s, current, vth, dt, nsteps, record_every, scheme="euler"):
        """Integrate ``nsteps`` steps under a constant ``current`` (pA) with thresholds ``vth``
        (mV); returns the potentials every ``record_every`` steps (float32, with the initial
        state first) and the final ``(v, s)``. ``scheme``: "euler" (fused semi-implicit, as
        wormlab's default) or "expeuler" (exponential Euler, as Brian2's)."""
        v, s = v.astype(np.float64).copy(), s.astype(np.float64).copy()
        cur = current * self.scale
        cdt = self.C / dt
        base = self.Gc * self.Ec + cur
        den0 = cdt + self.Gc + self.gap_sum
        hr, hd = dt * self.ar, dt * self.ad
        out = np.empty((nsteps // record_every + 1, v.size), dtype=np.float32)
        out[0] = v
        for k in range(1, nsteps + 1):
            if scheme == "expeuler":
                a = (self.Gc + self.gap_sum + self.G @ s) / self.C
                vinf = (base + self.GE @ s + self.Gap @ v) / self.C / a
                rate = self.ar / (1.0 + np.exp(-self.beta * (v - vth)))
                sinf = rate / (rate + self.ad)
                s = sinf + (s - sinf) * np.exp(-(rate + self.ad) * dt)
                v = vinf + (v - vinf) * np.exp(-a * dt)
            else:
                num = cdt * v + base + self.GE @ s + self.Gap @ v
                den = den0 + self.G @ s
                phi = hr / (1.0 + np.exp(-self.beta * (v - vth)))
                s = (s + phi) / (1.0 + phi + hd)
                v = num / den
            if k % record_every == 0:
                out[k // record_every] = v
        return out, v, s
