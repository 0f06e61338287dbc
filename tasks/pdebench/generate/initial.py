"""PDEBench's random initial conditions for the 1D problems (``init_multi``, docs/pdebench.md §3).

For each sample: pick ``num_choice_k`` integers n from 1..k_tot (with replacement); every one of the
k_tot slots gets an amplitude A ~ U(0,1) and phase phi ~ U(0, 2 pi), with wavenumber
k = 2 pi n / (x[-1] - x[0]) for the picked slots and k = 0 otherwise (an unpicked slot adds the
constant A sin(phi); a number picked twice doubles its wavenumber, as in PDEBench's scatter-add);
u0 = sum_m A_m sin(k_m x + phi_m). Then |u0| with probability 0.1, a random sign, and with
probability 0.1 the window (tanh((x - xL)/0.01) - tanh((x - xR)/0.01)) / 2 with xL ~ U(0.1, 0.45),
xR ~ U(0.55, 0.9). The random streams differ from PDEBench's JAX ones; the distribution is the same.
"""

from __future__ import annotations

import numpy as np


def init_multi(rng: np.random.Generator, xc: np.ndarray, n: int, k_tot: int = 4, num_choice_k: int = 2,
               x_eval: np.ndarray | None = None) -> np.ndarray:
    """``n`` initial conditions on cell centres ``xc``: array (n, len(xc)) float64.

    With ``x_eval``, the same functions (same random draws) are evaluated at the points ``x_eval``
    instead: an exact solution of advection is ``init_multi(..., x_eval=(xc - beta t) % 1)``.
    """
    length = xc[-1] - xc[0]
    x = xc if x_eval is None else np.asarray(x_eval, dtype=np.float64)
    picks = rng.integers(1, k_tot + 1, size=(n, num_choice_k))
    kk = np.zeros((n, k_tot))
    for j in range(num_choice_k):  # scatter-add: a slot picked twice gets twice the wavenumber
        np.add.at(kk, (np.arange(n), picks[:, j] - 1), 2.0 * np.pi * picks[:, j] / length)
    amp = rng.uniform(0.0, 1.0, (n, k_tot))
    phs = rng.uniform(0.0, 2.0 * np.pi, (n, k_tot))
    u = np.einsum("nk,nkx->nx", amp, np.sin(kk[:, :, None] * x[None, None, :] + phs[:, :, None]))
    absolute = rng.uniform(size=n) < 0.1
    u[absolute] = np.abs(u[absolute])
    u *= rng.choice([-1.0, 1.0], size=n)[:, None]
    windowed = rng.uniform(size=n) < 0.1
    xl, xr = rng.uniform(0.1, 0.45, n), rng.uniform(0.55, 0.9, n)
    window = 0.5 * (np.tanh((x[None, :] - xl[:, None]) / 0.01) - np.tanh((x[None, :] - xr[:, None]) / 0.01))
    u[windowed] *= window[windowed]
    return u
