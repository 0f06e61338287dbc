r"""The terms of RECRAFT's generalisation bound, measured on fixed held-out subsets every epoch.

RECRAFT (Tran et al., AISTATS 2026; docs/methods.md §7) bounds the target error of a cross-modal model by a
source term, an alignment term, the feature-label distortion and the target fit. xbench logs the terms
for every recipe, including those that optimise none of them, so all are compared on the same scale.
The form (docs/methods.md §7, inferred from RECRAFT's figure and code; every constant is 1):

.. math::  B = L_S + \tau\, W + \mathrm{FLD} + F_T

- :math:`L_S` (``bound_source_loss``): mean cross-entropy of the frozen source head :math:`h_s` on held-out
  source features (``bound_source_error``: its 0-1 error). :math:`h_s` is a linear classifier on the
  source reference (mean-pooled embedding-layer features of text windows, k-means labels;
  :mod:`xbench.source`) trained once per run with RECRAFT's tau-hinge (:func:`fit_source_model`).
- :math:`\tau` (``bound_tau_lip``): the Lipschitz constant of the source loss in feature space, exact for
  the linear softmax head :math:`h_s(u) = Wu + b` (:func:`linear_ce_lipschitz`):
  :math:`\tau = \max_{i,j} \|w_i - w_j\|`. This is the constant Kantorovich-Rubinstein needs, and
  the one that enters B. Beside it, the empirical gradient norms at the held-out source points,
  ``bound_tau_max`` (max) and ``bound_tau_mean`` (mean): they are not Lipschitz constants
  (well-classified points have near-zero gradients) and are logged for comparison only.
- :math:`W` (``bound_w2``): the 2-Wasserstein distance between the embedded target features
  :math:`\varphi_\#P_T` (mean-pooled embedder outputs of a fixed subset of validation inputs) and the
  held-out source features, estimated as :math:`\sqrt{2 S_\varepsilon}` from the debiased Sinkhorn
  divergence :math:`S_\varepsilon` (``bound_w``; cost :math:`\tfrac12\|x-x'\|^2`, :math:`\varepsilon = 0.1`,
  :mod:`xbench.align`). For a :math:`\tau`-Lipschitz loss :math:`|E_P\ell - E_Q\ell| \le \tau W_1 \le \tau W_2`
  (Kantorovich-Rubinstein), and :math:`S_\varepsilon \to \tfrac12 W_2^2` as :math:`\varepsilon \to 0`.
- FLD (``bound_fld``): :math:`\sum_y w_y H(\bar p_y)`, :math:`\bar p_y` the mean of
  :math:`\mathrm{softmax}(h_s(u_i))` over the validation points of target pseudo-class :math:`y`,
  :math:`w_y = n_y / n`, :math:`H` in nats (:math:`0 \le \mathrm{FLD} \le \log K_s`): the conditional
  entropy :math:`H(Y^S \mid Y^T)` that RECRAFT's FLD step minimises (its code weights class y by
  :math:`w_y`, chunks by their share of the class). Validation points get the pseudo-class of the
  nearest k-means centroid of the normalised training targets (what ``KMeans.predict`` returns).
- :math:`F_T` (``bound_fit``): the target training loss on a fixed subset of ``bound_fit_points``
  training points (eval mode; a forward pass through the body, the costly term, hence a smaller subset).

``bound`` is :math:`B` and ``bound_val`` the task's main metric on validation. The sum mixes a
classification loss with the task's regression loss, so B is a score to rank models by, not a number
in the task's units: the report (:mod:`xbench.report.bound`) measures whether it ranks like the test error.
Subsets are fixed per run seed and drawn with their own generator, so tracking never changes training.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

log = logging.getLogger(__name__)


def loss_grad_norms(head: nn.Module, u: torch.Tensor, y: torch.Tensor,
                    create_graph: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-point ``|grad_u CE(head(u_i), y_i)|`` and the per-point losses.

    The points are independent, so the gradient of the summed loss w.r.t. ``u`` holds each point's own
    gradient in its row. ``create_graph`` keeps the graph for penalties on the norms (the tau-hinge).
    """
    u = u.detach().requires_grad_(True)
    losses = F.cross_entropy(head(u), y, reduction="none")
    (g,) = torch.autograd.grad(losses.sum(), u, create_graph=create_graph, retain_graph=True)
    return g.norm(dim=1), losses


def linear_ce_lipschitz(head: nn.Linear) -> float:
    r"""The Lipschitz constant in ``u`` of :math:`\ell(u, y) = \mathrm{CE}(Wu + b, y)`, over all ``u`` and ``y``.

    :math:`\nabla_u \ell = W^\top(p - e_y) = \sum_{j \ne y} p_j (w_j - w_y)`, a combination of the
    differences of class weight rows with weights summing to :math:`1 - p_y < 1`, so
    :math:`\|\nabla_u \ell\| < \max_j \|w_j - w_y\|`, approached as ``p`` concentrates on the
    farthest class. Hence :math:`L = \max_{i,j} \|w_i - w_j\|` (0 for a single class).
    """
    w = head.weight.detach().double()
    return float(torch.cdist(w, w).max()) if len(w) > 1 else 0.0


def feature_label_distortion(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``sum_y (n_y / n) H(mean of probs over the points of class y)``, differentiable in ``probs`` (n, K)."""
    classes, inv, counts = torch.unique(labels, return_inverse=True, return_counts=True)
    inv = inv.to(probs.device)
    mean = torch.zeros(len(classes), probs.shape[1], dtype=probs.dtype, device=probs.device).index_add(0, inv, probs)
    mean = mean / counts.to(probs)[:, None]
    entropy = -(mean * mean.clamp_min(1e-12).log()).sum(dim=1)
    return (counts.to(probs) / len(labels) * entropy).sum()


def nearest_centroid(train: torch.Tensor, train_labels: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """Class of the nearest class mean of ``train`` (n, D) for each row of ``other`` (m, D)."""
    classes = torch.unique(train_labels)
    centroids = torch.stack([train[train_labels == c].mean(dim=0) for c in classes])
    return classes[torch.cdist(other.double(), centroids.double()).argmin(dim=1)]


def _window_like(a: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """The top-left window of ``a`` (N, C, ...) with ``ref``'s grid (the whole of ``a`` when they match)."""
    return a[(slice(None), slice(None), *(slice(0, n) for n in ref.shape[2:]))]


@dataclass
class SourceModel:
    """The frozen source head and the split of the source reference it was trained and is evaluated on."""

    head: nn.Linear
    train_idx: torch.Tensor
    hold_idx: torch.Tensor
    history: list[dict[str, float]] = field(default_factory=list)


def fit_source_model(feats: torch.Tensor, labels: torch.Tensor, tau: float, rho: float, epochs: int,
                     n_hold: int, seed: int, lr: float = 1e-3, batch_size: int = 32,
                     use_hinge: bool = True) -> SourceModel:
    r"""RECRAFT's source predictor with the gradient-norm constraint (docs/methods.md §7 step 1).

    A linear head on the source features, AdamW (lr ``lr``, weight decay 0.05, cosine schedule): the
    first half of the epochs plain cross-entropy, the second half
    :math:`L = L_s + \frac{\rho}{B}\sum_b \max(0, \|\nabla_u \ell_b\| - \tau)^2` (RECRAFT's 2D code: 10 + 10
    epochs, tau 0.4, rho 100); without ``use_hinge`` every epoch is plain cross-entropy (its 1D code:
    30 epochs). The gradient is the per-point loss's, the quantity tau bounds in the bound
    (RECRAFT differentiates the batch-mean loss, i.e. the per-point gradient over B = 4).
    ``n_hold`` points are held out (never trained on) for the bound's source terms. The head starts
    at zero and shuffles with its own generator: no global random state is consumed.
    """
    n = len(feats)
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=g)
    hold, train = perm[:n_hold].sort().values, perm[n_hold:].sort().values
    k = int(labels.max()) + 1
    with torch.random.fork_rng(devices=[]):  # nn.Linear's own init draws from the global generator
        head = nn.Linear(feats.shape[1], k).to(feats.device)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=0.05)
    steps = epochs * math.ceil(len(train) / batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    xs, ys = feats[train].detach().float(), labels[train].to(feats.device)
    history = []
    for epoch in range(epochs):
        hinge_on = use_hinge and epoch >= epochs // 2
        sums = {"ce": 0.0, "hinge": 0.0}
        for idx in torch.randperm(len(train), generator=g).split(batch_size):
            norms, losses = loss_grad_norms(head, xs[idx], ys[idx], create_graph=hinge_on)
            ce = losses.mean()
            hinge = rho / len(idx) * (norms - tau).clamp_min(0).pow(2).sum() if hinge_on else ce * 0.0
            opt.zero_grad(set_to_none=True)
            (ce + hinge).backward()
            opt.step()
            sched.step()
            sums["ce"] += ce.item() * len(idx)
            sums["hinge"] += hinge.item() * len(idx)
        with torch.no_grad():
            acc = (head(xs).argmax(dim=1) == ys).float().mean().item()
        history.append({"epoch": epoch, "ce": sums["ce"] / len(train), "hinge": sums["hinge"] / len(train),
                        "train_acc": acc})
    head.requires_grad_(False)
    log.info("source head: %d classes, %d train / %d held-out points, train accuracy %.3f", k, len(train),
             len(hold), history[-1]["train_acc"] if history else float("nan"))
    return SourceModel(head, train, hold, history)


@dataclass
class BoundTerms:
    source_loss: float
    source_error: float
    tau_max: float
    tau_mean: float
    tau_lip: float  # the exact Lipschitz constant (linear_ce_lipschitz): the tau of B
    w: float  # debiased Sinkhorn divergence S_eps
    fld: float
    fit: float
    val: float

    @property
    def w2(self) -> float:
        """The W_2 estimate sqrt(2 S_eps) (S_eps clipped at 0)."""
        return math.sqrt(2.0 * max(self.w, 0.0))

    @property
    def alignment_cost(self) -> float:
        """The part of the bound alignment moves: tau * W + FLD (tau: the exact Lipschitz constant)."""
        return self.tau_lip * self.w2 + self.fld

    @property
    def bound(self) -> float:
        return self.source_loss + self.alignment_cost + self.fit

    def rows(self) -> list[tuple[str, str, float]]:
        """(split, quantity, value) rows for curves.csv."""
        return [("source", "bound_source_loss", self.source_loss), ("source", "bound_source_error", self.source_error),
                ("source", "bound_tau_max", self.tau_max), ("source", "bound_tau_mean", self.tau_mean),
                ("source", "bound_tau_lip", self.tau_lip),
                ("val", "bound_w", self.w), ("val", "bound_w2", self.w2), ("val", "bound_fld", self.fld),
                ("train", "bound_fit", self.fit), ("val", "bound_val", self.val), ("val", "bound", self.bound)]


class BoundTracker:
    """Measures :class:`BoundTerms` of a trainer's current model on subsets fixed at construction.

    The validation points are drawn once per run seed and split in two disjoint subsets: ``report``
    (at most ``bound_points``, and at most half the split when it is small) gives the bound that is
    logged and reported; ``select`` (the next ``bound_points``) is for methods that make decisions
    from the bound (xbench-adaptive), so the reported bound is never the one a method was tuned on.
    """

    def __init__(self, trainer, source_model: SourceModel, part: str = "report"):
        from xbench.align import build_alignment

        self.trainer, self.sm = trainer, source_model
        cfg, dev = trainer.cfg, trainer.device
        rng = np.random.default_rng([trainer.seed, 4])
        feats, labels = trainer.source
        xs, ys = feats[source_model.hold_idx].float(), labels[source_model.hold_idx]
        self.src = xs
        with torch.enable_grad():
            norms, losses = loss_grad_norms(source_model.head, xs, ys)
        with torch.no_grad():
            err = (source_model.head(xs).argmax(dim=1) != ys).float().mean().item()
        # the head and the source features are frozen: the source terms are constants of the run
        self.source_terms = {"source_loss": losses.mean().item(), "source_error": err,
                             "tau_max": norms.max().item(), "tau_mean": norms.mean().item(),
                             "tau_lip": linear_ce_lipschitz(source_model.head)}
        self.w_loss = build_alignment("sinkhorn", xs)
        (x_val, y_val), (x_tr, y_tr) = trainer._norm["val"], trainer._norm["train"]
        perm = rng.permutation(len(x_val))
        n_report = min(cfg.bound_points, math.ceil(len(x_val) / 2))
        chosen = perm[:n_report] if part == "report" else perm[n_report:n_report + cfg.bound_points]
        if len(chosen) == 0:
            from xbench.errors import ConfigError

            raise ConfigError(f"the validation split ({len(x_val)} samples) is too small for a separate "
                              "selection subset of the bound; use more samples (--set n_samples=...).")
        self.val_idx = np.sort(chosen)
        self.fit_idx = np.sort(rng.permutation(len(x_tr))[: cfg.bound_fit_points])
        self.x_val, self.x_fit, self.y_fit = x_val[self.val_idx], x_tr[self.fit_idx], y_tr[self.fit_idx]
        if self.x_val.shape[2:] != x_tr.shape[2:]:  # grids of different sizes: the top-left train-sized window
            self.x_val = _window_like(self.x_val, x_tr)
        if trainer.data.kind == "classification":  # the task's own classes; otherwise the nearest cluster
            self.val_classes = y_val[self.val_idx].long().to(dev)
        else:
            train_labels = trainer.data.pseudo_labels(cfg.n_classes)
            y_pick = _window_like(y_val[self.val_idx], y_tr)
            self.val_classes = nearest_centroid(y_tr.flatten(1), train_labels, y_pick.flatten(1)).to(dev)

    @torch.no_grad()
    def terms(self, val: float | None = None) -> BoundTerms:
        t = self.trainer
        was_training = t.model.training
        t.model.eval()
        try:
            u = torch.cat([t.features(x) for x in self.x_val.split(t.cfg.eval_batch_size)]).float()
            w = self.w_loss(u).item()
            fld = feature_label_distortion(F.softmax(self.sm.head(u), dim=1), self.val_classes).item()
            fit = sum(t.batch_loss(x, y).item() * len(x) for x, y in
                      zip(self.x_fit.split(t.cfg.eval_batch_size), self.y_fit.split(t.cfg.eval_batch_size)))
            fit /= len(self.x_fit)
            if val is None:
                val = t.evaluate("val", (t.spec.main_metric,))[t.spec.main_metric]
        finally:
            t.model.train(was_training)
        return BoundTerms(w=w, fld=fld, fit=fit, val=val, **self.source_terms)

    def log(self, phase: str, epoch: int, step: int, val: float | None = None) -> BoundTerms:
        terms = self.terms(val)
        for split, quantity, value in terms.rows():
            self.trainer.log_curve(phase, epoch, step, split, quantity, value)
        return terms
