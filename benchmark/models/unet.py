r"""U-Net, 1D and 2D, in PDEBench's configuration (docs/pdebench.md §5).

Ronneberger et al., "U-Net", MICCAI 2015, in the variant PDEBench (Takamoto et al., NeurIPS 2022
D&B) trains: ``init_features`` f = 32, four down- and four up-sampling levels. Written from the
architecture:

- block(c_in, c_out) = [conv3(c_in -> c_out, no bias) -> BatchNorm -> tanh] x 2 (conv3: kernel 3,
  zero padding 1; PDEBench uses tanh where the original U-Net uses ReLU);
- encoder: e_1 = block(C_in, f)(x), e_{l+1} = block(2^{l-1} f, 2^l f)(maxpool2(e_l)) for l = 1..3,
  bottleneck b = block(8f, 16f)(maxpool2(e_4));
- decoder: d_5 = b, d_l = block(2^l f, 2^{l-1} f)([up_l(d_{l+1}), e_l]) for l = 4..1, with up_l a
  transposed convolution (kernel 2, stride 2) halving the channels and [.,.] channel concatenation;
- output: a 1x1 convolution ``f -> C_out``.

Four poolings need every spatial size divisible by 16: other sizes are padded at the end of each
axis to the next multiple of 16 by replicating the boundary value, and the output is cropped back.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LEVELS = 4


class UNet(nn.Module):
    """``(B, C_in, *X) -> (B, C_out, *X)`` for X of rank 1 or 2 (module docstring)."""

    def __init__(self, in_channels: int, out_channels: int, rank: int, init_features: int = 32):
        super().__init__()
        if rank not in (1, 2):
            raise ValueError(f"U-Net is 1D or 2D; got rank {rank}")
        self.rank = rank
        conv, norm = (nn.Conv1d, nn.BatchNorm1d) if rank == 1 else (nn.Conv2d, nn.BatchNorm2d)
        up = nn.ConvTranspose1d if rank == 1 else nn.ConvTranspose2d
        self.pool = nn.MaxPool1d(2) if rank == 1 else nn.MaxPool2d(2)

        def block(c_in: int, c_out: int) -> nn.Sequential:
            return nn.Sequential(conv(c_in, c_out, 3, padding=1, bias=False), norm(c_out), nn.Tanh(),
                                 conv(c_out, c_out, 3, padding=1, bias=False), norm(c_out), nn.Tanh())

        f = init_features
        widths = [f * 2 ** level for level in range(LEVELS)]  # f, 2f, 4f, 8f
        self.encoders = nn.ModuleList([block(c, w) for c, w in zip([in_channels] + widths[:-1], widths)])
        self.bottleneck = block(widths[-1], 2 * widths[-1])
        self.ups = nn.ModuleList([up(2 * w, w, kernel_size=2, stride=2) for w in reversed(widths)])
        self.decoders = nn.ModuleList([block(2 * w, w) for w in reversed(widths)])
        self.out = conv(f, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spatial = x.shape[2:]
        pad = []
        for n in reversed(spatial):  # F.pad lists the last axis first
            pad += [0, math.ceil(n / 2 ** LEVELS) * 2 ** LEVELS - n]
        if any(pad):
            x = F.pad(x, pad, mode="replicate")
        skips = []
        for enc in self.encoders:
            x = enc(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)
        for up, dec, skip in zip(self.ups, self.decoders, reversed(skips)):
            x = dec(torch.cat([up(x), skip], dim=1))
        x = self.out(x)
        return x[(..., *[slice(0, n) for n in spatial])]
