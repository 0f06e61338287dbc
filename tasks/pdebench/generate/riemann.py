r"""Exact solution of the Riemann problem of the 1D Euler equations (ideal gas), for checking the CFD solver.

Toro, *Riemann Solvers and Numerical Methods for Fluid Dynamics* (3rd ed.), ch. 4: the star pressure
:math:`p_*` is the root of :math:`f_L(p) + f_R(p) + u_R - u_L = 0` with

.. math::
   f_K(p) = \begin{cases} (p - p_K)\sqrt{A_K / (p + B_K)} & p > p_K \text{ (shock)} \\
   \frac{2 c_K}{\Gamma - 1}\big((p / p_K)^{(\Gamma - 1)/(2\Gamma)} - 1\big) & p \le p_K
   \text{ (rarefaction)} \end{cases}, \quad A_K = \frac{2}{(\Gamma + 1)\rho_K},\;
   B_K = \frac{\Gamma - 1}{\Gamma + 1} p_K,

found by Newton's method; :math:`u_* = \tfrac12(u_L + u_R + f_R(p_*) - f_L(p_*))`, and the solution is
sampled on the similarity variable :math:`\xi = (x - x_0)/t` (Toro §4.5).
"""

from __future__ import annotations

import numpy as np


def _f(p: float, rho: float, pk: float, c: float, g: float) -> tuple[float, float]:
    """Toro's f_K and its derivative."""
    if p > pk:
        a, b = 2.0 / ((g + 1.0) * rho), (g - 1.0) / (g + 1.0) * pk
        s = np.sqrt(a / (p + b))
        return (p - pk) * s, s * (1.0 - 0.5 * (p - pk) / (p + b))
    r = p / pk
    return 2.0 * c / (g - 1.0) * (r ** ((g - 1.0) / (2.0 * g)) - 1.0), r ** (-(g + 1.0) / (2.0 * g)) / (rho * c)


def star_state(left: tuple[float, float, float], right: tuple[float, float, float],
               gamma: float) -> tuple[float, float]:
    """(p_*, u_*) between primitive states (rho, u, p) left and right."""
    (rl, ul, pl), (rr, ur, pr) = left, right
    cl, cr = np.sqrt(gamma * pl / rl), np.sqrt(gamma * pr / rr)
    if 2.0 * (cl + cr) / (gamma - 1.0) <= ur - ul:
        raise ValueError("the Riemann problem creates a vacuum; no star state")
    p = max(1e-10, 0.5 * (pl + pr) - 0.125 * (ur - ul) * (rl + rr) * (cl + cr))  # Toro (4.47)
    for _ in range(100):
        fl, dl = _f(p, rl, pl, cl, gamma)
        fr, dr = _f(p, rr, pr, cr, gamma)
        new = max(1e-12, p - (fl + fr + ur - ul) / (dl + dr))
        if abs(new - p) <= 1e-14 * (new + p):
            p = new
            break
        p = new
    fl, _ = _f(p, rl, pl, cl, gamma)
    fr, _ = _f(p, rr, pr, cr, gamma)
    return p, 0.5 * (ul + ur + fr - fl)


def exact_riemann(left: tuple[float, float, float], right: tuple[float, float, float], xi: np.ndarray,
                  gamma: float) -> np.ndarray:
    """Primitive (rho, u, p) of shape (3, len(xi)) at the similarity coordinates ``xi = (x - x0) / t``."""
    p_star, u_star = star_state(left, right, gamma)
    xi = np.asarray(xi, dtype=np.float64)
    out = np.empty((3, xi.size))
    gm, gp = (gamma - 1.0) / (gamma + 1.0), 2.0 / (gamma + 1.0)
    for side, (rho, u, p), sgn in (("L", left, 1.0), ("R", right, -1.0)):
        sel = xi <= u_star if side == "L" else xi > u_star
        z = xi[sel]
        c = np.sqrt(gamma * p / rho)
        if p_star > p:  # shock
            rho_star = rho * (p_star / p + gm) / (gm * p_star / p + 1.0)
            speed = u - sgn * c * np.sqrt((gamma + 1.0) / (2.0 * gamma) * p_star / p + (gamma - 1.0) / (2.0 * gamma))
            outside = sgn * (z - speed) < 0.0
            state = np.where(outside, [[rho], [u], [p]], [[rho_star], [u_star], [p_star]])
        else:  # rarefaction
            rho_star = rho * (p_star / p) ** (1.0 / gamma)
            c_star = c * (p_star / p) ** ((gamma - 1.0) / (2.0 * gamma))
            head, tail = u - sgn * c, u_star - sgn * c_star
            fan_u = gp * (sgn * c + (gamma - 1.0) / 2.0 * u + z)
            fan_rho = rho * (gp + sgn * gm / c * (u - z)) ** (2.0 / (gamma - 1.0))
            fan_p = p * (gp + sgn * gm / c * (u - z)) ** (2.0 * gamma / (gamma - 1.0))
            state = np.where(sgn * (z - head) < 0.0, [[rho], [u], [p]],
                             np.where(sgn * (z - tail) < 0.0, np.stack([fan_rho, fan_u, fan_p]),
                                      [[rho_star], [u_star], [p_star]]))
        out[:, sel] = state
    return out
