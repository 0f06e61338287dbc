"""Dense 1D head: each token predicts its own patch of the output field.

ORCA's 1D dense head is parameter-free (it average-pools each token's d features down to k outputs).
xbench uses the learned linear version, ``Linear(d, C_out * k)`` per token, which contains ORCA's
pooling as one particular weight setting and trains reliably with small budgets.
"""

from __future__ import annotations

import torch
from torch import nn


class DenseHead1D(nn.Module):
    def __init__(self, d: int, out_channels: int, patch: int):
        super().__init__()
        self.out_channels, self.patch = out_channels, patch
        self.proj = nn.Linear(d, out_channels * patch)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """(B, T, d) -> (B, C_out, T * k)."""
        b, t, _ = h.shape
        y = self.proj(h).view(b, t, self.out_channels, self.patch)
        return y.permute(0, 2, 1, 3).reshape(b, self.out_channels, t * self.patch)
