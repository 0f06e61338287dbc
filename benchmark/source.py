"""The source reference: data of the body's own modality, embedded by the body's embedding layer.

ORCA aligns target features with "in-modality" source features: for text bodies, windows of 32
tokens of English text passed through the body's embedding layer and mean-pooled (768-d for
RoBERTa), with class labels. xbench builds the same offline from the documentation text that ships
with CPython (``pydoc_data.topics``): the text is tokenised with the body's tokenizer, cut into
``window``-token windows spread evenly over the text, embedded, mean-pooled, and labelled by k-means
(k = ``n_classes``). The result is cached per (weights, n, window, k, seed).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch

from xbench.errors import ConfigError
from xbench.models.backbone import DEFAULT_BACKBONE, Backbone, resolve_path

log = logging.getLogger(__name__)


def reference_text() -> str:
    from pydoc_data.topics import topics

    return "\n\n".join(topics[k] for k in sorted(topics))


def _tokenizer(backbone: Backbone):
    from transformers import AutoTokenizer

    for path in (backbone.path, resolve_path(DEFAULT_BACKBONE)):
        try:
            tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        except (OSError, ValueError, TypeError):
            continue
        # a folder without vocabulary files can yield a tokenizer that maps text to nothing
        if tok("cross-modal fine-tuning", add_special_tokens=False)["input_ids"]:
            return tok
        log.warning("the tokenizer of %s produces no tokens (no vocabulary files?); using MiniLM's", path)
    raise ConfigError(f"no tokenizer found for backbone {backbone.name!r}; save one beside its weights.")


def token_windows(ids: np.ndarray, n: int, window: int) -> np.ndarray:
    """``n`` windows of ``window`` consecutive ids, start points spread evenly: (n, window)."""
    if len(ids) < window + n - 1:
        raise ConfigError(
            f"the reference text has {len(ids)} tokens, too few for {n} distinct windows of {window}; "
            "lower n_source or source_window."
        )
    starts = np.linspace(0, len(ids) - window, n).round().astype(int)
    return np.stack([ids[s:s + window] for s in starts])


def source_windows(backbone: Backbone, n: int, window: int) -> torch.Tensor:
    """The token ids (n, window) of the reference windows, row i = source reference point i."""
    tok = _tokenizer(backbone)
    ids = np.asarray(tok(reference_text(), add_special_tokens=False, verbose=False)["input_ids"], dtype=np.int64)
    vocab = backbone.embeddings.word_embeddings.num_embeddings
    if ids.size == 0:
        raise ConfigError(f"the tokenizer of {backbone.name!r} turns the reference text into no tokens; save the "
                          "body's tokenizer beside its weights.")
    if ids.max() >= vocab:
        raise ConfigError(f"the tokenizer of {backbone.name!r} produces ids beyond its vocabulary ({vocab}).")
    return torch.from_numpy(token_windows(ids, n, window))


def source_reference(backbone: Backbone, n: int, window: int, n_classes: int, cache_dir: Path,
                     seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Source features (n, d) float32 and k-means labels (n,) for ``backbone``; cached on disk."""
    if backbone.kind != "text":
        raise ConfigError(
            f"backbone {backbone.name!r} is a {backbone.kind} vision body, and xbench's source reference is "
            "text (ORCA aligns vision bodies to CIFAR-10 images, which xbench does not ship). Use a method "
            "that does not align (finetune, scratch, linear-probe) with this body, or a text body."
        )
    cache = Path(cache_dir) / f"{backbone.identity}-n{n}-w{window}-k{n_classes}-s{seed}.pt"
    if cache.exists():
        try:
            blob = torch.load(cache, weights_only=True)
            feats, labels = blob["feats"], blob["labels"]
            if feats.shape[0] == n == labels.shape[0]:
                return feats, labels
            log.warning("source cache %s holds %d points, not %d; rebuilding it", cache, feats.shape[0], n)
        except Exception as e:  # noqa: BLE001 - zero bytes, torn or foreign files: rebuilt below
            log.warning("rebuilding the unreadable source cache %s (%s: %s)", cache, type(e).__name__, e)
    windows = source_windows(backbone, n, window)
    emb = backbone.embeddings
    feats = []
    with torch.no_grad():
        was_training = emb.training
        emb.eval()
        for chunk in windows.split(256):
            feats.append(emb(input_ids=chunk.to(next(emb.parameters()).device)).mean(dim=1).float().cpu())
        emb.train(was_training)
    feats_t = torch.cat(feats)
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # sklearn's OpenMP pool spins against torch's on few cores
        labels = KMeans(n_clusters=n_classes, n_init=3, random_state=seed).fit(
            feats_t.numpy().astype(np.float64)).labels_
    labels_t = torch.as_tensor(labels, dtype=torch.long)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")  # concurrent runs never share a temporary
    torch.save({"feats": feats_t, "labels": labels_t}, tmp)
    tmp.replace(cache)
    log.info("source reference: %d windows of %d tokens, d=%d, %d classes -> %s", n, window,
             feats_t.shape[1], n_classes, cache)
    return feats_t, labels_t
