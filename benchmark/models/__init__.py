"""Cross-modal model: task embedder -> pretrained body -> task head."""

from __future__ import annotations

import torch
from torch import nn

from xbench.models.backbone import DEFAULT_BACKBONE, Backbone, load_backbone
from xbench.models.embedders import Embedder1D, stack_num
from xbench.models.heads import DenseHead1D

__all__ = ["DEFAULT_BACKBONE", "Backbone", "CrossModalModel", "build_model", "load_backbone", "stack_num"]


class CrossModalModel(nn.Module):
    """``head(body(embedder(x)))`` with dict batches: ``model({"x": x})["y"]``."""

    def __init__(self, embedder: nn.Module, backbone: Backbone, head: nn.Module):
        super().__init__()
        self.embedder, self.body, self.head = embedder, backbone.encoder, head
        self._backbone = backbone

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.embedder(x)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Mean-pooled embedder output (B, d): the features alignment losses compare."""
        return self.embedder(x).mean(dim=1)

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        h = self._backbone.encode(self.embedder(batch["x"]))
        return {"y": self.head(h), "hidden": h}


def build_model(backbone: Backbone, input_shape: tuple[int, ...], output_shape: tuple[int, ...],
                target_seq_len: int) -> CrossModalModel:
    """The 1D model for a task whose samples are ``input_shape`` (C, L) -> ``output_shape`` (C', L)."""
    if len(input_shape) != 2 or len(output_shape) != 2 or input_shape[1] != output_shape[1]:
        raise NotImplementedError(
            f"xbench builds 1D dense models (C, L) -> (C', L); got {input_shape} -> {output_shape}."
        )
    emb = Embedder1D(input_shape[0], input_shape[1], backbone.hidden_size, target_seq_len, backbone.max_positions)
    if backbone.pretrained:
        emb.init_from_body(backbone.embeddings, backbone.position_offset)
    head = DenseHead1D(backbone.hidden_size, output_shape[0], emb.k)
    return CrossModalModel(emb, backbone, head)
