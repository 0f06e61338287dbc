"""The reference protocols' own source data, read from the user's disk (never downloaded).

The setting ``source`` picks the source reference that alignment, the source head and the bound use:

- ``text``: xbench's offline corpus (:mod:`xbench.source`), the default of the quick and cpu profiles;
- ``orca-text``: ORCA's text features, ``<data root>/sources/orca-text/text_xs_32.npy`` (N, 32, 768,
  RoBERTa embedding-layer features of 32-token texts) and ``text_ys_32.npy`` (N,) labels, as ORCA's
  ``load_text`` reads them; features are the mean over the 32 tokens (``docs/methods.md`` §2.4);
- ``cifar10``: CIFAR-10's training images, from the standard binary distribution folder
  ``<data root>/sources/cifar-10-batches-bin/`` (``data_batch_1.bin`` ... ``data_batch_5.bin``: records of a
  label byte and 3072 bytes, R, G, B planes of 32 x 32) or a numpy export
  ``<data root>/sources/cifar10.npz`` (``x`` (N, 32, 32, 3) uint8, ``y`` (N,)). The first ``n_source``
  images (ORCA: 5000), normalised with CIFAR-10's channel statistics, resized to 224 x 224 and passed
  through the frozen Swin body's patch embedding, mean-pooled over the 3136 tokens; labels are the
  classes. ORCA draws its 5000 at random and applies its training augmentation (random crop, flip);
  xbench takes the first ones, unaugmented, so the reference is the same in every run;
- ``auto`` (the paper profile): ``orca-text`` on 1D tasks and ``cifar10`` on 2D tasks where their files
  are on disk, else ``text``; resolved before the run key is made, so the key and the fidelity
  record say which one a run used.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from xbench.errors import ConfigError, DataError

SOURCES = ("text", "orca-text", "cifar10", "auto")
CIFAR_MEAN, CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)  # ORCA's load_cifar


def source_files(kind: str, root: Path) -> list[Path]:
    """The files of source ``kind`` under the data root (empty for ``text``, or when absent)."""
    base = Path(root) / "sources"
    if kind == "orca-text":
        files = [base / "orca-text" / "text_xs_32.npy", base / "orca-text" / "text_ys_32.npy"]
        return files if all(f.exists() for f in files) else []
    if kind == "cifar10":
        batches = [base / "cifar-10-batches-bin" / f"data_batch_{i}.bin" for i in range(1, 6)]
        if all(b.exists() for b in batches):
            return batches
        return [base / "cifar10.npz"] if (base / "cifar10.npz").exists() else []
    return []


def resolve_source(kind: str, modality: str, root: Path) -> str:
    """``auto`` -> the reference's source if its files are on disk, else ``text``; others unchanged."""
    if kind != "auto":
        return kind
    wanted = "orca-text" if modality == "1d" else "cifar10"
    return wanted if source_files(wanted, root) else "text"


def source_sha256(kind: str, root: Path) -> str:
    """One checksum over the source's files ("" for ``text``); a missing file is a clear error."""
    if kind == "text":
        return ""
    files = source_files(kind, root)
    if not files:
        where = {"orca-text": "sources/orca-text/text_xs_32.npy and text_ys_32.npy",
                 "cifar10": "sources/cifar-10-batches-bin/data_batch_{1..5}.bin or sources/cifar10.npz"}[kind]
        raise ConfigError(f"source={kind}: its files are not under the data root {root} (expected {where}). Place "
                          "them there (xbench never downloads them), or use --set source=text.")
    h = hashlib.sha256()
    for f in files:
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                h.update(chunk)
    return h.hexdigest()


def _files(kind: str, root: Path) -> list[Path]:
    files = source_files(kind, root)
    if not files:
        source_sha256(kind, root)  # raises the error that says where the files go
    return files


def orca_text_tokens(root: Path, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """ORCA's text features per token (n, 32, d) and their labels (n,): the first ``n`` samples."""
    xs_path, ys_path = _files("orca-text", root)
    try:
        xs, ys = np.load(xs_path, allow_pickle=False), np.load(ys_path, allow_pickle=False)
    except ValueError as e:
        raise DataError(f"{xs_path} / {ys_path}: not plain numpy arrays ({e}); re-export them with np.save.") from None
    if xs.ndim != 3 or len(xs) != len(ys.reshape(-1)):
        raise DataError(f"{xs_path}: expected (N, tokens, d) features and N labels, got {xs.shape} and {ys.shape}.")
    return torch.as_tensor(xs[:n].astype(np.float32)), torch.as_tensor(ys.reshape(-1)[:n].astype(np.int64))


def orca_text_reference(root: Path, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """ORCA's text source: the mean over each sample's 32 token features (n, d), and the labels."""
    tokens, labels = orca_text_tokens(root, n)
    return tokens.mean(dim=1), labels


def read_cifar10(root: Path, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` CIFAR-10 training images (n, 32, 32, 3) uint8 and labels, from either layout."""
    files = _files("cifar10", root)
    if files[0].suffix == ".npz":
        with np.load(files[0]) as z:
            x, y = z["x"][:n], z["y"][:n]
    else:
        raw = np.concatenate([np.fromfile(f, dtype=np.uint8) for f in files])
        if raw.size % 3073:
            raise DataError(f"{files[0].parent}: not CIFAR-10's binary layout (records of 3073 bytes).")
        rec = raw.reshape(-1, 3073)[:n]
        x, y = rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), rec[:, 0]
    if x.shape[1:] != (32, 32, 3):
        raise DataError(f"CIFAR-10 images should be (N, 32, 32, 3), got {x.shape}.")
    return x, y.astype(np.int64)


@torch.no_grad()
def cifar10_reference(embeddings: torch.nn.Module, root: Path, n: int,
                      batch: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean-pooled frozen patch-embedding features of the first ``n`` CIFAR-10 images (module docstring)."""
    x, y = read_cifar10(root, n)
    mean, std = torch.tensor(CIFAR_MEAN).view(1, 3, 1, 1), torch.tensor(CIFAR_STD).view(1, 3, 1, 1)
    device = next(embeddings.parameters()).device
    was_training = embeddings.training
    embeddings.eval()
    feats = []
    for i in range(0, len(x), batch):
        img = (torch.as_tensor(x[i:i + batch]).permute(0, 3, 1, 2).float() / 255 - mean) / std
        img = F.interpolate(img, size=(224, 224), mode="bilinear", align_corners=False).to(device)
        out = embeddings(img)
        feats.append((out[0] if isinstance(out, tuple) else out).mean(dim=1).float().cpu())
    embeddings.train(was_training)
    return torch.cat(feats), torch.as_tensor(y)
