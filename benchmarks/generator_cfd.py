"""Accuracy, conservation and throughput of xbench's compressible Navier-Stokes generator (a report, not a test).

Run:  python benchmarks/generator_cfd.py [--quick]

1. Inviscid core: Sod's shock tube (Gamma = 5/3) on the periodic [-1, 1] (the reversed tube at x = +-1 is
   far away) against the exact Riemann solution, t = 0.15, L1 errors on |x| < 0.5, 256..1024 cells.
2. Accuracy at the spec's resolutions (1D: 1024 cells, eta = zeta = 0.1, PDEBench's "1D_rand" initial
   conditions; 2D: 128^2, M = 1, "2D_rand"), to t = 1 (ORCA's target frame; 0.2 with --quick): relative L2
   errors of density, velocity and pressure against the same solver on a 4x (1D; 2x with --quick) or 2x
   (2D) finer grid at CFL 0.15 in float64, averaged back onto the coarse cells. The fine grid starts from
   the coarse cell values (each coarse cell copied into its fine cells), so both solve one problem.
   Compared: xbench's generator as it writes files (float32) and an own numpy port of PDEBench's scheme
   (MUSCL-MC + HLLC on the same kernels, two-stage midpoint predictor-corrector at CFL 0.3, then explicit
   dimension-split viscous sub-steps of 0.3 * 0.5 dx^2 / (4 eta / 3 + zeta), float32, every sample of the
   batch stepped until the slowest is done as PDEBench's vmapped JAX loop does), both run in full on the
   same batch, so their wall times compare directly.
3. Conservation: drift of total mass, momentum and energy over the runs of section 2, relative to the
   total of |values|.
4. Throughput at the spec's resolution (1D: 1024 cells x 101 frames, a generator chunk of 32 samples;
   2D: 128^2 x 21 frames, a chunk of 8; --quick: 8 and 2) and the speed-up over PDEBench's scheme,
   estimated as (hydro steps of the batch's slowest sample) x (time of one port step on the batch) +
   (t / dt_vis + hydro steps) x (time of one port viscous sub-step on the batch), with the port's step
   times measured on the same batch. All timings are single process, wall clock.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from xbench.tasks.pdebench.generate import cfd, cfd_hydro, cfd_ic, riemann
from xbench.tasks.pdebench.generate.cfd_hydro import GAMMA, apply_pressure_floor, hllc_flux, mc_half_slopes, shift

ETA = ZETA = 0.1


# ------------------------------------------------------------------ PDEBench's scheme (own numpy port)
def pdebench_rhs(u: np.ndarray, dx: tuple[float, ...]) -> np.ndarray:
    """-sum_a dF_a/dx_a with MUSCL-MC face values (no predictor) and HLLC; u (2 + d, *X, B)."""
    w = cfd_hydro.primitives(u)
    out = np.zeros_like(u)
    for a, h in enumerate(dx):
        half = mc_half_slopes(w, a + 1)
        flux = hllc_flux(shift(w + half, a + 1, -1), w - half, 1 + a)
        out -= (shift(flux, a + 1, 1) - flux) / h
    return out


def pdebench_viscous_substep(u: np.ndarray, dt: np.ndarray, dx: tuple[float, ...]) -> None:
    """PDEBench's explicit viscous update, x sweep then y sweep: fluxes mu_c rho_face dv_c/dx (in place)."""
    for a, h in enumerate(dx):
        ax = a + 1
        rho = u[0]
        rho_face = 0.5 * (rho + shift(rho, ax - 1, 1))
        v = u[1:-1] / rho
        dv = shift(v, ax, 1) - v
        energy_flux = 0.0
        for c in range(len(dx)):
            mu = 4 * ETA / 3 + ZETA if c == a else ETA
            flux = mu * rho_face * dv[c] / h
            energy_flux = energy_flux + 0.5 * flux * (shift(v[c], ax - 1, 1) + v[c])
            u[1 + c] += dt / h * (flux - shift(flux, ax - 1, -1))
        u[-1] += dt / h * (energy_flux - shift(energy_flux, ax - 1, -1))


def pdebench_step(u: np.ndarray, dt: np.ndarray, dx: tuple[float, ...]) -> np.ndarray:
    half = u + 0.5 * dt * pdebench_rhs(u, dx)
    apply_pressure_floor(half)
    out = u + dt * pdebench_rhs(half, dx)
    apply_pressure_floor(out)
    return out


def pdebench_advance(u: np.ndarray, interval: float, dx: tuple[float, ...]) -> tuple[np.ndarray, int, int]:
    """PDEBench's loop over one save interval; u (2 + d, *X, B). Returns (u, hydro steps, viscous sub-steps)."""
    dt_vis = 0.3 * 0.5 * min(dx) ** 2 / (4 * ETA / 3 + ZETA)
    left = np.full(u.shape[-1], interval)
    hydro = visc = 0
    while (left > 1e-9).any():
        dt = np.where(left > 1e-9, np.minimum(cfd_hydro.stable_dt(u, dx, 0.3), left), 0.0)
        u = pdebench_step(u, dt.astype(u.dtype), dx)
        hydro += 1
        done = np.zeros_like(dt)
        while (dt - done > 1e-9).any():
            sub = np.minimum(dt_vis, dt - done)
            pdebench_viscous_substep(u, sub.astype(u.dtype), dx)
            done += sub
            visc += 1
        left -= dt
    return u, hydro, visc


# ------------------------------------------------------------------ helpers
def rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def refine(u: np.ndarray, f: int) -> np.ndarray:
    """Copy each coarse cell into f^d fine cells; u (vars, B, *X)."""
    for ax in range(2, u.ndim):
        u = np.repeat(u, f, axis=ax)
    return u


def coarsen(u: np.ndarray, f: int) -> np.ndarray:
    """Average f^d fine cells into one; u (vars, B, *X)."""
    for ax in range(2, u.ndim):
        shape = u.shape[:ax] + (u.shape[ax] // f, f) + u.shape[ax + 1:]
        u = u.reshape(shape).mean(axis=ax + 1)
    return u


def field_errors(u: np.ndarray, ref: np.ndarray) -> list[float]:
    """Relative L2 errors of density, velocity (all components) and pressure."""
    w, r = cfd_hydro.primitives(u.astype(np.float64)), cfd_hydro.primitives(ref)
    return [rel(w[0], r[0]), rel(w[1:-1], r[1:-1]), rel(w[-1], r[-1])]


def drift(u1: np.ndarray, u0: np.ndarray) -> float:
    axes = tuple(range(1, u0.ndim))
    return float((np.abs(u1.astype(np.float64).sum(axis=axes) - u0.sum(axis=axes)) / np.abs(u0).sum(axis=axes)).max())


def initial(dim: int, n: int, count: int, seed: int) -> tuple[np.ndarray, tuple[float, ...]]:
    rng = np.random.default_rng([seed, 0])
    if dim == 1:
        dx = 2.0 / n
        return cfd_ic.init_1d_rand(rng, -1.0 + (np.arange(n) + 0.5) * dx, count), (dx,)
    dx = 1.0 / n
    x = (np.arange(n) + 0.5) * dx
    return cfd_ic.init_2d_rand(rng, x, x, count, 1.0), (dx, dx)


# ------------------------------------------------------------------ sections
def sod() -> None:
    print("\n1. Sod's shock tube vs the exact Riemann solution (t = 0.15, inviscid), L1 error on |x| < 0.5")
    print(f"{'cells':>6} {'density':>9} {'velocity':>9} {'pressure':>9}")
    left, right = (1.0, 0.0, 1.0), (0.125, 0.0, 0.1)
    for n in (256, 512, 1024):
        dx = 2.0 / n
        x = -1.0 + (np.arange(n) + 0.5) * dx
        w = np.stack([np.where(x < 0, 1.0, 0.125), np.zeros(n), np.where(x < 0, 1.0, 0.1)])[:, None]
        u, _ = cfd.advance(cfd_hydro.conserved(w), 0.15, (dx,), 0.0, 0.0)
        exact = riemann.exact_riemann(left, right, x / 0.15, GAMMA)
        inner = np.abs(x) < 0.5
        err = np.abs(cfd_hydro.primitives(u)[:, 0, inner] - exact[:, inner]).mean(axis=1)
        print(f"{n:>6} " + " ".join(f"{e:9.2e}" for e in err))


def accuracy(dim: int, n: int, count: int, t_final: float, factor: int) -> None:
    w0, dx = initial(dim, n, count, seed=7)
    u0 = cfd_hydro.conserved(w0)
    fine_dx = tuple(h / factor for h in dx)
    t0 = time.perf_counter()
    ref, _ = cfd.advance(refine(u0, factor), t_final, fine_dx, ETA, ZETA, cfl=0.15)
    t_ref = time.perf_counter() - t0
    ref_c = coarsen(ref, factor)
    t0 = time.perf_counter()
    ours, steps = cfd.advance(u0.astype(np.float32), t_final, dx, ETA, ZETA)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    port, hydro, visc = pdebench_advance(np.ascontiguousarray(np.moveaxis(u0, 1, -1)).astype(np.float32), t_final, dx)
    t_port = time.perf_counter() - t0
    port = np.moveaxis(port, -1, 1)
    grid = "x".join([str(n)] * dim)
    print(f"\n2. {dim}D, {grid} cells, {count} samples, t = {t_final:g}: relative L2 error against {factor}x finer "
          f"(CFL 0.15, float64, {t_ref:.0f} s)")
    print(f"{'scheme':<34} {'density':>9} {'velocity':>9} {'pressure':>9} {'time (s)':>9}  steps")
    print(f"{'xbench (float32, as generated)':<34} " + " ".join(f"{e:9.2e}" for e in field_errors(ours, ref_c))
          + f" {t_ours:9.1f}  {steps.mean():.0f} per sample (max {steps.max()})")
    print(f"{'PDEBench scheme port (float32)':<34} " + " ".join(f"{e:9.2e}" for e in field_errors(port, ref_c))
          + f" {t_port:9.1f}  {hydro} hydro + {visc} viscous per batch")
    if factor >= 4:  # grid convergence of the generator: the same scheme at 2x resolution
        half_dx = tuple(h / 2 for h in dx)
        mid, _ = cfd.advance(refine(u0, 2), t_final, half_dx, ETA, ZETA)
        print(f"{'xbench at 2x resolution (float64)':<34} "
              + " ".join(f"{e:9.2e}" for e in field_errors(coarsen(mid, 2), ref_c)))
    print(f"   measured speed-up on this batch: {t_port / t_ours:.1f}x")
    print(f"3. conservation ({dim}D): relative drift of mass/momentum/energy totals: xbench float32 "
          f"{drift(ours, u0):.1e}, reference float64 {drift(ref, refine(u0, factor)):.1e}, "
          f"port float32 {drift(port, u0):.1e}")


def throughput(dim: int, n: int, count: int, n_frames: int) -> None:
    w0, dx = initial(dim, n, count, seed=11)
    t_save = np.linspace(0.0, 1.0, n_frames)
    u = cfd_hydro.conserved(w0).astype(np.float32)
    t0 = time.perf_counter()
    per_frame = []
    for j in range(1, n_frames):
        u, steps = cfd.advance(u, float(t_save[j] - t_save[j - 1]), dx, ETA, ZETA)
        per_frame.append(steps)
    t_ours = time.perf_counter() - t0
    steps = np.array(per_frame)  # (frames, samples)
    batch = np.ascontiguousarray(np.moveaxis(cfd_hydro.conserved(w0), 1, -1)).astype(np.float32)
    dt = cfd_hydro.stable_dt(batch, dx, 0.3).astype(np.float32)
    probe = 20
    t0 = time.perf_counter()
    for _ in range(probe):
        batch = pdebench_step(batch, dt, dx)
    t_step = (time.perf_counter() - t0) / probe
    t0 = time.perf_counter()
    for _ in range(5 * probe):
        pdebench_viscous_substep(batch, np.full_like(dt, 1e-7), dx)
    t_sub = (time.perf_counter() - t0) / (5 * probe)
    hydro = int(steps.max(axis=1).sum())
    visc = math.ceil(1.0 / (0.3 * 0.5 * min(dx) ** 2 / (4 * ETA / 3 + ZETA))) + hydro
    t_port = hydro * t_step + visc * t_sub
    grid = "x".join([str(n)] * dim)
    print(f"{dim}D {grid} x {n_frames} frames, {count} samples | xbench {count / t_ours:7.3f} samples/s "
          f"({t_ours:6.1f} s; {steps.sum(axis=0).mean():.0f} steps per sample) | PDEBench scheme (port, est.) "
          f"{count / t_port:7.3f} samples/s ({hydro} hydro steps x {t_step * 1e3:.1f} ms + {visc} viscous "
          f"sub-steps x {t_sub * 1e3:.2f} ms) | speed-up {t_port / t_ours:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples, t = 0.2, coarser references")
    args = parser.parse_args()
    quick = args.quick
    print("Compressible Navier-Stokes generator (eta = zeta = 0.1, PDEBench's viscous model)")
    sod()
    accuracy(1, 1024, 2 if quick else 4, 0.2 if quick else 1.0, 2 if quick else 4)
    accuracy(2, 128, 1, 0.2 if quick else 1.0, 2)
    print("\n4. Throughput at the spec's resolution (t = 1)")
    throughput(1, 1024, 8 if quick else 32, 101)
    throughput(2, 128, 2 if quick else 8, 21)


if __name__ == "__main__":
    main()
