r"""Inviscid core of the compressible Navier-Stokes generator: MUSCL-HLLC finite volumes (spec §3.8-3.9).

State: conserved variables :math:`U = (\rho, \rho v_x[, \rho v_y], E)` stacked on axis 0 as
``(2 + d, B, *X)`` (B samples, d = 1 or 2 periodic spatial axes, cell averages), ideal gas
:math:`p = (\Gamma - 1)(E - \rho |v|^2 / 2)`, :math:`\Gamma = 5/3`.

Flux divergence along one axis (the same on every axis, tangential velocity passive), as PDEBench's
``CFD_multi_Hydra.py``:

- MUSCL reconstruction of the primitive variables :math:`(\rho, v_n[, v_t], p)` with the
  monotonised-central limiter; half slopes :math:`h = \mathrm{minmod}(\Delta_-, \Delta_+,
  (\Delta_- + \Delta_+)/4)`, face values :math:`w \pm h`. The MC slope keeps every face value between
  the neighbouring cell values, so reconstructed density and pressure are positive wherever the cell
  values are: PDEBench's positivity fallback (first order where a face value is not positive) can
  never trigger and is not needed.
- HLLC Riemann solver (Toro, *Riemann Solvers and Numerical Methods for Fluid Dynamics*, 3rd ed.,
  §10.4) with PDEBench's wave-speed estimates :math:`S_L = \min(u_L, u_R) - \max(c_L, c_R)`,
  :math:`S_R = \max(u_L, u_R) + \max(c_L, c_R)`, contact speed
  :math:`S_* = \frac{p_R - p_L + \rho_L u_L (S_L - u_L) - \rho_R u_R (S_R - u_R)}{\rho_L (S_L - u_L)
  - \rho_R (S_R - u_R)}`. Written one-sided: with K = L where :math:`S_* \ge 0` and K = R
  otherwise, :math:`F = F_K + S_K^{\mp} (U_{*K} - U_K)` with :math:`S_L^- = \min(S_L, 0)`,
  :math:`S_R^+ = \max(S_R, 0)` and the star state :math:`U_{*K} = \rho_K \frac{S_K - u_K}{S_K - S_*}
  \big(1, S_*, v_{t,K}, \frac{E_K}{\rho_K} + (S_* - u_K)(S_* + \frac{p_K}{\rho_K (S_K - u_K)})\big)`;
  this equals the four-branch HLLC flux (supersonic branches included, where :math:`S^\mp = 0`).

Time steps are PDEBench's: :math:`\Delta t = \mathrm{CFL} \min_a \Delta x_a / \max(c_s + |v_a|)`
per sample, CFL 0.3; pressure floor :math:`10^{-4}` after each stage (PDEBench's ``p_floor``; it
never triggers on the spec's initial conditions, and where it does it adds energy).
"""

from __future__ import annotations

import numpy as np

GAMMA = 5.0 / 3.0
P_FLOOR = 1e-4


def primitives(u: np.ndarray, gamma: float = GAMMA) -> np.ndarray:
    """(rho, m_1..m_d, E) -> (rho, v_1..v_d, p), same shape."""
    rho = u[0]
    v = u[1:-1] / rho
    p = (gamma - 1.0) * (u[-1] - 0.5 * rho * (v * v).sum(axis=0))
    return np.concatenate([rho[None], v, p[None]])


def conserved(w: np.ndarray, gamma: float = GAMMA) -> np.ndarray:
    """(rho, v_1..v_d, p) -> (rho, m_1..m_d, E), same shape."""
    rho, v, p = w[0], w[1:-1], w[-1]
    energy = p / (gamma - 1.0) + 0.5 * rho * (v * v).sum(axis=0)
    return np.concatenate([rho[None], rho * v, energy[None]])


def apply_pressure_floor(u: np.ndarray, gamma: float = GAMMA, floor: float = P_FLOOR) -> None:
    """Raise the pressure to ``floor`` where it fell below it (in place, via the energy)."""
    kinetic = 0.5 * (u[1:-1] ** 2).sum(axis=0) / u[0]
    low = (gamma - 1.0) * (u[-1] - kinetic) < floor
    if low.any():
        u[-1] = np.where(low, floor / (gamma - 1.0) + kinetic, u[-1])


def _periodic_pad(a: np.ndarray, axis: int, g: int = 2) -> np.ndarray:
    lo = [slice(None)] * a.ndim
    hi = [slice(None)] * a.ndim
    lo[axis], hi[axis] = slice(-g, None), slice(None, g)
    return np.concatenate([a[tuple(lo)], a, a[tuple(hi)]], axis=axis)


def _cut(ndim: int, axis: int, start: int | None, stop: int | None) -> tuple:
    s = [slice(None)] * ndim
    s[axis] = slice(start, stop)
    return tuple(s)


def hllc_flux(left: np.ndarray, right: np.ndarray, gamma: float = GAMMA) -> np.ndarray:
    """HLLC fluxes of (rho, m_n[, m_t], E) between primitive face states (rho, v_n[, v_t], p) on axis 0."""
    rl, ul, pl = left[0], left[1], left[-1]
    rr, ur, pr = right[0], right[1], right[-1]
    cmax = np.maximum(np.sqrt(gamma * pl / rl), np.sqrt(gamma * pr / rr))
    sl = np.minimum(ul, ur) - cmax
    sr = np.maximum(ul, ur) + cmax
    ql, qr = rl * (sl - ul), rr * (sr - ur)  # mass fluxes relative to the outer waves (ql < 0 < qr)
    s_star = (pr - pl + ul * ql - ur * qr) / (ql - qr)
    is_left = s_star >= 0.0
    rho, u, p, q = (np.where(is_left, a, b) for a, b in ((rl, rr), (ul, ur), (pl, pr), (ql, qr)))
    s_k = np.where(is_left, sl, sr)
    s_out = np.where(is_left, np.minimum(sl, 0.0), np.maximum(sr, 0.0))
    tangential = [np.where(is_left, a, b) for a, b in zip(left[2:-1], right[2:-1])]
    kinetic = u * u
    for t in tangential:
        kinetic = kinetic + t * t
    energy = p / (gamma - 1.0) + 0.5 * rho * kinetic
    mass = rho * u
    rho_star = q / (s_k - s_star)
    d_rho = rho_star - rho
    e_star = rho_star * (energy / rho + (s_star - u) * (s_star + p / q))
    flux = [mass + s_out * d_rho, mass * u + p + s_out * (rho_star * s_star - mass)]
    flux += [(mass + s_out * d_rho) * t for t in tangential]  # F_K t + S (rho* - rho) t
    flux.append(u * (energy + p) + s_out * (e_star - energy))
    return np.stack(flux)


def flux_divergence(w: np.ndarray, axis: int, dx: float, gamma: float = GAMMA) -> np.ndarray:
    """(F_{i+1/2} - F_{i-1/2}) / dx of the conserved variables along spatial ``axis`` (0-based, periodic).

    ``w`` are primitives (rho, v_1..v_d, p) of shape (2 + d, B, *X); the result has the same shape.
    """
    ax = axis + 2
    d = w.shape[0] - 2
    order = [0, 1 + axis] + [1 + k for k in range(d) if k != axis] + [d + 1]  # (rho, v_n, v_t.., p)
    wp = _periodic_pad(w[order], ax)
    diff = np.diff(wp, axis=ax)
    dl, dr = diff[_cut(wp.ndim, ax, None, -1)], diff[_cut(wp.ndim, ax, 1, None)]
    sign = np.sign(dl)
    half = np.minimum(np.abs(dl), sign * dr)
    np.minimum(half, 0.25 * sign * (dl + dr), out=half)
    np.maximum(half, 0.0, out=half)
    half *= sign
    mid = wp[_cut(wp.ndim, ax, 1, -1)]
    left = (mid + half)[_cut(wp.ndim, ax, None, -1)]
    right = (mid - half)[_cut(wp.ndim, ax, 1, None)]
    flux = hllc_flux(left, right, gamma)
    div = np.diff(flux, axis=ax) / dx
    back = np.empty_like(div)
    back[order] = div
    return back


def hydro_rhs(u: np.ndarray, dx: tuple[float, ...], gamma: float = GAMMA) -> np.ndarray:
    """dU/dt = -sum_a dF_a/dx_a for conserved ``u`` (2 + d, B, *X)."""
    w = primitives(u, gamma)
    out = flux_divergence(w, 0, dx[0], gamma)
    for a in range(1, len(dx)):
        out += flux_divergence(w, a, dx[a], gamma)
    return -out


def stable_dt(u: np.ndarray, dx: tuple[float, ...], cfl: float, gamma: float = GAMMA) -> np.ndarray:
    """PDEBench's step per sample: cfl * min_a dx_a / max(c_s + |v_a|), shape (B,)."""
    w = primitives(u, gamma)
    cs = np.sqrt(gamma * w[-1] / w[0])
    axes = tuple(range(1, u.ndim - 1))
    limits = [h / (cs + np.abs(w[1 + a])).max(axis=axes) for a, h in enumerate(dx)]
    return cfl * np.min(limits, axis=0)


def ssp_rk2(u: np.ndarray, dt: np.ndarray, dx: tuple[float, ...], gamma: float = GAMMA) -> np.ndarray:
    """One Heun (SSP-RK2) step of the Euler equations with per-sample steps ``dt`` (B,)."""
    step = dt.reshape((1, -1) + (1,) * (u.ndim - 2))
    u1 = u + step * hydro_rhs(u, dx, gamma)
    apply_pressure_floor(u1, gamma)
    u2 = 0.5 * (u + u1 + step * hydro_rhs(u1, dx, gamma))
    apply_pressure_floor(u2, gamma)
    return u2
