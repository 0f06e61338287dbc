"""Task data in memory: splits, normalisation and pseudo-labels.

A task loader returns a :class:`TaskData` holding de-normalised tensors for the ``train``, ``val``
and ``test`` splits (inputs ``(N, C, *spatial)``, channels first), the normalizer fitted on the
training split, and the provenance of the file it came from. Models see normalised tensors; metrics
are always computed on de-normalised ones (``normalizer.decode``).

Targets by the task's kind (``TaskSpec.kind``): ``dense-regression`` fields ``(N, C, *spatial)``,
standardised per channel like the inputs; ``classification`` class ids ``(N,)`` (int64),
``multi-label`` and ``pixel-binary`` 0/1 arrays (``(N, L)``, ``(N, 1, H, W)``): these are never
normalised (their normalizer is the identity). ``meta`` carries per-sample extras a metric needs
(e.g. a protein's true length, the clip a chunk belongs to), one tensor per name with first axis N.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import torch

from xbench.errors import ConfigError

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


def split_indices(
    n: int, test_fraction: float = 0.1, test_position: str = "first", val_fraction: float = 0.1,
    groups: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Index sets of the three splits of ``n`` samples.

    PDEBench's conventions: single-file HDF5 data use the FIRST ``int(0.1 N)`` samples as test
    (``data[:int(0.1 N)]``); group-per-seed ``.h5`` files use the LAST keys
    (``keys[int(0.9 N):]``). PDEBench has no validation split (it selects checkpoints on test);
    xbench carves one from the END of the training part, the same for every seed and method.

    ``groups`` (one id per sample, e.g. the sample's initial condition) splits whole groups instead,
    by the same rule applied to the groups in order of first appearance: no group is in two splits,
    so no test sample has a twin in training.
    """
    if test_position not in ("first", "last"):
        raise ConfigError(f"test_position must be 'first' or 'last', not {test_position!r}.")
    if groups is not None:
        _, first, inverse = np.unique(np.asarray(groups), return_index=True, return_inverse=True)
        order = np.argsort(np.argsort(first))  # group id -> its rank by first appearance
        by_group = split_indices(len(first), test_fraction, test_position, val_fraction)
        ranks = order[inverse]
        return {s: np.flatnonzero(np.isin(ranks, g)) for s, g in by_group.items()}
    if test_position == "first":
        n_test = int(test_fraction * n)
        test, rest = np.arange(n_test), np.arange(n_test, n)
    else:
        cut = int(n * (1 - test_fraction))
        rest, test = np.arange(cut), np.arange(cut, n)
    n_val = max(1, int(round(val_fraction * len(rest))))
    if len(test) < 1 or len(rest) - n_val < 2:
        raise ConfigError(
            f"{n} {'groups of ' if groups is not None else ''}samples are too few to split into train/val/test "
            f"(test {test_fraction:.0%}, val {val_fraction:.0%} of the rest). Use more samples (--set n_samples=...)."
        )
    return {"train": rest[:-n_val], "val": rest[-n_val:], "test": test}


def input_groups(x: torch.Tensor) -> np.ndarray:
    """One id per sample: samples whose input fields are equal (to 1e-6 of the overall scale) share it."""
    flat = x.flatten(1).double()
    key = torch.round(flat / flat.abs().max().clamp_min(1e-30) * 1e6)
    return torch.unique(key, dim=0, return_inverse=True)[1].numpy()


KINDS = ("dense-regression", "classification", "multi-label", "pixel-binary")


class IdentityNormalizer:
    """The normalizer of targets that are labels, not measurements: ``encode`` and ``decode`` return them."""

    def encode(self, t: torch.Tensor) -> torch.Tensor:
        return t

    def decode(self, t: torch.Tensor) -> torch.Tensor:
        return t

    def state(self) -> dict[str, str]:
        return {"identity": "labels are not normalised"}


class UnitGaussianNormalizer:
    """Per-channel standardisation ``(t - mean_c) / std_c`` fitted on the training split.

    Statistics are over samples and all spatial positions of each channel; tensors are
    ``(N, C, *spatial)``.
    """

    def __init__(self, train: torch.Tensor, eps: float = 1e-8):
        dims = [0] + list(range(2, train.ndim))
        self.mean = train.mean(dim=dims, keepdim=True)[0]
        self.std = train.std(dim=dims, keepdim=True)[0].clamp_min(eps)

    def encode(self, t: torch.Tensor) -> torch.Tensor:
        return (t - self.mean.to(t)) / self.std.to(t)

    def decode(self, t: torch.Tensor) -> torch.Tensor:
        return t * self.std.to(t) + self.mean.to(t)

    def state(self) -> dict[str, list[float]]:
        return {"mean": self.mean.flatten().tolist(), "std": self.std.flatten().tolist()}


@dataclass
class TaskData:
    """The three splits of one task, de-normalised, with normalizers and provenance."""

    task: str
    x: dict[str, torch.Tensor]
    y: dict[str, torch.Tensor]
    data_source: str  # "pdebench-file" or "generated"
    data_path: str
    data_sha256: str
    n_file_samples: int
    kind: str = "dense-regression"  # the task's kind (module docstring)
    meta: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)  # split -> name -> (N, ...)
    x_norm: UnitGaussianNormalizer = field(init=False)
    y_norm: UnitGaussianNormalizer | IdentityNormalizer = field(init=False)
    _labels: dict[tuple[int, int], torch.Tensor] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        for s in SPLITS:
            if s not in self.x or s not in self.y or len(self.x[s]) != len(self.y[s]):
                raise ValueError(f"TaskData needs matching x/y tensors for split {s!r}")
            for t in (self.x[s], self.y[s]):
                if not torch.isfinite(t).all():
                    raise ValueError(f"{self.data_path}: split {s!r} contains NaN or inf values")
            for name, t in self.meta.get(s, {}).items():
                if len(t) != len(self.x[s]):
                    raise ValueError(f"TaskData meta {name!r} of split {s!r} has {len(t)} rows, not {len(self.x[s])}")
        if self.kind not in KINDS:
            raise ValueError(f"TaskData kind must be one of {KINDS}, not {self.kind!r}")
        self.x_norm = UnitGaussianNormalizer(self.x["train"])
        self.y_norm = UnitGaussianNormalizer(self.y["train"]) if self.kind == "dense-regression" else IdentityNormalizer()

    def sizes(self) -> dict[str, int]:
        return {s: len(self.x[s]) for s in SPLITS}

    def normalised(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x_norm.encode(self.x[split]), self.y_norm.encode(self.y[split])

    def pseudo_labels(self, k: int = 10, seed: int = 0) -> torch.Tensor:
        """Class labels of the training split for label-aware alignment (OTDD) and the bound's FLD.

        A classification task's own labels (ORCA aligns with them); for every other kind, k-means
        cluster ids of the flattened normalised training targets (ORCA: k=10, ``infer_label``),
        computed once per (k, seed) and cached.
        """
        if self.kind == "classification":
            return self.y["train"].long()
        key = (k, seed)
        if key not in self._labels:
            from sklearn.cluster import KMeans
            from threadpoolctl import threadpool_limits

            y = self.y_norm.encode(self.y["train"]).flatten(1).numpy().astype(np.float64)
            k_eff = min(k, len(y))
            with threadpool_limits(1):  # sklearn's OpenMP pool spins against torch's on few cores
                km = KMeans(n_clusters=k_eff, n_init=3, random_state=seed).fit(y)
            self._labels[key] = torch.as_tensor(km.labels_, dtype=torch.long)
            log.info("pseudo-labels: k-means k=%d on %d targets", k_eff, len(y))
        return self._labels[key]
