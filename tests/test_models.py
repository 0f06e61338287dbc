"""Models: 2D embedder and head, vision bodies, FNO, U-Net, trivial baselines, and their runs."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from xbench.errors import ConfigError
from xbench.models import build_model, load_backbone
from xbench.models.embedders2d import Embedder2D, patch_size_2d
from xbench.models.heads import DenseHead2D


@pytest.fixture(scope="module")
def tiny_vit(tmp_path_factory) -> str:
    """A 2-layer, 24-wide random ViT (32 x 32 images, 8 x 8 patches) saved as a local folder."""
    from transformers import ViTConfig, ViTModel

    folder = tmp_path_factory.mktemp("tiny-vit")
    torch.manual_seed(0)
    cfg = ViTConfig(hidden_size=24, num_hidden_layers=2, num_attention_heads=2, intermediate_size=48,
                    image_size=32, patch_size=8)
    ViTModel(cfg).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def tiny_swin(tmp_path_factory) -> str:
    """A 2-stage random Swin (embed_dim 8, window 4, 32 x 32 images, 4 x 4 patches) saved as a local folder."""
    from transformers import SwinConfig, SwinModel

    folder = tmp_path_factory.mktemp("tiny-swin")
    torch.manual_seed(0)
    cfg = SwinConfig(embed_dim=8, depths=[2, 1], num_heads=[1, 2], window_size=4, image_size=32, patch_size=4,
                     mlp_ratio=2.0, drop_path_rate=0.0)
    SwinModel(cfg).save_pretrained(folder)
    return str(folder)


@pytest.mark.parametrize("h,w,tsl,p", [(64, 64, 32, 16), (128, 128, 512, 8), (64, 48, 12, 16), (7, 9, 4, 5),
                                        (64, 64, 4096, 1)])
def test_patch_size_2d_rule(h, w, tsl, p):
    assert patch_size_2d(h, w, tsl) == p


def test_embedder2d_tokens_are_raster_ordered_patches():
    """Token (i, j) = LayerNorm(conv of patch rows i*p.., cols j*p..) + position; zero padding on the right."""
    torch.manual_seed(0)
    emb = Embedder2D(2, (7, 9), 6, target_seq_len=4, max_positions=None)
    assert emb.p == 5 and emb.grid == (2, 2)
    x = torch.randn(3, 2, 7, 9)
    tokens = emb(x)
    assert tokens.shape == (3, 4, 6)
    xp = F.pad(x, (0, 1, 0, 3))  # 7x9 -> 10x10
    w, b = emb.conv.weight, emb.conv.bias
    for i in range(2):
        for j in range(2):
            patch = xp[:, :, 5 * i:5 * i + 5, 5 * j:5 * j + 5]
            proj = torch.einsum("bchw,dchw->bd", patch, w) + b
            expect = F.layer_norm(proj, (6,), emb.norm.weight, emb.norm.bias, emb.norm.eps) + emb.pos[2 * i + j]
            assert torch.allclose(tokens[:, 2 * i + j], expect, atol=1e-5)
    with pytest.raises(ConfigError, match="positions"):
        Embedder2D(1, (64, 64), 8, target_seq_len=4096, max_positions=512)


def test_head2d_lays_patches_on_the_grid_and_crops():
    """With zero weights the output is the bias: entry (c, a, b) of every patch is c*p*p + a*p + b."""
    p, c = 3, 2
    head = DenseHead2D(5, c, p, (2, 3), (5, 8))
    with torch.no_grad():
        head.proj.weight.zero_()
        head.proj.bias.copy_(torch.arange(c * p * p, dtype=torch.float32))
    y = head(torch.zeros(1, 6, 5))
    assert y.shape == (1, c, 5, 8)
    for ch in range(c):
        for r in range(5):
            for col in range(8):
                assert y[0, ch, r, col] == ch * p * p + (r % p) * p + (col % p)


def test_text_body_on_2d_inputs(tiny_backbone):
    bb = load_backbone(tiny_backbone)
    model = build_model(bb, (2, 16, 12), (1, 16, 12), target_seq_len=12)
    assert model.embedder.p == 4 and model.embedder.grid == (4, 3)
    # pretrained init: the body's LayerNorm and its first 12 position embeddings
    assert torch.equal(model.embedder.pos, bb.embeddings.position_embeddings.weight[:12])
    assert torch.equal(model.embedder.norm.weight, bb.embeddings.LayerNorm.weight)
    x = torch.randn(3, 2, 16, 12)
    out = model({"x": x})
    assert out["y"].shape == (3, 1, 16, 12) and model.features(x).shape == (3, 32)
    out["y"].square().mean().backward()
    assert model.embedder.conv.weight.grad is not None and model.head.proj.weight.grad is not None


def test_vit_body_runs_vits_own_layers(tiny_vit):
    """The body equals ViTModel's layers + final LayerNorm; the embedder takes ViT's conv and positions."""
    from transformers import ViTModel

    bb = load_backbone(tiny_vit)
    assert bb.kind == "vit" and bb.hidden_size == 24 and bb.downsample == 1 and bb.max_positions is None
    ref = ViTModel.from_pretrained(tiny_vit, local_files_only=True).eval()
    pixels = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        tokens = ref.embeddings(pixels)
        assert torch.allclose(bb.encode(tokens), ref(pixel_values=pixels).last_hidden_state, atol=1e-5)
    model = build_model(bb, (5, 32, 32), (2, 32, 32), target_seq_len=16)
    emb = model.embedder
    assert emb.p == 8 and emb.grid == (4, 4)  # ViT's own grid: positions copied as they are
    assert torch.allclose(emb.pos, ref.embeddings.position_embeddings[0, 1:], atol=1e-5)
    conv = ref.embeddings.patch_embeddings.projection.weight
    assert torch.equal(emb.conv.weight[:, 3:5], conv[:, 0:2]) and torch.equal(emb.conv.weight[:, :3], conv)
    assert model({"x": torch.randn(2, 5, 32, 32)})["y"].shape == (2, 2, 32, 32)
    other = build_model(bb, (1, 24, 40), (1, 24, 40), target_seq_len=16)  # 2 x ... grid: interpolated positions
    assert other.embedder.pos.shape == (other.embedder.n_tokens, 24)
    assert other({"x": torch.randn(1, 1, 24, 40)})["y"].shape == (1, 1, 24, 40)


def test_swin_body_runs_swins_own_stages(tiny_swin):
    from transformers import SwinModel

    bb = load_backbone(tiny_swin)
    assert bb.kind == "swin" and bb.hidden_size == 8 and bb.out_hidden == 16 and bb.downsample == 2
    ref = SwinModel.from_pretrained(tiny_swin, local_files_only=True).eval()
    pixels = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        tokens, grid = ref.embeddings(pixels)
        assert torch.allclose(bb.encode(tokens, tuple(grid)), ref(pixel_values=pixels).last_hidden_state, atol=1e-5)
    model = build_model(bb, (1, 20, 28), (3, 20, 28), target_seq_len=40)
    assert model.embedder.p == 4 and model.embedder.grid == (5, 7) and model.embedder.pos is None
    assert bb.out_grid((5, 7)) == (3, 4) and model.head.patch == 8
    assert torch.equal(model.embedder.norm.weight, ref.embeddings.norm.weight)
    y = model({"x": torch.randn(2, 1, 20, 28)})["y"]
    assert y.shape == (2, 3, 20, 28)
    y.sum().backward()
    assert model.embedder.conv.weight.grad is not None


def test_vision_body_refuses_1d(tiny_vit):
    with pytest.raises(ConfigError, match="1D tasks need a text body"):
        build_model(load_backbone(tiny_vit), (1, 64), (1, 64), target_seq_len=16)
    with pytest.raises(ConfigError, match="same grid|output on the input"):
        build_model(load_backbone(tiny_vit), (1, 8, 8), (1, 4, 4), target_seq_len=16)


def test_random_vision_backbone(tiny_vit):
    pre, rnd = load_backbone(tiny_vit), load_backbone(f"random:{tiny_vit}", seed=3)
    assert not rnd.pretrained and rnd.kind == "vit" and pre.identity != rnd.identity
    w_pre, w_rnd = dict(pre.encoder.named_parameters()), dict(rnd.encoder.named_parameters())
    assert w_pre.keys() == w_rnd.keys()
    name = next(k for k in w_pre if "query" in k or "q_proj" in k)
    assert not torch.equal(w_pre[name], w_rnd[name])
