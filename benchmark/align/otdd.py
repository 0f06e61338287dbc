r"""OTDD: the optimal transport dataset distance with ORCA's settings ("otdd-exact").

Alvarez-Melis & Fusi, "Geometric Dataset Distances via Optimal Transport", NeurIPS 2020; used by
Shen et al., ORCA, ICML 2023 (docs/methods.md §2.5). Points are pairs z = (x, y) of a feature and a label;
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
        self.src_summaries = [self._summary(self.xs[self.ys == c]) for c in range(int(self.ys.max()) + 1)]
        self.w_ss = self._pairwise(self.src_summaries)
        self.self_term = entropic_ot(self._cost(self.xs, self.ys, self.xs, self.ys, self.w_ss), eps, symmetric=True)

    def _summary(self, cloud: torch.Tensor):
        """What the label distance needs of one class-conditional cloud: here the cloud and OT_eps(cloud, cloud)."""
        return cloud, entropic_ot(sq_dist(cloud, cloud), self.eps, symmetric=True)

    def _label_distance(self, sa, sb) -> torch.Tensor:
        """Debiased Sinkhorn divergence (cost |x - x'|^2) between two class clouds."""
        (a, aa), (b, bb) = sa, sb
        return (entropic_ot(sq_dist(a, b), self.eps) - 0.5 * aa - 0.5 * bb).clamp_min(0.0)

    def _pairwise(self, summaries: list) -> torch.Tensor:
        k = len(summaries)
        w = torch.zeros(k, k, device=self.xs.device)
        for i in range(k):
            for j in range(i + 1, k):
                w[i, j] = w[j, i] = self._label_distance(summaries[i], summaries[j])
        return w

    @staticmethod
    def _cost(x, yx, z, yz, w) -> torch.Tensor:
        return half_sq(x, z) + 0.5 * w[yx][:, yz]

    @torch.no_grad()
    def _target_label_distances(self, xt: torch.Tensor, yt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        tgt = [self._summary(xt[yt == c]) for c in range(int(yt.max()) + 1)]
        w_st = torch.stack([torch.stack([self._label_distance(s, t) for t in tgt]) for s in self.src_summaries])
        return w_st, self._pairwise(tgt)

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


class GaussianOTDD(OTDD):
    r"""OTDD with Gaussian label distances (``otdd-gaussian``, ORCA's ``inner_ot_method='gaussian_approx'``).

    Each class cloud is summarised by its mean and covariance, and
    :math:`W(y, y') = \|m - m'\|^2 + \mathrm{tr}(\Sigma + \Sigma' - 2(\Sigma^{1/2}\Sigma'\Sigma^{1/2})^{1/2})`
    is the squared 2-Wasserstein (Bures) distance between the Gaussians: cheaper than a Sinkhorn problem
    per pair of classes, exact for Gaussian classes.
    """

    def _summary(self, cloud: torch.Tensor):
        x = cloud.double()
        mean = x.mean(0)
        centred = x - mean
        cov = centred.T @ centred / max(1, len(x) - 1)
        evals, evecs = torch.linalg.eigh(cov)
        return mean, cov, (evecs * evals.clamp_min(0).sqrt()) @ evecs.T

    def _label_distance(self, sa, sb) -> torch.Tensor:
        (m1, c1, r1), (m2, c2, _) = sa, sb
        cross = torch.linalg.eigvalsh(r1 @ c2 @ r1).clamp_min(0).sqrt().sum()
        w = (m1 - m2).pow(2).sum() + torch.trace(c1) + torch.trace(c2) - 2 * cross
        return w.clamp_min(0.0).float()
