"""NAS-Bench-360's metrics against hand-computed values and scikit-learn, with their ORCA variants
and their metadata checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from xbench.errors import DataError
from xbench.metrics import METRICS
from xbench.tasks.nasbench360 import metrics as m


def t(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


def logit(p):
    p = np.asarray(p, dtype=np.float64)
    return np.log(p / (1 - p))


def test_every_metric_is_registered_as_an_error_to_minimise():
    for name in ("zero_one_error", "inv_macro_f1", "inv_macro_f1_record", "inv_macro_f1_orca", "inv_map", "inv_auroc",
                 "inv_auroc_orca", "inv_auroc_pixel", "inv_auroc_pixel_orca", "fnr_pixel", "rel_l2", "mae8",
                 "mae8_orca", "ece"):
        assert not METRICS[name].higher_is_better, name
    assert METRICS["mae8"].uses_meta and not METRICS["zero_one_error"].uses_meta


def test_zero_one_error_and_macro_f1_by_hand():
    pred = t([[2, 1, 0], [0, 3, 0], [0, 1, 0]])
    assert m.zero_one_error(pred, t([0, 1, 0])) == pytest.approx(100 / 3)
    # predictions 0, 1, 1 against 0, 1, 0: F1 = 2/3 for classes 0 and 1, 0 for class 2 (never seen): 1 - 4/9
    assert m.inv_macro_f1(pred, t([0, 1, 0])) == pytest.approx(5 / 9)
    assert m.inv_macro_f1(t(np.eye(3)), t([0, 1, 2])) == 0.0


def test_macro_f1_matches_sklearn():
    rng = np.random.default_rng(0)
    logits, y = rng.normal(size=(300, 4)), rng.integers(0, 4, 300)
    want = 1 - f1_score(y, logits.argmax(1), average="macro")
    assert m.inv_macro_f1(t(logits), t(y)) == pytest.approx(want)


def test_record_f1_votes_over_each_records_windows():
    # record 7: windows predict 1, 0, 1 -> 1 (its label); record 3: 0, 1 -> a tie, the smaller id 0 (its label)
    pred = t(np.eye(2)[[1, 0, 1, 0, 1]] * 5)
    meta = {"record": torch.tensor([7, 7, 7, 3, 3])}
    assert m.inv_macro_f1_record(pred, t([1, 1, 1, 0, 0]), meta) == 0.0
    assert m.inv_macro_f1(pred, t([1, 1, 1, 0, 0])) > 0  # the window-level score sees the two wrong windows
    with pytest.raises(m.InconsistentLabelsError, match="different labels"):
        m.inv_macro_f1_record(pred, t([1, 0, 1, 0, 0]), meta)


def test_orca_variants_average_chunks_of_1000():
    rng = np.random.default_rng(1)
    n = 2 * m.ORCA_CHUNK
    y = rng.integers(0, 3, n)
    logits = rng.normal(size=(n, 3))
    logits[: m.ORCA_CHUNK][np.arange(m.ORCA_CHUNK), y[: m.ORCA_CHUNK]] += 3  # the first chunk is easy
    p = logits.argmax(1)
    chunks = [f1_score(y[s], p[s], average="macro") for s in (slice(0, m.ORCA_CHUNK), slice(m.ORCA_CHUNK, n))]
    assert m.inv_macro_f1_orca(t(logits), t(y)) == pytest.approx(1 - np.mean(chunks))
    labels = rng.integers(0, 2, (n, 5))
    scores = rng.normal(size=(n, 5)) + 2 * labels * (np.arange(n) < m.ORCA_CHUNK)[:, None]
    aucs = [roc_auc_score(labels[s], scores[s], average="macro") for s in (slice(0, m.ORCA_CHUNK), slice(m.ORCA_CHUNK, n))]
    assert m.inv_auroc_orca(t(scores), t(labels)) == pytest.approx(1 - np.mean(aucs))
    assert m.inv_auroc(t(scores), t(labels)) == pytest.approx(1 - roc_auc_score(labels, scores, average="macro"))
    assert m.inv_auroc(t(scores), t(labels)) != pytest.approx(m.inv_auroc_orca(t(scores), t(labels)), abs=1e-4)


def test_auroc_and_map_skip_labels_of_one_class():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, (50, 4))
    y[:, 2] = 0  # no positive: skipped, as sklearn cannot score it
    s = rng.normal(size=(50, 4))
    keep = [0, 1, 3]
    assert m.inv_auroc(t(s), t(y)) == pytest.approx(1 - roc_auc_score(y[:, keep], s[:, keep], average="macro"))
    want_ap = np.mean([average_precision_score(y[:, j], s[:, j]) for j in keep])
    assert m.inv_map(t(s), t(y), {}) == pytest.approx(1 - want_ap)
    assert math.isnan(m.inv_auroc(t(s[:, [2]]), t(y[:, [2]])))


def test_map_scores_clips_on_their_mean_chunk_logits():
    # clip 0 has two chunks (logits 2 and -4: mean -1), clip 1 one chunk (logit 0): clip 1 ranks first
    pred, meta = t([[2.0], [-4.0], [0.0]]), {"clip": torch.tensor([0, 0, 1])}
    assert m.inv_map(pred, t([[1], [1], [0]]), meta) == pytest.approx(1 - 0.5)
    assert m.inv_map(pred, t([[1], [1], [0]]), {}) == pytest.approx(1 - average_precision_score([1, 1, 0], [2, -4, 0]))
    with pytest.raises(m.InconsistentLabelsError):
        m.inv_map(pred, t([[1], [0], [0]]), meta)


def test_pixel_auroc_fnr_and_orcas_binarised_variant():
    y = np.array([[1, 1, 0, 0], [0, 0, 1, 0]], dtype=np.float64).reshape(2, 1, 2, 2)
    p = logit(np.array([[0.9, 0.4, 0.2, 0.6], [0.1, 0.3, 0.8, 0.45]])).reshape(2, 1, 2, 2)
    ignore = np.zeros_like(y)
    ignore[0, 0, 1, 1] = 1  # the 0.6 false positive is ignored
    keep = ignore.ravel() == 0
    want = 1 - roc_auc_score(y.ravel()[keep], (1 / (1 + np.exp(-p))).ravel()[keep])
    assert m.inv_auroc_pixel(t(p), t(y), {"ignore": t(ignore)}) == pytest.approx(want)
    assert m.inv_auroc_pixel(t(y * 20 - 10), t(y), {}) == 0.0
    assert m.fnr_pixel(t(p), t(y), {"ignore": t(ignore)}) == pytest.approx(100 / 3)  # 0.4 misses one of 3
    # ORCA: binarised at logit 0, ignored pixels count as negatives: FNR 1/3, FPR 0/5 -> (1/3 + 0) / 2
    assert m.inv_auroc_pixel_orca(t(p), t(y), {"ignore": t(ignore)}) == pytest.approx((1 / 3) / 2)
    with pytest.raises(DataError, match="shape"):
        m.inv_auroc_pixel(t(p), t(y), {"ignore": t(np.zeros((2, 3)))})


def test_rel_l2_is_zero_on_identical_and_scales():
    y = torch.rand(3, 1, 5, 5, dtype=torch.float64) + 0.1
    assert m.rel_l2(y, y) == 0.0
    assert m.rel_l2(1.1 * y, y) == pytest.approx(0.1)


def _canvas(length: int, w: int = 40) -> np.ndarray:
    c = np.full((w, w), 100.0)
    c[m.PSICOV_PAD:m.PSICOV_PAD + length, m.PSICOV_PAD:m.PSICOV_PAD + length] = 5.0
    return c


def test_mae8_by_hand_with_true_lengths_and_orcas_bug():
    a, b = _canvas(27), _canvas(30)  # protein A predicted 1 A too far everywhere; B too, and its last residue 3 A
    pa, pb = a + 1.0, b + 1.0
    pb[m.PSICOV_PAD + 29, :] = pb[:, m.PSICOV_PAD + 29] = 8.0
    # pairs j - i >= 24: A keeps 6 (error 1 each); B keeps 21, the 6 with residue 29 at error 3: 33/21
    y, p = np.stack([a, b])[:, None], np.stack([pa, pb])[:, None]
    meta = {"length": torch.tensor([27, 30])}
    assert m.mae8(t(p), t(y), meta) == pytest.approx((1 + 33 / 21) / 2)
    assert m.mae8(t(y), t(y), meta) == 0.0
    # ORCA cuts every protein at the first one's length, 27: B keeps only its 6 pairs of error 1
    assert m.mae8_orca(t(p), t(y), meta) == pytest.approx(1.0)
    # in the other order A is read at 30: its canvas beyond 27 (Y = 100 > 8) adds no pair, so no change
    assert m.mae8_orca(t(p[::-1].copy()), t(y[::-1].copy()), {"length": torch.tensor([30, 27])}) == \
        pytest.approx((1 + 33 / 21) / 2)
    short = {"length": torch.tensor([20, 30])}  # a protein under 25 residues keeps no pair
    y3 = np.stack([_canvas(20), _canvas(30)])[:, None]
    assert m.mae8(t(y3 + 1), t(y3), short) == pytest.approx(1.0)
    assert m.mae8_orca(t(y3 + 1), t(y3), short) == math.inf


def test_ece_by_hand():
    # two samples at confidence 0.8, one right and one wrong: |0.5 - 0.8| = 0.3
    logits = t([[math.log(4), 0.0], [math.log(4), 0.0]])
    assert m.ece(logits, t([0, 1])) == pytest.approx(0.3)
    assert m.ece(t([[50.0, 0.0], [0.0, 50.0]]), t([0, 1])) == pytest.approx(0.0, abs=1e-12)


def test_missing_or_misaligned_metadata_is_a_data_error():
    pred, y = t(np.zeros((3, 2))), t([0, 1, 0])
    with pytest.raises(DataError, match="'record'"):
        m.inv_macro_f1_record(pred, y, {})
    with pytest.raises(DataError, match="out of step"):
        m.inv_macro_f1_record(pred, y, {"record": torch.tensor([1, 2])})
