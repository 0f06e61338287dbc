r"""Fourier neural operator, 1D and 2D, in PDEBench's configuration (docs/pdebench.md §5).

Li et al., "Fourier Neural Operator for Parametric PDEs", ICLR 2021; PDEBench (Takamoto et al.,
NeurIPS 2022 D&B) trains it with 4 Fourier layers, 12 modes, width 20, GELU, padding 2, fc 128.
Written from the equations:

- input: the field ``a`` (B, C_in, *X) with the grid coordinates appended as extra channels, as
  PDEBench does (``x`` in 1D; ``x, y`` in 2D). xbench's tensors carry no coordinates, so the grid is
  the uniform cell centres ``(i + 1/2) / N`` on [0, 1]: PDEBench's coordinates on its unit domains,
  an affine map of them elsewhere (which the lifting absorbs);
- lifting ``v_0(x) = P [a(x), x]`` (pointwise linear to ``width`` channels), then the domain is
  zero-padded by ``padding`` cells at the end of every axis (the fields are not periodic);
- four Fourier layers ``v_{l+1} = sigma(K_l v_l + W_l v_l)`` with ``W_l`` a pointwise linear map and
  the spectral convolution ``K_l v = F^{-1}[R_l . (F v)]``: ``F`` the real FFT, ``R_l`` complex weights
  acting on the lowest ``modes`` frequencies (in 2D: the ``modes x modes`` blocks of the non-negative
  and of the negative first-axis frequencies, non-negative second-axis ones), higher modes set to 0;
  ``sigma`` = GELU, not applied after the last layer;
- unpadding, then the projection ``u(x) = Q_2 GELU(Q_1 v_4(x))`` with ``Q_1`` to 128 channels.

The complex weights are stored as real tensors (..., 2) and initialised as PDEBench's:
real and imaginary parts ``U(0, 1/(width^2))``. Modes are capped at what the padded grid holds.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SpectralConv(nn.Module):
    """``K v = irfftn(R . rfftn(v))`` on the lowest modes of a 1D or 2D field (module docstring)."""

    def __init__(self, width: int, modes: tuple[int, ...]):
        super().__init__()
        self.modes = modes
        blocks = 1 if len(modes) == 1 else 2  # 2D: positive and negative first-axis frequencies
        scale = 1.0 / (width * width)
        self.weights = nn.Parameter(scale * torch.rand(blocks, width, width, *modes, 2))

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        w = torch.view_as_complex(self.weights)
        dims = tuple(range(2, v.ndim))
        vf = torch.fft.rfftn(v, dim=dims)
        out = torch.zeros(v.shape[0], w.shape[2], *vf.shape[2:], dtype=vf.dtype, device=v.device)
        if len(self.modes) == 1:
            m = self.modes[0]
            out[..., :m] = torch.einsum("bix,iox->box", vf[..., :m], w[0])
        else:
            m1, m2 = self.modes
            out[..., :m1, :m2] = torch.einsum("bixy,ioxy->boxy", vf[..., :m1, :m2], w[0])
            out[..., -m1:, :m2] = torch.einsum("bixy,ioxy->boxy", vf[..., -m1:, :m2], w[1])
        return torch.fft.irfftn(out, s=v.shape[2:], dim=dims)


class FNO(nn.Module):
    """``(B, C_in, *X) -> (B, C_out, *X)`` for X of rank 1 or 2 (module docstring)."""

    def __init__(self, in_channels: int, out_channels: int, spatial: tuple[int, ...], modes: int = 12,
                 width: int = 20, layers: int = 4, padding: int = 2, fc: int = 128):
        super().__init__()
        if len(spatial) not in (1, 2):
            raise ValueError(f"FNO is 1D or 2D; got spatial shape {spatial}")
        self.padding, rank = padding, len(spatial)
        padded = [n + padding for n in spatial]
        if rank == 1:
            mods = (min(modes, padded[0] // 2 + 1),)
        else:
            mods = (min(modes, padded[0] // 2), min(modes, padded[1] // 2 + 1))
        conv = nn.Conv1d if rank == 1 else nn.Conv2d
        self.lift = nn.Linear(in_channels + rank, width)
        self.spectral = nn.ModuleList([SpectralConv(width, mods) for _ in range(layers)])
        self.pointwise = nn.ModuleList([conv(width, width, 1) for _ in range(layers)])
        self.fc1, self.fc2 = nn.Linear(width, fc), nn.Linear(fc, out_channels)
        axes = [(torch.arange(n, dtype=torch.float32) + 0.5) / n for n in spatial]
        self.register_buffer("grid", torch.stack(torch.meshgrid(*axes, indexing="ij")), persistent=False)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        grid = self.grid.unsqueeze(0).expand(a.shape[0], *self.grid.shape).to(a.dtype)
        v = self.lift(torch.cat([a, grid], dim=1).movedim(1, -1)).movedim(-1, 1)
        v = F.pad(v, [0, self.padding] * (v.ndim - 2))
        for i, (k, w) in enumerate(zip(self.spectral, self.pointwise)):
            v = k(v) + w(v)
            if i < len(self.spectral) - 1:
                v = F.gelu(v)
        v = v[(..., *[slice(0, n - self.padding) for n in v.shape[2:]])]
        return self.fc2(F.gelu(self.fc1(v.movedim(1, -1)))).movedim(-1, 1)
