"""Results and data that never corrupt: concurrent processes, kills, torn rows, a full disk, bad files."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from xbench.errors import DataError
from xbench.report.leaderboard import leaderboard
from xbench.results import SCORE_COLUMNS, ResultStore, read_table
from xbench.tasks.registry import get_task

SMALL = dict(n_frames=3, nx=64, t_final=0.02)


def _row(key, value, created="2026-01-01T00:00:00+00:00", status="ok"):
    row = {c: "" for c in SCORE_COLUMNS}
    row.update(run_key=key, task="t", task_version=1, method="m", backbone="b", align_loss="none", profile="quick",
               seed=0, split="test", metric="nrmse", value=value, higher_is_better=False, is_main=True,
               status=status, created_at=created)
    return row


def _spawn(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _small_spec():
    spec = get_task("pdebench-advection")
    return dataclasses.replace(spec, generator_params={**spec.generator_params, **SMALL})


GENERATE = """
import dataclasses, sys
from pathlib import Path
from xbench.tasks.datafiles import ensure_generated
from xbench.tasks.registry import get_task
spec = get_task("pdebench-advection")
spec = dataclasses.replace(spec, generator_params={**spec.generator_params, **%r})
print(ensure_generated(spec, Path(%r), %d, progress=False))
"""


def test_two_processes_generating_one_file_write_it_once(tmp_path):
    procs = [_spawn(GENERATE % (SMALL, str(tmp_path), 96)) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    paths = {o[0].strip() for o in outs}
    assert len(paths) == 1
    path = Path(paths.pop())
    assert not list(path.parent.glob("*.partial*")) and not list(path.parent.glob("*.corrupt*"))
    from xbench.tasks.datafiles import ensure_generated

    ref = ensure_generated(_small_spec(), tmp_path / "ref", 96, progress=False)
    with h5py.File(path) as a, h5py.File(ref) as b:
        assert np.array_equal(a["tensor"][:], b["tensor"][:]) and np.array_equal(a["x-coordinate"][:],
                                                                                  b["x-coordinate"][:])
        assert a["tensor"][:].reshape(96, -1).any(axis=1).all()  # no zeroed sample


def test_sample_counts_get_their_own_files(tmp_path):
    from xbench.provenance import sha256_file
    from xbench.tasks.datafiles import ensure_generated, generated_files

    spec = _small_spec()
    small = ensure_generated(spec, tmp_path, 8, progress=False)
    digest = sha256_file(small)
    big = ensure_generated(spec, tmp_path, 16, progress=False)
    assert big != small and sha256_file(small) == digest  # the smaller file (and every run key on it) stays
    assert generated_files(spec, tmp_path) == [small, big]
    with h5py.File(small) as a, h5py.File(big) as b:
        assert np.array_equal(a["tensor"][:], b["tensor"][:8])


def test_a_damaged_generated_file_is_moved_aside_and_generated_again(tmp_path, caplog):
    from xbench.tasks.datafiles import ensure_generated

    spec = _small_spec()
    path = ensure_generated(spec, tmp_path, 8, progress=False)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])  # truncated (a copy cut short, a dying disk)
    again = ensure_generated(spec, tmp_path, 8, progress=False)
    [aside] = path.parent.glob("*.corrupt-*")
    assert again == path and aside.read_bytes() == good[: len(good) // 2] and str(aside) in caplog.text
    with h5py.File(again) as f:
        assert f["tensor"].shape[0] == 8


def test_the_final_check_refuses_zeroed_samples(tmp_path):
    from xbench.tasks.pdebench.layouts import write_chunked

    x = np.linspace(0, 1, 8)
    make = lambda i, n: {"tensor": np.zeros((n, 2, 8)) if i == 1 else np.ones((n, 2, 8))}  # noqa: E731
    with pytest.raises(DataError, match="all zeros"):
        write_chunked(tmp_path / "f.h5", "pdebench-1d", 4, make, {"x-coordinate": x, "t-coordinate": x[:3]}, {},
                      chunk=2, progress=False)
    assert not list(tmp_path.iterdir())  # nothing renamed into place, no partial left


CLAIM = """
import os, sys, time
from xbench.results import ResultStore
print(ResultStore(%r).claim("k1", {"task": "t", "method": "m", "seed": 0}), flush=True)
time.sleep(60)
"""


def test_a_key_held_by_a_live_process_is_left_to_it_and_taken_over_when_it_dies(tmp_path):
    proc = _spawn(CLAIM % str(tmp_path))
    assert proc.stdout.readline().strip() == "claimed"
    store = ResultStore(tmp_path)
    assert store.claim("k1", {"task": "t", "method": "m", "seed": 0}) == "busy"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert store.claim("k1", {"task": "t", "method": "m", "seed": 0}) == "claimed"
    store.write_run("k1", {"status": "ok"}, [_row("k1", 0.5)], [])
    rec = store.record("k1")
    assert rec["unfinished_attempts"][0]["pid"] == proc.pid
    assert store.claim("k1", {"task": "t", "method": "m", "seed": 0}) == "finished"


def test_a_torn_last_line_is_moved_aside_and_reported(tmp_path, caplog):
    store = ResultStore(tmp_path)
    store.write_run("k1", {"status": "ok"}, [_row("k1", 0.5)], [])
    good = store.scores_path.read_bytes()
    with store.scores_path.open("ab") as f:
        f.write(b"k2,0.1.0,abc,pdebench-bur")  # a write cut short
    assert len(read_table(store.scores_path, SCORE_COLUMNS)) == 1  # readers skip the torn line
    store.write_run("k3", {"status": "ok"}, [_row("k3", 0.7)], [])
    [aside] = tmp_path.glob("scores.csv.torn-*")
    assert aside.read_bytes() == b"k2,0.1.0,abc,pdebench-bur" and "torn" in caplog.text
    assert store.scores_path.read_bytes().startswith(good)
    assert list(store.load_scores()["run_key"]) == ["k1", "k3"]


def test_a_full_disk_writes_the_whole_row_or_nothing_and_the_next_command_finishes_it(tmp_path, monkeypatch):
    store = ResultStore(tmp_path)
    store.write_run("k1", {"status": "ok"}, [_row("k1", 0.5)], [])
    before = store.scores_path.read_bytes()
    real = os.write

    def short_then_full(fd, data):  # the disk fills in the middle of the row
        if len(data) > 20:
            return real(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", short_then_full)
    with pytest.raises(DataError, match="disk full"):
        store.write_run("k2", {"status": "ok"}, [_row("k2", 0.25)], [])
    monkeypatch.setattr(os, "write", real)
    assert store.scores_path.read_bytes() == before and not store.finished("k2")
    assert list(store.runs_dir.glob("k2.commit.json"))  # the rows wait in the journal
    assert store.claim("k2", {"task": "t", "method": "m", "seed": 0}) == "finished"  # space again: committed
    assert list(store.load_scores()["run_key"]) == ["k1", "k2"]


def test_a_process_killed_between_the_rows_and_the_record_never_runs_twice(tmp_path):
    code = f"""
    import os, signal
    import xbench.results as r
    from xbench.results import ResultStore
    write = r._write_json
    def die_on_record(path, obj):
        if path.name == "k1.json":
            os.kill(os.getpid(), signal.SIGKILL)
        write(path, obj)
    r._write_json = die_on_record
    row = {{c: "" for c in r.SCORE_COLUMNS}}
    row.update(run_key="k1", value=0.5, status="ok", created_at="2026-01-01T00:00:00+00:00")
    store = ResultStore({str(tmp_path)!r})
    store.claim("k1", {{}})
    store.write_run("k1", {{"status": "ok"}}, [row], [{{"phase": "fit", "epoch": 0, "step": 1, "split": "val",
                                                       "quantity": "nrmse", "value": 0.6}}])
    """
    proc = _spawn(code)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    store = ResultStore(tmp_path)
    assert store.record("k1") is None and len(store.scores_path.read_text().splitlines()) == 2  # rows, no record
    assert store.claim("k1", {}) == "finished"  # the journal is finished, the run is not redone
    assert len(store.load_scores()) == 1 and len(store.load_curves()) == 1 and store.unfinished() == []


@pytest.mark.parametrize("text,needle", [
    (",".join(SCORE_COLUMNS) + "\n" + ",".join(["x"] * 24) + ",extra,fields\n", "line 2"),
    (",".join(SCORE_COLUMNS) + ",extra\n", "columns"),
    (",".join(SCORE_COLUMNS) + "\n" + ",".join(["k"] * 13 + ["abc"] + ["1"] * (len(SCORE_COLUMNS) - 14)) + "\n", "not a number"),
])
def test_a_damaged_results_file_is_a_clear_error(tmp_path, text, needle):
    (tmp_path / "scores.csv").write_text(text)
    with pytest.raises(DataError, match=needle) as e:
        ResultStore(tmp_path).load_scores()
    assert str(tmp_path / "scores.csv") in str(e.value)


def test_an_empty_results_file_is_an_empty_table(tmp_path):
    (tmp_path / "scores.csv").write_bytes(b"")
    assert ResultStore(tmp_path).load_scores().empty


def test_duplicate_rows_of_a_run_count_once():
    rows = [_row("a", 0.2), _row("a", 0.2), _row("b", 0.4, "2026-01-01T00:00:00+00:00", "failed"),
            _row("b", 0.3, "2026-01-02T00:00:00+00:00"), _row("c", 0.5)]
    rows[2]["value"] = float("nan")
    t = leaderboard(pd.DataFrame(rows)).iloc[0]
    assert t["seeds"] == 1 and t["failed"] == 0 and t["mean"] == pytest.approx((0.2 + 0.3 + 0.5) / 3)


def test_an_empty_source_cache_is_rebuilt(tiny_backbone, tmp_path):
    from xbench.models import load_backbone
    from xbench.source import source_reference

    body = load_backbone(tiny_backbone)
    feats, _ = source_reference(body, 20, 8, 3, tmp_path)
    [cache] = tmp_path.glob("*.pt")
    cache.write_bytes(b"")
    again, labels = source_reference(body, 20, 8, 3, tmp_path)
    assert again.shape == feats.shape and len(labels) == 20 and cache.stat().st_size > 0


def test_report_survives_a_closed_pipe(tmp_path):
    store = ResultStore(tmp_path / "res/pdebench")
    store.write_run("k1", {"status": "ok"}, [_row("k1", 0.5)], [])
    out = tmp_path / "rep"
    proc = subprocess.run(f"{sys.executable} -m xbench.cli report --results {tmp_path / 'res'} --out {out} | head -c 1",
                          shell=True, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr and (out / "leaderboard.md").exists() and (out / "leaderboard.csv").exists()


def test_version(capsys):
    from xbench.cli import main

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("xbench ")


@pytest.mark.parametrize("make_args,needle", [
    (lambda t: ["--seeds", "-1"], "--seeds"),
    (lambda t: ["--device", "tpu"], "--device"),
    (lambda t: ["--backbone", str(t / "missing")], "not a folder"),
    (lambda t: ["--results", str(t / "afile")], "is a file"),
    (lambda t: ["--data-root", str(t / "afile")], "is a file"),
    (lambda t: ["--set", "epochs=many"], "epochs"),
])
def test_bad_run_input_exits_2_before_anything_runs(tmp_path, capsys, make_args, needle):
    from xbench.cli import main

    (tmp_path / "afile").write_text("x")
    args = ["run", "pdebench-burgers", "--results", str(tmp_path / "res"), "--data-root", str(tmp_path / "data"),
            "--no-progress"]
    code = main(args + make_args(tmp_path))
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err
    assert not (tmp_path / "data").exists() and not (tmp_path / "res" / "pdebench").exists()


def test_a_corrupt_results_file_stops_the_run_before_training(tmp_path, capsys):
    from xbench.cli import main

    res = tmp_path / "res/pdebench"
    res.mkdir(parents=True)
    (res / "scores.csv").write_text(",".join(SCORE_COLUMNS) + "\n" + "a,b\n")
    code = main(["run", "pdebench-burgers", "--method", "input-mean", "--results", str(tmp_path / "res"),
                 "--data-root", str(tmp_path / "d"), "--set", "n_samples=40", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "line 2" in err and not (tmp_path / "d").exists()


def test_report_on_a_file_with_an_extra_column_exits_2(tmp_path, capsys):
    from xbench.cli import main

    (tmp_path / "pdebench").mkdir()
    (tmp_path / "pdebench/scores.csv").write_text(",".join(SCORE_COLUMNS) + ",extra\n")
    code = main(["report", "--results", str(tmp_path), "--out", str(tmp_path / "rep")])
    assert code == 2 and "columns" in capsys.readouterr().err and not (tmp_path / "rep/leaderboard.md").exists()


def test_a_real_file_that_is_not_pdebench_s_is_refused_without_the_override(burgers_root, tmp_path, capsys):
    from xbench.cli import main

    args = ["run", "pdebench-burgers", "--method", "input-mean", "--results", str(tmp_path / "res"),
            "--data-root", str(burgers_root), "--set", "n_samples=40", "--no-progress"]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2 and "MD5" in err and "--allow-unverified-data" in err and not (tmp_path / "res/pdebench").exists()
    assert main(args + ["--allow-unverified-data"]) == 0
    scores = pd.read_csv(tmp_path / "res/pdebench/scores.csv")
    assert set(scores["data_source"]) == {"pdebench-file-unverified"}
    assert json.loads((burgers_root / "1D/Burgers/Train/1D_Burgers_Sols_Nu1.0.hdf5.md5.json").read_text())["md5"]


def test_heartbeat_keeps_a_marker_of_a_long_run_fresh(tmp_path, monkeypatch):
    import xbench.results as r

    monkeypatch.setattr(r, "HEARTBEAT_S", 0.05)
    store = ResultStore(tmp_path)
    store.claim("k", {})
    marker = tmp_path / "runs/k.started.json"
    os.utime(marker, (0, 0))
    time.sleep(0.3)
    assert marker.stat().st_mtime > 1e9
    store.release("k")
