"""NAS-Bench-360's CIFAR-100 task, read from torchvision's python release of CIFAR-100.

Files (``cifar-100-python/`` from ``cifar-100-python.tar.gz`` unpacked under the data root): ``train``
(50,000 images) and ``test`` (10,000), each a pickled dict whose ``data`` is uint8 (N, 3072) -- per image
1024 red, then 1024 green, then 1024 blue values of the 32x32 grid in row-major order -- and whose
``fine_labels`` are the N class ids 0..99. The release was pickled by Python 2, so its keys come back
as ``str`` or ``bytes`` (``b"data"``) depending on the unpickler's encoding; both are accepted.

Splits (NAS-Bench-360's search protocol): train = the first 4/5 of the training file (40,000), val = its
last 1/5 (10,000), test = the test file (10,000). Inputs x = data / 255 as float32 (N, 3, 32, 32) (the
reshape of each 3072-row is exactly channel, row, column); targets y int64 (N,) in 0..99.
"""

from __future__ import annotations

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

SHORT = "cifar100"
CLASSES = 100
URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
_NOTE = "unpack the tarball under the data root (it holds the folder cifar-100-python/)"
FILES = [
    FileInfo("cifar-100-python/train", URL, "~155 MB (in the 161 MB tarball)", _NOTE,
             converted="cifar-100-python/train.xbench.npz"),
    FileInfo("cifar-100-python/test", URL, "~31 MB (in the 161 MB tarball)", _NOTE,
             converted="cifar-100-python/test.xbench.npz"),
]
SIZES = {"train": 40000, "val": 10000, "test": 10000}
_VAL_SHARE = SIZES["val"] / (SIZES["train"] + SIZES["val"])  # 1/5: exactly 10,000 of the released 50,000


def _bad(path: Path, what: str) -> DataError:
    return DataError(f"nb360-{SHORT}: {path} {what}. It is not the CIFAR-100 python release as published, or it is "
                     f"damaged: download {URL} again and unpack it under the data root.")


def _field(d: Any, key: str, path: Path) -> Any:
    """``d[key]`` for ``str`` or ``bytes`` keys (how a Python 2 pickle's keys load depends on the encoding)."""
    if not isinstance(d, dict):
        raise _bad(path, f"holds a {type(d).__name__}, not a dict")
    for k in (key, key.encode()):
        if k in d:
            return d[k]
    raise _bad(path, f"has no {key!r} entry (found {sorted(map(str, d))})")


def _checked(data: Any, labels: Any, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(data uint8 (N, 3072), labels int64 (N,) in 0..99), or a DataError saying what is off."""
    data, labels = np.asarray(data), np.asarray(labels)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise _bad(path, f"has data of shape {data.shape} and dtype {data.dtype}, not uint8 (N, 3072)")
    if labels.shape != (len(data),) or not np.issubdtype(labels.dtype, np.integer):
        raise _bad(path, f"has labels of shape {labels.shape} and dtype {labels.dtype} for {len(data)} images")
    if len(labels) and (labels.min() < 0 or labels.max() >= CLASSES):
        raise _bad(path, f"has labels {labels.min()}..{labels.max()}, not 0..{CLASSES - 1}")
    return data, labels.astype(np.int64)


def _from_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return _checked(z["data"], z["labels"], path)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"nb360-{SHORT}: {path} is not a file `xbench data convert nb360-{SHORT}` wrote ({e}); "
                        "delete it and convert again.") from None


def _from_pickle(path: Path, allow_pickle: bool) -> tuple[np.ndarray, np.ndarray]:
    try:
        d = load_pickle(path, allow_pickle=allow_pickle, short=SHORT)
    except DataError:
        raise
    except Exception as e:  # an unpickler can fail in many ways on a damaged file
        raise _bad(path, f"cannot be unpickled ({type(e).__name__}: {e})") from None
    return _checked(_field(d, "data", path), _field(d, "fine_labels", path), path)


def _load(root: Path, info: FileInfo, allow_pickle: bool) -> tuple[np.ndarray, np.ndarray]:
    """One file's (data, labels): from the converted ``.npz`` when it exists, else from the pickle."""
    converted = root / info.converted
    return _from_npz(converted) if converted.exists() else _from_pickle(root / info.path, allow_pickle)


def _split(data: np.ndarray, labels: np.ndarray) -> Split:
    return Split(data.reshape(-1, 3, 32, 32), labels)


def read(root: Path, *, allow_pickle: bool = False, n_samples: int | None = None,
         options: dict[str, Any] | None = None) -> dict[str, Split]:
    """train/val/test as the module docstring says; the pickles need ``allow_pickle`` unless converted."""
    if options:
        raise DataError(f"nb360-{SHORT} takes no reader options, got {sorted(options)}; accepted: none.")
    root = Path(root)
    (xtr, ytr), (xte, yte) = (_load(root, f, allow_pickle) for f in FILES)
    n_train = len(xtr) - round(len(xtr) * _VAL_SHARE)
    raw = {"train": _split(xtr[:n_train], ytr[:n_train]), "val": _split(xtr[n_train:], ytr[n_train:]),
           "test": _split(xte, yte)}
    splits = {s: Split(np.divide(sp.x, 255, dtype=np.float32), sp.y)
              for s, sp in cap(raw, n_samples, SIZES).items()}  # cap first: float32 of all 50k is 614 MB
    log.info("nb360-%s: %s samples from %s", SHORT, {s: len(sp.x) for s, sp in splits.items()}, root)
    return splits


def _save_npz(path: Path, **arrays: np.ndarray) -> Path:
    """Write ``arrays`` to ``path`` via a temporary file, so an interrupted write leaves no half file."""
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)
    return path


def convert(root: Path) -> list[Path]:
    """Unpickle both files once (the caller has opted in) and write ``<name>.xbench.npz`` beside each, with
    ``data`` uint8 (N, 3072) and ``labels`` int64 (N,): the same arrays, no pickle."""
    root = Path(root)
    out = []
    for info in FILES:
        data, labels = _from_pickle(root / info.path, allow_pickle=True)
        out.append(_save_npz(root / info.converted, data=data, labels=labels))
    return out


def write_synthetic(root: Path, sizes: dict[str, int], seed: int) -> list[Path]:
    """``train`` (sizes train + val images) and ``test`` pickles in the release's layout (bytes keys, as
    Python 2 wrote them). Stand-in images: each channel is flat grey plus noise (sd 20), with the class
    coded in the channel means -- red 30 + 20 (y mod 10), green 30 + 20 (y div 10), blue 128 -- so the
    classes are learnable. ``coarse_labels`` (y div 5) only fills the layout."""
    rng = np.random.default_rng(seed)
    folder = Path(root) / "cifar-100-python"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, n in (("train", sizes["train"] + sizes["val"]), ("test", sizes["test"])):
        labels = rng.integers(0, CLASSES, n)
        means = np.stack([30 + 20 * (labels % 10), 30 + 20 * (labels // 10), np.full(n, 128)], axis=1)
        images = means[:, :, None, None] + rng.normal(0, 20, (n, 3, 32, 32))
        d = {b"batch_label": f"{name} batch 1 of 1".encode(), b"fine_labels": labels.tolist(),
             b"coarse_labels": (labels // 5).tolist(), b"filenames": [f"img_{i}.png".encode() for i in range(n)],
             b"data": np.clip(images, 0, 255).astype(np.uint8).reshape(n, 3 * 32 * 32)}
        with open(folder / name, "wb") as f:
            pickle.dump(d, f, protocol=2)
        out.append(folder / name)
    return out


register_reader(SHORT, sys.modules[__name__])
