"""ORCA's 2D embedder (docs/methods.md §2.2): Conv2d patching -> LayerNorm -> + position embeddings.

Input ``x`` (B, C, H, W) becomes a grid of ``h x w`` patch tokens of the body's width d, in raster
order (row-major), so a text body sees them as a sequence and a Swin body as the grid it expects.

Patch size. ORCA resizes every 2D input to 224 x 224 and uses Swin's own patch size 4 (3136 tokens).
xbench does not resize; it picks the patch size from ``target_seq_len`` with the 2D analogue of
ORCA's 1D ``stack_num`` rule: ``p`` is the smallest common divisor of H and W with
``(H/p)(W/p) <= target_seq_len``. When no common divisor qualifies (e.g. coprime sizes), ``p`` is the
smallest integer with ``ceil(H/p) ceil(W/p) <= target_seq_len`` and the input is zero-padded at the
right and bottom to multiples of ``p``, as ORCA's ``Embeddings2D.maybe_pad``.

Initialisation (ORCA's ``conv_init`` / ``embedder_init``): conv weight ``xavier_uniform(gain=sqrt(2))``,
bias 0. From a pretrained body: a text body gives its embedding LayerNorm and the first ``h*w`` rows of
its position table; a ViT gives its patch-grid position embeddings, bicubically interpolated to the
``h x w`` grid (its class-token position is not used: dense tasks have no class token); a Swin body
gives its patch-embedding LayerNorm, and has no absolute positions (relative position biases inside
its windows), as ORCA's ``Embeddings2D``. When ``p`` equals the vision body's own patch size, its
patch-embedding conv is copied with its 3 RGB input channels tiled to C (ORCA's channel tiling).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from xbench.errors import ConfigError


def patch_size_2d(height: int, width: int, target_seq_len: int) -> int:
    """The patch size of an ``height x width`` input (module docstring)."""
    for p in range(1, max(height, width) + 1):
        if height % p == 0 and width % p == 0 and (height // p) * (width // p) <= target_seq_len:
            return p
    for p in range(1, max(height, width) + 1):
        if math.ceil(height / p) * math.ceil(width / p) <= target_seq_len:
            return p
    return max(height, width)


ORCA_SIZE, ORCA_PATCH = 224, 4  # ORCA's 2D wrapper: every input resized to 224 x 224, Swin's patch 4


class Embedder2D(nn.Module):
    """``resize``: ORCA's 2D wrapper (``embed_2d=orca``): the input is resized to ``resize`` x ``resize``
    (bilinear, no antialiasing, as torchvision's ``Resize`` on tensors in ORCA's era) and cut into
    patches of ``ORCA_PATCH``, 3136 tokens at 224; ``target_seq_len`` is then not used."""

    def __init__(self, in_channels: int, spatial: tuple[int, int], d: int, target_seq_len: int,
                 max_positions: int | None, positions: bool = True, norm: str = "orca", resize: int | None = None):
        super().__init__()
        self.norm_at = norm  # where the LayerNorm sits: orca, bert or none (xbench.models.embedders)
        self.resize = resize
        self.spatial = (resize, resize) if resize else tuple(spatial)
        self.p = ORCA_PATCH if resize else patch_size_2d(*self.spatial, target_seq_len)
        self.grid = (math.ceil(self.spatial[0] / self.p), math.ceil(self.spatial[1] / self.p))
        self.n_tokens = self.grid[0] * self.grid[1]
        if max_positions is not None and positions and self.n_tokens > max_positions:
            raise ConfigError(
                f"ORCA's 2D wrapper makes {self.n_tokens} tokens ({resize}^2, patch {self.p}), more than the body's "
                f"{max_positions} positions: it needs a Swin body (--backbone SWIN_FOLDER, as ORCA), or use "
                "--set embed_2d=patch." if resize else
                f"{self.n_tokens} tokens exceed the body's {max_positions} positions; lower target_seq_len."
            )
        self.conv = nn.Conv2d(in_channels, d, kernel_size=self.p, stride=self.p)
        self.norm = nn.LayerNorm(d) if norm != "none" else nn.Identity()
        self.pos = nn.Parameter(torch.zeros(self.n_tokens, d)) if positions else None
        nn.init.xavier_uniform_(self.conv.weight, gain=math.sqrt(2.0))
        nn.init.zeros_(self.conv.bias)
        if self.pos is not None:
            nn.init.normal_(self.pos, std=0.02)

    @torch.no_grad()
    def init_from_text(self, embeddings: nn.Module, position_offset: int) -> None:
        """Copy a text body's embedding LayerNorm and its first ``h*w`` position embeddings."""
        self._copy_norm(getattr(embeddings, "LayerNorm", None))
        if self.pos is not None:
            table = embeddings.position_embeddings.weight
            self.pos.copy_(table[position_offset:position_offset + self.n_tokens])

    @torch.no_grad()
    def init_from_vision(self, embeddings: nn.Module) -> None:
        """Copy a ViT/Swin body's patch conv (when ``p`` matches), LayerNorm and grid positions."""
        conv = embeddings.patch_embeddings.projection
        if tuple(conv.kernel_size) == (self.p, self.p) and conv.out_channels == self.conv.out_channels:
            reps = math.ceil(self.conv.in_channels / conv.in_channels)
            self.conv.weight.copy_(conv.weight.repeat(1, reps, 1, 1)[:, : self.conv.in_channels])
            if conv.bias is not None:
                self.conv.bias.copy_(conv.bias)
        self._copy_norm(getattr(embeddings, "norm", None))
        table = getattr(embeddings, "position_embeddings", None)
        if self.pos is not None and isinstance(table, torch.Tensor):
            grid = table[0, 1:]  # drop the class-token position
            g = math.isqrt(len(grid))
            if g * g == len(grid):
                img = grid.reshape(1, g, g, -1).permute(0, 3, 1, 2)
                img = F.interpolate(img, size=self.grid, mode="bicubic", align_corners=False)
                self.pos.copy_(img.permute(0, 2, 3, 1).reshape(self.n_tokens, -1))

    def _copy_norm(self, ln: nn.Module | None) -> None:
        if isinstance(ln, nn.LayerNorm) and isinstance(self.norm, nn.LayerNorm) and ln.weight is not None and ln.weight.shape == self.norm.weight.shape:
            self.norm.weight.copy_(ln.weight)
            self.norm.bias.copy_(ln.bias)
            self.norm.eps = ln.eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, h*w, d), raster order."""
        if self.resize:
            x = F.interpolate(x, size=(self.resize, self.resize), mode="bilinear", align_corners=False)
        pad_h, pad_w = self.grid[0] * self.p - x.shape[-2], self.grid[1] * self.p - x.shape[-1]
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        h = self.conv(x).flatten(2).transpose(1, 2)
        if self.norm_at == "bert":
            return self.norm(h if self.pos is None else h + self.pos)
        h = self.norm(h)
        return h if self.pos is None else h + self.pos
