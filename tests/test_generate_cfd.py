"""Compressible Navier-Stokes generator (tasks/pdebench/generate/cfd*.py): solver properties on tiny grids,
initial conditions, file layout, resumability and the two task specs."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from xbench.tasks.pdebench import layouts
from xbench.tasks.pdebench.generate import cfd, cfd_hydro, cfd_ic, cfd_visc, riemann
from xbench.tasks.registry import get_task

G = cfd_hydro.GAMMA


def _grid(n: int, lo: float = 0.0, hi: float = 1.0) -> tuple[float, np.ndarray]:
    dx = (hi - lo) / n
    return dx, lo + (np.arange(n) + 0.5) * dx


def _totals(u: np.ndarray) -> np.ndarray:
    return u.reshape(u.shape[0], u.shape[1], -1).sum(axis=-1)  # (vars, samples)


# ---------------------------------------------------------------- building blocks
@pytest.mark.parametrize("n", [1, 2, 7, 12, 64])
def test_periodic_tridiagonal_solver_matches_dense(n):
    rng = np.random.default_rng(n)
    e = rng.uniform(0, 1, (n, 2, 3))
    b = 0.1 + e + np.roll(e, 1, axis=0) + rng.uniform(0, 1, (n, 2, 3))
    d = rng.normal(size=(n, 2, 3))
    x = cfd_visc.solve_periodic_tridiagonal(b, e, d)  # along axis 0
    m = np.zeros((2, 3, n, n))
    for i in range(n):
        m[..., i, i] += b[i]
        m[..., i, (i + 1) % n] -= e[i]
        m[..., (i + 1) % n, i] -= e[i]
    dense = np.linalg.solve(m, np.moveaxis(d, 0, -1)[..., None])[..., 0]
    assert np.allclose(x, np.moveaxis(dense, -1, 0), rtol=1e-12, atol=1e-12)


def test_hllc_flux_is_consistent_and_exact_for_a_contact():
    w = np.array([[1.3, 0.4, -0.2, 2.0]]).T  # (rho, v_x, v_y, p) on one face
    e = cfd_hydro.conserved(w)[-1, 0]
    assert np.allclose(cfd_hydro.hllc_flux(w, w, 1)[:, 0], [1.3 * 0.4, 1.3 * 0.4**2 + 2.0, 1.3 * 0.4 * -0.2,
                                                           0.4 * (e + 2.0)], rtol=1e-14)
    assert np.allclose(cfd_hydro.hllc_flux(w, w, 2)[:, 0], [1.3 * -0.2, 1.3 * 0.4 * -0.2, 1.3 * 0.04 + 2.0,
                                                           -0.2 * (e + 2.0)], rtol=1e-14)
    left, right = np.array([[1.0], [0.0], [0.0], [1.0]]), np.array([[0.1], [0.0], [0.5], [1.0]])
    f = cfd_hydro.hllc_flux(left, right, 1)[:, 0]  # stationary contact: pure pressure flux, no diffusion
    assert np.allclose(f, [0.0, 1.0, 0.0, 0.0], atol=1e-15)


# ---------------------------------------------------------------- conservation, invariances
@pytest.mark.parametrize("dim", [1, 2])
def test_mass_momentum_energy_conserved_to_round_off(dim):
    rng = np.random.default_rng(3)
    if dim == 1:
        dx, x = _grid(64, -1.0, 1.0)
        w0, dxs = cfd_ic.init_1d_rand(rng, x, 3), (dx,)
    else:
        dx, x = _grid(16)
        w0, dxs = cfd_ic.init_2d_rand(rng, x, x, 2, mach=1.0), (dx, dx)
    u0 = cfd_hydro.conserved(w0)
    u1, steps = cfd.advance(u0, 0.05, dxs, eta=0.1, zeta=0.1, cfl=0.3)
    assert (steps > 3).all()
    before, after = _totals(u0), _totals(u1)
    scale = np.abs(u0).reshape(u0.shape[0], u0.shape[1], -1).sum(axis=-1)
    assert np.abs(after - before).max() / scale.max() < 1e-13
    assert np.abs(u1 - u0).max() > 1e-3  # something happened


def test_uniform_flow_stays_uniform_and_galilean_invariance():
    dx, x = _grid(32)
    w = np.stack([np.full((32, 32), 1.7), np.full((32, 32), 0.8), np.full((32, 32), -0.3), np.full((32, 32), 2.1)])
    u, _ = cfd.advance(cfd_hydro.conserved(w[:, None]), 0.2, (dx, dx), 0.1, 0.1)
    assert np.allclose(cfd_hydro.primitives(u)[:, 0], w, rtol=1e-13, atol=1e-13)
    # Galilean invariance: a smooth state seen from a frame moving at U = -2 is the same flow shifted by
    # U t = 1/4 of the domain; the scheme breaks it only by its truncation error (converging)
    gaps = []
    for n in (64, 128):
        dx, x = _grid(n, -1.0, 1.0)
        w = np.stack([2 + 0.5 * np.sin(np.pi * x), 0.3 * np.cos(np.pi * x), 20 + 3 * np.sin(2 * np.pi * x)])[:, None]
        moving = w + np.array([0.0, 2.0, 0.0])[:, None, None]
        a, _ = cfd.advance(cfd_hydro.conserved(w), 0.25, (dx,), 0.1, 0.1)
        b, _ = cfd.advance(cfd_hydro.conserved(moving), 0.25, (dx,), 0.1, 0.1)
        wa = cfd_hydro.primitives(a)
        wb = np.roll(cfd_hydro.primitives(b) - np.array([0.0, 2.0, 0.0])[:, None, None], -n // 4, axis=-1)
        gaps.append(np.abs(wb - wa).max(axis=(1, 2)) / np.abs(wa - w).max(axis=(1, 2)))
    assert (gaps[1] < 0.04).all() and (gaps[1] < 0.5 * gaps[0]).all()


def test_mirror_and_transpose_symmetry():
    rng = np.random.default_rng(5)
    dx, x = _grid(64, -1.0, 1.0)
    w = cfd_ic.init_1d_rand(rng, x, 2)
    mirrored = w[:, :, ::-1] * np.array([1.0, -1.0, 1.0])[:, None, None]
    a, _ = cfd.advance(cfd_hydro.conserved(w), 0.05, (dx,), 0.1, 0.1)
    b, _ = cfd.advance(cfd_hydro.conserved(mirrored), 0.05, (dx,), 0.1, 0.1)
    wa, wb = cfd_hydro.primitives(a), cfd_hydro.primitives(b)
    assert np.allclose(wb[:, :, ::-1] * np.array([1.0, -1.0, 1.0])[:, None, None], wa, rtol=1e-10, atol=1e-10)
    dx, x = _grid(16)
    w = cfd_ic.init_2d_rand(rng, x, x, 1, mach=1.0)
    swapped = np.swapaxes(w[[0, 2, 1, 3]], -1, -2)
    for eta, tol in ((0.0, 1e-12), (0.1, 2e-3)):  # viscous sweeps alternate x-y / y-x: O(dt^2) asymmetry
        a, _ = cfd.advance(cfd_hydro.conserved(w), 0.05, (dx, dx), eta, eta)
        b, _ = cfd.advance(cfd_hydro.conserved(swapped), 0.05, (dx, dx), eta, eta)
        back = np.swapaxes(cfd_hydro.primitives(b)[[0, 2, 1, 3]], -1, -2)
        wa = cfd_hydro.primitives(a)
        assert np.abs(back - wa).max() <= tol * np.abs(wa).max()


# ---------------------------------------------------------------- inviscid core and positivity
def test_sod_shock_tube_matches_exact_riemann_solution():
    errors = []
    for n in (128, 256):
        dx, x = _grid(n, -1.0, 1.0)  # periodic: Sod at x = 0, the reversed problem at x = +-1, far away
        left, right = (1.0, 0.0, 1.0), (0.125, 0.0, 0.1)
        w = np.stack([np.where(x < 0, 1.0, 0.125), np.zeros(n), np.where(x < 0, 1.0, 0.1)])[:, None]
        u, _ = cfd.advance(cfd_hydro.conserved(w), 0.15, (dx,), 0.0, 0.0)
        exact = riemann.exact_riemann(left, right, x / 0.15, G)
        inner = np.abs(x) < 0.5
        errors.append(np.abs(cfd_hydro.primitives(u)[:, 0, inner] - exact[:, inner]).mean(axis=1))
    assert (errors[1] < [0.008, 0.012, 0.005]).all()  # L1 errors of rho, u, p (discontinuities: ~1st order)
    assert (errors[1] < 0.7 * errors[0]).all()
    # the exact solver itself: left rarefaction (isentropic, Riemann invariant), right shock (Rankine-Hugoniot)
    r_l, u_s, p_s = riemann.exact_riemann(left, right, np.array([0.5]), G)[:, 0]  # between fan and contact
    r_r = riemann.exact_riemann(left, right, np.array([1.1]), G)[0, 0]  # between contact and shock
    c_l, c_s = np.sqrt(G), np.sqrt(G * p_s / r_l)
    assert abs(u_s + 2 * c_s / (G - 1) - 2 * c_l / (G - 1)) < 1e-12 and abs(p_s / r_l**G - 1.0) < 1e-12
    speed = r_r * u_s / (r_r - 0.125)  # mass conservation across the shock
    assert abs(r_r * u_s * (u_s - speed) + p_s - 0.1) < 1e-12  # momentum
    e_r, e_s = 0.1 / (G - 1), p_s / (G - 1) + 0.5 * r_r * u_s**2
    assert abs((e_s + p_s) * u_s - speed * (e_s - e_r)) < 1e-12  # energy
    assert 1.8 < speed < 1.9 and riemann.exact_riemann(left, right, np.array([speed + 1e-9]), G)[0, 0] == 0.125


def test_strong_rarefaction_keeps_density_and_pressure_positive():
    dx, x = _grid(128, -1.0, 1.0)  # Toro's test 2 (near vacuum in the middle), both interfaces
    w = np.stack([np.ones(128), np.where(np.abs(x) < 0.5, 2.0, -2.0), np.full(128, 0.4)])[:, None]
    u, _ = cfd.advance(cfd_hydro.conserved(w), 0.15, (dx,), 0.0, 0.0)
    out = cfd_hydro.primitives(u)
    assert out[0].min() > 0 and out[-1].min() > 0 and np.isfinite(out).all()
    assert out[0].min() < 0.1  # the vacuum-like state was reached


# ---------------------------------------------------------------- viscosity
@pytest.mark.parametrize("rho0", [1.0, 2.0])
def test_shear_wave_decays_at_the_viscous_rate(rho0):
    """v_y = A sin(2 pi x): PDEBench's viscosity is kinematic, rate eta k^2 for any (uniform) density."""
    eta, n, t = 0.1, 32, 0.5
    dx, x = _grid(n)
    X = np.broadcast_to(x[:, None], (n, n))
    w = np.stack([np.full((n, n), rho0), np.zeros((n, n)), 0.01 * np.sin(2 * np.pi * X), np.ones((n, n))])
    u, _ = cfd.advance(cfd_hydro.conserved(w[:, None]), t, (dx, dx), eta, 0.1)
    amp = 2 * np.mean(cfd_hydro.primitives(u)[2, 0] * np.sin(2 * np.pi * X)) / 0.01
    rate = -np.log(amp) / t
    assert abs(rate / (eta * (2 * np.pi) ** 2) - 1) < 0.03


def test_viscous_sweep_turns_lost_kinetic_energy_into_heat():
    """Longitudinal wave, viscous part only (state (vars, x, samples)): decay (4 eta/3 + zeta) k^2; total energy unchanged; heating >= 0."""
    n, eta, zeta = 64, 0.1, 0.1
    dx, x = _grid(n)
    w = np.stack([1.0 + 0.3 * np.cos(2 * np.pi * x), 0.05 * np.sin(2 * np.pi * x), np.ones(n)])[..., None]
    u = cfd_hydro.conserved(w)
    e0 = cfd_hydro.primitives(u)[-1].copy()
    dt, steps = 1e-3, 200
    for _ in range(steps):
        cfd_visc.viscous_sweep(u, 0, np.array([dt]), dx, eta, zeta)
        assert (cfd_hydro.primitives(u)[-1] >= e0 - 1e-15).all()
        e0 = cfd_hydro.primitives(u)[-1].copy()
    assert np.allclose(u[0], cfd_hydro.conserved(w)[0])  # density untouched
    assert abs(u[1].sum()) < 1e-15 and abs(u[2].sum() - cfd_hydro.conserved(w)[2].sum()) < 1e-12
    ref = cfd_hydro.conserved(np.stack([np.ones(n), 0.05 * np.sin(2 * np.pi * x), np.ones(n)])[..., None])
    v = ref.copy()
    for _ in range(steps):
        cfd_visc.viscous_sweep(v, 0, np.array([dt]), dx, eta, zeta)
    amp = 2 * np.mean(v[1, :, 0] * np.sin(2 * np.pi * x)) / 0.05
    assert abs(-np.log(amp) / (dt * steps) / ((4 * eta / 3 + zeta) * (2 * np.pi) ** 2) - 1) < 0.01


# ---------------------------------------------------------------- initial conditions
def test_1d_rand_initial_conditions_follow_pdebench_ranges():
    dx, x = _grid(256, -1.0, 1.0)
    rho, v, p = cfd_ic.init_1d_rand(np.random.default_rng(0), x, 200)
    for field, (lo, hi) in ((rho, (1, 10)), (p, (10, 100))):  # u * m + b, m, b in [lo, hi]
        assert (field.min(axis=1) >= lo - 1e-12).all() and (field.min(axis=1) <= hi + 1e-12).all()
        span = field.max(axis=1) - field.min(axis=1)
        assert (span >= lo - 1e-9).all() and (span <= hi + 1e-9).all()
    assert np.abs(v).max() <= 3.0 and (v.min(axis=1) < 0).mean() > 0.3
    flat = (np.abs(v[:, :20]) < 1e-12).all(axis=1)  # windowed: zero left of x_L >= 0.1, incl. x < -0.9
    assert 0.35 < flat.mean() < 0.65  # window probability 0.5


def test_2d_rand_initial_conditions_have_mach_and_means():
    dx, x = _grid(32)
    w = cfd_ic.init_2d_rand(np.random.default_rng(1), x, x, 40, mach=1.0)
    rho, vx, vy, p = w
    windowed = (np.abs(vx[:, :2]) < 1e-3 * np.abs(vx).max(axis=(1, 2), keepdims=True)).all(axis=(1, 2))
    assert 0.25 < windowed.mean() < 0.75
    full = ~windowed
    rho0, p0 = rho[full].mean(axis=(1, 2)), p[full].mean(axis=(1, 2))  # the sinusoids average to zero
    speed = np.sqrt(vx[full] ** 2 + vy[full] ** 2).mean(axis=(1, 2))
    assert np.allclose(speed, np.sqrt(G * p0 / rho0), rtol=1e-10)  # mean |v| = M c_s, c_s^2 = Gamma T0
    assert (rho0 >= 0.1).all() and (rho0 <= 10).all() and (rho > 0).all() and (p > 0).all()
    dev = np.abs(rho[full] / rho0[:, None, None] - 1).mean(axis=(1, 2))
    assert (dev > 0.01 - 1e-9).all() and (dev < 0.2 + 1e-9).all()  # mean |delta f / mean|f|| = delta


# ---------------------------------------------------------------- files and tasks
def test_generate_1d_file_layout_resume_and_prefix(tmp_path):
    kw = dict(nx=32, n_frames=3, t_final=0.02, chunk=2, progress=False)
    small = cfd.generate_cfd1d(tmp_path / "a.hdf5", 3, **kw)
    big = cfd.generate_cfd1d(tmp_path / "b.hdf5", 5, **kw)
    meta = layouts.inspect(big, "pdebench-cfd")
    assert (meta.n_samples, meta.n_frames, meta.spatial, meta.channels) == (5, 3, (32,), ("density", "pressure", "Vx"))
    assert meta.generated and meta.attrs["eta"] == 0.1 and meta.attrs["zeta"] == 0.1
    with h5py.File(big) as f, h5py.File(small) as g:
        assert f["t-coordinate"].shape == (4,) and np.allclose(f["t-coordinate"][:], [0, 0.01, 0.02, 0.03])
        assert np.allclose(f["x-coordinate"][[0, -1]], [-1 + 1 / 32, 1 - 1 / 32])
        for k in ("density", "pressure", "Vx"):
            assert f[k].dtype == np.float32
            assert np.array_equal(f[k][:3], g[k][:])  # sample j does not depend on the file size
    arr = layouts.read_frames(meta, [0, 2])
    assert arr.shape == (5, 2, 3, 32) and (arr[:, :, 0] > 0).all()


def test_generate_2d_file_layout(tmp_path):
    path = cfd.generate_cfd2d(tmp_path / "c.hdf5", 2, nx=16, n_frames=2, t_final=0.02, chunk=2, progress=False)
    meta = layouts.inspect(path, "pdebench-cfd")
    assert (meta.n_samples, meta.n_frames, meta.spatial) == (2, 2, (16, 16))
    assert meta.channels == ("density", "pressure", "Vx", "Vy") and meta.attrs["M"] == 1.0


def _fake_cfd_file(path, n, nt, spatial):
    """A layout-C file with the real shapes whose values encode (sample, frame, channel)."""
    def chunk(i, count):
        base = np.arange(i * 4, i * 4 + count)[:, None] * 1000.0 + np.arange(nt)[None, :]
        shape = (count, nt) + spatial
        names = ("density", "pressure", "Vx", "Vy")[:2 + len(spatial)]
        return {k: np.broadcast_to((base + 0.1 * c)[(...,) + (None,) * len(spatial)], shape) + 1.0
                for c, k in enumerate(names)}
    static = {f"{a}-coordinate": (np.arange(m) + 0.5) / m for a, m in zip("xy", spatial)}
    static["t-coordinate"] = np.arange(nt + 1) * (1.0 / (nt - 1))
    return layouts.write_chunked(path, "pdebench-cfd", n, chunk, static, {"eta": 0.1, "zeta": 0.1}, chunk=4,
                                 progress=False)


def test_cfd_tasks_load_orca_frames_channels_and_splits(tmp_path):
    spec = get_task("pdebench-cfd1d")
    data = spec.loader(spec, _fake_cfd_file(tmp_path / "1d.hdf5", 20, 101, (1024,)), None, source="t", sha256="")
    assert data.x["test"].shape == (2, 3, 1024) and data.sizes() == {"train": 16, "val": 2, "test": 2}
    assert np.allclose(data.x["test"][:, :, 0], [[1.0, 1.1, 1.2], [1001.0, 1001.1, 1001.2]])  # first 10 %, frame 0
    assert np.allclose(data.y["test"][0, :, 5] - data.x["test"][0, :, 5], 100.0)  # frame 100 (t = 1)
    spec2 = get_task("pdebench-cfd2d")
    data = spec2.loader(spec2, _fake_cfd_file(tmp_path / "2d.hdf5", 10, 21, (128, 128)), None, source="t",
                        sha256="")
    assert data.x["test"].shape == (1, 4, 64, 64) and data.y["train"].shape[1:] == (4, 64, 64)
    assert np.allclose(data.x["test"][0, :, 0, 0], [9001.0, 9001.1, 9001.2, 9001.3])  # ORCA: last 10 % test
    assert np.allclose(data.y["test"][0, :, 3, 3] - data.x["test"][0, :, 3, 3], 20.0)  # frame 20 (t = 1)
    assert spec.data.url.endswith("164668") and spec2.data.url.endswith("164691") and spec.data.md5
    assert spec.generator is cfd.generate_cfd1d and spec2.generator_params["mach"] == 1.0
