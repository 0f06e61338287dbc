"""The trainer: runs a method's phases on one task and logs curves.

The two basic phase kinds (registered in :mod:`xbench.phasekinds.basic`; see :mod:`xbench.methods`):

- ``align``: only the embedder trains. Each step visits the target pseudo-classes in random order,
  accumulates ``w_c * D(source, features of class c)`` (``w_c = n_c / n``, at most
  ``align_maxsamples`` points per class) and takes one optimizer step (ORCA's stage 2). Option
  ``by_class=False``: one random chunk of ``align_maxsamples`` points per step, no labels (RECRAFT).
- ``fit``: the target loss (on de-normalised outputs unless ``loss_space=normalised``), ORCA's per-iteration WarmupLR, gradient clipping;
  after each epoch the main metric is computed on the validation split (de-normalised) and the best
  state is kept; at the end the best state is restored. The test split is never looked at here.
  A :class:`FitTerm` replaces the batch loss (``joint``, ``pare``); gradual unfreezing and L2-SP
  (:mod:`xbench.tuning`) apply to every fit.

The other kinds (``source-head``, ``fld``, ``joint``, ``lora``, ``adaptive-align``, ``pare``) live in
:mod:`xbench.phasekinds`, which imports this module (never the other way round).

Every epoch/step appends rows ``(phase, epoch, step, split, quantity, value)`` to ``curves``. With a
source reference and ``track_bound``, the bound terms of :mod:`xbench.theory` are logged after every
alignment step and epoch of every phase, once before the first phase (``init``) and once for the
restored final model (``final``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any, Protocol

import numpy as np
import torch
from tqdm.auto import tqdm

from xbench.config import TrainConfig
from xbench.data import TaskData
from xbench.errors import ConfigError, NonFiniteLossError
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


def step_decay(period_steps: int, gamma: float):
    """PDEBench's StepLR multiplier (as optimizer steps): gamma ** (s // period)."""
    period = max(1, period_steps)
    return lambda s: gamma ** (s // period)


def lr_factor(cfg, steps_per_epoch: int):
    """The fit's learning-rate multiplier per optimizer step for ``cfg.schedule``."""
    if cfg.schedule == "step":
        return step_decay(round(cfg.step_epochs * steps_per_epoch), cfg.step_gamma)
    return warmup_decay(round(cfg.warmup_epochs * steps_per_epoch), round(cfg.lr_decay_epochs * steps_per_epoch))


class FitTerm(Protocol):
    """Replaces a fit's batch loss: returns the loss to minimise and named parts to log (epoch means)."""

    def parameters(self) -> Iterable[torch.nn.Parameter]: ...

    def loss(self, x: torch.Tensor, y: torch.Tensor, idx: torch.Tensor, epoch: int) -> tuple[torch.Tensor, dict[str, float]]: ...


ALL_PARTS = ("embedder", "body", "head")


class Trainer:
    def __init__(self, model: CrossModalModel, data: TaskData, spec: TaskSpec, cfg: TrainConfig,
                 device: torch.device, seed: int, progress: bool = False):
        self.model, self.data, self.spec, self.cfg = model.to(device), data, spec, cfg
        self.device, self.seed, self.progress = device, seed, progress
        self.loss_fn = get_loss(spec.loss, spec.loss_options)
        self.main = get_metric(spec.main_metric)
        self.curves: list[dict[str, Any]] = []
        self.rng = np.random.default_rng(seed)
        self.gen = torch.Generator().manual_seed(seed)
        self.summary: dict[str, Any] = {}
        self._norm = {s: data.normalised(s) for s in ("train", "val", "test")}
        self.source: tuple[torch.Tensor, torch.Tensor] | None = None
        self._source_model = None
        self._tracker = None
        self._alignments: dict[str, Any] = {}

    def log_curve(self, phase: str, epoch: int, step: int, split: str, quantity: str, value: float) -> None:
        row = {"phase": phase, "epoch": epoch, "step": step, "split": split, "quantity": quantity, "value": float(value)}
        self.curves.append(row)
        if getattr(self, "live", None) is not None:  # xbench.live: a mirror to TensorBoard / W&B (--log-to)
            self.live(row)

    def _set_trainable(self, parts: tuple[str, ...]) -> None:
        """Train only the named parts of the model ("embedder", "body", "head"; "adapters": the body's LoRA)."""
        unknown = set(parts) - {"embedder", "body", "head", "adapters"}
        if unknown:
            raise ValueError(f"unknown model part(s) {sorted(unknown)}; use embedder, body, head, adapters")
        for name, p in self.model.named_parameters():
            top = name.split(".", 1)[0]
            adapter = top == "body" and ".lora_" in name
            p.requires_grad_(top in parts or (adapter and "adapters" in parts))

    # --------------------------------------------------- source and bound
    def set_source(self, source: tuple[torch.Tensor, torch.Tensor] | None) -> None:
        """The source reference (features (n, d), labels (n,)) that alignment, source head and bound use."""
        self.source = None if source is None else tuple(t.to(self.device) for t in source)

    def source_model(self):
        """The frozen source head (:func:`xbench.theory.fit_source_model`), trained once per run."""
        if self._source_model is None:
            from xbench.theory import fit_source_model

            if self.source is None:
                raise ConfigError("this phase needs the source reference (a crossmodal model with a text body).")
            cfg = self.cfg
            feats, labels = self.source
            self._source_model = fit_source_model(feats, labels, cfg.source_tau, cfg.source_rho, cfg.source_head_epochs,
                                                  min(cfg.bound_points, len(feats) // 5), self.seed,
                                                  use_hinge=cfg.source_hinge)
        return self._source_model

    def bound_tracker(self, part: str = "report"):
        """The bound tracker on the ``report`` or the disjoint ``select`` validation subset."""
        if self._tracker is None:
            self._tracker = {}
        if part not in self._tracker:
            from xbench.theory import BoundTracker

            self._tracker[part] = BoundTracker(self, self.source_model(), part)
        return self._tracker[part]

    def track(self, phase: str, epoch: int, step: int, val: float | None = None):
        """Log the bound terms (when tracking) and return them, else None."""
        if not self.cfg.track_bound or self.source is None:
            return None
        return self.bound_tracker().log(phase, epoch, step, val)

    def alignment(self, loss_name: str):
        """The alignment loss ``loss_name`` against the source reference, built once per run."""
        if loss_name not in self._alignments:
            from xbench.align import build_alignment

            if self.source is None:
                raise ConfigError(f"alignment loss {loss_name!r} needs the source reference.")
            self._alignments[loss_name] = build_alignment(loss_name, *self.source)
        return self._alignments[loss_name]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Mean-pooled embedder features (B, d) of stored (normalised) inputs."""
        return self.model.features(x.to(self.device))

    # ---------------------------------------------------------------- align
    def align_optimizer(self) -> tuple[torch.optim.Optimizer, Any]:
        """ORCA's embedder optimizer: lr x align_lr_mult when lr <= 1e-3, x0.2 at 1/3 and 2/3 of the steps."""
        cfg = self.cfg
        lr = cfg.lr * cfg.align_lr_mult if cfg.lr <= 1e-3 else cfg.lr
        opt = make_optimizer(self.model.parameters(), cfg, lr)
        milestones = [max(1, cfg.align_steps // 3), max(2, 2 * cfg.align_steps // 3)]
        return opt, torch.optim.lr_scheduler.MultiStepLR(opt, milestones, gamma=0.2)

    def align_step(self, loss, loss_name: str, by_class: bool = True) -> float:
        """Accumulate the gradients of one alignment step; returns the distance (see module docstring)."""
        x = self._norm["train"][0]
        if by_class:
            labels = self.data.pseudo_labels(self.cfg.n_classes).numpy()
            classes, counts = np.unique(labels, return_counts=True)
            groups = [(np.flatnonzero(labels == classes[ci]), counts[ci] / counts.sum())
                      for ci in self.rng.permutation(len(classes))]
        else:  # one random chunk (RECRAFT), weighted by its share of the loader where align_chunk_weight=loader
            chunk = min(len(x), self.cfg.align_maxsamples)
            weight = chunk / math.ceil(len(x) / self.cfg.batch_size) if self.cfg.align_chunk_weight == "loader" else 1.0
            groups = [(np.arange(len(x)), weight)]
        total = 0.0
        for members, weight in groups:
            pick = self.rng.permutation(members)[: self.cfg.align_maxsamples]
            d = loss(self.features(x[pick])) * float(weight)
            if not torch.isfinite(d):
                raise NonFiniteLossError(f"alignment loss {loss_name} became {d.item()}")
            d.backward()
            total += d.item()
        return total

    def align(self, loss_name: str, parts: tuple[str, ...] = ("embedder",), by_class: bool = True) -> None:
        cfg = self.cfg
        loss = self.alignment(loss_name)
        self._set_trainable(parts)
        opt, sched = self.align_optimizer()
        total = float("nan")
        for step in tqdm(range(cfg.align_steps), desc=f"align ({loss_name})", disable=not self.progress, leave=False):
            self.model.train()
            opt.zero_grad(set_to_none=True)
            total = self.align_step(loss, loss_name, by_class)
            opt.step()
            sched.step()
            self.log_curve("align", step, step, "train", f"align_{loss_name}", total)
            self.track("align", step, step + 1)
        self.summary["align_final"] = total if cfg.align_steps else None
        log.info("align %s: %d steps, final distance %.4g", loss_name, cfg.align_steps, total)

    # ------------------------------------------------------------------ fit
    def target_loss(self, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The task loss of normalised predictions and targets, in the space ``cfg.loss_space`` names:
        ``raw`` de-normalises both first (the loss the reference protocols train on, on the values the
        metric scores), ``normalised`` compares the standardised tensors (every channel weighs alike)."""
        if self.cfg.loss_space == "raw":
            pred, y = self.data.y_norm.decode(pred), self.data.y_norm.decode(y)
        return self.loss_fn(pred, y)

    def batch_loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The target loss of one batch of normalised inputs and targets."""
        return self.target_loss(self.model({"x": x.to(self.device)})["y"], y.to(self.device))

    def fit(self, parts: tuple[str, ...] = ALL_PARTS, term: FitTerm | None = None, name: str = "fit") -> None:
        from xbench.tuning import FitOptions

        cfg = self.cfg
        self._set_trainable(parts)
        options = FitOptions(self.model, cfg)
        x, y = self._norm["train"]
        n = len(x)
        steps_per_epoch = math.ceil(n / cfg.batch_size)
        params = [*self.model.parameters(), *(term.parameters() if term is not None else ())]
        opt = make_optimizer(params, cfg, cfg.lr)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor(cfg, steps_per_epoch))
        better = (lambda a, b: a > b) if self.main.higher_is_better else (lambda a, b: a < b)
        best, best_state, best_epoch, step = None, None, -1, 0
        target = f"loss_{self.spec.loss}"
        for epoch in range(cfg.epochs):
            self.model.train()
            options.start_epoch(epoch)
            perm = torch.randperm(n, generator=self.gen)
            sums: dict[str, float] = {}
            batches = perm.split(cfg.batch_size)
            bar = tqdm(batches, desc=f"{name} epoch {epoch + 1}/{cfg.epochs}", disable=not self.progress, leave=False)
            for idx in bar:
                if term is None:
                    loss = self.batch_loss(x[idx], y[idx])
                    logged = {target: loss.item()}
                else:
                    loss, logged = term.loss(x[idx], y[idx], idx, epoch)
                    logged = {**logged, "loss_total": loss.item()}
                if not torch.isfinite(loss):
                    raise NonFiniteLossError(
                        f"training loss became {loss.item()} at epoch {epoch + 1}, step {step} "
                        f"(lr {sched.get_last_lr()[0]:.3g}); lower lr or enable clip")
                penalty = options.penalty()
                if penalty is not None:
                    logged["l2sp_penalty"] = penalty.item()
                    loss = loss + penalty
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.clip is not None:
                    torch.nn.utils.clip_grad_norm_(params, cfg.clip)
                opt.step()
                sched.step()
                step += 1
                for k, v in logged.items():
                    sums[k] = sums.get(k, 0.0) + v
            val = self.evaluate("val", (self.spec.main_metric,))[self.spec.main_metric]
            for k, v in sums.items():
                self.log_curve(name, epoch, step, "train", k, v / len(batches))
            self.log_curve(name, epoch, step, "val", self.spec.main_metric, val)
            self.log_curve(name, epoch, step, "train", "lr", sched.get_last_lr()[0])
            self.track(name, epoch, step, val)
            log.info("%s epoch %d/%d: train %s %.4g, val %s %.4g", name, epoch + 1, cfg.epochs, self.spec.loss,
                     sums.get(target, float("nan")) / len(batches), self.spec.main_metric, val)
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
        return compute_metrics(metrics or self.spec.metrics, self.predict(split), self.data.y[split],
                               self.data.meta.get(split))
