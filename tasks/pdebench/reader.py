"""Reader of PDEBench's 1D scalar "tensor" files (layout A of specs/pdebench.md §2).

A file holds ``tensor`` (N, Nt, Nx) float32 = [sample, frame, cell], ``x-coordinate`` (Nx,) cell
centres and ``t-coordinate`` with Nt+1 entries (the last one unused) in released files. Files that
xbench generated carry an ``xbench_generator`` attribute. Every problem is reported as a
:class:`~xbench.errors.DataError` naming the file and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xbench.errors import DataError


@dataclass(frozen=True)
class Tensor1DFile:
    path: Path
    n_samples: int
    n_frames: int
    nx: int
    x: np.ndarray
    t: np.ndarray
    attrs: dict

    @property
    def generated(self) -> bool:
        return "xbench_generator" in self.attrs


def _open(path: Path):
    import h5py

    if not path.is_file():
        raise DataError(f"data file {path} does not exist.")
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise DataError(
            f"{path} is not a readable HDF5 file ({e}). It is probably truncated or corrupt: delete it "
            "and download it again (or, for a generated file, run the command again to regenerate it)."
        ) from None


def inspect_1d(path: str | Path) -> Tensor1DFile:
    """Check the layout of a 1D tensor file and return its metadata (reads no field data)."""
    path = Path(path)
    with _open(path) as f:
        missing = [k for k in ("tensor", "x-coordinate", "t-coordinate") if k not in f]
        if missing:
            raise DataError(
                f"{path} lacks the dataset(s) {', '.join(missing)}; a PDEBench 1D file has 'tensor' "
                f"(N, Nt, Nx), 'x-coordinate' and 't-coordinate'. Found: {', '.join(sorted(f.keys()))}. "
                "Is this the right file for the task?"
            )
        shape = f["tensor"].shape
        if len(shape) != 3:
            raise DataError(f"{path}: 'tensor' has shape {shape}; a 1D PDEBench file has (N, Nt, Nx).")
        x, t = f["x-coordinate"][:], f["t-coordinate"][:]
        attrs = {k: (v.item() if hasattr(v, "item") else v) for k, v in f.attrs.items()}
    n, nt, nx = shape
    if x.shape != (nx,):
        raise DataError(f"{path}: 'x-coordinate' has shape {x.shape} but 'tensor' has {nx} cells.")
    if len(t) not in (nt, nt + 1):
        raise DataError(f"{path}: 't-coordinate' has {len(t)} entries for {nt} frames (expected {nt} or {nt + 1}).")
    return Tensor1DFile(path, n, nt, nx, x, t[:nt], attrs)


def read_1d_frames(meta: Tensor1DFile, frames: list[int], n_samples: int | None = None) -> np.ndarray:
    """Frames ``frames`` of the first ``n_samples`` samples: array (n, len(frames), Nx) float32."""
    import h5py

    n = meta.n_samples if n_samples is None else n_samples
    if n > meta.n_samples:
        raise DataError(f"{meta.path} holds {meta.n_samples} samples; {n} were asked for. Lower n_samples.")
    bad = [fr for fr in frames if not 0 <= fr < meta.n_frames]
    if bad:
        raise DataError(f"{meta.path} has {meta.n_frames} frames; the task needs frame(s) {bad}.")
    try:
        with h5py.File(meta.path, "r") as f:
            out = np.stack([f["tensor"][:n, fr, :] for fr in frames], axis=1)
    except OSError as e:
        raise DataError(f"reading {meta.path} failed ({e}); the file is probably corrupt: delete it and fetch it again.") from None
    if not np.isfinite(out).all():
        bad_rows = np.unique(np.nonzero(~np.isfinite(out))[0])
        raise DataError(
            f"{meta.path}: {len(bad_rows)} sample(s) contain NaN or inf (first: {bad_rows[:5].tolist()}). "
            "The file is damaged; fetch or regenerate it."
        )
    return out.astype(np.float32, copy=False)
