"""ORCA's 1D embedder (docs/methods.md §2.2): Conv1d patching -> LayerNorm -> + position embeddings.

Input ``x`` (B, C, L) becomes ``L/k`` tokens of the body's width d, where the patch size
``k = stack_num(L, target_seq_len)`` is the smallest divisor of L with ``L/k <= target_seq_len``.
``norm`` places the LayerNorm: ``orca`` normalises the projection before the positions are added
(ORCA's embedder), ``bert`` normalises projection + positions (the body's own embedding layer, which
the copied LayerNorm weights were trained in), ``none`` leaves it out. With ``orca`` and a zero conv
bias, a patch ``c * v`` embeds as ``sign(c) * LN(W v)``: its amplitude is lost before the body, and a
task whose output depends on the input's level (a near-constant field) cannot be learned.

Initialisation as ORCA's ``embedder_init``: conv weight ``xavier_uniform(gain=sqrt(2))``, bias 0;
LayerNorm and position embeddings copied from the body's own embedding layer (pretrained bodies).

Channels (setting ``channels_1d``): ``stack`` reads the C channels of a patch together (conv input
channels C, xbench's default); ``flatten`` concatenates them into one sequence of C * L points first,
as ORCA's 1D CFD loader does ((3, 1024) -> (1, 3072), patches of 24: :class:`Flattened`).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from xbench.errors import ConfigError


def stack_num(length: int, target_seq_len: int) -> int:
    """Smallest divisor ``k`` of ``length`` with ``length / k <= target_seq_len`` (ORCA's rule)."""
    for k in range(1, length + 1):
        if length % k == 0 and length // k <= target_seq_len:
            return k
    return length


class Embedder1D(nn.Module):
    def __init__(self, in_channels: int, length: int, d: int, target_seq_len: int, max_positions: int,
                 norm: str = "orca"):
        super().__init__()
        self.norm_at = norm
        self.k = stack_num(length, target_seq_len)
        self.n_tokens = length // self.k
        if self.n_tokens > max_positions:
            raise ConfigError(
                f"{self.n_tokens} tokens exceed the body's {max_positions} positions; lower target_seq_len."
            )
        self.conv = nn.Conv1d(in_channels, d, kernel_size=self.k, stride=self.k)
        self.norm = nn.LayerNorm(d) if norm != "none" else nn.Identity()
        self.pos = nn.Parameter(torch.zeros(self.n_tokens, d))
        nn.init.xavier_uniform_(self.conv.weight, gain=math.sqrt(2.0))
        nn.init.zeros_(self.conv.bias)
        nn.init.normal_(self.pos, std=0.02)

    def init_from_body(self, embeddings: nn.Module, position_offset: int) -> None:
        """Copy the body's embedding LayerNorm and its first ``n_tokens`` position embeddings."""
        with torch.no_grad():
            ln = getattr(embeddings, "LayerNorm", None)
            if ln is not None and isinstance(self.norm, nn.LayerNorm):
                self.norm.weight.copy_(ln.weight)
                self.norm.bias.copy_(ln.bias)
                self.norm.eps = ln.eps
            table = embeddings.position_embeddings.weight
            self.pos.copy_(table[position_offset:position_offset + self.n_tokens])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, L) -> (B, L/k, d)."""
        h = self.conv(x).transpose(1, 2)
        return self.norm(h + self.pos) if self.norm_at == "bert" else self.norm(h) + self.pos


class Flattened(nn.Module):
    """Run ``inner`` on (B, C, L) inputs flattened to (B, 1, C * L), or un-flatten its (B, 1, C * L)
    outputs back to (B, C, L) (``channels``, for a head): ORCA's 1D CFD layout."""

    def __init__(self, inner: nn.Module, channels: int | None = None):
        super().__init__()
        self.inner, self.channels = inner, channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels is None:
            return self.inner(x.reshape(x.shape[0], 1, -1))
        y = self.inner(x)
        return y.reshape(y.shape[0], self.channels, -1)
