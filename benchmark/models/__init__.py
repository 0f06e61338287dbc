"""Models: the cross-modal model (task embedder -> pretrained body -> task head) and the baselines.

``MODEL_KINDS`` names the architectures a method can ask for (``MethodSpec.model``): ``crossmodal``
(:func:`build_model`) and the target-only baselines of :mod:`xbench.models.baselines`
(:func:`build_baseline`).
"""

from __future__ import annotations

import torch
from torch import nn

from xbench.errors import ConfigError
from xbench.models.backbone import DEFAULT_BACKBONE, Backbone, load_backbone
from xbench.models.baselines import BASELINES, build_baseline
from xbench.models.embedders import Embedder1D, Flattened, stack_num
from xbench.models.embedders2d import ORCA_SIZE, Embedder2D, patch_size_2d
from xbench.models.heads import DenseHead1D, DenseHead2D, OrcaHead2D, PooledHead, PoolHead1D

__all__ = ["DEFAULT_BACKBONE", "MODEL_KINDS", "Backbone", "CrossModalModel", "build_baseline", "build_model",
           "count_parameters", "load_backbone", "patch_size_2d", "stack_num"]

MODEL_KINDS = ("crossmodal", *BASELINES)


class CrossModalModel(nn.Module):
    """``head(body(embedder(x)))`` with dict batches: ``model({"x": x})["y"]``.

    ``window``: the grid a dense 2D model is built for. A larger input (a task whose test samples come
    on a bigger canvas than its training windows, as PSICOV's) is cut into non-overlapping windows,
    each predicted on its own, and the predictions laid back in place; each side must be a multiple
    of the window's.
    """

    def __init__(self, embedder: nn.Module, backbone: Backbone, head: nn.Module,
                 window: tuple[int, int] | None = None):
        super().__init__()
        self.embedder, self.body, self.head = embedder, backbone.encoder, head
        self._backbone = backbone
        self.window = tuple(window) if window else None

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.embedder(x)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Mean-pooled embedder output (B, d): the features alignment losses compare."""
        return self.embedder(x).mean(dim=1)

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        x = batch["x"]
        if self.window is not None and tuple(x.shape[2:]) != self.window:
            return {"y": self._tiled(x)}
        h = self._backbone.encode(self.embedder(x), getattr(self.embedder, "grid", None))
        return {"y": self.head(h), "hidden": h}

    def _tiled(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, nH*wH, nW*wW) -> the head's (B, C', nH*wH, nW*wW), window by window."""
        (wh, ww), (b, c, hh, hw) = self.window, x.shape
        if hh % wh or hw % ww:
            raise ConfigError(f"a model built for {wh}x{ww} windows cannot tile a {hh}x{hw} input: each side must "
                              "be a multiple of the window's.")
        nh, nw = hh // wh, hw // ww
        tiles = x.reshape(b, c, nh, wh, nw, ww).permute(0, 2, 4, 1, 3, 5).reshape(b * nh * nw, c, wh, ww)
        y = self.head(self._backbone.encode(self.embedder(tiles), getattr(self.embedder, "grid", None)))
        c_out = y.shape[1]
        return y.reshape(b, nh, nw, c_out, wh, ww).permute(0, 3, 1, 4, 2, 5).reshape(b, c_out, hh, hw)


def build_model(backbone: Backbone, input_shape: tuple[int, ...], output_shape: tuple[int, ...],
                target_seq_len: int, embed_norm: str = "orca", dense_head: str = "linear",
                embed_2d: str = "patch", channels_1d: str = "stack") -> CrossModalModel:
    """The cross-modal model for samples ``input_shape`` -> ``output_shape`` on the same grid, or
    -> ``(K,)``: one vector per sample (class or label logits) from :class:`PooledHead`.

    1D (C, L) -> (C', L): :class:`Embedder1D` and :class:`DenseHead1D` (text bodies only).
    2D (C, H, W) -> (C', H, W): :class:`Embedder2D` and :class:`DenseHead2D`, with a text body (the
    patch tokens in raster order) or a ViT/Swin body (see :mod:`xbench.models.backbone`).
    ``embed_norm`` places the embedder's LayerNorm (``orca``, ``bert``, ``none``: :mod:`xbench.models.embedders`);
    ``dense_head`` is the 1D head, ``linear`` (:class:`DenseHead1D`) or ORCA's parameter-free ``pool``
    (:class:`PoolHead1D`), ``channels_1d`` how it reads several channels (``stack``, or ``flatten`` into
    one sequence as ORCA's 1D CFD: :class:`Flattened`); ``embed_2d`` the 2D embedder and head, xbench's
    small patches (``patch``) or ORCA's wrapper (``orca``: resize to 224, patch 4, Swin's decoder,
    :class:`OrcaHead2D`).
    """
    rank = len(input_shape) - 1
    pooled = len(output_shape) == 1
    if rank not in (1, 2) or not pooled and (len(output_shape) != len(input_shape) or input_shape[1:] != output_shape[1:]):
        raise ConfigError(
            f"xbench builds 1D (C, L) or 2D (C, H, W) models with the output on the input's grid or one "
            f"vector (K,) per sample; got {input_shape} -> {output_shape}."
        )
    if rank == 1:
        if backbone.kind != "text":
            raise ConfigError(f"backbone {backbone.name!r} is a {backbone.kind} vision body; 1D tasks need a "
                              "text body (ORCA uses RoBERTa for 1D inputs).")
        flat = channels_1d == "flatten"
        c_in, c_out = (1, 1) if flat else (input_shape[0], output_shape[0])
        length = input_shape[0] * input_shape[1] if flat else input_shape[1]
        emb = Embedder1D(c_in, length, backbone.hidden_size, target_seq_len, backbone.max_positions, embed_norm)
        if backbone.pretrained:
            emb.init_from_body(backbone.embeddings, backbone.position_offset)
        if pooled:
            return CrossModalModel(Flattened(emb) if flat else emb, backbone, PooledHead(backbone.hidden_size, output_shape[0]))
        head = (PoolHead1D(c_out, emb.k) if dense_head == "pool" else DenseHead1D(backbone.hidden_size, c_out, emb.k))
        if flat:
            return CrossModalModel(Flattened(emb), backbone, Flattened(head, output_shape[0]))
        return CrossModalModel(emb, backbone, head)
    orca = embed_2d == "orca"
    emb2 = Embedder2D(input_shape[0], input_shape[1:], backbone.hidden_size, target_seq_len, backbone.max_positions,
                      positions=backbone.kind != "swin", norm=embed_norm, resize=ORCA_SIZE if orca else None)
    if backbone.pretrained:
        if backbone.kind == "text":
            emb2.init_from_text(backbone.embeddings, backbone.position_offset)
        else:
            emb2.init_from_vision(backbone.embeddings)
    if pooled:
        return CrossModalModel(emb2, backbone, PooledHead(backbone.out_hidden, output_shape[0]))
    patch, grid = emb2.p * backbone.downsample, backbone.out_grid(emb2.grid)
    head = (OrcaHead2D(backbone.out_hidden, output_shape[0], patch, grid, ORCA_SIZE, output_shape[1:]) if orca
            else DenseHead2D(backbone.out_hidden, output_shape[0], patch, grid, output_shape[1:]))
    return CrossModalModel(emb2, backbone, head, window=input_shape[1:])


def count_parameters(model: nn.Module) -> int:
    """Real-valued parameters of ``model`` (a complex weight counts as two)."""
    return sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters())
