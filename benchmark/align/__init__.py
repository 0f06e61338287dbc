"""Alignment losses, registered by name: ``loss = build_alignment(name, src_feats, src_labels)``.

Each loss is built once per run with the fixed source reference (so whatever depends only on the
source is computed once) and called as ``loss(tgt_feats, tgt_labels=None) -> scalar``,
differentiable in the (n, d) target features.

| name | what | reference |
|---|---|---|
| ``otdd`` | label-aware OT dataset distance, debiased Sinkhorn, eps 0.1 | Alvarez-Melis & Fusi 2020; ORCA |
| ``otdd-gaussian`` | the same with Bures-Wasserstein label distances | ORCA's ``otdd-gaussian`` |
| ``sinkhorn`` | label-free debiased Sinkhorn divergence | Feydy et al. 2019; RECRAFT |
| ``mmd`` | multi-kernel RBF MMD^2 | Gretton et al. 2012; ORCA, UPS |
| ``l2`` | mean Euclidean distance to source rows | ORCA's ``l2`` |
| ``none`` | zero | |
"""

from __future__ import annotations

import torch

from xbench.align.otdd import OTDD, GaussianOTDD, SinkhornAlignment
from xbench.align.simple import L2, MMD, NoAlignment
from xbench.align.sinkhorn import exact_ot
from xbench.errors import ConfigError
from xbench.registry import Registry

ALIGNMENT_LOSSES: Registry[type] = Registry("alignment loss", "List them with `xbench ls align-losses`.")
for _name, _cls in {"otdd": OTDD, "otdd-gaussian": GaussianOTDD, "sinkhorn": SinkhornAlignment, "mmd": MMD, "l2": L2,
                    "none": NoAlignment}.items():
    ALIGNMENT_LOSSES.register(_name, _cls)

__all__ = ["ALIGNMENT_LOSSES", "build_alignment", "exact_ot"]


def build_alignment(name: str, src_feats: torch.Tensor, src_labels: torch.Tensor | None = None, **options):
    """The alignment loss ``name`` against the source reference (see the table above)."""
    cls = ALIGNMENT_LOSSES[name]
    try:
        return cls(src_feats, src_labels, **options)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"alignment loss {name!r}: {e}") from None
