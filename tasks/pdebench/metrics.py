"""PDEBench and ORCA metrics, implemented from their definitions (specs/pdebench.md §5, §7).

Inputs are de-normalised ``(B, C, *spatial)`` tensors of one predicted frame (the single-step
protocol). With one frame, PDEBench's per-(sample, channel, frame) quantities reduce to
per-(sample, channel) ones:

- ``e[b,c] = sqrt(mean_x (p - y)^2)`` and ``n[b,c] = sqrt(mean_x y^2)``;
- PDEBench ``RMSE = mean_c mean_b e``, ``nRMSE = mean_c mean_b e / n``;
- ORCA's ``nRMSE`` (its ``nmse``) flattens channels and space per sample:
  ``mean_b ||p_b - y_b||_2 / ||y_b||_2``. For one channel it equals PDEBench's nRMSE.

Metrics are computed over the whole test split at once (ORCA averages over chunks of 1000 and
PDEBench over batches; for these per-sample means that differs only through an unequal last chunk).
Reference: Takamoto et al., PDEBench, NeurIPS 2022 D&B; Shen et al., ORCA, ICML 2023.
"""

from __future__ import annotations

import torch

from xbench.metrics import _per_sample_norm_ratio, register_metric


def _e_n(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    d = (pred - target).flatten(2)
    return d.pow(2).mean(-1).sqrt(), target.flatten(2).pow(2).mean(-1).sqrt()


@register_metric("nrmse", higher_is_better=False, description="ORCA per-sample ||p-y||/||y||, mean over samples")
def nrmse(pred: torch.Tensor, target: torch.Tensor) -> float:
    return float(_per_sample_norm_ratio(pred, target).mean())


@register_metric("pdebench_rmse", higher_is_better=False, description="PDEBench RMSE (mean over samples, channels)")
def pdebench_rmse(pred: torch.Tensor, target: torch.Tensor) -> float:
    e, _ = _e_n(pred, target)
    return float(e.mean(0).mean())


@register_metric("pdebench_nrmse", higher_is_better=False, description="PDEBench nRMSE (per sample and channel)")
def pdebench_nrmse(pred: torch.Tensor, target: torch.Tensor) -> float:
    e, n = _e_n(pred, target)
    return float((e / n.clamp_min(1e-12)).mean(0).mean())
