r"""Phase kinds beyond ``align`` and ``fit``: ``source-head``, ``fld``, ``joint``, ``lora``, ``adaptive-align``.

Each is ``fn(trainer, phase, align_loss)`` registered with :func:`xbench.phasekinds.phase_kind`; the recipes
in :mod:`xbench.methods` combine them. ``pare`` lives in :mod:`xbench.phasekinds.pare`.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from xbench.errors import ConfigError, NonFiniteLossError
from xbench.theory import feature_label_distortion
from xbench.phasekinds import phase_kind
from xbench.train import Trainer, make_optimizer

log = logging.getLogger(__name__)


@phase_kind("source-head")
def source_head(trainer: Trainer, phase, align_loss: str) -> None:
    """RECRAFT step 1: the source head with the tau-hinge (:func:`xbench.theory.fit_source_model`).

    The head is the one the bound terms use, trained once per run; this phase logs its training.
    """
    sm = trainer.source_model()
    for h in sm.history:
        for q in ("ce", "hinge", "train_acc"):
            trainer.log_curve("source-head", h["epoch"], h["epoch"], "source", f"source_head_{q}", h[q])
    trainer.summary["source_head_train_acc"] = sm.history[-1]["train_acc"]


@phase_kind("fld")
def fld(trainer: Trainer, phase, align_loss: str) -> None:
    r"""RECRAFT step 3: minimise the feature-label distortion through the frozen source head.

    For ``fld_epochs`` epochs, the target pseudo-classes in random order, each class's points in
    random chunks of ``fld_maxsamples``: one optimizer step (lr ``fld_lr``) per chunk on
    :math:`w_y \frac{m}{n_y} H\big(\frac1m\sum_j \mathrm{softmax}(h_s(\bar\varphi(x_j)))\big)`.
    Only the embedder trains; the head stays frozen (RECRAFT's code means to freeze it but its
    ``set_grad_state`` misses a bare ``nn.Linear``, docs/methods.md §7). RECRAFT passes the source
    model through the body; here :math:`h_s` reads the mean-pooled features directly, the space in
    which the bound's tau and W are measured (:mod:`xbench.theory`).
    """
    cfg = trainer.cfg
    body = cfg.fld_reads == "body"
    head = body_source_head(trainer) if body else trainer.source_model().head
    trainer._set_trainable(phase.trainable)
    opt = make_optimizer(trainer.model.parameters(), cfg, cfg.fld_lr)
    labels = trainer.data.pseudo_labels(cfg.n_classes).numpy()
    classes, counts = np.unique(labels, return_counts=True)
    x = trainer._norm["train"][0]
    step = 0
    for epoch in range(cfg.fld_epochs):
        trainer.model.train()
        total = 0.0
        for ci in trainer.rng.permutation(len(classes)):
            members = trainer.rng.permutation(np.flatnonzero(labels == classes[ci]))
            for start in range(0, len(members), cfg.fld_maxsamples):
                chunk = members[start:start + cfg.fld_maxsamples]
                weight = counts[ci] / counts.sum() * len(chunk) / counts[ci]
                if body:  # per token: the entropy of the chunk's mean distribution, summed over tokens
                    model = trainer.model
                    h = model._backbone.encode(model.embedder(x[chunk].to(trainer.device)))
                    mean = F.softmax(head(h), dim=-1).mean(dim=0)
                    loss = weight * -(mean * mean.clamp_min(1e-12).log()).sum()
                else:
                    probs = F.softmax(head(trainer.features(x[chunk])), dim=1)
                    loss = weight * feature_label_distortion(probs, torch.zeros(len(chunk), dtype=torch.long))
                if not torch.isfinite(loss):
                    raise NonFiniteLossError(f"FLD loss became {loss.item()} at epoch {epoch + 1}")
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.item()
                step += 1
        trainer.log_curve("fld", epoch, step, "train", "fld_loss", total)
        trainer.track("fld", epoch, step)
    log.info("fld: %d epochs, %d steps", cfg.fld_epochs, step)


def body_source_head(trainer: Trainer) -> nn.Linear:
    """RECRAFT's 1D source predictor for ``fld_reads=body``: a linear head on the frozen body's pooled
    output of the source (its pooler where it has one, else the token mean), trained as
    :func:`xbench.theory.fit_source_model` trains the feature-space one (RECRAFT's 1D code: 30 epochs of
    cross-entropy on RoBERTa's pooler output of ORCA's text features), then frozen."""
    from xbench.source import source_windows
    from xbench.theory import fit_source_model

    if getattr(trainer, "_body_head", None) is not None:
        return trainer._body_head
    cfg, model = trainer.cfg, trainer.model
    backbone = model._backbone
    if backbone.kind != "text" or len(trainer.spec.input_shape) != 2:
        raise ConfigError("fld_reads=body is RECRAFT's 1D FLD (a text body's output per token); use fld_reads="
                          "features on 2D tasks or with a vision body.")
    labels = trainer.source[1]
    tokens = getattr(trainer, "source_tokens", None)
    ids = None if tokens is not None else source_windows(backbone, len(labels), cfg.source_window)
    pooled = []
    with torch.no_grad():
        for i in range(0, len(labels), 64):
            e = (tokens[i:i + 64] if tokens is not None else backbone.embeddings(input_ids=ids[i:i + 64]))
            h = backbone.encode(e.to(trainer.device))
            pooled.append((backbone.pooler(h) if backbone.pooler is not None else h.mean(dim=1)).float())
    feats = torch.cat(pooled)
    sm = fit_source_model(feats, labels.to(feats.device), cfg.source_tau, cfg.source_rho, cfg.source_head_epochs,
                          min(cfg.bound_points, len(feats) // 5), trainer.seed, use_hinge=cfg.source_hinge)
    trainer.summary["body_source_head_train_acc"] = sm.history[-1]["train_acc"]
    trainer._body_head = sm.head
    return sm.head


class JointTerm:
    r"""The target loss plus :math:`\lambda` times the alignment loss of the batch's features.

    :math:`L = L_T(x, y) + \lambda D(\text{source}, \bar\varphi(x))` with :math:`\lambda` = ``joint_lambda``;
    label-aware losses (``otdd``) get the batch's pseudo-labels.
    """

    def __init__(self, trainer: Trainer, loss_name: str):
        self.trainer, self.name = trainer, loss_name
        self.loss_fn = trainer.alignment(loss_name)
        self.labels = trainer.data.pseudo_labels(trainer.cfg.n_classes)

    def parameters(self):
        return ()

    def loss(self, x, y, idx, epoch):
        t = self.trainer
        target = t.batch_loss(x, y)
        d = self.loss_fn(t.features(x), self.labels[idx].to(t.device))
        return target + t.cfg.joint_lambda * d, {f"loss_{t.spec.loss}": target.item(), f"align_{self.name}": d.item()}


@phase_kind("joint")
def joint(trainer: Trainer, phase, align_loss: str) -> None:
    trainer.fit(phase.trainable, JointTerm(trainer, align_loss), name="joint")


@phase_kind("lora")
def lora(trainer: Trainer, phase, align_loss: str) -> None:
    """Insert LoRA adapters (Hu et al., ICLR 2022) into the body's attention query and value projections.

    Rank ``lora_rank``, alpha = rank (scale 1), no dropout, B = 0 at the start (the body's output is
    unchanged), via ``peft.inject_adapter_in_model``. A later ``fit`` phase trains them with
    ``trainable=(..., "adapters")``.
    """
    try:
        from peft import LoraConfig, inject_adapter_in_model
    except ImportError:
        raise ConfigError("method lora needs the package peft: pip install peft") from None
    body = trainer.model.body
    names = {n.rsplit(".", 1)[-1] for n, m in body.named_modules() if isinstance(m, nn.Linear)}
    targets = sorted(names & {"query", "value"})
    if not targets:
        raise ConfigError(f"lora: the body has no linear 'query'/'value' projections (found {sorted(names)[:8]}).")
    r = trainer.cfg.lora_rank
    inject_adapter_in_model(LoraConfig(r=r, lora_alpha=r, lora_dropout=0.0, target_modules=targets), body)
    trainer.model.to(trainer.device)
    n = sum(p.numel() for name, p in body.named_parameters() if ".lora_" in name)
    trainer.summary["lora_params"] = n
    log.info("lora: rank %d adapters on %s, %d parameters", r, targets, n)


MIN_SCALE = 1 / 8  # the third FLD rise (three halvings of the learning rate) ends the alignment


@phase_kind("adaptive-align")
def adaptive_align(trainer: Trainer, phase, align_loss: str) -> None:
    """xbench-adaptive's bound-guided alignment (the rule: :mod:`xbench.methods.xbench_adaptive`)."""
    cfg = trainer.cfg
    loss = trainer.alignment(align_loss)
    tracker = trainer.bound_tracker("select")  # decisions on their own subset, never the reported one
    trainer._set_trainable(phase.trainable)
    opt, sched = trainer.align_optimizer()
    prev = tracker.terms()
    best, stall, scale, reason, steps = prev.alignment_cost, 0, 1.0, "budget", 0
    best_state = {k: v.detach().clone() for k, v in trainer.model.embedder.state_dict().items()}
    by_class = phase.options.get("by_class", True)
    for step in range(cfg.align_steps):
        trainer.model.train()
        opt.zero_grad(set_to_none=True)
        total = trainer.align_step(loss, align_loss, by_class)
        opt.step()
        sched.step()
        steps = step + 1
        trainer.log_curve("adaptive-align", step, steps, "train", f"align_{align_loss}", total)
        trainer.log_curve("adaptive-align", step, steps, "train", "adaptive_lr_scale", scale)
        trainer.track("adaptive-align", step, steps)  # the reported bound (its own subset)
        terms = tracker.terms()
        if terms.fld > prev.fld + cfg.adaptive_fld_tol:  # alignment distorts the label structure: slow down
            scale /= 2
            for group in opt.param_groups:
                group["lr"] /= 2
        if terms.alignment_cost < best:
            best, stall = terms.alignment_cost, 0
            best_state = {k: v.detach().clone() for k, v in trainer.model.embedder.state_dict().items()}
        else:
            stall += 1
        prev = terms
        if scale <= MIN_SCALE:
            reason = "fld rose"
            break
        if stall >= cfg.adaptive_patience:
            reason = "no improvement"
            break
    trainer.model.embedder.load_state_dict(best_state)
    trainer.summary.update(adaptive_steps=steps, adaptive_stop=reason, adaptive_best_cost=best)
    log.info("adaptive-align: %d steps (%s), best tau*W + FLD %.4g", steps, reason, best)


@phase_kind("closed-form")
def closed_form(trainer: Trainer, phase, align_loss: str) -> None:
    """Fit a closed-form baseline (:mod:`xbench.models.linear`) on the training split in one solve.

    A model with candidate penalties (``lambdas``) is scored at each on the validation split's main
    metric (de-normalised); the best is kept and logged (``ridge_lambda`` in the summary, one curve
    row per candidate). The test split is never looked at.
    """
    model, dev = trainer.model, trainer.device
    x, y = trainer._norm["train"]
    model.fit(x.to(dev), y.to(dev))
    if not hasattr(model, "lambdas"):
        return
    main = trainer.spec.main_metric
    scores = []
    for k, lam in enumerate(model.lambdas()):
        model.set_lambda(lam)
        value = trainer.evaluate("val", (main,))[main]
        scores.append(value if np.isfinite(value) else np.inf)
        trainer.log_curve("closed-form", 0, k, "val", main, value)
        trainer.log_curve("closed-form", 0, k, "train", "ridge_lambda", lam)
    best = int(np.argmin(scores) if not trainer.main.higher_is_better else np.argmax(scores))
    model.set_lambda(model.lambdas()[best])
    trainer.summary.update(ridge_lambda=model.lam, ridge_rank=len(model.s), best_val=scores[best])
    log.info("ridge: lambda %.3g (candidate %d of %d), val %s %.4g", model.lam, best, len(scores), main, scores[best])
