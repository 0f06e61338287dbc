"""Results: the schema people cite, written append-only (design.md §4).

Per results folder (``<results>/<family>/``):

- ``scores.csv``: one row per number (long format), see :data:`SCORE_COLUMNS`;
- ``curves.csv``: run_key, phase, epoch, step, split, quantity, value;
- ``runs/<run_key>.json``: the resolved config, versions, data checksum, status and error text,
  with earlier attempts of the same key kept under ``previous_attempts``;
- ``runs/<run_key>.started.json``: present while a run is in progress. A run killed from outside
  (out of memory, a cluster's time limit) cannot record itself; its marker stays, ``xbench report``
  lists it, and the next attempt of the key records it under ``unfinished_attempts``.

Rows are appended under a file lock, each batch in one ``write`` on a file opened for appending,
and never rewritten. A run whose key already finished (status ``ok``) is skipped, so a killed sweep
resumes where it stopped. A failed run keeps a ``status=failed`` row with its reason.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import socket
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock

from xbench.errors import DataError

SCORE_COLUMNS = (
    "run_key", "xbench_version", "git_sha", "task", "task_version", "method", "method_version", "backbone",
    "align_loss", "profile", "seed", "split", "metric", "value", "higher_is_better", "is_main", "n_train",
    "data_source", "data_sha256", "wall_s", "peak_mem_mb", "device", "status", "created_at",
)
CURVE_COLUMNS = ("run_key", "phase", "epoch", "step", "split", "quantity", "value")


def run_key(run: dict[str, Any]) -> str:
    """Hash of everything that defines a run's numbers (task, versions, method, config, seed, profile)."""
    blob = json.dumps(run, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``; None if the file is missing or not valid JSON (a torn write)."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


def _write_json(path: Path, obj: dict[str, Any]) -> None:
    """Write ``obj`` to ``path`` atomically (a temporary file in the same folder, then a rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str))
    tmp.replace(path)


class ResultStore:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.scores_path = self.folder / "scores.csv"
        self.curves_path = self.folder / "curves.csv"
        self.runs_dir = self.folder / "runs"
        self._lock = FileLock(str(self.folder / ".lock"))

    def record(self, key: str) -> dict[str, Any] | None:
        return _read_json(self.runs_dir / f"{key}.json")

    def finished(self, key: str) -> bool:
        rec = self.record(key)
        return rec is not None and rec.get("status") == "ok"

    def mark_started(self, key: str, info: dict[str, Any]) -> None:
        """Leave the in-progress marker of ``key`` (see the module docstring)."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            earlier = self._marker(key)
            unfinished = []
            if earlier is not None:
                unfinished = earlier.pop("unfinished_attempts", []) + [earlier]
            _write_json(self.runs_dir / f"{key}.started.json",
                        {"run_key": key, **info, "started_at": utc_now(), "host": socket.gethostname(),
                         "pid": os.getpid(), "unfinished_attempts": unfinished})

    def _marker(self, key: str) -> dict[str, Any] | None:
        return _read_json(self.runs_dir / f"{key}.started.json")

    def unfinished(self) -> list[dict[str, Any]]:
        """Markers of runs started and not (yet) recorded: in progress elsewhere, or killed."""
        return [_read_json(path) or {"run_key": path.name.split(".")[0], "error": "unreadable marker"}
                for path in sorted(self.runs_dir.glob("*.started.json"))]

    def _append(self, path: Path, columns: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> None:
        rows = list(rows)
        if not rows:
            return
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=columns, extrasaction="raise", lineterminator="\n")
        if path.exists() and path.stat().st_size > 0:
            with path.open(newline="") as f:
                header = next(csv.reader(f), [])
            if tuple(header) != columns:
                raise DataError(
                    f"{path} has columns {header}, not the schema of this xbench version {list(columns)}. "
                    "Write to a new folder with --results, or move the old file away; xbench never rewrites it."
                )
        else:
            w.writeheader()
        w.writerows(rows)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, buf.getvalue().encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def write_run(self, key: str, record: dict[str, Any], scores: list[dict[str, Any]],
                  curves: list[dict[str, Any]]) -> None:
        """Append one run's curves and scores and write its record, under the lock."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.runs_dir.mkdir(exist_ok=True)
        with self._lock:
            previous = self.record(key)
            if previous is not None:
                record = {**record, "previous_attempts": previous.pop("previous_attempts", []) + [previous]}
            marker = self._marker(key)
            if marker is not None and marker.get("unfinished_attempts"):
                record = {**record, "unfinished_attempts": marker["unfinished_attempts"]}
            self._append(self.curves_path, CURVE_COLUMNS, ({"run_key": key, **c} for c in curves))
            self._append(self.scores_path, SCORE_COLUMNS, scores)
            _write_json(self.runs_dir / f"{key}.json", record)
            (self.runs_dir / f"{key}.started.json").unlink(missing_ok=True)

    def load_scores(self):
        import pandas as pd

        if not self.scores_path.exists():
            return pd.DataFrame(columns=list(SCORE_COLUMNS))
        return pd.read_csv(self.scores_path)
