r"""NAS-Bench-360's Darcy flow data (the FNO paper's ``piececonst`` files), generated offline.

NAS-Bench-360's Darcy task uses the files Li et al. generated for the Fourier neural operator; their
generator is public, so the data can be made again rather than stood in for. The recipe, step by step:

1. **Gaussian random field** on ``s x s`` cell centres :math:`x_i = (2i+1)/(2s)` of :math:`[0,1]^2`:
   :math:`g \sim N(0, \tau^{2\alpha-2}(-\Delta + \tau^2)^{-\alpha})` with the Neumann Laplacian,
   :math:`\alpha = 2`, :math:`\tau = 3`, sampled by its cosine (Karhunen-Loeve) expansion:
   :math:`\xi_{k} \sim N(0, 1)`, :math:`c_{k_1 k_2} = \tau^{\alpha-1}(\pi^2(k_1^2 + k_2^2) + \tau^2)^{-\alpha/2}`,
   :math:`L = s\,c\,\xi` with :math:`L_{00} = 0` (zero mean), and :math:`g` the orthonormal 2-D
   inverse DCT-II of :math:`L`.
2. **Coefficient** :math:`a = 12` where :math:`g \ge 0`, else :math:`3` (the FNO paper's
   :math:`\psi`; the released MATLAB demo script shows 12/4, the paper and the released files 12/3).
3. **Solve** :math:`-\nabla\cdot(a\nabla u) = 1` on :math:`(0,1)^2`, :math:`u = 0` on the boundary:
   interpolate :math:`a` from the cell centres to the ``s`` nodes ``linspace(0, 1, s)`` with
   not-a-knot cubic splines along each axis (MATLAB's ``interp2(..., 'spline')``), 5-point finite
   differences on the nodes with :math:`h = 1/(s-1)` and face coefficients the mean of the two nodal
   values, a sparse direct solve on the :math:`(s-2)^2` interior nodes, zero boundary, and the
   solution interpolated back to the cell centres the same way.
4. **Files**: ``piececonst_r421_N1024_smooth1.mat`` (the training pool: NAS-Bench-360 trains on its
   first 900 samples and validates on the next 100) and ``..._smooth2.mat`` (the test pool: its first
   100), each with ``coeff`` and ``sol`` of shape (N, s, s), as ``scipy.io.savemat`` writes them.

Deviations, recorded in each file's ``xbench_settings``: arrays are float32 (the reader casts to
float32 anyway; the released files are float64), and the files hold as many samples as the run asks
for (the released ones 1024 each): ``n_samples`` in all, of which ``max(2, ceil(n/11))`` in the test
pool (100 of 1100, the share NAS-Bench-360 reads). Random streams are per sample, ``(seed, pool,
index)``, so a file of N samples starts with the samples of any smaller one. Generation is resumable:
finished chunks wait in ``<smooth1>.partial/`` until both files are written.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import scipy.fft
import scipy.io
import scipy.sparse as sp
import scipy.sparse.linalg as spl
from scipy.interpolate import CubicSpline

log = logging.getLogger(__name__)

GENERATOR_VERSION = "xbench-nb360-darcy-1"
FILE_NAMES = ("piececonst_r421_N1024_smooth1.mat", "piececonst_r421_N1024_smooth2.mat")
ALPHA, TAU = 2.0, 3.0
HIGH, LOW = 12.0, 3.0


def grf(rng: np.random.Generator, s: int, alpha: float = ALPHA, tau: float = TAU) -> np.ndarray:
    """One zero-mean Gaussian random field (s, s) on the cell centres (step 1 of the module docstring)."""
    k = np.arange(s)
    c = tau ** (alpha - 1) * (np.pi ** 2 * (k[:, None] ** 2 + k[None, :] ** 2) + tau ** 2) ** (-alpha / 2)
    coef = s * c * rng.standard_normal((s, s))
    coef[0, 0] = 0.0
    return scipy.fft.idctn(coef, type=2, norm="ortho")


def _spline2(values: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Tensor-product not-a-knot cubic spline from grid ``src`` x ``src`` to ``dst`` x ``dst``
    (extrapolating the end polynomials, as MATLAB's ``interp2(..., 'spline')`` does)."""
    along0 = CubicSpline(src, values, axis=0, bc_type="not-a-knot", extrapolate=True)(dst)
    return CubicSpline(src, along0, axis=1, bc_type="not-a-knot", extrapolate=True)(dst)


def solve_nodes(a: np.ndarray, f: np.ndarray | float = 1.0) -> np.ndarray:
    """Solve :math:`-\\nabla\\cdot(a\\nabla u) = f` on the nodes of an (s, s) grid over [0,1]^2 with
    u = 0 on the boundary nodes; ``a`` and ``f`` are nodal values. Returns u (s, s), float64.

    Row of interior node (i, j): :math:`\\sum_{n} a_{(i,j),n}(u_{ij} - u_n)/h^2 = f_{ij}` over the four
    neighbours, with :math:`a_{(i,j),n} = (a_{ij} + a_n)/2`; boundary neighbours contribute 0. The
    spline-interpolated coefficient of step 3 rings at the jumps (and extrapolates to the boundary
    nodes), so a few nodal values fall below 3 and can be negative, as in the reference generator:
    only finiteness is required."""
    a = np.asarray(a, dtype=np.float64)
    s = a.shape[0]
    if a.ndim != 2 or a.shape[1] != s or s < 3 or not np.isfinite(a).all():
        raise ValueError(f"a must be a finite (s, s) array with s >= 3, got shape {a.shape}")
    m, h2 = s - 2, (1.0 / (s - 1)) ** 2
    fx = 0.5 * (a[1:, 1:-1] + a[:-1, 1:-1]) / h2  # (s-1, m): faces between node rows i and i+1
    fy = 0.5 * (a[1:-1, 1:] + a[1:-1, :-1]) / h2  # (m, s-1)
    diag = fx[1:] + fx[:-1] + fy[:, 1:] + fy[:, :-1]  # (m, m)
    idx = np.arange(m * m).reshape(m, m)
    ox, oy = -fx[1:-1], -fy[:, 1:-1]  # couplings between interior neighbours
    rows = np.concatenate([idx.ravel(), idx[:-1].ravel(), idx[1:].ravel(), idx[:, :-1].ravel(), idx[:, 1:].ravel()])
    cols = np.concatenate([idx.ravel(), idx[1:].ravel(), idx[:-1].ravel(), idx[:, 1:].ravel(), idx[:, :-1].ravel()])
    vals = np.concatenate([diag.ravel(), ox.ravel(), ox.ravel(), oy.ravel(), oy.ravel()])
    mat = sp.csc_matrix((vals, (rows, cols)), shape=(m * m, m * m))
    rhs = np.broadcast_to(np.asarray(f, dtype=np.float64), (s, s))[1:-1, 1:-1]
    lu = spl.splu(mat, permc_spec="MMD_AT_PLUS_A", options={"SymmetricMode": True})
    u = np.zeros((s, s))
    u[1:-1, 1:-1] = lu.solve(np.ascontiguousarray(rhs).ravel()).reshape(m, m)
    return u


def sample(rng: np.random.Generator, s: int) -> tuple[np.ndarray, np.ndarray]:
    """One (coeff, sol) pair on the s x s cell centres (steps 1-3 of the module docstring)."""
    cells = (2 * np.arange(s) + 1) / (2 * s)
    nodes = np.linspace(0.0, 1.0, s)
    coeff = np.where(grf(rng, s) >= 0, HIGH, LOW)
    u = solve_nodes(_spline2(coeff, cells, nodes), 1.0)
    return coeff, _spline2(u, nodes, cells)


def pool_sizes(n_samples: int) -> tuple[int, int]:
    """(training pool, test pool): the test pool holds max(2, ceil(n / 11)) of ``n_samples``."""
    test = max(2, math.ceil(n_samples / 11))
    return n_samples - test, test


def generate_piececonst(path: str | Path, n_samples: int, *, resolution: int = 421, seed: int = 0, chunk: int = 16,
                        progress: bool = False) -> Path:
    """Write the smooth1 file at ``path`` and its smooth2 sibling with ``n_samples`` samples in all."""
    if int(n_samples) != n_samples or n_samples < 4:
        raise ValueError(f"n_samples must be an integer >= 4 (2 test samples at least), got {n_samples!r}")
    if int(resolution) != resolution or resolution < 5 or (resolution - 1) % 84:
        raise ValueError(f"resolution must be 84 k + 1 (85, 169, ..., 421) so that 85 x 85 nodes subsample it, "
                         f"got {resolution!r}")
    path = Path(path)
    parts = path.with_name(path.name + ".partial")
    parts.mkdir(parents=True, exist_ok=True)
    settings = {"resolution": resolution, "seed": seed, "alpha": ALPHA, "tau": TAU, "values": [HIGH, LOW],
                "forcing": 1.0, "dtype": "float32", "pools": list(pool_sizes(n_samples))}
    out = []
    for pool, (name, count) in enumerate(zip(FILE_NAMES, pool_sizes(n_samples)), start=1):
        coeff = np.empty((count, resolution, resolution), np.float32)
        sol = np.empty_like(coeff)
        for start in range(0, count, chunk):
            stop = min(count, start + chunk)
            part = parts / f"pool{pool}-{start:06d}-{stop:06d}.npz"
            if not part.exists():
                pairs = [sample(np.random.default_rng([seed, pool, i]), resolution) for i in range(start, stop)]
                tmp = part.with_suffix(".tmp.npz")
                np.savez(tmp, coeff=np.stack([p[0] for p in pairs]), sol=np.stack([p[1] for p in pairs]))
                tmp.replace(part)
                if progress:
                    log.info("%s: samples %d-%d of %d done", name, start, stop, count)
            with np.load(part) as z:
                coeff[start:stop], sol[start:stop] = z["coeff"], z["sol"]
        target = path.with_name(name)
        tmp = target.with_name(target.name + ".tmp")
        scipy.io.savemat(tmp, {"coeff": coeff, "sol": sol, "xbench_generator": GENERATOR_VERSION,
                               "xbench_settings": json.dumps(settings)}, do_compression=False, format="5")
        out.append((tmp, target))
    for tmp, target in out:
        tmp.replace(target)
    for p in parts.glob("*.npz"):
        p.unlink()
    parts.rmdir()
    return path
