"""Resumable writer of PDEBench's 1D "tensor" layout (specs/pdebench.md §2, layout A).

The file is written as ``<path>.partial``: ``tensor`` (N, Nt, Nx) float32 is created at full size,
samples are filled chunk by chunk and the attribute ``n_done`` is updated after each chunk is
flushed. An interrupted generation resumes from ``n_done`` when the partial file has the same
settings; the file is renamed to its final name only when complete, so a half-written file never
carries the final name. Each chunk draws from its own random stream (seed, chunk index), so a
resumed file equals an uninterrupted one and a larger file starts with the samples of a smaller one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
from tqdm.auto import tqdm

log = logging.getLogger(__name__)


def write_tensor_1d(path: Path, n_samples: int, x: np.ndarray, t: np.ndarray, dt_save: float,
                    make_chunk: Callable[[int, int], np.ndarray], attrs: dict, chunk: int = 64,
                    progress: bool = True) -> Path:
    """Fill ``path`` with ``make_chunk(start, count) -> (count, len(t), len(x))`` chunk by chunk."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    settings = json.dumps({**attrs, "n_samples": n_samples, "nx": len(x), "nt": len(t), "chunk": chunk},
                          sort_keys=True, default=str)
    start = 0
    if partial.exists():
        try:
            with h5py.File(partial, "r") as f:
                if f.attrs.get("xbench_settings") == settings:
                    start = int(f.attrs["n_done"])
        except (OSError, KeyError):
            start = 0
        if start == 0:
            partial.unlink()
        else:
            log.info("resuming %s at sample %d of %d", partial, start, n_samples)
    if start == 0:
        with h5py.File(partial, "w") as f:
            f.create_dataset("tensor", shape=(n_samples, len(t), len(x)), dtype=np.float32,
                             chunks=(1, len(t), len(x)))
            f.create_dataset("x-coordinate", data=x.astype(np.float32))
            f.create_dataset("t-coordinate", data=(np.arange(len(t) + 1) * dt_save).astype(np.float32))
            for k, v in attrs.items():
                f.attrs[k] = v
            f.attrs["xbench_settings"] = settings
            f.attrs["n_done"] = 0
    with tqdm(total=n_samples, initial=start, desc=path.name, unit="sample", disable=not progress) as bar:
        for s in range(start, n_samples, chunk):
            count = min(chunk, n_samples - s)
            block = make_chunk(s // chunk, count)
            if not np.isfinite(block).all():
                raise FloatingPointError(f"the solver produced non-finite values in samples {s}..{s + count - 1}")
            with h5py.File(partial, "r+") as f:
                f["tensor"][s:s + count] = block
                f.attrs["n_done"] = s + count
                f.flush()
            bar.update(count)
    with h5py.File(partial, "r+") as f:
        del f.attrs["n_done"]
        del f.attrs["xbench_settings"]
    partial.replace(path)
    return path
