"""PDEBench's five HDF5 layouts (docs/pdebench.md §2): one reader and one resumable writer.

Layouts (``DataFile.layout``), all float32, leading axis = sample:

- ``pdebench-1d`` (A): ``tensor`` (N, Nt, Nx), ``x-coordinate`` (Nx,), ``t-coordinate`` (Nt+1,) (last unused).
- ``pdebench-darcy`` (B): ``nu`` (N, H, W) = coefficient a(x), ``tensor`` (N, 1, H, W) = solution u,
  ``x-coordinate``, ``y-coordinate``, attr ``beta``. Read as two frames: frame 0 = a, frame 1 = u
  (PDEBench's loader stacks [nu, u] on its time axis, so "initial_step = 1" means a -> u).
- ``pdebench-cfd`` (C): ``density``, ``pressure``, ``Vx`` [, ``Vy``, ``Vz``] each (N, Nt, *X), one velocity per
  spatial axis; ``x-`` [``y-``, ``z-``] ``coordinate``, ``t-coordinate``; channel order density, pressure, Vx...
- ``pdebench-groups`` (D): groups "0000", "0001", ... each with ``data`` (Nt, *X, C), ``grid/x`` [, ``grid/y``],
  ``grid/t`` and attr ``config``; sample i = i-th sorted key. PDEBench's loader splits on sorted keys.
- ``pdebench-ns-incom`` (E, read only): shards with ``velocity`` (b, T, X, Y, 2), ``particles`` (b, T, X, Y, 1),
  ``force`` (b, X, Y, 2), ``t`` (b, T); ``path`` is one shard or a folder of shards (sorted by name); the
  samples are the b simulations of every shard, the channels Vx, Vy, particles.

``read_frames`` returns ``(n, frames, C, *spatial)`` and reads only the requested samples and frames
(h5py slicing), so multi-GB files are never loaded whole. Every problem is a DataError naming the file.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
from tqdm.auto import tqdm

from xbench.errors import DataError, unknown_name

log = logging.getLogger(__name__)

LAYOUTS = ("pdebench-1d", "pdebench-darcy", "pdebench-cfd", "pdebench-groups", "pdebench-ns-incom")
CFD_FIELDS = ("density", "pressure", "Vx", "Vy", "Vz")
AXES = ("x", "y", "z")
FIX = "Is this the right file for the task? Download it again, or delete it to regenerate it."


@dataclass(frozen=True)
class FileMeta:
    """What :func:`inspect` found: sizes, channel names, coordinates (``x``, ``y``, ``z``, ``t``), attrs."""

    path: Path
    layout: str
    n_samples: int
    n_frames: int
    spatial: tuple[int, ...]
    channels: tuple[str, ...]
    attrs: dict
    coords: dict[str, np.ndarray] = field(default_factory=dict)
    keys: tuple[str, ...] = ()  # groups: the sorted group names (sample i = keys[i])
    shards: tuple[tuple[Path, int], ...] = ()  # ns-incom: (shard file, simulations in it)

    @property
    def generated(self) -> bool:
        return "xbench_generator" in self.attrs

    @property
    def t(self) -> np.ndarray | None:
        return self.coords.get("t")


def _open(path: Path) -> h5py.File:
    if not path.is_file():
        raise DataError(f"data file {path} does not exist. Download it (`xbench data info TASK` shows the URL) "
                        "or generate it (`xbench data generate TASK`).")
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise DataError(f"{path} is not a readable HDF5 file ({e}). It is probably truncated or corrupt: delete it "
                        "and download it again (or, for a generated file, run the command again).") from None


def _attrs(obj) -> dict:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in obj.attrs.items()}


def _need(path: Path, f, names: Sequence[str], what: str) -> None:
    missing = [k for k in names if k not in f]
    if missing:
        raise DataError(f"{path} lacks the dataset(s) {', '.join(repr(m) for m in missing)}; {what}. Found: "
                        f"{', '.join(sorted(f.keys()))}. {FIX}")


def _time(path: Path, t: np.ndarray, nt: int, name: str) -> np.ndarray:
    """PDEBench's single files store Nt+1 times (the last unused); group files Nt."""
    if t.ndim != 1 or len(t) not in (nt, nt + 1):
        raise DataError(f"{path}: {name!r} has shape {t.shape} for {nt} frames (expected {nt} or {nt + 1}). {FIX}")
    return t[:nt]


def _coords(path: Path, f, names: Sequence[str], spatial: tuple[int, ...], exact: bool = True) -> dict:
    """Spatial coordinates; ``exact`` checks axis order, else only the multiset (group files store [t, y, x])."""
    out = {a: f[n][:] for a, n in zip(AXES, names)}
    lens = [len(v) for v in out.values()]
    if (lens != list(spatial)) if exact else (sorted(lens) != sorted(spatial)):
        raise DataError(f"{path}: coordinates {', '.join(names)} have lengths {lens} but the fields have "
                        f"spatial shape {spatial}. {FIX}")
    return out


def _inspect_1d(path: Path, f) -> FileMeta:
    _need(path, f, ("tensor", "x-coordinate", "t-coordinate"), "a PDEBench 1D file has 'tensor' (N, Nt, Nx), "
          "'x-coordinate' and 't-coordinate'")
    shape = f["tensor"].shape
    if len(shape) != 3:
        raise DataError(f"{path}: 'tensor' has shape {shape}; a 1D PDEBench file has (N, Nt, Nx). {FIX}")
    coords = _coords(path, f, ("x-coordinate",), shape[2:])
    coords["t"] = _time(path, f["t-coordinate"][:], shape[1], "t-coordinate")
    return FileMeta(path, "pdebench-1d", shape[0], shape[1], shape[2:], ("u",), _attrs(f), coords)


def _inspect_darcy(path: Path, f) -> FileMeta:
    _need(path, f, ("nu", "tensor", "x-coordinate", "y-coordinate"), "a PDEBench Darcy file has 'nu' (N, H, W), "
          "'tensor' (N, 1, H, W), 'x-coordinate' and 'y-coordinate'")
    nu, u = f["nu"].shape, f["tensor"].shape
    if len(nu) != 3 or u != (nu[0], 1, *nu[1:]):
        raise DataError(f"{path}: 'nu' has shape {nu} and 'tensor' {u}; a Darcy file has (N, H, W) and "
                        f"(N, 1, H, W). {FIX}")
    coords = _coords(path, f, ("x-coordinate", "y-coordinate"), nu[1:])
    return FileMeta(path, "pdebench-darcy", nu[0], 2, nu[1:], ("field",), _attrs(f), coords)


def _inspect_cfd(path: Path, f) -> FileMeta:
    _need(path, f, ("density", "pressure", "Vx", "t-coordinate"), "a PDEBench CFD file has 'density', "
          "'pressure', 'Vx' [, 'Vy', 'Vz'] (N, Nt, *X) and 't-coordinate'")
    shape = f["density"].shape
    dim = len(shape) - 2
    if not 1 <= dim <= 3:
        raise DataError(f"{path}: 'density' has shape {shape}; a CFD file has (N, Nt, X[, Y[, Z]]). {FIX}")
    names = CFD_FIELDS[:2 + dim]
    _need(path, f, names + tuple(f"{a}-coordinate" for a in AXES[:dim]),
          f"a {dim}D CFD file has {', '.join(names)} and one coordinate per axis")
    bad = {k: f[k].shape for k in names if f[k].shape != shape}
    if bad:
        raise DataError(f"{path}: 'density' has shape {shape} but {bad}; all fields must match. {FIX}")
    coords = _coords(path, f, tuple(f"{a}-coordinate" for a in AXES[:dim]), shape[2:])
    coords["t"] = _time(path, f["t-coordinate"][:], shape[1], "t-coordinate")
    return FileMeta(path, "pdebench-cfd", shape[0], shape[1], shape[2:], names, _attrs(f), coords)


def _inspect_groups(path: Path, f) -> FileMeta:
    keys = tuple(sorted(f.keys()))
    if not keys:
        raise DataError(f"{path} holds no groups; a PDEBench .h5 file has one group per seed ('0000', ...). {FIX}")
    first = f[keys[0]]
    if not isinstance(first, h5py.Group):
        raise DataError(f"{path}: {keys[0]!r} is a dataset, not a group; this is not a group-per-seed file. {FIX}")
    _need(path, first, ("data", "grid/x", "grid/t"), f"group {keys[0]!r} of a PDEBench .h5 file has 'data' "
          "(Nt, *X, C), 'grid/x' [, 'grid/y'] and 'grid/t'")
    shape = first["data"].shape
    if not 3 <= len(shape) <= 5:
        raise DataError(f"{path}: group {keys[0]!r} has 'data' of shape {shape}; expected (Nt, *X, C). {FIX}")
    for k in keys:
        try:
            got = f[f"{k}/data"].shape
        except (KeyError, AttributeError):
            got = "no 'data'"
        if got != shape:
            raise DataError(f"{path}: group {k!r} has {got} but group {keys[0]!r} has 'data' {shape}; every "
                            f"group must hold the same shape. The file is damaged or mixes datasets. {FIX}")
    spatial = shape[1:-1]
    names = tuple(f"grid/{a}" for a in AXES[:len(spatial)])
    _need(path, first, names, f"a {len(spatial)}D group holds {', '.join(names)}")
    coords = _coords(path, first, names, spatial, exact=False)
    coords["t"] = _time(path, first["grid/t"][:], shape[0], "grid/t")
    attrs = {**_attrs(first), **_attrs(f)}
    channels = tuple(f"c{i}" for i in range(shape[-1]))
    return FileMeta(path, "pdebench-groups", len(keys), shape[0], spatial, channels, attrs, coords, keys)


def _shard_files(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    files = sorted(path.glob("*.h5"), key=lambda p: [int(s) if s.isdigit() else s for s in re.split(r"(\d+)", p.name)])
    if not files:
        raise DataError(f"{path} is a folder without .h5 shards; put the ns_incom_inhom_2d_512-*.h5 files there.")
    return files


def _inspect_ns(path: Path) -> FileMeta:
    shards, first = [], None
    for p in _shard_files(path):
        with _open(p) as f:
            _need(p, f, ("velocity", "particles", "force", "t"), "an incompressible NS shard has 'velocity' "
                  "(b, T, X, Y, 2), 'particles' (b, T, X, Y, 1), 'force' (b, X, Y, 2) and 't' (b, T)")
            v, q, fo, t = (f[k].shape for k in ("velocity", "particles", "force", "t"))
            b = v[0]
            if len(v) != 5 or v[-1] != 2 or q != v[:-1] + (1,) or fo != (b, *v[2:4], 2) or t != v[:2]:
                raise DataError(f"{p}: shapes velocity {v}, particles {q}, force {fo}, t {t} do not form a shard "
                                "(b, T, X, Y, 2) / (b, T, X, Y, 1) / (b, X, Y, 2) / (b, T). " + FIX)
            if first is None:
                first = (p, v[1:4], {"t": f["t"][0]}, _attrs(f))
            elif v[1:4] != first[1]:
                raise DataError(f"{p} has frames x grid {v[1:4]} but {first[0]} has {first[1]}; all shards of "
                                "one dataset must match.")
            shards.append((p, b))
    _, (nt, *spatial), coords, attrs = first
    return FileMeta(path, "pdebench-ns-incom", sum(b for _, b in shards), nt, tuple(spatial),
                    ("Vx", "Vy", "particles"), attrs, coords, shards=tuple(shards))


_INSPECT = {"pdebench-1d": _inspect_1d, "pdebench-darcy": _inspect_darcy, "pdebench-cfd": _inspect_cfd,
            "pdebench-groups": _inspect_groups}


def inspect(path: str | Path, layout: str) -> FileMeta:
    """Check that ``path`` has ``layout`` and return its metadata (reads coordinates only, no field data)."""
    path = Path(path)
    if layout == "pdebench-ns-incom":
        return _inspect_ns(path)
    if layout not in _INSPECT:
        raise unknown_name("data layout", layout, LAYOUTS)
    with _open(path) as f:
        return _INSPECT[layout](path, f)


def _read(meta: FileMeta, f, n: int, frames: list[int]) -> np.ndarray:
    """(n, len(frames), C, *X) of one file, all channels; ``frames`` sorted and unique (h5py's fancy rule)."""
    if meta.layout == "pdebench-1d":
        return np.stack([f["tensor"][:n, fr] for fr in frames], axis=1)[:, :, None]
    if meta.layout == "pdebench-darcy":
        return np.stack([f["nu"][:n] if fr == 0 else f["tensor"][:n, 0] for fr in frames], axis=1)[:, :, None]
    if meta.layout == "pdebench-cfd":
        return np.stack([np.stack([f[c][:n, fr] for fr in frames], axis=1) for c in meta.channels], axis=2)
    out = np.empty((n, len(frames), len(meta.channels), *meta.spatial), np.float32)
    for i, k in enumerate(meta.keys[:n]):
        out[i] = np.moveaxis(f[k]["data"][frames], -1, 1)
    return out


def read_frames(meta: FileMeta, frames: Sequence[int], n_samples: int | None = None,
                channels: Sequence[int] | None = None) -> np.ndarray:
    """Frames ``frames`` of the first ``n_samples`` samples: (n, len(frames), C, *spatial) float32, finite."""
    n = meta.n_samples if n_samples is None else int(n_samples)
    if not 1 <= n <= meta.n_samples:
        raise DataError(f"{meta.path} holds {meta.n_samples} samples; {n} were asked for. Lower n_samples "
                        "(--set n_samples=...) or use a bigger file.")
    frames = [int(fr) for fr in frames]
    bad = [fr for fr in frames if not 0 <= fr < meta.n_frames]
    if bad or not frames:
        raise DataError(f"{meta.path} has {meta.n_frames} frames; the task needs frame(s) {bad or frames}. {FIX}")
    chans = list(range(len(meta.channels))) if channels is None else [int(c) for c in channels]
    if not chans or any(not 0 <= c < len(meta.channels) for c in chans):
        raise DataError(f"{meta.path} has channels {meta.channels}; the task asks for indices {chans}. {FIX}")
    uniq = sorted(set(frames))
    try:
        if meta.layout == "pdebench-ns-incom":
            parts, left = [], n
            for p, b in meta.shards:
                if left == 0:
                    break
                with h5py.File(p, "r") as f:
                    m = min(b, left)
                    q = [np.concatenate([f["velocity"][i, uniq], f["particles"][i, uniq]], -1) for i in range(m)]
                    parts.append(np.moveaxis(np.stack(q), -1, 2))
                    left -= m
            arr = np.concatenate(parts)
        else:
            with h5py.File(meta.path, "r") as f:
                arr = _read(meta, f, n, uniq)
    except OSError as e:
        raise DataError(f"reading {meta.path} failed ({e}); the file is probably corrupt: delete it and fetch or "
                        "regenerate it.") from None
    arr = arr[:, [uniq.index(fr) for fr in frames]][:, :, chans].astype(np.float32, copy=False)
    finite = np.isfinite(arr).reshape(n, -1).all(axis=1)
    if not finite.all():
        rows = np.flatnonzero(~finite)[:5].tolist()
        names = [meta.keys[r] for r in rows] if meta.keys else rows
        raise DataError(f"{meta.path}: {int((~finite).sum())} sample(s) contain NaN or inf (first: {names}). The "
                        "file is damaged; download it again or delete it to regenerate it.")
    return arr


def _check_chunk(layout: str, block: dict[str, np.ndarray], count: int, start: int) -> None:
    expected = {"pdebench-1d": {"tensor"}, "pdebench-darcy": {"nu", "tensor"}, "pdebench-groups": {"data"}}
    keys = set(block)
    ok = keys in ({"density", "pressure", *CFD_FIELDS[2:2 + d]} for d in (1, 2, 3)) if layout == "pdebench-cfd" \
        else keys == expected[layout]
    if not ok or any(len(v) != count for v in block.values()):
        raise ValueError(f"make_chunk returned {({k: v.shape for k, v in block.items()})} for {count} samples of "
                         f"layout {layout}")
    if not all(np.isfinite(v).all() for v in block.values()):
        raise FloatingPointError(f"the solver produced non-finite values in samples {start}..{start + count - 1}")


def _resume_point(path: Path, partial: Path, settings: str) -> int:
    """Take over the partial file of a dead writer with the same settings (renamed to ``partial``);
    remove the others. The caller holds the target's lock, so no live process writes them."""
    best, start = None, 0
    for other in sorted(path.parent.glob(f"{path.name}.partial*")):
        done = 0
        try:
            with h5py.File(other, "r") as f:
                if f.attrs.get("xbench_settings") == settings:
                    done = int(f.attrs["n_done"])
        except (OSError, KeyError, ValueError):
            done = 0
        if done > start:
            if best is not None:
                best.unlink()
            best, start = other, done
        else:
            other.unlink()
    if best is not None:
        best.replace(partial)
        log.info("resuming %s at sample %d", partial, start)
    return start


def check_complete(path: Path, layout: str, n_samples: int, static: dict[str, np.ndarray]) -> None:
    """A written file holds ``n_samples`` samples, the coordinates it was given, and no sample that is
    all zeros in every field (what a file truncated or overwritten by another writer looks like)."""
    meta = inspect(path, layout)
    if meta.n_samples != n_samples:
        raise DataError(f"{path} holds {meta.n_samples} samples instead of the {n_samples} written")
    with h5py.File(path, "r") as f:
        owner = f[meta.keys[0]] if layout == "pdebench-groups" else f
        for k, v in static.items():
            if not np.array_equal(owner[k][()], v):
                raise DataError(f"{path}: {k!r} differs from the coordinates written")
        zero = np.ones(n_samples, bool)
        if layout == "pdebench-groups":
            for i, k in enumerate(meta.keys):
                zero[i] = not f[k]["data"][()].any()
        else:
            names = [k for k in f if isinstance(f[k], h5py.Dataset) and k not in static]
            for s in range(0, n_samples, 64):
                for k in names:
                    zero[s:s + 64] &= ~f[k][s:s + 64].reshape(min(64, n_samples - s), -1).any(axis=1)
    if zero.any():
        raise DataError(f"{path}: {int(zero.sum())} sample(s) are all zeros (first: {np.flatnonzero(zero)[:5].tolist()})")


def write_chunked(path: str | Path, layout: str, n_samples: int, make_chunk: Callable[[int, int], dict],
                  static: dict[str, np.ndarray], attrs: dict, chunk: int = 16, progress: bool = True) -> Path:
    """Write ``n_samples`` samples in ``layout``, ``make_chunk(chunk_index, count)`` at a time; resumable.

    The file is built as ``<path>.partial-<host>-<pid>`` (this process's own name) with the attribute
    ``n_done`` updated after each chunk; a later writer with the same settings takes the partial file of
    a dead one over and resumes from it. The finished file is checked (:func:`check_complete`) and only
    then renamed to ``path``. Callers that may run concurrently hold ``path``'s lock
    (:func:`xbench.tasks.datafiles.ensure_generated`). ``static``
    (coordinates) goes on the root, or into every group for ``pdebench-groups``; ``attrs`` go on the root
    and ``attrs["config"]`` also on every group. For ``pdebench-groups``, entries of the chunk named
    ``@NAME`` (one number per sample) become the attribute NAME of each sample's group (e.g. the
    sample's own parameter). Group data use lzf compression, as PDEBench's files.
    """
    if layout not in _INSPECT:
        raise unknown_name("writable data layout", layout, _INSPECT)
    if int(n_samples) != n_samples or n_samples < 1 or int(chunk) != chunk or chunk < 1:
        raise ValueError(f"n_samples and chunk must be positive integers, got {n_samples!r} and {chunk!r}")
    path = Path(path)
    partial = path.with_name(f"{path.name}.partial-{socket.gethostname()}-{os.getpid()}")
    static = {k: np.asarray(v, dtype=np.float32) for k, v in static.items()}
    settings = json.dumps({"layout": layout, "attrs": attrs, "n_samples": n_samples, "chunk": chunk,
                           "static": {k: list(v.shape) for k, v in static.items()}}, sort_keys=True, default=str)
    start = _resume_point(path, partial, settings)
    width = max(4, len(str(n_samples - 1)))
    with tqdm(total=n_samples, initial=start, desc=path.name, unit="sample", disable=not progress) as bar:
        for s in range(start, n_samples, chunk):
            count = min(chunk, n_samples - s)
            made = make_chunk(s // chunk, count)
            per_sample = {k[1:]: np.asarray(v, dtype=np.float64) for k, v in made.items() if k.startswith("@")}
            block = {k: np.asarray(v, dtype=np.float32) for k, v in made.items() if not k.startswith("@")}
            if per_sample and (layout != "pdebench-groups" or any(v.shape != (count,) for v in per_sample.values())):
                raise ValueError(f"per-sample attributes {sorted(per_sample)} need layout pdebench-groups and one "
                                 f"number per sample ({count}), got layout {layout}")
            _check_chunk(layout, block, count, s)
            with h5py.File(partial, "w" if s == 0 else "r+") as f:
                if s == 0:
                    f.attrs.update({**attrs, "xbench_settings": settings})
                    if layout != "pdebench-groups":
                        for k, v in static.items():
                            f.create_dataset(k, data=v)
                        for k, v in block.items():
                            f.create_dataset(k, (n_samples, *v.shape[1:]), np.float32,
                                             chunks=(1, *v.shape[1:]) if v.ndim <= 3 else (1, 1, *v.shape[2:]))
                if layout == "pdebench-groups":
                    for i in range(count):
                        name = f"{s + i:0{width}d}"
                        if name in f:  # written by the interrupted run after its last n_done
                            del f[name]
                        g = f.create_group(name)
                        d = block["data"][i]
                        g.create_dataset("data", data=d, compression="lzf", chunks=(1, *d.shape[1:]))
                        for k, v in static.items():
                            g.create_dataset(k, data=v)
                        if "config" in attrs:
                            g.attrs["config"] = attrs["config"]
                        for k, v in per_sample.items():
                            g.attrs[k] = v[i]
                else:
                    for k, v in block.items():
                        f[k][s:s + count] = v
                f.attrs["n_done"] = s + count
            bar.update(count)
    with h5py.File(partial, "r+") as f:
        for k in ("n_done", "xbench_settings"):
            f.attrs.pop(k, None)
    try:
        check_complete(partial, layout, n_samples, static)
    except DataError as e:
        partial.unlink()
        raise DataError(f"the generated file failed its final check and was removed ({e}); nothing was "
                        "renamed into place. Run the command again; if it fails the same way, report it.") from None
    partial.replace(path)
    return path
