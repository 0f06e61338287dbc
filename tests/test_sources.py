"""The reference protocols' source data from disk: ORCA's text features and CIFAR-10 in its binary layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from test_cli import TINY, run
from xbench.errors import ConfigError
from xbench.source_files import (orca_text_reference, read_cifar10, resolve_source, source_files,
                                 source_sha256)


def write_cifar_bin(root, per_batch=3, seed=0):
    """CIFAR-10's binary distribution: 5 files of records [label byte, R plane, G plane, B plane]."""
    rng = np.random.default_rng(seed)
    folder = root / "sources" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    images, labels = [], []
    for i in range(1, 6):
        img = rng.integers(0, 256, (per_batch, 32, 32, 3), dtype=np.uint8)
        lab = rng.integers(0, 10, per_batch, dtype=np.uint8)
        rec = np.concatenate([lab[:, None], img.transpose(0, 3, 1, 2).reshape(per_batch, -1)], axis=1)
        rec.astype(np.uint8).tofile(folder / f"data_batch_{i}.bin")
        images.append(img)
        labels.append(lab)
    return np.concatenate(images), np.concatenate(labels)


def write_orca_text(root, n=30, tokens=32, d=32, seed=0):
    rng = np.random.default_rng(seed)
    folder = root / "sources" / "orca-text"
    folder.mkdir(parents=True)
    xs, ys = rng.normal(size=(n, tokens, d)).astype(np.float32), rng.integers(0, 9, n)
    np.save(folder / "text_xs_32.npy", xs)
    np.save(folder / "text_ys_32.npy", ys)
    return xs, ys


def test_cifar10_binary_and_numpy_layouts_read_the_same_images(tmp_path):
    images, labels = write_cifar_bin(tmp_path / "bin")
    x, y = read_cifar10(tmp_path / "bin", 7)
    assert x.shape == (7, 32, 32, 3) and np.array_equal(x, images[:7]) and np.array_equal(y, labels[:7])
    (tmp_path / "npz" / "sources").mkdir(parents=True)
    np.savez(tmp_path / "npz" / "sources" / "cifar10.npz", x=images, y=labels)
    x2, y2 = read_cifar10(tmp_path / "npz", 7)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)


def test_orca_text_features_are_token_means(tmp_path):
    xs, ys = write_orca_text(tmp_path)
    feats, labels = orca_text_reference(tmp_path, 20)
    assert feats.shape == (20, 32) and torch.allclose(feats, torch.as_tensor(xs[:20]).mean(1))
    assert labels.tolist() == ys[:20].tolist()


def test_auto_takes_the_reference_source_only_where_its_files_are(tmp_path):
    assert resolve_source("auto", "1d", tmp_path) == "text" == resolve_source("auto", "2d", tmp_path)
    write_orca_text(tmp_path)
    assert resolve_source("auto", "1d", tmp_path) == "orca-text" and resolve_source("auto", "2d", tmp_path) == "text"
    write_cifar_bin(tmp_path)
    assert resolve_source("auto", "2d", tmp_path) == "cifar10"
    assert len(source_sha256("cifar10", tmp_path)) == 64 and source_sha256("text", tmp_path) == ""
    with pytest.raises(ConfigError, match="never downloads"):
        source_sha256("orca-text", tmp_path / "elsewhere")
    assert source_files("cifar10", tmp_path / "elsewhere") == []


def test_cifar10_reference_through_a_swin_patch_embedding(tmp_path):
    from transformers import SwinConfig, SwinModel

    from xbench.source_files import cifar10_reference

    write_cifar_bin(tmp_path)
    swin = SwinModel(SwinConfig(embed_dim=8, depths=[1], num_heads=[1], window_size=4, image_size=32, patch_size=4))
    feats, labels = cifar10_reference(swin.embeddings, tmp_path, 6)
    assert feats.shape == (6, 8) and labels.shape == (6,) and torch.isfinite(feats).all()
    assert not torch.allclose(feats[0], feats[1])  # different images, different features


def test_a_run_on_orca_s_text_source_is_another_run(burgers_root, tiny_backbone, tmp_path, capsys):
    write_orca_text(burgers_root, d=32)  # the tiny body is 32 wide, as RoBERTa's features are 768 for RoBERTa
    res = tmp_path / "res"
    base = ["run", "pdebench-burgers", "--method", "orca", "--data-root", str(burgers_root), "--results", str(res),
            "--backbone", tiny_backbone, *TINY]
    for source in ("text", "orca-text"):
        code, out, err = run([*base, "--set", f"source={source}"], capsys)
        assert code == 0, out + err
    scores = pd.read_csv(res / "pdebench/scores.csv", keep_default_na=False)
    assert scores["run_key"].nunique() == 2 and scores["settings"].str.contains("source=orca-text").any()
    code, out, err = run([*base, "--set", "source=cifar10"], capsys)
    assert code == 2 and "cifar-10-batches-bin" in err  # its files are not there: said before anything runs


def test_orca_on_a_2d_task_the_paper_way(tmp_path, capsys):
    """The paper profile's 2D protocol end to end on tiny stand-ins: a Swin body, ORCA's 2D wrapper (3136
    tokens), CIFAR-10 as the source (binary layout), OTDD alignment, fine-tuning; recorded with its fidelity."""
    import json

    from transformers import SwinConfig, SwinModel

    torch.manual_seed(0)
    swin = tmp_path / "tiny-swin"
    SwinModel(SwinConfig(embed_dim=8, depths=[1, 1], num_heads=[1, 2], window_size=7, image_size=224, patch_size=4,
                         mlp_ratio=2.0)).save_pretrained(swin)
    root = tmp_path / "data"
    write_cifar_bin(root, per_batch=6)
    res = tmp_path / "res"
    code, out, err = run(["run", "pdebench-darcy", "--profile", "paper", "--method", "orca", "--backbone", str(swin),
                          "--data-root", str(root), "--results", str(res), "--no-progress", "--set", "n_samples=20",
                          "--set", "epochs=1", "--set", "batch_size=8", "--set", "align_steps=2", "--set",
                          "n_source=30", "--set", "align_maxsamples=8", "--set", "n_classes=3", "--set",
                          "bound_points=8", "--set", "source_head_epochs=2"], capsys)
    assert code == 0, out + err
    rec = json.loads(next((res / "pdebench/runs").glob("*.json")).read_text())
    assert rec["status"] == "ok" and rec["run"]["config"]["source"] == "cifar10" and rec["run"]["source_sha256"]
    devs = {d["setting"] for d in rec["fidelity"]["deviations"]}
    assert {"tokens", "resize", "head", "patch", "align_loss"}.isdisjoint(devs), devs
    src = next(d for d in rec["fidelity"]["deviations"] if d["setting"] == "source")  # 30 images, not 5000
    assert src["xbench"] == "CIFAR-10 training images (30), Swin patch features"
    curves = pd.read_csv(res / "pdebench/curves.csv")
    assert (curves["quantity"] == "align_otdd").sum() == 2
