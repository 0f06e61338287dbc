"""The methods x tasks summary: ranks across tasks, missing cells, fidelity apart, LaTeX and published rows."""

from __future__ import annotations

import pandas as pd
import pytest

from test_results import _row
from xbench.report.leaderboard import leaderboard
from xbench.report.summary import protocol_line, summary_tables, to_frame, to_latex, to_markdown


def scores(profile="cpu", fidelity=""):
    rows = []
    values = {"t1": {"a": (0.1, 0.12), "b": (0.2, 0.22), "c": (0.3, 0.32)},
              "t2": {"a": (0.5, 0.52), "b": (0.4, 0.42)}}  # c has no result on t2
    for task, by_method in values.items():
        for method, vals in by_method.items():
            for seed, v in enumerate(vals):
                r = _row(f"{task}{method}{seed}", method, seed, v)
                r.update(task=task, profile=profile, fidelity=fidelity, data_sha256=f"d-{task}",
                         created_at=f"2026-12-0{seed + 1}")
                rows.append(r)
    return pd.DataFrame(rows)


def test_ranks_borda_and_missing_cells():
    s = scores()
    (name, table), = summary_tables(leaderboard(s), s).items()
    t = table.set_index("method")
    assert name == "cpu" and list(table["method"]) == ["a", "b", "c"]
    assert t.loc["a", "avg_rank"] == pytest.approx(1.5) and t.loc["b", "avg_rank"] == pytest.approx(1.5)
    assert t.loc["a", "borda"] == 2 and t.loc["b", "borda"] == 2 and t.loc["c", "borda"] == 0  # groups beaten per task
    assert t.loc["c", "t2"] is None and t.loc["c", "tasks"] == 1
    assert t.loc["a", "t1"] == (pytest.approx(0.11), pytest.approx(0.01 * 2 ** 0.5))
    md = to_markdown(table, protocol_line(s, "cpu"))
    assert "| c (b) | 0.31 +- 0.0141 | - |" in md and "profile cpu" in md and "never the test split" in md
    csv = to_frame(table, "p")
    assert {"t1_mean", "t1_std", "t2_mean", "protocol"} <= set(csv.columns) and csv["t2_mean"].isna().sum() == 1


def test_latex_marks_best_and_second_and_keeps_published_rows_apart():
    s = scores()
    table = summary_tables(leaderboard(s), s)["cpu"]
    pub = pd.DataFrame([{"task": "t1", "method": "ORCA", "value": 0.05, "source": "x", "note": ""}])
    tex = to_latex(table, "protocol", pub)
    body = tex.split(r"\midrule")[1]
    rows = [line for line in body.splitlines() if line.endswith(r"\\")]
    assert all(line.count("&") == 4 for line in rows)  # method, 2 tasks, avg rank, Borda
    assert r"\textbf{0.11 $\pm$ 0.0141}" in tex and r"\underline{0.21 $\pm$ 0.0141}" in tex
    assert r"\textbf{0.41 $\pm$ 0.0141}" in tex  # t2: b is best
    published = tex.split(r"\midrule")[2]
    assert "ORCA (published)" in published and r"\textbf" not in published  # never ranked
    assert tex.count(r"\begin{tabular}") == tex.count(r"\end{tabular}") == 1 and tex.count("{") == tex.count("}")


def test_paper_profile_deviating_runs_get_their_own_table():
    s = pd.concat([scores("paper", "faithful"), scores("paper", "deviating").assign(
        run_key=lambda d: "x" + d["run_key"], method=lambda d: d["method"] + "-dev")])
    tables = summary_tables(leaderboard(s), s)
    assert set(tables) == {"paper", "paper-deviating"}
    assert set(tables["paper"]["method"]) == {"a", "b", "c"} and set(tables["paper-deviating"]["method"]) == {
        "a-dev", "b-dev", "c-dev"}


def test_figures_are_written_as_png_and_pdf(tmp_path):
    from xbench.report.figures import write_figures

    s = scores()
    curves = pd.DataFrame([{"run_key": "t1a0", "phase": "fit", "epoch": e, "step": e, "split": "val", "quantity": "nrmse",
                            "value": 1 / (e + 1), "created_at": "2026-12-01"} for e in range(3)])
    written = write_figures(s, curves, tmp_path)
    names = {p.name for p in written}
    assert {"bars-cpu.png", "bars-cpu.pdf", "ranks-cpu.png", "ranks-cpu.pdf", "curves-cpu-t1.png"} <= names
    for p in written:
        head = p.read_bytes()[:8]
        assert head.startswith(b"\x89PNG") if p.suffix == ".png" else head.startswith(b"%PDF"), p


def test_saved_predictions_rescore_and_plot(burgers_root, tiny_backbone, tmp_path, capsys):
    """--save-predictions keeps the test predictions; re-scoring them gives the recorded number."""
    from test_cli import TINY, run
    from xbench.report.predictions import rescore

    res = tmp_path / "res"
    code, out, err = run(["run", "pdebench-burgers", "--method", "finetune", "fno", "--data-root", str(burgers_root),
                          "--results", str(res), "--backbone", tiny_backbone, "--save-predictions", *TINY], capsys)
    assert code == 0, out + err
    again = rescore(res / "pdebench", "nrmse").set_index("method")
    recorded = pd.read_csv(res / "pdebench/scores.csv")
    recorded = recorded[(recorded.split == "test") & (recorded.metric == "nrmse")].set_index("method")["value"]
    assert again.loc["fno", "value"] == pytest.approx(recorded["fno"], rel=1e-5)
    assert again.loc["finetune", "value"] == pytest.approx(recorded["finetune"], rel=1e-5)
    assert set(rescore(res / "pdebench", "pdebench_max")["method"]) == {"fno", "finetune"}  # a metric not ranked
    code, out, _ = run(["report", "--results", str(res), "--out", str(tmp_path / "rep")], capsys)
    assert code == 0 and (tmp_path / "rep" / "predictions-quick-pdebench-burgers.png").exists()


@pytest.mark.parametrize("backend", ["tensorboard", "wandb"])
def test_live_logging_mirrors_the_curves(burgers_root, tmp_path, capsys, monkeypatch, backend):
    """--log-to: every curve value reaches the live logger; curves.csv stays the record."""
    pytest.importorskip(backend)
    from test_cli import run

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    res = tmp_path / "res"
    code, out, err = run(["run", "pdebench-burgers", "--method", "fno", "--data-root", str(burgers_root), "--results",
                          str(res), "--set", "n_samples=40", "--set", "epochs=2", "--no-progress",
                          "--allow-unverified-data", "--log-to", backend], capsys)
    assert code == 0, out + err
    curves = pd.read_csv(res / "pdebench/curves.csv")
    live = res / "live"
    if backend == "tensorboard":
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        (run_dir,) = list(live.iterdir())
        acc = EventAccumulator(str(run_dir))
        acc.Reload()
        assert sum(len(acc.Scalars(t)) for t in acc.Tags()["scalars"]) == len(curves)
        assert "fit/val/nrmse" in acc.Tags()["scalars"]
    else:
        assert list(live.glob("wandb/offline-run-*"))  # the offline run W&B syncs later


def test_ranks_stay_with_their_rows_when_the_table_is_sorted():
    """The rank frame (bold/underline in LaTeX, the heat map) follows the rows' sort order."""
    s = scores()
    s.loc[s["method"] == "c", "value"] = s.loc[s["method"] == "c", "value"] - 0.25  # c now best on t1
    table = summary_tables(leaderboard(s), s)["cpu"]
    ranks = table.attrs["ranks"]
    assert table["method"].iloc[0] == "c" and ranks.at[0, "t1"] == 1  # c first, and its rank is 1
    for i, r in table.iterrows():
        best = table.loc[ranks["t1"] == 1, "method"].iloc[0]
        assert best == "c"
    assert r"\textbf{0.06 $\pm$ 0.0141}" in to_latex(table, "p")  # c's t1 cell is the bold one


def test_short_names_drop_a_shared_family_prefix_only():
    from xbench.report.summary import short_names

    assert short_names(["pdebench-darcy", "pdebench-advection"]) == ["darcy", "advection"]
    assert short_names(["nb360-darcy", "pdebench-darcy"]) == ["nb360-darcy", "pdebench-darcy"]
    assert short_names(["nb360-ecg"]) == ["ecg"]


def test_published_rows_show_only_under_their_metric():
    s = scores()
    table = summary_tables(leaderboard(s), s)["cpu"]
    metric = table.attrs["metrics"]["t1"]
    pub = pd.DataFrame([{"task": "t1", "method": "Same", "metric": metric, "value": 0.05, "source": "x", "note": ""},
                        {"task": "t1", "method": "Other", "metric": "fnr", "value": 40.0, "source": "x", "note": ""}])
    md = to_markdown(table, "protocol", pub)
    assert "Same (published, external)" in md and "Other" not in md
