"""NAS-Bench-360's Satellite task: land-cover class of a pixel from its satellite image time series.

Files ``satellite_train.npy`` (900,000 series) and ``satellite_test.npy`` (100,000): each ``np.save`` of a
dict (so a 0-d object array, i.e. a pickle, unwrapped with ``[()]``) with ``"data"`` float (N, 46) -- one
value per acquisition date -- and ``"label"`` (N,) class ids 1..24.

Splits (NAS-Bench-360): train = the first 8/9 of the training file (800,000), val = its last 1/9 (100,000),
test = the test file (100,000). Inputs x float32 (N, 1, 46), raw values (ORCA feeds them unscaled; the
harness normalises on the training split); targets y = label - 1, int64 (N,) in 0..23.
"""

from __future__ import annotations

import logging
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from xbench.errors import DataError
from xbench.tasks.nasbench360.readers import FileInfo, Split, cap, load_npy, register_reader

log = logging.getLogger(__name__)

SHORT = "satellite"
CLASSES = 24
STEPS = 46
URL = "https://drive.google.com/drive/folders/1OH0ymhG5lQcLRgFJqwtzY-nbJpiaV1ie"
FILES = [FileInfo(f"satellite_{part}.npy", URL, size,
                  f"NAS-Bench-360's Google Drive folder; old link https://pde-xd.s3.amazonaws.com/satellite/satellite_{part}.npy",
                  converted=f"satellite_{part}.xbench.npz")
         for part, size in (("train", "322 MB"), ("test", "35 MB"))]
SIZES = {"train": 800000, "val": 100000, "test": 100000}
_VAL_SHARE = SIZES["val"] / (SIZES["train"] + SIZES["val"])  # 1/9: exactly 100,000 of the released 900,000


def _bad(path: Path, what: str) -> DataError:
    return DataError(f"nb360-{SHORT}: {path} {what}. It is not NAS-Bench-360's satellite file as released, or it is "
                     f"damaged: download it again ({URL}).")


def _checked(data: Any, label: Any, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(data (N, 46) as stored, label int64 (N,) in 1..24 as stored), or a DataError saying what is off."""
    data, label = np.asarray(data), np.asarray(label)
    if data.ndim != 2 or data.shape[1] != STEPS or not np.issubdtype(data.dtype, np.number):
        raise _bad(path, f"has 'data' of shape {data.shape} and dtype {data.dtype}, not numbers of shape (N, {STEPS})")
    if label.shape != (len(data),) or not np.issubdtype(label.dtype, np.number):
        raise _bad(path, f"has 'label' of shape {label.shape} and dtype {label.dtype} for {len(data)} series")
    if len(label) and (label.min() < 1 or label.max() > CLASSES or not np.array_equal(label, np.round(label))):
        raise _bad(path, f"has labels {label.min()}..{label.max()}; the release stores whole class ids 1..{CLASSES}")
    return data, label.astype(np.int64)


def _from_npy(path: Path, allow_pickle: bool) -> tuple[np.ndarray, np.ndarray]:
    try:
        d = load_npy(path, allow_pickle=allow_pickle, short=SHORT)
    except DataError:
        raise
    except Exception as e:  # the unpickler can fail in many ways on a damaged file
        raise _bad(path, f"cannot be loaded ({type(e).__name__}: {e})") from None
    d = d[()] if isinstance(d, np.ndarray) and d.dtype == object and d.ndim == 0 else d
    if not isinstance(d, dict) or "data" not in d or "label" not in d:
        raise _bad(path, "does not hold a dict with 'data' and 'label'")
    return _checked(d["data"], d["label"], path)


def _from_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return _checked(z["data"], z["label"], path)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"nb360-{SHORT}: {path} is not a file `xbench data convert nb360-{SHORT}` wrote ({e}); "
                        "delete it and convert again.") from None


def _load(root: Path, info: FileInfo, allow_pickle: bool) -> tuple[np.ndarray, np.ndarray]:
    """One file's (data, label): from the converted ``.npz`` when it exists, else from the pickled ``.npy``."""
    converted = root / info.converted
    return _from_npz(converted) if converted.exists() else _from_npy(root / info.path, allow_pickle)


def read(root: Path, *, allow_pickle: bool = False, n_samples: int | None = None,
         options: dict[str, Any] | None = None) -> dict[str, Split]:
    """train/val/test as the module docstring says; the files need ``allow_pickle`` unless converted."""
    if options:
        raise DataError(f"nb360-{SHORT} takes no reader options, got {sorted(options)}; accepted: none.")
    root = Path(root)
    (xtr, ytr), (xte, yte) = (_load(root, f, allow_pickle) for f in FILES)
    n_train = len(xtr) - round(len(xtr) * _VAL_SHARE)
    raw = {"train": Split(xtr[:n_train], ytr[:n_train]), "val": Split(xtr[n_train:], ytr[n_train:]),
           "test": Split(xte, yte)}
    splits = {s: Split(np.ascontiguousarray(sp.x[:, None, :], dtype=np.float32), sp.y - 1)
              for s, sp in cap(raw, n_samples, SIZES).items()}
    log.info("nb360-%s: %s samples from %s", SHORT, {s: len(sp.x) for s, sp in splits.items()}, root)
    return splits


def convert(root: Path) -> list[Path]:
    """Unpickle both files once (the caller has opted in) and write ``satellite_<part>.xbench.npz`` beside
    each, with ``data`` (N, 46) and ``label`` int64 (N,) 1..24 exactly as stored: no pickle."""
    root = Path(root)
    out = []
    for info in FILES:
        data, label = _from_npy(root / info.path, allow_pickle=True)
        path = root / info.converted
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as f:
            np.savez(f, data=data, label=label)
        os.replace(tmp, path)  # never a half-written file under the name ``read`` prefers
        out.append(path)
    return out


def write_synthetic(root: Path, sizes: dict[str, int], seed: int) -> list[Path]:
    """Both files in the released layout (``np.save`` of a dict; the training file holds sizes train + val
    series; labels 1..24). Stand-in series: a yearly cycle 1000 + 500 sin(2 pi t / 46 + 2 pi (label - 1) / 24)
    plus noise (sd 30), the class coded in the phase, so it is learnable."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    t = np.arange(STEPS)
    out = []
    for info, n in zip(FILES, (sizes["train"] + sizes["val"], sizes["test"])):
        label = rng.integers(1, CLASSES + 1, n)
        phase = 2 * np.pi * (label - 1) / CLASSES
        data = 1000 + 500 * np.sin(2 * np.pi * t / STEPS + phase[:, None]) + rng.normal(0, 30, (n, STEPS))
        np.save(root / info.path, {"data": data.astype(np.float32), "label": label}, allow_pickle=True)
        out.append(root / info.path)
    return out


register_reader(SHORT, sys.modules[__name__])
