r"""Compressible Navier-Stokes generators for PDEBench's 1D and 2D CFD files (spec §3.8-3.9, layout C).

Equations (periodic, :math:`\Gamma = 5/3`, :math:`\varepsilon = p / (\Gamma - 1)`):
:math:`\partial_t \rho + \nabla\cdot(\rho v) = 0`,
:math:`\partial_t(\rho v) + \nabla\cdot(\rho v v + p I) = \nabla\cdot\sigma'`,
:math:`\partial_t(\varepsilon + \rho v^2/2) + \nabla\cdot[(\varepsilon + p + \rho v^2/2) v - v\cdot\sigma'] = 0`,
with PDEBench's viscous model for :math:`\sigma'` (see :mod:`.cfd_visc`: kinematic viscosity
:math:`4\eta/3 + \zeta` along an axis and :math:`\eta` across it, as in the released files).

Scheme: Strang splitting of the inviscid part H (:mod:`.cfd_hydro`: MUSCL-MC on primitives,
MUSCL-Hancock predictor-corrector with HLLC, PDEBench's CFL 0.3) and the viscous part V (implicit,
conservative, one tridiagonal solve per axis, axis order alternating), :math:`V(\Delta t/2) H(\Delta t)
V(\Delta t/2)`, with consecutive half steps merged into :math:`V((\Delta t_k + \Delta t_{k+1})/2)`.
PDEBench instead takes explicit viscous sub-steps of :math:`0.3 \cdot 0.5 \Delta x^2 / (4\eta/3 + \zeta)`:
at :math:`\eta = \zeta = 0.1` about 400 000 of them to t = 1 at 1024 cells, 25 000 at 128^2. Each
sample has its own step (:math:`\Delta t = \mathrm{CFL} \min_a \Delta x_a / \max(c_s + |v_a|)`, each
save interval split into equal steps so that steps land on the save times); samples that reach a
save time leave the vectorised batch, so a batch costs the sum of its samples' steps, not the
slowest sample's.
Errors against converged references, conservation and throughput: ``benchmarks/generator_cfd.py``.

Files (layout C, ``layouts.write_chunked(..., "pdebench-cfd")``): ``density``, ``pressure``, ``Vx``
[, ``Vy``] of shape (N, Nt, *X), float32; ``x-coordinate`` [, ``y-coordinate``] cell centres,
``t-coordinate`` with Nt + 1 entries ``k * dt_save`` (the last unused, as PDEBench); attributes
``eta``, ``zeta`` [, ``M``]. Chunk i draws its initial conditions from the stream (seed, i) at full
chunk size; every sample evolves on its own steps (nothing couples the samples of a batch), so a short
last chunk solves only the samples it keeps and sample j never depends on how many the file holds.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from xbench.tasks.pdebench.generate.cfd_hydro import GAMMA, conserved, hancock_step, primitives, stable_dt
from xbench.tasks.pdebench.generate.cfd_ic import init_1d_rand, init_2d_rand
from xbench.tasks.pdebench.generate.cfd_visc import viscous_sweep
from xbench.tasks.pdebench.layouts import write_chunked

log = logging.getLogger(__name__)

GENERATOR_VERSION = "xbench-cfd-1"
CFL = 0.3
FIELDS = ("density", "Vx", "Vy", "pressure")  # primitive order (rho, v.., p) -> dataset names


def _viscous(u: np.ndarray, dt: np.ndarray, dx: tuple[float, ...], eta: float, zeta: float, flip: bool) -> None:
    if eta == 0.0 and zeta == 0.0:
        return
    axes = range(len(dx))
    for a in (reversed(axes) if flip else axes):
        viscous_sweep(u, a, dt, dx[a], eta, zeta)


def advance(u: np.ndarray, interval: float, dx: tuple[float, ...], eta: float, zeta: float,
            cfl: float = CFL, gamma: float = GAMMA) -> tuple[np.ndarray, np.ndarray]:
    """Evolve conserved ``u`` (2 + d, B, *X) by ``interval``; returns (new u, steps per sample)."""
    u = np.ascontiguousarray(np.moveaxis(u, 1, -1))  # samples last: (2 + d, *X, B)
    active = np.arange(u.shape[-1])
    left = np.full(len(active), float(interval))
    pending = np.zeros(len(active))  # viscous time owed from the previous step's second half
    steps = np.zeros(len(active), dtype=np.int64)
    ua, flip = u.copy(), False
    while len(active):
        n = np.maximum(1.0, np.ceil(left / stable_dt(ua, dx, cfl, gamma) - 1e-9))
        dt = left / n
        _viscous(ua, (pending + 0.5 * dt).astype(u.dtype), dx, eta, zeta, flip)
        ua = hancock_step(ua, dt.astype(u.dtype), dx, gamma)
        flip = not flip
        steps[active] += 1
        left -= dt
        pending = 0.5 * dt
        done = n <= 1
        if done.any():
            fin = ua[..., done]
            _viscous(fin, pending[done].astype(u.dtype), dx, eta, zeta, flip)
            u[..., active[done]] = fin
            keep = ~done
            ua, active, left, pending = ua[..., keep], active[keep], left[keep], pending[keep]
    if not np.isfinite(u).all() or (primitives(u, gamma)[[0, -1]] <= 0).any():
        raise FloatingPointError("compressible NS: non-finite or non-positive density/pressure")
    return np.moveaxis(u, -1, 1), steps


def solve_cfd(w0: np.ndarray, dx: tuple[float, ...], t_save: np.ndarray, eta: float, zeta: float,
              cfl: float = CFL, dtype=np.float32, gamma: float = GAMMA) -> np.ndarray:
    """Primitives (rho, v.., p) at the times ``t_save``: (len(t_save), 2 + d, B, *X) float32.

    ``w0`` are the primitives at ``t_save[0]``, shape (2 + d, B, *X). The state is held in
    ``dtype``: float32 (PDEBench's precision) halves the memory traffic; its round-off (1e-7) is far
    below the discretisation error.
    """
    u = conserved(np.asarray(w0, dtype=np.float64), gamma).astype(dtype)
    out = np.empty((len(t_save),) + u.shape, np.float32)
    out[0] = w0
    total = np.zeros(u.shape[1], dtype=np.int64)
    for j in range(1, len(t_save)):
        u, steps = advance(u, float(t_save[j] - t_save[j - 1]), dx, eta, zeta, cfl, gamma)
        total += steps
        out[j] = primitives(u, gamma)
    log.debug("compressible NS: %.0f steps per sample on average (max %d)", total.mean(), total.max())
    return out


def _check(n_samples: int, nx: int, n_frames: int, chunk: int, t_final: float, eta: float, zeta: float) -> None:
    for name, v, lo in (("n_samples", n_samples, 1), ("nx", nx, 8), ("n_frames", n_frames, 2), ("chunk", chunk, 1)):
        if int(v) != v or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if not (t_final > 0 and eta >= 0 and zeta >= 0):
        raise ValueError(f"need t_final > 0 and eta, zeta >= 0; got {t_final!r}, {eta!r}, {zeta!r}")


def _write(path: Path, n_samples: int, make_w0, coords: dict, dx: tuple[float, ...], t: np.ndarray,
           eta: float, zeta: float, attrs: dict, chunk: int, progress: bool) -> Path:
    d = len(dx)
    names = FIELDS[:1 + d] + FIELDS[-1:]

    def make_chunk(index: int, count: int) -> dict[str, np.ndarray]:
        frames = solve_cfd(make_w0(index)[:, :count], dx, t, eta, zeta)  # (Nt, 2 + d, count, *X)
        return {name: np.moveaxis(frames[:, k], 0, 1) for k, name in enumerate(names)}

    static = {**coords, "t-coordinate": np.arange(len(t) + 1) * (t[1] - t[0])}
    attrs = {"eta": float(eta), "zeta": float(zeta), **attrs, "xbench_generator": GENERATOR_VERSION}
    return write_chunked(path, "pdebench-cfd", n_samples, make_chunk, static, attrs, chunk=chunk,
                         progress=progress)


def generate_cfd1d(path: str | Path, n_samples: int, *, eta: float = 0.1, zeta: float = 0.1, nx: int = 1024,
                   n_frames: int = 101, t_final: float = 1.0, seed: int = 0, chunk: int = 32,
                   progress: bool = True) -> Path:
    """PDEBench's ``1D_CFD_Rand_Eta*_Zeta*_periodic_Train.hdf5``: x in [-1, 1], "1D_rand" initial conditions."""
    _check(n_samples, nx, n_frames, chunk, t_final, eta, zeta)
    dx = 2.0 / nx
    x = -1.0 + (np.arange(nx) + 0.5) * dx
    t = np.linspace(0.0, t_final, n_frames)
    log.info("generating %d 1D CFD samples (eta=%g, zeta=%g, %d cells, %d frames) into %s", n_samples, eta, zeta,
             nx, n_frames, path)
    return _write(Path(path), n_samples, lambda i: init_1d_rand(np.random.default_rng([seed, i]), x, chunk),
                  {"x-coordinate": x}, (dx,), t, eta, zeta, {"seed": seed}, chunk, progress)


def generate_cfd2d(path: str | Path, n_samples: int, *, mach: float = 1.0, eta: float = 0.1, zeta: float = 0.1,
                   nx: int = 128, n_frames: int = 21, t_final: float = 1.0, seed: int = 0, chunk: int = 8,
                   progress: bool = True) -> Path:
    """PDEBench's ``2D_CFD_Rand_M*_Eta*_Zeta*_periodic_<nx>_Train.hdf5``: [0, 1]^2, "2D_rand" initial conditions."""
    _check(n_samples, nx, n_frames, chunk, t_final, eta, zeta)
    if not mach > 0:
        raise ValueError(f"mach must be positive, got {mach!r}")
    dx = 1.0 / nx
    x = (np.arange(nx) + 0.5) * dx
    t = np.linspace(0.0, t_final, n_frames)
    log.info("generating %d 2D CFD samples (M=%g, eta=%g, zeta=%g, %d^2 cells, %d frames) into %s", n_samples,
             mach, eta, zeta, nx, n_frames, path)
    return _write(Path(path), n_samples,
                  lambda i: init_2d_rand(np.random.default_rng([seed, i]), x, x, chunk, mach),
                  {"x-coordinate": x, "y-coordinate": x}, (dx, dx), t, eta, zeta, {"M": float(mach), "seed": seed},
                  chunk, progress)
