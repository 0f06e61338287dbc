"""Kills, concurrent processes, a full disk and bad input against xbench, as a user's sweep meets them.

Every case runs real ``xbench`` processes on generated pdebench-burgers data (48 samples) in a
scratch folder, kills only processes it started, and prints a table: case, expected, observed,
pass. The disk-full case mounts a 256 KiB tmpfs (needs root; reported as not run otherwise).

    python benchmarks/robustness.py [--work DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

FAST = ["--method", "input-mean", "persistence", "--set", "n_samples=48", "--no-progress"]
FNO = ["--method", "fno", "--set", "n_samples=48", "--set", "epochs=3", "--no-progress"]
ROWS: list[tuple[str, str, str, bool]] = []


def xb(*args, env=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xbench.cli", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600, **kw)


def spawn(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "xbench.cli", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def report(case: str, expected: str, observed: str, ok: bool) -> None:
    ROWS.append((case, expected, observed, ok))
    print(f"{'PASS' if ok else 'FAIL'}  {case}: {observed}", flush=True)


def scores_of(results: Path) -> pd.DataFrame:
    return pd.read_csv(results / "pdebench/scores.csv")


def integrity(results: Path, expect_keys: int) -> tuple[str, bool]:
    """Rows per key (one attempt each), duplicates, records; a readable file."""
    s = scores_of(results)
    per_attempt = s.groupby(["run_key", "split", "metric"]).size()
    dup = int((per_attempt > 1).sum())
    keys = s["run_key"].nunique()
    ok_keys = sum((results / "pdebench/runs" / f"{k}.json").exists() for k in s["run_key"].unique())
    torn = list((results / "pdebench").glob("*.torn-*"))
    return (f"{keys} keys, {len(s)} rows, {dup} duplicated, {ok_keys} records, {len(torn)} torn fragments",
            keys == expect_keys and dup == 0 and ok_keys == keys)


def wait_for(pattern: Path, timeout: float = 300) -> bool:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if list(pattern.parent.glob(pattern.name)):
            return True
        time.sleep(0.05)
    return False


def case_kills(work: Path, data: Path) -> None:
    # 1. kill a generation mid-way; the rerun resumes and equals an uninterrupted generation
    root = work / "kill-gen"
    p = spawn("data", "generate", "pdebench-burgers", "--n-samples", 192, "--data-root", root)
    wait_for(root / "generated/*/n192/1D/Burgers/Train/*.partial-*")
    time.sleep(1.5)
    p.send_signal(signal.SIGKILL)
    p.wait()
    r = xb("data", "generate", "pdebench-burgers", "--n-samples", 192, "--data-root", root)
    ref = xb("data", "generate", "pdebench-burgers", "--n-samples", 192, "--data-root", work / "ref-gen")
    a, b = Path(r.stdout.split(": ")[1].split(" (")[0]), Path(ref.stdout.split(": ")[1].split(" (")[0])
    with h5py.File(a) as fa, h5py.File(b) as fb:
        same = all(np.array_equal(fa[k][:], fb[k][:]) for k in ("tensor", "x-coordinate", "t-coordinate"))
    report("SIGKILL during data generation, then rerun", "exit 0, samples equal an uninterrupted run",
           f"exit {r.returncode}, {'equal' if same else 'DIFFERENT'}", r.returncode == 0 and same)
    # 2. kill a run while it trains; the rerun finishes it once and records the dead attempt
    res = work / "kill-run"
    p = spawn("run", "pdebench-burgers", *FNO, "--seeds", 0, 1, "--data-root", data, "--results", res)
    wait_for(res / "pdebench/runs/*.started.json")
    time.sleep(1.0)
    p.send_signal(signal.SIGKILL)
    p.wait()
    r = xb("run", "pdebench-burgers", *FNO, "--seeds", 0, 1, "--data-root", data, "--results", res)
    text, ok = integrity(res, 2)
    recs = [pd.read_json(f, typ="series") for f in (res / "pdebench/runs").glob("*.json")]
    took_over = sum(bool(rec.get("unfinished_attempts")) for rec in recs)
    report("SIGKILL while training, then rerun", "exit 0, 2 keys once each, the dead attempt recorded",
           f"exit {r.returncode}, {text}, {took_over} record(s) with unfinished_attempts",
           r.returncode == 0 and ok and took_over == 1)
    # 3. kill between the rows and the run record (the riskiest instant): never run twice
    res = work / "kill-commit"
    code = textwrap.dedent(f"""
        import os, signal, sys
        import xbench.results as r
        write = r._write_json
        def die(path, obj):
            if path.parent.name == "runs" and path.name.count(".") == 1:  # runs/<key>.json, after the rows
                os.kill(os.getpid(), signal.SIGKILL)
            write(path, obj)
        r._write_json = die
        from xbench.cli import main
        sys.exit(main({["run", "pdebench-burgers", *FAST, "--data-root", str(data), "--results", str(res)]!r}))
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    before = len(scores_of(res))
    r = xb("run", "pdebench-burgers", *FAST, "--data-root", data, "--results", res)
    text, ok = integrity(res, 2)
    report("SIGKILL between a run's rows and its record, then rerun",
           "the journal is finished, the run not redone, 0 duplicated",
           f"killed rc {p.returncode}, {before} rows before, rerun exit {r.returncode}, {text}",
           p.returncode == -signal.SIGKILL and r.returncode == 0 and ok)


def case_concurrency(work: Path) -> None:
    root = work / "conc-gen"
    ps = [spawn("data", "generate", "pdebench-burgers", "--n-samples", 96, "--data-root", root) for _ in range(2)]
    codes = [p.wait() for p in ps]
    [path] = list(root.glob("generated/*/n96/1D/Burgers/Train/*.hdf5"))
    with h5py.File(path) as f:
        zero = int((~f["tensor"][:].reshape(96, -1).any(axis=1)).sum())
        coords = bool(f["x-coordinate"][:].any() and f["t-coordinate"][1:].all())
    left = list(path.parent.glob("*.partial*"))
    report("two `xbench data generate` of one new file at once", "both exit 0, 0 zeroed samples, coordinates set",
           f"exits {codes}, {zero} zeroed samples, coordinates {'ok' if coords else 'ZEROED'}, {len(left)} partials left",
           codes == [0, 0] and zero == 0 and coords and not left)
    res = work / "conc-run"
    args = ["run", "pdebench-burgers", "--method", "fno", "input-mean", "persistence", "--set", "n_samples=96",
            "--set", "epochs=2", "--no-progress", "--seeds", 0, 1, 2, "--data-root", root, "--results", res]
    ps = [spawn(*args) for _ in range(2)]
    outs = [p.communicate() for p in ps]
    text, ok = integrity(res, 9)
    ran = sum(o[0].count(": ok, test") for o in outs)
    report("two identical `xbench run` sweeps on one results folder at once",
           "9 runs executed once in all, 0 duplicated rows",
           f"exits {[p.returncode for p in ps]}, {ran} runs executed, {text}",
           [p.returncode for p in ps] == [0, 0] and ran == 9 and ok)
    r = xb("report", "--results", res)
    report("`xbench report` after the concurrent sweeps", "exit 0", f"exit {r.returncode}",
           r.returncode == 0 and "Traceback" not in r.stderr)


def case_disk_full(work: Path, data: Path) -> None:
    mnt = work / "tmpfs"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True).returncode:
        report("results on a full disk", "exit 2, no torn row", "not run (mounting a tmpfs needs root)", True)
        return
    try:
        res = mnt / "res"
        r = xb("run", "pdebench-burgers", *FAST, "--seeds", 0, "--data-root", data, "--results", res)
        free = shutil.disk_usage(mnt).free
        (mnt / "filler").write_bytes(b"\0" * max(0, free - 6000))  # room for part of the next run's rows
        r = xb("run", "pdebench-burgers", *FAST, "--seeds", 1, 2, 3, "--data-root", data, "--results", res)
        tb = "Traceback" in r.stderr
        readable = xb("report", "--results", res, "--out", work / "rep-full")
        report("results on a full disk", "exit 2 with a message, no traceback, the file stays readable",
               f"exit {r.returncode}, {'traceback' if tb else 'no traceback'}, report exit {readable.returncode}",
               r.returncode == 2 and not tb and readable.returncode == 0)
        (mnt / "filler").unlink()
        r = xb("run", "pdebench-burgers", *FAST, "--seeds", 0, 1, 2, 3, "--data-root", data, "--results", res)
        text, ok = integrity(res, 8)
        report("the same sweep after space is freed", "exit 0, 8 keys once each, 0 torn rows",
               f"exit {r.returncode}, {text}", r.returncode == 0 and ok)
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def bad_inputs(work: Path, data: Path) -> list[tuple[str, list]]:
    ro = work / "readonly"
    ro.mkdir()
    (work / "afile").write_text("x")
    bad = work / "bad-results"
    for name in ("extra-col", "text", "torn-join", "empty"):
        (bad / name / "pdebench").mkdir(parents=True)
    header = pd.read_csv(data.parent / "good/pdebench/scores.csv", nrows=0).columns.tolist()
    (bad / "extra-col/pdebench/scores.csv").write_text(",".join(header + ["extra"]) + "\n")
    good = (data.parent / "good/pdebench/scores.csv").read_text().splitlines()
    row = good[1].split(",")
    row[header.index("value")] = "abc"
    (bad / "text/pdebench/scores.csv").write_text(good[0] + "\n" + ",".join(row) + "\n")
    (bad / "torn-join/pdebench/scores.csv").write_text("\n".join([good[0], good[1][:40] + good[2]]) + "\n")
    (bad / "empty/pdebench/scores.csv").write_text("")
    trunc = work / "trunc-data"
    shutil.copytree(data, trunc)
    [gen] = list(trunc.glob("generated/*/n48/1D/Burgers/Train/*.hdf5"))
    gen.write_bytes(gen.read_bytes()[:4096])
    real = work / "foreign-real"
    (real / "1D/Burgers/Train").mkdir(parents=True)
    with h5py.File(real / "1D/Burgers/Train/1D_Burgers_Sols_Nu1.0.hdf5", "w") as f:
        f["tensor"] = np.ones((48, 201, 1024), np.float32)
        f["x-coordinate"] = np.linspace(0, 1, 1024, dtype=np.float32)
        f["t-coordinate"] = np.linspace(0, 2.01, 202, dtype=np.float32)
    run = ["run", "pdebench-burgers", "--data-root", data, "--results", work / "bad-run", "--no-progress"]
    return [
        ("unknown task", ["run", "pdebench-burger"]),
        ("unknown method", run + ["--method", "orka"]),
        ("unknown align loss", run + ["--method", "orca", "--align-loss", "otd"]),
        ("unknown setting", run + ["--set", "epoch=2"]),
        ("setting without =", run + ["--set", "epochs"]),
        ("text for a number", run + ["--set", "epochs=many"]),
        ("negative epochs", run + ["--set", "epochs=-1"]),
        ("zero samples", run + ["--set", "n_samples=0"]),
        ("too few samples to split", run + ["--set", "n_samples=3"]),
        ("negative lr", run + ["--set", "lr=-1"]),
        ("NaN lr", run + ["--set", "lr=nan"]),
        ("bad bool", run + ["--set", "track_bound=maybe"]),
        ("unknown profile", run + ["--profile", "fast"]),
        ("unknown protocol", run + ["--protocol", "rollout"]),
        ("no autoregressive variant", ["run", "pdebench-darcy", "--protocol", "autoregressive", "--method", "fno",
                                       "--data-root", data, "--results", work / "bad-run"]),
        ("negative seed", run + ["--seeds", "-1"]),
        ("text seed", run + ["--seeds", "one"]),
        ("unknown device", run + ["--device", "tpu"]),
        ("cuda on a CPU machine", run + ["--device", "cuda"]) if not _cuda() else None,
        ("missing backbone folder", run + ["--backbone", "/no/such/model"]),
        ("backbone id not cached", run + ["--backbone", "no-org/no-model"]),
        ("backbone folder without config", run + ["--backbone", ro]),
        ("results path is a file", run[:-3] + ["--results", work / "afile", "--no-progress"]),
        ("data root is a file", ["run", "pdebench-burgers", "--data-root", work / "afile", "--results",
                                 work / "bad-run"]),
        ("results folder read-only", ["run", "pdebench-burgers", "--data-root", data, "--results", ro / "sub"]),
        ("results CSV with an extra column", run[:-3] + ["--results", bad / "extra-col", *FAST]),
        ("results CSV with a text value", run[:-3] + ["--results", bad / "text", *FAST]),
        ("results CSV with a torn, joined row", run[:-3] + ["--results", bad / "torn-join", *FAST]),
        ("report: extra column", ["report", "--results", bad / "extra-col", "--out", work / "o1"]),
        ("report: text value", ["report", "--results", bad / "text", "--out", work / "o2"]),
        ("report: torn, joined row", ["report", "--results", bad / "torn-join", "--out", work / "o3"]),
        ("report: zero-byte scores.csv", ["report", "--results", bad / "empty", "--out", work / "o4"]),
        ("report: no results", ["report", "--results", work / "nothing"]),
        ("report: --out is a file", ["report", "--results", data.parent / "good", "--out", work / "afile"]),
        ("data generate: unknown task", ["data", "generate", "pdebench-burgerz", "--data-root", data]),
        ("data generate: zero samples", ["data", "generate", "pdebench-burgers", "--n-samples", 0, "--data-root", data]),
        ("data generate: data root is a file", ["data", "generate", "pdebench-burgers", "--data-root", work / "afile"]),
        ("data generate: read-only data root", ["data", "generate", "pdebench-burgers", "--n-samples", 8,
                                                "--data-root", ro / "d"]),
        ("data info: unknown task", ["data", "info", "pdebench-burgerz"]),
        ("data verify: unknown task", ["data", "verify", "pdebench-burgerz"]),
        ("ls: unknown kind", ["ls", "datasets"]),
        ("no command", []),
        ("a real file that is not PDEBench's", ["run", "pdebench-burgers", *FAST, "--data-root", real, "--results",
                                                work / "bad-run"]),
        ("a truncated real file", ["run", "pdebench-burgers", *FAST, "--data-root", _truncated_real(work, real),
                                   "--results", work / "bad-run", "--allow-unverified-data"]),
        ("a task whose data xbench cannot generate", ["run", "pdebench-ns-incom", "--method", "fno",
                                                      "--data-root", work / "empty-root", "--results", work / "bad-run"])
        if _has("pdebench-ns-incom") else None,
    ], ro, trunc


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _has(task: str) -> bool:
    from xbench.tasks.registry import list_tasks

    return task in {t.name for t in list_tasks()}


def _truncated_real(work: Path, real: Path) -> Path:
    root = work / "trunc-real"
    (root / "1D/Burgers/Train").mkdir(parents=True)
    src = (real / "1D/Burgers/Train/1D_Burgers_Sols_Nu1.0.hdf5").read_bytes()
    (root / "1D/Burgers/Train/1D_Burgers_Sols_Nu1.0.hdf5").write_bytes(src[:len(src) // 3])
    return root


def case_bad_input(work: Path, data: Path) -> None:
    cases, ro, trunc = bad_inputs(work, data)
    os.chmod(ro, 0o555)
    ro_mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(ro)], capture_output=True)
    try:
        bad = 0
        for case in filter(None, cases):
            name, args = case
            r = xb(*args)
            tb = "Traceback" in r.stderr
            ok = r.returncode == 2 and not tb and r.stderr.strip() != ""
            bad += not ok
            if not ok:
                report(f"bad input: {name}", "exit 2, a message, no traceback",
                       f"exit {r.returncode}, {'TRACEBACK' if tb else 'no traceback'}: {r.stderr.strip()[-200:]}", False)
        n = len(list(filter(None, cases)))
        report(f"{n} kinds of bad input", "each exit 2 with a message, no traceback", f"{n - bad} of {n} did",
               bad == 0)
        r = xb("run", "pdebench-burgers", *FAST, "--data-root", trunc, "--results", work / "trunc-res")
        moved = list(trunc.glob("generated/*/n48/1D/Burgers/Train/*.corrupt-*"))
        report("a truncated generated file", "named, moved aside, generated again; the run succeeds",
               f"exit {r.returncode}, {len(moved)} file(s) moved aside", r.returncode == 0 and len(moved) == 1)
    finally:
        if ro_mount.returncode == 0:
            subprocess.run(["umount", str(ro)], capture_output=True)
        os.chmod(ro, 0o755)


def case_output(work: Path, data: Path) -> None:
    good = data.parent / "good"
    out = work / "pipe-out"
    p = subprocess.run(f"{sys.executable} -m xbench.cli report --results {good} --out {out} | head -2", shell=True,
                       capture_output=True, text=True)
    report("`xbench report | head -2`", "no traceback, leaderboard files written",
           f"{'TRACEBACK' if 'Traceback' in p.stderr else 'no traceback'}, files "
           f"{'written' if (out / 'leaderboard.md').exists() else 'MISSING'}",
           "Traceback" not in p.stderr and (out / "leaderboard.md").exists())
    r = xb("--version")
    report("`xbench --version`", "exit 0, the version", f"exit {r.returncode}: {r.stdout.strip()}", r.returncode == 0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=None, help="scratch folder (default: a new temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="xbench-robust-"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    data = work / "data"
    r = xb("run", "pdebench-burgers", *FAST, "--data-root", data, "--results", work / "good")
    assert r.returncode == 0, r.stderr
    try:
        case_kills(work, data)
        case_concurrency(work)
        case_disk_full(work, data)
        case_bad_input(work, data)
        case_output(work, data)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("\n| case | expected | observed | pass |\n|---|---|---|---|")
    for case, expected, observed, ok in ROWS:
        print(f"| {case} | {expected} | {observed} | {'yes' if ok else 'NO'} |")
    print(f"\n{sum(r[3] for r in ROWS)} of {len(ROWS)} cases pass ({time.time() - t0:.0f} s)")
    return 0 if all(r[3] for r in ROWS) else 1


if __name__ == "__main__":
    sys.exit(main())
