r"""Fine-tuning options any recipe can switch on (TrainConfig keys, default off), applied by every fit.

- **Gradual unfreezing** (Howard & Ruder, "Universal Language Model Fine-tuning", ACL 2018):
  ``unfreeze_epochs = U > 0``. The body's L layers unfreeze top-down: at fit epoch e < U the top
  ``round(L * e / U)`` layers train (none at e = 0, when only the new embedder and head adapt), from
  epoch U on all of them. Body parameters outside the layer stack (a final LayerNorm) train as soon as
  one layer does. Only parameters the phase trains are affected (a frozen body stays frozen).
- **L2-SP** (Li, Grandvalet & Davoine, "Explicit Inductive Bias for Transfer Learning with
  Convolutional Networks", ICML 2018): ``l2sp_alpha = alpha > 0`` adds
  :math:`\alpha \sum \|\theta - \theta^0\|^2` over the body parameters the phase trains, with
  :math:`\theta^0` their values when the fit starts: the pretrained weights, since no alignment phase
  touches the body (for ``scratch``, the random initialisation). Li et al. write :math:`\alpha/2`;
  ``l2sp_alpha`` is the coefficient of the plain squared norm.
"""

from __future__ import annotations

import torch
from torch import nn

from xbench.config import TrainConfig
from xbench.errors import ConfigError


def body_layers(body: nn.Module) -> list[nn.Module]:
    """The body's layer stack: the first ``nn.ModuleList`` in module order (BERT ``encoder.layer``,
    ViT ``layer``, Swin ``layers``, its stages)."""
    for module in body.modules():
        if isinstance(module, nn.ModuleList) and len(module):
            return list(module)
    return []


class FitOptions:
    """Gradual unfreezing and L2-SP for one fit phase; build it after the phase has set what trains."""

    def __init__(self, model: nn.Module, cfg: TrainConfig):
        self.unfreeze_epochs, self.alpha = cfg.unfreeze_epochs, cfg.l2sp_alpha
        self.layers: list[list[nn.Parameter]] = []
        self.rest: list[nn.Parameter] = []
        self.anchor: list[tuple[nn.Parameter, torch.Tensor]] = []
        if not (self.unfreeze_epochs or self.alpha):
            return
        body = getattr(model, "body", None)
        if body is None:
            raise ConfigError("unfreeze_epochs and l2sp_alpha act on a pretrained body; this model has none "
                              "(fno, unet and the trivial baselines). Leave them at 0 for these methods.")
        trainable = [p for p in body.parameters() if p.requires_grad]
        if self.unfreeze_epochs:
            self.layers = [[p for p in layer.parameters() if p.requires_grad] for layer in body_layers(body)]
            in_layers = {id(p) for group in self.layers for p in group}
            self.rest = [p for p in trainable if id(p) not in in_layers]
        if self.alpha:
            self.anchor = [(p, p.detach().clone()) for p in trainable]

    def open_layers(self, epoch: int) -> int:
        """How many top layers train at ``epoch``."""
        n = len(self.layers)
        return n if epoch >= self.unfreeze_epochs else round(n * epoch / self.unfreeze_epochs)

    def start_epoch(self, epoch: int) -> None:
        if not self.unfreeze_epochs:
            return
        n_open = self.open_layers(epoch)
        for i, group in enumerate(self.layers):
            for p in group:
                p.requires_grad_(i >= len(self.layers) - n_open)
        for p in self.rest:
            p.requires_grad_(n_open > 0)

    def penalty(self) -> torch.Tensor | None:
        if not self.anchor:
            return None
        return self.alpha * sum((p - p0).pow(2).sum() for p, p0 in self.anchor)
