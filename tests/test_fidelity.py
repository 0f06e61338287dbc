"""Fidelity to the reference code: the parity table, the body's identity, and the runs that deviate."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from test_cli import TINY, run
from xbench.config import resolve
from xbench.fidelity import assess, body_identity, parity_markdown, references, xbench_values
from xbench.methods import get_method
from xbench.tasks.registry import get_task, list_tasks

ROOT = Path(__file__).resolve().parents[1]
ORCA_TASKS = ["pdebench-advection", "pdebench-burgers", "pdebench-diff-react", "pdebench-diff-sorp", "pdebench-cfd1d",
              "pdebench-darcy", "pdebench-shallow-water", "pdebench-diff-react-2d", "pdebench-cfd2d"]


def paper(task: str, method: str, backbone: str = "minilm", **user):
    spec, m = get_task(task), get_method(method)
    cfg = resolve("paper", spec.profile_overrides("paper"), m.overrides, user)
    return spec, m, cfg, xbench_values(spec, m, cfg, backbone, m.align_loss), assess(spec, m, cfg, backbone, m.align_loss)


def config_folder(tmp_path: Path, name: str, config: dict) -> str:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    return str(folder)


ROBERTA = {"model_type": "roberta", "hidden_size": 768, "num_hidden_layers": 12}


def test_parity_table_in_the_docs_is_the_code_s():
    """docs/parity.md is what the code resolves now: a changed paper setting must update the table."""
    assert (ROOT / "docs/parity.md").read_text() == parity_markdown(), "run: python benchmarks/parity_table.py"


def test_every_orca_task_has_references_for_the_three_methods():
    for task in ORCA_TASKS:
        for method in ("orca", "recraft", "pare"):
            refs = references(task, method)
            assert {"lr", "epochs", "batch_size", "optimizer", "body", "tokens", "loss", "train_frame"} <= set(refs)
            assert all(":" in r.source for r in refs.values()), [k for k, r in refs.items() if ":" not in r.source]


def test_paper_settings_of_the_acceptance():
    *_, burgers, _ = paper("pdebench-burgers", "orca")
    assert burgers["tokens"] == 512 and burgers["patch"] == "1 x 2" and burgers["loss"] == "rmse on raw targets"
    _, _, cfg, rec, _ = paper("pdebench-burgers", "recraft")
    assert (cfg.fld_epochs, cfg.fld_maxsamples) == (4, 28)
    *_, darcy, _ = paper("pdebench-darcy", "orca")
    assert darcy["loss"] == "nrmse on raw targets"


def test_body_identity_reads_the_config(tmp_path):
    assert body_identity(config_folder(tmp_path, "rb", ROBERTA), True) == "roberta-base"
    assert body_identity(config_folder(tmp_path, "rb2", ROBERTA), False).endswith("(random weights)")
    swin = {"model_type": "swin", "embed_dim": 128, "depths": [2, 2, 18, 2], "patch_size": 4, "window_size": 7,
            "id2label": {str(i): str(i) for i in range(21841)}}
    assert body_identity(config_folder(tmp_path, "sw", swin), True) == "swin-base-patch4-window7-224-in22k"
    in1k = {**swin, "id2label": {str(i): str(i) for i in range(1000)}}
    assert "in22k" not in body_identity(config_folder(tmp_path, "sw1k", in1k), True)
    assert body_identity("minilm", True).startswith("minilm")


def test_with_the_reference_body_only_the_source_deviates_on_1d_orca(tmp_path):
    body = config_folder(tmp_path, "roberta", ROBERTA)
    for task in ("pdebench-burgers", "pdebench-advection", "pdebench-diff-sorp", "pdebench-diff-react"):
        *_, fid = paper(task, "orca", body)
        assert fid.status == "deviating" and [d["setting"] for d in fid.deviations] == ["source"], task
        assert {c["setting"] for c in fid.choices} <= {"selection", "train_share", "test_frame"}
    for method in ("recraft", "pare"):  # RECRAFT's and PaRe's own settings too, on a 1D task
        *_, fid = paper("pdebench-diff-sorp", method, body)
        assert [d["setting"] for d in fid.deviations] == (["source"] if method == "recraft" else []), method
    *_, fid = paper("pdebench-burgers", "orca", body, lr=1e-4)  # any changed reference setting deviates
    assert {d["setting"] for d in fid.deviations} == {"source", "lr"}
    assert next(d for d in fid.deviations if d["setting"] == "lr")["source"] == "ORCA src/configs/PDEBG.yaml:30"


def test_baselines_are_not_assessed():
    for method in ("linear", "train-mean", "fno"):
        *_, fid = paper("pdebench-burgers", method)
        assert fid.status == "n/a"


def test_ar_tasks_have_no_cross_modal_reference():
    for spec in list_tasks():
        if spec.name.endswith("-ar"):
            assert not references(spec.name, "orca")


def test_deviating_paper_run_is_labelled_and_ranked_apart(burgers_root, tiny_backbone, tmp_path, capsys):
    res = tmp_path / "res"
    args = ["run", "pdebench-burgers", "--profile", "paper", "--method", "finetune", "linear", "--data-root",
            str(burgers_root), "--results", str(res), "--backbone", tiny_backbone, *TINY]
    code, out, err = run(args, capsys)
    assert code == 0, out + err
    assert "fidelity: pdebench-burgers finetune is not" in out and "body" in out  # said before it runs
    scores = pd.read_csv(res / "pdebench/scores.csv", keep_default_na=False)
    assert set(scores.loc[scores.method == "finetune", "fidelity"]) == {"deviating"}
    assert set(scores.loc[scores.method == "linear", "fidelity"]) == {"n/a"}
    key = scores.loc[scores.method == "finetune", "run_key"].iloc[0]
    rec = json.loads((res / f"pdebench/runs/{key}.json").read_text())
    devs = {d["setting"] for d in rec["fidelity"]["deviations"]}
    assert {"body", "n_samples", "epochs", "tokens"} <= devs
    code, out, _ = run(["report", "--results", str(res)], capsys)
    board = pd.read_csv(res / "leaderboard.csv").set_index("method")
    assert board.loc["finetune", "rank"] == 1 and board.loc["linear", "rank"] == 1  # two rankings
    code, out, _ = run(["config", "pdebench-burgers", "--method", "orca", "--profile", "paper", "--backbone", "minilm"],
                       capsys)
    assert code == 0 and "tokens                 512" in out and "fidelity: deviating" in out
    assert "ORCA src/configs/PDEBG.yaml:9" in out  # the body's deviation, with the line of ORCA's config


def test_the_paper_profile_defaults_to_the_reference_bodies(capsys):
    code, out, _ = run(["config", "pdebench-darcy", "--method", "orca", "--profile", "paper"], capsys)
    assert code == 0 and "body                   swin-base-patch4-window7-224-in22k" in out
    assert "tokens                 3136" in out and "resize                 224 x 224" in out
    devs = [line.split()[0] for line in out.split("fidelity:")[1].splitlines()[1:] if line.startswith("  ")]
    assert devs[: devs.index("selection") if "selection" in devs else None] == ["source"]  # CIFAR-10 is not here
    code, out, _ = run(["config", "pdebench-burgers", "--method", "recraft", "--profile", "paper"], capsys)
    assert "body                   roberta-base" in out and "fld_epochs             4" in out
    assert "fld_maxsamples         28" in out and "loss                   rmse on raw targets" in out
    code, out, err = run(["run", "pdebench-burgers", "--profile", "paper", "--method", "orca"], capsys)
    assert code == 2 and "reference code's body, roberta-base" in err and "--backbone minilm" in err


def test_paper_plan_says_what_it_will_generate_and_refuses_a_full_disk(tmp_path, monkeypatch):
    import shutil

    import pytest

    from xbench.errors import ConfigError
    from xbench.preflight import paper_plan

    lines = paper_plan([get_task("pdebench-cfd2d")], {}, tmp_path)
    assert "10000-sample file" in lines[0] and "55.0 GB" in lines[0] and "200 epochs" in lines[0]
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage._replace(free=10**9))
    with pytest.raises(ConfigError, match="55.0 GB"):
        paper_plan([get_task("pdebench-cfd2d")], {}, tmp_path)
    assert not any(tmp_path.iterdir())  # nothing written
