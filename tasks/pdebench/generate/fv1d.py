r"""Finite-volume solvers for PDEBench's periodic 1D Advection and Burgers equations.

Grid: ``nx`` cells of width dx on a periodic domain, values are cell averages at the centres.

**Advective part** (both equations), as PDEBench (specs/pdebench.md §3): MUSCL reconstruction
with the monotonised-central limiter :math:`\mathrm{MC}(a, b) = \mathrm{sign}(c)\,\tfrac12(1 +
\mathrm{sign}(ab))\min(2\min(|a|,|b|), |c|)`, :math:`c = (a+b)/2`, on neighbouring differences; a
Rusanov flux :math:`F = \tfrac12[f(u^-) + f(u^+) - s\,(u^+ - u^-)]` with :math:`s = |\beta|`
(advection) or :math:`s = |u^- + u^+|/2` (Burgers); and the 2-stage midpoint predictor-corrector
:math:`u^* = u - \tfrac{\Delta t}{2\Delta x}\delta F(u)`, :math:`u \leftarrow u - \tfrac{\Delta t}
{\Delta x}\delta F(u^*)`. CFL 0.4.

**Burgers' diffusion** :math:`(\nu/\pi) u_{xx}` is stiff: PDEBench's explicit step needs
:math:`\Delta t \le 0.5\,\Delta x^2 \pi/\nu`, about 5 million steps to t = 2 at nu = 1 and 1024
cells. Here it is integrated exactly in Fourier space, :math:`\hat u_k \leftarrow \hat u_k
e^{-(\nu/\pi)(2\pi k)^2 \Delta t}`, by Strang splitting with the advective step
(:math:`D(\Delta t/2)\,A(\Delta t)\,D(\Delta t/2)`, second order; consecutive half steps are merged).
The time step is then limited by the advective CFL alone.

**Galilean split** (diffusion-dominated flows): the spatial mean c of u is conserved, and with
u = c + w, Burgers becomes :math:`w_t + c\,w_x + (w^2/2)_x = (\nu/\pi) w_{xx}`. Where diffusion
keeps the solution smooth at the grid scale (cell Péclet number max|u0| dx pi / nu < 1) the linear
term c w_x is folded into the exact Fourier propagator :math:`e^{(-2\pi i k c - (\nu/\pi)(2\pi k)^2)
\Delta t}` and the CFL limit only sees max|w|, which decays fast at nu = 1. Where shocks form the
shift would ring (Gibbs), so there c = 0 and the finite-volume flux carries all advection.

Steps land exactly on the save times (each save interval is split into equal steps).
"""

from __future__ import annotations

import math

import numpy as np

CFL = 0.4


def _mc_slope(u: np.ndarray) -> np.ndarray:
    a = u - np.roll(u, 1, axis=-1)
    b = np.roll(u, -1, axis=-1) - u
    c = 0.5 * (a + b)
    return np.sign(c) * 0.5 * (1.0 + np.sign(a * b)) * np.minimum(2.0 * np.minimum(np.abs(a), np.abs(b)), np.abs(c))


def _faces(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """States left (u^-, from cell i) and right (u^+, from cell i+1) of face i+1/2."""
    s = _mc_slope(u)
    return u + 0.5 * s, np.roll(u - 0.5 * s, -1, axis=-1)


def _burgers_flux_div(w: np.ndarray) -> np.ndarray:
    lo, hi = _faces(w)
    flux = 0.25 * (lo * lo + hi * hi) - 0.25 * np.abs(lo + hi) * (hi - lo)
    return flux - np.roll(flux, 1, axis=-1)


def _advection_flux_div(beta: float):
    def div(u: np.ndarray) -> np.ndarray:
        lo, hi = _faces(u)
        flux = 0.5 * (beta * (lo + hi) - abs(beta) * (hi - lo))
        return flux - np.roll(flux, 1, axis=-1)

    return div


def _midpoint_step(u: np.ndarray, dt_dx: float, div) -> np.ndarray:
    half = u - 0.5 * dt_dx * div(u)
    return u - dt_dx * div(half)


def solve_advection(u0: np.ndarray, beta: float, dx: float, t_save: np.ndarray, cfl: float = CFL) -> np.ndarray:
    """u_t + beta u_x = 0, periodic. ``u0`` (n, nx) -> frames at ``t_save`` (n, nt, nx) float32."""
    div = _advection_flux_div(beta)
    out = np.empty((u0.shape[0], len(t_save), u0.shape[1]), np.float32)
    u, t = u0.astype(np.float64), float(t_save[0])
    out[:, 0] = u
    dt_max = cfl * dx / max(abs(beta), 1e-12)
    for j in range(1, len(t_save)):
        interval = float(t_save[j]) - t
        steps = max(1, math.ceil(interval / dt_max - 1e-9))
        for _ in range(steps):
            u = _midpoint_step(u, interval / steps / dx, div)
        t = float(t_save[j])
        out[:, j] = u
    return out


def solve_burgers(u0: np.ndarray, nu: float, dx: float, t_save: np.ndarray, cfl: float = CFL) -> np.ndarray:
    """u_t + (u^2/2)_x = (nu/pi) u_xx, periodic. ``u0`` (n, nx) -> (n, nt, nx) float32."""
    n, nx = u0.shape
    visc = nu / math.pi
    k = 2.0 * math.pi * np.fft.rfftfreq(nx, d=dx)
    u0 = u0.astype(np.float64)
    smooth = np.abs(u0).max(axis=1) * dx / max(visc, 1e-300) < 1.0
    c = np.where(smooth, u0.mean(axis=1), 0.0)[:, None]
    generator = -1j * k[None, :] * c - visc * k[None, :] ** 2  # (n, nk): the linear operator in Fourier space

    def propagate(w: np.ndarray, dt: float) -> np.ndarray:
        return np.fft.irfft(np.fft.rfft(w, axis=-1) * np.exp(generator * dt), n=nx, axis=-1)

    out = np.empty((n, len(t_save), nx), np.float32)
    w, t = u0 - c, float(t_save[0])
    out[:, 0] = u0
    for j in range(1, len(t_save)):
        interval = float(t_save[j]) - t
        wmax = float(np.abs(w).max())
        steps = max(1, math.ceil(interval * wmax / (cfl * dx) - 1e-9))
        dt = interval / steps
        w = propagate(w, 0.5 * dt)
        for s in range(steps):
            w = _midpoint_step(w, dt / dx, _burgers_flux_div)
            w = propagate(w, dt if s < steps - 1 else 0.5 * dt)
        t = float(t_save[j])
        out[:, j] = w + c
    return out
