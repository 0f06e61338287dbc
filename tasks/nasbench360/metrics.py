"""NAS-Bench-360's metrics, each an error (lower is better), written from their definitions.

Inputs arrive as float64 CPU tensors of a whole split: classification logits ``(B, K)`` against
class ids ``(B,)``; multi-label logits ``(B, L)`` against 0/1 ``(B, L)``; pixel logits
``(B, 1, H, W)`` against a 0/1 mask; dense fields ``(B, C, *spatial)``. Per-sample extras come in
``meta``: ``record`` (ECG), ``clip`` (FSD50K), ``ignore`` (Cosmic), ``length`` (PSICOV).

Where NAS-Bench-360's own protocol and ORCA's code disagree, the plain name is the NAS-Bench-360 (or
global, whole-split) definition and ``*_orca`` reproduces ORCA's numbers. ORCA evaluates on
consecutive chunks of 1000 test samples and averages the chunk scores, which for F1 and AUROC is not
the whole-split value; it also scores Cosmic with binarised predictions and PSICOV with one
protein's length for all proteins.
Reference: Tu et al., NAS-Bench-360, NeurIPS 2022 D&B; Shen et al., ORCA, ICML 2023.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from xbench.errors import DataError
from xbench.metrics import _per_sample_norm_ratio, register_metric

ORCA_CHUNK = 1000  # ORCA's eval_batch_size: samples per metric call, whose scores it averages
PSICOV_PAD = 5  # rows/cols of padding before a protein on PSICOV's canvas
ECE_BINS = 15


class InconsistentLabelsError(DataError, ValueError):
    """Samples that must share a label (the windows of one ECG record, the chunks of one clip) do not."""


def _np(x: torch.Tensor | np.ndarray) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _meta(meta: dict, key: str, n: int, metric: str) -> np.ndarray:
    if key not in meta:
        raise DataError(f"metric {metric!r} needs the per-sample metadata {key!r}, which this split does not carry; "
                        "read the data with the NAS-Bench-360 reader of this task, or report another metric.")
    v = _np(meta[key])
    if len(v) != n:
        raise DataError(f"metric {metric!r} got {n} predictions but {len(v)} entries of {key!r}; the metadata and the "
                        "split are out of step: read the split again without reordering or truncating one of them.")
    return v


def _groups(ids: np.ndarray, *, what: str) -> tuple[np.ndarray, np.ndarray]:
    """The sorted unique ids and, per sample, the index of its id among them."""
    uniq, inv = np.unique(ids, return_inverse=True)
    if len(uniq) == 0:
        raise DataError(f"no {what} to score: the split is empty.")
    return uniq, inv


def _chunked(fn: Callable[[np.ndarray, np.ndarray], float], p: np.ndarray, y: np.ndarray) -> float:
    """ORCA's reduction: ``fn`` on consecutive chunks of ``ORCA_CHUNK`` samples, mean of the scores."""
    return float(np.mean([fn(p[i:i + ORCA_CHUNK], y[i:i + ORCA_CHUNK]) for i in range(0, len(p), ORCA_CHUNK)]))


@register_metric("zero_one_error", higher_is_better=False, description="100 (1 - top-1 accuracy), in percent")
def zero_one_error(pred: torch.Tensor, target: torch.Tensor) -> float:
    """``100 * mean_b [argmax_k pred[b, k] != target[b]]`` for logits (B, K) and class ids (B,)."""
    return float(100.0 * (pred.argmax(1) != target.long()).double().mean())


@register_metric("inv_macro_f1", higher_is_better=False, description="1 - macro-F1 over all K classes, window level")
def inv_macro_f1(pred: torch.Tensor, target: torch.Tensor) -> float:
    """``1 - mean_k F1_k`` over k = 0..K-1 (K = logits' width; a class never true nor predicted counts
    F1 = 0), every sample (ECG window) counted once over the whole split."""
    k = pred.shape[1]
    return 1.0 - float(f1_score(_np(target).astype(np.int64), _np(pred.argmax(1)), average="macro",
                                labels=list(range(k)), zero_division=0))


@register_metric("inv_macro_f1_record", higher_is_better=False,
                 description="1 - macro-F1 over ECG records (majority vote of windows), NAS-Bench-360's protocol")
def inv_macro_f1_record(pred: torch.Tensor, target: torch.Tensor, meta: dict) -> float:
    """NAS-Bench-360's ECG score: each record's prediction is the majority vote of its windows'
    top-1 classes (ties go to the smallest class id), its label the one label its windows share;
    then ``1 - macro-F1`` over records and all K classes as in :func:`inv_macro_f1`."""
    k, y, p = pred.shape[1], _np(target).astype(np.int64), _np(pred.argmax(1))
    uniq, inv = _groups(_meta(meta, "record", len(p), "inv_macro_f1_record"), what="ECG records")
    votes = np.zeros((len(uniq), k), np.int64)
    np.add.at(votes, (inv, p), 1)
    labels = np.full(len(uniq), -1)
    labels[inv] = y
    if np.any(labels[inv] != y):
        bad = uniq[np.unique(inv[labels[inv] != y])][:5]
        raise InconsistentLabelsError(f"ECG records {bad.tolist()} have windows with different labels; a record has "
                                      "one label: the record ids or labels of this split are wrong, read it again.")
    return 1.0 - float(f1_score(labels, votes.argmax(1), average="macro", labels=list(range(k)), zero_division=0))


@register_metric("inv_macro_f1_orca", higher_is_better=False,
                 description="ORCA's 1 - macro-F1: window level, mean over chunks of 1000, present classes")
def inv_macro_f1_orca(pred: torch.Tensor, target: torch.Tensor) -> float:
    """ORCA's ECG score: ``1 - macro-F1`` of the window predictions on each consecutive chunk of 1000
    windows (macro over the classes present in the chunk's labels or predictions), averaged over chunks."""
    return 1.0 - _chunked(lambda p, y: f1_score(y, p, average="macro", zero_division=0),
                          _np(pred.argmax(1)), _np(target).astype(np.int64))


def _mean_per_label(score: Callable[[np.ndarray, np.ndarray], float], y: np.ndarray, s: np.ndarray) -> float:
    """Mean over labels of ``score(y[:, l], s[:, l])``, skipping labels where ``y[:, l]`` is one class
    (no positive, or no negative); nan when every label is skipped."""
    vals = [score(y[:, j], s[:, j]) for j in range(y.shape[1]) if 0 < y[:, j].sum() < len(y)]
    return float(np.mean(vals)) if vals else math.nan


def _ap(y: np.ndarray, s: np.ndarray) -> float:
    return float(average_precision_score(y, s))


def _auroc(y: np.ndarray, s: np.ndarray) -> float:
    return float(roc_auc_score(y, s))


@register_metric("inv_map", higher_is_better=False, description="1 - mean average precision over labels (clip level)")
def inv_map(pred: torch.Tensor, target: torch.Tensor, meta: dict) -> float:
    """``1 - mean_l AP_l`` on sigmoid scores, AP as sklearn's ``average_precision_score``, labels with
    no positive skipped. With ``meta["clip"]`` (FSD50K, NAS-Bench-360's and ORCA's protocol) the
    logits of a clip's chunks are first averaged and the clip's one label row kept, so AP is over clips."""
    p, y = _np(pred), _np(target)
    if "clip" in meta:
        uniq, inv = _groups(_meta(meta, "clip", len(p), "inv_map"), what="clips")
        counts = np.bincount(inv, minlength=len(uniq))[:, None]
        clip_p = np.zeros((len(uniq), p.shape[1]))
        np.add.at(clip_p, inv, p)
        clip_y = np.zeros_like(clip_p)
        clip_y[inv] = y
        if np.any(clip_y[inv] != y):
            raise InconsistentLabelsError("chunks of one clip have different labels; a clip has one label row: the "
                                          "clip ids or labels of this split are wrong, read it again.")
        p, y = clip_p / counts, clip_y
    y = (y > 0.5).astype(np.int64)
    return 1.0 - _mean_per_label(_ap, y, 1.0 / (1.0 + np.exp(-p)))


@register_metric("inv_auroc", higher_is_better=False, description="1 - mean ROC AUC over labels, whole split")
def inv_auroc(pred: torch.Tensor, target: torch.Tensor) -> float:
    """``1 - mean_l AUROC_l`` on sigmoid scores over the whole split (NAS-Bench-360's DeepSEA score),
    labels whose targets are a single class skipped."""
    return 1.0 - _mean_per_label(_auroc, (_np(target) > 0.5).astype(np.int64), _np(torch.sigmoid(pred)))


@register_metric("inv_auroc_orca", higher_is_better=False,
                 description="ORCA's 1 - mean ROC AUC over labels, mean over chunks of 1000")
def inv_auroc_orca(pred: torch.Tensor, target: torch.Tensor) -> float:
    """ORCA's DeepSEA score: :func:`inv_auroc`'s label mean on each consecutive chunk of 1000 samples,
    averaged over chunks (a chunk where every label is skipped makes the result nan, as in ORCA)."""
    return 1.0 - _chunked(lambda y, s: _mean_per_label(_auroc, y, s),
                          (_np(target) > 0.5).astype(np.int64), _np(torch.sigmoid(pred)))


def _ignore(meta: dict, target: torch.Tensor, metric: str) -> np.ndarray:
    """The Cosmic ignore mask as a boolean array of the target's shape (all False without one)."""
    if "ignore" not in meta:
        return np.zeros(target.shape, bool)
    ign = _meta(meta, "ignore", len(target), metric)
    if ign.size != target.numel():
        raise DataError(f"metric {metric!r}: the ignore mask has shape {ign.shape} but the target {tuple(target.shape)};"
                        " each sample's ignore mask must have the target's shape: read the split again.")
    return ign.reshape(target.shape) > 0.5


@register_metric("inv_auroc_pixel", higher_is_better=False,
                 description="1 - pixel ROC AUC of sigmoid scores over non-ignored pixels")
def inv_auroc_pixel(pred: torch.Tensor, target: torch.Tensor, meta: dict) -> float:
    """``1 - AUROC`` of ``sigmoid(pred)`` against the 0/1 mask over every pixel (B, 1, H, W) whose
    ``meta["ignore"]`` is 0 (Cosmic, score based as in NAS-Bench-360's Perceiver-IO and XGBoost
    evaluations); nan when the kept pixels are all one class."""
    keep = ~_ignore(meta, target, "inv_auroc_pixel")
    y = _np(target)[keep] > 0.5
    if y.all() or not y.any():
        return math.nan
    return 1.0 - float(roc_auc_score(y, _np(torch.sigmoid(pred))[keep]))


@register_metric("inv_auroc_pixel_orca", higher_is_better=False,
                 description="ORCA's Cosmic 1 - ROC AUC of binarised predictions on masked maps")
def inv_auroc_pixel_orca(pred: torch.Tensor, target: torch.Tensor, meta: dict) -> float:
    """ORCA's Cosmic score: with ``m = 1 - ignore``, ``1 - AUROC(target * m, [pred * m > 0])`` over
    all pixels. The predictions are binarised, so this is the balanced error ``(FNR + FPR) / 2`` at
    logit 0, and ignored pixels count as true negatives; nan when the masked target is one class."""
    m = 1.0 - torch.from_numpy(_ignore(meta, target, "inv_auroc_pixel_orca").astype(np.float64))
    y = _np(target * m).ravel() > 0.5
    if y.all() or not y.any():
        return math.nan
    return 1.0 - float(roc_auc_score(y, _np(pred * m > 0).ravel()))


@register_metric("fnr_pixel", higher_is_better=False,
                 description="false-negative rate (%) at sigmoid > 0.5 over non-ignored pixels")
def fnr_pixel(pred: torch.Tensor, target: torch.Tensor, meta: dict) -> float:
    """``100 * #(y = 1, sigmoid(p) <= 0.5) / #(y = 1)`` over pixels whose ``meta["ignore"]`` is 0
    (NAS-Bench-360's leaderboard "Cosmic FNR"); nan when no kept pixel is positive."""
    keep = ~_ignore(meta, target, "fnr_pixel")
    pos = _np(target)[keep] > 0.5
    if not pos.any():
        return math.nan
    return float(100.0 * np.mean(_np(torch.sigmoid(pred))[keep][pos] <= 0.5))


@register_metric("rel_l2", higher_is_better=False, description="mean relative L2 error ||p - y|| / ||y|| per sample")
def rel_l2(pred: torch.Tensor, target: torch.Tensor) -> float:
    """``mean_b ||p_b - y_b||_2 / ||y_b||_2`` over flattened samples (Darcy; the FNO code's
    ``LpLoss.rel`` with p = 2, no grid-spacing factor)."""
    return float(_per_sample_norm_ratio(pred, target).mean())


def _protein_mae8(p: np.ndarray, y: np.ndarray, length: int) -> float:
    """MAE over pairs j - i >= 24 with Y <= 8 A of one W x W canvas; nan when no pair is kept."""
    o = PSICOV_PAD
    p, y = p[o:o + length, o:o + length], y[o:o + length, o:o + length]
    p = np.maximum((p + p.T) / 2, 0.01)
    i, j = np.indices(y.shape)
    keep = (j - i >= 24) & (y <= 8)
    return float(np.abs(y - p)[keep].mean()) if keep.any() else math.nan


def _canvases(pred: torch.Tensor, target: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    w = pred.shape[-1]
    if pred.shape != target.shape or pred.shape[-2] != w or pred[0].numel() != w * w:
        raise ValueError(f"MAE8 needs (B, 1, W, W) or (B, W, W) distance maps, got {tuple(pred.shape)} and "
                         f"{tuple(target.shape)}")
    return _np(pred).reshape(-1, w, w), _np(target).reshape(-1, w, w)


@register_metric("mae8", higher_is_better=False,
                 description="PSICOV MAE (A) over pairs 24+ apart closer than 8 A, per protein, true lengths")
def mae8(pred: torch.Tensor, target: torch.Tensor, meta: dict) -> float:
    """PSICOV's MAE8 with each protein's true length L = ``meta["length"][b]``: on its W x W canvas
    (protein at offset 5 on both axes; pred/target (B, 1, W, W) or (B, W, W), Angstrom) symmetrise
    ``P <- (P + P^T) / 2``, clip ``P >= 0.01``, keep the L x L pairs with ``j - i >= 24`` and
    ``Y[i, j] <= 8``; ``mean |Y - P|`` over them, then the mean over proteins that keep a pair (nan if none)."""
    p, y = _canvases(pred, target)
    lengths = _meta(meta, "length", len(p), "mae8").astype(np.int64)
    vals = np.array([_protein_mae8(p[b], y[b], int(lengths[b])) for b in range(len(p))])
    return float(np.nanmean(vals)) if np.isfinite(vals).any() else math.nan


@register_metric("mae8_orca", higher_is_better=False,
                 description="ORCA's PSICOV MAE8: every protein uses the first protein's length; no pair -> inf")
def mae8_orca(pred: torch.Tensor, target: torch.Tensor, meta: dict) -> float:
    """ORCA's MAE8, kept only to reproduce its published numbers: ORCA scores one protein per metric
    call and looks the length up by the index within the call, so every protein is cut to the length
    of the split's first protein (``meta["length"][0]``), and a protein with no kept pair scores +inf
    (so does the mean). Otherwise as :func:`mae8`."""
    p, y = _canvases(pred, target)
    length = int(_meta(meta, "length", len(p), "mae8_orca")[0])
    vals = [_protein_mae8(p[b], y[b], length) for b in range(len(p))]
    return float(np.mean([math.inf if math.isnan(v) else v for v in vals]))


@register_metric("ece", higher_is_better=False, description="expected calibration error, 15 bins of top-1 confidence")
def ece(pred: torch.Tensor, target: torch.Tensor) -> float:
    """``sum_b |B_b| / n * |acc(B_b) - conf(B_b)|`` with the top-1 softmax confidences of logits
    (B, K) put in 15 equal-width bins ``(b/15, (b+1)/15]`` of (0, 1]."""
    conf, top = torch.softmax(pred, 1).max(1)
    correct = (top == target.long()).double()
    edges = torch.linspace(0, 1, ECE_BINS + 1, dtype=conf.dtype)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        b = (conf > lo) & (conf <= hi)
        if b.any():
            total += float(b.double().mean() * (correct[b].mean() - conf[b].mean()).abs())
    return total
