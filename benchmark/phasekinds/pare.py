r"""PaRe's gated patch replacement: the ``pare`` phase kind.

Cai et al., "Enhancing Cross-Modal Fine-Tuning with Gradually Intermediate Modality Generation", ICML
2024 (docs/methods.md §3; official code ``BIT-DA/PaRe``, ``src/main_PaRe_dense.py``). Each fitting step
embeds a batch of source windows with the body's own (frozen, pretrained) embedding layer and builds
an intermediate-modality sequence by replacing ``k`` of the ``N`` target tokens with ``k`` source
tokens chosen by a learned gate :math:`g(e) = \sigma(\mathrm{Linear}(e))`:

- ``k(ep) = int(N (pare_begin - pare_end ep / epochs))`` (PaRe's dense ``begin_num - end_num
  ep/epochs``, here as fractions of N; Darcy's 1000/500 of 3136 tokens are the defaults 0.32/0.16),
  or with ``pare_tokens`` > 0 PaRe's 1D rule ``int(pare_tokens (1 - ep / epochs))`` (its 1D code: 32);
  k never exceeds N or the source window: the mixed sequences move from source-heavy to target-heavy;
- epochs < ``pare_gumbel_epochs``: Gumbel top-k subset sampling (k relaxed softmaxes, temperature 0.9,
  hard straight-through) on the gate scores: the source's top k are taken, the target's top N - k
  kept, and the remaining k target positions receive the selected source tokens in order; later
  epochs: plain top-k (no noise, no gradient to the gate), which with ``pare_replace=lowest`` again
  keeps the N - k highest-gated target tokens, and with ``reference`` replaces the k highest-gated
  ones, as PaRe's code does in that phase (``docs/methods.md`` §3);
- loss: :math:`L_t(h_t(g(e_t)), y) + w\,[(1-\lambda) L_t(h_t(g(\tilde e)), y)
  + \lambda\, \mathrm{CE}(h_s(\bar g(\tilde e)), y_s)]`, :math:`\lambda = k/N`, ``w = pare_mix_weight``
  (PaRe's dense code 0.3, its 1D code 0.1), with a new source head :math:`h_s` (Linear on mean-pooled
  body output) predicting the source reference's k-means labels.

The source windows and labels are xbench's source reference (:mod:`xbench.source`): text windows of
``source_window`` tokens. PaRe skips alignment (``srcinit``: the embedder starts from the body's).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from xbench.errors import ConfigError
from xbench.phasekinds import phase_kind
from xbench.train import Trainer

TAU = 0.9  # PaRe's SubsetOperator temperature


def subset_mask(scores: torch.Tensor, k: int, gumbel: bool, generator: torch.Generator | None = None) -> torch.Tensor:
    """A (B, N) mask with exactly ``k`` ones per row at the top scores.

    With ``gumbel``, scores are perturbed by Gumbel noise and the mask is the hard top-k of the relaxed
    k-hot vector (k successive softmaxes at temperature TAU, each masking the mass already taken;
    Xie & Ermon 2019), straight-through: its gradient is the relaxed vector's.
    """
    hard = torch.zeros_like(scores)
    if k <= 0:
        return hard
    if not gumbel:
        return hard.scatter(1, scores.topk(k, dim=1).indices, 1.0)
    u = torch.rand(scores.shape, generator=generator).to(scores.device).clamp(1e-10, 1 - 1e-10)
    s = scores - torch.log(-torch.log(u))
    khot, onehot = torch.zeros_like(scores), torch.zeros_like(scores)
    for _ in range(k):
        s = s + torch.log((1.0 - onehot).clamp_min(torch.finfo(scores.dtype).tiny))
        onehot = F.softmax(s / TAU, dim=1)
        khot = khot + onehot
    hard = hard.scatter(1, khot.topk(k, dim=1).indices, 1.0)
    return hard - khot.detach() + khot


def mix_tokens(tgt: torch.Tensor, src: torch.Tensor, gate: nn.Module, k: int, gumbel: bool,
               generator: torch.Generator | None = None, replace_highest: bool = False) -> torch.Tensor:
    """Replace ``k`` target tokens (B, N, d) by ``k`` gate-selected source tokens (B, S, d): the
    lowest-gated ones, or without ``gumbel`` and with ``replace_highest`` the highest-gated ones."""
    b, n, d = tgt.shape
    m_src = subset_mask(torch.sigmoid(gate(src)).squeeze(-1), k, gumbel, generator)
    scores = torch.sigmoid(gate(tgt)).squeeze(-1)
    if replace_highest and not gumbel:
        m_keep = 1.0 - subset_mask(scores, k, False)
    else:
        m_keep = subset_mask(scores, n - k, gumbel, generator)
    chosen = (m_src.detach() > 0.5).nonzero()[:, 1].view(b, k)  # every row has exactly k of each
    dropped = (m_keep.detach() < 0.5).nonzero()[:, 1].view(b, k)
    picked = (src * m_src[..., None]).gather(1, chosen[..., None].expand(b, k, d))
    return (tgt * m_keep[..., None]).scatter(1, dropped[..., None].expand(b, k, d), picked)


class PaReTerm:
    """PaRe's three-term loss of one batch (see the module docstring)."""

    def __init__(self, trainer: Trainer):
        from xbench.source import source_windows

        self.t, cfg = trainer, trainer.cfg
        self.backbone = trainer.model._backbone
        if self.backbone.kind != "text":
            raise ConfigError("pare: xbench's source windows are text; use a text body.")
        # source tokens: ORCA's text features per token where source=orca-text (PaRe's 1D code mixes
        # those in), else the windows of xbench's text, embedded by the body's embedding layer each step
        self.tokens = getattr(trainer, "source_tokens", None)
        self.ids = None if self.tokens is not None else source_windows(self.backbone, cfg.n_source, cfg.source_window)
        self.labels = trainer.source[1]
        dev = trainer.device
        self.gate = nn.Linear(self.backbone.hidden_size, 1).to(dev)
        self.src_head = nn.Linear(self.backbone.out_hidden, int(self.labels.max()) + 1).to(dev)
        self.gen = torch.Generator().manual_seed(trainer.seed)

    def parameters(self):
        return [*self.gate.parameters(), *self.src_head.parameters()]

    def n_replaced(self, n_tokens: int, n_src: int, epoch: int) -> int:
        cfg = self.t.cfg
        if cfg.pare_tokens > 0:
            k = int(cfg.pare_tokens * (1 - epoch / cfg.epochs))
        else:
            k = int(n_tokens * (cfg.pare_begin - cfg.pare_end * epoch / cfg.epochs))
        return max(0, min(k, n_tokens, n_src))

    def loss(self, x, y, idx, epoch):
        t, model = self.t, self.t.model
        x, y = x.to(t.device), y.to(t.device)
        grid = getattr(model.embedder, "grid", None)
        e_t = model.embedder(x)
        target = t.target_loss(model.head(self.backbone.encode(e_t, grid)), y)
        rows = torch.randint(len(self.tokens if self.tokens is not None else self.ids), (len(x),), generator=self.gen)
        with torch.no_grad():
            e_s = (self.tokens[rows].to(t.device) if self.tokens is not None
                   else self.backbone.embeddings(input_ids=self.ids[rows].to(t.device)))
        k = self.n_replaced(e_t.shape[1], e_s.shape[1], epoch)
        parts = {f"loss_{t.spec.loss}": target.item(), "pare_replaced": float(k)}
        if k == 0:
            return target, parts
        mixed = mix_tokens(e_t, e_s, self.gate, k, epoch < t.cfg.pare_gumbel_epochs, self.gen,
                           replace_highest=t.cfg.pare_replace == "reference")
        h = self.backbone.encode(mixed, grid)
        lam = k / e_t.shape[1]
        mixed_target = t.target_loss(model.head(h), y)
        src_ce = F.cross_entropy(self.src_head(h.mean(dim=1)), self.labels[rows].to(t.device))
        parts.update(pare_mixed_loss=mixed_target.item(), pare_source_ce=src_ce.item())
        return target + t.cfg.pare_mix_weight * ((1 - lam) * mixed_target + lam * src_ce), parts


@phase_kind("pare")
def pare(trainer: Trainer, phase, align_loss: str) -> None:
    trainer.fit(phase.trainable, PaReTerm(trainer), name="pare")
