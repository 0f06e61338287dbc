r"""Finite-volume solvers for PDEBench's periodic 1D Advection and Burgers equations.

Grid: ``nx`` cells of width dx on a periodic domain, values are cell averages at the centres.

**Advective part** (both equations), as PDEBench (docs/pdebench.md §3): MUSCL reconstruction
with the monotonised-central limiter :math:`\mathrm{MC}(a, b) = \mathrm{sign}(c)\,\tfrac12(1 +
\mathrm{sign}(ab))\min(2\min(|a|,|b|), |c|)`, :math:`c = (a+b)/2`, on neighbouring differences
(computed as :math:`\sigma\max(0, \min(2|a|, 2\sigma b, \sigma c))`, :math:`\sigma = \mathrm{sign}\,a`);
a Rusanov flux :math:`F = \tfrac12[f(u^-) + f(u^+) - s\,(u^+ - u^-)]` with :math:`s = |\beta|`
(advection: exactly the upwind flux :math:`\beta u^\mp`) or :math:`s = |u^- + u^+|/2` (Burgers, where
with :math:`p = u^- + u^+`, :math:`m = u^+ - u^-` it is the square :math:`F = (|p| - m)^2/8`).

**Time stepping**: PDEBench's 2-stage midpoint predictor-corrector :math:`u^* = u -
\tfrac{\Delta t}{2\Delta x}\delta F(u)`, :math:`u \leftarrow u - \tfrac{\Delta t}{\Delta x}\delta
F(u^*)`. Advection runs at PDEBench's CFL 0.4, so the data carry PDEBench's numerical diffusion
(0.35 % of the field at t = 2, beta = 0.4, spec §11). That diffusion is a third of the best published
nRMSE on this task (about 1e-2), so xbench does not replace the scheme by the exact Fourier shift
(which would be exact and faster): generated data stand in for the released files and should share
their targets.

**Burgers' diffusion** :math:`(\nu/\pi) u_{xx}` (:math:`\kappa = \nu/\pi`), by the cell Péclet
number :math:`Pe = \max|u_0|\,\Delta x/\kappa` of a block of samples:

* :math:`Pe \ge 2` (shocks, e.g. nu = 0.001): explicit, as PDEBench, by the central flux
  :math:`-\kappa (u_{i+1} - u_i)/\Delta x` added to the Rusanov flux, but stepped by the
  three-stage SSP Runge-Kutta scheme (Shu-Osher) with the combined limit :math:`\Delta t\,
  (\max|u|/\Delta x + 2\kappa/\Delta x^2) \le 0.8` instead of PDEBench's midpoint step with
  :math:`\Delta t \le 0.25\min(\Delta x/\max|u|, \Delta x^2/2\kappa)`: 3 flux evaluations per
  step instead of 2 on about 2.4x larger steps, and an error against a converged solution about 5 %
  below that of PDEBench's scheme (benchmarks/generator_accuracy.py). The limit 0.8 keeps a margin:
  the error starts to grow at 1.2 and the scheme is unstable at 1.4.
* :math:`Pe < 2` (e.g. nu = 1: PDEBench's explicit step needs about 5 million steps to t = 2 at
  1024 cells): exact in Fourier space, :math:`\hat u_k \leftarrow \hat u_k e^{-\kappa (2\pi k)^2
  \Delta t}`, by Strang splitting with the advective step (:math:`D(\Delta t/2)\,A(\Delta t)\,
  D(\Delta t/2)`, consecutive half steps merged). Where diffusion keeps the solution smooth at the
  grid scale (:math:`Pe < 1` per sample) the mean c of u is also split off (Galilean split: with
  u = c + w, :math:`w_t + c\,w_x + (w^2/2)_x = \kappa w_{xx}` and :math:`c\,w_x` joins the exact
  propagator :math:`e^{(-2\pi i k c - \kappa(2\pi k)^2)\Delta t}`), so the CFL limit only sees
  max|w|, which decays fast at nu = 1. The advective step there uses CFL 0.4.

**Speed.** Arithmetic in float32 (PDEBench's own precision) on a ghost-padded buffer (slices, no
``np.roll``), samples in blocks of 32 (about 128 kB per array: the temporaries stay in cache), and
Burgers samples sorted by max|u0| so that each block's step follows its own fastest sample. Steps
land exactly on the save times (each save interval is split into equal steps).
Accuracy against converged references: ``benchmarks/generator_accuracy.py``.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft as sfft

CFL = 0.4  # PDEBench's advection CFL; also the advective CFL of the split (Fourier-diffusion) Burgers path
CFL_EXPLICIT = 0.8  # limit on dt (max|u|/dx + 2 kappa/dx^2) for Burgers with explicit diffusion (SSP-RK3)
BLOCK = 32  # samples per vectorised block


def _fill_ghosts(buf: np.ndarray, nx: int) -> None:
    buf[:, :2] = buf[:, nx:nx + 2]
    buf[:, nx + 2:] = buf[:, 2:4]


def _half_slopes(d: np.ndarray) -> np.ndarray:
    """Half the MC-limited slope of cells 1..nx+2 of the padded buffer from its differences ``d``."""
    a, b = d[:, :-1], d[:, 1:]
    sg = np.sign(a)
    h = np.abs(a)
    np.minimum(h, b * sg, out=h)
    q = a + b
    q *= sg
    q *= 0.25
    np.minimum(h, q, out=h)
    np.maximum(h, 0.0, out=h)
    h *= sg
    return h


def _burgers_div8(buf: np.ndarray, nx: int, kd: float) -> np.ndarray:
    """8 (F_{i+1/2} - F_{i-1/2}) for the Rusanov Burgers flux plus ``kd / 8`` times the central diffusion flux."""
    _fill_ghosts(buf, nx)
    d = buf[:, 1:] - buf[:, :-1]
    h = _half_slopes(d)
    hl, hr, df = h[:, :-1], h[:, 1:], d[:, 1:-1]
    f = buf[:, 1:nx + 2] + buf[:, 2:nx + 3]
    f += hl
    f -= hr
    np.abs(f, out=f)
    f += hl
    f += hr
    f -= df
    f *= f
    if kd:
        f -= kd * df
    return f[:, 1:] - f[:, :-1]


def _advection_div(buf: np.ndarray, nx: int, beta: float) -> np.ndarray:
    """F_{i+1/2} - F_{i-1/2} for the upwind flux beta u^- (beta >= 0) or beta u^+ (beta < 0)."""
    _fill_ghosts(buf, nx)
    h = _half_slopes(buf[:, 1:] - buf[:, :-1])
    face = buf[:, 1:nx + 2] + h[:, :-1] if beta >= 0 else buf[:, 2:nx + 3] - h[:, 1:]
    return beta * (face[:, 1:] - face[:, :-1])


def _blocks(n: int, order: np.ndarray | None = None):
    order = np.arange(n) if order is None else order
    for s in range(0, n, BLOCK):
        yield order[s:s + BLOCK]


def solve_advection(u0: np.ndarray, beta: float, dx: float, t_save: np.ndarray, cfl: float = CFL) -> np.ndarray:
    """u_t + beta u_x = 0, periodic. ``u0`` (n, nx) -> frames at ``t_save`` (n, nt, nx) float32."""
    n, nx = u0.shape
    out = np.empty((n, len(t_save), nx), np.float32)
    dt_max = cfl * dx / max(abs(beta), 1e-12)
    for idx in _blocks(n):
        u = np.zeros((len(idx), nx + 4), np.float32)
        half = np.zeros_like(u)
        u[:, 2:nx + 2] = u0[idx]
        out[idx, 0] = u0[idx]
        t = float(t_save[0])
        for j in range(1, len(t_save)):
            interval = float(t_save[j]) - t
            steps = max(1, math.ceil(interval / dt_max - 1e-9))
            c = interval / steps / dx
            for _ in range(steps):
                half[:, 2:nx + 2] = u[:, 2:nx + 2] - 0.5 * c * _advection_div(u, nx, beta)
                u[:, 2:nx + 2] -= c * _advection_div(half, nx, beta)
            t = float(t_save[j])
            out[idx, j] = u[:, 2:nx + 2]
    return out


def solve_burgers(u0: np.ndarray, nu: float, dx: float, t_save: np.ndarray, dtype: type = np.float32,
                  step_scale: float = 1.0) -> np.ndarray:
    """u_t + (u^2/2)_x = (nu/pi) u_xx, periodic. ``u0`` (n, nx) -> (n, nt, nx) float32.

    ``dtype`` is the arithmetic precision and ``step_scale`` multiplies the step limits (reference
    solutions use float64 and smaller steps).
    """
    n, nx = u0.shape
    u0 = np.asarray(u0, np.float64)
    out = np.empty((n, len(t_save), nx), np.float32)
    out[:, 0] = u0
    kappa = nu / math.pi
    peclet = np.abs(u0).max(axis=1) * dx / kappa
    for idx in _blocks(n, np.argsort(peclet, kind="stable")):
        if peclet[idx].max() >= 2.0:
            out[idx, 1:] = _burgers_explicit(u0[idx], kappa, dx, t_save, dtype, CFL_EXPLICIT * step_scale)
        else:
            out[idx, 1:] = _burgers_split(u0[idx], kappa, dx, t_save, peclet[idx] < 1.0, dtype, CFL * step_scale)
    return out


def _midpoint(u: np.ndarray, v: np.ndarray, nx: int, c: float, kd: float) -> None:
    """One predictor-corrector step of the Burgers flux on the padded buffer ``u`` (``v``: scratch of its shape)."""
    inner = slice(2, nx + 2)
    v[:, inner] = u[:, inner] - 0.5 * c * _burgers_div8(u, nx, kd)
    u[:, inner] -= c * _burgers_div8(v, nx, kd)


def _ssp_rk3(u: np.ndarray, v: np.ndarray, u0: np.ndarray, nx: int, c: float, kd: float) -> None:
    """One Shu-Osher SSP-RK3 step of the Burgers flux on the padded buffer ``u`` (``v``, ``u0``: scratch)."""
    inner = slice(2, nx + 2)
    u0[:] = u[:, inner]
    v[:, inner] = u0 - c * _burgers_div8(u, nx, kd)
    v[:, inner] -= c * _burgers_div8(v, nx, kd)
    v[:, inner] *= 0.25
    v[:, inner] += 0.75 * u0
    v[:, inner] -= c * _burgers_div8(v, nx, kd)
    v[:, inner] *= 2.0
    v[:, inner] += u0
    u[:, inner] = v[:, inner] / 3.0


def _burgers_explicit(u0: np.ndarray, kappa: float, dx: float, t_save: np.ndarray, dtype: type,
                      cfl: float) -> np.ndarray:
    n, nx = u0.shape
    u = np.zeros((n, nx + 4), dtype)
    v = np.zeros_like(u)
    scratch = np.empty((n, nx), dtype)
    u[:, 2:nx + 2] = u0
    out = np.empty((n, len(t_save) - 1, nx), np.float32)
    t = float(t_save[0])
    for j in range(1, len(t_save)):
        interval = float(t_save[j]) - t
        rate = float(np.abs(u[:, 2:nx + 2]).max()) / dx + 2.0 * kappa / dx**2
        steps = max(1, math.ceil(interval * rate / cfl - 1e-9))
        c = interval / steps / dx / 8.0
        for _ in range(steps):
            _ssp_rk3(u, v, scratch, nx, c, 8.0 * kappa / dx)
        t = float(t_save[j])
        out[:, j - 1] = u[:, 2:nx + 2]
    return out


def _burgers_split(u0: np.ndarray, kappa: float, dx: float, t_save: np.ndarray, smooth: np.ndarray,
                   dtype: type, cfl: float) -> np.ndarray:
    n, nx = u0.shape
    k = 2.0 * math.pi * np.fft.rfftfreq(nx, d=dx)
    c = np.where(smooth, u0.mean(axis=1), 0.0)[:, None]
    generator = -1j * k[None, :] * c - kappa * k[None, :] ** 2  # (n, nk): the linear operator in Fourier space
    u = np.zeros((n, nx + 4), dtype)
    v = np.zeros_like(u)
    u[:, 2:nx + 2] = u0 - c
    inner = slice(2, nx + 2)

    def propagate(dt: float) -> None:
        factor = np.exp(generator * dt).astype(np.complex64 if dtype == np.float32 else np.complex128)
        u[:, inner] = sfft.irfft(sfft.rfft(u[:, inner], axis=-1) * factor, n=nx, axis=-1)

    out = np.empty((n, len(t_save) - 1, nx), np.float32)
    t = float(t_save[0])
    for j in range(1, len(t_save)):
        interval = float(t_save[j]) - t
        wmax = float(np.abs(u[:, inner]).max())
        steps = max(1, math.ceil(interval * wmax / (cfl * dx) - 1e-9))
        dt = interval / steps
        propagate(0.5 * dt)
        for s in range(steps):
            _midpoint(u, v, nx, dt / dx / 8.0, 0.0)
            propagate(dt if s < steps - 1 else 0.5 * dt)
        t = float(t_save[j])
        out[:, j - 1] = u[:, inner] + c
    return out
