"""Results store: append-only rows, resume, failed runs, schema guard; and the leaderboard."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from xbench.errors import DataError
from xbench.report.leaderboard import format_table, leaderboard
from xbench.results import CURVE_COLUMNS, SCORE_COLUMNS, ResultStore, run_key


def _row(key, method, seed, value, status="ok", metric="nrmse", split="test"):
    row = {c: "" for c in SCORE_COLUMNS}
    row.update(run_key=key, task="t", task_version=1, method=method, backbone="b", align_loss="none",
               profile="quick", seed=seed, split=split, metric=metric, value=value, higher_is_better=False,
               is_main=True, status=status)
    return row


def test_run_key_stable_and_sensitive():
    a = {"task": "t", "seed": 0, "config": {"lr": 1e-3}}
    assert run_key(a) == run_key(dict(reversed(list(a.items()))))
    assert run_key(a) != run_key({**a, "seed": 1})
    assert run_key(a) != run_key({**a, "config": {"lr": 2e-3}})


def test_store_appends_and_resumes(tmp_path):
    store = ResultStore(tmp_path / "pdebench")
    assert not store.finished("k1")
    store.write_run("k1", {"status": "ok"}, [_row("k1", "a", 0, 0.5)], [{"phase": "fit", "epoch": 0, "step": 1,
                                                                          "split": "val", "quantity": "nrmse", "value": 0.6}])
    assert store.finished("k1")
    store.write_run("k2", {"status": "failed", "error": "boom"}, [_row("k2", "b", 0, float("nan"), "failed")], [])
    assert not store.finished("k2")
    before = store.scores_path.read_text()
    store.write_run("k2", {"status": "ok"}, [_row("k2", "b", 0, 0.4)], [])
    after = store.scores_path.read_text()
    assert after.startswith(before)  # earlier rows are never rewritten
    df = store.load_scores()
    assert list(df["status"]) == ["ok", "failed", "ok"]
    rec = json.loads((store.runs_dir / "k2.json").read_text())
    assert rec["status"] == "ok" and rec["previous_attempts"][0]["error"] == "boom"
    curves = pd.read_csv(store.curves_path)
    assert list(curves.columns) == list(CURVE_COLUMNS)


def test_a_killed_run_stays_visible_and_is_recorded_by_the_next_attempt(tmp_path):
    store = ResultStore(tmp_path / "pdebench")
    store.claim("k1", {"task": "t", "method": "a", "seed": 0})
    assert [m["run_key"] for m in store.unfinished()] == ["k1"]  # the process dies here: no record
    assert not store.finished("k1") and store.record("k1") is None
    store.claim("k1", {"task": "t", "method": "a", "seed": 0})  # the same command, again
    store.write_run("k1", {"status": "ok"}, [_row("k1", "a", 0, 0.5)], [])
    rec = json.loads((store.runs_dir / "k1.json").read_text())
    assert store.finished("k1") and store.unfinished() == []
    assert [a["method"] for a in rec["unfinished_attempts"]] == ["a"] and "started_at" in rec["unfinished_attempts"][0]


def test_store_refuses_foreign_schema(tmp_path):
    store = ResultStore(tmp_path)
    tmp_path.mkdir(exist_ok=True)
    store.scores_path.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="never rewrites"):
        store.write_run("k", {"status": "ok"}, [_row("k", "a", 0, 1.0)], [])
    assert store.scores_path.read_text() == "a,b\n1,2\n"


def test_leaderboard_ranks_and_counts_failures():
    rows = [_row("a0", "a", 0, 0.30), _row("a1", "a", 1, 0.10), _row("b0", "b", 0, 0.05),
            _row("c0", "c", 0, float("nan"), "failed"),
            _row("b0", "b", 0, 0.9, metric="other"),  # not main metric... marked main below but other split
            ]
    rows[-1]["is_main"] = False
    t = leaderboard(pd.DataFrame(rows))
    assert list(t["method"]) == ["b", "a", "c"]
    assert list(t["rank"][:2]) == [1, 2] and pd.isna(t["rank"][2])
    assert t.loc[t.method == "a", "mean"].item() == pytest.approx(0.2)
    assert t.loc[t.method == "a", "seeds"].item() == 2 and t.loc[t.method == "c", "failed"].item() == 1
    text = format_table(t)
    assert "| 1" in text and "b" in text


def test_leaderboard_higher_is_better():
    rows = [_row("a", "a", 0, 0.9), _row("b", "b", 0, 0.5)]
    for r in rows:
        r["higher_is_better"] = True
    assert list(leaderboard(pd.DataFrame(rows))["method"]) == ["a", "b"]


def test_leaderboard_marks_methods_that_do_not_beat_the_best_baseline():
    rows = [_row("m0", "train-mean", 0, 0.50), _row("l0", "linear", 0, 0.20),
            _row("g0", "good", 0, 0.05), _row("g1", "good", 1, 0.07),
            _row("n0", "noisy", 0, 0.10), _row("n1", "noisy", 1, 0.30),  # mean 0.2 +- 0.14: not beyond one std
            _row("w0", "worse", 0, 0.45)]
    t = leaderboard(pd.DataFrame(rows)).set_index("method")
    assert t["baseline"].tolist() == pytest.approx([0.20] * len(t))
    assert t.loc["good", "beats"] == "yes" and t.loc["good", "gain"] == pytest.approx(0.20 / 0.06)
    assert t.loc["noisy", "beats"] == "NO" and t.loc["worse", "beats"] == "NO"
    assert t.loc["linear", "beats"] == "" and t.loc["train-mean", "beats"] == ""  # baselines are not marked


def test_leaderboard_never_pools_settings_versions_or_data():
    base = [_row(f"k{s}", "a", s, 0.1 + s / 100) for s in range(3)]
    for r in base:
        r.update(settings_hash="h1", data_source="generated", data_sha256="d1")
    other_setting = {**base[0], "run_key": "x", "settings_hash": "h2", "settings": "epochs=20"}
    other_version = {**base[0], "run_key": "y", "method_version": "2"}
    other_data = {**base[0], "run_key": "z", "data_sha256": "d2", "data_source": "pdebench-file"}
    t = leaderboard(pd.DataFrame(base + [other_setting, other_version, other_data]))
    assert len(t) == 4 and sorted(t["seeds"]) == [1, 1, 1, 3]
    assert "epochs=20" in format_table(t)


def test_paper_profile_ranks_deviating_runs_apart_from_faithful_ones():
    rows = [_row(f"f{s}", "orca", s, 0.05 + s / 1000) for s in range(2)]
    rows += [_row(f"d{s}", "orca-dev", s, 0.01 + s / 1000) for s in range(2)]
    rows += [_row("b", "linear", 0, 0.2)]
    for r in rows:
        r.update(profile="paper", fidelity="deviating" if r["method"] == "orca-dev" else
                 ("n/a" if r["method"] == "linear" else "faithful"))
    t = leaderboard(pd.DataFrame(rows)).set_index("method")
    assert t.loc["orca", "rank"] == 1 and t.loc["linear", "rank"] == 2  # the faithful ranking, baseline in it
    assert t.loc["orca-dev", "rank"] == 1  # best overall, but ranked only among the deviating runs
    assert t.loc["orca-dev", "beats"] == "yes" and t.loc["orca-dev", "baseline"] == pytest.approx(0.2)
    cpu = leaderboard(pd.DataFrame([{**r, "profile": "cpu"} for r in rows])).set_index("method")
    assert sorted(cpu["rank"]) == [1, 2, 3]  # outside the paper profile one ranking


@pytest.mark.parametrize("version, missing", [(1, ("settings_hash", "settings", "fidelity")), (2, ("fidelity",))])
def test_older_schema_files_are_read_and_moved_aside_before_an_append(tmp_path, version, missing):
    old_cols = [c for c in SCORE_COLUMNS if c not in missing]
    store = ResultStore(tmp_path / "pdebench")
    store.folder.mkdir()
    old_row = {c: v for c, v in _row("old", "a", 0, 0.3).items() if c in old_cols}
    text = ",".join(old_cols) + "\n" + ",".join(str(old_row[c]) for c in old_cols) + "\n"
    store.scores_path.write_text(text)
    assert store.load_scores()["run_key"].tolist() == ["old"]
    assert store.scores_path.read_text() == text  # reading never moves or rewrites it
    store.write_run("new", {"status": "ok"}, [_row("new", "a", 1, 0.2)], [])
    aside = store.folder / f"scores.schema{version}.csv"
    assert aside.read_text() == text and store.scores_path.read_text().startswith(",".join(SCORE_COLUMNS))
    df = store.load_scores()
    assert df["run_key"].tolist() == ["old", "new"] and df[missing[0]].tolist() == ["", ""]


HISTORIC = Path(__file__).parent / "data" / "historic-schema1"


def test_a_historic_schema1_folder_still_loads_and_checks(tmp_path):
    """A small scores file as xbench wrote it in schema 1 (tests/data/historic-schema1/README.md)."""
    import shutil

    from xbench.report.check import check_results

    folder = tmp_path / "res"
    shutil.copytree(HISTORIC, folder)
    before = (folder / "pdebench/scores.csv").read_bytes()
    df = ResultStore(folder / "pdebench").load_scores()
    assert len(df) == 12 and set(df["settings_hash"]) == {""} and set(df["fidelity"]) == {""}
    board = leaderboard(df)
    test = df[(df["split"] == "test") & (df["metric"] == "nrmse")]["value"]
    assert len(board) == 1 and board.loc[0, "seeds"] == 2 and board.loc[0, "mean"] == pytest.approx(test.mean())
    findings = check_results(folder)
    assert not [f for f in findings if f.level == "error"]
    assert any("schema 1 (earlier, still read)" in f.message for f in findings)
    assert any("no run record" in f.message for f in findings)  # the historic rows came without their records
    assert (folder / "pdebench/scores.csv").read_bytes() == before  # the check writes nothing


def test_check_finds_rows_written_twice_and_records_without_rows(tmp_path):
    from xbench.report.check import check_results

    store = ResultStore(tmp_path / "pdebench")
    store.write_run("k1", {"status": "ok"}, [_row("k1", "a", 0, 0.1)], [])
    assert not [f for f in check_results(tmp_path) if f.level != "info"]
    lines = store.scores_path.read_text().splitlines(keepends=True)
    with open(store.scores_path, "a") as f:  # an outside copy appended the row again
        f.write(lines[-1])
    (store.runs_dir / "k2.json").write_text('{"status": "ok"}')
    errors = [f.message for f in check_results(tmp_path) if f.level == "error"]
    assert any("written more than once" in m for m in errors) and any("no rows" in m for m in errors)


def test_leaderboard_counts_runs_and_gives_t_intervals():
    rows = [_row(f"k{s}", "a", s, v) for s, v in enumerate((0.10, 0.12, 0.14))]
    rows.append({**_row("k9", "a", 0, 0.5), "data_sha256": ""})  # same seed value, one more run
    board = leaderboard(pd.DataFrame(rows[:3]))
    assert board.loc[0, "runs"] == 3 and board.loc[0, "ci95"] == pytest.approx(4.303 * 0.02 / 3 ** 0.5, rel=1e-3)
    board = leaderboard(pd.DataFrame(rows))
    assert board.loc[0, "runs"] == 4 and board.loc[0, "seeds"] == 3  # runs are counted, not seed values
    single = leaderboard(pd.DataFrame(rows[:1]))
    assert math.isnan(single.loc[0, "ci95"])
