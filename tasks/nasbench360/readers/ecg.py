"""ECG (PhysioNet/CinC Challenge 2017): single-lead recordings cut into windows, as NAS-Bench-360 does.

File: ``challenge2017.pkl``, a pickle of ``{"data": object array of 8528 variable-length integer
signals (300 Hz), "label": array of 'N', 'A', 'O', '~'}``; ``xbench data convert nb360-ecg`` writes
``challenge2017.xbench.npz`` (``signals``: every record concatenated, ``offsets`` (R + 1,): record r
is ``signals[offsets[r]:offsets[r + 1]]``, ``labels`` (R,): class ids), which ``read`` prefers.

Per record: z-score ``s <- (s - mean(s)) / std(s)`` (population std), label N -> 0, A -> 1, O -> 2,
~ -> 3. Split by record, as NAS-Bench-360's loader with a validation split: sklearn
``train_test_split(records, test_size=0.2, random_state=0)`` -> (train, held out), then
``train_test_split(held out, test_size=0.5, random_state=0)`` -> (val, test): the first part of the
second split is val, the second is test. Windows: a record of n samples with class stride ``s_c``
(N 500, A 83, O 250, ~ 25; the minority classes are oversampled in every split, as in the release)
gives the windows ``s[j:j + 1000]`` for ``j in range(0, n - 1000, s_c)`` (so a record of exactly
1000 samples gives none). ``x`` (N, 1, 1000) float32, ``y`` int64, ``meta["record"]`` the record's
index in the file (int64). Windows stay in record order (the order ``train_test_split`` returns the
records in, then start position); the release shuffles them, the trainer shuffles here.
"""

from __future__ import annotations

import itertools
import logging
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from xbench.errors import DataError
from xbench.tasks.nasbench360.readers import FileInfo, Split, load_pickle, register_reader, split_caps

log = logging.getLogger(__name__)

SHORT = "ecg"
URL = "https://drive.google.com/drive/folders/1OH0ymhG5lQcLRgFJqwtzY-nbJpiaV1ie"
FILES = [FileInfo("challenge2017.pkl", URL, "150 MB", "old link https://pde-xd.s3.amazonaws.com/ECG/challenge2017.pkl",
                  converted="challenge2017.xbench.npz")]
SIZES = {"train": 260_000, "val": 33_000, "test": 33_000}  # approximate window counts of the release
CLASSES = ("N", "A", "O", "~")
WINDOW = 1000
STRIDES = np.array([500, 500 // 6, 500 // 2, 500 // 20])  # per class id: N, A, O, ~


def _binary(path: Path) -> Any:
    return open(path, "rb")


def _from_pickle(path: Path, allow_pickle: bool) -> tuple[list[np.ndarray], np.ndarray]:
    res = load_pickle(path, allow_pickle=allow_pickle, short=SHORT, opener=_binary)
    if not isinstance(res, dict) or "data" not in res or "label" not in res or len(res["data"]) != len(res["label"]):
        raise DataError(f"{path} should hold a dict with 'data' (the signals) and 'label' (one per signal); it does "
                        "not. Is this NAS-Bench-360's challenge2017.pkl? Download it again.")
    names = [str(v) for v in np.asarray(res["label"]).ravel()]
    bad = sorted(set(names) - set(CLASSES))
    if bad:
        raise DataError(f"{path}: labels must be one of {CLASSES}, found {bad[:5]}; the file is not the release's.")
    signals = [np.asarray(s).ravel() for s in res["data"]]
    return signals, np.array([CLASSES.index(v) for v in names], np.int64)


def _from_npz(path: Path) -> tuple[list[np.ndarray], np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as f:
            signals, offsets, labels = f["signals"], f["offsets"].astype(np.int64), f["labels"].astype(np.int64)
    except (OSError, ValueError, KeyError) as e:
        raise DataError(f"{path} is not a readable converted ECG file ({e}); delete it and run "
                        f"`xbench data convert nb360-{SHORT}` again.") from None
    if (len(offsets) != len(labels) + 1 or offsets[0] != 0 or offsets[-1] != len(signals)
            or np.any(np.diff(offsets) < 0) or np.any((labels < 0) | (labels >= len(CLASSES)))):
        raise DataError(f"{path}: offsets, signals and labels are inconsistent; delete it and run "
                        f"`xbench data convert nb360-{SHORT}` again.")
    return [signals[a:b] for a, b in itertools.pairwise(offsets)], labels


def _records(root: Path, allow_pickle: bool) -> tuple[list[np.ndarray], np.ndarray]:
    converted = root / FILES[0].converted
    return _from_npz(converted) if converted.exists() else _from_pickle(root / FILES[0].path, allow_pickle)


def record_splits(n_records: int) -> dict[str, np.ndarray]:
    """Record indices of each split, in the order ``train_test_split`` returns them."""
    train, held = train_test_split(np.arange(n_records), test_size=0.2, random_state=0)
    val, test = train_test_split(held, test_size=0.5, random_state=0)
    return {"train": train, "val": val, "test": test}


def n_windows(length: int, label: int) -> int:
    """``len(range(0, length - 1000, stride[label]))``."""
    return len(range(0, length - WINDOW, int(STRIDES[label])))


def _windows(signals: list[np.ndarray], labels: np.ndarray, records: np.ndarray, limit: int | None) -> Split:
    counts = np.array([n_windows(len(signals[r]), labels[r]) for r in records], np.int64)
    total = int(counts.sum()) if limit is None else min(limit, int(counts.sum()))
    x = np.empty((total, 1, WINDOW), np.float32)
    rec = np.empty(total, np.int64)
    i = 0
    for r, c in zip(records, counts):
        if i >= total:
            break
        s = signals[r].astype(np.float64)
        std = s.std()
        if std == 0:
            log.warning("ECG record %d is constant; its windows are zeros", r)
        s = (s - s.mean()) / (std if std > 0 else 1.0)
        starts = np.arange(0, len(s) - WINDOW, STRIDES[labels[r]])[:total - i]
        x[i:i + len(starts), 0] = s[starts[:, None] + np.arange(WINDOW)]
        rec[i:i + len(starts)] = r
        i += len(starts)
    return Split(x, labels[rec], {"record": rec})


def read(root: Path, *, allow_pickle: bool = False, n_samples: int | None = None,
         options: dict[str, Any] | None = None) -> dict[str, Split]:
    """The train/val/test windows (capped by window count, in order, when ``n_samples`` is set)."""
    if options:
        raise DataError(f"nb360-{SHORT} takes no reader options, got {sorted(options)}; accepted: none.")
    signals, labels = _records(Path(root), allow_pickle)
    caps = split_caps(n_samples, SIZES)
    return {s: _windows(signals, labels, recs, caps[s]) for s, recs in record_splits(len(labels)).items()}


def convert(root: Path) -> list[Path]:
    """Unpickle ``challenge2017.pkl`` once and write ``challenge2017.xbench.npz`` (numeric arrays only)."""
    signals, labels = _from_pickle(Path(root) / FILES[0].path, allow_pickle=True)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in signals])]).astype(np.int64)
    out = Path(root) / FILES[0].converted
    np.savez(out, signals=np.concatenate(signals), offsets=offsets, labels=labels)
    return [out]


def write_synthetic(root: Path, sizes: dict[str, int], seed: int) -> list[Path]:
    """``challenge2017.pkl`` with ``max(20, total / 3)`` records of 3 windows each (``total`` = the sum
    of ``sizes``; the record split is the fixed 80/10/10): a noisy sine whose frequency (2, 5, 9 or 14
    Hz at 300 Hz) gives the class, scaled to integers as the release's signals are."""
    rng = np.random.default_rng(seed)
    n = max(20, -(-sum(sizes.values()) // 3))
    labels = np.array([CLASSES[i % len(CLASSES)] for i in rng.permutation(n)])
    data = np.empty(n, dtype=object)
    for r, name in enumerate(labels):
        c = CLASSES.index(name)
        t = np.arange(WINDOW + 2 * STRIDES[c] + 1) / 300.0
        wave = np.sin(2 * np.pi * (2, 5, 9, 14)[c] * t + rng.uniform(0, 2 * np.pi))
        data[r] = np.round(200 * (wave + 0.3 * rng.standard_normal(len(t)))).astype(np.int16)
    path = Path(root) / FILES[0].path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump({"data": data, "label": labels}, f)
    return [path]


register_reader(SHORT, sys.modules[__name__])
