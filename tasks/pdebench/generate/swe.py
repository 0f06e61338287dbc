r"""2D shallow-water radial dam break as in PDEBench (specs/pdebench.md §3.7), vectorised over samples.

Equations (flat bottom, g = 1): :math:`h_t + (hu)_x + (hv)_y = 0`,
:math:`(hu)_t + (hu^2 + \tfrac12 g h^2)_x + (huv)_y = 0`, :math:`(hv)_t + (huv)_x + (hv^2 + \tfrac12 g h^2)_y = 0`.

Domain :math:`[-2.5, 2.5]^2`, cell centres, zero-gradient (extrapolation) boundaries, t in [0, 1].
Initial state (PDEBench's, sampled at the cell centres): h = 2 where :math:`r \le R`, 1 outside,
hu = hv = 0, with :math:`R \sim U(0.3, 0.7)` per sample.

Scheme (PDEBench uses PyClaw's wave-propagation method, Roe solver with entropy fix, MC limiter;
any second-order TVD finite-volume scheme gives compatible data, §4.5):

- MUSCL reconstruction of the primitive variables (h, u, v) with the monotonised-central limiter
  :math:`s = \mathrm{minmod}(2\Delta_-, 2\Delta_+, \tfrac12(\Delta_- + \Delta_+))`;
- HLLC flux (Toro, *Shock-capturing methods for free-surface shallow flows*, 2001, §10.4): wave
  speeds :math:`s_L = \min(u_L - c_L, u_* - c_*)`, :math:`s_R = \max(u_R + c_R, u_* + c_*)` with the
  two-rarefaction estimates :math:`u_* = \tfrac12(u_L + u_R) + c_L - c_R`,
  :math:`c_* = \tfrac12(c_L + c_R) + \tfrac14(u_L - u_R)`, :math:`c = \sqrt{gh}`; HLL flux for mass and
  normal momentum, written branch-free with :math:`s_L^- = \min(s_L, 0)`, :math:`s_R^+ = \max(s_R, 0)`:
  :math:`F = (s_R^+ F_L - s_L^- F_R + s_L^- s_R^+ (U_R - U_L)) / (s_R^+ - s_L^-)`; the tangential
  momentum is the mass flux times the upwind tangential velocity (contact speed :math:`s_*`);
- unsplit SSP-RK2 (Heun) in time, :math:`\Delta t = \mathrm{CFL}\,\Delta x / \max(|u| + c, |v| + c)`
  with CFL 0.45, steps landing exactly on the save times.

A lake at rest stays exactly at rest, and mass is conserved to round-off while the boundary cells
are undisturbed (the extrapolated boundary flux then carries no mass).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np

from xbench.tasks.pdebench.layouts import write_chunked

log = logging.getLogger(__name__)

GENERATOR_VERSION = "xbench-swe-1"

CFL = 0.45


def _cut(axis: int, start: int, stop: int | None) -> tuple:
    return (slice(None),) * axis + (slice(start, stop),)


def _flux_divergence(w: np.ndarray, axis: int, g: float, dx: float) -> np.ndarray:
    """d/dx of the HLLC fluxes of (h, h un, h ut) from primitives w = (h, un, ut) stacked on axis 0;
    ``axis`` is the sweep axis of w, which carries 2 ghost cells on each side."""
    d = np.diff(w, axis=axis)
    dl, dr = d[_cut(axis, None, -1)], d[_cut(axis, 1, None)]  # left/right differences of cells 1..n-2
    c = 0.5 * (dl + dr)
    mag = np.minimum(2.0 * np.minimum(np.abs(dl), np.abs(dr)), np.abs(c))
    half = 0.5 * np.where(dl * dr > 0.0, np.copysign(mag, c), 0.0)
    mid = w[_cut(axis, 1, -1)]
    left = (mid + half)[_cut(axis, None, -1)]  # state left of faces 1|2 .. n-3|n-2
    right = (mid - half)[_cut(axis, 1, None)]
    (hl, ul, tl), (hr, ur, tr) = left, right
    cl, cr = np.sqrt(g * hl), np.sqrt(g * hr)
    ustar = 0.5 * (ul + ur) + cl - cr
    cstar = 0.5 * (cl + cr) + 0.25 * (ul - ur)
    sl = np.minimum(np.minimum(ul - cl, ustar - cstar), 0.0)
    sr = np.maximum(np.maximum(ur + cr, ustar + cstar), 0.0)
    inv = 1.0 / (sr - sl)
    ml, mr = hl * ul, hr * ur
    f_h = (sr * ml - sl * mr + sl * sr * (hr - hl)) * inv
    f_m = (sr * (ml * ul + 0.5 * g * hl * hl) - sl * (mr * ur + 0.5 * g * hr * hr) + sl * sr * (mr - ml)) * inv
    s_star = (sl * hr * (ur - sr) - sr * hl * (ul - sl)) / (hr * (ur - sr) - hl * (ul - sl))
    f_t = f_h * np.where(s_star >= 0.0, tl, tr)
    return np.diff(np.stack([f_h, f_m, f_t]), axis=axis) / dx


def swe_rhs(q: np.ndarray, dx: float, dy: float, g: float = 1.0) -> np.ndarray:
    """-(F_x + G_y) for conserved q = (h, hu, hv) of shape (n, 3, nx, ny), extrapolation boundaries."""
    qp = np.pad(q, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="edge")
    h = qp[:, 0]
    w = np.stack([h, qp[:, 1] / h, qp[:, 2] / h])  # primitives (h, u, v): (3, n, nx+4, ny+4)
    fx = _flux_divergence(w[:, :, :, 2:-2], 2, g, dx)  # x sweep, normal velocity u
    fy = _flux_divergence(w[[0, 2, 1], :, 2:-2], 3, g, dy)  # y sweep, normal velocity v
    return -np.stack([fx[0] + fy[0], fx[1] + fy[2], fx[2] + fy[1]], axis=1)


def max_speed(q: np.ndarray, g: float = 1.0) -> float:
    """max over cells of max(|u|, |v|) + sqrt(g h)."""
    h = q[:, 0]
    return float((np.maximum(np.abs(q[:, 1]), np.abs(q[:, 2])) / h + np.sqrt(g * h)).max())


def solve_swe(q0: np.ndarray, dx: float, dy: float, t_save: np.ndarray, g: float = 1.0,
              cfl: float = CFL, dtype=np.float32) -> np.ndarray:
    """Evolve q0 (n, 3, nx, ny) and return h at the times ``t_save`` as (n, nt, nx, ny) float32.

    The state is held in ``dtype``: float32 halves the memory traffic; its round-off (~1e-7) is far
    below the scheme's truncation error (~1e-2 at the fronts).
    """
    q = np.asarray(q0, dtype=dtype)
    out = np.empty((q.shape[0], len(t_save)) + q.shape[2:], np.float32)
    out[:, 0] = q[:, 0]
    t = float(t_save[0])
    for j in range(1, len(t_save)):
        interval = float(t_save[j]) - t
        steps = max(1, math.ceil(interval * max_speed(q, g) / (cfl * min(dx, dy)) - 1e-9))
        dt = interval / steps
        for _ in range(steps):
            q1 = q + dt * swe_rhs(q, dx, dy, g)
            q = 0.5 * (q + q1 + dt * swe_rhs(q1, dx, dy, g))
        if not (q[:, 0] > 0).all():
            raise FloatingPointError(f"shallow water: depth became non-positive before t={t_save[j]:g}")
        t = float(t_save[j])
        out[:, j] = q[:, 0]
    return out


def dam_break_initial(radii: np.ndarray, xc: np.ndarray, yc: np.ndarray, h_in: float = 2.0,
                      h_out: float = 1.0) -> np.ndarray:
    """PDEBench's radial dam break: q (n, 3, nx, ny) with h = h_in where r <= R (cell centres)."""
    r = np.hypot(xc[:, None], yc[None, :])
    q = np.zeros((len(radii), 3, len(xc), len(yc)))
    q[:, 0] = np.where(r[None] <= np.asarray(radii)[:, None, None], h_in, h_out)
    return q


def generate_swe(path: str | Path, n_samples: int, *, nx: int = 128, n_frames: int = 101, t_final: float = 1.0,
                 gravity: float = 1.0, seed: int = 0, chunk: int = 8, progress: bool = True) -> Path:
    """Write ``n_samples`` radial dam breaks in PDEBench's group-per-seed layout (D): h only, (Nt, nx, nx, 1)."""
    for name, v, lo in (("n_samples", n_samples, 1), ("nx", nx, 8), ("n_frames", n_frames, 2), ("chunk", chunk, 1)):
        if int(v) != v or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if not (t_final > 0 and gravity > 0):
        raise ValueError(f"t_final and gravity must be positive, got {t_final!r}, {gravity!r}")
    dx = 5.0 / nx
    xc = -2.5 + (np.arange(nx) + 0.5) * dx
    t = np.linspace(0.0, t_final, n_frames)

    def make_chunk(index: int, count: int) -> dict[str, np.ndarray]:
        radii = np.random.default_rng([seed, index]).uniform(0.3, 0.7, count)
        h = solve_swe(dam_break_initial(radii, xc, xc), dx, dx, t, g=gravity)
        return {"data": h[..., None]}

    config = json.dumps({"sim": {"T_end": t_final, "n_time_steps": n_frames - 1, "xdim": nx, "ydim": nx,
                                 "gravity": gravity, "dam_radius": "U(0.3, 0.7) per sample", "inner_height": 2.0,
                                 "x_left": -2.5, "x_right": 2.5, "y_bottom": -2.5, "y_top": 2.5, "seed": seed,
                                 "solver": "MUSCL-MC + HLLC, SSP-RK2, CFL 0.45"}})
    attrs = {"config": config, "xbench_generator": GENERATOR_VERSION, "seed": seed}
    static = {"grid/x": xc.astype(np.float32), "grid/y": xc.astype(np.float32), "grid/t": t.astype(np.float32)}
    log.info("generating %d shallow-water samples (%d^2 cells, %d frames) into %s", n_samples, nx, n_frames, path)
    return write_chunked(Path(path), "pdebench-groups", n_samples, make_chunk, static, attrs, chunk=chunk,
                         progress=progress)
