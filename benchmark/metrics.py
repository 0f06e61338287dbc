"""Metric and training-loss registries.

A metric maps de-normalised predictions and targets of a whole split to a float and has a
direction (``higher_is_better``): ``fn(pred, target)`` or, for metrics that need per-sample extras
(a protein's length, a chunk's clip), ``fn(pred, target, meta)`` with ``meta`` the split's
``TaskData.meta``. Shapes by task kind: dense ``(B, C, *spatial)``; classification logits
``(B, K)`` against class ids ``(B,)``; multi-label logits ``(B, L)`` against 0/1 ``(B, L)``. Task
families register their metrics here (e.g. ``xbench.tasks.pdebench.metrics``); a task spec names
the ones it reports and its main metric.

Training losses are registered as factories, ``LOSSES[name](**options) -> loss(pred, target)``, so
that a task spec can set a loss's options (``TaskSpec.loss_options``, e.g. BCE's ``pos_weight``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from xbench.registry import Registry


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[..., float]
    higher_is_better: bool
    description: str
    uses_meta: bool = False


def _load_families() -> None:
    from xbench.tasks.registry import load_families

    load_families()


METRICS: Registry[Metric] = Registry("metric", "List them with `xbench ls metrics`.", _load_families)


def register_metric(name: str, higher_is_better: bool, description: str):
    def deco(fn: Callable[..., float]):
        METRICS.register(name, Metric(name, fn, higher_is_better, description, "meta" in inspect.signature(fn).parameters))
        return fn

    return deco


def get_metric(name: str) -> Metric:
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


def rel_l2_sum_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """sum over samples of ||pred_b - target_b||_2 / ||target_b||_2 (ORCA's and the FNO code's
    ``LpLoss(size_average=False)``: the batch sum, so the step size grows with the batch)."""
    return _per_sample_norm_ratio(pred, target).sum()


def mse_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.mean((pred - target) ** 2)


def cross_entropy_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Softmax cross-entropy of logits (B, K) against class ids (B,), mean over the batch."""
    return F.cross_entropy(pred, target.long())


def bce_loss(pos_weight: float = 1.0) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Binary cross-entropy with logits, mean over the scored entries, positives weighted by
    ``pos_weight``: ``-mean_{y >= 0}(w y log s(p) + (1 - y) log(1 - s(p)))`` (ORCA: 10 for FSD50K, 4
    for DeepSEA). Entries whose target is negative are not scored (a task marks pixels to ignore, such
    as Cosmic's bad pixels, with -1; ORCA zeroes both logit and target there, which keeps them in the
    mean as a constant log 2 with no gradient: the same gradients up to the mean's denominator)."""
    if not pos_weight > 0:
        raise ValueError(f"pos_weight must be positive, got {pos_weight!r}")

    def loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        target = target.to(pred.dtype)
        keep = target >= 0
        w = torch.tensor(float(pos_weight), device=pred.device, dtype=pred.dtype)
        if bool(keep.all()):
            return F.binary_cross_entropy_with_logits(pred, target, pos_weight=w)
        return F.binary_cross_entropy_with_logits(pred[keep], target[keep], pos_weight=w)

    return loss


LOSSES: Registry[Callable[..., Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]] = Registry("training loss")
for _name, _fn in {"rmse": rmse_loss, "nrmse": nrmse_loss, "rel_l2_sum": rel_l2_sum_loss, "mse": mse_loss,
                   "ce": cross_entropy_loss}.items():
    LOSSES.register(_name, lambda _fn=_fn: _fn)
LOSSES.register("bce", bce_loss)


def get_loss(name: str, options: dict | None = None) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The training loss ``name`` with the task's ``options``."""
    from xbench.errors import ConfigError

    try:
        return LOSSES[name](**(options or {}))
    except TypeError as e:
        raise ConfigError(f"training loss {name!r} does not take the options {options}: {e}") from None


def compute_metrics(names: tuple[str, ...], pred: torch.Tensor, target: torch.Tensor,
                    meta: dict[str, torch.Tensor] | None = None) -> dict[str, float]:
    """Every metric of ``names`` on de-normalised ``pred``/``target`` (float64 for accuracy)."""
    p, t = pred.detach().double().cpu(), target.detach().double().cpu()
    out = {}
    for n in names:
        m = get_metric(n)
        out[n] = float(m.fn(p, t, meta=meta or {}) if m.uses_meta else m.fn(p, t))
    return out
