"""PDEBench 1D generator: initial conditions, solver properties, the written layout, resume."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

import xbench.tasks.pdebench.generate as gen
from xbench.tasks.pdebench.generate import fv1d
from xbench.tasks.pdebench.generate.initial import init_multi
from xbench.tasks.pdebench.reader import inspect_1d, read_1d_frames

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


@pytest.mark.parametrize("nu", [1.0, 0.01])
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
    assert not (tmp_path / "r.hdf5").exists() and (tmp_path / "r.hdf5.partial").exists()
    with h5py.File(tmp_path / "r.hdf5.partial") as f:
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
