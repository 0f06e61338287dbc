"""PDEBench and ORCA metrics, implemented from their definitions (docs/pdebench.md §4, §6).

Inputs are de-normalised ``(B, C, *spatial)`` tensors of one predicted frame (the single-step
protocol). With one frame, PDEBench's per-(sample, channel, frame) quantities reduce to
per-(sample, channel) ones:

- ``e[b,c] = sqrt(mean_x (p - y)^2)`` and ``n[b,c] = sqrt(mean_x y^2)``;
- PDEBench ``RMSE = mean_c mean_b e``, ``nRMSE = mean_c mean_b e / n``;
- ORCA's ``nRMSE`` (its ``nmse``) flattens channels and space per sample:
  ``mean_b ||p_b - y_b||_2 / ||y_b||_2``. For one channel it equals PDEBench's nRMSE.

The rest of PDEBench's suite (§5), for one frame, with N spatial points and domain length L = 1:

- ``cRMSE = mean_c sqrt(mean_b (sum_x p - sum_x y)^2) / N`` (error of the conserved total);
- ``Max = mean_c max_b max_x |p - y|``;
- ``bRMSE``: RMS error on the boundary cells (1D: first and last; 2D: the four edges, corners twice);
- ``fRMSE`` low/mid/high: the error spectrum ``E[c,k] = sqrt(mean_b |F(p) - F(y)|_k^2) / N`` (1D:
  rfft bins k; 2D: radial bins r = floor(|(i, j)|) over the first quadrant, r < min(n)/2), averaged
  over k in [0, 4), [4, 12) and [12, end).

Metrics are computed over the whole test split at once (ORCA averages over chunks of 1000 and
PDEBench over batches; for per-sample means that differs only through an unequal last chunk, while
Max and cRMSE are batch-level statistics and are here statistics of the whole split).
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


@register_metric("pdebench_crmse", higher_is_better=False, description="PDEBench cRMSE (error of the spatial sum)")
def pdebench_crmse(pred: torch.Tensor, target: torch.Tensor) -> float:
    n = pred[0, 0].numel()
    d = pred.flatten(2).sum(-1) - target.flatten(2).sum(-1)
    return float((d.pow(2).mean(0).sqrt() / n).mean())


@register_metric("pdebench_max", higher_is_better=False, description="PDEBench Max (worst absolute error)")
def pdebench_max(pred: torch.Tensor, target: torch.Tensor) -> float:
    return float((pred - target).abs().flatten(2).amax(-1).amax(0).mean())


@register_metric("pdebench_brmse", higher_is_better=False, description="PDEBench bRMSE (boundary cells)")
def pdebench_brmse(pred: torch.Tensor, target: torch.Tensor) -> float:
    s = (pred - target).pow(2)
    if s.ndim == 3:
        b = ((s[..., 0] + s[..., -1]) / 2).sqrt()
    elif s.ndim == 4:
        nx, ny = s.shape[-2:]
        edges = s[:, :, 0, :].sum(-1) + s[:, :, -1, :].sum(-1) + s[:, :, :, 0].sum(-1) + s[:, :, :, -1].sum(-1)
        b = (edges / (2 * nx + 2 * ny)).sqrt()
    else:
        raise ValueError(f"bRMSE is defined for 1D and 2D fields, not shape {tuple(s.shape)}")
    return float(b.mean(0).mean())


BANDS = {"low": (0, 4), "mid": (4, 12), "high": (12, None)}


def error_spectrum(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """PDEBench's E[c, k] (see the module docstring): shape (C, n_bins)."""
    d = pred - target
    if d.ndim == 3:
        f = torch.fft.rfft(d, dim=-1).abs().pow(2)
        return f.mean(0).sqrt() / d.shape[-1]
    if d.ndim != 4:
        raise ValueError(f"fRMSE is defined for 1D and 2D fields, not shape {tuple(d.shape)}")
    nx, ny = d.shape[-2:]
    f = torch.fft.fftn(d, dim=(-2, -1)).abs().pow(2)[..., : nx // 2, : ny // 2]
    i, j = torch.meshgrid(torch.arange(nx // 2), torch.arange(ny // 2), indexing="ij")
    r = torch.sqrt((i**2 + j**2).double()).floor().long()
    n_bins = min(nx, ny) // 2
    binned = torch.stack([f[..., r == k].sum(-1) for k in range(n_bins)], dim=-1)
    return binned.mean(0).sqrt() / (nx * ny)


def _band(name: str):
    lo, hi = BANDS[name]

    def metric(pred: torch.Tensor, target: torch.Tensor) -> float:
        band = error_spectrum(pred, target)[:, lo:hi]
        return float(band.mean(-1).mean()) if band.shape[-1] else float("nan")

    metric.__name__ = f"pdebench_frmse_{name}"
    return metric


for _name in BANDS:
    register_metric(f"pdebench_frmse_{_name}", higher_is_better=False,
                    description=f"PDEBench fRMSE, {_name} frequencies {BANDS[_name]}")(_band(_name))
