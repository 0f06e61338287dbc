"""NAS-Bench-360's NinaPro DB5 task: gestures from windows of surface EMG.

Files (folder ``ninaPro/``, capital P): ``ninapro_{train,val,test}.npy``, float arrays (N, 52, 16) -- 52 time
steps of 16 sEMG channels (two 8-channel armbands) -- and ``label_{train,val,test}.npy``, N gesture ids
0..17. They are plain numeric arrays (no pickle).

Splits: NAS-Bench-360's own three files (2638/659/659). Inputs x float32 (N, 1, 16, 52): each window
transposed to channels x time, with a leading image-channel axis; targets y int64 (N,) in 0..17.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from xbench.errors import DataError
from xbench.tasks.nasbench360.readers import SPLITS, FileInfo, Split, cap, load_npy, register_reader

log = logging.getLogger(__name__)

SHORT = "ninapro"
CLASSES = 18
STEPS, CHANNELS = 52, 16
URL = "https://drive.google.com/drive/folders/1OH0ymhG5lQcLRgFJqwtzY-nbJpiaV1ie"
FILES = [FileInfo(f"ninaPro/{kind}_{split}.npy", URL, "~30 MB for all six ninaPro files",
                  f"NAS-Bench-360's Google Drive folder; old link https://pde-xd.s3.amazonaws.com/ninapro/{kind}_{split}.npy")
         for split in SPLITS for kind in ("ninapro", "label")]
SIZES = {"train": 2638, "val": 659, "test": 659}


def _bad(path: Path, what: str) -> DataError:
    return DataError(f"nb360-{SHORT}: {path} {what}. It is not NAS-Bench-360's NinaPro file as released, or it is "
                     f"damaged: download the six ninaPro files again ({URL}) into ninaPro/ under the data root.")


def _load(path: Path, allow_pickle: bool) -> np.ndarray:
    arr = load_npy(path, allow_pickle=allow_pickle, short=SHORT)
    if not isinstance(arr, np.ndarray) or arr.dtype == object:
        raise _bad(path, f"holds a {type(arr).__name__} of {getattr(arr, 'dtype', '-')}, not a numeric array")
    return arr


def _read_split(root: Path, split: str, allow_pickle: bool) -> Split:
    """One split: windows (N, 52, 16) -> x float32 (N, 1, 16, 52), labels -> int64 (N,) in 0..17."""
    xpath, ypath = root / f"ninaPro/ninapro_{split}.npy", root / f"ninaPro/label_{split}.npy"
    x, y = _load(xpath, allow_pickle), _load(ypath, allow_pickle).reshape(-1)
    if x.shape[1:] != (STEPS, CHANNELS) or not np.issubdtype(x.dtype, np.number):
        raise _bad(xpath, f"has shape {x.shape} and dtype {x.dtype}, not numbers of shape (N, {STEPS}, {CHANNELS})")
    if len(y) != len(x):
        raise _bad(ypath, f"has {len(y)} labels for the {len(x)} windows of {xpath.name}")
    if not np.issubdtype(y.dtype, np.integer):
        if not (np.issubdtype(y.dtype, np.floating) and np.array_equal(y, np.round(y))):
            raise _bad(ypath, f"has labels of dtype {y.dtype} that are not whole numbers")
    if len(y) and (y.min() < 0 or y.max() >= CLASSES):
        raise _bad(ypath, f"has labels {y.min()}..{y.max()}, not 0..{CLASSES - 1}")
    return Split(x, y.astype(np.int64))


def read(root: Path, *, allow_pickle: bool = False, n_samples: int | None = None,
         options: dict[str, Any] | None = None) -> dict[str, Split]:
    """NAS-Bench-360's train/val/test files, shaped as the module docstring says."""
    if options:
        raise DataError(f"nb360-{SHORT} takes no reader options, got {sorted(options)}; accepted: none.")
    raw = cap({s: _read_split(Path(root), s, allow_pickle) for s in SPLITS}, n_samples, SIZES)
    splits = {s: Split(np.ascontiguousarray(sp.x.transpose(0, 2, 1)[:, None], dtype=np.float32), sp.y)
              for s, sp in raw.items()}
    log.info("nb360-%s: %s samples from %s", SHORT, {s: len(sp.x) for s, sp in splits.items()}, root)
    return splits


def write_synthetic(root: Path, sizes: dict[str, int], seed: int) -> list[Path]:
    """The six files in the released layout (float64 windows (N, 52, 16), int64 labels). Stand-in windows:
    unit Gaussian noise plus a constant per-class offset -- 3 on channel (y mod 16) and 1.5 (y div 16) on
    every channel -- so the gesture is learnable from the channel means."""
    rng = np.random.default_rng(seed)
    folder = Path(root) / "ninaPro"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for split in SPLITS:
        y = rng.integers(0, CLASSES, sizes[split])
        offset = 3.0 * np.eye(CHANNELS)[y % CHANNELS] + 1.5 * (y // CHANNELS)[:, None]
        x = rng.normal(0, 1, (len(y), STEPS, CHANNELS)) + offset[:, None, :]
        for kind, arr in (("ninapro", x), ("label", y)):
            np.save(folder / f"{kind}_{split}.npy", arr)
            out.append(folder / f"{kind}_{split}.npy")
    return out


register_reader(SHORT, sys.modules[__name__])
