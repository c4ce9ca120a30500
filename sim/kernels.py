"""Numba kernels: the two neuron models, stimulus protocols, the batched time loop, controllers.

Only ``@njit(cache=True)`` functions over arrays and scalars live here; every check of shapes,
units and names is done by the Python layer (:mod:`sim.compiler`, :mod:`sim.runner`).

Layout
------
Connectivity is CSR with rows = postsynaptic neuron: synapse ``k`` in ``indptr[i]:indptr[i+1]``
runs from ``pre[k]`` to neuron ``i``. Gap junctions use their own CSR with both directions of
every pair stored. The batched kernels keep the state of a *chunk* of batch items side by side,
shape ``(n, lanes)``, so that every synapse is read once per step for all lanes of the chunk and
the innermost loop (over lanes) is unit-stride; the single-item kernels are the same code with
one lane.

Models
------
``ltc`` (liquid time-constant neurons, Hasani et al. 2021, doi:10.1609/aaai.v35i9.16936)::

    cm dv_i/dt = gleak (vleak - v_i) + sum_s w_s sig(sigma_s (v_pre - mu_s)) (erev_s - v_i)
                 + sum_gap gw (v_j - v_i) + I_i

``graded`` (Kunert, Shlizerman & Kutz 2014, doi:10.1103/PhysRevE.89.052805)::

    C dV_i/dt = -Gc (V_i - Ec) - sum_j gw_ij (V_i - V_j) - sum_j g_ij s_j (V_i - E_ij) + I_i
    ds_i/dt   = ar phi_i (1 - s_i) - ad s_i,   phi_i = 1 / (1 + exp(-beta (V_i - Vth_i)))

Both are advanced by the fused semi-implicit Euler step: every term linear in the neuron's own
potential is taken at the new time, every other quantity at the previous sub-step (Jacobi), so
the new potential is a positive-weighted mean of the old potentials, the reversal potentials and
the input: the step is stable for any dt and its fixed points are exactly those of the ODE.
It is first order. The graded model also has a second-order scheme, ``cn``
(:func:`graded_cn_step_lanes`): Crank-Nicolson on the whole linear system in V, gap junctions
coupled implicitly through a sparse LDL^T factorisation per step (pattern: :mod:`sim.ldl`).

Compilation flags: ``error_model="numpy"`` (a division by zero gives inf, which the time loop
reports as a divergence, instead of raising inside the kernel) and ``fastmath`` limited to
``contract`` and ``reassoc`` (fused multiply-adds, reordered sums; never ``nnan``/``ninf``, so
the non-finite checks stay). The sigmoid is evaluated branch-free (:func:`sigmoid`) so that
loops over lanes vectorise.

Stimulus protocols (``kind`` codes; columns of the parameter row, times in s)
-----------------------------------------------------------------------------
=====  ============  ==========================================================
code   protocol      parameters
=====  ============  ==========================================================
0      step          amp, start, stop
1      pulse train   amp, start, stop, period, width
2      sine          amp, freq (Hz), phase (rad), offset, start, stop
3      ramp          amp0, amp1, start, stop  (linear from amp0 at start to amp1 at stop)
4      held samples  start, sample_dt, scale   (``waves[w0:w1]``, zero-order hold)
5      interpolated  start, sample_dt, scale   (``waves[w0:w1]``, linear interpolation)
=====  ============  ==========================================================

A stimulus is zero outside its window. The step from ``t`` to ``t + dt`` uses the protocol's
value at ``t``, so a stimulus that starts at ``start`` first shows in the state at
``start + dt``.
"""

import math

import numpy as np
from numba import njit, prange

from sim.envs import env_observe, env_step

__all__ = [
    "STIM_STEP",
    "STIM_PULSE",
    "STIM_SINE",
    "STIM_RAMP",
    "STIM_HOLD",
    "STIM_INTERP",
    "MODEL_LTC",
    "MODEL_GRADED",
    "sigmoid",
    "ltc_step",
    "ltc_step_lanes",
    "graded_step",
    "graded_step_lanes",
    "graded_cn_step_lanes",
    "stim_value",
    "run_chunks",
    "lu_solve",
    "controller_step",
    "feedforward_step",
    "decode_batch",
    "gap_weights",
    "rollout_batch",
]

STIM_STEP = 0
STIM_PULSE = 1
STIM_SINE = 2
STIM_RAMP = 3
STIM_HOLD = 4
STIM_INTERP = 5

MODEL_LTC = 0
MODEL_GRADED = 1  # graded, scheme "euler"
MODEL_GRADED_CN = 2  # graded, scheme "cn"

_EPS = 1e-8  # ncps LTCCell's epsilon in the denominator of the fused step
_POW2 = 2.0 ** np.arange(-64, 65)  # 2^k for the sigmoid's exp, k in [-64, 64] (read-only)


@njit(cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
def sigmoid(x):
    """Logistic function ``1 / (1 + exp(-x))`` (float64), branch-free so that loops over it
    vectorise; within a few units in the last place of the libm version.

    ``x`` is clamped to [-40, 40], where the result is 1 in double precision or below 5e-18;
    ``exp`` is ``2^k p(r)`` with ``r = x - k ln 2`` (Cody-Waite split) and ``p`` the degree-12
    Taylor polynomial (error below 2e-16 on |r| <= ln(2)/2).
    """
    x = min(max(x, -40.0), 40.0)
    k = np.floor(-x * 1.4426950408889634 + 0.5)
    r = -x - k * 0.6931471803691238 - k * 1.9082149292705877e-10
    p = 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    return 1.0 / (1.0 + p * _POW2[int(k) + 64])


@njit(cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
def ltc_step_lanes(
    v, current, indptr, pre, w, erev, mu, sigma, gindptr, gpre, gw, cm, gleak, vleak, dt,
    unfolds, work, num, den,
):  # fmt: skip
    """One fused semi-implicit LTC step of length ``dt`` for ``lanes`` independent states.

    Parameters
    ----------
    v : ndarray, shape (n, lanes)
        Potentials, advanced in place.
    current : ndarray, shape (n, lanes)
        External current during the step.
    indptr, pre, w, erev, mu, sigma
        Chemical synapses, CSR by postsynaptic neuron (see module docstring).
    gindptr, gpre, gw
        Gap junctions, CSR with both directions stored.
    cm, gleak, vleak : ndarray, shape (n,)
        Capacitance, leak conductance and leak potential per neuron.
    dt : float
        Step length; ``unfolds`` sub-steps of ``dt / unfolds`` each.
    work : ndarray, shape (n, lanes)
        Scratch (the previous sub-step's potentials).
    num, den : ndarray, shape (lanes,)
        Scratch.
    """
    n, lanes = v.shape
    h = dt / unfolds
    for _ in range(unfolds):
        for i in range(n):
            for q in range(lanes):
                work[i, q] = v[i, q]
        for i in range(n):
            cmt = cm[i] / h
            base = gleak[i] * vleak[i]
            for q in range(lanes):
                num[q] = cmt * work[i, q] + base + current[i, q]
                den[q] = cmt + gleak[i] + _EPS
            for k in range(indptr[i], indptr[i + 1]):
                j = pre[k]
                wk = w[k]
                ek = erev[k]
                mk = mu[k]
                sk = sigma[k]
                for q in range(lanes):
                    a = wk * sigmoid(sk * (work[j, q] - mk))
                    num[q] += a * ek
                    den[q] += a
            for k in range(gindptr[i], gindptr[i + 1]):
                j = gpre[k]
                gk = gw[k]
                for q in range(lanes):
                    num[q] += gk * work[j, q]
                    den[q] += gk
            for q in range(lanes):
                v[i, q] = num[q] / den[q]


@njit(cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
def ltc_step(
    v, current, indptr, pre, w, erev, mu, sigma, gindptr, gpre, gw, cm, gleak, vleak, dt,
    unfolds, work,
):  # fmt: skip
    """Advance ``v`` (n,) in place by one LTC step of length ``dt`` with ``unfolds`` sub-steps.

    The fused semi-implicit Euler step of ncps's ``LTCCell`` (Hasani et al. 2021,
    doi:10.1609/aaai.v35i9.16936), plus gap junctions and an external current::

        v <- (cm/h v + gleak vleak + sum_s w_s sig(sigma_s (v_pre - mu_s)) erev_s
              + sum_g gw_g v_j + I) / (cm/h + gleak + sum_s w_s sig(...) + sum_g gw_g + 1e-8)

    with ``h = dt / unfolds`` and every sum over the previous sub-step's ``v`` (Jacobi).
    Chemical synapses: CSR by postsynaptic neuron, ``indptr`` (n+1,) int64, ``pre`` (m,) int64,
    ``w, erev, mu, sigma`` (m,) float64. Gap junctions (both directions stored): ``gindptr``
    (n+1,), ``gpre`` (g,), ``gw`` (g,). ``cm, gleak, vleak, current, work``: (n,) float64
    (``work`` is scratch). :func:`ltc_step_lanes` is the same step for several states at once.
    """
    n = v.shape[0]
    h = dt / unfolds
    for _ in range(unfolds):
        for i in range(n):
            work[i] = v[i]
        for i in range(n):
            cmt = cm[i] / h
            num = cmt * work[i] + gleak[i] * vleak[i] + current[i]
            den = cmt + gleak[i] + _EPS
            for k in range(indptr[i], indptr[i + 1]):
                a = w[k] * sigmoid(sigma[k] * (work[pre[k]] - mu[k]))
                num += a * erev[k]
                den += a
            for k in range(gindptr[i], gindptr[i + 1]):
                num += gw[k] * work[gpre[k]]
                den += gw[k]
            v[i] = num / den


@njit(cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
def graded_step(
    v, s, current, indptr, pre, g, ge, gindptr, gpre, gw, gsum, cm, gc, ec, beta, vth, ar, ad,
    dt, unfolds, work,
):  # fmt: skip
    """One fused semi-implicit step of the graded model for one state; see
    :func:`graded_step_lanes` for the equations and arguments (here ``v, s, current, vth, work``
    have shape (n,)).

    Written separately from the lane version for speed: two partial sums per neuron break the
    chain of dependent additions that otherwise bounds a single state's synapse loop, and the
    synapse loops index with unsigned integers (``np.uint64``, the same bits as the int64
    arrays), which spares numba's negative-index wraparound: about 10 integer instructions
    per load otherwise (``inspect_asm``), 1.6 times the whole step's time.
    """
    n = v.shape[0]
    h = dt / unfolds
    one = np.uint64(1)
    two = np.uint64(2)
    for _ in range(unfolds):
        for i in range(n):
            work[i] = v[i]
        for i in range(n):
            cmt = cm[i] / h
            n0 = cmt * work[i] + gc[i] * ec[i] + current[i]
            d0 = cmt + gc[i] + gsum[i]
            n1 = 0.0
            d1 = 0.0
            k = np.uint64(indptr[i])
            k1 = np.uint64(indptr[i + 1])
            while k + one < k1:
                sa = s[np.uint64(pre[k])]
                sb = s[np.uint64(pre[k + one])]
                n0 += ge[k] * sa
                d0 += g[k] * sa
                n1 += ge[k + one] * sb
                d1 += g[k + one] * sb
                k += two
            if k < k1:
                sa = s[np.uint64(pre[k])]
                n0 += ge[k] * sa
                d0 += g[k] * sa
            n2 = 0.0
            n3 = 0.0
            k = np.uint64(gindptr[i])
            k1 = np.uint64(gindptr[i + 1])
            while k + one < k1:
                n2 += gw[k] * work[np.uint64(gpre[k])]
                n3 += gw[k + one] * work[np.uint64(gpre[k + one])]
                k += two
            if k < k1:
                n2 += gw[k] * work[np.uint64(gpre[k])]
            v[i] = ((n0 + n1) + (n2 + n3)) / (d0 + d1)
        for i in range(n):
            phi = h * ar[i] * sigmoid(beta[i] * (work[i] - vth[i]))
            s[i] = (s[i] + phi) / (1.0 + phi + h * ad[i])


@njit(cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
def _four(idx, k):
    """``idx[k:k+4]`` as unsigned integers (``k`` unsigned): no wraparound code."""
    one = np.uint64(1)
    return (np.uint64(idx[k]), np.uint64(idx[k + one]), np.uint64(idx[k + one + one]),
            np.uint64(idx[k + one + one + one]))  # fmt: skip


@njit(cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
def _tail(idx, k, k1):
    """The last one to three entries ``k < k1`` of a row as three, branch-free: indices
    ``ja, jb, jc`` (positions ``k, kb, kc`` clamped to the row) and weights ``wb, wc`` (1 for
    a real entry, 0 for a repeat)."""
    one = np.uint64(1)
    kb = min(k + one, k1 - one)
    kc = min(k + one + one, k1 - one)
    wb = 1.0 if k + one < k1 else 0.0
    wc = 1.0 if k + one + one < k1 else 0.0
    return np.uint64(idx[k]), np.uint64(idx[kb]), np.uint64(idx[kc]), kb, kc, wb, wc


@njit(cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
def graded_step_lanes(
    v, s, current, indptr, pre, g, ge, gindptr, gpre, gw, gsum, cm, gc, ec, beta, vth, ar, ad,
    dt, unfolds, work, num, den,
):  # fmt: skip
    """One fused semi-implicit step of the Kunert et al. 2014 graded model for ``lanes`` states.

    Potentials (mV): ``C/h V' = C/h V - Gc (V' - Ec) - sum_gap gw (V' - V_j)
    - sum_syn g s_j (V' - E) + I``, solved for ``V'`` with ``V_j, s_j`` of the previous sub-step.
    Activations: ``(s' - s)/h = ar phi(V) (1 - s') - ad s'`` with ``phi`` at the previous
    sub-step's potential. Units: mV, pF, pS, s, current in fA (= pS mV).

    Parameters
    ----------
    v, s : ndarray, shape (n, lanes)
        Potentials (mV) and synaptic activations, advanced in place.
    current : ndarray, shape (n, lanes)
        External current (fA).
    indptr, pre, g, ge
        Chemical synapses (CSR by postsynaptic neuron): conductance ``g`` (pS) and ``ge = g E``,
        the conductance times the reversal potential (pS mV), precomputed once per run.
    gindptr, gpre, gw, gsum
        Gap junctions (pS), both directions stored, and ``gsum`` (n,), each neuron's total gap
        conductance (pS), precomputed once per run (it only enters the denominator).
    cm, gc, ec, beta, ar, ad : ndarray, shape (n,)
        Capacitance (pF), leak conductance (pS), leak potential (mV), sigmoid slope (1/mV),
        activation rise and decay rates (1/s).
    vth : ndarray, shape (n, lanes)
        Sigmoid thresholds (mV).
    work : ndarray, shape (n, lanes)
        Scratch.
    num, den : ndarray, shape (lanes,)
        Scratch.
    """
    n, lanes = v.shape
    h = dt / unfolds
    one, two, three, four = np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4)
    for _ in range(unfolds):
        for i in range(n):
            for q in range(lanes):
                work[i, q] = v[i, q]
        for i in range(n):
            cmt = cm[i] / h
            base = gc[i] * ec[i]
            d = cmt + gc[i] + gsum[i]
            for q in range(lanes):
                num[q] = cmt * work[i, q] + base + current[i, q]
                den[q] = d
            # four synapses per pass over the lanes: num and den are loaded and stored once
            # per four (they live in memory), unsigned indices (no wraparound, see graded_step)
            k = np.uint64(indptr[i])
            k1 = np.uint64(indptr[i + 1])
            while k + three < k1:
                ja, jb, jc, jd = _four(pre, k)
                ga, gb, gc_, gd = g[k], g[k + one], g[k + two], g[k + three]
                ea, eb, ec_, ed = ge[k], ge[k + one], ge[k + two], ge[k + three]
                for q in range(lanes):
                    sa, sb, sc, sd = s[ja, q], s[jb, q], s[jc, q], s[jd, q]
                    num[q] += (ea * sa + eb * sb) + (ec_ * sc + ed * sd)
                    den[q] += (ga * sa + gb * sb) + (gc_ * sc + gd * sd)
                k += four
            if k < k1:  # the last one to three in one pass: indices clamped, weights zeroed
                ja, jb, jc, kb, kc, wb, wc = _tail(pre, k, k1)
                ga, gb, gc_ = g[k], wb * g[kb], wc * g[kc]
                ea, eb, ec_ = ge[k], wb * ge[kb], wc * ge[kc]
                for q in range(lanes):
                    sa, sb, sc = s[ja, q], s[jb, q], s[jc, q]
                    num[q] += (ea * sa + eb * sb) + ec_ * sc
                    den[q] += (ga * sa + gb * sb) + gc_ * sc
            k = np.uint64(gindptr[i])
            k1 = np.uint64(gindptr[i + 1])
            while k + three < k1:
                ja, jb, jc, jd = _four(gpre, k)
                ga, gb, gc_, gd = gw[k], gw[k + one], gw[k + two], gw[k + three]
                for q in range(lanes):
                    num[q] += (ga * work[ja, q] + gb * work[jb, q]) + (
                        gc_ * work[jc, q] + gd * work[jd, q]
                    )
                k += four
            if k < k1:
                ja, jb, jc, kb, kc, wb, wc = _tail(gpre, k, k1)
                ga, gb, gc_ = gw[k], wb * gw[kb], wc * gw[kc]
                for q in range(lanes):
                    num[q] += (ga * work[ja, q] + gb * work[jb, q]) + gc_ * work[jc, q]
            for q in range(lanes):
                v[i, q] = num[q] / den[q]
        for i in range(n):
            hr = h * ar[i]
            hd = h * ad[i]
            b = beta[i]
            for q in range(lanes):
                phi = hr * sigmoid(b * (work[i, q] - vth[i, q]))
                s[i, q] = (s[i, q] + phi) / (1.0 + phi + hd)


@njit(cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
def graded_cn_step_lanes(
    v, s, current, indptr, pre, g, ge, gindptr, gpre, gw, gsum, cm, gc, ec, beta, vth, ar, ad,
    dt, unfolds, pos, colptr, rows, gap_slot, pair_ptr, pair_a, pair_b, pair_slot,
    sh, val, y, col,
):  # fmt: skip
    """One second-order (``cn``) step of the graded model for ``lanes`` states.

    With ``h = dt / unfolds``, per sub-step:

    1. half a semi-implicit Euler step of the activations, ``s_h = (s + h/2 ar phi(V))
       / (1 + h/2 (ar phi(V) + ad))``;
    2. the potentials by the trapezoidal rule (Crank-Nicolson) on the whole linear system in
       ``V`` (leak, gap junctions *coupled implicitly*, synapses with activations ``s_h``):
       ``(C/h + M/2) V' = (C/h - M/2) V + Gc Ec + sum_syn g E s_h + I``, ``M = diag(Gc +
       sum_gap gw + sum_syn g s_h) - W_gap``, solved by a sparse LDL^T factorisation
       (pattern from :func:`sim.ldl.ldl_pattern`: ``pos ... pair_slot``);
    3. the activations by the trapezoidal rule with ``phi`` at ``(V + V') / 2``.

    Second order in ``h``; A-stable (the matrix is symmetric positive definite for ``h > 0``).
    Arguments as :func:`graded_step_lanes`; ``current`` should be the input at the sub-step's
    midpoint. Scratch: ``sh`` (n, lanes), ``val`` (n + nnz(L), lanes), ``y`` (n, lanes),
    ``col`` (max column count, lanes).
    """
    n, lanes = v.shape
    h = dt / unfolds
    hh = 0.5 * h
    nnz = rows.shape[0]
    for _ in range(unfolds):
        for i in range(n):
            hr = hh * ar[i]
            hd = hh * ad[i]
            for q in range(lanes):
                phi = hr * sigmoid(beta[i] * (v[i, q] - vth[i, q]))
                sh[i, q] = (s[i, q] + phi) / (1.0 + phi + hd)
        for e in range(nnz):
            for q in range(lanes):
                val[n + e, q] = 0.0
        for i in range(n):
            p = pos[i]
            cmt = cm[i] / h
            base = gc[i] * ec[i]
            d = gc[i] + gsum[i]
            for q in range(lanes):
                y[p, q] = base + current[i, q]
                val[p, q] = d
            for k in range(indptr[i], indptr[i + 1]):
                j = pre[k]
                gk = g[k]
                gek = ge[k]
                for q in range(lanes):
                    y[p, q] += gek * sh[j, q]
                    val[p, q] += gk * sh[j, q]
            for k in range(gindptr[i], gindptr[i + 1]):
                j = gpre[k]
                gk = 0.5 * gw[k]
                slot = gap_slot[k]
                for q in range(lanes):
                    y[p, q] += gk * v[j, q]
                if slot >= 0:
                    for q in range(lanes):
                        val[slot, q] = -gk
            for q in range(lanes):
                m = 0.5 * val[p, q]
                y[p, q] += (cmt - m) * v[i, q]
                val[p, q] = cmt + m
        for k in range(n):  # numeric LDL^T, right-looking, column by column
            c0 = colptr[k]
            c1 = colptr[k + 1]
            for e in range(c0, c1):
                for q in range(lanes):
                    col[e - c0, q] = val[n + e, q]
                    val[n + e, q] = val[n + e, q] / val[k, q]
            for r in range(pair_ptr[k], pair_ptr[k + 1]):
                a = pair_a[r]
                lb = n + c0 + pair_b[r]
                t = pair_slot[r]
                for q in range(lanes):
                    val[t, q] -= col[a, q] * val[lb, q]
        for k in range(n):  # L z = rhs
            for e in range(colptr[k], colptr[k + 1]):
                r = rows[e]
                for q in range(lanes):
                    y[r, q] -= val[n + e, q] * y[k, q]
        for k in range(n):
            for q in range(lanes):
                y[k, q] = y[k, q] / val[k, q]
        for k in range(n - 1, -1, -1):  # L^T x = z / D
            for e in range(colptr[k], colptr[k + 1]):
                r = rows[e]
                for q in range(lanes):
                    y[k, q] -= val[n + e, q] * y[r, q]
        for i in range(n):
            p = pos[i]
            hr = h * ar[i]
            hd = hh * ad[i]
            for q in range(lanes):
                vn = y[p, q]
                phi = hr * sigmoid(beta[i] * (0.5 * (v[i, q] + vn) - vth[i, q]))
                r2 = 0.5 * phi + hd
                s[i, q] = ((1.0 - r2) * s[i, q] + phi) / (1.0 + r2)
                v[i, q] = vn


@njit(cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
def _in_window(t, tol, start, stop):
    return t + tol >= start and t + tol < stop


@njit(cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
def stim_value(kind, par, waves, w0, w1, t, tol):
    """Value at time ``t`` (s) of one stimulus protocol (see the module docstring's table).

    ``par`` is the protocol's parameter row, ``waves[w0:w1]`` its samples (kinds 4 and 5),
    ``tol`` a time tolerance (s) for the window edges so that an edge that falls on a step
    boundary is not lost to rounding of ``t``.
    """
    if kind == STIM_STEP:
        if _in_window(t, tol, par[1], par[2]):
            return par[0]
        return 0.0
    if kind == STIM_PULSE:
        if _in_window(t, tol, par[1], par[2]):
            phase = (t + tol - par[1]) % par[3]
            if phase < par[4]:
                return par[0]
        return 0.0
    if kind == STIM_SINE:
        if _in_window(t, tol, par[4], par[5]):
            return par[3] + par[0] * np.sin(2.0 * np.pi * par[1] * (t - par[4]) + par[2])
        return 0.0
    if kind == STIM_RAMP:
        if _in_window(t, tol, par[2], par[3]):
            return par[0] + (par[1] - par[0]) * (t - par[2]) / (par[3] - par[2])
        return 0.0
    nw = w1 - w0
    x = (t - par[0]) / par[1]
    if kind == STIM_HOLD:
        idx = int(np.floor(x + tol / par[1]))
        if idx < 0 or idx >= nw:
            return 0.0
        return par[2] * waves[w0 + idx]
    # STIM_INTERP
    if x < -tol / par[1] or x > nw - 1 + tol / par[1]:
        return 0.0
    i0 = int(np.floor(x))
    if i0 < 0:
        return par[2] * waves[w0]
    if i0 >= nw - 1:
        return par[2] * waves[w1 - 1]
    f = x - i0
    return par[2] * ((1.0 - f) * waves[w0 + i0] + f * waves[w0 + i0 + 1])


@njit(cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
def _fill_current(
    t, tol, items, lanes, stim_ptr, stim_neuron, stim_kind, stim_par, wave_ptr, waves, cur
):  # fmt: skip
    cur[:, :] = 0.0
    for q in range(lanes):
        b = items[q]
        for r in range(stim_ptr[b], stim_ptr[b + 1]):
            cur[stim_neuron[r], q] += stim_value(
                stim_kind[r], stim_par[r], waves, wave_ptr[r], wave_ptr[r + 1], t, tol
            )


@njit(cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
def _run_chunk(
    model, items, prow, nsteps, step0, dt, unfolds, record_every, state, out,
    indptr, pre, gindptr, gpre, npar, spar, gpar,
    stim_ptr, stim_neuron, stim_kind, stim_par, wave_ptr, waves,
    vth_ptr, vth_time, vth, bad, ldl,
):  # fmt: skip
    lanes = items.shape[0]
    n = state.shape[2]
    nvar = state.shape[1]
    x = np.empty((nvar, n, lanes))
    for q in range(lanes):
        for c in range(nvar):
            for i in range(n):
                x[c, i, q] = state[items[q], c, i]
    cur = np.zeros((n, lanes))
    work = np.empty((n, lanes))
    num = np.empty(lanes)
    den = np.empty(lanes)
    th = np.zeros((n, lanes))
    epoch = np.full(lanes, -1, dtype=np.int64)
    v1 = x[0].reshape(n * lanes)  # 1-D views, used when lanes == 1
    s1 = x[nvar - 1].reshape(n * lanes)
    cur1 = cur.reshape(n * lanes)
    work1 = work.reshape(n * lanes)
    th1 = th.reshape(n * lanes)
    pos, colptr, rows, gap_slot, pair_ptr, pair_a, pair_b, pair_slot = ldl
    cn = model == MODEL_GRADED_CN
    sh = np.empty((n if cn else 0, lanes))
    val = np.empty((n + rows.shape[0] if cn else 0, lanes))
    ysol = np.empty((n if cn else 0, lanes))
    ncol = 1
    for k in range(colptr.shape[0] - 1):
        ncol = max(ncol, colptr[k + 1] - colptr[k])
    col = np.empty((ncol if cn else 0, lanes))
    tol = 1e-6 * dt
    p = npar[prow]
    sp = spar[prow]
    gw = gpar[prow]
    ge = np.empty(0)
    gsum = np.zeros(n)
    if model != MODEL_LTC:
        ge = sp[0] * sp[1]  # g E per synapse, and the gap conductance of each neuron: constant
        for i in range(n):
            for k in range(gindptr[i], gindptr[i + 1]):
                gsum[i] += gw[k]
    for step in range(step0, step0 + nsteps):
        t = step * dt  # the step runs from t to t + dt under the input at t (cn: t + dt/2)
        _fill_current(
            t + 0.5 * dt if cn else t, tol, items, lanes, stim_ptr, stim_neuron, stim_kind,
            stim_par, wave_ptr, waves, cur,
        )  # fmt: skip
        if model == MODEL_LTC and lanes == 1:
            ltc_step(
                v1, cur1, indptr, pre, sp[0], sp[1], sp[2], sp[3], gindptr, gpre, gw,
                p[0], p[1], p[2], dt, unfolds, work1,
            )  # fmt: skip
        elif model == MODEL_LTC:
            ltc_step_lanes(
                x[0], cur, indptr, pre, sp[0], sp[1], sp[2], sp[3], gindptr, gpre, gw,
                p[0], p[1], p[2], dt, unfolds, work, num, den,
            )  # fmt: skip
        else:
            for q in range(lanes):  # threshold epoch of each lane (constant input changes)
                b = items[q]
                e = vth_ptr[b]
                while e + 1 < vth_ptr[b + 1] and vth_time[e + 1] <= t + tol:
                    e += 1
                if e != epoch[q]:
                    epoch[q] = e
                    for i in range(n):
                        th[i, q] = vth[e, i]
            if cn:
                graded_cn_step_lanes(
                    x[0], x[1], cur, indptr, pre, sp[0], ge, gindptr, gpre, gw, gsum,
                    p[0], p[1], p[2], p[3], th, p[4], p[5], dt, unfolds, pos, colptr, rows,
                    gap_slot, pair_ptr, pair_a, pair_b, pair_slot, sh, val, ysol, col,
                )  # fmt: skip
            elif lanes == 1:
                graded_step(
                    v1, s1, cur1, indptr, pre, sp[0], ge, gindptr, gpre, gw, gsum,
                    p[0], p[1], p[2], p[3], th1, p[4], p[5], dt, unfolds, work1,
                )  # fmt: skip
            else:
                graded_step_lanes(
                    x[0], x[1], cur, indptr, pre, sp[0], ge, gindptr, gpre, gw, gsum,
                    p[0], p[1], p[2], p[3], th, p[4], p[5], dt, unfolds, work, num, den,
                )  # fmt: skip
        for q in range(lanes):  # first non-finite potential: step (1-based) and neuron
            b = items[q]
            total = 0.0  # (s stays in [0, 1] while V is finite; a sum is cheaper to test)
            for i in range(n):
                total += x[0, i, q]
            if bad[b, 0] < 0 and not np.isfinite(total):
                for i in range(n):
                    if not np.isfinite(x[0, i, q]):
                        bad[b, 0] = step + 1
                        bad[b, 1] = i
                        break
        if (step + 1) % record_every == 0:
            r = (step + 1) // record_every
            for q in range(lanes):
                b = items[q]
                for i in range(n):
                    out[b, r, i] = x[0, i, q]
    for q in range(lanes):
        for c in range(nvar):
            for i in range(n):
                state[items[q], c, i] = x[c, i, q]


@njit(cache=True, parallel=True, error_model="numpy", fastmath={"contract", "reassoc"})
def run_chunks(
    model, chunk_ptr, chunk_items, chunk_prow, nsteps, step0, dt, unfolds, record_every,
    state, out, indptr, pre, gindptr, gpre, npar, spar, gpar,
    stim_ptr, stim_neuron, stim_kind, stim_par, wave_ptr, waves,
    vth_ptr, vth_time, vth, bad, ldl,
):  # fmt: skip
    """Integrate a batch for ``nsteps`` steps, one chunk of lanes per parallel task.

    Parameters
    ----------
    model : int
        ``MODEL_LTC``, ``MODEL_GRADED`` (scheme "euler") or ``MODEL_GRADED_CN`` (scheme
        "cn").
    chunk_ptr, chunk_items, chunk_prow : ndarray of int64
        Chunk ``c`` integrates items ``chunk_items[chunk_ptr[c]:chunk_ptr[c+1]]`` side by side,
        all with parameter set ``chunk_prow[c]``.
    nsteps, step0 : int
        Steps to take, and the global index of the first one (it runs from ``step0 * dt``).
    dt : float
        Step (model time unit: s for ``graded``).
    unfolds : int
        Semi-implicit sub-steps per step.
    record_every : int
        The state after global step ``s`` is written to ``out[:, s // record_every]`` when
        ``s`` is a multiple of it.
    state : ndarray, shape (batch, nvar, n)
        State (``nvar`` = 1 for ltc: v; 2 for graded: V, s), advanced in place.
    out : ndarray, shape (batch, n_records, n), float32
        Recorded potentials.
    indptr, pre, gindptr, gpre : ndarray of int64
        Chemical and gap-junction CSR structure.
    npar : ndarray, shape (n_sets, n_neuron_params, n)
        ltc: cm, gleak, vleak. graded: C, Gc, Ec, beta, ar, ad.
    spar : ndarray, shape (n_sets, n_synapse_params, m)
        ltc: w, erev, mu, sigma. graded: g, erev.
    gpar : ndarray, shape (n_sets, n_gap)
        Gap-junction conductances.
    stim_ptr : ndarray, shape (batch + 1,)
        Item ``b``'s stimulus rows are ``stim_ptr[b]:stim_ptr[b+1]``.
    stim_neuron, stim_kind : ndarray of int64, shape (rows,)
    stim_par : ndarray, shape (rows, n_par)
    wave_ptr : ndarray, shape (rows + 1,)
        Row ``r``'s samples are ``waves[wave_ptr[r]:wave_ptr[r+1]]``.
    vth_ptr, vth_time, vth
        graded only: item ``b``'s threshold epochs ``e`` in ``vth_ptr[b]:vth_ptr[b+1]`` start at
        ``vth_time[e]`` (s) with thresholds ``vth[e]`` (mV); a step uses the epoch in force at
        its start.
    bad : ndarray, shape (batch, 2), int64
        ``(step, neuron)`` of the first non-finite state of each item; ``-1`` if none. Must
        come in as -1 (or as left by the previous call).
    ldl : tuple of 8 int64 arrays
        ``MODEL_GRADED_CN`` only (else any arrays of the right types, e.g. empty with
        ``colptr`` of length 1): :meth:`sim.ldl.LDLPattern.arrays`.
    """
    for c in prange(chunk_ptr.shape[0] - 1):
        _run_chunk(
            model, chunk_items[chunk_ptr[c] : chunk_ptr[c + 1]], chunk_prow[c], nsteps, step0,
            dt, unfolds, record_every, state, out, indptr, pre, gindptr, gpre, npar, spar,
            gpar, stim_ptr, stim_neuron, stim_kind, stim_par, wave_ptr, waves, vth_ptr,
            vth_time, vth, bad, ldl,
        )  # fmt: skip


@njit(cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
def lu_solve(a, b):
    """Solve ``a x = b[r]`` for every row ``r`` of ``b`` (Gaussian elimination with partial
    pivoting), single-threaded.

    Used for the graded model's thresholds instead of LAPACK, whose threaded solve is slow on a
    busy machine for these small systems (n ~ 300). ``a`` (n, n) and ``b`` (k, n) are not
    changed; returns ``x`` (k, n).
    """
    n = a.shape[0]
    m = a.copy()
    x = b.copy()
    k = x.shape[0]
    for c in range(n):
        p = c
        big = abs(m[c, c])
        for r in range(c + 1, n):
            if abs(m[r, c]) > big:
                big = abs(m[r, c])
                p = r
        if p != c:
            for j in range(n):
                m[c, j], m[p, j] = m[p, j], m[c, j]
            for q in range(k):
                x[q, c], x[q, p] = x[q, p], x[q, c]
        inv = 1.0 / m[c, c]
        for r in range(c + 1, n):
            f = m[r, c] * inv
            if f != 0.0:
                for j in range(c, n):
                    m[r, j] -= f * m[c, j]
                for q in range(k):
                    x[q, r] -= f * x[q, c]
    for c in range(n - 1, -1, -1):
        for q in range(k):
            acc = x[q, c]
            for j in range(c + 1, n):
                acc -= m[c, j] * x[q, j]
            x[q, c] = acc / m[c, c]
    return x


# ------------------------------------------------------------------ controllers (sim.control)
# A controller's parameters are one flat vector ``theta`` of blocks (sim.ranges.GROUPS, in
# this order) delimited by an offsets array ``off``; the codes below select its maps.
BLOCK_W, BLOCK_MU, BLOCK_SIGMA, BLOCK_GAP, BLOCK_CM, BLOCK_GLEAK, BLOCK_VLEAK = range(7)
BLOCK_IN_W, BLOCK_IN_B, BLOCK_OUT_W, BLOCK_OUT_B = range(7, 11)
IN_DENSE, IN_PAIRS = 0, 1  # input map: dense affine, positive/negative neuron pairs
IN_CLAMP = 2  # added to the input kind: the map sets the sensory potentials, not currents
OUT_DIFFERENCE, OUT_DENSE = 0, 1  # output map: g (mean u_A - mean u_B) + b, W u + b
ACT_TANH, ACT_RAW, ACT_ARGMAX, ACT_BINS = 0, 1, 2, 3  # output -> action
# Controller core: the LTC circuit, or a memoryless feed-forward pass over the same CSR wiring
# (the linear and MLP baselines of sim.baselines): v_i = f(I_i + vleak_i + sum_s w_s e_s v_pre),
# neurons in index order, f = identity (CORE_LINEAR) or tanh except on motor neurons (CORE_MLP).
CORE_LTC, CORE_LINEAR, CORE_MLP = 0, 1, 2


@njit(cache=True)
def controller_step(
    theta, gw, obs, v, cur, work, y, action,
    off, indptr, pre, erev, gindptr, gpre, sens, mot, in_kind, in_pairs, obs_center,
    obs_scale, out_kind, out_read, act_kind, act_lo, act_hi, n_actions, dt, unfolds, core,
):  # fmt: skip
    """One controller step: observation -> sensory currents -> LTC step -> action.

    Parameters
    ----------
    theta : ndarray (d,)
        Physical parameters, blocks ``GROUPS`` delimited by ``off`` (12,).
    gw : ndarray (g,)
        Gap conductance per gap CSR entry (:func:`gap_weights`).
    obs : ndarray (obs_dim,)
        Observation (float64 copy of the env's observation).
    v : ndarray (n,)
        Membrane potentials, advanced in place.
    cur, work : ndarray (n,)
        Scratch (sensory currents; the LTC step's scratch).
    y : ndarray (outputs,)
        Scratch (output map values).
    action : ndarray (act_dim,)
        Written: the Box action, or the Discrete action index as a float in ``action[0]``.
    off ... core
        The controller's compiled structure (:attr:`sim.control.Controller.program`).
    """
    n = v.shape[0]
    ns = sens.shape[0]
    k = obs.shape[0]
    for i in range(n):
        cur[i] = 0.0
    wo = off[BLOCK_IN_W]
    bo = off[BLOCK_IN_B]
    if in_kind & IN_PAIRS == 0:
        for i in range(ns):
            acc = theta[bo + i]
            for j in range(k):
                acc += theta[wo + i * k + j] * ((obs[j] - obs_center[j]) / obs_scale[j])
            cur[sens[i]] = acc
    else:
        for i in range(ns):
            cur[sens[i]] = theta[bo + i]
        for p in range(in_pairs.shape[0]):
            j = in_pairs[p, 0]
            z = theta[wo + p] * ((obs[j] - obs_center[j]) / obs_scale[j])
            if z > 0.0:
                cur[sens[in_pairs[p, 1]]] += z
            else:
                cur[sens[in_pairs[p, 2]]] -= z
    if core != CORE_LTC:
        feedforward_step(v, cur, indptr, pre, theta, off, erev, mot, work, core)
    else:
        # clamped drive: the sensory potentials hold the map's value in every sub-step
        clamp = in_kind & IN_CLAMP != 0
        for _ in range(unfolds if clamp else 1):
            if clamp:
                for i in range(ns):
                    v[sens[i]] = cur[sens[i]]
            ltc_step(
                v, cur, indptr, pre,
                theta[off[BLOCK_W]:off[BLOCK_W + 1]], erev,
                theta[off[BLOCK_MU]:off[BLOCK_MU + 1]],
                theta[off[BLOCK_SIGMA]:off[BLOCK_SIGMA + 1]],
                gindptr, gpre, gw,
                theta[off[BLOCK_CM]:off[BLOCK_CM + 1]],
                theta[off[BLOCK_GLEAK]:off[BLOCK_GLEAK + 1]],
                theta[off[BLOCK_VLEAK]:off[BLOCK_VLEAK + 1]],
                dt / unfolds if clamp else dt, 1 if clamp else unfolds, work,
            )  # fmt: skip
        if clamp:
            for i in range(ns):
                v[sens[i]] = cur[sens[i]]
    ow = off[BLOCK_OUT_W]
    ob = off[BLOCK_OUT_B]
    nm = mot.shape[0]
    if out_kind == OUT_DIFFERENCE:  # g (mean u_A - mean u_B) + b, out_read: +1/|A|, -1/|B|
        acc = 0.0
        for m in range(nm):
            if out_read[m] != 0.0:
                acc += out_read[m] * v[mot[m]]
        y[0] = theta[ow] * acc + theta[ob]
    else:
        for r in range(y.shape[0]):
            acc = theta[ob + r]
            for m in range(nm):
                acc += theta[ow + r * nm + m] * v[mot[m]]
            y[r] = acc
    if act_kind == ACT_TANH:
        for r in range(action.shape[0]):
            mid = 0.5 * (act_lo[r] + act_hi[r])
            half = 0.5 * (act_hi[r] - act_lo[r])
            action[r] = mid + half * np.tanh(y[r])
    elif act_kind == ACT_RAW:
        for r in range(action.shape[0]):
            action[r] = y[r]
    elif act_kind == ACT_ARGMAX:
        best = 0
        for r in range(1, y.shape[0]):
            if y[r] > y[best]:
                best = r
        action[0] = best
    else:
        b = int(math.floor((np.tanh(y[0]) + 1.0) * 0.5 * n_actions))
        if b > n_actions - 1:
            b = n_actions - 1
        if b < 0:
            b = 0
        action[0] = b


@njit(cache=True)
def feedforward_step(v, cur, indptr, pre, theta, off, erev, mot, work, core):
    """The memoryless core of the linear and MLP baselines, in place on ``v``.

    ``v_i = f(I_i + vleak_i + sum_s w_s e_s v[pre_s])`` for ``i = 0 .. n-1`` in order (rows of
    the CSR by postsynaptic neuron), so a wiring whose synapses all go from lower to higher
    indices is a feed-forward network evaluated in one pass. ``f`` is the identity for
    ``CORE_LINEAR``; for ``CORE_MLP`` it is ``tanh`` except on motor neurons (linear read-out).
    ``work`` (n,) is scratch.
    """
    n = v.shape[0]
    for i in range(n):
        work[i] = 0.0
    for m in range(mot.shape[0]):
        work[mot[m]] = 1.0
    wo = off[BLOCK_W]
    lo = off[BLOCK_VLEAK]
    for i in range(n):
        acc = cur[i] + theta[lo + i]
        for s in range(indptr[i], indptr[i + 1]):
            acc += theta[wo + s] * erev[s] * v[pre[s]]
        if core == CORE_MLP and work[i] == 0.0:
            acc = np.tanh(acc)
        v[i] = acc


@njit(cache=True)
def decode_batch(x, free, lo, hi, logf, theta0, out):
    """Map unit-cube candidates to physical parameters.

    ``out[p] = theta0`` with ``out[p, free[j]] = lo[j] + x[p, j] (hi[j] - lo[j])``, or
    ``exp(log lo[j] + x[p, j] (log hi[j] - log lo[j]))`` where ``logf[j]``; ``x`` is clipped to
    [0, 1] first. ``x`` (P, f), ``free`` (f,) int64, ``lo, hi`` (f,), ``logf`` (f,) bool,
    ``theta0`` (d,), ``out`` (P, d).
    """
    for p in range(x.shape[0]):
        for i in range(theta0.shape[0]):
            out[p, i] = theta0[i]
        for j in range(free.shape[0]):
            u = min(max(x[p, j], 0.0), 1.0)
            if logf[j]:
                a = math.log(lo[j])
                out[p, free[j]] = math.exp(a + u * (math.log(hi[j]) - a))
            else:
                out[p, free[j]] = lo[j] + u * (hi[j] - lo[j])


@njit(cache=True)
def gap_weights(thetas, gap_off, gslot, out):
    """Gap conductance per gap CSR entry: ``out[p, e] = thetas[p, gap_off + gslot[e]]``."""
    for p in range(thetas.shape[0]):
        for e in range(gslot.shape[0]):
            out[p, e] = thetas[p, gap_off + gslot[e]]


@njit(cache=True, parallel=True)
def rollout_batch(
    env_code, thetas, gws, starts, noise, max_steps, returns, lengths,
    off, indptr, pre, erev, gindptr, gpre, sens, mot, in_kind, in_pairs, obs_center,
    obs_scale, out_kind, out_read, act_kind, act_lo, act_hi, n_actions, dt, unfolds, core,
):  # fmt: skip
    """Run every candidate on every start state in a numba environment.

    Parameters
    ----------
    env_code : int
        :attr:`sim.envs.EnvSpec.code`.
    thetas : ndarray (P, d)
        Physical parameters per candidate.
    gws : ndarray (P, g)
        Gap conductance per gap CSR entry per candidate.
    starts : ndarray (E, state_dim)
        Environment start states (:func:`sim.envs.reset_states`), each ending with its
        episode's physical parameters (nominal or randomised); the same for every candidate.
    noise : ndarray (E, max_steps, obs_dim) or (0, 0, 0)
        Observation noise: at step ``t`` of episode ``e`` the controller sees
        ``obs + noise[e, t] * obs_scale`` (the environment keeps the true state); an empty
        array means none. The same for every candidate.
    max_steps : int
        Truncation (gymnasium's TimeLimit).
    returns : ndarray (P, E)
        Written: undiscounted return of each episode, summed step by step from 0.0.
    lengths : ndarray (P, E) int64
        Written: steps taken.
    off ... core
        The controller's compiled structure (:attr:`sim.control.Controller.program`).

    Notes
    -----
    One ``prange`` over candidate x episode; each item runs its whole episode, environment and
    circuit in the same loop, with its own scratch arrays.
    """
    P = thetas.shape[0]
    E = starts.shape[0]
    n = indptr.shape[0] - 1
    for item in prange(P * E):
        p = item // E
        e = item - p * E
        theta = thetas[p]
        gw = gws[p]
        state = starts[e].copy()
        obs = np.empty(obs_center.shape[0])
        v = np.zeros(n)
        cur = np.empty(n)
        work = np.empty(n)
        y = np.empty(max(off[BLOCK_OUT_B + 1] - off[BLOCK_OUT_B], 1))
        action = np.empty(act_lo.shape[0])
        seen = np.empty(obs_center.shape[0])
        noisy = noise.shape[0] > 0
        env_observe(env_code, state, obs)
        total = 0.0
        t = 0
        while t < max_steps:
            for j in range(seen.shape[0]):
                seen[j] = obs[j] + noise[e, t, j] * obs_scale[j] if noisy else obs[j]
            controller_step(
                theta, gw, seen, v, cur, work, y, action,
                off, indptr, pre, erev, gindptr, gpre, sens, mot, in_kind, in_pairs, obs_center,
                obs_scale, out_kind, out_read, act_kind, act_lo, act_hi, n_actions, dt, unfolds,
                core,
            )  # fmt: skip
            reward, terminated = env_step(env_code, state, action[0], obs)
            total += reward
            t += 1
            if terminated:
                break
        returns[p, e] = total
        lengths[p, e] = t
