"""Task loaders shared by every PDEBench family: one frame (and channels) in, one frame out.

``load_single_step`` implements ORCA's single-step protocol (docs/pdebench.md §6) on any layout of
:mod:`xbench.tasks.pdebench.layouts`: x = frame ``input_frame``, y = frame ``target_frame`` of the
first ``n_samples`` samples, every ``spatial_stride``-th cell on every spatial axis (PDEBench's
``reduced_resolution``: strided, no averaging), split by ``spec.split`` (PDEBench's conventions:
single files test = first 10 %, group-per-seed files test = last 10 % of the sorted keys).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from xbench.data import TaskData, input_groups, split_indices
from xbench.errors import DataError
from xbench.tasks.pdebench.layouts import inspect, read_frames
from xbench.tasks.registry import TaskSpec


def load_single_step(spec: TaskSpec, path: Path, n_samples: int | None, *, source: str, sha256: str,
                     allow_pickle: bool = False) -> TaskData:
    """x = (input_channels of) frame ``input_frame``, y = (target_channels of) frame ``target_frame``.
    (PDEBench's files are HDF5 and hold no pickles: ``allow_pickle`` changes nothing.)

    ``spec.protocol`` keys: ``input_frame``, ``target_frame``, optional ``target_time`` (checked against
    the file's time axis, tolerance 1e-4 relative), ``input_channels`` / ``target_channels`` (indices in
    the layout's channel order; default all) and ``spatial_stride`` (default 1). Tensors (N, C, *X).
    """
    p = spec.protocol
    meta = inspect(path, spec.data.layout)
    stride = int(p.get("spatial_stride", 1))
    all_ch = list(range(len(meta.channels)))
    cin, cout = list(p.get("input_channels", all_ch)), list(p.get("target_channels", all_ch))
    strided = tuple(len(range(0, n, stride)) for n in meta.spatial)
    grid = "x".join(map(str, meta.spatial))
    if strided != tuple(spec.input_shape[1:]):
        full = "x".join(str(n * stride) for n in spec.input_shape[1:])
        raise DataError(f"{path} has {grid} cells; {spec.name} expects {full} (it strides by {stride} to "
                        f"{tuple(spec.input_shape[1:])}). Is this the right file for the task?")
    for what, shape, ch in (("input", spec.input_shape, cin), ("output", spec.output_shape, cout)):
        if (len(ch), *strided) != tuple(shape):
            raise DataError(f"{path} has channels {meta.channels}; {spec.name} takes channels {ch} as its {what}, "
                            f"shape {(len(ch), *strided)} instead of {tuple(shape)}. Is this the right file?")
    if "target_time" in p:
        t = meta.t
        t_target = float(t[p["target_frame"]]) if t is not None and p["target_frame"] < meta.n_frames else None
        if t_target is None or abs(t_target - p["target_time"]) > 1e-4 * max(1.0, abs(p["target_time"])):
            raise DataError(
                f"{path}: frame {p['target_frame']} is at t={t_target}, but {spec.name} predicts "
                f"t={p['target_time']}. The file's time axis does not match the task."
            )
    used = sorted(set(cin) | set(cout))
    arr = read_frames(meta, [p["input_frame"], p["target_frame"]], n_samples, used)
    arr = arr[(Ellipsis,) + tuple(slice(None, None, stride) for _ in meta.spatial)]
    tensor = torch.from_numpy(np.ascontiguousarray(arr))
    xi, yi = [used.index(c) for c in cin], [used.index(c) for c in cout]
    split = dict(spec.split)
    groups = input_groups(tensor[:, 0][:, xi]) if split.pop("grouped", False) else None
    idx = split_indices(len(tensor), **split, groups=groups)
    x = {s: tensor[i, 0][:, xi].clone() for s, i in idx.items()}
    y = {s: tensor[i, 1][:, yi].clone() for s, i in idx.items()}
    return TaskData(spec.name, x, y, source, str(path), sha256, meta.n_samples)
