r"""Kernel and moment alignment losses: multi-kernel MMD, mean pairwise L2, and none.

MMD (Gretton et al., JMLR 2012), as ORCA's and UPS's ``MMD_loss`` (docs/methods.md §6): with
:math:`Z = [S; T]` and squared distances :math:`D`, a base bandwidth
:math:`\sigma^2 = \overline{D}_{\mathrm{off\text{-}diag}} / 4` (detached) and
:math:`k = \sum_{i=0}^{4} \exp(-D / (\sigma^2 2^i))`, the biased estimate
:math:`\mathrm{MMD}^2 = \overline{K_{SS}} + \overline{K_{TT}} - 2\,\overline{K_{ST}}`.
ORCA resamples n source rows at random on every call; here the source subsample is drawn once
with a seed, so the loss is deterministic.
"""

from __future__ import annotations

import torch

from xbench.align.sinkhorn import sq_dist


def _subsample(x: torch.Tensor, n: int | None, seed: int) -> torch.Tensor:
    if n is None or n >= len(x):
        return x
    g = torch.Generator().manual_seed(seed)
    return x[torch.randperm(len(x), generator=g)[:n].to(x.device)]


class MMD:
    """Multi-kernel RBF MMD^2 (5 bandwidths, ratio 2) between source and target features."""

    def __init__(self, src_feats: torch.Tensor, src_labels: torch.Tensor | None = None, n_src: int | None = 1000,
                 n_kernels: int = 5, seed: int = 0):
        if n_kernels < 1:
            raise ValueError(f"mmd: n_kernels must be >= 1, not {n_kernels}")
        self.xs = _subsample(src_feats.detach().float(), n_src, seed)
        self.n_kernels = n_kernels
        self.d_ss = sq_dist(self.xs, self.xs)

    def __call__(self, tgt_feats: torch.Tensor, tgt_labels: torch.Tensor | None = None) -> torch.Tensor:
        xt = tgt_feats.float()
        d_tt, d_st = sq_dist(xt, xt), sq_dist(self.xs, xt)
        n, m = len(self.xs), len(xt)
        total = self.d_ss.sum() + d_tt.detach().sum() + 2 * d_st.detach().sum()
        sigma2 = (total / ((n + m) ** 2 - (n + m))) / 2 ** (self.n_kernels // 2)
        k = lambda d: sum(torch.exp(-d / (sigma2 * 2**i)) for i in range(self.n_kernels))  # noqa: E731
        return k(self.d_ss).mean() + k(d_tt).mean() - 2 * k(d_st).mean()


class L2:
    """Mean Euclidean distance between each target feature and a seeded source row (ORCA's ``l2``)."""

    def __init__(self, src_feats: torch.Tensor, src_labels: torch.Tensor | None = None, seed: int = 0):
        self.xs, self.seed = src_feats.detach().float(), seed

    def __call__(self, tgt_feats: torch.Tensor, tgt_labels: torch.Tensor | None = None) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed)
        idx = torch.randint(len(self.xs), (len(tgt_feats),), generator=g).to(self.xs.device)
        return (tgt_feats.float() - self.xs[idx]).norm(dim=1).mean()


class NoAlignment:
    """No alignment: a zero that keeps the graph connected."""

    def __init__(self, src_feats: torch.Tensor | None = None, src_labels: torch.Tensor | None = None):
        pass

    def __call__(self, tgt_feats: torch.Tensor, tgt_labels: torch.Tensor | None = None) -> torch.Tensor:
        return tgt_feats.sum() * 0.0
