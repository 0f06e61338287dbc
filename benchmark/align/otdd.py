r"""OTDD: the optimal transport dataset distance with ORCA's settings ("otdd-exact").

Alvarez-Melis & Fusi, "Geometric Dataset Distances via Optimal Transport", NeurIPS 2020; used by
Shen et al., ORCA, ICML 2023 (methods.md §2.5). Points are pairs z = (x, y) of a feature and a label;
the ground cost is

.. math::  c(z, z') = \tfrac12 \|x - x'\|^2 + \tfrac12 W(y, y'),

where :math:`W(y, y')` is the debiased Sinkhorn divergence (cost :math:`\|x - x'\|^2`, same
:math:`\varepsilon`) between the class-conditional clouds of labels y and y'. The distance is the
debiased Sinkhorn divergence (:math:`\varepsilon = 0.1`) between the source and target sets of
points z. Label distances carry no gradient (ORCA computes them with ``.item()``); gradients reach
the target features through the outer feature cost only. Target labels live in their own label
space; ``tgt_labels=None`` makes all target points one class, which is how ORCA calls it (one
target class per call).

Cached at construction (the source never changes): per-class source self terms, the source-source
label distance matrix and the source self term OT(alpha, alpha). ORCA recomputes all of them on
every call, which dominates its alignment time.
"""

from __future__ import annotations

import torch

from xbench.align.sinkhorn import entropic_ot, half_sq, sinkhorn_divergence, sq_dist


class OTDD:
    """Label-aware OT dataset distance to a fixed, labelled source set (ORCA's alignment loss)."""

    def __init__(self, src_feats: torch.Tensor, src_labels: torch.Tensor | None, eps: float = 0.1):
        if eps <= 0:
            raise ValueError(f"otdd: eps must be positive, not {eps}")
        if src_labels is None:
            src_labels = torch.zeros(len(src_feats), dtype=torch.long, device=src_feats.device)
        self.eps = eps
        self.xs = src_feats.detach().float()
        self.ys = torch.unique(src_labels, return_inverse=True)[1].to(self.xs.device)
        self.src_classes = [self.xs[self.ys == c] for c in range(int(self.ys.max()) + 1)]
        self.src_self = [entropic_ot(sq_dist(c, c), eps, symmetric=True) for c in self.src_classes]
        k = len(self.src_classes)
        w = torch.zeros(k, k, device=self.xs.device)
        for i in range(k):
            for j in range(i + 1, k):
                w[i, j] = w[j, i] = self._label_distance(self.src_classes[i], self.src_classes[j],
                                                         self.src_self[i], self.src_self[j])
        self.w_ss = w
        self.self_term = entropic_ot(self._cost(self.xs, self.ys, self.xs, self.ys, w), eps, symmetric=True)

    def _label_distance(self, a: torch.Tensor, b: torch.Tensor, aa: torch.Tensor, bb: torch.Tensor) -> torch.Tensor:
        return (entropic_ot(sq_dist(a, b), self.eps) - 0.5 * aa - 0.5 * bb).clamp_min(0.0)

    @staticmethod
    def _cost(x, yx, z, yz, w) -> torch.Tensor:
        return half_sq(x, z) + 0.5 * w[yx][:, yz]

    @torch.no_grad()
    def _target_label_distances(self, xt: torch.Tensor, yt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        classes = [xt[yt == c] for c in range(int(yt.max()) + 1)]
        selfs = [entropic_ot(sq_dist(c, c), self.eps, symmetric=True) for c in classes]
        w_st = torch.stack([torch.stack([self._label_distance(s, t, ss, tt) for t, tt in zip(classes, selfs)])
                            for s, ss in zip(self.src_classes, self.src_self)])
        k = len(classes)
        w_tt = torch.zeros(k, k, device=xt.device)
        for i in range(k):
            for j in range(i + 1, k):
                w_tt[i, j] = w_tt[j, i] = self._label_distance(classes[i], classes[j], selfs[i], selfs[j])
        return w_st, w_tt

    def __call__(self, tgt_feats: torch.Tensor, tgt_labels: torch.Tensor | None = None) -> torch.Tensor:
        """Debiased OTDD between the source and the (n, d) target features, differentiable in them."""
        xt = tgt_feats.float()
        yt = (torch.zeros(len(xt), dtype=torch.long, device=xt.device) if tgt_labels is None
              else torch.unique(tgt_labels, return_inverse=True)[1].to(xt.device))
        w_st, w_tt = self._target_label_distances(xt.detach(), yt)
        st = entropic_ot(half_sq(self.xs, xt) + 0.5 * w_st[self.ys][:, yt], self.eps)
        tt = entropic_ot(self._cost(xt, yt, xt, yt, w_tt), self.eps, symmetric=True)
        return st - 0.5 * self.self_term - 0.5 * tt


class SinkhornAlignment:
    """Label-free debiased Sinkhorn divergence, cost 1/2|x-x'|^2 (RECRAFT's feature alignment)."""

    def __init__(self, src_feats: torch.Tensor, src_labels: torch.Tensor | None = None, eps: float = 0.1):
        if eps <= 0:
            raise ValueError(f"sinkhorn: eps must be positive, not {eps}")
        self.eps, self.xs = eps, src_feats.detach().float()
        self.self_term = entropic_ot(half_sq(self.xs, self.xs), eps, symmetric=True)

    def __call__(self, tgt_feats: torch.Tensor, tgt_labels: torch.Tensor | None = None) -> torch.Tensor:
        return sinkhorn_divergence(half_sq, self.xs, tgt_feats.float(), self.eps, self_x=self.self_term)
