"""``xbench report --check``: is a results folder sound? Reads everything, writes nothing.

Per family folder (``<results>/<family>/``): each results file and its schema version (current, or
an earlier one that is still read); rows written twice (the same run key, attempt, split and
metric: a corruption xbench's journal prevents, so it points at an outside copy or an old version);
run keys with several attempts (a failure and its retry: the leaderboard counts one); rows without
a run record and ok records without rows; groups the leaderboard pools whose rows come from several
xbench versions or commits (the same settings hash and method version, so meant to be the same
experiment: the check names them so a reader can confirm it); runs in progress or killed, pending
commit journals and torn last lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from xbench.errors import DataError
from xbench.results import CURVE_COLUMNS, LEGACY, SCORE_COLUMNS, ResultStore, read_table


@dataclass
class Finding:
    level: str  # "error" (the folder is not sound), "warning" (look at it) or "info"
    message: str


def _schema(path: Path, current: tuple[str, ...]) -> str:
    header = path.open().readline().strip().split(",") if path.stat().st_size else []
    if tuple(header) == current:
        return f"schema {len(LEGACY.get(path.name.split('.')[0] + '.csv', {})) + 1} (current)"
    for version, cols in LEGACY.get(path.name.split(".")[0] + ".csv", {}).items():
        if tuple(header) == cols:
            return f"schema {version} (earlier, still read)"
    return "unknown columns"


def check_family(folder: Path) -> list[Finding]:
    out: list[Finding] = []
    files = sorted(folder.glob("scores*.csv")) + sorted(folder.glob("curves*.csv"))
    for path in files:
        cols = SCORE_COLUMNS if path.name.startswith("scores") else CURVE_COLUMNS
        try:
            n = len(read_table(path, cols))
            out.append(Finding("info", f"{path}: {_schema(path, cols)}, {n} rows"))
        except DataError as e:
            out.append(Finding("error", str(e)))
        if path.stat().st_size and not path.read_bytes().endswith(b"\n"):
            out.append(Finding("warning", f"{path} ends in a torn line; the next xbench run on the folder moves it "
                                          "aside to a .torn file"))
    if any(f.level == "error" for f in out):
        return out
    store = ResultStore(folder)
    scores = store._load(store.scores_path, SCORE_COLUMNS)
    if scores.empty:
        return out + [Finding("warning", f"{folder}: no score rows")]
    twice = scores[scores.duplicated(["run_key", "created_at", "split", "metric"], keep=False)]
    if len(twice):
        keys = sorted(set(twice["run_key"]))
        out.append(Finding("error", f"{folder}: {len(twice)} rows written more than once ({len(keys)} run keys, e.g. "
                                    f"{keys[0]}); reports count one, but the file was copied or edited from outside"))
    attempts = scores.groupby("run_key")["created_at"].nunique()
    if (attempts > 1).any():
        out.append(Finding("info", f"{folder}: {(attempts > 1).sum()} run keys have several attempts (a failure and "
                                   "its retry); the leaderboard counts the last ok one"))
    records = {p.stem: p for p in store.runs_dir.glob("*.json")
               if not p.name.endswith((".started.json", ".commit.json"))}
    missing = sorted(set(scores["run_key"]) - set(records))
    if missing:
        out.append(Finding("warning", f"{folder}: {len(missing)} run keys have rows but no run record (e.g. "
                                      f"{missing[0]}): their provenance is only what the rows say"))
    for key, path in records.items():
        try:
            rec = json.loads(path.read_text())
        except ValueError:
            out.append(Finding("error", f"{path}: not valid JSON"))
            continue
        if rec.get("status") == "ok" and key not in set(scores["run_key"]):
            out.append(Finding("error", f"{path}: an ok run with no rows in scores.csv"))
    from xbench.report.leaderboard import GROUP

    ok = scores[scores["status"] == "ok"]
    ok = ok.assign(**{c: ok[c].astype(str) for c in [*GROUP, "git_sha"]})
    mixed = ok.groupby(GROUP)["git_sha"].nunique()
    if (mixed > 1).any():
        example = mixed[mixed > 1].index[0]
        out.append(Finding("info", f"{folder}: {(mixed > 1).sum()} pooled groups hold rows of several commits (e.g. "
                                   f"{example[0]} / {example[3]}); same method version and settings hash, so meant as "
                                   "one experiment"))
    for m in store.unfinished():
        out.append(Finding("warning", f"{folder}: run {m.get('run_key')} ({m.get('task')}, {m.get('method')}) started "
                                      f"{m.get('started_at')} has no record: still running, or killed"))
    for j in store.runs_dir.glob("*.commit.json"):
        out.append(Finding("warning", f"{j}: a commit cut short; the next xbench command on the folder finishes it"))
    return out


def check_results(results: Path) -> list[Finding]:
    families = sorted(p.parent for p in Path(results).glob("*/scores*.csv"))
    if not families:
        return [Finding("error", f"no results under {results} (expected {results}/<family>/scores.csv)")]
    return [f for fam in dict.fromkeys(families) for f in check_family(fam)]
