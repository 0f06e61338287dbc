"""xbench sweep: suites, the grid, worker processes, idempotence, and kills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from test_cli import run
from xbench.errors import ConfigError
from xbench.sweep import Suite, load_suite

TINY = ["--set", "n_samples=40", "--set", "epochs=1", "--set", "batch_size=8", "--set", "target_seq_len=16",
        "--set", "align_steps=1", "--set", "n_source=40", "--set", "align_maxsamples=8", "--set", "n_classes=3",
        "--allow-unverified-data"]


def test_suites_load_and_expand_their_grid(tmp_path):
    s = load_suite("alignment-strength")
    assert s.profile == "cpu" and len(s.overrides()) == 5 and {o["align_steps"] for o in s.overrides()} == {0, 5, 15,
                                                                                                            30, 60}
    assert Suite("x", ["t"], grid={"a": [1, 2], "b": [3, 4]}, set={"c": 0}).overrides()[3] == {"a": 2, "b": 4, "c": 0}
    bad = tmp_path / "bad.toml"
    bad.write_text('tasks = ["pdebench-burgers"]\nepochs = 3\n')
    with pytest.raises(ConfigError, match="unknown keys epochs"):
        load_suite(str(bad))
    with pytest.raises(ConfigError, match="Did you mean 'pdebench-1d'"):
        load_suite("pdebench-1")


def test_a_sweep_on_two_workers_runs_each_key_once_and_resumes(burgers_root, tiny_backbone, tmp_path, capsys):
    res = tmp_path / "res"
    suite = tmp_path / "s.toml"
    suite.write_text(f'tasks = ["pdebench-burgers"]\nmethods = ["linear", "finetune"]\nseeds = [0, 1]\n'
                     f'backbone = "{tiny_backbone}"\n[grid]\nlr = [1e-3, 3e-4]\n')
    args = ["sweep", str(suite), "--jobs", "2", "--data-root", str(burgers_root), "--results", str(res), *TINY]
    code, out, err = run(args, capsys)
    assert code == 0, out + err
    assert "6 run(s) (0 finished, 6 to run)" in out  # linear reads no lr: one run per seed, finetune 2 x 2
    scores = pd.read_csv(res / "pdebench/scores.csv", keep_default_na=False)
    main = scores[(scores.split == "test") & (scores.metric == "nrmse")]
    assert main["run_key"].nunique() == 6 and len(main) == 6 and set(main["status"]) == {"ok"}
    ft = main[main.method == "finetune"]
    assert ft["settings_hash"].nunique() == 2 and ft["settings"].str.contains("lr=0.001").sum() == 2  # 3e-4: default
    code, out, _ = run(args, capsys)
    assert code == 0 and "(6 finished, 0 to run)" in out
    assert len(pd.read_csv(res / "pdebench/scores.csv")) == len(scores)  # nothing ran twice


@pytest.mark.slow
def test_a_sweep_killed_twice_ends_with_the_rows_of_an_uninterrupted_one(burgers_root, tiny_backbone, tmp_path):
    suite = tmp_path / "s.toml"
    suite.write_text(f'tasks = ["pdebench-burgers"]\nmethods = ["fno", "finetune", "orca"]\nseeds = [0, 1, 2]\n'
                     f'backbone = "{tiny_backbone}"\n')

    def finished(res):
        runs = res / "pdebench" / "runs"
        return len([p for p in runs.glob("*.json") if p.name.count(".") == 1]) if runs.exists() else 0

    def sweep(res, kill_at=None):
        cmd = [sys.executable, "-m", "xbench.cli", "sweep", str(suite), "--jobs", "2", "--data-root",
               str(burgers_root), "--results", str(res), *TINY]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        if kill_at is None:
            return proc.wait()
        while finished(res) < kill_at and proc.poll() is None:
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its workers, at once, runs in flight
        proc.wait()
        return finished(res)

    sweep(tmp_path / "whole")
    assert sweep(tmp_path / "killed", kill_at=2) < 9 and sweep(tmp_path / "killed", kill_at=5) < 9  # cut short
    assert sweep(tmp_path / "killed") == 0

    def rows(res):
        s = pd.read_csv(res / "pdebench/scores.csv")
        s = s[s.status == "ok"]
        return s.set_index(["run_key", "split", "metric"])["value"].sort_index()

    whole, killed = rows(tmp_path / "whole"), rows(tmp_path / "killed")
    assert not killed.index.duplicated().any()  # every run exactly once
    assert list(whole.index) == list(killed.index)
    assert (whole - killed).abs().max() < 1e-6  # the same numbers


@pytest.mark.slow
def test_two_sweeps_on_one_folder_run_every_key_once(burgers_root, tiny_backbone, tmp_path):
    from xbench.report.check import check_results

    suite = tmp_path / "s.toml"
    suite.write_text(f'tasks = ["pdebench-burgers"]\nmethods = ["fno", "finetune"]\nseeds = [0, 1, 2]\n'
                     f'backbone = "{tiny_backbone}"\n')
    cmd = [sys.executable, "-m", "xbench.cli", "sweep", str(suite), "--data-root", str(burgers_root), "--results",
           str(tmp_path / "res"), *TINY]
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    assert [p.wait() for p in procs] == [0, 0]
    s = pd.read_csv(tmp_path / "res/pdebench/scores.csv")
    assert s["run_key"].nunique() == 6 and not s.duplicated(["run_key", "split", "metric"]).any()
    assert not [f for f in check_results(tmp_path / "res") if f.level == "error"]


@pytest.mark.slow
@pytest.mark.parametrize("launcher, options", [("submitit", ["cluster=local"]), ("ray", [])])
def test_cluster_launchers_give_the_rows_of_the_local_one(burgers_root, tiny_backbone, tmp_path, capsys,
                                                         launcher, options):
    """submitit's local cluster and a local Ray cluster run the same run function: same keys, same numbers."""
    pytest.importorskip(launcher)
    suite = tmp_path / "s.toml"
    suite.write_text(f'tasks = ["pdebench-burgers"]\nmethods = ["linear", "fno"]\nseeds = [0, 1]\n'
                     f'backbone = "{tiny_backbone}"\n')

    def rows(res, *extra):
        code, out, err = run(["sweep", str(suite), "--jobs", "2", "--data-root", str(burgers_root), "--results",
                              str(res), *TINY, *extra], capsys)
        assert code == 0, out + err
        s = pd.read_csv(res / "pdebench/scores.csv")
        return s.set_index(["run_key", "split", "metric"])["value"].sort_index()

    local = rows(tmp_path / "local")
    other = rows(tmp_path / launcher, "--launcher", launcher, *[x for o in options for x in ("--launcher-option", o)])
    assert list(local.index) == list(other.index) and (local - other).abs().max() < 1e-6
