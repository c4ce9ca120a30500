"""Numba kernel of the body: ElegansBot's step, driven by one target per control interval.

Imported only by :func:`sim.body.run_body` (it imports ``elegansbot``, the ``body`` extra).
The loop is ElegansBot's ``m_steps_numba`` with the target joint angles changing every
``sub`` steps, so a whole run is one call instead of one Python call per control interval.
"""

from numba import njit

try:
    from elegansbot.elegansbot import step_numba
except ImportError:  # without the extra, run_body stops first with the pip hint
    step_numba = None

__all__ = ["run_targets"]


@njit(cache=True)
def run_targets(
    ctrl, sub, every, r, xc, yc, vxc, vyc, s, omega, x, y, vx, vy, bII, bT, n, F_b, tau_b,
    F_ck, tau, k, tau_c, tau_k, tau_ck, c, D, ri, rii, Ni, Nii, Q, m, F, M, tau_joint, dt, I,
    I_P_inv, t_log, xyc_log, s_log, vc_log,
):  # fmt: skip
    """Step ElegansBot ``sub`` times per row of ``ctrl`` (its internal joint-angle targets,
    shape (K, n - 1)), recording into row ``k // every`` of the logs after every ``every``
    rows. The arrays are ElegansBot's own (``Worm`` attributes); returns the final
    ``xc, yc, vxc, vyc`` and the step count."""
    i = 0
    rec = 0
    for row in range(ctrl.shape[0]):
        theta_ctrl = ctrl[row]
        for _ in range(sub):
            xc, yc, vxc, vyc = step_numba(
                r, xc, yc, vxc, vyc, s, omega, x, y, vx, vy, bII, bT, n, F_b, tau_b,
                F_ck, tau, k, theta_ctrl, tau_c, tau_k, tau_ck, c, D, ri, rii, Ni, Nii, Q, m,
                F, M, tau_joint, dt, I, I_P_inv,
            )  # fmt: skip
            i += 1
        if (row + 1) % every == 0:
            rec += 1
            t_log[rec] = i * dt
            xyc_log[rec, 0] = xc
            xyc_log[rec, 1] = yc
            s_log[rec, :] = s
            vc_log[rec, 0] = vxc
            vc_log[rec, 1] = vyc
    return xc, yc, vxc, vyc, i
