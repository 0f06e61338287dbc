"""Models: 2D embedder and head, vision bodies, FNO, U-Net, trivial baselines, and their runs."""

from __future__ import annotations

import math

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


# ---------------------------------------------------------------- FNO, U-Net, trivial baselines
def test_spectral_conv_keeps_low_modes_and_cuts_high_ones():
    """R = 2 on every kept mode: a field of modes < m doubles; a mode >= m vanishes."""
    from xbench.models.fno import SpectralConv

    n = 32
    x = torch.arange(n) / n
    conv = SpectralConv(1, (3,))
    with torch.no_grad():
        conv.weights.zero_()
        conv.weights[..., 0] = 2.0
    low = (1.0 + torch.cos(2 * torch.pi * x) + torch.sin(2 * torch.pi * 2 * x)).view(1, 1, n)
    high = torch.cos(2 * torch.pi * 5 * x).view(1, 1, n)
    assert torch.allclose(conv(low), 2 * low, atol=1e-5)
    assert torch.allclose(conv(high), torch.zeros_like(high), atol=1e-5)
    # 2D: the negative first-axis frequencies use the second weight block
    conv2 = SpectralConv(1, (2, 2))
    with torch.no_grad():
        conv2.weights.zero_()
        conv2.weights[0, ..., 0] = 1.0
        conv2.weights[1, ..., 0] = 3.0
    xx, yy = torch.meshgrid(x, x, indexing="ij")
    pos = torch.cos(2 * torch.pi * (xx + yy)).view(1, 1, n, n)  # modes (1, 1) and (-1, -1)
    mixed = torch.cos(2 * torch.pi * (xx - yy)).view(1, 1, n, n)  # modes (-1, 1) and (1, -1)
    # rfft keeps (1, 1) and (-1, 1) of the non-negative second axis; the real inverse restores the conjugates
    assert torch.allclose(conv2(pos), pos, atol=1e-5)
    assert torch.allclose(conv2(mixed), 3 * mixed, atol=1e-5)


def fno_params(c_in: int, c_out: int, rank: int, width: int = 20, modes: int = 12, fc: int = 128) -> int:
    """PDEBench's FNO counted by hand: lift, 4 x (spectral blocks + pointwise), fc1, fc2 (complex = 2 reals)."""
    lift = (c_in + rank) * width + width
    spectral = (1 if rank == 1 else 2) * width * width * modes ** rank * 2
    return lift + 4 * (spectral + width * width + width) + width * fc + fc + fc * c_out + c_out


def unet_params(c_in: int, c_out: int, rank: int, f: int = 32) -> int:
    """PDEBench's U-Net by hand: blocks of 2 bias-free 3^rank convs + BatchNorm, up-convs 2^rank, 1x1 out."""
    k = 3 ** rank

    def block(a, b):
        return k * a * b + k * b * b + 4 * b

    widths = [f, 2 * f, 4 * f, 8 * f]
    enc = sum(block(a, b) for a, b in zip([c_in] + widths[:-1], widths))
    ups = sum(2 ** rank * 2 * w * w + w for w in widths)
    dec = sum(block(2 * w, w) for w in widths)
    return enc + block(8 * f, 16 * f) + ups + dec + f * c_out + c_out


@pytest.mark.parametrize("spatial", [(50,), (20, 36)])
def test_fno_and_unet_shapes_and_pdebench_sizes(spatial):
    from xbench.models import count_parameters
    from xbench.models.fno import FNO
    from xbench.models.unet import UNet

    rank = len(spatial)
    x = torch.randn(2, 3, *spatial)
    fno, unet = FNO(3, 2, spatial), UNet(3, 2, rank)
    assert fno(x).shape == unet(x).shape == (2, 2, *spatial)
    if rank == 1:
        assert count_parameters(fno) == fno_params(3, 2, 1)
    assert count_parameters(unet) == unet_params(3, 2, rank)
    big = FNO(1, 1, (64, 64))
    assert count_parameters(big) == fno_params(1, 1, 2)
    # replicate padding to a multiple of 16: the same as padding by hand and cropping
    unet.eval()
    pad = [a for n in reversed(spatial) for a in (0, -n % 16)]
    with torch.no_grad():
        assert torch.allclose(unet(x), unet(F.pad(x, pad, mode="replicate"))[(..., *[slice(0, n) for n in spatial])],
                              atol=1e-5)


def synthetic_2d(tmp_path, n: int = 24, size: int = 16):
    """A 2D TaskSpec (not registered) and TaskData: y = smoothed x plus its mean."""
    from xbench.data import TaskData, split_indices
    from xbench.tasks.registry import DataFile, TaskSpec

    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, size, size, generator=g) + torch.linspace(-1, 1, n).view(n, 1, 1, 1)
    y = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    spec = TaskSpec(name="synthetic-2d", version=1, family="synthetic", description="test", modality="2d",
                    kind="dense-regression", input_shape=(1, size, size), output_shape=(1, size, size), loss="nrmse",
                    metrics=("nrmse", "pdebench_rmse"), main_metric="nrmse", protocol={"name": "single-step"},
                    data=DataFile(path="none.h5", layout="synthetic"), loader=lambda *a, **k: None)
    idx = split_indices(n)
    data = TaskData(spec.name, {s: x[i] for s, i in idx.items()}, {s: y[i] for s, i in idx.items()},
                    "generated", str(tmp_path / "none.h5"), "0" * 64, n)
    return spec, data


def test_trivial_baselines_predict_the_mean_and_the_input(tmp_path):
    import dataclasses

    from xbench.models import build_baseline

    spec, data = synthetic_2d(tmp_path)
    xn = data.normalised("test")[0]
    for kind, expect in (("input-mean", data.x["test"].mean(dim=(2, 3), keepdim=True).expand_as(data.x["test"])),
                         ("persistence", data.x["test"])):
        model = build_baseline(kind, spec, data)
        assert sum(p.numel() for p in model.parameters()) == 0
        pred = data.y_norm.decode(model({"x": xn})["y"])
        assert torch.allclose(pred, expect, atol=1e-5)
    other = dataclasses.replace(spec, protocol={"input_channels": [0], "target_channels": [1]})
    with pytest.raises(ConfigError, match="input channels"):
        build_baseline("persistence", other, data)
    darcy = dataclasses.replace(spec, protocol={"input_fields": "a", "target_fields": "u"})
    with pytest.raises(ConfigError, match="the field a"):
        build_baseline("input-mean", darcy, data)
    with pytest.raises(ConfigError, match="unknown model kind"):
        build_baseline("resnet", spec, data)


def test_method_model_field():
    from xbench.methods import MethodSpec, Phase, get_method

    assert get_method("orca").model == "crossmodal"
    for name in ("fno", "unet", "input-mean", "persistence"):
        m = get_method(name)
        assert m.model == name and not m.pretrained and not m.aligns
    assert get_method("input-mean").phases == get_method("persistence").phases == ()
    assert get_method("fno").overrides == {"optimizer": "adam", "lr": 1e-3, "weight_decay": 1e-4}
    with pytest.raises(ValueError, match="align"):
        MethodSpec("x", 1, "", "", False, (Phase("align", uses_alignment=True),), model="fno")


@pytest.mark.parametrize("model_kind,phases", [("fno", "fit"), ("unet", "fit"), ("persistence", ""),
                                               ("crossmodal", "fit")])
def test_runner_dispatches_on_the_model_kind(tmp_path, tiny_backbone, model_kind, phases):
    """A full run record on a 2D task: the model kind, its parameter count, val and test metrics."""
    import json

    from xbench.config import RunSpec, TrainConfig
    from xbench.methods import MethodSpec, Phase
    from xbench.results import ResultStore
    from xbench.runner import PlannedRun, execute_run

    spec, data = synthetic_2d(tmp_path)
    method = MethodSpec(f"test-{model_kind}", 1, "", "", model_kind == "crossmodal",
                        tuple(Phase(k) for k in phases.split()), model=model_kind)
    cfg = TrainConfig(epochs=1, batch_size=8, target_seq_len=16)
    run = RunSpec(spec.name, 1, method.name, 1, tiny_backbone, "none", "quick", 0, "0" * 64, cfg)
    store = ResultStore(tmp_path / "results")
    out = execute_run(PlannedRun(spec, method, run, f"key-{model_kind}"), data, store, torch.device("cpu"),
                      tmp_path / "cache")
    assert out.status == "ok", out.error
    rec = json.loads((tmp_path / "results" / "runs" / f"key-{model_kind}.json").read_text())
    assert rec["model"]["kind"] == model_kind and set(rec["metrics"]) == {"val", "test"}
    assert (rec["model"]["n_params"] == 0) == (model_kind == "persistence")
    assert math.isfinite(rec["metrics"]["test"]["nrmse"])
    if model_kind == "persistence":  # y is a local average of x: nRMSE of predicting x, by hand
        y, x = data.y["test"], data.x["test"]
        expect = ((x - y).flatten(1).norm(dim=1) / y.flatten(1).norm(dim=1)).mean().item()
        assert rec["metrics"]["test"]["nrmse"] == pytest.approx(expect, rel=1e-4)


def test_plan_records_no_body_for_baselines():
    """Baselines run without a body: the run (and its key) does not depend on --backbone."""
    from xbench.runner import plan

    def sha(spec, n):
        return "0" * 64

    a = plan(["pdebench-burgers"], ["fno", "finetune"], [0], "quick", "minilm", None, {}, sha)
    b = plan(["pdebench-burgers"], ["fno", "finetune"], [0], "quick", "random", None, {}, sha)
    assert [p.run.backbone for p in a] == ["none", "minilm"]
    assert a[0].key == b[0].key and a[1].key != b[1].key
    assert a[0].run.config.lr == 1e-3 and a[0].run.config.optimizer == "adam"


@pytest.mark.parametrize("n", [30, 200])  # fewer samples than input dimensions (Gram) and more (covariance)
def test_ridge_recovers_a_linear_map_and_shrinks_to_the_mean(n):
    from xbench.models.linear import RidgeModel, TrainMeanModel

    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 2, 24, generator=g)
    W = torch.randn(48, 24, generator=g)
    y = (x.reshape(n, -1) @ W + 3.0).reshape(n, 1, 24)
    model = RidgeModel((2, 24), (1, 24))
    model.fit(x, y)
    model.set_lambda(model.lambdas()[-1])  # smallest penalty
    pred = model({"x": x})["y"]
    assert pred.shape == y.shape
    if n > 48:  # determined: exact
        assert torch.allclose(pred, y, atol=1e-3)
        xt = torch.randn(5, 2, 24, generator=g)
        assert torch.allclose(model({"x": xt})["y"], (xt.reshape(5, -1) @ W + 3.0).reshape(5, 1, 24), atol=1e-3)
    else:  # under-determined: interpolates the training set
        assert torch.allclose(pred, y, atol=1e-3)
    model.set_lambda(1e12 * model.lambdas()[0])  # huge penalty: the training mean
    assert torch.allclose(model({"x": x})["y"], y.mean(0, keepdim=True).expand_as(y), atol=1e-3)
    mean = TrainMeanModel((1, 24))
    mean.fit(x, y)
    assert torch.allclose(mean({"x": x[:3]})["y"], y.mean(0, keepdim=True).expand(3, 1, 24), atol=1e-5)


def test_orca_2d_wrapper_resizes_to_224_and_decodes_like_swin_mim(tiny_swin, tiny_backbone):
    """embed_2d=orca: 224^2, patch 4 (3136 tokens), Swin's stages, the MIM decoder to 3 x 224 x 224, then
    the channel pooling and the adaptive pooling back to the input's size (ORCA's wrapper2D)."""
    import torch.nn.functional as F

    from xbench.errors import ConfigError
    from xbench.models.heads import OrcaHead2D

    bb = load_backbone(tiny_swin)
    model = build_model(bb, (1, 64, 64), (1, 64, 64), target_seq_len=64, embed_2d="orca")
    assert model.embedder.p == 4 and model.embedder.grid == (56, 56) and model.embedder.n_tokens == 3136
    assert isinstance(model.head, OrcaHead2D) and model.head.decoder.patch == 8  # 4 x Swin's downsampling 2
    x = torch.randn(2, 1, 64, 64)
    y = model({"x": x})["y"]
    assert y.shape == (2, 1, 64, 64)
    with torch.no_grad():  # the head by hand: decoder image, channel mean, average pooling to 64 x 64
        h = bb.encode(model.embedder(x), model.embedder.grid)
        img = model.head.decoder(h)
        assert img.shape == (2, 3, 224, 224)
        assert torch.allclose(model.head(h), F.adaptive_avg_pool2d(img.mean(1, keepdim=True), (64, 64)), atol=1e-6)
    four = build_model(bb, (4, 64, 64), (4, 64, 64), target_seq_len=64, embed_2d="orca")
    assert four({"x": torch.randn(1, 4, 64, 64)})["y"].shape == (1, 4, 64, 64)
    with pytest.raises(ConfigError, match="Swin body"):  # 3136 tokens do not fit a text body's positions
        build_model(load_backbone(tiny_backbone), (1, 64, 64), (1, 64, 64), target_seq_len=64, embed_2d="orca")


@pytest.mark.slow
def test_reference_bodies_from_their_configs_run_the_paper_models():
    """RoBERTa-base and Swin-base built from their published configurations (random weights) run the
    paper profile's 1D model (512 tokens of 2, ORCA's pooling head) and 2D wrapper (3136 tokens)."""
    import tempfile

    from transformers import RobertaConfig, RobertaModel, SwinConfig, SwinModel

    from xbench.fidelity import body_identity

    with tempfile.TemporaryDirectory() as tmp:
        rob, swin = f"{tmp}/roberta", f"{tmp}/swin"
        RobertaModel(RobertaConfig(vocab_size=50265, max_position_embeddings=514, type_vocab_size=1, pad_token_id=1)
                     ).save_pretrained(rob)
        SwinModel(SwinConfig(embed_dim=128, depths=[2, 2, 18, 2], num_heads=[4, 8, 16, 32], window_size=7,
                             id2label={i: str(i) for i in range(21841)})).save_pretrained(swin)
        assert body_identity(rob, True) == "roberta-base"
        assert body_identity(swin, True) == "swin-base-patch4-window7-224-in22k"
        m1 = build_model(load_backbone(rob), (1, 1024), (1, 1024), target_seq_len=512, dense_head="pool")
        assert m1.embedder.k == 2 and m1.embedder.n_tokens == 512
        assert m1({"x": torch.randn(1, 1, 1024)})["y"].shape == (1, 1, 1024)
        m2 = build_model(load_backbone(swin), (1, 64, 64), (1, 64, 64), target_seq_len=64, embed_2d="orca")
        assert m2.embedder.n_tokens == 3136 and m2.head.decoder.patch == 32
        with torch.no_grad():
            assert m2({"x": torch.randn(1, 1, 64, 64)})["y"].shape == (1, 1, 64, 64)


def test_flattened_channels_read_one_sequence_as_orca_s_1d_cfd(tiny_backbone):
    """channels_1d=flatten: (3, 64) -> one 192-point sequence, patches of 192 / tokens, output (3, 64)."""
    bb = load_backbone(tiny_backbone)
    model = build_model(bb, (3, 64), (3, 64), target_seq_len=16, channels_1d="flatten")
    assert model.embedder.inner.k == 12 and model.embedder.inner.conv.in_channels == 1  # 192 / 16 tokens
    x = torch.randn(2, 3, 64)
    y = model({"x": x})["y"]
    assert y.shape == (2, 3, 64)
    with torch.no_grad():  # the same as the inner modules on the flattened sequence
        flat = model.head.inner(bb.encode(model.embedder.inner(x.reshape(2, 1, 192))))
    assert torch.allclose(model({"x": x})["y"], flat.reshape(2, 3, 64), atol=1e-6)
    stacked = build_model(bb, (3, 64), (3, 64), target_seq_len=16)
    assert stacked.embedder.k == 4 and stacked.embedder.conv.in_channels == 3


def test_a_body_folder_without_vocabulary_falls_back_to_minilm_s_tokenizer(tiny_backbone, tmp_path):
    """A body saved without tokenizer files (random weights from a config) still gets source windows."""
    import shutil

    from xbench.source import _tokenizer

    bare = tmp_path / "bare"
    shutil.copytree(tiny_backbone, bare)
    for f in bare.iterdir():
        if "token" in f.name or f.name in ("vocab.txt", "merges.txt", "vocab.json"):
            f.unlink()
    tok = _tokenizer(load_backbone(str(bare)))
    assert tok("cross-modal", add_special_tokens=False)["input_ids"]
