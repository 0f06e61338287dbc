"""From the readers' splits to :class:`xbench.data.TaskData`, checked against the task's spec."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from xbench.data import TaskData
from xbench.errors import DataError
from xbench.tasks.registry import TaskSpec


def data_root_of(spec: TaskSpec, path: Path) -> Path:
    """The folder the task's files are relative to: ``path`` minus the parts of ``spec.data.path``."""
    return path.parents[len(Path(spec.data.path).parts) - 1]


def _check(spec: TaskSpec, split: str, x: np.ndarray, y: np.ndarray) -> None:
    """Shapes and label values the spec promises (the canvas of variable-size tasks is a setting)."""
    fixed = spec.protocol.get("variable_spatial", False)
    want_x = tuple(spec.input_shape) if not fixed else tuple(spec.input_shape[:1])
    got_x = tuple(x.shape[1:]) if not fixed else tuple(x.shape[1:2])
    if got_x != want_x:
        raise DataError(f"{spec.name}: the {split} inputs have per-sample shape {tuple(x.shape[1:])}, the task expects "
                        f"{tuple(spec.input_shape)}. Is the data root holding the right files for this task?")
    if spec.kind == "classification":
        if y.ndim != 1 or len(y) and (y.min() < 0 or y.max() >= spec.output_shape[0]):
            raise DataError(f"{spec.name}: the {split} labels must be class ids 0..{spec.output_shape[0] - 1}, found "
                            f"shape {y.shape} with values {y.min() if len(y) else '-'}..{y.max() if len(y) else '-'}.")
    elif spec.kind == "multi-label" and tuple(y.shape[1:]) != tuple(spec.output_shape):
        raise DataError(f"{spec.name}: the {split} labels have shape {tuple(y.shape[1:])}, not {spec.output_shape}.")


def load_nb360(spec: TaskSpec, path: Path, n_samples: int | None, *, source: str, sha256: str,
               allow_pickle: bool = False) -> TaskData:
    """Read the task's released (or generated) files with its reader (``spec.protocol["reader"]``)
    into train/val/test tensors; classification labels become int64, everything else float32."""
    from xbench.tasks.nasbench360.readers import read_task

    splits = read_task(spec.protocol["reader"], data_root_of(spec, path), allow_pickle=allow_pickle,
                       n_samples=n_samples, options=spec.protocol.get("reader_options"))
    x, y, meta = {}, {}, {}
    for name, s in splits.items():
        _check(spec, name, s.x, s.y)
        x[name] = torch.from_numpy(np.ascontiguousarray(s.x, dtype=np.float32))
        labels = np.ascontiguousarray(s.y, dtype=np.int64 if spec.kind == "classification" else np.float32)
        y[name] = torch.from_numpy(labels)
        meta[name] = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in s.meta.items()}
    n_file = sum(len(v) for v in x.values())
    return TaskData(spec.name, x, y, source, str(path), sha256, n_file, kind=spec.kind, meta=meta)
