"""PDEBench 2D generators: Darcy (direct FV solve), shallow water (MUSCL-HLLC), FitzHugh-Nagumo (ETDRK4)."""

from __future__ import annotations

import dataclasses
import json

import h5py
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.sparse.linalg import expm_multiply

from xbench.tasks.pdebench import layouts
from xbench.tasks.pdebench.generate import darcy, diffreact2d, swe
from xbench.tasks.registry import get_task

PI = np.pi


# ---------------------------------------------------------------- Darcy
def test_darcy_coefficient_family():
    a = darcy.coefficient_fields(np.random.default_rng([0, 0]), 12, 32)
    assert a.shape == (12, 32, 32) and set(np.unique(a)) == {0.1, 1.0}
    assert 0.2 < (a == 1.0).mean() < 0.8  # thresholded at the batch mean: both phases present
    assert np.array_equal(a, darcy.coefficient_fields(np.random.default_rng([0, 0]), 12, 32))


def test_darcy_residual_symmetry_and_maximum_principle():
    a = darcy.coefficient_fields(np.random.default_rng(1), 3, 24)
    u = darcy.solve_darcy(a, 0.1)
    for b in range(3):
        res = darcy.darcy_matrix(a[b]) @ u[b].ravel() - 0.1
        assert np.abs(res).max() < 1e-11 * 0.1 * 24**2 * 4  # round-off of a matrix with entries ~ 4 n^2
    assert (u > 0).all()  # M-matrix: a positive source gives a positive solution
    ut = darcy.solve_darcy(np.ascontiguousarray(a.transpose(0, 2, 1)), 0.1)
    assert np.allclose(ut, u.transpose(0, 2, 1), rtol=1e-10, atol=1e-14)
    uf = darcy.solve_darcy(a[:, ::-1, :], 0.1)
    assert np.allclose(uf, u[:, ::-1, :], rtol=1e-10, atol=1e-14)
    # constant coefficient: -lap u = 1 on the unit square peaks at ~0.0737 in the centre
    u1 = darcy.solve_darcy(np.ones((1, 64, 64)), 1.0)[0]
    assert abs(u1.max() - 0.0737) < 0.004 and u1.argmax() in {np.ravel_multi_index((i, j), (64, 64))
                                                             for i in (31, 32) for j in (31, 32)}


def _manufactured_error(n: int) -> float:
    """u = sin^2(pi x) sin^2(pi y) (zero value and slope on the boundary), a = 1 + sin(2 pi x) cos(pi y) / 2."""
    xc = (np.arange(n) + 0.5) / n
    x, y = np.meshgrid(xc, xc, indexing="ij")
    a = 1 + 0.5 * np.sin(2 * PI * x) * np.cos(PI * y)
    ax, ay = PI * np.cos(2 * PI * x) * np.cos(PI * y), -0.5 * PI * np.sin(2 * PI * x) * np.sin(PI * y)
    sx, sy = np.sin(PI * x), np.sin(PI * y)
    ux, uy = PI * np.sin(2 * PI * x) * sy**2, PI * np.sin(2 * PI * y) * sx**2
    lap = 2 * PI**2 * (np.cos(2 * PI * x) * sy**2 + np.cos(2 * PI * y) * sx**2)
    f = -(ax * ux + ay * uy + a * lap)
    return float(np.abs(darcy.solve_darcy(a[None], f[None])[0] - sx**2 * sy**2).max())


def test_darcy_manufactured_solution_converges_at_second_order():
    errors = [_manufactured_error(n) for n in (16, 32, 64)]
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[-1] < 1e-3 and (rates > 1.8).all(), (errors, rates)


# ---------------------------------------------------------------- shallow water
def _grid(n: int) -> tuple[np.ndarray, float]:
    dx = 5.0 / n
    return -2.5 + (np.arange(n) + 0.5) * dx, dx


def test_swe_mass_conservation_and_dihedral_symmetry():
    xc, dx = _grid(40)
    q0 = swe.dam_break_initial(np.array([0.4, 0.7]), xc, xc)
    t = np.linspace(0.0, 0.5, 6)  # the front reaches r ~ 1.5 < 2.5: the boundary is undisturbed
    h = swe.solve_swe(q0, dx, dx, t, dtype=np.float64)
    assert h.shape == (2, 6, 40, 40) and h.dtype == np.float32
    assert np.abs(h[:, :, [0, -1], :] - 1.0).max() < 1e-6 and np.abs(h[:, :, :, [0, -1]] - 1.0).max() < 1e-6
    mass = h.astype(np.float64).sum(axis=(2, 3))
    assert np.abs(mass / mass[:, :1] - 1).max() < 1e-6  # float32 output; the float64 state conserves exactly
    for mirror in (h[..., ::-1, :], h[..., :, ::-1]):
        assert np.array_equal(h, mirror)
    gap = h[:, 1:] - h[:, 1:].transpose(0, 1, 3, 2)  # x/y sweep order alternates: splitting error at the front
    assert 0 < np.linalg.norm(gap) / np.linalg.norm(h[:, 1:]) < 1e-2 and np.abs(gap).max() < 0.1
    assert h[:, -1].max() < 2.0 and h[:, -1].min() > 0.2 and np.isfinite(h).all()


def test_swe_is_nearly_radial():
    xc, dx = _grid(64)
    h = swe.solve_swe(swe.dam_break_initial(np.array([0.6]), xc, xc), dx, dx, np.array([0.0, 0.4]))[0, -1]
    r = np.hypot(xc[:, None], xc[None, :])
    axis = np.interp(r[32:, 32:].diagonal(), xc[32:], h[32:, 32])  # the x-axis profile at diagonal radii
    assert np.abs(axis - h[32:, 32:].diagonal()).mean() < 0.03  # a step of 1 smeared over ~2 cells


def test_swe_lake_at_rest_stays_at_rest():
    xc, dx = _grid(16)
    q = np.zeros((1, 3, 16, 16))
    q[:, 0] = 1.3
    h = swe.solve_swe(q, dx, dx, np.array([0.0, 0.2, 0.5]), dtype=np.float64)
    assert np.abs(h - 1.3).max() < 1e-6
    for axis in (0, 1):
        swe.sweep(q, axis, 0.2)
    assert np.abs(q[:, 0] - 1.3).max() < 1e-15 and np.abs(q[:, 1:]).max() < 1e-15


# ---------------------------------------------------------------- FitzHugh-Nagumo
def _neumann_laplacian(n: int, d: float) -> sp.csr_matrix:
    main = -2.0 * np.ones(n)
    main[[0, -1]] = -1.0
    l1 = sp.diags([main, np.ones(n - 1), np.ones(n - 1)], [0, -1, 1]) / d**2
    return (sp.kron(sp.identity(n), l1) + sp.kron(l1, sp.identity(n))).tocsr()


def test_pure_diffusion_is_exact_and_conserves_the_mean():
    n, d = 12, 2.0 / 12
    w0 = np.random.default_rng(0).standard_normal((2, 2, n, n))
    t = np.array([0.0, 0.5, 3.0])
    lin = np.stack([c * diffreact2d.neumann_laplacian_eigenvalues(n, n, d, d) for c in (0.01, 0.05)])
    w = diffreact2d.solve_etdrk4(w0, lin, np.zeros_like, t, dtype=np.float64)
    assert np.allclose(w.mean(axis=(-2, -1)), w0.mean(axis=(-2, -1))[:, None], atol=1e-6)
    for c, diff in enumerate((0.01, 0.05)):  # the FV Laplacian's matrix exponential, computed independently
        ref = expm_multiply(diff * 3.0 * _neumann_laplacian(n, d), w0[:, c].reshape(2, -1).T).T
        assert np.allclose(w[:, -1, c].reshape(2, -1), ref, atol=1e-6)
    assert w[:, -1].std() < w0.std()


def test_fitzhugh_nagumo_converges_at_fourth_order_in_time():
    n = 16
    w0 = np.random.default_rng(1).standard_normal((1, 2, n, n))
    t = np.linspace(0.0, 0.5, 6)

    def run(refine: int) -> np.ndarray:
        lin, nonlin = diffreact2d.fitzhugh_nagumo(n, n, 2 / n, 2 / n)
        return diffreact2d.solve_etdrk4(w0, lin, nonlin, t, first_substeps=1, refine=refine, dtype=np.float64)[:, -1]

    ref = run(32)
    errors = [np.abs(run(m) - ref).max() for m in (2, 4)]  # 4th order: a factor 16 per halving
    assert errors[1] < errors[0] / 10 and errors[1] < 5e-5, errors
    assert run(1).shape == (1, 2, n, n)


# ---------------------------------------------------------------- files
def test_darcy_file_round_trip(tmp_path):
    path = darcy.generate_darcy(tmp_path / "d.hdf5", 5, nx=16, chunk=2, progress=False)
    with h5py.File(path) as f:
        nu, u = f["nu"][:], f["tensor"][:]
        assert nu.shape == (5, 16, 16) and u.shape == (5, 1, 16, 16) and u.dtype == np.float32
        assert np.allclose(f["x-coordinate"][:], (np.arange(16) + 0.5) / 16) and f["y-coordinate"].shape == (16,)
        assert f.attrs["beta"] == 0.1 and f.attrs["xbench_generator"] == darcy.GENERATOR_VERSION
    assert np.allclose(u[:, 0], darcy.solve_darcy(nu.astype(np.float64), 0.1), rtol=1e-5)  # a and u are paired
    small = darcy.generate_darcy(tmp_path / "s.hdf5", 2, nx=16, chunk=2, progress=False)
    with h5py.File(small) as f:
        assert np.array_equal(f["nu"][:], nu[:2])  # chunk streams (seed, index): a bigger file extends a smaller
    meta = layouts.inspect(path, "pdebench-darcy")
    assert meta.n_samples == 5 and meta.generated
    frames = layouts.read_frames(meta, [0, 1])
    assert frames.shape == (5, 2, 1, 16, 16) and np.array_equal(frames[:, 0, 0], nu)


@pytest.mark.parametrize("which", ["swe", "diffreact2d"])
def test_group_file_round_trip(tmp_path, which):
    if which == "swe":
        path = swe.generate_swe(tmp_path / "s.h5", 3, nx=16, n_frames=5, t_final=0.2, chunk=2, progress=False)
        shape, t_end = (5, 16, 16, 1), 0.2
    else:
        path = diffreact2d.generate_diffreact2d(tmp_path / "r.h5", 3, nx=8, n_frames=3, t_final=0.1, chunk=2,
                                                progress=False)
        shape, t_end = (3, 8, 8, 2), 0.1
    with h5py.File(path) as f:
        assert sorted(f.keys()) == ["0000", "0001", "0002"]
        g = f["0002"]
        assert g["data"].shape == shape and g["data"].dtype == np.float32
        assert np.isclose(g["grid/t"][-1], t_end) and g["grid/x"].shape == (shape[2],)
        assert "sim" in json.loads(g.attrs["config"])
        first = f["0000"]["data"][:]
        radii = [f[k].attrs.get("dam_radius") for k in sorted(f.keys())]
    if which == "swe":
        assert set(np.unique(first[0])) == {1.0, 2.0} and first[-1].max() < 2.0
        assert radii[:2] == list(np.random.default_rng([0, 0]).uniform(0.3, 0.7, 2))  # chunk 0 of seed 0
        xc = -2.5 + (np.arange(16) + 0.5) * 5 / 16
        assert np.array_equal(first[0, ..., 0], swe.dam_break_initial(radii[:1], xc, xc)[0, 0])
    else:  # channels (u, v), axes [t, y, x, c]: frame 0 is the N(0, 1) draw of chunk 0, sample 0
        w0 = np.random.default_rng([0, 0]).standard_normal((2, 2, 8, 8))
        assert np.allclose(first[0], np.moveaxis(w0[0], 0, -1))
    meta = layouts.inspect(path, "pdebench-groups")
    assert meta.n_samples == 3 and meta.generated and meta.spatial == shape[1:3]
    frames = layouts.read_frames(meta, [0, shape[0] - 1])
    assert frames.shape == (3, 2, shape[3]) + shape[1:3]


# ---------------------------------------------------------------- task specs on small files
def _small(name: str, cells: int, **protocol):
    spec = get_task(name)
    return dataclasses.replace(spec, input_shape=(spec.input_shape[0], cells, cells),
                               output_shape=(spec.output_shape[0], cells, cells), protocol={**spec.protocol, **protocol})


def test_darcy_task_strides_and_tests_on_the_first_tenth(tmp_path):
    path = darcy.generate_darcy(tmp_path / "d.hdf5", 20, nx=16, chunk=20, progress=False)
    spec = _small("pdebench-darcy", 8)
    data = spec.loader(spec, path, None, source="generated", sha256="")
    with h5py.File(path) as f:
        nu, u = f["nu"][:, ::2, ::2], f["tensor"][:, :, ::2, ::2]
    assert torch.equal(data.x["test"], torch.from_numpy(nu[:2, None]))  # a -> u, test = first 10 %
    assert torch.equal(data.y["test"], torch.from_numpy(u[:2]))


def test_diff_react_2d_tasks_keep_orcas_u_to_v_quirk_and_offer_uv(tmp_path):
    path = diffreact2d.generate_diffreact2d(tmp_path / "r.h5", 20, nx=8, n_frames=3, t_final=0.1, chunk=10,
                                            progress=False)
    with h5py.File(path) as f:
        ref = torch.from_numpy(np.stack([f[k]["data"][:] for k in sorted(f)])).permute(0, 1, 4, 2, 3)  # (n, t, c, y, x)
    for name, cin, cout in (("pdebench-diff-react-2d", [0], [1]), ("pdebench-diff-react-2d-uv", [0, 1], [0, 1])):
        spec = _small(name, 8, target_frame=2, target_time=0.1)
        data = spec.loader(spec, path, None, source="generated", sha256="")
        assert torch.equal(data.x["test"], ref[18:, 0, cin])  # test = last 10 % of the keys
        assert torch.equal(data.y["test"], ref[18:, 2, cout])
