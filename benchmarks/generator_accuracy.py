"""Accuracy and throughput of xbench's PDEBench 1D generators (a report, not a test).

Run:  python benchmarks/generator_accuracy.py [--quick] [--full]

Errors are relative L2 over all samples, ||u - ref||_2 / ||ref||_2, at the times named.
Advection and Burgers are solved on their real schedule (201 frames, steps fitted to each 0.01).
1. Advection (beta = 0.4) at t = 2 against the exact solution u0((x - beta t) mod 1). xbench runs
   PDEBench's scheme itself (see fv1d's docstring), so its error is PDEBench's.
2. Burgers nu = 1.0 at t = 0.05, 0.2, 2 against an independent pseudo-spectral solution
   (integrating-factor RK4, 2/3 de-aliasing, dt 1e-5 to 1e-4); also u minus its mean. PDEBench's
   scheme (numpy port, float32) against the same reference at t = 0.05 (134,000 explicit steps).
3. Burgers nu = 0.001 at t = 0.5 and 2 against xbench's solver on a 4x finer grid (float64, steps
   a quarter of the default; Fourier-split path there, i.e. not the scheme under test), cell-averaged
   to 1024 cells (8 samples; this reference agrees with an 8x finer one to 6e-5 at t = 0.5).
   PDEBench's scheme (numpy port: midpoint predictor-corrector, diffusion explicit in the flux,
   dt = 0.25 min(dx/max|u|, dx^2/(2 kappa))) against the same reference.
4. Diffusion-reaction (nu = 0.5, rho = 1) at t = 0.01, 0.29, 1 against an integrating-factor RK4
   spectral solution (dt 2.5e-4; converged to 1e-9). PDEBench's step on constant states in float32
   (its JAX default precision) over one save interval (41,944 steps of 2.4e-7), against the exact
   logistic curve: the reaction increment per step is about one float32 ulp, so states above about
   0.4 do not move at all.
5. Diffusion-sorption at t = 5 .. 500 against Radau (rtol 1e-10, atol 1e-12) on the same
   semi-discretisation (2 samples). PDEBench's method (solve_ivp RK45, rtol 1e-3, atol 1e-6) on one
   sample: its time over t in [0, 25] (its steps are stability-limited, so cost grows linearly with
   t), and with --full its error over the whole run (minutes).
Throughput: samples/s at the spec's resolution (1024 cells; 201 frames for Advection/Burgers, 101
for the others), one chunk of 64 (32 for diffusion-sorption) vectorised. PDEBench's cost is
estimated with a numpy port of its explicit step (float32, xbench's kernels, so per step about 2x
faster than PDEBench's JAX code on this CPU, spec §11): the time of a few hundred steps on 64
samples times PDEBench's step count (dt = CFL * stable step, recomputed from each frame's max|u|
for Burgers); for diffusion-sorption, RK45 on one sample, extrapolated from t = 25 to 500.
--quick skips the costly references (Burgers nu=0.001 fine grid, Radau).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy.integrate import solve_ivp
from threadpoolctl import threadpool_limits

from xbench.tasks.pdebench.generate import diffsorp, fv1d, reacdiff1d
from xbench.tasks.pdebench.generate.initial import init_multi

NX = 1024
DX = 1.0 / NX
XC = (np.arange(NX) + 0.5) * DX
T201 = np.arange(201) * 0.01  # the save times of Advection and Burgers (steps adapt per save interval)
ROWS: list[tuple[str, str, str, str]] = []  # (case, reference, xbench error, PDEBench's scheme error)
SPEED: list[tuple[str, int, float, float, str]] = []  # (generator, samples, seconds, PDEBench samples/s, how)


def rel(u: np.ndarray, ref: np.ndarray) -> float:
    return float(np.linalg.norm(u - ref) / np.linalg.norm(ref))


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def per_step(step, state: np.ndarray, k: int) -> float:
    """Seconds per call of ``step(state)``, averaged over ``k`` calls after one warm-up."""
    step(state)
    _, sec = timed(lambda: [step(state) for _ in range(k)])
    return sec / k


def spectral(u0: np.ndarray, t_end: float, dt: float, lin: np.ndarray, nonlin) -> np.ndarray:
    """Integrating-factor RK4 for u_t = L u + N(u) on a periodic grid, L diagonal in Fourier space."""
    nx = u0.shape[-1]
    steps = round(t_end / dt)
    h = t_end / steps
    e, e2 = np.exp(lin * h), np.exp(lin * h / 2)
    vh = np.fft.rfft(u0)
    for _ in range(steps):
        a = nonlin(vh)
        b = nonlin(e2 * (vh + h / 2 * a))
        c = nonlin(e2 * vh + h / 2 * b)
        d = nonlin(e * vh + h * e2 * c)
        vh = e * vh + h / 6 * (e * a + 2 * e2 * (b + c) + d)
    return np.fft.irfft(vh, n=nx)


def wavenumbers() -> np.ndarray:
    return 2 * math.pi * np.fft.rfftfreq(NX, d=DX)


# ------------------------------------------------------------------ Advection, Burgers
def advection(n: int, n_speed: int) -> None:
    u0 = init_multi(np.random.default_rng([1, 0]), XC, n)
    exact = init_multi(np.random.default_rng([1, 0]), XC, n, x_eval=(XC - 0.4 * 2.0) % 1.0)
    err = rel(fv1d.solve_advection(u0, 0.4, DX, T201)[:, -1], exact)
    ROWS.append(("advection beta=0.4, t=2", "exact shift", f"{err:.2e}", "same scheme"))
    u0 = init_multi(np.random.default_rng([2, 0]), XC, n_speed)
    _, sec = timed(lambda: fv1d.solve_advection(u0, 0.4, DX, T201))
    buf = np.zeros((n_speed, NX + 4), np.float32)
    steps = 200 * math.ceil(0.01 / (fv1d.CFL * DX / 0.4) - 1e-9)
    step = per_step(lambda b: fv1d._advection_div(b, NX, 0.4), buf, 200) * 2
    SPEED.append(("advection beta=0.4", n_speed, sec, n_speed / (step * steps),
                  f"same scheme ({steps} steps); PDEBench's JAX code: 64 in 5-6 s (spec §11)"))


def pdebench_burgers(u0: np.ndarray, nu: float, t_save: np.ndarray) -> np.ndarray:
    """PDEBench's Burgers scheme: midpoint, diffusion explicit in the flux, dt = 0.25 min(dx/max|u|, dx^2/(2 kappa))."""
    kappa = nu / math.pi
    u = np.zeros((len(u0), NX + 4), np.float32)
    half = np.zeros_like(u)
    u[:, 2:-2] = u0
    out = [u0]
    for j in range(1, len(t_save)):
        interval = t_save[j] - t_save[j - 1]
        dt = 0.25 * min(DX / float(np.abs(u[:, 2:-2]).max()), 0.5 * DX**2 / kappa)
        steps = math.ceil(interval / dt - 1e-9)
        c = interval / steps / DX / 8
        for _ in range(steps):
            half[:, 2:-2] = u[:, 2:-2] - 0.5 * c * fv1d._burgers_div8(u, NX, 8 * kappa / DX)
            u[:, 2:-2] -= c * fv1d._burgers_div8(half, NX, 8 * kappa / DX)
        out.append(u[:, 2:-2].copy())
    return np.stack(out, axis=1)


def pdebench_burgers_steps(frames: np.ndarray, nu: float) -> int:
    """PDEBench's step count to t = 2 for these trajectories (its dt from each frame's max|u|)."""
    umax = np.abs(frames).max(axis=(0, 2))[:-1]
    dt = 0.25 * np.minimum(DX / umax, 0.5 * DX**2 / (nu / math.pi))
    return int(np.ceil(0.01 / dt - 1e-9).sum())


def burgers(n: int, n_speed: int, quick: bool) -> None:
    u0 = init_multi(np.random.default_rng([1, 0]), XC, n)
    frames = (5, 20, 200)
    u = fv1d.solve_burgers(u0, 1.0, DX, T201)
    k = wavenumbers()
    dealias = np.fft.rfftfreq(NX, d=DX) < NX / 3
    nonlin = lambda vh: -0.5j * k * np.fft.rfft(np.fft.irfft(vh, n=NX) ** 2) * dealias  # noqa: E731
    lin = -(1.0 / math.pi) * k**2
    refs = [spectral(u0, 0.05, 1e-5, lin, nonlin)]
    refs.append(spectral(refs[0], 0.15, 2e-5, lin, nonlin))
    refs.append(spectral(refs[1], 1.8, 1e-4, lin, nonlin))
    # PDEBench's explicit scheme to t = 0.05 (134,000 steps of 3.7e-7; the whole run would take hours)
    pdb = None if quick else pdebench_burgers(u0, 1.0, T201[:frames[0] + 1])[:, -1]
    views = (("", lambda v: v), (", u - mean(u)", lambda v: v - v.mean(axis=1, keepdims=True)))
    for j, r in zip(frames, refs):
        theirs = pdb if j == frames[0] else None
        # by t = 2 the fluctuation is ~1e-11 of the mean: below float32 resolution
        for label, view in views if j < 100 else views[:1]:
            ROWS.append((f"burgers nu=1.0, t={T201[j]:.2f}{label}", "pseudo-spectral IF-RK4",
                         f"{rel(view(u[:, j]), view(r)):.2e}",
                         "-" if theirs is None else f"{rel(view(theirs), view(r)):.2e}"))
    if not quick:
        fine, m = 4, min(n, 8)
        xf = (np.arange(NX * fine) + 0.5) / (NX * fine)
        u0f = init_multi(np.random.default_rng([1, 0]), XC, n, x_eval=xf)[:m]
        u = fv1d.solve_burgers(u0[:m], 0.001, DX, T201)
        pdb = pdebench_burgers(u0[:m], 0.001, T201)
        ref = fv1d.solve_burgers(u0f, 0.001, DX / fine, T201[[0, 50, 200]], dtype=np.float64, step_scale=0.25)
        ref = ref.reshape(m, 3, NX, fine).mean(axis=3)
        for j, r in ((50, ref[:, 1]), (200, ref[:, 2])):
            ROWS.append((f"burgers nu=0.001, t={T201[j]:.1f}", "4x finer grid, CFL 0.1", f"{rel(u[:, j], r):.2e}",
                         f"{rel(pdb[:, j], r):.2e}"))
    u0 = init_multi(np.random.default_rng([2, 0]), XC, n_speed)
    t_save = T201
    buf = np.random.default_rng(0).standard_normal((n_speed, NX + 4)).astype(np.float32)
    for nu in (1.0, 0.001):
        frames, sec = timed(lambda: fv1d.solve_burgers(u0, nu, DX, t_save))
        steps = pdebench_burgers_steps(frames, nu)
        step = per_step(lambda b: fv1d._burgers_div8(b, NX, 8 * nu / math.pi / DX), buf, 100) * 2
        SPEED.append((f"burgers nu={nu}", n_speed, sec, n_speed / (step * steps),
                      f"numpy port of PDEBench's step x {steps:,} steps"
                      + ("; PDEBench's JAX code: 64 in ~3 h (spec §11)" if nu == 1.0 else "")))


# ------------------------------------------------------------------ diffusion-reaction
def pdebench_reacdiff_step(u: np.ndarray, nu: float, rho: float, dt: float) -> np.ndarray:
    """PDEBench's explicit step (float32): logistic update and central diffusion flux, midpoint."""
    def update(v, w, tau):
        with np.errstate(divide="ignore"):  # u = 0 gives 1/(1 + inf) = 0, as in PDEBench's JAX code
            v = np.float32(1) / (np.float32(1) + np.float32(math.exp(-rho * tau)) * (np.float32(1) - v) / v)
        flux = np.float32(-nu / DX) * (np.roll(w, -1, axis=-1) - w)
        return v - np.float32(tau / DX) * (flux - np.roll(flux, 1, axis=-1))

    return update(u, update(u, u, 0.5 * dt), dt)


def reacdiff(n: int, n_speed: int) -> None:
    nu, rho = 0.5, 1.0
    u0 = reacdiff1d.normalised_init(np.random.default_rng([1, 0]), XC, n)
    u = reacdiff1d.solve_reacdiff(u0, nu, rho, DX, np.arange(101) * 0.01)
    k = wavenumbers()
    lin, nonlin = -nu * k**2 + rho, lambda vh: -rho * np.fft.rfft(np.fft.irfft(vh, n=NX) ** 2)
    r01 = spectral(u0, 0.01, 1e-5, lin, nonlin)
    r29 = spectral(r01, 0.28, 2.5e-4, lin, nonlin)
    r1 = spectral(r29, 0.71, 2.5e-4, lin, nonlin)
    dt = 0.25 * 0.5 * DX**2 / nu
    steps = math.ceil(0.01 / dt - 1e-9)
    c = np.linspace(0.05, 0.95, 19, dtype=np.float32)[:, None]
    v = c.copy()
    for _ in range(steps):
        v = pdebench_reacdiff_step(v, nu, rho, 0.01 / steps)
    exact = 1.0 / (1.0 + (1.0 / c.astype(np.float64) - 1.0) * math.exp(-rho * 0.01))
    ROWS.append(("diff-react nu=0.5 rho=1, constant states, t=0.01", "exact logistic", "0 (exact flows)",
                 f"{rel(v, exact):.2e} (change {rel(c, exact):.2e})"))
    for j, r in ((1, r01), (29, r29), (100, r1)):
        ROWS.append((f"diff-react nu=0.5 rho=1, t={j / 100}", "IF-RK4 spectral, dt 2.5e-4", f"{rel(u[:, j], r):.2e}",
                     "-"))
    u0 = reacdiff1d.normalised_init(np.random.default_rng([2, 0]), XC, n_speed)
    _, sec = timed(lambda: reacdiff1d.solve_reacdiff(u0, nu, rho, DX, np.arange(101) * 0.01))
    total = math.ceil(1.0 / dt - 1e-9)
    step = per_step(lambda w: pdebench_reacdiff_step(w, nu, rho, dt), u0.astype(np.float32), 200)
    SPEED.append(("diff-react nu=0.5 rho=1", n_speed, sec, n_speed / (step * total),
                  f"numpy port of PDEBench's step x {total:,} steps"))


# ------------------------------------------------------------------ diffusion-sorption
def rk45(u0: np.ndarray, t_save: np.ndarray):
    with threadpool_limits(1), np.errstate(invalid="ignore"):  # RK45 tries u < -1e-6 (NaN) and rejects the step
        return solve_ivp(lambda _t, y: diffsorp.rhs(y[None], DX)[0][0], (0.0, t_save[-1]), u0, t_eval=t_save,
                         rtol=1e-3, atol=1e-6)


def diff_sorp(n_speed: int, quick: bool, full: bool) -> None:
    t_save = np.linspace(0.0, 500.0, 101)
    u0 = np.array([np.full(NX, np.random.default_rng(s).uniform(0.0, 0.2)) for s in range(2)])
    ref = None
    if not quick:
        ref = diffsorp.solve_diffsorp(u0, DX, t_save, rtol=1e-10, atol=1e-12, method="Radau")
        u = diffsorp.solve_diffsorp(u0, DX, t_save)
        pdb = "run with --full"
        if full:
            pdb = f"{rel(rk45(u0[0], t_save).y.T[None, 1:], ref[:1, 1:]):.2e}"
        ROWS.append(("diff-sorp, t=5..500", "Radau rtol 1e-10", f"{rel(u[:, 1:], ref[:, 1:]):.2e}", pdb))
        ROWS.append(("diff-sorp, t=500", "Radau rtol 1e-10", f"{rel(u[:, -1], ref[:, -1]):.2e}", "-"))
    sol, sec25 = timed(lambda: rk45(u0[0], np.array([0.0, 25.0])))
    u0 = np.array([np.full(NX, np.random.default_rng(s).uniform(0.0, 0.2)) for s in range(n_speed)])
    _, sec = timed(lambda: diffsorp.solve_diffsorp(u0, DX, t_save))
    SPEED.append(("diff-sorp", n_speed, sec, 1.0 / (sec25 * 20),
                  f"solve_ivp RK45 on 1 sample: {sol.nfev:,} evaluations to t=25, time x 20"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=16, help="samples in the accuracy checks")
    ap.add_argument("--throughput-samples", type=int, default=64)
    ap.add_argument("--quick", action="store_true", help="skip the costly references")
    ap.add_argument("--full", action="store_true", help="also run PDEBench's RK45 diffusion-sorption to t=500")
    args = ap.parse_args()
    advection(args.samples, args.throughput_samples)
    burgers(args.samples, args.throughput_samples, args.quick)
    reacdiff(min(args.samples, 8), args.throughput_samples)
    diff_sorp(min(args.throughput_samples, 32), args.quick, args.full)
    print("| case | reference | xbench error | PDEBench's scheme error |\n|---|---|---|---|")
    for row in ROWS:
        print("| " + " | ".join(row) + " |")
    print("\n| generator (1024 cells) | samples | seconds | samples/s | PDEBench's scheme samples/s | speed-up | "
          "PDEBench's cost from |\n|---|---|---|---|---|---|---|")
    for name, n, sec, pdb, how in SPEED:
        print(f"| {name} | {n} | {sec:.2f} | {n / sec:.1f} | {pdb:.3g} | {n / sec / pdb:,.1f}x | {how} |")


if __name__ == "__main__":
    main()
