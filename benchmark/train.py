"""The trainer: runs a method's phases on one task and logs curves.

Phases (see :mod:`xbench.methods`):

- ``align``: only the embedder trains. Each step visits the target pseudo-classes in random order,
  accumulates ``w_c * D(source, features of class c)`` (``w_c = n_c / n``, at most
  ``align_maxsamples`` points per class) and takes one optimizer step (ORCA's stage 2).
- ``fit``: the target loss on normalised tensors, ORCA's per-iteration WarmupLR, gradient clipping;
  after each epoch the main metric is computed on the validation split (de-normalised) and the best
  state is kept; at the end the best state is restored. The test split is never looked at here.

Every epoch/step appends rows ``(phase, epoch, step, split, quantity, value)`` to ``curves``.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from xbench.config import TrainConfig
from xbench.data import TaskData
from xbench.errors import NonFiniteLossError
from xbench.metrics import compute_metrics, get_loss, get_metric
from xbench.models import CrossModalModel
from xbench.tasks.registry import TaskSpec

log = logging.getLogger(__name__)


def make_optimizer(params, cfg: TrainConfig, lr: float) -> torch.optim.Optimizer:
    """ORCA's optimizers: Adam/AdamW with betas (0.9, 0.98), or SGD with momentum."""
    params = [p for p in params if p.requires_grad]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.AdamW
    return cls(params, lr=lr, betas=(0.9, 0.98), weight_decay=cfg.weight_decay)


def warmup_decay(warmup_steps: int, decay_steps: int):
    """ORCA's WarmupLR multiplier: s/W for s < W, then (T - s)/(T - W), floored at 0."""

    def factor(s: int) -> float:
        if s < warmup_steps:
            return (s + 1) / warmup_steps
        return max(0.0, (decay_steps - s) / max(1, decay_steps - warmup_steps))

    return factor


class Trainer:
    def __init__(self, model: CrossModalModel, data: TaskData, spec: TaskSpec, cfg: TrainConfig,
                 device: torch.device, seed: int, progress: bool = False):
        self.model, self.data, self.spec, self.cfg = model.to(device), data, spec, cfg
        self.device, self.seed, self.progress = device, seed, progress
        self.loss_fn = get_loss(spec.loss)
        self.main = get_metric(spec.main_metric)
        self.curves: list[dict[str, Any]] = []
        self.rng = np.random.default_rng(seed)
        self.gen = torch.Generator().manual_seed(seed)
        self.summary: dict[str, Any] = {}
        self._norm = {s: data.normalised(s) for s in ("train", "val", "test")}

    def log_curve(self, phase: str, epoch: int, step: int, split: str, quantity: str, value: float) -> None:
        self.curves.append({"phase": phase, "epoch": epoch, "step": step, "split": split,
                            "quantity": quantity, "value": float(value)})

    def _set_trainable(self, parts: tuple[str, ...]) -> None:
        """Train only the named parts of the model ("embedder", "body", "head")."""
        unknown = set(parts) - {"embedder", "body", "head"}
        if unknown:
            raise ValueError(f"unknown model part(s) {sorted(unknown)}; use embedder, body, head")
        for name, p in self.model.named_parameters():
            p.requires_grad_(name.split(".", 1)[0] in parts)

    # ---------------------------------------------------------------- align
    def align(self, loss_name: str, source: tuple[torch.Tensor, torch.Tensor],
              parts: tuple[str, ...] = ("embedder",)) -> None:
        from xbench.align import build_alignment

        cfg = self.cfg
        self._set_trainable(parts)
        src_feats, src_labels = (t.to(self.device) for t in source)
        loss = build_alignment(loss_name, src_feats, src_labels)
        labels = self.data.pseudo_labels(cfg.n_classes).numpy()
        classes, counts = np.unique(labels, return_counts=True)
        weights = counts / counts.sum()
        x_train = self._norm["train"][0]
        lr = cfg.lr * cfg.align_lr_mult if cfg.lr <= 1e-3 else cfg.lr
        opt = make_optimizer(self.model.parameters(), cfg, lr)
        milestones = [max(1, cfg.align_steps // 3), max(2, 2 * cfg.align_steps // 3)]
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones, gamma=0.2)
        self.model.train()
        for step in tqdm(range(cfg.align_steps), desc=f"align ({loss_name})", disable=not self.progress, leave=False):
            opt.zero_grad(set_to_none=True)
            total = 0.0
            for ci in self.rng.permutation(len(classes)):
                members = np.flatnonzero(labels == classes[ci])
                pick = self.rng.permutation(members)[: cfg.align_maxsamples]
                feats = self.model.features(x_train[pick].to(self.device))
                d = loss(feats) * float(weights[ci])
                if not torch.isfinite(d):
                    raise NonFiniteLossError(f"alignment loss {loss_name} became {d.item()} at step {step}")
                d.backward()
                total += d.item()
            opt.step()
            sched.step()
            self.log_curve("align", step, step, "train", f"align_{loss_name}", total)
        self.summary["align_final"] = total if cfg.align_steps else None
        log.info("align %s: %d steps, final distance %.4g", loss_name, cfg.align_steps,
                 total if cfg.align_steps else float("nan"))

    # ------------------------------------------------------------------ fit
    def batch_loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The target loss of one batch of normalised inputs and targets."""
        return self.loss_fn(self.model({"x": x.to(self.device)})["y"], y.to(self.device))

    def fit(self, parts: tuple[str, ...] = ("embedder", "body", "head")) -> None:
        cfg = self.cfg
        self._set_trainable(parts)
        x, y = self._norm["train"]
        n = len(x)
        steps_per_epoch = math.ceil(n / cfg.batch_size)
        opt = make_optimizer(self.model.parameters(), cfg, cfg.lr)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, warmup_decay(round(cfg.warmup_epochs * steps_per_epoch), round(cfg.lr_decay_epochs * steps_per_epoch)))
        better = (lambda a, b: a > b) if self.main.higher_is_better else (lambda a, b: a < b)
        best, best_state, best_epoch, step = None, None, -1, 0
        for epoch in range(cfg.epochs):
            self.model.train()
            perm = torch.randperm(n, generator=self.gen)
            losses = []
            bar = tqdm(perm.split(cfg.batch_size), desc=f"fit epoch {epoch + 1}/{cfg.epochs}",
                       disable=not self.progress, leave=False)
            for idx in bar:
                loss = self.batch_loss(x[idx], y[idx])
                if not torch.isfinite(loss):
                    raise NonFiniteLossError(
                        f"training loss became {loss.item()} at epoch {epoch + 1}, step {step} "
                        f"(lr {sched.get_last_lr()[0]:.3g}); lower lr or enable clip")
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.clip is not None:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.clip)
                opt.step()
                sched.step()
                step += 1
                losses.append(loss.item())
            val = self.evaluate("val", (self.spec.main_metric,))[self.spec.main_metric]
            self.log_curve("fit", epoch, step, "train", f"loss_{self.spec.loss}", float(np.mean(losses)))
            self.log_curve("fit", epoch, step, "val", self.spec.main_metric, val)
            self.log_curve("fit", epoch, step, "train", "lr", sched.get_last_lr()[0])
            log.info("epoch %d/%d: train %s %.4g, val %s %.4g", epoch + 1, cfg.epochs, self.spec.loss,
                     np.mean(losses), self.spec.main_metric, val)
            if best_state is None or (math.isfinite(val) and (not math.isfinite(best) or better(val, best))):
                best, best_epoch = val, epoch
                best_state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
        if best_state is not None:
            self.model.load_state_dict(best_state)
        self.summary.update(best_epoch=best_epoch, best_val=best)

    # ------------------------------------------------------------- evaluate
    @torch.no_grad()
    def predict(self, split: str) -> torch.Tensor:
        """De-normalised predictions for a split."""
        self.model.eval()
        x = self._norm[split][0]
        out = [self.model({"x": xb.to(self.device)})["y"].float().cpu() for xb in x.split(self.cfg.eval_batch_size)]
        return self.data.y_norm.decode(torch.cat(out))

    def evaluate(self, split: str, metrics: tuple[str, ...] | None = None) -> dict[str, float]:
        return compute_metrics(metrics or self.spec.metrics, self.predict(split), self.data.y[split])


def run_phases(trainer: Trainer, phases, align_loss: str, source) -> None:
    """Run a recipe's phases in order (see :mod:`xbench.methods`)."""
    for phase in phases:
        if phase.kind == "align":
            trainer.align(align_loss, source, phase.trainable)
        elif phase.kind == "fit":
            trainer.fit(phase.trainable)
        else:
            raise ValueError(f"unknown phase kind {phase.kind!r}")
