"""Heads. Dense: each token predicts its own patch of the output field (1D and 2D). Pooled
(:class:`PooledHead`): the tokens' mean, then one linear map to a vector per sample (class logits,
label logits), as ORCA's classification heads (mean pooling over the sequence, then ``Linear``).

ORCA's 1D dense head is parameter-free (it average-pools each token's d features down to k outputs:
:class:`PoolHead1D`, the setting ``dense_head=pool``, which the ``paper`` profile uses). xbench's
default is the learned linear version, ``Linear(d, C_out * k)`` per token (:class:`DenseHead1D`),
which contains ORCA's pooling as one particular weight setting and trains reliably with small budgets.
"""

from __future__ import annotations

import torch
from torch import nn


class PooledHead(nn.Module):
    def __init__(self, d: int, outputs: int):
        super().__init__()
        self.proj = nn.Linear(d, outputs)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """(B, T, d) -> (B, outputs)."""
        return self.proj(h.mean(dim=1))


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


class PoolHead1D(nn.Module):
    """ORCA's dense 1D head (``src/utils.py::adaptive_pooler``, ``docs/methods.md`` §2.3): each token's d
    features average-pooled to C_out * k values (``AdaptiveAvgPool1d`` over the hidden dimension), no
    parameters; laid out as :class:`DenseHead1D`'s output."""

    def __init__(self, out_channels: int, patch: int):
        super().__init__()
        self.out_channels, self.patch = out_channels, patch
        self.pool = nn.AdaptiveAvgPool1d(out_channels * patch)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """(B, T, d) -> (B, C_out, T * k)."""
        b, t, _ = h.shape
        y = self.pool(h).view(b, t, self.out_channels, self.patch)
        return y.permute(0, 2, 1, 3).reshape(b, self.out_channels, t * self.patch)


class DenseHead2D(nn.Module):
    """Dense 2D head: each token of an ``h x w`` grid predicts its ``P x P`` patch of C_out channels.

    ``Linear(d, C_out * P^2)`` per token, then the patches are laid out on the grid (a 1x1
    convolution followed by pixel shuffle) and the field is cropped to ``out_size`` (undoing the
    embedder's padding). This is the decoder of ``SwinForMaskedImageModeling`` that ORCA uses for
    dense 2D tasks (1x1 conv to ``r^2 * 3`` channels, pixel shuffle by r), with C_out channels
    directly instead of 3 averaged ones, and without ORCA's resize back from 224 x 224 (xbench does
    not resize). ``P`` is the embedder's patch size times the body's downsampling (Swin: 2^(stages-1)).
    """

    def __init__(self, d: int, out_channels: int, patch: int, grid: tuple[int, int], out_size: tuple[int, int]):
        super().__init__()
        self.out_channels, self.patch, self.grid, self.out_size = out_channels, patch, tuple(grid), tuple(out_size)
        self.proj = nn.Linear(d, out_channels * patch * patch)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """(B, h*w, d) -> (B, C_out, H, W)."""
        b, (gh, gw), p, c = h.shape[0], self.grid, self.patch, self.out_channels
        y = self.proj(h).view(b, gh, gw, c, p, p).permute(0, 3, 1, 4, 2, 5)
        y = y.reshape(b, c, gh * p, gw * p)
        return y[..., : self.out_size[0], : self.out_size[1]]


class OrcaHead2D(nn.Module):
    """ORCA's dense 2D head (``src/embedder.py`` wrapper2D, ``docs/methods.md`` §2.3): the masked-image-
    modelling decoder of Swin (a 1x1 convolution to 3 r^2 channels and a pixel shuffle by r, i.e.
    :class:`DenseHead2D` with 3 channels) gives a 3 x 224 x 224 image; its channels are average-pooled
    to C_out (``AdaptiveAvgPool1d`` over the channel axis: the channel mean when C_out = 1) and the
    image average-pooled to the input's size (``AdaptiveAvgPool2d``)."""

    def __init__(self, d: int, out_channels: int, patch: int, grid: tuple[int, int], image: int,
                 out_size: tuple[int, int]):
        super().__init__()
        self.decoder = DenseHead2D(d, 3, patch, grid, (image, image))
        self.out_channels, self.out_size = out_channels, tuple(out_size)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """(B, h*w, d) -> (B, C_out, H, W)."""
        img = self.decoder(h)
        b, c, hh, ww = img.shape
        img = nn.functional.adaptive_avg_pool1d(img.reshape(b, c, -1).transpose(1, 2), self.out_channels)
        img = img.transpose(1, 2).reshape(b, self.out_channels, hh, ww)
        return nn.functional.adaptive_avg_pool2d(img, self.out_size)
