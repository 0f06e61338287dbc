r"""Inviscid core of the compressible Navier-Stokes generator: MUSCL-Hancock with HLLC (spec §3.8-3.9).

State: conserved variables :math:`U = (\rho, \rho v_1[, \rho v_2], E)` on axis 0 of arrays shaped
``(2 + d, *X, B)``: d = 1 or 2 periodic spatial axes (cell averages), then the B samples, last so that
shifts along a spatial axis move contiguous blocks. Ideal gas :math:`p = (\Gamma - 1)(E - \rho |v|^2
/ 2)`, :math:`\Gamma = 5/3`; primitives :math:`w = (\rho, v_1[, v_2], p)`.

- **Reconstruction** (as PDEBench's ``CFD_multi_Hydra.py``): MUSCL on the primitives with the
  monotonised-central limiter, half slopes :math:`h = \mathrm{minmod}(\Delta_-, \Delta_+,
  (\Delta_- + \Delta_+)/4)` computed as :math:`\max(\min(\cdot), 0) + \min(\max(\cdot), 0)`.
- **Predictor** (Toro, *Riemann Solvers and Numerical Methods for Fluid Dynamics*, 3rd ed., §14.4,
  unsplit): every cell's face values advance by half a step with the primitive equations,
  :math:`w_\pm = w \pm h_a - \sum_b \frac{\Delta t}{\Delta x_b} A_b(w)\, h_b` with
  :math:`A_b(w) h = (v_b h_\rho + \rho h_{v_b},\; v_b h_{v_c} + \delta_{bc} h_p / \rho,\;
  \Gamma p h_{v_b} + v_b h_p)`. Where a predicted face density or pressure is not positive the cell
  falls back to first order (its face values are its average): PDEBench's positivity fallback.
- **Corrector**: one HLLC flux per face (Toro §10.4) with PDEBench's wave-speed estimates
  :math:`S_L = \min(u_L, u_R) - \max(c_L, c_R)`, :math:`S_R = \max(u_L, u_R) + \max(c_L, c_R)`,
  contact speed :math:`S_* = \frac{p_R - p_L + u_L q_L - u_R q_R}{q_L - q_R}`,
  :math:`q_K = \rho_K (S_K - u_K)`. Written one-sided: with K = L where :math:`S_* \ge 0`, else R,
  :math:`F = F_K + S^\mp (U_{*K} - U_K)`, :math:`S^- = \min(S_L, 0)`, :math:`S^+ = \max(S_R, 0)`,
  :math:`U_{*K} = \frac{q_K}{S_K - S_*}\big(1, S_*, v_{t,K}, \frac{E_K}{\rho_K} + (S_* - u_K)(S_* +
  \frac{p_K}{q_K})\big)` (this is the four-branch HLLC flux; supersonic faces have :math:`S^\mp = 0`).
  Then :math:`U \leftarrow U - \Delta t \sum_a (F_{a,i+1/2} - F_{a,i-1/2}) / \Delta x_a`.

MUSCL-Hancock is second order like PDEBench's two-stage predictor-corrector but solves one Riemann
problem per face and step instead of two; against converged references its errors equal those of
PDEBench's scheme (``benchmarks/generator_cfd.py``). Step: PDEBench's :math:`\Delta t = 0.3 \min_a
\Delta x_a / \max(c_s + |v_a|)` per sample; pressure floor :math:`10^{-4}` (PDEBench's ``p_floor``;
it never triggers on the spec's initial conditions, and where it would, it adds energy).
"""

from __future__ import annotations

import numpy as np

GAMMA = 5.0 / 3.0
P_FLOOR = 1e-4


def primitives(u: np.ndarray, gamma: float = GAMMA) -> np.ndarray:
    """(rho, m_1..m_d, E) -> (rho, v_1..v_d, p) on axis 0, any trailing shape."""
    rho = u[0]
    v = u[1:-1] / rho
    p = (gamma - 1.0) * (u[-1] - 0.5 * rho * (v * v).sum(axis=0))
    return np.concatenate([rho[None], v, p[None]])


def conserved(w: np.ndarray, gamma: float = GAMMA) -> np.ndarray:
    """(rho, v_1..v_d, p) -> (rho, m_1..m_d, E) on axis 0, any trailing shape."""
    rho, v, p = w[0], w[1:-1], w[-1]
    energy = p / (gamma - 1.0) + 0.5 * rho * (v * v).sum(axis=0)
    return np.concatenate([rho[None], rho * v, energy[None]])


def apply_pressure_floor(u: np.ndarray, gamma: float = GAMMA, floor: float = P_FLOOR) -> None:
    """Raise the pressure to ``floor`` where it fell below it (in place, via the energy)."""
    kinetic = 0.5 * (u[1:-1] ** 2).sum(axis=0) / u[0]
    low = (gamma - 1.0) * (u[-1] - kinetic) < floor
    if low.any():
        u[-1] = np.where(low, floor / (gamma - 1.0) + kinetic, u[-1])


def shift(a: np.ndarray, axis: int, k: int) -> np.ndarray:
    """Periodic neighbour a_{i+k} (k = +1 or -1) along ``axis``."""
    lo, hi = [slice(None)] * a.ndim, [slice(None)] * a.ndim
    lo[axis], hi[axis] = (slice(1, None), slice(None, 1)) if k == 1 else (slice(-1, None), slice(None, -1))
    return np.concatenate((a[tuple(lo)], a[tuple(hi)]), axis=axis)


def mc_half_slopes(w: np.ndarray, axis: int) -> np.ndarray:
    """Half the MC-limited slopes of ``w`` along ``axis`` (periodic)."""
    right = shift(w, axis, 1) - w
    return mc_half(shift(right, axis, -1), right)


def mc_half(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Half the MC-limited slope from a cell's left and right differences: minmod(l, r, (l + r) / 4)."""
    mean = (left + right) * 0.25
    lo = np.minimum(np.minimum(left, right), mean)
    np.maximum(lo, 0.0, out=lo)
    hi = np.maximum(np.maximum(left, right), mean)
    np.minimum(hi, 0.0, out=hi)
    lo += hi
    return lo


def hllc_flux(left: np.ndarray, right: np.ndarray, normal: int, gamma: float = GAMMA) -> np.ndarray:
    """HLLC fluxes (rho, m_1..m_d, E) through faces with primitive states ``left``/``right``
    (rho, v_1..v_d, p) on axis 0; ``normal`` is the index of the face-normal velocity in that stack."""
    rl, ul, pl = left[0], left[normal], left[-1]
    rr, ur, pr = right[0], right[normal], right[-1]
    cmax = np.maximum(np.sqrt(gamma * pl / rl), np.sqrt(gamma * pr / rr))
    sl = np.minimum(ul, ur) - cmax
    sr = np.maximum(ul, ur) + cmax
    ql, qr = rl * (sl - ul), rr * (sr - ur)  # mass fluxes relative to the outer waves (ql < 0 < qr)
    s_star = (pr - pl + ul * ql - ur * qr) / (ql - qr)
    side = (s_star >= 0.0).astype(left.dtype)  # 1: K = L, 0: K = R

    def pick(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return b + side * (a - b)

    w = pick(left, right)  # the K-side state, all components
    rho, u, p, q = w[0], w[normal], w[-1], pick(ql, qr)
    s_k = pick(sl, sr)
    s_out = pick(np.minimum(sl, 0.0), np.maximum(sr, 0.0))
    kinetic = (w[1:-1] ** 2).sum(axis=0)
    energy = p / (gamma - 1.0) + 0.5 * rho * kinetic
    mass = rho * u
    rho_star = q / (s_k - s_star)
    mass_flux = mass + s_out * (rho_star - rho)  # F_K + S (rho* - rho), also carries v_t
    flux = np.empty_like(w)
    flux[0] = mass_flux
    flux[1:-1] = mass_flux * w[1:-1]
    flux[normal] = mass * u + p + s_out * (rho_star * s_star - mass)
    e_star = rho_star * (energy / rho + (s_star - u) * (s_star + p / q))
    flux[-1] = u * (energy + p) + s_out * (e_star - energy)
    return flux


def stable_dt(u: np.ndarray, dx: tuple[float, ...], cfl: float, gamma: float = GAMMA) -> np.ndarray:
    """PDEBench's step per sample: cfl * min_a dx_a / max(c_s + |v_a|), shape (B,)."""
    w = primitives(u, gamma)
    cs = np.sqrt(gamma * w[-1] / w[0])
    axes = tuple(range(len(dx)))
    limits = [h / (cs + np.abs(w[1 + a])).max(axis=axes) for a, h in enumerate(dx)]
    return cfl * np.min(limits, axis=0)


def hancock_step(u: np.ndarray, dt: np.ndarray, dx: tuple[float, ...], gamma: float = GAMMA) -> np.ndarray:
    """One MUSCL-Hancock step of the Euler equations for conserved ``u`` (2 + d, *X, B), steps ``dt`` (B,)."""
    w = primitives(u, gamma)
    rho, p = w[0], w[-1]
    halves, predicted = [], w.copy()
    for a, h in enumerate(dx):
        half = mc_half_slopes(w, a + 1)
        halves.append(half)
        lam = dt / h
        vn, hn, hp = w[1 + a], half[1 + a], half[-1]
        predicted[0] -= lam * (vn * half[0] + rho * hn)
        predicted[1:-1] -= lam * vn * half[1:-1]
        predicted[1 + a] -= lam * hp / rho
        predicted[-1] -= lam * (gamma * p * hn + vn * hp)
    out = u.copy()
    for a, h in enumerate(dx):
        minus, plus = predicted - halves[a], predicted + halves[a]
        bad = (np.minimum(minus[0], plus[0]) <= 0.0) | (np.minimum(minus[-1], plus[-1]) <= 0.0)
        if bad.any():
            minus, plus = np.where(bad, w, minus), np.where(bad, w, plus)
        flux = hllc_flux(shift(plus, a + 1, -1), minus, 1 + a, gamma)  # F_{i-1/2}: plus of i-1 | minus of i
        out -= (dt / h) * (shift(flux, a + 1, 1) - flux)
    apply_pressure_floor(out, gamma)
    return out
