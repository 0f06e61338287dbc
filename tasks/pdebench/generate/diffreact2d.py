r"""2D diffusion-reaction (FitzHugh-Nagumo) as in PDEBench (docs/pdebench.md §3), by ETDRK4.

Equations: :math:`u_t = D_u \Delta u + u - u^3 - k - v`, :math:`v_t = D_v \Delta v + u - v` with
:math:`D_u = 10^{-3}`, :math:`D_v = 5\cdot10^{-3}`, k = 5e-3 on :math:`(-1,1)^2`, no-flux (Neumann)
boundaries, t in [0, 5], 101 frames; u0, v0 i.i.d. N(0, 1) per cell.

**Semi-discretisation** (PDEBench's): 5-point finite-volume Laplacian on cell centres whose boundary
rows drop the missing neighbour (reflecting ghost cells). PDEBench integrates it with ``solve_ivp``
RK45, whose step is bounded by stability, :math:`\Delta t \lesssim 3.3 / (8 D_v / \Delta x^2)`
(about 0.02 at 128^2), not by accuracy.

**Exact diffusion**: that Laplacian is diagonalised by the orthonormal 2D DCT-II,
:math:`L = C^T \Lambda C` with :math:`\Lambda_{pq} = -\tfrac{4}{\Delta x^2}\sin^2\tfrac{\pi p}{2N}
-\tfrac{4}{\Delta y^2}\sin^2\tfrac{\pi q}{2N}`, so the linear part L (diffusion plus the linear
reaction terms, see :func:`fitzhugh_nagumo`) is integrated exactly in DCT space and the rest N(w)
explicitly by the fourth-order exponential Runge-Kutta method of
Cox & Matthews (J. Comput. Phys. 176, 2002), with :math:`\varphi_k(x) = \sum_m x^m/(m+k)!` in closed
form, or by their Taylor series where |x| < 1/2 to avoid cancellation (Kassam & Trefethen, SIAM J.
Sci. Comput. 26, 2005, discuss the issue):

.. math:: a = E_2 s + Q N(s),\ b = E_2 s + Q N(a),\ c = E_2 a + Q (2N(b) - N(s)),\
          s \leftarrow E s + f_1 N(s) + 2 f_2 (N(a) + N(b)) + f_3 N(c),

with :math:`x = h L` (diagonal), :math:`E = e^x`, :math:`E_2 = e^{x/2}`, :math:`Q = \tfrac h2\varphi_1(x/2)`,
:math:`f_1 = h(\varphi_1 - 3\varphi_2 + 4\varphi_3)`, :math:`f_2 = h(\varphi_2 - 2\varphi_3)`,
:math:`f_3 = h(4\varphi_3 - \varphi_2)`.

The cubic reaction is stiff only at the start (|u| up to ~4.5, Jacobian ~ -3u^2), so the first save
interval is split into ``first_substeps`` steps, halved each interval down to one step per interval
(0.05). The mean (DCT mode 0) of a pure-diffusion field is kept exactly.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.fft as sfft

from xbench.tasks.pdebench.layouts import write_chunked

log = logging.getLogger(__name__)

GENERATOR_VERSION = "xbench-diffreact2d-1"

DU, DV, K = 1e-3, 5e-3, 5e-3


def dct2(x: np.ndarray) -> np.ndarray:
    """Orthonormal 2D DCT-II over the last two axes."""
    return sfft.dctn(x, type=2, axes=(-2, -1), norm="ortho")


def idct2(x: np.ndarray) -> np.ndarray:
    return sfft.idctn(x, type=2, axes=(-2, -1), norm="ortho")


def neumann_laplacian_eigenvalues(ny: int, nx: int, dy: float, dx: float) -> np.ndarray:
    """Eigenvalues (ny, nx) of the 5-point Neumann FV Laplacian, in 2D DCT-II order."""
    ey = -(4.0 / dy**2) * np.sin(np.pi * np.arange(ny) / (2 * ny)) ** 2
    ex = -(4.0 / dx**2) * np.sin(np.pi * np.arange(nx) / (2 * nx)) ** 2
    return ey[:, None] + ex[None, :]


def fitzhugh_nagumo(ny: int, nx: int, dy: float, dx: float, du: float = DU, dv: float = DV,
                    k: float = K) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    r"""Linear eigenvalues (2, ny, nx) and nonlinear term in DCT space of FitzHugh-Nagumo.

    The linear parts of the reaction go into the exact operator, :math:`L_u = D_u\Lambda + 1`,
    :math:`L_v = D_v\Lambda - 1`, leaving :math:`N_u = -u^3 - k - v` and :math:`N_v = u`: only u
    needs a transform pair per stage (v and u enter N linearly, directly in DCT space).
    """
    lap = neumann_laplacian_eigenvalues(ny, nx, dy, dx)
    lin = np.stack([du * lap + 1.0, dv * lap - 1.0])

    def nonlin(s: np.ndarray) -> np.ndarray:
        u = idct2(s[:, 0])
        return np.stack([dct2(-u * u * u - k) - s[:, 1], s[:, 0]], axis=1)

    return lin, nonlin


def _phi(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """phi_k(x) = sum_m x^m / (m + k)!, k = 1, 2, 3: closed forms, Taylor series where |x| < 1/2."""
    small = np.abs(x) < 0.5
    xs = np.where(small, 1.0, x)
    e = np.exp(xs)
    out = [(e - 1) / xs, (e - 1 - xs) / xs**2, (e - 1 - xs - xs**2 / 2) / xs**3]
    z = x[small]
    for k, phi in zip((1, 2, 3), out):
        series = np.full_like(z, 1.0 / math.factorial(k + 15))
        for m in range(14, -1, -1):  # Horner; the first term left out is < 0.5^16 / 16! ~ 1e-18
            series = series * z + 1.0 / math.factorial(m + k)
        phi[small] = series
    return out[0], out[1], out[2]


def _etdrk4_coefficients(lin: np.ndarray, h: float, dtype) -> tuple[np.ndarray, ...]:
    """E, E_2, Q, f1, f2, f3 of Cox-Matthews' ETDRK4 for the diagonal linear operator ``lin``, step h."""
    x = lin * h
    p1, p2, p3 = _phi(x)
    q = 0.5 * h * _phi(x / 2)[0]
    coef = (np.exp(x), np.exp(x / 2), q, h * (p1 - 3 * p2 + 4 * p3), h * (p2 - 2 * p3), h * (4 * p3 - p2))
    return tuple(c.astype(dtype) for c in coef)


def solve_etdrk4(w0: np.ndarray, lin: np.ndarray, nonlin: Callable[[np.ndarray], np.ndarray], t_save: np.ndarray,
                 first_substeps: int = 8, refine: int = 1, dtype=np.float32) -> np.ndarray:
    """Integrate w_t = L w + N(w) for w0 (n, C, ny, nx); returns (n, nt, C, ny, nx) float32.

    ``lin`` (C, ny, nx) are the eigenvalues of L in 2D DCT-II space, ``nonlin`` maps the DCT of w to
    the DCT of N(w). Save interval j (from 1) is split into ``refine * max(1, first_substeps //
    2**(j-1))`` equal ETDRK4 steps (``refine`` > 1 only for convergence studies).
    """
    if lin.shape != w0.shape[1:]:
        raise ValueError(f"linear eigenvalues {lin.shape} do not match the fields {w0.shape[1:]}")
    out = np.empty((w0.shape[0], len(t_save)) + w0.shape[1:], np.float32)
    out[:, 0] = w0
    s = dct2(np.asarray(w0, dtype=dtype))
    coefficients: dict[float, tuple[np.ndarray, ...]] = {}
    for j in range(1, len(t_save)):
        m = refine * max(1, first_substeps >> (j - 1))
        h = round((float(t_save[j]) - float(t_save[j - 1])) / m, 14)
        if h not in coefficients:
            coefficients[h] = _etdrk4_coefficients(lin, h, dtype)
        e, e2, q, f1, f2, f3 = coefficients[h]
        for _ in range(m):
            ns = nonlin(s)
            a = e2 * s + q * ns
            na = nonlin(a)
            b = e2 * s + q * na
            nb = nonlin(b)
            c = e2 * a + q * (2 * nb - ns)
            s = e * s + f1 * ns + 2 * f2 * (na + nb) + f3 * nonlin(c)
        out[:, j] = idct2(s)
    return out


def generate_diffreact2d(path: str | Path, n_samples: int, *, nx: int = 128, n_frames: int = 101,
                         t_final: float = 5.0, seed: int = 0, chunk: int = 8, progress: bool = True) -> Path:
    """Write ``n_samples`` FitzHugh-Nagumo runs in PDEBench's group-per-seed layout (D).

    ``data`` is (Nt, ny, nx, 2) with channels (u, v): PDEBench flattens row-major with x fastest,
    so its stored axes are [t, y, x, c] (docs/pdebench.md §3).
    """
    for name, v, lo in (("n_samples", n_samples, 1), ("nx", nx, 4), ("n_frames", n_frames, 2), ("chunk", chunk, 1)):
        if int(v) != v or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if not t_final > 0:
        raise ValueError(f"t_final must be positive, got {t_final!r}")
    d = 2.0 / nx
    xc = -1.0 + (np.arange(nx) + 0.5) * d
    t = np.linspace(0.0, t_final, n_frames)

    def make_chunk(index: int, count: int) -> dict[str, np.ndarray]:
        w0 = np.random.default_rng([seed, index]).standard_normal((count, 2, nx, nx))
        w = solve_etdrk4(w0, *fitzhugh_nagumo(nx, nx, d, d), t)  # (count, nt, 2, ny, nx)
        return {"data": np.ascontiguousarray(np.moveaxis(w, 2, -1))}

    config = json.dumps({"sim": {"Du": DU, "Dv": DV, "k": K, "t": t_final, "tdim": n_frames, "x_left": -1.0,
                                 "x_right": 1.0, "xdim": nx, "y_bottom": -1.0, "y_top": 1.0, "ydim": nx,
                                 "seed": seed, "solver": "exact DCT diffusion + ETDRK4 reaction"}})
    attrs = {"config": config, "xbench_generator": GENERATOR_VERSION, "seed": seed}
    static = {"grid/x": xc.astype(np.float32), "grid/y": xc.astype(np.float32), "grid/t": t.astype(np.float32)}
    log.info("generating %d 2D diffusion-reaction samples (%d^2 cells, %d frames) into %s", n_samples, nx,
             n_frames, path)
    return write_chunked(Path(path), "pdebench-groups", n_samples, make_chunk, static, attrs, chunk=chunk,
                         progress=progress)
