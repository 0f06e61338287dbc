"""The ten NAS-Bench-360 tasks through the whole harness: small files in each released layout, one
training epoch of a cross-modal method and the cheap baselines, the metrics; missing files,
pickles, conversion and the family's data commands."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from xbench.cli import main
from xbench.metrics import METRICS
from xbench.tasks.nasbench360 import readers
from xbench.tasks.registry import FAMILIES, get_task, list_tasks

SHORTS = ("cifar100", "spherical", "ninapro", "fsd50k", "darcy", "psicov", "cosmic", "ecg", "satellite", "deepsea")
PICKLED = {"cifar100", "spherical", "psicov", "ecg", "satellite"}
ONE_STEP = ["--set", "epochs=1", "--set", "batch_size=4", "--set", "target_seq_len=16", "--set", "align_steps=1",
            "--set", "n_source=16", "--set", "align_maxsamples=4", "--set", "n_classes=2", "--set", "bound_points=4",
            "--set", "bound_fit_points=4", "--no-progress"]


def test_the_ten_tasks_are_registered_with_their_kinds():
    names = {s.name for s in list_tasks() if s.family == "nasbench360"}
    assert names == {f"nb360-{s}" for s in SHORTS}
    assert get_task("nb360-ecg").kind == "classification" and get_task("nb360-deepsea").kind == "multi-label"
    assert get_task("nb360-cosmic").kind == "pixel-binary" and get_task("nb360-darcy").kind == "dense-regression"
    assert get_task("nb360-fsd50k").loss_options == {"pos_weight": 10.0}
    for s in SHORTS:
        spec = get_task(f"nb360-{s}")
        assert all(not METRICS[m].higher_is_better for m in spec.metrics), s
        assert spec.main_metric == spec.metrics[0]
    assert get_task("nb360-ecg").main_metric == "inv_macro_f1_record"  # NAS-Bench-360's record-level F1
    assert get_task("nb360-psicov").main_metric == "mae8"  # each protein's own length, not ORCA's bug


@pytest.mark.parametrize("short", SHORTS)
def test_one_training_epoch_and_the_metrics_on_a_small_released_layout(short, tmp_path, tiny_backbone, capsys):
    root, res = tmp_path / "data", tmp_path / "res"
    readers.write_synthetic(short, root, {"train": 12, "val": 4, "test": 4}, seed=0)
    spec = get_task(f"nb360-{short}")
    methods = ["finetune", "train-mean"] + (["linear"] if short not in ("psicov",) else [])
    code = main(["run", spec.name, "--data-root", str(root), "--results", str(res), "--backbone", tiny_backbone,
                 "--method", *methods, "--set", "n_samples=20", *ONE_STEP,
                 *(["--allow-pickle"] if short in PICKLED else [])])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    scores = pd.read_csv(res / "nasbench360" / "scores.csv")
    assert set(scores["status"]) == {"ok"} and set(scores["method"]) == set(methods)
    main_rows = scores[(scores.split == "test") & scores.is_main.astype(bool)]
    assert set(main_rows["metric"]) == {spec.main_metric}
    assert all(math.isfinite(v) for v in main_rows["value"])
    assert set(scores["data_source"]) == {"generated" if short == "darcy" else "nb360-file"}


@pytest.mark.parametrize("short", sorted(PICKLED))
def test_a_pickle_is_refused_without_the_opt_in_and_converted_once(short, tmp_path, tiny_backbone, capsys):
    root = tmp_path / "data"
    readers.write_synthetic(short, root, {"train": 12, "val": 4, "test": 4}, seed=0)
    args = ["run", f"nb360-{short}", "--data-root", str(root), "--results", str(tmp_path / "res"),
            "--backbone", tiny_backbone, "--method", "train-mean", "--set", "n_samples=20", "--no-progress"]
    assert main(args) != 0
    err = capsys.readouterr().err
    assert "pickle" in err and "--allow-pickle" in err and f"xbench data convert nb360-{short}" in err
    assert main(["data", "convert", f"nb360-{short}", "--data-root", str(root)]) == 0
    capsys.readouterr()
    assert main(args) == 0, capsys.readouterr().err


def test_missing_files_are_named_with_size_source_and_place(tmp_path, capsys):
    code = main(["run", "nb360-ecg", "--data-root", str(tmp_path), "--results", str(tmp_path / "r"),
                 "--method", "train-mean", "--no-progress"])
    err = capsys.readouterr().err
    assert code != 0 and "challenge2017.pkl" in err and "150 MB" in err and "drive.google.com" in err
    assert not (tmp_path / "r" / "nasbench360" / "scores.csv").exists()
    assert main(["data", "info", "nb360-psicov", "--data-root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "protein/deepcov.lst" in out and "ABSENT" in out
    assert FAMILIES["nasbench360"].verify(get_task("nb360-satellite"), tmp_path)[0] == 1


def test_darcy_is_generated_when_absent_and_verified_as_generated(tmp_path, capsys):
    spec = get_task("nb360-darcy")
    from xbench.tasks.datafiles import load_task_data

    params = dict(spec.generator_params)
    object.__setattr__(spec, "generator_params", {**params, "resolution": 85})  # 0.02 s per sample instead of 0.8
    try:
        data = load_task_data(spec, tmp_path, 22)
    finally:
        object.__setattr__(spec, "generator_params", params)
    assert data.data_source == "generated" and data.sizes() == {"train": 18, "val": 2, "test": 2}
    assert data.x["train"].shape[1:] == (3, 85, 85) and data.y["test"].shape[1:] == (1, 85, 85)


def test_a_2d_model_predicts_a_larger_canvas_window_by_window(tiny_backbone):
    import torch

    from xbench.errors import ConfigError
    from xbench.models import build_model, load_backbone

    model = build_model(load_backbone(tiny_backbone), (3, 8, 8), (1, 8, 8), target_seq_len=16).eval()
    x = torch.randn(2, 3, 16, 24)
    with torch.no_grad():
        y = model({"x": x})["y"]
        assert y.shape == (2, 1, 16, 24)
        for i in range(2):
            for j in range(3):
                win = x[:, :, 8 * i:8 * i + 8, 8 * j:8 * j + 8]
                assert torch.allclose(y[:, :, 8 * i:8 * i + 8, 8 * j:8 * j + 8], model({"x": win})["y"], atol=1e-5)
        with pytest.raises(ConfigError, match="multiple"):
            model({"x": torch.randn(1, 3, 12, 8)})
