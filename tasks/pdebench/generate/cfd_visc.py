r"""Viscous step of the compressible Navier-Stokes generator: implicit, conservative, dimension-split.

**Viscous model (PDEBench's, not the textbook one).** The spec writes the viscous force as
:math:`\eta \Delta v + (\zeta + \eta/3) \nabla(\nabla \cdot v)`, but PDEBench's generator
(``CFD_multi_Hydra.py``, ``update_vis``, commented "not realistic viscosity but fast") computes, one
axis at a time, the face fluxes :math:`\mu_c \bar\rho_{i+1/2} (v_{c,i+1} - v_{c,i}) / \Delta x` with
:math:`\mu = 4\eta/3 + \zeta` for the velocity component along the axis and :math:`\mu = \eta` for
the others (no cross derivatives), :math:`\bar\rho` the mean of the two cells, and the energy flux
:math:`\tfrac12 \mu_c \bar\rho\, \partial (v_c^2)`. That is, per axis a,

.. math:: \rho\,\partial_t v_c = \partial_a(\mu_{c,a}\, \rho\, \partial_a v_c), \qquad
          \partial_t E = \partial_a \textstyle\sum_c \mu_{c,a}\, \rho\, v_c\, \partial_a v_c,

a kinematic viscosity :math:`\mu` (where :math:`\rho` is smooth, :math:`\partial_t v = \mu \Delta v`).
The released files were made with it; at :math:`\eta = \zeta = 0.1` it diffuses velocity
:math:`\rho` times more than the textbook dynamic viscosity would, so xbench keeps PDEBench's model
(generated files stand in for the released ones).

**Time integration.** PDEBench takes explicit sub-steps of :math:`0.3 \cdot 0.5 \Delta x^2 / \mu`
(about 30 per hydrodynamic step at 1024 cells in 1D). Here each axis sweep is one implicit
:math:`\theta`-step with the density frozen (it does not change in the viscous substep): with
:math:`\bar v = \theta v^{n+1} + (1 - \theta) v^n`, :math:`\rho (v^{n+1} - v^n) = \Delta t\, L \bar v`
becomes the symmetric positive definite periodic tridiagonal system

.. math:: (\rho - \theta \Delta t L)\, \bar v = \rho v^n,

solved by cyclic reduction (:func:`solve_periodic_tridiagonal`). Momentum and energy are then updated
in flux form with the fluxes of :math:`\bar v`: :math:`F = \mu \bar\rho\, \delta \bar v / \Delta x`
and :math:`G = \sum_c F_c (\bar v_{c,i} + \bar v_{c,i+1}) / 2`, so mass, momentum and total energy
are conserved to round-off. Summation by parts gives, per cell, internal energy change = the
dissipation :math:`\tfrac{\Delta t}{2\Delta x}(F_{i-1/2} \delta \bar v_{i-1/2} + F_{i+1/2}
\delta \bar v_{i+1/2}) + (\theta - \tfrac12)\rho (v^{n+1} - v^n)^2 \ge 0`: the kinetic energy
that viscosity removes becomes heat, and the step never lowers a pressure.
"""

from __future__ import annotations

import numpy as np

THETA = 1.0  # backward Euler: L-stable; Crank-Nicolson (0.5) gives the same error against converged references


def _prev(v: np.ndarray) -> np.ndarray:
    """v_{i-1} along axis 0, periodic."""
    return np.concatenate((v[-1:], v[:-1]))


def _next(v: np.ndarray) -> np.ndarray:
    """v_{i+1} along axis 0, periodic."""
    return np.concatenate((v[1:], v[:1]))


def _dense_periodic(b: np.ndarray, e: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Direct solve of a short periodic system along axis 0 (odd length, reached after halvings)."""
    n = b.shape[0]
    m = np.zeros(b.shape[1:] + (n, n), dtype=b.dtype)
    for i in range(n):
        m[..., i, i] += b[i]
        m[..., i, (i + 1) % n] -= e[i]
        m[..., (i + 1) % n, i] -= e[i]
    return np.moveaxis(np.linalg.solve(m, np.moveaxis(d, 0, -1)[..., None])[..., 0], -1, 0)


def solve_periodic_tridiagonal(b: np.ndarray, e: np.ndarray, d: np.ndarray) -> np.ndarray:
    r"""Solve the symmetric periodic system :math:`b_i x_i - e_{i-1} x_{i-1} - e_i x_{i+1} = d_i`
    (indices mod n) along axis 0; :math:`e_i` couples i and i + 1.

    Cyclic reduction: eliminating the odd unknowns from the even equations, with
    :math:`\alpha_i = e_{i-1} / b_{i-1}` and :math:`\beta_i = e_i / b_{i+1}`, leaves the system of the
    same form on the even unknowns, :math:`b'_i = b_i - \alpha_i e_{i-1} - \beta_i e_i`,
    :math:`e'_i = \beta_i e_{i+1}`, :math:`d'_i = d_i + \alpha_i d_{i-1} + \beta_i d_{i+1}`; the odd
    unknowns follow from their own equations. Stable for diagonally dominant systems (here
    :math:`b_i = \rho_i + e_{i-1} + e_i`, :math:`e \ge 0`); about 15 array operations of full size in
    all. An odd remainder is solved directly (n = 2^k m costs an m x m solve per line).
    """
    n = b.shape[0]
    if n % 2:
        return _dense_periodic(b, e, d)
    be, ee, de = b[0::2], e[0::2], d[0::2]
    bo, eo, do = b[1::2], e[1::2], d[1::2]
    eo_m, do_m = _prev(eo), _prev(do)  # e_{i-1}, d_{i-1} of even i
    alpha, beta = eo_m / _prev(bo), ee / bo
    xe = solve_periodic_tridiagonal(be - alpha * eo_m - beta * ee, beta * eo, de + alpha * do_m + beta * do)
    x = np.empty_like(d)
    x[0::2] = xe
    x[1::2] = (do + ee * xe + eo * _next(xe)) / bo
    return x


def viscous_sweep(u: np.ndarray, axis: int, dt: np.ndarray, dx: float, eta: float, zeta: float,
                  theta: float = THETA) -> None:
    """One implicit viscous step along spatial ``axis`` of conserved ``u`` (2 + d, *X, B), in place.

    ``dt`` has one entry per sample (B,). See the module docstring for the equations.
    """
    nv = u.shape[0] - 2
    rho = np.ascontiguousarray(np.moveaxis(u[0], axis, 0))  # (n, ..., B): the sweep axis first
    mom = np.ascontiguousarray(np.moveaxis(u[1:-1], axis + 1, 0))  # (n, nv, ..., B)
    rho = rho[:, None]
    mus = np.array([4.0 * eta / 3.0 + zeta if c == axis else eta for c in range(nv)], dtype=u.dtype)
    w = mus.reshape((nv,) + (1,) * (rho.ndim - 2)) * (0.5 * (rho + _next(rho)))  # mu_c rho_{i+1/2}
    e = (theta / (dx * dx)) * dt * w
    vbar = solve_periodic_tridiagonal(rho + e + _prev(e), e, mom)
    nxt = _next(vbar)
    flux = w * (nxt - vbar) / dx  # F_{i+1/2}
    energy_flux = (flux * (vbar + nxt)).sum(axis=1) * 0.5
    scale = dt / dx
    np.moveaxis(u[1:-1], axis + 1, 0)[...] += scale * (flux - _prev(flux))
    np.moveaxis(u[-1], axis, 0)[...] += scale * (energy_flux - _prev(energy_flux))
