"""NAS-Bench-360 Darcy: the piececonst generator (GRF, threshold, solve) and the reader of its files."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from xbench.errors import DataError
from xbench.tasks.nasbench360.generate import darcy as gen
from xbench.tasks.nasbench360.readers import darcy as reader


def test_solver_converges_at_second_order_on_a_manufactured_solution():
    """u* = sin(pi x) sin(pi y), a = 1 + x + 2 y^2, f = -div(a grad u*): max error falls ~4x per halving of h."""
    errors = []
    for s in (17, 33, 65):
        x = np.linspace(0, 1, s)
        X, Y = np.meshgrid(x, x, indexing="ij")
        a = 1 + X + 2 * Y ** 2
        u = np.sin(np.pi * X) * np.sin(np.pi * Y)
        ux, uy = np.pi * np.cos(np.pi * X) * np.sin(np.pi * Y), np.pi * np.sin(np.pi * X) * np.cos(np.pi * Y)
        f = -(ux + 4 * Y * uy - 2 * np.pi ** 2 * a * u)
        errors.append(np.abs(gen.solve_nodes(a, f) - u).max())
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(rates > 1.9) and np.all(rates < 2.1), rates


def test_solver_maximum_principle_and_symmetry():
    """a constant, f = 1: u > 0 inside, 0 on the boundary, symmetric under the square's reflections."""
    u = gen.solve_nodes(np.full((21, 21), 3.0), 1.0)
    assert (u[1:-1, 1:-1] > 0).all() and not u[0].any() and not u[:, -1].any()
    np.testing.assert_allclose(u, u.T, atol=1e-12)
    np.testing.assert_allclose(u, u[::-1], atol=1e-12)


def test_random_field_is_zero_mean_and_thresholds_to_two_values():
    g = gen.grf(np.random.default_rng(0), 85)
    assert abs(g.mean()) < 1e-12  # L[0, 0] = 0 removes the mean exactly
    coeff, sol = gen.sample(np.random.default_rng(1), 85)
    assert set(np.unique(coeff)) == {gen.HIGH, gen.LOW}
    assert coeff.shape == sol.shape == (85, 85) and np.isfinite(sol).all()
    # a bigger coefficient (less resistance) lowers the solution: more 12s -> smaller mean u
    assert 0 < sol.mean() < 1 / (8 * gen.LOW)


def test_generator_writes_both_files_resumably_and_prefix_stable(tmp_path):
    path = gen.generate_piececonst(tmp_path / "a" / gen.FILE_NAMES[0], 12, resolution=85, seed=3, chunk=4)
    other = path.with_name(gen.FILE_NAMES[1])
    m1, m2 = scipy.io.loadmat(path), scipy.io.loadmat(other)
    assert m1["coeff"].shape == (10, 85, 85) and m2["sol"].shape == (2, 85, 85)  # pools of 12: 10 + 2
    assert str(m1["xbench_generator"][0]) == gen.GENERATOR_VERSION
    assert not path.with_name(path.name + ".partial").exists()
    bigger = gen.generate_piececonst(tmp_path / "b" / gen.FILE_NAMES[0], 23, resolution=85, seed=3, chunk=4)
    np.testing.assert_array_equal(scipy.io.loadmat(bigger)["coeff"][:10], m1["coeff"])


def test_generator_rejects_bad_sizes(tmp_path):
    with pytest.raises(ValueError, match="84 k"):
        gen.generate_piececonst(tmp_path / gen.FILE_NAMES[0], 10, resolution=100)
    with pytest.raises(ValueError, match="n_samples"):
        gen.generate_piececonst(tmp_path / gen.FILE_NAMES[0], 3, resolution=85)


def test_reader_splits_grid_channels_and_caps(tmp_path):
    reader.write_synthetic(tmp_path, {"train": 18, "val": 2, "test": 2}, seed=0)  # 22 samples: pools 20 + 2
    splits = reader.read(tmp_path)
    assert {k: len(v.x) for k, v in splits.items()} == {"train": 18, "val": 2, "test": 2}
    x, y = splits["train"].x, splits["train"].y
    assert x.shape[1:] == (3, 85, 85) and y.shape[1:] == (1, 85, 85) and x.dtype == np.float32
    grid = np.linspace(0, 1, 85, dtype=np.float32)
    np.testing.assert_array_equal(x[0, 1, 0], grid)  # gridx varies along the last axis
    np.testing.assert_array_equal(x[0, 2, :, 0], grid)
    raw = scipy.io.loadmat(tmp_path / reader.FILES[0].path)
    np.testing.assert_array_equal(x[:, 0], raw["coeff"][:18])
    np.testing.assert_array_equal(splits["val"].y[:, 0], raw["sol"][18:20])
    capped = reader.read(tmp_path, n_samples=11)  # 900/100/100 scaled: 9 / 1 -> 2 / 1 -> 2
    assert {k: len(v.x) for k, v in capped.items()} == {"train": 9, "val": 2, "test": 2}


def test_reader_subsamples_the_released_resolution(tmp_path):
    """A 169-node file (stride 2) reads as every other node, like 421 with stride 5."""
    gen.generate_piececonst(tmp_path / reader.FILES[0].path, 6, resolution=169, seed=0)
    raw = scipy.io.loadmat(tmp_path / reader.FILES[0].path)
    x = reader.read(tmp_path)["train"].x
    np.testing.assert_array_equal(x[:, 0], raw["coeff"][: len(x), ::2, ::2])


def test_reader_release_pools():
    assert reader.pools(1024) == (slice(0, 900), slice(900, 1000))
    assert reader.pools(20) == (slice(0, 18), slice(18, 20))


def test_reader_errors_name_the_file(tmp_path):
    bad = tmp_path / reader.FILES[0].path
    scipy.io.savemat(bad, {"coeff": np.zeros((2, 10, 10)), "sol": np.zeros((2, 10, 10))})
    scipy.io.savemat(tmp_path / reader.FILES[1].path, {"coeff": np.zeros((2, 10, 10))})
    with pytest.raises(DataError, match="84 k"):
        reader.read(tmp_path)
    bad.write_bytes(b"not a mat file")
    with pytest.raises(DataError, match="MATLAB"):
        reader.read(tmp_path)
