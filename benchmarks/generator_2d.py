"""Accuracy and throughput of xbench's PDEBench 2D generators (a report, not a test).

Run:  python benchmarks/generator_2d.py [--quick]

Darcy (beta = 0.1): grid convergence on a manufactured solution; the discrete residual at 128^2; the
  difference between the steady solution and PDEBench's stored near-steady transient, from an own
  numpy port of PDEBench's explicit march (arithmetic-mean faces, u = 0 ghosts, midpoint
  predictor-corrector, dt = 0.25 * 0.5 dx^2 / max a, started from PDEBench's random 2D field,
  t = 1.75) on a reduced grid; throughput, against PDEBench's cost estimated as (262,144 steps to
  t = 2 at 128^2) x (measured time of one step of the port, vectorised over 16 samples).
Shallow water: the same solver on 2x and 4x finer grids, cell-averaged down (converged reference),
  all on the generator's schedule of 101 save times (at 128^2 that makes one step of CFL ~0.4 per
  save interval, more diffusive than the scheme's CFL 0.9);
  a planar dam break in a slab against the exact Riemann solution; mass drift to t = 1;
  throughput; PDEBench's method (PyClaw's wave propagation: Roe, MC wave limiter, Godunov dimensional
  splitting, CFL 0.9) as a numpy port on the same samples and against the same references; where
  clawpack is installed (it builds with a Fortran compiler), PyClaw itself with PDEBench's
  configuration on the same two samples: its error against the same reference and its time.
2D diffusion-reaction: one 128^2 sample against solve_ivp DOP853 (rtol 1e-10, atol 1e-12) on the
  same semi-discretisation; PDEBench's method (solve_ivp RK45, default tolerances) on that sample,
  its error and its time, i.e. the speed-up of ETDRK4 at equal or better accuracy.
Errors are relative L2 (||u - ref|| / ||ref||) unless stated. All timings single process.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time

import numpy as np
import scipy.sparse as sp
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from xbench.tasks.pdebench.generate import darcy, diffreact2d, swe

ROWS: list[tuple[str, str, str]] = []  # (generator, check, result)
THROUGHPUT: list[tuple[str, float, float | None, str]] = []  # (case, ours, PDEBench's, how compared)


def rel(u: np.ndarray, ref: np.ndarray) -> float:
    return float(np.linalg.norm(u - ref) / np.linalg.norm(ref))


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


# ------------------------------------------------------------------ Darcy
def pdebench_random_field(rng: np.random.Generator, count: int, n: int) -> np.ndarray:
    """Port of PDEBench's init_multi_2DRand: u0 + delu * f / mean|f| with an optional tanh window."""
    xc = (np.arange(n) + 0.5) / n
    u0 = rng.uniform(0.1, 10.0, (count, 1, 1))
    delu = rng.uniform(0.01, 0.5, (count, 1, 1))
    f = np.zeros((count, n, n))
    for i in range(-4, 5):
        for j in range(-4, 5):
            if i * j == 0:
                continue
            k = 2 * np.pi * np.array([i, j])
            phase = rng.uniform(0, 2 * np.pi, (count, 1, 1))
            f += np.sin(k[0] * xc[:, None] + k[1] * xc[None, :] + phase) / math.sqrt(math.hypot(*k))
    u = u0 + delu * f / np.abs(f).mean(axis=(1, 2), keepdims=True)
    win = rng.random(count) < 0.5
    lo, hi = rng.uniform(0.1, 0.45, (2, count)), rng.uniform(0.55, 0.9, (2, count))
    wx = 0.5 * (np.tanh((xc - lo[0][:, None]) / 0.01) - np.tanh((xc - hi[0][:, None]) / 0.01))
    wy = 0.5 * (np.tanh((xc - lo[1][:, None]) / 0.01) - np.tanh((xc - hi[1][:, None]) / 0.01))
    mask = np.where(win[:, None, None], wx[:, :, None] * wy[:, None, :], 1.0)
    return u * mask + u0 * (1 - mask)


def pdebench_darcy_step(u: np.ndarray, a: np.ndarray, beta: float, dt: float) -> np.ndarray:
    """One midpoint predictor-corrector step of u_t = div(a grad u) + beta, u = 0 ghosts (own port)."""
    n = u.shape[-1]
    ap = np.pad(a, ((0, 0), (1, 1), (1, 1)), mode="edge")
    fx, fy = 0.5 * (ap[:, 1:, 1:-1] + ap[:, :-1, 1:-1]), 0.5 * (ap[:, 1:-1, 1:] + ap[:, 1:-1, :-1])

    def rhs(w):
        wp = np.pad(w, ((0, 0), (1, 1), (1, 1)))
        gx, gy = fx * np.diff(wp[:, :, 1:-1], axis=1), fy * np.diff(wp[:, 1:-1, :], axis=2)
        return n * n * (np.diff(gx, axis=1) + np.diff(gy, axis=2)) + beta

    return u + dt * rhs(u + 0.5 * dt * rhs(u))


def darcy_rows(n_march: int, n_samples: int, n_throughput: int) -> None:
    errors = {n: manufactured_darcy(n) for n in (32, 64, 128, 256)}
    ns = sorted(errors)
    for a, b in zip(ns, ns[1:]):
        ROWS.append(("darcy", f"manufactured solution, {b}^2 (max error)",
                     f"{errors[b]:.2e} (order {math.log2(errors[a] / errors[b]):.2f})"))
    rng = np.random.default_rng([7, 0])
    a = darcy.coefficient_fields(rng, 4, 128)
    u = darcy.solve_darcy(a, 0.1)
    res = max(np.abs(darcy.darcy_matrix(a[b]) @ u[b].ravel() - 0.1).max() for b in range(4)) / 0.1
    ROWS.append(("darcy", "discrete residual max|Au - beta| / beta, 128^2", f"{res:.1e}"))

    a = darcy.coefficient_fields(rng, n_samples, n_march)
    steady = darcy.solve_darcy(a, 0.1)
    u = pdebench_random_field(rng, n_samples, n_march)
    dt_max = 0.25 * 0.5 / n_march**2
    for t_end in (1.75, 3.5):
        steps = math.ceil((t_end - (0 if t_end == 1.75 else 1.75)) / dt_max)
        dt = (t_end - (0 if t_end == 1.75 else 1.75)) / steps
        for _ in range(steps):
            u = pdebench_darcy_step(u, a, 0.1, dt)
        diff = np.linalg.norm((u - steady).reshape(n_samples, -1), axis=1) / np.linalg.norm(
            steady.reshape(n_samples, -1), axis=1)
        ROWS.append(("darcy", f"PDEBench transient (own port, {n_march}^2) at t={t_end} vs steady, {n_samples} "
                     "samples", f"median {np.median(diff):.1e}, max {diff.max():.1e}"))

    _, sec = timed(lambda: darcy.solve_darcy(darcy.coefficient_fields(np.random.default_rng([8, 0]),
                                                                       n_throughput, 128), 0.1))
    ours = n_throughput / sec
    u, a16 = pdebench_random_field(rng, 16, 128), darcy.coefficient_fields(rng, 16, 128)
    _, step = timed(lambda: [pdebench_darcy_step(u, a16, 0.1, 1e-6) for _ in range(5)])
    theirs = 1.0 / (262_144 * step / 5 / 16)
    THROUGHPUT.append(("darcy 128^2", ours, theirs, "PDEBench explicit march: 262,144 steps x measured "
                       "step time of an own numpy port (16-sample batch)"))


def manufactured_darcy(n: int) -> float:
    """Max error for u = sin^2(pi x) sin^2(pi y), a = 1 + sin(2 pi x) cos(pi y) / 2 (as the tests)."""
    pi = np.pi
    xc = (np.arange(n) + 0.5) / n
    x, y = np.meshgrid(xc, xc, indexing="ij")
    a = 1 + 0.5 * np.sin(2 * pi * x) * np.cos(pi * y)
    ax, ay = pi * np.cos(2 * pi * x) * np.cos(pi * y), -0.5 * pi * np.sin(2 * pi * x) * np.sin(pi * y)
    sx, sy = np.sin(pi * x), np.sin(pi * y)
    lap = 2 * pi**2 * (np.cos(2 * pi * x) * sy**2 + np.cos(2 * pi * y) * sx**2)
    f = -(ax * pi * np.sin(2 * pi * x) * sy**2 + ay * pi * np.sin(2 * pi * y) * sx**2 + a * lap)
    return float(np.abs(darcy.solve_darcy(a[None], f[None])[0] - sx**2 * sy**2).max())

# ------------------------------------------------------------------ shallow water
def swe_exact_riemann(h_l: float, h_r: float, xi: np.ndarray, g: float = 1.0) -> np.ndarray:
    """Depth of the exact solution of the shallow-water Riemann problem at rest (u_L = u_R = 0) at x/t = xi.

    Star depth from f_L(h) + f_R(h) = 0, f_K = 2(c - c_K) for h <= h_K (rarefaction), else
    (h - h_K) sqrt(g (h + h_K) / (2 h h_K)) (shock); Toro (2001), ch. 5.
    """
    def f(h, hk):
        return 2 * (math.sqrt(g * h) - math.sqrt(g * hk)) if h <= hk else (h - hk) * math.sqrt(
            0.5 * g * (h + hk) / (h * hk))

    hs = brentq(lambda h: f(h, h_l) + f(h, h_r), 1e-12, 10 * max(h_l, h_r), xtol=1e-15)
    us = 0.5 * (f(hs, h_r) - f(hs, h_l))  # u* = (u_L + u_R)/2 + (f_R - f_L)/2 with u_L = u_R = 0
    c_l, c_r, cs = math.sqrt(g * h_l), math.sqrt(g * h_r), math.sqrt(g * hs)
    h = np.full_like(xi, hs)
    if hs <= h_l:  # left rarefaction
        fan = (xi > -c_l) & (xi < us - cs)
        h[xi <= -c_l] = h_l
        h[fan] = ((2 * c_l - xi[fan]) / 3) ** 2 / g
    else:
        h[xi < -c_l * math.sqrt(0.5 * hs / h_l * (hs / h_l + 1))] = h_l
    if hs <= h_r:  # right rarefaction
        fan = (xi < c_r) & (xi > us + cs)
        h[xi >= c_r] = h_r
        h[fan] = ((2 * c_r + xi[fan]) / 3) ** 2 / g
    else:
        h[xi > c_r * math.sqrt(0.5 * hs / h_r * (hs / h_r + 1))] = h_r
    return h


def pyclaw_dam_break(radius: float, n: int, t_save: np.ndarray) -> np.ndarray:
    """PDEBench's SWE solver configuration (spec §3.7) in PyClaw: Roe with entropy fix, MC limiter,
    3 waves, extrapolation boundaries, g = 1, PyClaw's defaults otherwise (dimensional splitting,
    CFL 0.9); h, u, v, hu, hv are read out as lists at every save time, as PDEBench's scenario does."""
    cwd = os.getcwd()
    os.chdir(tempfile.gettempdir())  # PyClaw opens pyclaw.log in the working directory on import
    try:
        from clawpack import pyclaw, riemann
    finally:
        os.chdir(cwd)
    solver = pyclaw.ClawSolver2D(riemann.shallow_roe_with_efix_2D)
    solver.limiters = pyclaw.limiters.tvd.MC
    solver.num_waves, solver.num_eqn = 3, 3
    solver.bc_lower[0] = solver.bc_upper[0] = solver.bc_lower[1] = solver.bc_upper[1] = pyclaw.BC.extrap
    domain = pyclaw.Domain([pyclaw.Dimension(-2.5, 2.5, n, name="x"), pyclaw.Dimension(-2.5, 2.5, n, name="y")])
    state = pyclaw.State(domain, 3)
    state.problem_data["grav"] = 1.0
    x, y = state.p_centers
    state.q[0] = np.where(np.hypot(x, y) <= radius, 2.0, 1.0)
    state.q[1:] = 0.0
    solution = pyclaw.Solution(state, domain)
    frames = [state.q[0].copy()]
    for tj in t_save[1:]:
        solver.evolve_to_time(solution, float(tj))
        q = solution.state.q
        _ = [q[0].tolist(), (q[1] / q[0]).tolist(), (q[2] / q[0]).tolist(), q[1].tolist(), q[2].tolist()]
        frames.append(q[0].copy())
    return np.array(frames)


def claw_sweep(q: np.ndarray, lam: float, g: float = 1.0) -> None:
    """PyClaw's 1D wave-propagation step (numpy port) along axis 2 of q (n, 3, nx, ny), in place:
    Roe solver (averages h = (hL + hR)/2, sqrt(h)-weighted velocities), fluctuations A+-dQ, and the
    second-order correction 1/2 |s| (1 - lam |s|) phi(theta) W with the MC limiter on each wave against
    the upwind interface's wave of its family (LeVeque, Finite Volume Methods, 2002, §6.13, §15.3).
    Harten-Hyman's entropy fix is left out: the radial dam break has no transonic rarefaction."""
    qp = np.pad(q, ((0, 0), (0, 0), (2, 2), (0, 0)), mode="edge")
    ql, qr = qp[:, :, :-1], qp[:, :, 1:]
    hl, hr = ql[:, 0], qr[:, 0]
    sl, sr = np.sqrt(hl), np.sqrt(hr)
    u = (ql[:, 1] / sl + qr[:, 1] / sr) / (sl + sr)
    v = (ql[:, 2] / sl + qr[:, 2] / sr) / (sl + sr)
    c = np.sqrt(g * 0.5 * (hl + hr))
    d = qr - ql
    alpha = [((u + c) * d[:, 0] - d[:, 1]) / (2 * c), d[:, 2] - v * d[:, 0], (d[:, 1] - (u - c) * d[:, 0]) / (2 * c)]
    one, zero = np.ones_like(u), np.zeros_like(u)
    vectors = [np.stack([one, u - c, v], 1), np.stack([zero, zero, one], 1), np.stack([one, u + c, v], 1)]
    waves = np.stack([a[:, None] * r for a, r in zip(alpha, vectors)])  # (wave, n, 3, interface, ny)
    speeds = np.stack([u - c, u, u + c])
    apdq = (np.maximum(speeds, 0)[:, :, None] * waves).sum(0)
    amdq = (np.minimum(speeds, 0)[:, :, None] * waves).sum(0)
    norm2 = (waves * waves).sum(2)[..., 1:-1, :]
    upwind = np.where(speeds[..., 1:-1, :] > 0, (waves[..., :-2, :] * waves[..., 1:-1, :]).sum(2),
                      (waves[..., 2:, :] * waves[..., 1:-1, :]).sum(2))
    theta = np.divide(upwind, norm2, out=np.zeros_like(upwind), where=norm2 > 0)
    phi = np.maximum(0.0, np.minimum(np.minimum((1 + theta) / 2, 2.0), 2 * theta))
    s = np.abs(speeds[..., 1:-1, :])
    corr = 0.5 * ((s * (1 - lam * s) * phi)[:, :, None] * waves[..., 1:-1, :]).sum(0)
    q -= lam * (apdq[..., 1:-2, :] + amdq[..., 2:-1, :] + corr[..., 1:, :] - corr[..., :-1, :])


def claw_solve(q0: np.ndarray, dx: float, dy: float, t_save: np.ndarray, g: float = 1.0,
               cfl: float = 0.9) -> np.ndarray:
    """PDEBench's SWE method as PyClaw runs it (ClawSolver2D defaults: Godunov dimensional splitting,
    x then y every step, CFL 0.9, steps shortened to land on the save times), on the numpy port above.
    Returns h at ``t_save``."""
    swap = lambda a: np.ascontiguousarray(a[:, [0, 2, 1]].transpose(0, 1, 3, 2))  # noqa: E731
    q = np.array(q0, dtype=np.float64)
    out = np.empty((q.shape[0], len(t_save)) + q.shape[2:], np.float32)
    out[:, 0] = q[:, 0]
    t = float(t_save[0])
    for j in range(1, len(t_save)):
        while t < t_save[j]:
            dt = min(cfl * min(dx, dy) / swe.max_speed(q, g), float(t_save[j]) - t)
            claw_sweep(q, dt / dx, g)
            q = swap(q)
            claw_sweep(q, dt / dy, g)
            q = swap(q)
            t = float(t_save[j]) if t_save[j] - t - dt < 1e-12 else t + dt
        out[:, j] = q[:, 0]
    return out


def swe_rows(fine: int, n_throughput: int) -> None:
    t = np.linspace(0.0, 1.0, 101)
    radii = np.array([0.3, 0.7])
    sols = {}
    for f in (1, 2, fine):  # on the generator's own schedule: its steps land on all 101 save times
        n = 128 * f
        xc = -2.5 + (np.arange(n) + 0.5) * 5 / n
        h = swe.solve_swe(swe.dam_break_initial(radii, xc, xc), 5 / n, 5 / n, t)[:, [0, 50, 100]]
        sols[f] = h.reshape(2, 3, 128, f, 128, f).mean(axis=(3, 5))
    for f in sorted({1, 2} - {fine}):
        for j, tj in ((1, 0.5), (2, 1.0)):
            ROWS.append(("shallow water", f"{128 * f}^2 vs {128 * fine}^2 (cell-averaged), t={tj}, R=0.3/0.7",
                         f"{rel(sols[f][:, j], sols[fine][:, j]):.2e}"))
    xc = -2.5 + (np.arange(128) + 0.5) * 5 / 128
    port = claw_solve(swe.dam_break_initial(radii, xc, xc), 5 / 128, 5 / 128, t)
    for j, tj in ((50, 0.5), (100, 1.0)):
        ROWS.append(("shallow water", f"PDEBench's method (PyClaw, numpy port) 128^2 vs {128 * fine}^2, t={tj}, "
                     "R=0.3/0.7", f"{rel(port[:, j], sols[fine][:, j // 50]):.2e}"))
    try:
        claw, sec_claw = timed(lambda: np.stack([pyclaw_dam_break(r, 128, t) for r in radii]))
    except ImportError:
        claw, sec_claw = None, None
    if claw is not None:
        for j, tj in ((50, 0.5), (100, 1.0)):
            ROWS.append(("shallow water", f"PyClaw (PDEBench's solver) 128^2 vs {128 * fine}^2, t={tj}, R=0.3/0.7",
                         f"{rel(claw[:, j], sols[fine][:, j // 50]):.2e}"))
    for n in (128, 512):
        dx = 5 / n
        xc = -2.5 + (np.arange(n) + 0.5) * dx
        q = np.zeros((1, 3, n, 4))
        q[:, 0] = np.where(xc < 0, 2.0, 1.0)[:, None]
        t_planar = np.linspace(0.0, 1.0, 101)  # the generator's save interval
        h = swe.solve_swe(q, dx, 5 / 4, t_planar, dtype=np.float64)[0, -1, :, 1]
        hp = claw_solve(q, dx, 5 / 4, t_planar)[0, -1, :, 1]
        sub = xc[:, None] + dx * (np.arange(16) + 0.5)[None, :] / 16 - dx / 2
        exact = swe_exact_riemann(2.0, 1.0, sub.ravel()).reshape(n, 16).mean(axis=1)
        l1 = lambda a: np.abs(a - exact).sum() / np.abs(exact).sum()  # noqa: E731
        ROWS.append(("shallow water", f"planar dam break 2|1 at t=1 (101 frames), {n} cells vs exact Riemann (L1 "
                     "rel.): xbench / PyClaw's method (port)", f"{l1(h):.2e} / {l1(hp):.2e}"))
    xc = -2.5 + (np.arange(128) + 0.5) * 5 / 128
    q0 = swe.dam_break_initial(np.array([0.7]), xc, xc)
    h = swe.solve_swe(q0, 5 / 128, 5 / 128, t, dtype=np.float64).astype(np.float64)
    mass = h.sum(axis=(2, 3))
    ROWS.append(("shallow water", "mass drift to t=1, R=0.7 (float32 output)",
                 f"{np.abs(mass / mass[:, :1] - 1).max():.1e}"))
    radii = np.random.default_rng(0).uniform(0.3, 0.7, n_throughput)
    _, sec = timed(lambda: swe.solve_swe(swe.dam_break_initial(radii, xc, xc), 5 / 128, 5 / 128, t))
    if claw is None:
        THROUGHPUT.append(("shallow water 128^2, 101 frames", n_throughput / sec, None,
                           "PyClaw not installed (it needs a Fortran compiler): not compared"))
    else:
        THROUGHPUT.append(("shallow water 128^2, 101 frames", n_throughput / sec, len(claw) / sec_claw,
                           "PDEBench's solver run here: PyClaw with its configuration, 2 samples"))


# ------------------------------------------------------------------ 2D diffusion-reaction
def fv_neumann_laplacian(n: int, d: float) -> sp.csr_matrix:
    """PDEBench's semi-discretisation: 5-point FV Laplacian, boundary rows without the missing neighbour."""
    main = -2.0 * np.ones(n)
    main[[0, -1]] = -1.0
    l1 = sp.diags([main, np.ones(n - 1), np.ones(n - 1)], [0, -1, 1]) / d**2
    return (sp.kron(sp.identity(n), l1) + sp.kron(l1, sp.identity(n))).tocsr()


def diffreact_rows(n_throughput: int) -> None:
    n, d = 128, 2 / 128
    lap = fv_neumann_laplacian(n, d)
    t = np.linspace(0.0, 5.0, 101)
    rng = np.random.default_rng([3, 0])
    w0 = rng.standard_normal((1, 2, n, n))

    def rhs(_, y):
        u, v = y[: n * n], y[n * n:]
        return np.concatenate([u - u**3 - diffreact2d.K - v + diffreact2d.DU * (lap @ u),
                               u - v + diffreact2d.DV * (lap @ v)])

    y0 = w0.reshape(-1)
    ref = solve_ivp(rhs, (0, 5), y0, method="DOP853", rtol=1e-10, atol=1e-12, t_eval=t).y.T.reshape(101, 2, n, n)
    rk45, sec_rk45 = timed(lambda: solve_ivp(rhs, (0, 5), y0, t_eval=t).y.T.reshape(101, 2, n, n))
    ours = diffreact2d.solve_etdrk4(w0, *diffreact2d.fitzhugh_nagumo(n, n, d, d), t)[0]
    for name, sol in (("ETDRK4 (xbench, float32)", ours), ("solve_ivp RK45 defaults (PDEBench)", rk45)):
        errs = [rel(sol[j], ref[j]) for j in range(1, 101)]
        ROWS.append(("diff-react 2D", f"{name} vs DOP853 rtol 1e-10, 128^2",
                     f"max over frames {max(errs):.1e}, t=5 {errs[-1]:.1e}"))
    w0 = rng.standard_normal((n_throughput, 2, n, n))
    _, sec = timed(lambda: diffreact2d.solve_etdrk4(w0, *diffreact2d.fitzhugh_nagumo(n, n, d, d), t))
    THROUGHPUT.append(("diff-react 2D 128^2, 101 frames", n_throughput / sec, 1 / sec_rk45,
                       "PDEBench's method run here: solve_ivp RK45 on the same FV semi-discretisation, 1 sample"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller references and fewer samples (~1 minute)")
    args = ap.parse_args()
    q = args.quick
    darcy_rows(n_march=16 if q else 32, n_samples=8 if q else 16, n_throughput=8 if q else 40)
    swe_rows(fine=2 if q else 4, n_throughput=4 if q else 8)
    diffreact_rows(n_throughput=2 if q else 8)
    print("| generator | check | result |\n|---|---|---|")
    for row in ROWS:
        print("| " + " | ".join(row) + " |")
    print("\n| generator | xbench samples/s | PDEBench samples/s | speed-up | how PDEBench's cost was obtained |")
    print("|---|---|---|---|---|")
    for case, ours, theirs, how in THROUGHPUT:
        other = f"{theirs:.3g}" if theirs else "n/a"
        speed = f"{ours / theirs:.1f}x" if theirs else "n/a"
        print(f"| {case} | {ours:.3g} | {other} | {speed} | {how} |")


if __name__ == "__main__":
    main()
