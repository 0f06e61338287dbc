"""NAS-Bench-360's Spherical CIFAR-100 task: CIFAR-100 images projected onto the sphere.

File ``s2_cifar100.gz``: a gzip-compressed pickle of ``{"train": {"images": uint8 (50000, 3, 60, 60),
"labels": (50000,)}, "test": {"images": uint8 (10000, 3, 60, 60), "labels": (10000,)}}``; each image is
the three colour channels sampled on a 60x60 Driscoll-Healy grid of the sphere (bandwidth 30).

Splits (as NAS-Bench-360 does for CIFAR-100): train = the first 4/5 of the training images (40,000),
val = their last 1/5 (10,000), test = the test images (10,000). Inputs x = images / 255 as float32
(N, 3, 60, 60); targets y int64 (N,) in 0..99.
"""

from __future__ import annotations

import gzip
import logging
import os
import pickle
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from xbench.errors import DataError
from xbench.tasks.nasbench360.readers import FileInfo, Split, cap, load_pickle, register_reader

log = logging.getLogger(__name__)

SHORT = "spherical"
CLASSES = 100
SHAPE = (3, 60, 60)
URL = "https://drive.google.com/drive/folders/1OH0ymhG5lQcLRgFJqwtzY-nbJpiaV1ie"
FILES = [FileInfo("s2_cifar100.gz", URL, "272 MB",
                  "NAS-Bench-360's Google Drive folder; old link https://pde-xd.s3.amazonaws.com/spherical/s2_cifar100.gz",
                  converted="s2_cifar100.xbench.npz")]
SIZES = {"train": 40000, "val": 10000, "test": 10000}
_VAL_SHARE = SIZES["val"] / (SIZES["train"] + SIZES["val"])  # 1/5: exactly 10,000 of the released 50,000


def _bad(path: Path, what: str) -> DataError:
    return DataError(f"nb360-{SHORT}: {path} {what}. It is not NAS-Bench-360's s2_cifar100.gz as released, or it is "
                     f"damaged: download it again ({URL}).")


def _checked(images: Any, labels: Any, path: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 3, 60, 60), labels int64 (N,) in 0..99) of one part, or a DataError."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.dtype != np.uint8 or images.shape[1:] != SHAPE:
        raise _bad(path, f"has {part} images of shape {images.shape} and dtype {images.dtype}, not uint8 (N, 3, 60, 60)")
    if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
        raise _bad(path, f"has {part} labels of shape {labels.shape} and dtype {labels.dtype} for {len(images)} images")
    if len(labels) and (labels.min() < 0 or labels.max() >= CLASSES):
        raise _bad(path, f"has {part} labels {labels.min()}..{labels.max()}, not 0..{CLASSES - 1}")
    return images, labels.astype(np.int64)


def _from_pickle(path: Path, allow_pickle: bool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    try:
        d = load_pickle(path, allow_pickle=allow_pickle, short=SHORT, opener=gzip.open)
    except DataError:
        raise
    except Exception as e:  # gzip or the unpickler can fail in many ways on a damaged file
        raise _bad(path, f"cannot be decompressed and unpickled ({type(e).__name__}: {e})") from None
    out = {}
    for part in ("train", "test"):
        entry = d.get(part) if isinstance(d, dict) else None
        if not isinstance(entry, dict) or "images" not in entry or "labels" not in entry:
            raise _bad(path, f"has no {part!r} dict with 'images' and 'labels'")
        out[part] = _checked(entry["images"], entry["labels"], path, part)
    return out


def _from_npz(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {p: _checked(z[f"{p}_images"], z[f"{p}_labels"], path, p) for p in ("train", "test")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"nb360-{SHORT}: {path} is not a file `xbench data convert nb360-{SHORT}` wrote ({e}); "
                        "delete it and convert again.") from None


def read(root: Path, *, allow_pickle: bool = False, n_samples: int | None = None,
         options: dict[str, Any] | None = None) -> dict[str, Split]:
    """train/val/test as the module docstring says; the pickle needs ``allow_pickle`` unless converted."""
    if options:
        raise DataError(f"nb360-{SHORT} takes no reader options, got {sorted(options)}; accepted: none.")
    root = Path(root)
    converted = root / FILES[0].converted
    parts = _from_npz(converted) if converted.exists() else _from_pickle(root / FILES[0].path, allow_pickle)
    (xtr, ytr), (xte, yte) = parts["train"], parts["test"]
    n_train = len(xtr) - round(len(xtr) * _VAL_SHARE)
    raw = {"train": Split(xtr[:n_train], ytr[:n_train]), "val": Split(xtr[n_train:], ytr[n_train:]),
           "test": Split(xte, yte)}
    splits = {s: Split(np.divide(sp.x, 255, dtype=np.float32), sp.y) for s, sp in cap(raw, n_samples, SIZES).items()}
    log.info("nb360-%s: %s samples from %s", SHORT, {s: len(sp.x) for s, sp in splits.items()}, root)
    return splits


def convert(root: Path) -> list[Path]:
    """Unpickle ``s2_cifar100.gz`` once (the caller has opted in) and write ``s2_cifar100.xbench.npz`` with
    ``{train,test}_images`` uint8 (N, 3, 60, 60) and ``{train,test}_labels`` int64 (N,): the same arrays."""
    root = Path(root)
    parts = _from_pickle(root / FILES[0].path, allow_pickle=True)
    path = root / FILES[0].converted
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        np.savez(f, **{f"{p}_{k}": a for p, arrays in parts.items() for k, a in zip(("images", "labels"), arrays)})
    os.replace(tmp, path)  # never a half-written file under the name ``read`` prefers
    return [path]


def write_synthetic(root: Path, sizes: dict[str, int], seed: int) -> list[Path]:
    """``s2_cifar100.gz`` in the released layout, the training part holding sizes train + val images.
    Stand-in images: a bright disc (the projected picture) on black, each channel flat plus noise
    (sd 20), with the class coded in the channel means -- red 30 + 20 (y mod 10), green 30 + 20 (y div 10),
    blue 128 -- so the classes are learnable."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:60, :60]
    disc = ((rows - 29.5) ** 2 + (cols - 29.5) ** 2) < 26 ** 2
    d = {}
    for part, n in (("train", sizes["train"] + sizes["val"]), ("test", sizes["test"])):
        labels = rng.integers(0, CLASSES, n)
        means = np.stack([30 + 20 * (labels % 10), 30 + 20 * (labels // 10), np.full(n, 128)], axis=1)
        images = (means[:, :, None, None] + rng.normal(0, 20, (n, *SHAPE))) * disc
        d[part] = {"images": np.clip(images, 0, 255).astype(np.uint8), "labels": labels}
    path = Path(root) / FILES[0].path
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        pickle.dump(d, f, protocol=4)
    return [path]


register_reader(SHORT, sys.modules[__name__])
