"""Layout A (PDEBench's 1D ``tensor`` files) through :mod:`xbench.tasks.pdebench.layouts`.

Kept for the 1D generators and their tests: ``inspect_1d`` / ``read_1d_frames`` are the generic
``inspect`` / ``read_frames`` of layout ``pdebench-1d`` with the single channel axis dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xbench.tasks.pdebench.layouts import FileMeta, inspect, read_frames


@dataclass(frozen=True)
class Tensor1DFile:
    """A layout-A file: ``n_samples`` x ``n_frames`` x ``nx`` cells, coordinates ``x``, ``t`` (Nt entries)."""

    meta: FileMeta

    path = property(lambda self: self.meta.path)
    n_samples = property(lambda self: self.meta.n_samples)
    n_frames = property(lambda self: self.meta.n_frames)
    nx = property(lambda self: self.meta.spatial[0])
    x = property(lambda self: self.meta.coords["x"])
    t = property(lambda self: self.meta.coords["t"])
    attrs = property(lambda self: self.meta.attrs)
    generated = property(lambda self: self.meta.generated)


def inspect_1d(path: str | Path) -> Tensor1DFile:
    """Check the layout of a 1D tensor file and return its metadata (reads no field data)."""
    return Tensor1DFile(inspect(path, "pdebench-1d"))


def read_1d_frames(meta: Tensor1DFile, frames: Sequence[int], n_samples: int | None = None) -> np.ndarray:
    """Frames ``frames`` of the first ``n_samples`` samples: array (n, len(frames), Nx) float32."""
    return read_frames(meta.meta, frames, n_samples)[:, :, 0]
