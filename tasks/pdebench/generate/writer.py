"""Layout A writer for the 1D generators: :func:`xbench.tasks.pdebench.layouts.write_chunked` on ``tensor``.

Resumable (``.partial`` file with ``n_done``), each chunk from its own random stream (seed, chunk index):
see ``write_chunked``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from xbench.tasks.pdebench.layouts import write_chunked


def write_tensor_1d(path: Path, n_samples: int, x: np.ndarray, t: np.ndarray, dt_save: float,
                    make_chunk: Callable[[int, int], np.ndarray], attrs: dict, chunk: int = 64,
                    progress: bool = True) -> Path:
    """Fill ``path`` with ``make_chunk(chunk_index, count) -> (count, len(t), len(x))`` chunk by chunk.

    ``t-coordinate`` gets PDEBench's Nt+1 entries ``arange(Nt+1) * dt_save`` (the last one unused).
    """
    static = {"x-coordinate": x, "t-coordinate": np.arange(len(t) + 1) * dt_save}
    return write_chunked(path, "pdebench-1d", n_samples, lambda i, n: {"tensor": make_chunk(i, n)}, static, attrs,
                         chunk=chunk, progress=progress)
