"""Readers of NAS-Bench-360's released file layouts, one module per task.

Each task module (``readers/<short>.py``) defines

- ``FILES``: the :class:`FileInfo` of every file or folder the task needs, relative to the data root;
- ``read(root, *, allow_pickle, n_samples, options) -> dict[str, Split]``: the ``train``, ``val`` and
  ``test`` splits in the layout the task's spec promises (channels first, raw values: the harness
  normalises on the training split);
- ``write_synthetic(root, sizes, seed) -> list[Path]``: a tiny file set written in exactly the
  released layout (for tests; its values are a stand-in, never a benchmark result);
- optionally ``convert(root) -> list[Path]``: for tasks released as Python pickles, load them once
  (the caller has opted in) and write a safe ``.npz`` beside them that ``read`` prefers.

and registers itself with :func:`register_reader`. ``n_samples`` caps the splits in proportion to
NAS-Bench-360's split sizes (:func:`split_caps`), so a small profile keeps the train/val/test shares.
"""

from __future__ import annotations

import importlib
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from xbench.errors import DataError
from xbench.registry import Registry

SPLITS = ("train", "val", "test")
_MODULES = ("cifar100", "spherical", "ninapro", "fsd50k", "darcy", "psicov", "cosmic", "ecg", "satellite",
            "deepsea")


@dataclass
class Split:
    """One split: inputs ``x`` (N, *input_shape), targets ``y`` (class ids (N,), multi-hot (N, L) or
    dense (N, *output_shape)) and per-sample extras ``meta`` (first dimension N) that metrics need:
    ``record`` (ECG), ``clip`` (FSD50K), ``ignore`` (Cosmic), ``length`` (PSICOV)."""

    x: np.ndarray
    y: np.ndarray
    meta: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.x)
        bad = {k: len(v) for k, v in self.meta.items() if len(v) != n}
        if len(self.y) != n or bad:
            raise DataError(f"a split has {n} inputs but {len(self.y)} targets or meta lengths {bad}; the file is "
                            "truncated or inconsistent: download it again.")

    def head(self, n: int) -> Split:
        return Split(self.x[:n], self.y[:n], {k: v[:n] for k, v in self.meta.items()})


@dataclass(frozen=True)
class FileInfo:
    """A file (or folder) a task needs: ``path`` relative to the data root, where to get it and its size."""

    path: str
    url: str
    size: str
    note: str = ""
    converted: str = ""  # the safe file ``xbench data convert`` writes for a pickle; either one will do


READERS: Registry[ModuleType] = Registry("NAS-Bench-360 reader", "",
                                         lambda: [importlib.import_module(f"{__name__}.{m}") for m in _MODULES])


def register_reader(short: str, module: ModuleType) -> None:
    READERS.register(short, module)


def read_task(short: str, root: Path, *, allow_pickle: bool = False, n_samples: int | None = None,
              options: dict[str, Any] | None = None) -> dict[str, Split]:
    """The task's splits from the files under ``root`` (a DataError naming what is missing if any)."""
    module = READERS[short]
    missing = missing_files(short, root)
    if missing:
        raise DataError(missing_message(short, root, missing))
    return module.read(Path(root), allow_pickle=allow_pickle, n_samples=n_samples, options=dict(options or {}))


def missing_files(short: str, root: Path) -> list[FileInfo]:
    """The task's files that are not under ``root``."""
    root = Path(root)
    return [f for f in READERS[short].FILES
            if not (root / f.path).exists() and not (f.converted and (root / f.converted).exists())]


def missing_message(short: str, root: Path, missing: list[FileInfo]) -> str:
    lines = "; ".join(f"{f.path} ({f.size}, from {f.url}{', ' + f.note if f.note else ''})" for f in missing)
    return (f"nb360-{short}: missing under the data root {root}: {lines}. NAS-Bench-360's files cannot be "
            "downloaded by xbench: fetch them, put them at those paths under the data root (or point --data-root / "
            f"XBENCH_DATA at the folder that holds them), then run `xbench data info nb360-{short}` to check.")


def split_caps(n_samples: int | None, sizes: dict[str, int]) -> dict[str, int | None]:
    """How many samples each split keeps when a profile reads ``n_samples`` in all: NAS-Bench-360's
    split sizes ``sizes`` scaled down in proportion, at least 2 per split (AUROC and F1 need two)."""
    if n_samples is None:
        return {s: None for s in sizes}
    total = sum(sizes.values())
    return {s: max(2, round(n_samples * v / total)) for s, v in sizes.items()}


def cap(splits: dict[str, Split], n_samples: int | None, sizes: dict[str, int]) -> dict[str, Split]:
    """Keep the first ``split_caps(...)[s]`` samples of each split, in file order."""
    caps = split_caps(n_samples, sizes)
    return {s: (sp if caps[s] is None else sp.head(caps[s])) for s, sp in splits.items()}


def load_pickle(path: Path, *, allow_pickle: bool, short: str, opener: Callable[[Path], Any] | None = None) -> Any:
    """Unpickle ``path`` only with the user's opt-in; otherwise a DataError that says why and what to do."""
    if not allow_pickle:
        raise DataError(pickle_refusal(path, short))
    with (opener or (lambda p: open(p, "rb")))(path) as f:
        return pickle.load(f, encoding="latin1")


def load_npy(path: Path, *, allow_pickle: bool, short: str) -> Any:
    """``np.load`` that refuses object (pickled) arrays without the opt-in, with the same message."""
    try:
        return np.load(path, allow_pickle=False)
    except ValueError:
        if not allow_pickle:
            raise DataError(pickle_refusal(path, short)) from None
        return np.load(path, allow_pickle=True)


def pickle_refusal(path: Path, short: str) -> str:
    return (f"{path} is a Python pickle, and loading a pickle can run arbitrary code. xbench loads it only when "
            f"asked: if you trust the file (it is NAS-Bench-360's release), either pass --allow-pickle to this command, "
            f"or convert it once to a safe .npz with `xbench data convert nb360-{short}` (which unpickles it once and "
            "writes a file the runs then read without pickle).")


def convert(short: str, root: Path) -> list[Path]:
    """Convert the task's pickled files under ``root`` to safe ``.npz`` files (the user has opted in)."""
    module = READERS[short]
    if not hasattr(module, "convert"):
        return []
    missing = missing_files(short, root)
    if missing:
        raise DataError(missing_message(short, root, missing))
    return module.convert(Path(root))


def write_synthetic(short: str, root: Path, sizes: dict[str, int] | None = None, seed: int = 0) -> list[Path]:
    """A tiny file set in the task's released layout under ``root`` (tests only)."""
    return READERS[short].write_synthetic(Path(root), sizes or {"train": 16, "val": 4, "test": 4}, seed)
