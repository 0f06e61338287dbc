"""Metric and training-loss registries.

A metric maps de-normalised predictions and targets ``(B, C, *spatial)`` to a float and has a
direction (``higher_is_better``). Task families register their metrics here (PDEBench's suite is in
``xbench.tasks.pdebench.metrics``); a task spec names the ones it reports and its main metric.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from xbench.errors import unknown_name


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[[torch.Tensor, torch.Tensor], float]
    higher_is_better: bool
    description: str


METRICS: dict[str, Metric] = {}


def register_metric(name: str, higher_is_better: bool, description: str):
    def deco(fn: Callable[[torch.Tensor, torch.Tensor], float]):
        METRICS[name] = Metric(name, fn, higher_is_better, description)
        return fn

    return deco


def get_metric(name: str) -> Metric:
    if name not in METRICS:
        from xbench.tasks.registry import load_families

        load_families()
    if name not in METRICS:
        raise unknown_name("metric", name, METRICS)
    return METRICS[name]


def _per_sample_norm_ratio(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    diff = (pred - target).flatten(1).norm(dim=1)
    return diff / target.flatten(1).norm(dim=1).clamp_min(1e-12)


def rmse_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """sqrt(mean((pred - target)^2)) over the whole batch (ORCA's ``rmse_loss``)."""
    return torch.sqrt(torch.mean((pred - target) ** 2))


def nrmse_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """mean over samples of ||pred_b - target_b||_2 / ||target_b||_2 (ORCA's ``nrmse_loss``)."""
    return _per_sample_norm_ratio(pred, target).mean()


def mse_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.mean((pred - target) ** 2)


LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "rmse": rmse_loss,
    "nrmse": nrmse_loss,
    "mse": mse_loss,
}


def get_loss(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if name not in LOSSES:
        raise unknown_name("training loss", name, LOSSES)
    return LOSSES[name]


def compute_metrics(names: tuple[str, ...], pred: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """Every metric of ``names`` on de-normalised ``pred``/``target`` (float64 for accuracy)."""
    p, t = pred.detach().double().cpu(), target.detach().double().cpu()
    return {n: float(get_metric(n).fn(p, t)) for n in names}
