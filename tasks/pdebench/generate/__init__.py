"""xbench's own generators of PDEBench-compatible data, written in the real file layouts.

``generate_1d`` solves 1D Advection or Burgers from PDEBench's random initial conditions with
PDEBench's conventions (periodic (0, 1), cell centres, frame 0 = t = 0, ``n_frames`` frames up to
``t_final``, float32, Burgers' diffusion coefficient nu/pi) and writes layout A: ``tensor``,
``x-coordinate``, ``t-coordinate`` (Nt+1 entries) and the attribute ``beta`` or ``Nu``.

Chunk i draws its initial conditions from the stream (seed, i) and is solved as a whole (Burgers
blocks share a step size), so a short last chunk is drawn and solved at full size and then cut:
sample j never depends on how many samples the file holds.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from xbench.tasks.pdebench.generate.fv1d import solve_advection, solve_burgers
from xbench.tasks.pdebench.generate.initial import init_multi
from xbench.tasks.pdebench.generate.writer import write_tensor_1d

log = logging.getLogger(__name__)

GENERATOR_VERSION = "xbench-fv1d-4"


def generate_1d(path: str | Path, pde: str, n_samples: int, *, nu: float | None = None,
                beta: float | None = None, nx: int = 1024, n_frames: int = 201, t_final: float = 2.0,
                seed: int = 0, chunk: int = 64, progress: bool = True) -> Path:
    """Generate ``n_samples`` trajectories of ``pde`` ("advection" or "burgers") into ``path``."""
    if pde not in ("advection", "burgers"):
        raise ValueError(f"pde must be 'advection' or 'burgers', not {pde!r}")
    param = beta if pde == "advection" else nu
    if param is None or not np.isfinite(param) or (pde == "burgers" and param <= 0):
        raise ValueError(f"{pde} needs a finite {'beta' if pde == 'advection' else 'nu > 0'}, got {param!r}")
    for name, v, lo in (("n_samples", n_samples, 1), ("nx", nx, 8), ("n_frames", n_frames, 2), ("chunk", chunk, 1)):
        if int(v) != v or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if not t_final > 0:
        raise ValueError(f"t_final must be positive, got {t_final!r}")
    dx = 1.0 / nx
    x = (np.arange(nx) + 0.5) * dx
    dt_save = t_final / (n_frames - 1)
    t = np.arange(n_frames) * dt_save

    def make_chunk(index: int, count: int) -> np.ndarray:  # a short last chunk is solved in full, then cut
        u0 = init_multi(np.random.default_rng([seed, index]), x, chunk)
        if pde == "advection":
            return solve_advection(u0, beta, dx, t)[:count]
        return solve_burgers(u0, nu, dx, t)[:count]

    attrs = {"beta" if pde == "advection" else "Nu": float(param), "xbench_generator": GENERATOR_VERSION,
             "seed": seed}
    log.info("generating %d %s samples (%s=%g, %d cells, %d frames) into %s", n_samples, pde,
             "beta" if pde == "advection" else "nu", param, nx, n_frames, path)
    return write_tensor_1d(Path(path), n_samples, x, t, dt_save, make_chunk, attrs, chunk, progress)
