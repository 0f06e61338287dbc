"""The command line end to end on tiny data, and every user error it must report cleanly."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import smooth_fields, write_tensor_file
from xbench.cli import main
from xbench.results import SCORE_COLUMNS

BURGERS = "1D/Burgers/Train/1D_Burgers_Sols_Nu1.0.hdf5"
TINY = ["--set", "n_samples=40", "--set", "epochs=2", "--set", "batch_size=8", "--set", "target_seq_len=16",
        "--set", "align_steps=2", "--set", "n_source=40", "--set", "align_maxsamples=8", "--set", "n_classes=3",
        "--no-progress", "--allow-unverified-data"]  # the tiny 'real' files are not PDEBench's (MD5 differs)


def run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_end_to_end_tiny(burgers_root, tiny_backbone, tmp_path, capsys):
    res = tmp_path / "res"
    args = ["run", "pdebench-burgers", "--data-root", str(burgers_root), "--results", str(res),
            "--backbone", tiny_backbone, *TINY]
    code, out, err = run(args, capsys)
    assert code == 0, out + err
    scores = pd.read_csv(res / "pdebench/scores.csv")
    # by default the cheap baselines run first, so the table shows what "learned nothing" scores
    assert set(scores["method"]) == {"train-mean", "linear", "input-mean", "persistence", "scratch", "finetune", "orca"}
    assert "beats" in out and "settings_hash" in out and "learned nothing" in out
    assert set(scores["status"]) == {"ok"} and set(scores["split"]) == {"val", "test"}
    assert set(scores["metric"]) == {"nrmse", "pdebench_nrmse", "pdebench_rmse", "pdebench_crmse", "pdebench_brmse",
                                     "pdebench_max", "pdebench_frmse_low", "pdebench_frmse_mid", "pdebench_frmse_high"}
    assert (scores["data_source"] == "pdebench-file-unverified").all() and scores["data_sha256"].str.len().eq(64).all()
    assert np.isfinite(scores["value"]).all()
    curves = pd.read_csv(res / "pdebench/curves.csv")
    orca_key = scores.loc[scores.method == "orca", "run_key"].iloc[0]
    assert (curves[curves.run_key == orca_key]["quantity"] == "align_otdd").sum() == 2
    rec = json.loads((res / f"pdebench/runs/{orca_key}.json").read_text())
    assert rec["status"] == "ok" and rec["run"]["config"]["epochs"] == 2 and rec["data"]["splits"]["test"] == 4
    # the checkpoint is the best validation epoch: its val score is the minimum of the val curve
    val_curve = curves[(curves.run_key == orca_key) & (curves.phase == "fit") & (curves.quantity == "nrmse")]["value"]
    val_score = scores[(scores.run_key == orca_key) & (scores.split == "val") & (scores.metric == "nrmse")]["value"]
    assert val_score.item() == pytest.approx(val_curve.min(), rel=1e-4)
    assert "| 1 " in out and "orca" in out
    # re-running skips every finished run and writes nothing new
    before = (res / "pdebench/scores.csv").read_text()
    code, out, _ = run(args, capsys)
    assert code == 0 and out.count("already finished, skipped") == 7
    assert (res / "pdebench/scores.csv").read_text() == before
    assert not list((res / "pdebench/runs").glob("*.started.json"))  # every finished run removed its marker
    # a run killed from outside leaves its marker, and the report names it
    from xbench.results import ResultStore

    store = ResultStore(res / "pdebench")
    store.claim("deadbeef", {"task": "pdebench-burgers", "method": "orca", "seed": 7})
    store.release("deadbeef")
    code, out, err = run(["report", "--results", str(res), "--out", str(tmp_path / "rep")], capsys)
    assert code == 0 and "deadbeef" in err and "killed" in err and "seed 7" in err  # warnings go to stderr
    assert "deadbeef" not in out and (tmp_path / "rep/leaderboard.md").exists()


def test_nan_loss_is_recorded_as_failed(burgers_root, tiny_backbone, tmp_path, capsys):
    res = tmp_path / "res"
    code, out, err = run(["run", "pdebench-burgers", "--method", "finetune", "--data-root", str(burgers_root),
                          "--results", str(res), "--backbone", tiny_backbone, *TINY,
                          "--set", "lr=1e30", "--set", "clip=none", "--set", "optimizer=sgd"], capsys)
    assert code == 1
    scores = pd.read_csv(res / "pdebench/scores.csv")
    assert list(scores["status"]) == ["failed"] and np.isnan(scores["value"]).all()
    rec = json.loads(next((res / "pdebench/runs").glob("*.json")).read_text())
    assert "NonFiniteLossError" in rec["error"] and "FAILED" in out


def test_unknown_task_suggests(tmp_path, capsys):
    code, out, err = run(["run", "pdebench-burger", "--results", str(tmp_path / "r")], capsys)
    assert code == 2 and "Did you mean 'pdebench-burgers'" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("setting,needle", [("lr=-1", "lr"), ("epochz=3", "epochs"), ("batch_size=x", "number"),
                                            ("optimizer=lion", "adam")])
def test_bad_settings(setting, needle, capsys):
    code, _, err = run(["run", "pdebench-burgers", "--set", setting], capsys)
    assert code == 2 and needle in err


def test_unknown_method_and_align_loss(capsys):
    code, _, err = run(["run", "pdebench-burgers", "--method", "orka"], capsys)
    assert code == 2 and "'orca'" in err
    code, _, err = run(["run", "pdebench-burgers", "--align-loss", "otd"], capsys)
    assert code == 2 and "'otdd'" in err


def test_missing_backbone_fails_fast(burgers_root, tmp_path, capsys):
    code, _, err = run(["run", "pdebench-burgers", "--method", "finetune", "--backbone", "no-such/model",
                        "--data-root", str(burgers_root), "--results", str(tmp_path / "r"), *TINY], capsys)
    # bad input: exit 2 before anything runs or is recorded, with the message that says what to do
    assert code == 2 and "never downloads" in err and "Traceback" not in err
    assert not (tmp_path / "r/pdebench").exists()


def _prior_results(tmp_path):
    res = tmp_path / "res/pdebench"
    res.mkdir(parents=True)
    (res / "scores.csv").write_text(",".join(SCORE_COLUMNS) + "\n")
    return res / "scores.csv"


@pytest.mark.parametrize("damage,needle", [
    ("garbage", "not a readable HDF5"),
    ("no-tensor", "lacks the dataset"),
    ("wrong-cells", "expects 1024"),
    ("nan", "NaN"),
    ("short-time", "frame"),
])
def test_bad_data_files(damage, needle, tmp_path, capsys):
    root = tmp_path / "data"
    path = root / BURGERS
    if damage == "garbage":
        path.parent.mkdir(parents=True)
        path.write_bytes(b"\x89HDF\r\n" + b"x" * 100)
    elif damage == "no-tensor":
        path.parent.mkdir(parents=True)
        with h5py.File(path, "w") as f:
            f["data"] = np.zeros((4, 3))
    elif damage == "wrong-cells":
        write_tensor_file(path, smooth_fields(40, 201, 512))
    elif damage == "nan":
        arr = smooth_fields(40, 201, 1024)
        arr[7, 200, 3] = np.nan
        write_tensor_file(path, arr)
    else:
        write_tensor_file(path, smooth_fields(40, 101, 1024))
    prior = _prior_results(tmp_path)
    code, out, err = run(["run", "pdebench-burgers", "--data-root", str(root), "--results",
                          str(tmp_path / "res"), *TINY], capsys)
    assert code == 2, out + err
    assert needle in err and str(path) in err and "Traceback" not in err
    assert prior.read_text() == ",".join(SCORE_COLUMNS) + "\n"


def test_ls_and_data_info(burgers_root, capsys):
    code, out, _ = run(["ls", "tasks"], capsys)
    assert code == 0 and "pdebench-burgers" in out
    code, out, _ = run(["ls", "methods"], capsys)
    assert code == 0 and "align(otdd) -> fit" in out and "train-mean" in out and "linear " in out
    code, out, _ = run(["data", "info", "pdebench-burgers", "--data-root", str(burgers_root)], capsys)
    assert code == 0 and "40 samples x 201 frames x 1024 cells" in out


def test_data_card(burgers_root, tmp_path, capsys):
    path = tmp_path / "card.json"
    code, out, err = run(["data", "card", "pdebench-burgers", "--data-root", str(burgers_root), "--n-samples", "40",
                          "--allow-unverified-data", "--json", str(path)], capsys)
    assert code == 0, out + err
    card = json.loads(path.read_text())
    assert card["samples"] == 40 and card["distinct_inputs"] == 40 and card["test_exact_twins"] == 0
    assert {"train-mean", "linear", "input-mean", "persistence", "nearest-train"} <= set(card["scores"])
    assert 0 <= card["linear_r2"] <= 1 and "R^2 of linear" in out


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "examples:" in capsys.readouterr().out


def test_new_data_file_means_new_runs(burgers_root, tiny_backbone, tmp_path, capsys):
    """Replacing the data file (e.g. the real file instead of generated data) never reuses finished runs."""
    res = tmp_path / "res"
    args = ["run", "pdebench-burgers", "--method", "finetune", "--data-root", str(burgers_root), "--results",
            str(res), "--backbone", tiny_backbone, *TINY]
    assert run(args, capsys)[0] == 0
    write_tensor_file(burgers_root / BURGERS, smooth_fields(40, 201, 1024, seed=9), attrs={"Nu": 1.0})
    code, out, _ = run(args, capsys)
    assert code == 0 and "skipped" not in out
    scores = pd.read_csv(res / "pdebench/scores.csv")
    assert scores["run_key"].nunique() == 2 and scores["data_sha256"].nunique() == 2


def test_linear_probe_keeps_body_frozen_and_mmd_align_runs(burgers_root, tiny_backbone, tmp_path, capsys):
    import torch

    from xbench.data import TaskData  # noqa: F401
    from xbench.methods import get_method
    from xbench.models import build_model, load_backbone
    from xbench.tasks.datafiles import load_task_data
    from xbench.tasks.registry import get_task
    from xbench.phasekinds import run_phases
    from xbench.train import Trainer
    from xbench.config import resolve

    spec = get_task("pdebench-burgers")
    cfg = resolve("quick", {}, {}, {"n_samples": 40, "epochs": 1, "batch_size": 8, "target_seq_len": 16})
    data = load_task_data(spec, burgers_root, 40, progress=False, allow_unverified=True)
    model = build_model(load_backbone(tiny_backbone), spec.input_shape, spec.output_shape, cfg.target_seq_len)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    run_phases(Trainer(model, data, spec, cfg, torch.device("cpu"), 0), get_method("linear-probe").phases, "none", None)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("body."))
    assert not all(torch.equal(before[k], after[k]) for k in before if k.startswith("head."))
    res = tmp_path / "res"
    code, out, err = run(["run", "pdebench-burgers", "--method", "mmd-align", "--data-root", str(burgers_root),
                          "--results", str(res), "--backbone", tiny_backbone, *TINY], capsys)
    assert code == 0, out + err
    curves = pd.read_csv(res / "pdebench/curves.csv")
    assert (curves["quantity"] == "align_mmd").sum() == 2


def test_two_runs_differing_in_one_setting_are_two_leaderboard_rows(burgers_root, tmp_path, capsys):
    res = tmp_path / "res"
    base = ["run", "pdebench-burgers", "--data-root", str(burgers_root), "--results", str(res), "--method", "fno",
            "--set", "n_samples=40", "--set", "batch_size=8", "--no-progress", "--allow-unverified-data"]
    for epochs in ("1", "2"):
        code, out, err = run([*base, "--set", f"epochs={epochs}"], capsys)
        assert code == 0, out + err
    code, out, _ = run(["report", "--results", str(res)], capsys)
    board = pd.read_csv(res / "leaderboard.csv")
    assert code == 0 and len(board) == 2 and board["settings_hash"].nunique() == 2
    assert set(board["settings"]) == {"batch_size=8;epochs=1;n_samples=40", "batch_size=8;epochs=2;n_samples=40"}
