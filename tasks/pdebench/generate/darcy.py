r"""Steady 2D Darcy flow as in PDEBench (docs/pdebench.md §3), solved directly instead of time-marched.

Problem: :math:`-\nabla\cdot(a(x)\nabla u) = \beta` on :math:`(0,1)^2`, :math:`u = 0` on the boundary.

**Coefficient** (PDEBench's ``nu``): :math:`g(x) = \sum_{i=1}^5 \exp(-|x - m_i|^2 / s_i)` with
:math:`m_i \sim U((0,1)^2)` and :math:`s_i = 0.5\,U(0,1)` (divided by s, not 2s^2), then
:math:`a = 1` where g exceeds its mean over the whole generated batch, else 0.1.

**Discretisation** (PDEBench's): cell centres :math:`x_i = (i + \tfrac12)\Delta x`, 5-point finite
volumes with face coefficient the arithmetic mean of the two neighbours,

.. math:: \sum_{f \in \{E,W,N,S\}} \frac{a_f\,(u_P - u_f)}{\Delta^2} = \beta, \qquad
          a_f = \tfrac12 (a_P + a_f),

and ghost cells :math:`u = 0` with the coefficient copied from the interior (PDEBench pads ``nu`` by
edge copy), so a boundary face has :math:`a_f = a_P` and the Dirichlet condition sits half a cell
outside the domain (first order in the boundary position; second order in the interior). The
matrix is a symmetric M-matrix, hence :math:`u \ge 0` for :math:`\beta > 0`.

PDEBench integrates :math:`u_t = \nabla\cdot(a\nabla u) + \beta` explicitly from a random field with
:math:`\Delta t = 0.25 \cdot 0.5\,\Delta x^2 / \max a` (262,144 two-stage steps to t = 2 at 128^2)
and stores the frame at t = 1.75 as "the" solution. Here the linear system is factorised per
sample with SuperLU (minimum-degree ordering on A + A^T, symmetric mode) and solved to
round-off; ``benchmarks/generator_2d.py`` quantifies the difference to PDEBench's transient.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spl

from xbench.tasks.pdebench.layouts import write_chunked

log = logging.getLogger(__name__)

GENERATOR_VERSION = "xbench-darcy-1"


def coefficient_fields(rng: np.random.Generator, count: int, nx: int, n_bumps: int = 5) -> np.ndarray:
    """PDEBench's binary coefficient fields a (count, nx, nx) in {0.1, 1}; axes [x, y], cell centres."""
    xc = (np.arange(nx) + 0.5) / nx
    m = rng.uniform(0.0, 1.0, size=(count, n_bumps, 2))
    s = 0.5 * rng.uniform(0.0, 1.0, size=(count, n_bumps))
    dx2 = (xc[None, None, :] - m[..., 0:1]) ** 2  # (count, bumps, nx)
    dy2 = (xc[None, None, :] - m[..., 1:2]) ** 2
    g = np.einsum("cbi,cbj->cij", np.exp(-dx2 / s[..., None]), np.exp(-dy2 / s[..., None]))
    return np.where(g > g.mean(), 1.0, 0.1)


@functools.lru_cache(maxsize=4)
def _pattern(nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the 5-point matrix: diagonal, then x-neighbour and y-neighbour pairs."""
    idx = np.arange(nx * ny).reshape(nx, ny)
    rows = np.concatenate([idx.ravel(), idx[:-1].ravel(), idx[1:].ravel(), idx[:, :-1].ravel(), idx[:, 1:].ravel()])
    cols = np.concatenate([idx.ravel(), idx[1:].ravel(), idx[:-1].ravel(), idx[:, 1:].ravel(), idx[:, :-1].ravel()])
    return rows, cols


def darcy_matrix(a: np.ndarray) -> sp.csc_matrix:
    """The FV matrix A of -div(a grad u) on (0,1)^2 for one coefficient field ``a`` (nx, ny), u = 0 ghosts."""
    nx, ny = a.shape
    ap = np.pad(a, 1, mode="edge")
    fx = 0.5 * (ap[1:, 1:-1] + ap[:-1, 1:-1]) * nx * nx  # (nx+1, ny): faces normal to x, / dx^2
    fy = 0.5 * (ap[1:-1, 1:] + ap[1:-1, :-1]) * ny * ny  # (nx, ny+1)
    diag = fx[1:] + fx[:-1] + fy[:, 1:] + fy[:, :-1]
    ox, oy = -fx[1:-1].ravel(), -fy[:, 1:-1].ravel()
    rows, cols = _pattern(nx, ny)
    vals = np.concatenate([diag.ravel(), ox, ox, oy, oy])
    return sp.csc_matrix((vals, (rows, cols)), shape=(nx * ny, nx * ny))


def solve_darcy(a: np.ndarray, source: float | np.ndarray = 0.1) -> np.ndarray:
    """Solve -div(a grad u) = source for each field of ``a`` (n, nx, ny); returns u (n, nx, ny) float64.

    ``source`` is a scalar (PDEBench's beta) or an array broadcastable to ``a``.
    """
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 3 or not np.isfinite(a).all() or (a <= 0).any():
        raise ValueError(f"a must be a finite positive (n, nx, ny) array, got shape {a.shape}")
    rhs = np.broadcast_to(np.asarray(source, dtype=np.float64), a.shape)
    u = np.empty_like(a)
    for b in range(len(a)):
        lu = spl.splu(darcy_matrix(a[b]), permc_spec="MMD_AT_PLUS_A", options={"SymmetricMode": True})
        u[b] = lu.solve(np.ascontiguousarray(rhs[b]).ravel()).reshape(a.shape[1:])
    return u


def generate_darcy(path: str | Path, n_samples: int, *, beta: float = 0.1, nx: int = 128, seed: int = 0,
                   chunk: int = 200, progress: bool = True) -> Path:
    """Write ``n_samples`` (a, u) pairs in PDEBench's Darcy layout (B): ``nu``, ``tensor``, coordinates, beta.

    Each chunk (PDEBench generated batches of 200) thresholds its coefficient fields at its own mean
    and draws from the random stream (seed, chunk index).
    """
    if not (np.isfinite(beta) and beta > 0):
        raise ValueError(f"beta must be a positive number, got {beta!r}")
    for name, v, lo in (("n_samples", n_samples, 1), ("nx", nx, 4), ("chunk", chunk, 1)):
        if int(v) != v or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    xc = ((np.arange(nx) + 0.5) / nx).astype(np.float32)

    def make_chunk(index: int, count: int) -> dict[str, np.ndarray]:
        a = coefficient_fields(np.random.default_rng([seed, index]), count, nx)
        u = solve_darcy(a, beta)
        return {"nu": a.astype(np.float32), "tensor": u[:, None].astype(np.float32)}

    attrs = {"beta": float(beta), "xbench_generator": GENERATOR_VERSION, "seed": seed}
    log.info("generating %d Darcy samples (beta=%g, %d^2 cells) into %s", n_samples, beta, nx, path)
    return write_chunked(Path(path), "pdebench-darcy", n_samples, make_chunk,
                         {"x-coordinate": xc, "y-coordinate": xc}, attrs, chunk=chunk, progress=progress)
