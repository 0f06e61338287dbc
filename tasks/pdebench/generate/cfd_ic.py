r"""PDEBench's random initial conditions for compressible Navier-Stokes (spec §3.8-3.9).

Both return primitive fields ``(rho, v_1..v_d, p)`` stacked as ``(2 + d, n, *X)`` at the cell centres.
The random streams differ from PDEBench's JAX ones; the distributions are PDEBench's
(``data_gen_NLE/utils.py``: ``init_multi_HD``, ``init_multi_HD_2DRand``).

**"1D_rand"** (x in [-1, 1]). Each field is drawn independently from ``init_multi_HD`` with k_tot = 3
and two picks: integers n_1, n_2 from {1, 2, 3} (with replacement; a slot picked twice gets twice the
wavenumber), wavenumbers :math:`k_m = 2\pi n_m / (x_{N-1} - x_0)` for the picked slots and 0 for the
others, :math:`u = \sum_{m=1}^{3} A_m \sin(k_m x + \phi_m)` with :math:`A_m \sim U(0, 1)`,
:math:`\phi_m \sim U(0, 2\pi)`; then :math:`|u|` with probability 0.1, a random sign, and with
probability 0.5 the window :math:`\tfrac12(\tanh((x - x_L)/0.01) - \tanh((x - x_R)/0.01))`,
:math:`x_L \sim U(0.1, 0.45)`, :math:`x_R \sim U(0.55, 0.9)`. Density and pressure are then min-max
normalised to [0, 1] and mapped to :math:`u m + b` with :math:`m, b` log-uniform on [1, 10]
(density) or [10, 100] (pressure); the velocity is used as it is.

**"2D_rand"** (x, y in [0, 1]). Per sample :math:`\rho_0, T_0 \sim U(0.1, 10)`, :math:`p_0 = \rho_0
T_0`, :math:`c_s = \sqrt{\Gamma T_0}`, :math:`\delta_\rho, \delta_p \sim U(0.01, 0.2)`. Four fields
:math:`f = \sum_{|i|, |j| \le 4,\, ij \ne 0} |k|^{-1/2} \sin(k \cdot x + \phi)` with
:math:`k = 2\pi (i, j)` and an independent phase per mode and field (64 modes; modes with i = 0 or
j = 0 are skipped as in PDEBench). The velocity :math:`(f_1, f_2)` is scaled to mean speed
:math:`M c_s`, :math:`\rho = \rho_0 (1 + \delta_\rho f_3 / \overline{|f_3|})`,
:math:`p = p_0 (1 + \delta_p f_4 / \overline{|f_4|})`. With probability 0.5 the fields are windowed
by the product of the 1D windows in x and y (x_L, y_L ~ U(0.1, 0.45), x_R, y_R ~ U(0.55, 0.9)),
outside which :math:`\rho = \rho_0`, :math:`p = p_0`, :math:`v = 0`.
"""

from __future__ import annotations

import numpy as np

from xbench.tasks.pdebench.generate.cfd_hydro import GAMMA

WINDOW_PROB = 0.5


def _window(rng: np.random.Generator, x: np.ndarray, n: int) -> np.ndarray:
    """(n, len(x)) tanh windows with edges x_L ~ U(0.1, 0.45), x_R ~ U(0.55, 0.9)."""
    xl, xr = rng.uniform(0.1, 0.45, n), rng.uniform(0.55, 0.9, n)
    return 0.5 * (np.tanh((x[None] - xl[:, None]) / 0.01) - np.tanh((x[None] - xr[:, None]) / 0.01))


def multi_hd(rng: np.random.Generator, xc: np.ndarray, n: int, value_range: tuple[float, float] | None,
             k_tot: int = 3, num_choice_k: int = 2) -> np.ndarray:
    """PDEBench's ``init_multi_HD`` (module docstring): (n, len(xc)); min-max mapped to ``u m + b``,
    m, b log-uniform on ``value_range``, unless ``value_range`` is None."""
    picks = rng.integers(1, k_tot + 1, size=(n, num_choice_k))
    kk = np.zeros((n, k_tot))
    for j in range(num_choice_k):
        np.add.at(kk, (np.arange(n), picks[:, j] - 1), 2.0 * np.pi * picks[:, j] / (xc[-1] - xc[0]))
    amp = rng.uniform(0.0, 1.0, (n, k_tot))
    phs = rng.uniform(0.0, 2.0 * np.pi, (n, k_tot))
    u = np.einsum("nk,nkx->nx", amp, np.sin(kk[:, :, None] * xc[None, None, :] + phs[:, :, None]))
    absolute = rng.uniform(size=n) < 0.1
    u[absolute] = np.abs(u[absolute])
    u *= rng.choice([-1.0, 1.0], size=n)[:, None]
    windowed = rng.uniform(size=n) < WINDOW_PROB
    u[windowed] *= _window(rng, xc, n)[windowed]
    if value_range is None:
        return u
    u -= u.min(axis=1, keepdims=True)
    u /= u.max(axis=1, keepdims=True)
    lo, hi = np.log(value_range[0]), np.log(value_range[1])
    m, b = np.exp(rng.uniform(lo, hi, (2, n, 1)))
    return u * m + b


def init_1d_rand(rng: np.random.Generator, xc: np.ndarray, n: int) -> np.ndarray:
    """PDEBench's "1D_rand": primitives (rho, v_x, p) of shape (3, n, len(xc))."""
    rho = multi_hd(rng, xc, n, (1.0, 10.0))
    p = multi_hd(rng, xc, n, (10.0, 100.0))
    vx = multi_hd(rng, xc, n, None)
    return np.stack([rho, vx, p])


def init_2d_rand(rng: np.random.Generator, xc: np.ndarray, yc: np.ndarray, n: int, mach: float,
                 k_tot: int = 4, gamma: float = GAMMA) -> np.ndarray:
    """PDEBench's "2D_rand" at Mach number ``mach``: primitives (rho, v_x, v_y, p) of shape (4, n, nx, ny)."""
    rho0, drho, temp0, dp = (rng.uniform(lo, hi, (n, 1, 1)) for lo, hi in
                             ((0.1, 10.0), (0.01, 0.2), (0.1, 10.0), (0.01, 0.2)))
    modes = np.array([(i, j) for i in range(-k_tot, k_tot + 1) for j in range(-k_tot, k_tot + 1) if i * j != 0])
    kx, ky = 2.0 * np.pi * modes[:, 0], 2.0 * np.pi * modes[:, 1]
    amp = (kx**2 + ky**2) ** -0.25
    phase = rng.uniform(0.0, 2.0 * np.pi, (n, 4, len(modes), 1))
    arg_x = kx[:, None] * xc[None] + phase  # (n, 4, modes, nx)
    # sin(kx x + ky y + phi) = sin(kx x + phi) cos(ky y) + cos(kx x + phi) sin(ky y)
    cy, sy = np.cos(ky[:, None] * yc[None]), np.sin(ky[:, None] * yc[None])
    f = (np.swapaxes(amp[:, None] * np.sin(arg_x), -1, -2) @ cy
         + np.swapaxes(amp[:, None] * np.cos(arg_x), -1, -2) @ sy)  # (n, 4, nx, ny)
    cs = np.sqrt(gamma * temp0)
    speed = np.sqrt(f[:, 0] ** 2 + f[:, 1] ** 2).mean(axis=(1, 2), keepdims=True)
    vx, vy = f[:, 0] * (mach * cs / speed), f[:, 1] * (mach * cs / speed)
    rho = rho0 * (1.0 + drho * f[:, 2] / np.abs(f[:, 2]).mean(axis=(1, 2), keepdims=True))
    p0 = rho0 * temp0
    p = p0 * (1.0 + dp * f[:, 3] / np.abs(f[:, 3]).mean(axis=(1, 2), keepdims=True))
    windowed = rng.uniform(size=n) < WINDOW_PROB
    mask = _window(rng, xc, n)[:, :, None] * _window(rng, yc, n)[:, None, :]
    mask[~windowed] = 1.0
    return np.stack([rho * mask + rho0 * (1.0 - mask), vx * mask, vy * mask, p * mask + p0 * (1.0 - mask)])
