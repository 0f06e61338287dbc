"""NAS-Bench-360's DeepSEA task: 36 chromatin-profile labels of a 1000-base DNA window.

File ``deepsea_filtered.npz`` with members ``x_train``, ``y_train``, ``x_val``, ``y_val``, ``x_test``,
``y_test``: x (N, 1000, 4), each base one-hot over four letters; y (N, 36), 0/1. A plain numeric archive:
it is opened without pickle, and an object member is refused unless the user opts in.

Splits: the file's own three (about 71.8k/2,490/149,400). Inputs x float32 (N, 4, 1000) (channels =
the four bases, then positions); targets y float32 (N, 36) in {0, 1}.
"""

from __future__ import annotations

import logging
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from xbench.errors import DataError
from xbench.tasks.nasbench360.readers import SPLITS, FileInfo, Split, pickle_refusal, register_reader, split_caps

log = logging.getLogger(__name__)

SHORT = "deepsea"
LENGTH, BASES, LABELS = 1000, 4, 36
URL = "https://drive.google.com/drive/folders/1OH0ymhG5lQcLRgFJqwtzY-nbJpiaV1ie"
FILES = [FileInfo("deepsea_filtered.npz", URL, "860 MB",
                  "NAS-Bench-360's Google Drive folder; old link https://pde-xd.s3.amazonaws.com/deepsea/deepsea_filtered.npz")]
# val and test are the counts of the released file; the training count is approximate (the benchmark's
# documentation says 71K): it only sets the shares a small profile keeps, the full read keeps x_train whole.
SIZES = {"train": 71753, "val": 2490, "test": 149400}
_KEYS = tuple(f"{k}_{s}" for s in SPLITS for k in ("x", "y"))
_MOTIF = 20  # bases of the per-label motif planted by write_synthetic


def _bad(path: Path, what: str) -> DataError:
    return DataError(f"nb360-{SHORT}: {path} {what}. It is not NAS-Bench-360's deepsea_filtered.npz as released, or "
                     f"it is damaged: download it again ({URL}).")


def _member(z: Any, key: str, path: Path, allow_pickle: bool) -> np.ndarray:
    """``z[key]``; an object (pickled) member only with the opt-in, else the pickle refusal."""
    try:
        return z[key]
    except ValueError:
        if not allow_pickle:
            raise DataError(pickle_refusal(path, SHORT)) from None
    with np.load(path, allow_pickle=True) as zp:
        return np.asarray(zp[key])


def _split(x: np.ndarray, y: np.ndarray, path: Path, split: str) -> Split:
    """x (N, 1000, 4) -> float32 (N, 4, 1000); y (N, 36) -> float32 0/1; a DataError when off."""
    if x.shape[1:] != (LENGTH, BASES) or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise _bad(path, f"has x_{split} of shape {x.shape} and dtype {x.dtype}, not numbers of shape "
                         f"(N, {LENGTH}, {BASES})")
    if y.shape != (len(x), LABELS):
        raise _bad(path, f"has y_{split} of shape {y.shape}, not ({len(x)}, {LABELS})")
    y = y.astype(np.float32)
    if not np.isin(y, (0.0, 1.0)).all():
        raise _bad(path, f"has y_{split} values other than 0 and 1")
    return Split(np.ascontiguousarray(x.transpose(0, 2, 1), dtype=np.float32), y)


def read(root: Path, *, allow_pickle: bool = False, n_samples: int | None = None,
         options: dict[str, Any] | None = None) -> dict[str, Split]:
    """The file's train/val/test, shaped as the module docstring says (each capped before the float32 copy)."""
    if options:
        raise DataError(f"nb360-{SHORT} takes no reader options, got {sorted(options)}; accepted: none.")
    path = Path(root) / FILES[0].path
    caps = split_caps(n_samples, SIZES)
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise _bad(path, f"cannot be read as an .npz archive ({type(e).__name__}: {e})") from None
    if not hasattr(z, "files"):
        raise _bad(path, f"holds a single array of shape {z.shape}, not an .npz archive of {list(_KEYS)}")
    with z:
        missing = [k for k in _KEYS if k not in z.files]
        if missing:
            raise _bad(path, f"lacks the members {missing} (found {sorted(z.files)}; expected {list(_KEYS)})")
        try:
            splits = {s: _split(_member(z, f"x_{s}", path, allow_pickle)[:caps[s]],
                                _member(z, f"y_{s}", path, allow_pickle)[:caps[s]], path, s) for s in SPLITS}
        except (OSError, EOFError, zipfile.BadZipFile) as e:
            raise _bad(path, f"has a damaged member ({type(e).__name__}: {e})") from None
    log.info("nb360-%s: %s samples from %s", SHORT, {s: len(sp.x) for s, sp in splits.items()}, root)
    return splits


def write_synthetic(root: Path, sizes: dict[str, int], seed: int) -> list[Path]:
    """``deepsea_filtered.npz`` in the released layout (uint8 one-hot x (N, 1000, 4), uint8 y (N, 36)).
    Stand-in sequences: uniform random bases, each label on with probability 0.3, and for every label j
    that is on a fixed random 20-base motif written at positions 20 j .. 20 j + 19, so labels are learnable."""
    rng = np.random.default_rng(seed)
    motifs = rng.integers(0, BASES, (LABELS, _MOTIF))
    arrays = {}
    for split in SPLITS:
        n = sizes[split]
        y = (rng.random((n, LABELS)) < 0.3).astype(np.uint8)
        bases = rng.integers(0, BASES, (n, LENGTH))
        for j in range(LABELS):
            bases[y[:, j] == 1, _MOTIF * j:_MOTIF * (j + 1)] = motifs[j]
        arrays[f"x_{split}"], arrays[f"y_{split}"] = np.eye(BASES, dtype=np.uint8)[bases], y
    path = Path(root) / FILES[0].path
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return [path]


register_reader(SHORT, sys.modules[__name__])
