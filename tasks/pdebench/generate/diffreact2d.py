r"""2D diffusion-reaction (FitzHugh-Nagumo) as in PDEBench (specs/pdebench.md §3.5), by ETDRK4.

Equations: :math:`u_t = D_u \Delta u + u - u^3 - k - v`, :math:`v_t = D_v \Delta v + u - v` with
:math:`D_u = 10^{-3}`, :math:`D_v = 5\cdot10^{-3}`, k = 5e-3 on :math:`(-1,1)^2`, no-flux (Neumann)
boundaries, t in [0, 5], 101 frames; u0, v0 i.i.d. N(0, 1) per cell.

**Semi-discretisation** (PDEBench's): 5-point finite-volume Laplacian on cell centres whose boundary
rows drop the missing neighbour (reflecting ghost cells). PDEBench integrates it with ``solve_ivp``
RK45, whose step is bounded by stability, :math:`\Delta t \lesssim 3.3 / (8 D_v / \Delta x^2)`
(about 0.02 at 128^2), not by accuracy.

**Exact diffusion**: that Laplacian is diagonalised by the orthonormal 2D DCT-II,
:math:`L = C^T \Lambda C` with :math:`\Lambda_{pq} = -\tfrac{4}{\Delta x^2}\sin^2\tfrac{\pi p}{2N}
-\tfrac{4}{\Delta y^2}\sin^2\tfrac{\pi q}{2N}`, so the stiff linear part is integrated exactly in
DCT space and the reaction N(w) explicitly by the fourth-order exponential Runge-Kutta method of
Cox & Matthews (J. Comput. Phys. 176, 2002), with :math:`\varphi_k(x) = \sum_m x^m/(m+k)!` in closed
form, or by their Taylor series where |x| < 1/2 to avoid cancellation (Kassam & Trefethen, SIAM J.
Sci. Comput. 26, 2005, discuss the issue):

.. math:: a = E_2 s + Q N(s),\ b = E_2 s + Q N(a),\ c = E_2 a + Q (2N(b) - N(s)),\
          s \leftarrow E s + f_1 N(s) + 2 f_2 (N(a) + N(b)) + f_3 N(c),

with :math:`x = h D_c \Lambda`, :math:`E = e^x`, :math:`E_2 = e^{x/2}`, :math:`Q = \tfrac h2\varphi_1(x/2)`,
:math:`f_1 = h(\varphi_1 - 3\varphi_2 + 4\varphi_3)`, :math:`f_2 = h(\varphi_2 - 2\varphi_3)`,
:math:`f_3 = h(4\varphi_3 - \varphi_2)`.

The cubic reaction is stiff only at the start (|u| up to ~4.5, Jacobian ~ -3u^2), so the first save
interval is split into ``first_substeps`` steps, halved each interval down to one step per interval
(0.05). The mean (DCT mode 0) of a pure-diffusion field is kept exactly.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
import scipy.fft as sfft

DU, DV, K = 1e-3, 5e-3, 5e-3


def neumann_eigenvalues(n: int, d: float) -> np.ndarray:
    """Eigenvalues of the 1D 3-point Neumann FV Laplacian, in DCT-II order."""
    return -(4.0 / d**2) * np.sin(np.pi * np.arange(n) / (2 * n)) ** 2


def fitzhugh_nagumo(w: np.ndarray, k: float = K) -> np.ndarray:
    """Reaction terms of w = (..., 2, ny, nx) with channels (u, v)."""
    u, v = w[..., 0, :, :], w[..., 1, :, :]
    return np.stack([u - u * u * u - k - v, u - v], axis=-3)


def _phi(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """phi_k(x) = sum_m x^m / (m + k)!, k = 1, 2, 3: closed forms, Taylor series where |x| < 1/2."""
    small = np.abs(x) < 0.5
    xs = np.where(small, 1.0, x)
    e = np.exp(xs)
    closed = ((e - 1) / xs, (e - 1 - xs) / xs**2, (e - 1 - xs - xs**2 / 2) / xs**3)
    out = []
    for k, c in zip((1, 2, 3), closed):
        series = sum(x**m / math.factorial(m + k) for m in range(18))
        out.append(np.where(small, series, c))
    return out[0], out[1], out[2]


@functools.lru_cache(maxsize=16)
def _etdrk4_coefficients(diffusivities: tuple[float, ...], ny: int, nx: int, dy: float, dx: float, h: float,
                         dtype: type) -> tuple[np.ndarray, ...]:
    """E, E_2, Q, f1, f2, f3 of Cox-Matthews' ETDRK4 for the Neumann Laplacian times D_c, step h."""
    lap = neumann_eigenvalues(ny, dy)[:, None] + neumann_eigenvalues(nx, dx)[None, :]
    x = np.asarray(diffusivities).reshape(-1, 1, 1) * lap * h
    p1, p2, p3 = _phi(x)
    q = 0.5 * h * _phi(x / 2)[0]
    coef = (np.exp(x), np.exp(x / 2), q, h * (p1 - 3 * p2 + 4 * p3), h * (p2 - 2 * p3), h * (4 * p3 - p2))
    return tuple(c.astype(dtype) for c in coef)


def solve_etdrk4(w0: np.ndarray, diffusivities: tuple[float, ...], dx: float, dy: float, t_save: np.ndarray,
                 reaction: Callable[[np.ndarray], np.ndarray] = fitzhugh_nagumo, first_substeps: int = 8,
                 refine: int = 1, dtype=np.float32) -> np.ndarray:
    """Integrate w_t = D_c L w + reaction(w) for w0 (n, C, ny, nx); returns (n, nt, C, ny, nx) float32.

    Save interval j (from 1) is split into ``refine * max(1, first_substeps // 2**(j-1))`` equal
    ETDRK4 steps (``refine`` > 1 only for convergence studies).
    """
    _, c, ny, nx = w0.shape
    if len(diffusivities) != c:
        raise ValueError(f"{len(diffusivities)} diffusivities for {c} channels")

    def fwd(x: np.ndarray) -> np.ndarray:
        return sfft.dctn(x, type=2, axes=(-2, -1), norm="ortho")

    def nonlin(s: np.ndarray) -> np.ndarray:
        return fwd(reaction(sfft.idctn(s, type=2, axes=(-2, -1), norm="ortho")))

    out = np.empty((w0.shape[0], len(t_save)) + w0.shape[1:], np.float32)
    out[:, 0] = w0
    s = fwd(np.asarray(w0, dtype=dtype))
    for j in range(1, len(t_save)):
        m = refine * max(1, first_substeps >> (j - 1))
        h = round((float(t_save[j]) - float(t_save[j - 1])) / m, 14)
        e, e2, q, f1, f2, f3 = _etdrk4_coefficients(tuple(diffusivities), ny, nx, dy, dx, h, dtype)
        for _ in range(m):
            ns = nonlin(s)
            a = e2 * s + q * ns
            na = nonlin(a)
            b = e2 * s + q * na
            nb = nonlin(b)
            cc = e2 * a + q * (2 * nb - ns)
            s = e * s + f1 * ns + 2 * f2 * (na + nb) + f3 * nonlin(cc)
        out[:, j] = sfft.idctn(s, type=2, axes=(-2, -1), norm="ortho")
    return out
