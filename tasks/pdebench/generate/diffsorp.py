r"""PDEBench's 1D diffusion-sorption data: :math:`u_t = D/R(u)\,u_{xx}` (docs/pdebench.md §3).

:math:`R(u) = 1 + \tfrac{1-\phi}{\phi}\rho_s k_f n_f (u + 10^{-6})^{n_f - 1}` with D = 5e-4, phi = 0.29,
rho_s = 2880, k_f = 3.5e-4, n_f = 0.874 (PDEBench adds 1e-6 inside the power). x in (0, 1) with
``nx`` cell centres, t in [0, 500], 101 frames. PDEBench's finite-volume semi-discretisation,
reproduced exactly:

.. math:: \dot u_i = \frac{D}{R(u_i)\,\Delta x^2}(u_{i-1} - 2u_i + u_{i+1}),\quad
          u_{-1} = 1,\quad u_{N} = D\,(u_{N-2} - u_{N-1})/\Delta x

(left ghost = the solubility 1, right ghost the "Cauchy" value of u(1) = D u_x(1)). Initial
condition: the constant u0 = U(0, 0.2), drawn as PDEBench does with ``np.random.default_rng(seed)``
for sample ``seed`` (so sample i of a file with seed 0 starts where PDEBench's group i does).

PDEBench integrates with ``solve_ivp`` RK45 (rtol 1e-3, atol 1e-6). The system is stiff (the
Laplacian's eigenvalues reach 4 D/(R dx^2) ~ 600), so RK45 crawls along its stability limit:
about 690,000 right-hand sides per sample, about 60 s on an idle 2-core CPU, and its error
against a converged solution is 1.7e-2 (relative L2 at t = 500: the stability-limited steps
leave a grid-scale zig-zag behind the front). Here the samples of a chunk are stacked into one
block-diagonal system and integrated by ``solve_ivp``'s variable-order BDF with the exact
tridiagonal Jacobian
:math:`\partial\dot u_i/\partial u_i = g_i'\,L_i - 2g_i`, :math:`\partial\dot u_i/\partial u_{i\pm1} = g_i`
(:math:`g_i = D/(R(u_i)\Delta x^2)`, :math:`L_i` the bracket above, :math:`g' = -gR'/R`; the last
row carries the ghost's :math:`D/\Delta x` terms), rtol 1e-5, atol 1e-7: a few hundred steps, error
about 3e-6 against Radau at rtol 1e-10 (``benchmarks/generator_accuracy.py``). BLAS runs on one
thread (its threads spin against each other on a loaded 2-core machine).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.integrate import solve_ivp
from threadpoolctl import threadpool_limits

from xbench.tasks.pdebench.layouts import write_chunked

log = logging.getLogger(__name__)

GENERATOR_VERSION = "xbench-diffsorp-1"
D, POROSITY, RHO_S, K_F, N_F, SOLUBILITY = 5e-4, 0.29, 2880.0, 3.5e-4, 0.874, 1.0
SORPTION = (1.0 - POROSITY) / POROSITY * RHO_S * K_F * N_F


def rhs(u: np.ndarray, dx: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(du/dt, g = D/(R dx^2), L = bracketed Laplacian with ghosts) for states ``u`` (n, nx)."""
    lap = np.empty_like(u)
    lap[:, 1:-1] = u[:, :-2] - 2.0 * u[:, 1:-1] + u[:, 2:]
    lap[:, 0] = SOLUBILITY - 2.0 * u[:, 0] + u[:, 1]
    lap[:, -1] = u[:, -2] - 2.0 * u[:, -1] + D * (u[:, -2] - u[:, -1]) / dx
    g = D / ((1.0 + SORPTION * (u + 1e-6) ** (N_F - 1.0)) * dx * dx)
    return g * lap, g, lap


def jacobian(u: np.ndarray, dx: float) -> sp.csc_matrix:
    """Block-diagonal tridiagonal Jacobian of :func:`rhs` for the stacked states ``u`` (n, nx)."""
    _, g, lap = rhs(u, dx)
    w = u + 1e-6
    r = 1.0 + SORPTION * w ** (N_F - 1.0)
    dg = -g * SORPTION * (N_F - 1.0) * w ** (N_F - 2.0) / r
    diag = dg * lap - 2.0 * g
    diag[:, -1] -= g[:, -1] * D / dx
    lower, upper = g.copy(), g.copy()
    lower[:, -1] *= 1.0 + D / dx
    lower[:, 0] = 0.0  # no coupling across samples
    upper[:, -1] = 0.0
    return sp.diags([lower.ravel()[1:], diag.ravel(), upper.ravel()[:-1]], [-1, 0, 1], format="csc")


def solve_diffsorp(u0: np.ndarray, dx: float, t_save: np.ndarray, rtol: float = 1e-5, atol: float = 1e-7,
                   method: str = "BDF") -> np.ndarray:
    """States ``u0`` (n, nx) -> frames at ``t_save`` (n, nt, nx) float32 (``t_save[0]`` = 0)."""
    n, nx = u0.shape

    def fun(_t, y):
        return rhs(y.reshape(n, nx), dx)[0].ravel()

    def jac(_t, y):
        return jacobian(y.reshape(n, nx), dx)

    with threadpool_limits(1):
        sol = solve_ivp(fun, (float(t_save[0]), float(t_save[-1])), np.asarray(u0, np.float64).ravel(),
                        method=method, t_eval=t_save, rtol=rtol, atol=atol, jac=jac)
    if sol.status != 0:
        raise FloatingPointError(f"diffusion-sorption integration failed: {sol.message}")
    return sol.y.T.reshape(len(t_save), n, nx).transpose(1, 0, 2).astype(np.float32)


def generate_diffsorp(path: str | Path, n_samples: int, *, nx: int = 1024, n_frames: int = 101,
                      t_final: float = 500.0, seed: int = 0, rtol: float = 1e-5, chunk: int = 32,
                      progress: bool = True) -> Path:
    """Generate ``n_samples`` trajectories into ``path`` (layout D: groups "0000".., ``data`` (Nt, nx, 1))."""
    for name, v, lo in (("n_samples", n_samples, 1), ("nx", nx, 3), ("n_frames", n_frames, 2), ("chunk", chunk, 1),
                        ("seed", seed, 0)):
        if int(v) != v or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if not t_final > 0 or not 0 < rtol < 1:
        raise ValueError(f"t_final must be positive and 0 < rtol < 1, got {t_final!r}, {rtol!r}")
    dx = 1.0 / nx
    x = (np.arange(nx) + 0.5) * dx
    t = np.linspace(0.0, t_final, n_frames)

    def make_chunk(index: int, count: int) -> dict[str, np.ndarray]:
        # the chunk's samples share adaptive steps, so a short last chunk is solved in full and cut: sample i
        # never depends on n_samples
        first = seed + index * chunk
        u0 = np.array([np.full(nx, np.random.default_rng(first + i).uniform(0.0, 0.2)) for i in range(chunk)])
        return {"data": solve_diffsorp(u0, dx, t, rtol)[:count, ..., None]}

    config = {"D": D, "por": POROSITY, "rho_s": RHO_S, "k_f": K_F, "n_f": N_F, "sol": SOLUBILITY, "t": t_final,
              "tdim": n_frames, "x_left": 0.0, "x_right": 1.0, "xdim": nx, "seed": seed,
              "seeds": "sample i uses np.random.default_rng(seed + i)", "method": f"BDF rtol {rtol}"}
    attrs = {"config": json.dumps(config), "xbench_generator": GENERATOR_VERSION, "seed": seed}
    log.info("generating %d diffusion-sorption samples (%d cells, %d frames to t=%g) into %s", n_samples, nx,
             n_frames, t_final, path)
    return write_chunked(path, "pdebench-groups", n_samples, make_chunk, {"grid/x": x, "grid/t": t}, attrs,
                         chunk=chunk, progress=progress)
