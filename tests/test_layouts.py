"""Readers and writer of PDEBench's five HDF5 layouts (specs/pdebench.md §2), on tiny files written with h5py
exactly as the released files are laid out; split conventions; bad input."""

from __future__ import annotations

import dataclasses
import json

import h5py
import numpy as np
import pytest
import torch
from conftest import write_tensor_file

from xbench.errors import DataError
from xbench.tasks.datafiles import LAYOUTS
from xbench.tasks.pdebench.layouts import inspect, read_frames, write_chunked
from xbench.tasks.pdebench.loaders import load_single_step
from xbench.tasks.registry import DataFile, TaskSpec

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def write_darcy(path, nu, u):
    with h5py.File(path, "w") as f:
        f["nu"], f["tensor"] = nu, u[:, None]
        f["x-coordinate"] = f["y-coordinate"] = (np.arange(nu.shape[1]) + 0.5) / nu.shape[1]
        f.attrs["beta"] = 0.1
    return path


def write_cfd(path, fields, nt):
    with h5py.File(path, "w") as f:
        for k, v in fields.items():
            f[k] = v
        for a, n in zip("xyz", fields["density"].shape[2:]):
            f[f"{a}-coordinate"] = np.linspace(0, 1, n)
        f["t-coordinate"] = np.arange(nt + 1) * 0.05
        f.attrs.update({"eta": 0.1, "zeta": 0.1, "M": 1.0})
    return path


def write_groups(path, data_by_key, dt=0.05):
    """PDEBench's gen_* layout: one group per seed, lzf-compressed data (Nt, *X, C), grid/x[, y], grid/t.

    The file tracks creation order, so iterating it yields the keys as written, not sorted.
    """
    with h5py.File(path, "w", track_order=True) as f:
        for k, d in data_by_key.items():  # in the given (possibly unsorted) order
            g = f.create_group(k)
            g.create_dataset("data", data=d, compression="lzf")
            for a, n in zip("xy", d.shape[1:-1]):
                g[f"grid/{a}"] = np.linspace(-1, 1, n)
            g["grid/t"] = np.arange(d.shape[0]) * dt
            g.attrs["config"] = json.dumps({"seed": int(k)})
    return path


def write_ns_shard(path, b, nt=3, n=4):
    vel, par = rand(b, nt, n, n, 2), rand(b, nt, n, n, 1)
    with h5py.File(path, "w") as f:
        f["velocity"], f["particles"], f["force"] = vel, par, rand(b, n, n, 2)
        f["t"] = np.tile(np.arange(nt) * 0.1, (b, 1))
    return vel, par


# ---------------------------------------------------------------- reading the real layouts
def test_1d_tensor_file(tmp_path):
    arr = rand(6, 5, 8)
    path = write_tensor_file(tmp_path / "a.hdf5", arr, dt=0.5, attrs={"beta": 0.4})
    meta = inspect(path, "pdebench-1d")
    assert (meta.n_samples, meta.n_frames, meta.spatial, meta.channels) == (6, 5, (8,), ("u",))
    assert np.allclose(meta.t, [0, 0.5, 1, 1.5, 2]) and meta.attrs == {"beta": 0.4} and not meta.generated
    out = read_frames(meta, [4, 0], n_samples=3)
    assert out.shape == (3, 2, 1, 8) and out.dtype == np.float32
    assert np.array_equal(out[:, 0, 0], arr[:3, 4]) and np.array_equal(out[:, 1, 0], arr[:3, 0])


def test_darcy_file_frame0_is_the_coefficient(tmp_path):
    nu, u = rand(4, 6, 6), rand(4, 6, 6)
    meta = inspect(write_darcy(tmp_path / "d.hdf5", nu, u), "pdebench-darcy")
    assert (meta.n_samples, meta.n_frames, meta.spatial, meta.attrs["beta"]) == (4, 2, (6, 6), 0.1)
    out = read_frames(meta, [0, 1])
    assert out.shape == (4, 2, 1, 6, 6)
    assert np.array_equal(out[:, 0, 0], nu) and np.array_equal(out[:, 1, 0], u)


@pytest.mark.parametrize("spatial", [(8,), (4, 6)])
def test_cfd_file_channel_order(tmp_path, spatial):
    names = ("density", "pressure", "Vx", "Vy")[:2 + len(spatial)]
    fields = {k: rand(5, 3, *spatial) for k in reversed(names)}  # written in another order than read
    meta = inspect(write_cfd(tmp_path / "c.hdf5", fields, 3), "pdebench-cfd")
    assert meta.channels == names and meta.spatial == spatial and meta.n_frames == 3 and len(meta.t) == 3
    assert meta.attrs == {"eta": 0.1, "zeta": 0.1, "M": 1.0}
    out = read_frames(meta, [2], n_samples=4, channels=[2, 0])
    assert out.shape == (4, 1, 2, *spatial)
    assert np.array_equal(out[:, 0, 0], fields["Vx"][:4, 2]) and np.array_equal(out[:, 0, 1], fields["density"][:4, 2])


def test_group_file_sorted_keys(tmp_path):
    data = {k: rand(4, 3, 5, 2) for k in ("0003", "0000", "0002", "0001")}
    with h5py.File(write_groups(tmp_path / "g.h5", data)) as f:
        assert f["0001/data"].compression == "lzf"
    meta = inspect(tmp_path / "g.h5", "pdebench-groups")
    assert meta.keys == ("0000", "0001", "0002", "0003") and meta.n_samples == 4 and meta.n_frames == 4
    assert meta.spatial == (3, 5) and meta.channels == ("c0", "c1") and np.allclose(meta.t, [0, 0.05, 0.1, 0.15])
    assert json.loads(meta.attrs["config"]) == {"seed": 0}
    out = read_frames(meta, [3, 1], channels=[1])
    assert out.shape == (4, 2, 1, 3, 5)
    for i, k in enumerate(sorted(data)):  # sample i = i-th sorted key, channels moved in front of space
        assert np.array_equal(out[i, 0, 0], data[k][3, ..., 1]) and np.array_equal(out[i, 1, 0], data[k][1, ..., 1])


def test_ns_incom_shards(tmp_path):
    single = write_ns_shard(tmp_path / "one.h5", 2)
    meta = inspect(tmp_path / "one.h5", "pdebench-ns-incom")
    assert (meta.n_samples, meta.n_frames, meta.spatial, meta.channels) == (2, 3, (4, 4), ("Vx", "Vy", "particles"))
    out = read_frames(meta, [2])
    vel, par = single
    assert np.array_equal(out[1, 0, 1], vel[1, 2, ..., 1]) and np.array_equal(out[1, 0, 2], par[1, 2, ..., 0])
    folder = tmp_path / "ns"
    folder.mkdir()
    second = write_ns_shard(folder / "ns_incom_inhom_2d_512-10.h5", 2)  # natural order: -2 before -10
    first = write_ns_shard(folder / "ns_incom_inhom_2d_512-2.h5", 2)
    meta = inspect(folder, "pdebench-ns-incom")
    assert meta.n_samples == 4 and [p.name for p, _ in meta.shards][0].endswith("-2.h5")
    out = read_frames(meta, [0, 1], n_samples=3, channels=[0])
    assert out.shape == (3, 2, 1, 4, 4)
    assert np.array_equal(out[1, 1, 0], first[0][1, 1, ..., 0])
    assert np.array_equal(out[2, 0, 0], second[0][0, 0, ..., 0])


def test_every_layout_is_registered(tmp_path):
    assert set(LAYOUTS) >= {"pdebench-1d", "pdebench-darcy", "pdebench-cfd", "pdebench-groups", "pdebench-ns-incom"}
    path = write_darcy(tmp_path / "d.hdf5", rand(3, 4, 4), rand(3, 4, 4))
    assert LAYOUTS["pdebench-darcy"](path).n_samples == 3


def test_only_requested_samples_and_frames_are_checked(tmp_path):
    arr = rand(6, 5, 8)
    arr[5, 1, 2] = np.nan  # outside what is read below
    meta = inspect(write_tensor_file(tmp_path / "a.hdf5", arr), "pdebench-1d")
    assert np.isfinite(read_frames(meta, [0, 4], n_samples=6)).all()
    assert np.isfinite(read_frames(meta, [1], n_samples=5)).all()


# ---------------------------------------------------------------- writer
def chunks_of(full: dict[str, np.ndarray], chunk: int):
    return lambda i, n: {k: v[i * chunk:i * chunk + n] for k, v in full.items()}


CASES = {
    "pdebench-1d": ({"tensor": rand(7, 3, 8)}, {"x-coordinate": np.arange(8.0), "t-coordinate": np.arange(4.0)}),
    "pdebench-darcy": ({"nu": rand(7, 4, 4), "tensor": rand(7, 1, 4, 4)},
                       {"x-coordinate": np.arange(4.0), "y-coordinate": np.arange(4.0)}),
    "pdebench-cfd": ({k: rand(7, 3, 4, 5) for k in ("density", "pressure", "Vx", "Vy")},
                     {"x-coordinate": np.arange(4.0), "y-coordinate": np.arange(5.0), "t-coordinate": np.arange(4.0)}),
    "pdebench-groups": ({"data": rand(7, 3, 4, 5, 2)},
                        {"grid/x": np.arange(5.0), "grid/y": np.arange(4.0), "grid/t": np.arange(3.0)}),
}


def expected_frames(layout: str, full: dict[str, np.ndarray]) -> np.ndarray:
    if layout == "pdebench-1d":
        return full["tensor"][:, :, None]
    if layout == "pdebench-darcy":
        return np.stack([full["nu"], full["tensor"][:, 0]], 1)[:, :, None]
    if layout == "pdebench-cfd":
        return np.stack([full[k] for k in ("density", "pressure", "Vx", "Vy")], 2)
    return np.moveaxis(full["data"], -1, 2)


@pytest.mark.parametrize("layout", sorted(CASES))
def test_write_inspect_read_round_trip(tmp_path, layout):
    full, static = CASES[layout]
    attrs = {"xbench_generator": "test-1", "config": json.dumps({"k": 1})}
    path = write_chunked(tmp_path / "f.h5", layout, 7, chunks_of(full, 3), static, attrs, chunk=3, progress=False)
    assert not list(tmp_path.glob("f.h5.partial*"))
    meta = inspect(path, layout)
    assert meta.n_samples == 7 and meta.generated and "n_done" not in meta.attrs and "xbench_settings" not in meta.attrs
    want = expected_frames(layout, full)
    assert np.array_equal(read_frames(meta, range(meta.n_frames)), want)
    if layout == "pdebench-groups":
        assert meta.keys == tuple(f"{i:04d}" for i in range(7))
        with h5py.File(path) as f:
            assert all(f[k].attrs["config"] == attrs["config"] and f[k]["data"].compression == "lzf" for k in f)
            assert np.array_equal(f["0006/grid/t"][:], static["grid/t"])


@pytest.mark.parametrize("layout", ["pdebench-1d", "pdebench-groups"])
def test_resume_after_interruption(tmp_path, layout):
    full, static = CASES[layout]
    make = chunks_of(full, 2)
    calls = []

    def dies_at_chunk_2(i, n):
        if i == 2:
            raise KeyboardInterrupt
        calls.append(i)
        return make(i, n)

    path = tmp_path / "f.h5"
    with pytest.raises(KeyboardInterrupt):
        write_chunked(path, layout, 7, dies_at_chunk_2, static, {"seed": 0}, chunk=2, progress=False)
    assert not path.exists()
    [own] = tmp_path.glob("f.h5.partial-*")
    partial = own.replace(tmp_path / "f.h5.partial-otherhost-1")  # as if another process had written it
    with h5py.File(partial, "r+") as f:
        assert f.attrs["n_done"] == 4
        if layout == "pdebench-groups":  # a group half-written after the last n_done is replaced on resume
            f.create_group("0004").create_dataset("data", data=np.zeros((1,)))
    calls.clear()
    write_chunked(path, layout, 7, lambda i, n: calls.append(i) or make(i, n), static, {"seed": 0}, chunk=2,
                  progress=False)
    assert calls == [2, 3]  # finished chunks are not recomputed
    assert not list(tmp_path.glob("f.h5.partial*"))
    assert np.array_equal(read_frames(inspect(path, layout), [0, 2]), expected_frames(layout, full)[:, [0, 2]])


def test_resume_with_other_settings_starts_over(tmp_path):
    full, static = CASES["pdebench-1d"]
    path = tmp_path / "f.h5"
    with pytest.raises(KeyboardInterrupt):
        write_chunked(path, "pdebench-1d", 7, lambda i, n: (_ for _ in ()).throw(KeyboardInterrupt) if i else
                      chunks_of(full, 2)(i, n), static, {"seed": 0}, chunk=2, progress=False)
    calls = []
    write_chunked(path, "pdebench-1d", 7, lambda i, n: calls.append(i) or chunks_of(full, 2)(i, n), static,
                  {"seed": 1}, chunk=2, progress=False)
    assert calls == [0, 1, 2, 3]


def test_writer_rejects_non_finite_and_wrong_keys(tmp_path):
    bad = rand(2, 3, 8)
    bad[1, 0, 0] = np.inf
    with pytest.raises(FloatingPointError, match="samples 0..1"):
        write_chunked(tmp_path / "f.h5", "pdebench-1d", 2, lambda i, n: {"tensor": bad}, {}, {}, progress=False)
    with pytest.raises(ValueError, match="make_chunk"):
        write_chunked(tmp_path / "g.h5", "pdebench-darcy", 2, lambda i, n: {"nu": rand(n, 4, 4)}, {}, {},
                      progress=False)


# ---------------------------------------------------------------- split conventions through load_single_step
def spec_for(layout: str, shape: tuple, test_position: str, **protocol) -> TaskSpec:
    return TaskSpec(name="toy", version=1, family="test", description="", modality="2d", kind="dense-regression",
                    input_shape=shape, output_shape=shape, loss="mse", metrics=("nrmse",), main_metric="nrmse",
                    protocol={"input_frame": 0, "target_frame": 1, **protocol}, data=DataFile("f", layout),
                    loader=load_single_step,
                    split={"test_fraction": 0.1, "test_position": test_position, "val_fraction": 0.1})


def test_single_file_test_split_is_the_first_10_percent(tmp_path):
    arr = np.repeat(np.arange(40, dtype=np.float32)[:, None, None], 2, 1) * np.ones((1, 1, 8), np.float32)
    path = write_tensor_file(tmp_path / "a.hdf5", arr)
    data = load_single_step(spec_for("pdebench-1d", (1, 4), "first", spatial_stride=2), path, None, source="s",
                            sha256="0")
    assert data.x["test"][:, 0, 0].tolist() == [0, 1, 2, 3]
    assert data.x["val"][:, 0, 0].tolist() == [36, 37, 38, 39] and data.x["train"].shape == (32, 1, 4)


def test_group_file_test_split_is_the_last_10_percent_of_sorted_keys(tmp_path):
    order = RNG.permutation(20)
    data = {f"{i:04d}": np.full((2, 2, 2, 2), i, np.float32) for i in order}  # written out of order
    path = write_groups(tmp_path / "g.h5", data)
    spec = spec_for("pdebench-groups", (1, 2, 2), "last", input_channels=[0], target_channels=[1], target_time=0.05)
    td = load_single_step(spec, path, None, source="s", sha256="0")
    assert td.x["test"][:, 0, 0, 0].tolist() == [18, 19] and td.y["test"][:, 0, 0, 0].tolist() == [18, 19]
    assert td.x["train"][:, 0, 0, 0].tolist() == list(range(16)) and td.x["val"][:, 0, 0, 0].tolist() == [16, 17]


def test_single_step_channels_frames_and_stride(tmp_path):
    data = {f"{i:04d}": rand(3, 4, 6, 2) for i in range(10)}
    path = write_groups(tmp_path / "g.h5", data)
    spec = spec_for("pdebench-groups", (1, 2, 3), "last", target_frame=2, input_channels=[0], target_channels=[1],
                    spatial_stride=2, target_time=0.1)
    td = load_single_step(spec, path, None, source="s", sha256="0")
    assert torch.equal(td.x["test"][0, 0], torch.from_numpy(data["0009"][0, ::2, ::2, 0]))
    assert torch.equal(td.y["test"][0, 0], torch.from_numpy(data["0009"][2, ::2, ::2, 1]))
    with pytest.raises(DataError, match="t=0.1") as e:
        load_single_step(dataclasses.replace(spec, protocol={**spec.protocol, "target_time": 0.3}), path, None,
                         source="s", sha256="0")
    assert str(path) in str(e.value)
    with pytest.raises(DataError, match="expects 8x12"):
        load_single_step(spec_for("pdebench-groups", (1, 4, 6), "last", spatial_stride=2, input_channels=[0],
                                  target_channels=[1]), path, None, source="s", sha256="0")


# ---------------------------------------------------------------- bad input
def bad_files(tmp_path):
    """(layout, path, needle) of damaged files, each written in an otherwise real layout."""
    out = []
    p = tmp_path / "rank.hdf5"
    with h5py.File(p, "w") as f:
        f["tensor"], f["x-coordinate"], f["t-coordinate"] = rand(4, 8), np.arange(8.0), np.arange(5.0)
    out.append(("pdebench-1d", p, "shape"))
    p = tmp_path / "darcy.hdf5"
    with h5py.File(p, "w") as f:
        f["nu"], f["tensor"] = rand(3, 4, 4), rand(3, 1, 4, 5)
        f["x-coordinate"] = f["y-coordinate"] = np.arange(4.0)
    out.append(("pdebench-darcy", p, "(N, 1, H, W)"))
    fields = {k: rand(3, 2, 8) for k in ("density", "pressure", "Vx")}
    fields["pressure"] = rand(3, 2, 7)
    out.append(("pdebench-cfd", write_cfd(tmp_path / "cfd.hdf5", fields, 2), "must match"))
    fields = {k: rand(3, 2, 4, 4) for k in ("density", "pressure", "Vx")}
    out.append(("pdebench-cfd", write_cfd(tmp_path / "cfd2.hdf5", fields, 2), "'Vy'"))
    out.append(("pdebench-groups", write_groups(tmp_path / "mixed.h5", {"0000": rand(2, 4, 1), "0001": rand(2, 5, 1)}),
                "'0001'"))
    p = tmp_path / "nogrid.h5"
    with h5py.File(p, "w") as f:
        f.create_group("0000")["data"] = rand(2, 4, 1)
    out.append(("pdebench-groups", p, "grid/x"))
    p = tmp_path / "flat.h5"
    with h5py.File(p, "w") as f:
        f["data"] = rand(2, 4, 1)
    out.append(("pdebench-groups", p, "not a group"))
    p = tmp_path / "ns.h5"
    with h5py.File(p, "w") as f:
        f["velocity"], f["particles"], f["t"] = rand(2, 3, 4, 4, 2), rand(2, 3, 4, 4, 1), rand(2, 3)
        f["force"] = rand(2, 4, 4)  # lacks the component axis
    out.append(("pdebench-ns-incom", p, "force"))
    p = tmp_path / "missing.hdf5"
    with h5py.File(p, "w") as f:
        f["tensor"] = rand(2, 3, 4)
    out.append(("pdebench-1d", p, "lacks the dataset(s) 'x-coordinate', 't-coordinate'"))
    p = tmp_path / "garbage.hdf5"
    p.write_bytes(b"\x89HDF\r\n" + b"x" * 64)
    out.append(("pdebench-darcy", p, "not a readable HDF5"))
    out.append(("pdebench-cfd", tmp_path / "absent.hdf5", "does not exist"))
    return out


def test_bad_files_name_the_file(tmp_path):
    for layout, path, needle in bad_files(tmp_path):
        with pytest.raises(DataError) as e:
            inspect(path, layout)
        assert needle in str(e.value) and str(path) in str(e.value), (layout, path.name, str(e.value))


def test_nan_in_read_samples_names_the_file_and_group(tmp_path):
    data = {f"{i:04d}": rand(2, 4, 1) for i in range(5)}
    data["0003"][1, 2, 0] = np.nan
    meta = inspect(write_groups(tmp_path / "g.h5", data), "pdebench-groups")
    assert read_frames(meta, [0, 1], n_samples=3).shape == (3, 2, 1, 4)
    with pytest.raises(DataError, match=r"NaN or inf \(first: \['0003'\]\)") as e:
        read_frames(meta, [1])
    assert str(meta.path) in str(e.value)
    nu = rand(3, 4, 4)
    nu[2, 0, 0] = np.nan
    meta = inspect(write_darcy(tmp_path / "d.hdf5", nu, rand(3, 4, 4)), "pdebench-darcy")
    assert np.isfinite(read_frames(meta, [1])).all()  # the NaN is in frame 0 (the coefficient) only
    with pytest.raises(DataError, match=r"first: \[2\]"):
        read_frames(meta, [0])


def test_asking_for_more_than_the_file_holds(tmp_path):
    meta = inspect(write_cfd(tmp_path / "c.hdf5", {k: rand(3, 2, 8) for k in ("density", "pressure", "Vx")}, 2),
                   "pdebench-cfd")
    for kwargs, needle in ((dict(frames=[0], n_samples=4), "holds 3 samples"), (dict(frames=[2]), "has 2 frames"),
                           (dict(frames=[0], channels=[3]), "channels")):
        with pytest.raises(DataError, match=needle) as e:
            read_frames(meta, **kwargs)
        assert str(meta.path) in str(e.value)
