"""PDEBench's metric suite against values worked out by hand on small arrays (1D and 2D)."""

from __future__ import annotations

import math

import pytest
import torch

from xbench.metrics import compute_metrics

SUITE = ("pdebench_rmse", "pdebench_nrmse", "pdebench_crmse", "pdebench_brmse", "pdebench_max",
         "pdebench_frmse_low", "pdebench_frmse_mid", "pdebench_frmse_high")


def test_constant_offset_1d():
    """p - y = d everywhere: every error is |d|; the spectrum has only the DC bin, N*|d|/N = |d|."""
    y = torch.randn(3, 1, 32, dtype=torch.float64)
    m = compute_metrics(SUITE, y + 0.5, y)
    assert m["pdebench_rmse"] == pytest.approx(0.5)
    assert m["pdebench_crmse"] == pytest.approx(0.5)  # sqrt(mean_b (32 * 0.5)^2) / 32
    assert m["pdebench_brmse"] == pytest.approx(0.5)
    assert m["pdebench_max"] == pytest.approx(0.5)
    assert m["pdebench_frmse_low"] == pytest.approx(0.5 / 4)  # DC bin = 0.5, bins 1..3 = 0, mean of 4
    assert m["pdebench_frmse_mid"] == pytest.approx(0.0, abs=1e-12)
    assert m["pdebench_frmse_high"] == pytest.approx(0.0, abs=1e-12)


def test_hand_values_1d():
    y = torch.tensor([[[1.0, 2.0, 3.0, 4.0]], [[0.0, 0.0, 0.0, 2.0]]])
    p = torch.tensor([[[1.0, 2.0, 3.0, 6.0]], [[1.0, 0.0, 0.0, 2.0]]])
    # differences: sample 0 [0,0,0,2], sample 1 [1,0,0,0]
    m = compute_metrics(SUITE, p, y)
    assert m["pdebench_rmse"] == pytest.approx((math.sqrt(4 / 4) + math.sqrt(1 / 4)) / 2)
    assert m["pdebench_nrmse"] == pytest.approx((1.0 / math.sqrt(30 / 4) + 0.5 / math.sqrt(4 / 4)) / 2)
    assert m["pdebench_crmse"] == pytest.approx(math.sqrt((2**2 + 1**2) / 2) / 4)
    assert m["pdebench_brmse"] == pytest.approx((math.sqrt((0 + 4) / 2) + math.sqrt((1 + 0) / 2)) / 2)
    assert m["pdebench_max"] == pytest.approx(2.0)
    # rfft of [0,0,0,2]: [2, 2i, -2]; of [1,0,0,0]: [1, 1, 1]. E_k = sqrt(mean_b |F|^2) / 4
    e = [math.sqrt((4 + 1) / 2) / 4, math.sqrt((4 + 1) / 2) / 4, math.sqrt((4 + 1) / 2) / 4]
    assert m["pdebench_frmse_low"] == pytest.approx(sum(e) / 3)  # only 3 bins exist, all in [0, 4)
    assert math.isnan(m["pdebench_frmse_mid"])  # an empty band is NaN, as in PDEBench


def test_hand_values_2d():
    y = torch.zeros(1, 1, 4, 4)
    p = y.clone()
    p[0, 0, 0, 0] = 2.0  # a corner: counted on two edges
    p[0, 0, 2, 2] = 1.0  # an interior point
    m = compute_metrics(SUITE, p, y)
    assert m["pdebench_rmse"] == pytest.approx(math.sqrt(5 / 16))
    assert m["pdebench_crmse"] == pytest.approx(3 / 16)
    assert m["pdebench_max"] == pytest.approx(2.0)
    assert m["pdebench_brmse"] == pytest.approx(math.sqrt((4 + 4) / (2 * 4 + 2 * 4)))
    # fftn of the difference on the first quadrant i, j in {0, 1}: F(k) = 2 + exp(-i pi (k1 + k2))
    # -> F(0,0) = 3, F(0,1) = F(1,0) = 1, F(1,1) = 3; radial bins r < 2: r=0 {(0,0)}, r=1 {(0,1),(1,0),(1,1)}
    e0, e1 = math.sqrt(9) / 16, math.sqrt(1 + 1 + 9) / 16
    assert m["pdebench_frmse_low"] == pytest.approx((e0 + e1) / 2)


def test_zero_on_perfect_prediction():
    y = torch.randn(4, 2, 16, 16)
    m = compute_metrics(SUITE[:-2], y, y)
    assert all(v == pytest.approx(0.0, abs=1e-12) for v in m.values())
