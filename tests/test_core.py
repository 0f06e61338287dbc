"""Registry, splits, config, metrics and model shapes."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from xbench.config import TrainConfig, parse_overrides, resolve
from xbench.data import UnitGaussianNormalizer, split_indices
from xbench.errors import ConfigError
from xbench.metrics import compute_metrics
from xbench.models.embedders import Embedder1D, stack_num
from xbench.models.heads import DenseHead1D
from xbench.tasks.registry import get_task


def test_unknown_task_suggests_closest():
    with pytest.raises(ConfigError, match="pdebench-burgers"):
        get_task("pdebench-burger")


def test_burgers_spec_is_orca_protocol():
    s = get_task("pdebench-burgers")
    assert s.input_shape == s.output_shape == (1, 1024)
    assert s.protocol["target_frame"] == 200 and s.protocol["target_time"] == 2.0
    assert s.split["test_position"] == "first" and s.main_metric == "nrmse"


@pytest.mark.parametrize("n", [10, 100, 320, 10000])
def test_split_sizes_first(n):
    idx = split_indices(n)
    assert len(idx["test"]) == int(0.1 * n)
    assert idx["test"].tolist() == list(range(int(0.1 * n)))  # PDEBench: first 10 % is test
    rest = n - int(0.1 * n)
    assert len(idx["val"]) == max(1, round(0.1 * rest)) and len(idx["train"]) + len(idx["val"]) == rest
    allidx = np.concatenate([idx["train"], idx["val"], idx["test"]])
    assert sorted(allidx.tolist()) == list(range(n))


def test_split_last_and_too_small():
    idx = split_indices(100, test_position="last")
    assert idx["test"].tolist() == list(range(90, 100))
    with pytest.raises(ConfigError, match="too few"):
        split_indices(3)


def test_config_resolution_and_bad_values():
    cfg = resolve("paper", {"lr": 1e-5}, {}, {"epochs": 30})
    assert cfg.lr == 1e-5 and cfg.epochs == 30 and cfg.lr_decay_epochs == 30 and cfg.n_samples is None and cfg.align_steps == 60
    assert parse_overrides(["lr=0.01", "n_samples=none", "clip=none"]) == {"lr": 0.01, "n_samples": None, "clip": None}
    with pytest.raises(ConfigError, match="epochs"):
        parse_overrides(["epoch=3"])
    with pytest.raises(ConfigError, match="lr"):
        TrainConfig(lr=-1.0)
    with pytest.raises(ConfigError, match="number"):
        parse_overrides(["lr=fast"])
    with pytest.raises(ConfigError, match="quick"):
        resolve("quik", {}, {}, {})
    with pytest.raises(ConfigError, match="warmup-linear or step"):
        TrainConfig(schedule="cosine")


def test_lr_schedules_per_optimizer_step():
    from xbench.train import lr_factor

    warm = lr_factor(TrainConfig(epochs=4, warmup_epochs=1), steps_per_epoch=10)
    assert [warm(s) for s in (0, 9, 10, 25, 40)] == [0.1, 1.0, 1.0, 0.5, 0.0]
    step = lr_factor(TrainConfig(schedule="step", step_epochs=2, step_gamma=0.5), steps_per_epoch=10)
    assert [step(s) for s in (0, 19, 20, 39, 40, 65)] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.125]  # PDEBench's StepLR


def test_normalizer_round_trip():
    g = torch.Generator().manual_seed(0)
    t = torch.randn(20, 2, 64, generator=g) * torch.tensor([3.0, 0.1]).view(1, 2, 1) + 5
    n = UnitGaussianNormalizer(t)
    e = n.encode(t)
    assert torch.allclose(e.mean(dim=(0, 2)), torch.zeros(2), atol=1e-5)
    assert torch.allclose(e.std(dim=(0, 2)), torch.ones(2), atol=1e-2)
    assert torch.allclose(n.decode(e), t, atol=1e-5)


def test_metrics_by_hand():
    y = torch.tensor([[[3.0, 4.0]], [[1.0, 0.0]]])  # (B=2, C=1, L=2)
    p = torch.tensor([[[3.0, 5.0]], [[0.0, 0.0]]])
    m = compute_metrics(("nrmse", "pdebench_nrmse", "pdebench_rmse"), p, y)
    # sample 0: |d| = 1, |y| = 5 -> 0.2; sample 1: |d| = 1, |y| = 1 -> 1.0
    assert m["nrmse"] == pytest.approx(0.6)
    assert m["pdebench_nrmse"] == pytest.approx(0.6)  # one channel: equal to ORCA's
    assert m["pdebench_rmse"] == pytest.approx((math.sqrt(0.5) + math.sqrt(0.5)) / 2)
    m0 = compute_metrics(("nrmse", "pdebench_rmse"), y, y)
    assert m0["nrmse"] == 0 and m0["pdebench_rmse"] == 0


def test_multichannel_nrmse_differs_from_pdebench():
    y = torch.tensor([[[1.0, 1.0], [10.0, 10.0]]])
    p = torch.tensor([[[2.0, 2.0], [10.0, 10.0]]])
    m = compute_metrics(("nrmse", "pdebench_nrmse"), p, y)
    assert m["pdebench_nrmse"] == pytest.approx(0.5)  # channel 0: 1.0, channel 1: 0
    assert m["nrmse"] == pytest.approx(math.sqrt(2) / math.sqrt(202))


@pytest.mark.parametrize("length,tsl,k", [(1024, 128, 8), (1024, 32, 32), (1024, 1000, 2), (46, 512, 1), (1000, 64, 20)])
def test_stack_num_rule(length, tsl, k):
    assert stack_num(length, tsl) == k


def test_embedder_and_head_shapes():
    emb = Embedder1D(3, 1024, 48, target_seq_len=32, max_positions=512)
    x = torch.randn(5, 3, 1024)
    h = emb(x)
    assert h.shape == (5, 32, 48)
    head = DenseHead1D(48, 2, emb.k)
    assert head(h).shape == (5, 2, 1024)
    with pytest.raises(ConfigError, match="positions"):
        Embedder1D(1, 1024, 16, target_seq_len=1024, max_positions=512)


def test_head_patch_order():
    """Token t's outputs land on positions t*k .. t*k+k-1 of the field."""
    head = DenseHead1D(4, 1, 3)
    with torch.no_grad():
        head.proj.weight.zero_()
        head.proj.bias.copy_(torch.tensor([0.0, 1.0, 2.0]))
    h = torch.zeros(1, 2, 4)
    assert head(h).flatten().tolist() == [0.0, 1.0, 2.0, 0.0, 1.0, 2.0]


def test_missing_file_of_a_task_xbench_cannot_generate(tmp_path):
    from xbench.errors import DataError
    from xbench.tasks.datafiles import locate

    spec = dataclasses.replace(get_task("pdebench-burgers"), generator=None)
    with pytest.raises(DataError, match="cannot generate") as e:
        locate(spec, tmp_path, 40)
    assert str(tmp_path / spec.data.path) in str(e.value) and "--data-root" in str(e.value)


def test_generated_data_is_stored_per_generator_version(tmp_path, monkeypatch):
    """A changed solver (new GENERATOR_VERSION) writes a new file and never reuses or overwrites the old one."""
    from xbench.tasks.datafiles import ensure_generated, generated_path
    from xbench.tasks.pdebench import generate

    spec = get_task("pdebench-advection")
    small = dict(spec.generator_params, n_frames=3, nx=64, t_final=0.02)
    spec = dataclasses.replace(spec, generator_params=small)
    old = ensure_generated(spec, tmp_path, 4, progress=False)
    assert old == tmp_path / "generated" / generate.GENERATOR_VERSION / "n4" / spec.data.path
    stamp = old.stat().st_mtime_ns
    assert ensure_generated(spec, tmp_path, 4, progress=False) == old and old.stat().st_mtime_ns == stamp
    monkeypatch.setattr(generate, "GENERATOR_VERSION", "xbench-fv1d-test")
    new = ensure_generated(spec, tmp_path, 4, progress=False)
    assert new == generated_path(spec, tmp_path, 4) != old and "xbench-fv1d-test" in new.parts
    assert new.exists() and old.stat().st_mtime_ns == stamp


def test_random_backbone_has_the_architecture_without_the_weights(tiny_backbone):
    from xbench.models import load_backbone

    pre = load_backbone(tiny_backbone)
    rnd = load_backbone(f"random:{tiny_backbone}", seed=1)
    assert pre.pretrained and not rnd.pretrained and pre.hidden_size == rnd.hidden_size == 32
    w_pre = dict(pre.encoder.named_parameters())
    w_rnd = dict(rnd.encoder.named_parameters())
    assert w_pre.keys() == w_rnd.keys()
    name = next(k for k in w_pre if k.endswith("query.weight"))
    assert not torch.equal(w_pre[name], w_rnd[name])
    assert pre.identity != rnd.identity


def test_advection_loader_strides_to_orca_resolution(tmp_path):
    import h5py

    from conftest import smooth_fields, write_tensor_file
    from xbench.tasks.datafiles import load_task_data

    spec = get_task("pdebench-advection")
    arr = smooth_fields(30, 201, 1024, seed=2)
    path = write_tensor_file(tmp_path / spec.data.path, arr, attrs={"beta": 0.4})
    data = load_task_data(spec, tmp_path, None, progress=False, allow_unverified=True)
    assert data.x["train"].shape[1:] == data.y["test"].shape[1:] == (1, 256)
    assert data.sizes() == {"train": 24, "val": 3, "test": 3} and data.data_source == "pdebench-file-unverified"
    with h5py.File(path) as f:
        first = f["tensor"][0]
    assert np.allclose(data.x["test"][0, 0].numpy(), first[0, ::4])  # test = FIRST 10 %
    assert np.allclose(data.y["test"][0, 0].numpy(), first[200, ::4])


def test_run_keys_and_settings_hash():
    """A setting added with its old behaviour as default keeps every existing run key; a cosmetic
    setting changes neither key nor hash; a result-changing one changes both."""
    import dataclasses

    from xbench.config import ADDED_SETTINGS, RunSpec, TrainConfig, settings_diff, settings_hash
    from xbench.results import run_key

    def spec(cfg):
        return RunSpec("t", 1, "m", 1, "b", "none", "quick", 0, "sha", cfg)

    cfg = TrainConfig(**ADDED_SETTINGS)
    before = spec(cfg).as_dict()  # the dict xbench hashed before the added settings existed
    for k in [*ADDED_SETTINGS, "eval_batch_size"]:
        del before["config"][k]
    del before["source_sha256"]  # added later too: empty for xbench's own text source
    assert run_key(spec(cfg).key_dict()) == run_key(before)
    other_source = dataclasses.replace(spec(cfg), source_sha256="ab" * 32)
    assert run_key(other_source.key_dict()) != run_key(before)
    raw = dataclasses.replace(cfg, loss_space="raw")
    assert run_key(spec(raw).key_dict()) != run_key(before)
    cosmetic = dataclasses.replace(cfg, eval_batch_size=cfg.eval_batch_size * 2)
    assert run_key(spec(cosmetic).key_dict()) == run_key(spec(cfg).key_dict())
    assert settings_hash(1, cosmetic) == settings_hash(1, cfg) != settings_hash(2, cfg)
    more = dataclasses.replace(cfg, epochs=cfg.epochs + 7)
    assert settings_hash(1, more) != settings_hash(1, cfg)
    assert settings_diff(more, cfg) == f"epochs={cfg.epochs + 7}" and settings_diff(cfg, cfg) == ""
    assert settings_hash(1, more, reads=("n_samples",)) == settings_hash(1, cfg, reads=("n_samples",))


def test_grouped_split_keeps_every_group_in_one_split():
    from xbench.data import input_groups

    g = torch.Generator().manual_seed(0)
    fields = torch.randn(30, 1, 8, generator=g)
    x = fields[torch.randint(30, (200,), generator=g)]  # 200 samples, at most 30 distinct inputs
    groups = input_groups(x)
    assert len(np.unique(groups)) == len(torch.unique(x.flatten(1), dim=0))
    idx = split_indices(200, test_position="last", groups=groups)
    assert sorted(np.concatenate(list(idx.values())).tolist()) == list(range(200))
    owner = {}
    for split, members in idx.items():
        for grp in np.unique(groups[members]):
            assert owner.setdefault(grp, split) == split  # no group in two splits: no train/test twins
    assert len(idx["test"]) > 0 and len(idx["val"]) > 0
