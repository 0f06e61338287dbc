"""PDEBench 1D generator: initial conditions, solver properties, the written layout, resume."""

from __future__ import annotations

import dataclasses
import json
import math

import h5py
import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp

import xbench.tasks.pdebench.generate as gen
from xbench.tasks.pdebench import layouts
from xbench.tasks.pdebench.generate import diffsorp, fv1d, reacdiff1d
from xbench.tasks.pdebench.generate.initial import init_multi
from xbench.tasks.pdebench.reader import inspect_1d, read_1d_frames
from xbench.tasks.registry import get_task

NX = 256
XC = (np.arange(NX) + 0.5) / NX


def test_init_multi_family():
    u = init_multi(np.random.default_rng(0), XC, 400)
    assert u.shape == (400, NX) and np.isfinite(u).all()
    assert -4.5 < u.min() < -0.5 and 0.5 < u.max() < 4.5  # PDEBench's range: about [-2.1, 2.3] typical
    means = u.mean(axis=1)
    assert (np.abs(means) > 0.05).mean() > 0.5  # unpicked slots add constants: most ICs have a DC offset
    assert 0.35 < (means > 0).mean() < 0.65  # random sign
    again = init_multi(np.random.default_rng(0), XC, 400)
    assert np.array_equal(u, again)


def test_init_multi_x_eval_is_the_same_function():
    a = init_multi(np.random.default_rng(3), XC, 5)
    b = init_multi(np.random.default_rng(3), XC, 5, x_eval=XC)
    assert np.allclose(a, b)


def test_advection_matches_exact_shift():
    u0 = init_multi(np.random.default_rng([5, 0]), XC, 8)
    exact = init_multi(np.random.default_rng([5, 0]), XC, 8, x_eval=(XC - 0.4 * 0.5) % 1.0)
    u = fv1d.solve_advection(u0, 0.4, 1 / NX, np.array([0.0, 0.25, 0.5]))
    assert u.shape == (8, 3, NX) and u.dtype == np.float32
    assert np.linalg.norm(u[:, -1] - exact) / np.linalg.norm(exact) < 2e-2


@pytest.mark.parametrize("nu", [1.0, 0.01, 0.001])
def test_burgers_conserves_mean_and_decays(nu):
    u0 = init_multi(np.random.default_rng(1), XC, 6)
    t = np.linspace(0, 0.5, 6)
    u = fv1d.solve_burgers(u0, nu, 1 / NX, t)
    assert np.allclose(u.mean(axis=-1), u0.mean(axis=-1)[:, None], atol=1e-5)
    fluct = np.abs(u - u.mean(axis=-1, keepdims=True)).max(axis=-1)
    assert (np.diff(fluct, axis=1) <= 1e-6).all()  # maximum principle: oscillations never grow
    if nu == 1.0:
        assert fluct[:, -1].max() < 1e-2 * fluct[:, 0].max()  # nu/pi diffusion: gone by t = 0.5


def test_burgers_forms_a_shock_without_oscillations():
    u0 = np.sin(2 * np.pi * XC)[None, :]
    u = fv1d.solve_burgers(u0, 0.001, 1 / NX, np.array([0.0, 0.4]))[0, -1]
    assert np.abs(np.diff(u)).max() > 0.1  # a steep front
    assert u.max() <= 1.0 + 1e-6 and u.min() >= -1.0 - 1e-6  # no overshoot (TVD)


def test_layout_round_trip(tmp_path):
    path = gen.generate_1d(tmp_path / "b.hdf5", "burgers", 5, nu=1.0, nx=128, n_frames=11, t_final=0.1,
                           chunk=2, progress=False)
    with h5py.File(path) as f:
        assert f["tensor"].shape == (5, 11, 128) and f["tensor"].dtype == np.float32
        assert f["x-coordinate"].shape == (128,) and f["t-coordinate"].shape == (12,)
        assert np.allclose(f["x-coordinate"][:], (np.arange(128) + 0.5) / 128)
        assert np.allclose(f["t-coordinate"][:], np.arange(12) * 0.01)
        assert f.attrs["Nu"] == 1.0 and "xbench_generator" in f.attrs and "n_done" not in f.attrs
    meta = inspect_1d(path)
    assert (meta.n_samples, meta.n_frames, meta.nx) == (5, 11, 128) and meta.generated
    frames = read_1d_frames(meta, [0, 10])
    assert frames.shape == (5, 2, 128)
    adv = gen.generate_1d(tmp_path / "a.hdf5", "advection", 3, beta=0.4, nx=64, n_frames=3, t_final=0.02,
                          progress=False)
    with h5py.File(adv) as f:
        assert f.attrs["beta"] == 0.4


def test_resume_equals_uninterrupted(tmp_path, monkeypatch):
    kw = dict(nu=1.0, nx=64, n_frames=5, t_final=0.04, chunk=2, progress=False)
    full = gen.generate_1d(tmp_path / "full.hdf5", "burgers", 6, **kw)
    real = fv1d.solve_burgers
    calls = {"n": 0}

    def dies_on_second_chunk(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(gen, "solve_burgers", dies_on_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        gen.generate_1d(tmp_path / "r.hdf5", "burgers", 6, **kw)
    [partial] = tmp_path.glob("r.hdf5.partial-*")  # this process's own name
    assert not (tmp_path / "r.hdf5").exists()
    with h5py.File(partial) as f:
        assert f.attrs["n_done"] == 2
    monkeypatch.setattr(gen, "solve_burgers", real)
    resumed = gen.generate_1d(tmp_path / "r.hdf5", "burgers", 6, **kw)
    with h5py.File(full) as a, h5py.File(resumed) as b:
        assert np.array_equal(a["tensor"][:], b["tensor"][:])
    bigger = gen.generate_1d(tmp_path / "big.hdf5", "burgers", 8, **kw)
    with h5py.File(full) as a, h5py.File(bigger) as b:
        assert np.array_equal(a["tensor"][:], b["tensor"][:6])  # growing a file keeps earlier samples


@pytest.mark.parametrize("kwargs,needle", [
    (dict(pde="heat", nu=1.0), "pde"),
    (dict(pde="burgers"), "nu"),
    (dict(pde="burgers", nu=-1.0), "nu"),
    (dict(pde="advection"), "beta"),
    (dict(pde="burgers", nu=1.0, nx=4), "nx"),
    (dict(pde="burgers", nu=1.0, n_frames=1), "n_frames"),
])
def test_bad_arguments(tmp_path, kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        gen.generate_1d(tmp_path / "x.hdf5", n_samples=2, progress=False, **kwargs)


# ---------------------------------------------------------------- Burgers: explicit-diffusion path, blocks
def test_burgers_blocks_keep_each_sample_in_place():
    u0 = init_multi(np.random.default_rng(7), XC, 40)  # two blocks, sorted by max|u0| inside the solver
    u = fv1d.solve_burgers(u0, 0.001, 1 / NX, np.array([0.0, 0.05]))
    assert np.array_equal(u[:, 0], u0.astype(np.float32))
    assert np.allclose(u[:, 1].mean(axis=1), u0.mean(axis=1), atol=1e-5)  # the means differ: order is kept
    alone = fv1d.solve_burgers(u0[:1], 0.001, 1 / NX, np.array([0.0, 0.05]))
    assert np.linalg.norm(alone[0, 1] - u[0, 1]) < 1e-3 * np.linalg.norm(u[0, 1])  # block mates set only the step


def test_burgers_explicit_path_converges_before_the_shock():
    """Smooth solution (shock time 1/(2 pi 0.25) = 0.64): errors against a 512-cell run fall at order > 1.5."""
    def run(nx):
        x = (np.arange(nx) + 0.5) / nx
        return fv1d.solve_burgers((0.5 + 0.25 * np.sin(2 * np.pi * x))[None], 0.001, 1 / nx,
                                  np.array([0.0, 0.3]), dtype=np.float64)[0, -1]

    ref = run(512)
    err = [np.abs(run(n) - ref.reshape(n, -1).mean(axis=1)).mean() for n in (32, 64)]
    assert math.log2(err[0] / err[1]) > 1.5


# ---------------------------------------------------------------- diffusion-reaction
def test_reacdiff_initial_condition_is_normalised():
    u0 = reacdiff1d.normalised_init(np.random.default_rng(0), XC, 50)
    assert np.allclose(u0.min(axis=1), 0.0) and np.allclose(u0.max(axis=1), 1.0)


def test_reacdiff_constants_follow_the_logistic_curve_exactly():
    c = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    t = np.linspace(0.0, 1.0, 11)
    u = reacdiff1d.solve_reacdiff(np.repeat(c[:, None], 16, axis=1), 0.5, 2.0, 1 / 16, t)
    exact = c[:, None] / (c[:, None] + (1 - c[:, None]) * np.exp(-2.0 * t[None]))
    assert np.abs(u - exact[:, :, None]).max() < 1e-6  # 0 and 1 are steady states


def test_reacdiff_pure_diffusion_is_exact_and_conserves_mass():
    t = np.linspace(0.0, 0.1, 3)
    u0 = 0.5 + 0.3 * np.cos(2 * np.pi * 3 * XC)
    u = reacdiff1d.solve_reacdiff(u0[None], 0.5, 0.0, 1 / NX, t)[0]
    exact = 0.5 + 0.3 * np.exp(-0.5 * (6 * np.pi) ** 2 * t[:, None]) * np.cos(6 * np.pi * XC)[None]
    assert np.abs(u - exact).max() < 1e-6 and np.allclose(u.mean(axis=1), 0.5, atol=1e-6)


def test_reacdiff_stays_in_the_unit_interval():
    u0 = reacdiff1d.normalised_init(np.random.default_rng(1), XC, 20)
    u = reacdiff1d.solve_reacdiff(u0, 0.5, 10.0, 1 / NX, np.linspace(0, 1, 11))
    assert u.min() >= 0.0 and u.max() <= 1.0
    assert (np.diff(u.mean(axis=2), axis=1) >= -1e-7).all()  # logistic growth, diffusion keeps the mean


def test_reacdiff_strang_splitting_is_second_order():
    x = (np.arange(32) + 0.5) / 32
    u0 = (0.5 + 0.4 * np.sin(2 * np.pi * x))[None]

    def run(steps):
        return reacdiff1d.solve_reacdiff(u0, 0.01, 5.0, 1 / 32, np.array([0.0, 0.5]), first_steps=steps)[0, -1]

    ref = reacdiff1d.solve_reacdiff(u0.astype(np.float64), 0.01, 5.0, 1 / 32, np.array([0.0, 0.5]),
                                    first_steps=1024)[0, -1]
    errors = [np.abs(run(m) - ref).max() for m in (4, 8, 16)]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert (orders > 1.8).all() and (orders < 2.3).all()


def test_reacdiff_file_layout_and_prefix(tmp_path):
    kw = dict(nu=0.5, rho=1.0, nx=64, n_frames=6, t_final=0.05, chunk=3, progress=False)
    path = reacdiff1d.generate_reacdiff(tmp_path / "r.hdf5", 7, **kw)
    with h5py.File(path) as f:
        assert f["tensor"].shape == (7, 6, 64) and f["t-coordinate"].shape == (7,)
        assert f.attrs["Nu"] == 0.5 and f.attrs["rho"] == 1.0 and f.attrs["xbench_generator"].startswith("xbench-")
        small = f["tensor"][:]
    bigger = reacdiff1d.generate_reacdiff(tmp_path / "b.hdf5", 9, **kw)
    with h5py.File(bigger) as f:
        assert np.array_equal(f["tensor"][:7], small)
    assert layouts.inspect(path, "pdebench-1d").generated


# ---------------------------------------------------------------- diffusion-sorption
def test_diffsorp_jacobian_matches_finite_differences():
    dx = 1 / 8
    u = np.random.default_rng(0).uniform(0.05, 1.0, (2, 8))
    jac = diffsorp.jacobian(u, dx).toarray()
    f0 = diffsorp.rhs(u, dx)[0].ravel()
    fd = np.empty_like(jac)
    for j in range(16):
        v = u.ravel().copy()
        v[j] += 1e-7
        fd[:, j] = (diffsorp.rhs(v.reshape(2, 8), dx)[0].ravel() - f0) / 1e-7
    assert np.abs(fd - jac).max() < 1e-5 * np.abs(jac).max()


def test_diffsorp_linear_profile_is_the_discrete_steady_state():
    """lap = 0 with ghosts u_-1 = 1, u_N = D (u_N-2 - u_N-1)/dx: u_i = 1 + b (i + 1), b = -1/(N + 1 + D/dx)."""
    n = 16
    b = -1 / (n + 1 + diffsorp.D * n)
    steady = 1 + b * (np.arange(n) + 1.0)
    assert np.abs(diffsorp.rhs(steady[None], 1 / n)[0]).max() < 1e-9
    u = diffsorp.solve_diffsorp(steady[None], 1 / n, np.array([0.0, 250.0, 500.0]))
    assert np.abs(u - steady).max() < 1e-6


def test_diffsorp_bounds_and_reference():
    n, dx = 32, 1 / 32
    t = np.linspace(0.0, 500.0, 6)
    u0 = np.array([np.full(n, 0.03), np.full(n, 0.15)])
    u = diffsorp.solve_diffsorp(u0, dx, t)
    assert u.min() >= 0.0 and u.max() <= 1.0
    assert (np.diff(u[:, :, 0], axis=1) > 0).all()  # the solute keeps entering at x = 0
    ref = solve_ivp(lambda _t, y: diffsorp.rhs(y[None], dx)[0][0], (0, 500), u0[1], method="Radau", t_eval=t,
                    rtol=1e-10, atol=1e-12, jac=lambda _t, y: diffsorp.jacobian(y[None], dx).toarray())
    assert np.abs(u[1] - ref.y.T).max() < 1e-4  # the stacked BDF solve matches a tight single-sample Radau


def test_diffsorp_file_layout_seeds_and_prefix(tmp_path):
    kw = dict(nx=16, n_frames=3, t_final=10.0, chunk=2, progress=False)
    path = diffsorp.generate_diffsorp(tmp_path / "s.h5", 5, **kw)
    with h5py.File(path) as f:
        assert sorted(f) == ["0000", "0001", "0002", "0003", "0004"]
        g = f["0003"]
        assert g["data"].shape == (3, 16, 1) and g["data"].compression == "lzf"
        assert np.allclose(g["grid/t"][:], [0, 5, 10]) and np.allclose(g["grid/x"][:], (np.arange(16) + 0.5) / 16)
        assert json.loads(g.attrs["config"])["D"] == diffsorp.D
        u0 = np.array([f[k]["data"][0, :, 0] for k in sorted(f)])
    expected = [np.random.default_rng(i).uniform(0, 0.2) for i in range(5)]  # PDEBench's seed i
    assert np.allclose(u0, np.array(expected, np.float32)[:, None])
    bigger = diffsorp.generate_diffsorp(tmp_path / "b.h5", 6, **kw)
    a, b = layouts.inspect(path, "pdebench-groups"), layouts.inspect(bigger, "pdebench-groups")
    assert a.generated and np.array_equal(layouts.read_frames(a, [0, 2]), layouts.read_frames(b, [0, 2], 5))


# ---------------------------------------------------------------- task specs on small files
def _small(name: str, cells: int, **protocol):
    spec = get_task(name)
    return dataclasses.replace(spec, input_shape=(1, cells), output_shape=(1, cells),
                               protocol={**spec.protocol, **protocol})


def test_new_1d_tasks_follow_orcas_protocol():
    for name, frame, t, layout in (("pdebench-burgers-nu0.001", 200, 2.0, "pdebench-1d"),
                                   ("pdebench-diff-react", 29, 0.29, "pdebench-1d"),
                                   ("pdebench-diff-sorp", 100, 500.0, "pdebench-groups")):
        spec = get_task(name)
        assert (spec.protocol["target_frame"], spec.protocol["target_time"], spec.data.layout) == (frame, t, layout)
        assert spec.input_shape == spec.output_shape == (1, 1024) and spec.data.md5


def test_diff_sorp_task_tests_on_the_last_keys(tmp_path):
    path = diffsorp.generate_diffsorp(tmp_path / "s.h5", 20, nx=16, n_frames=3, t_final=10.0, chunk=10,
                                      progress=False)
    spec = _small("pdebench-diff-sorp", 16, target_frame=2, target_time=10.0)
    data = spec.loader(spec, path, None, source="generated", sha256="")
    with h5py.File(path) as f:
        ref = torch.from_numpy(np.stack([f[k]["data"][:, :, 0] for k in sorted(f)]))
    assert torch.equal(data.x["test"][:, 0], ref[18:, 0]) and torch.equal(data.y["test"][:, 0], ref[18:, 2])


def test_diff_react_task_reads_frame_29(tmp_path):
    path = reacdiff1d.generate_reacdiff(tmp_path / "r.hdf5", 10, nu=0.5, rho=1.0, nx=32, n_frames=31, t_final=0.3,
                                        progress=False)
    spec = _small("pdebench-diff-react", 32)
    data = spec.loader(spec, path, None, source="generated", sha256="")
    with h5py.File(path) as f:
        ref = torch.from_numpy(f["tensor"][:])
    assert torch.equal(data.x["test"][:, 0], ref[:1, 0]) and torch.equal(data.y["test"][:, 0], ref[:1, 29])
