"""Results: the schema people cite, written append-only (``docs/results.md``).

Per results folder (``<results>/<family>/``):

- ``scores.csv``: one row per number (long format), see :data:`SCORE_COLUMNS`;
- ``curves.csv``: run_key, phase, epoch, step, split, quantity, value, created_at (the attempt's);
- ``runs/<run_key>.json``: the resolved config, versions, data checksum, status and error text,
  with earlier attempts of the same key kept under ``previous_attempts``;
- ``runs/<run_key>.started.json``: the claim of a run in progress (host, pid, heartbeat). A run is
  claimed under the folder's lock: a finished key is skipped, a key held by a live process is left
  to it, the key of a dead process (killed from outside: out of memory, a cluster's time limit) is
  taken over and the dead attempt recorded under ``unfinished_attempts``;
- ``runs/<run_key>.commit.json``: a run's rows and record while they are committed. A commit writes
  this journal first, then appends the rows (each file in one complete write, or rolled back to its
  old size), then the record. A process that dies in between leaves the journal, and the next
  process to take the lock finishes the commit; nothing is written twice.

Rows are never rewritten. The only bytes ever removed are a torn last line (a write cut short by
a crash or a full disk), which is moved to ``<file>.torn-<time>`` first and reported.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock

from xbench.errors import DataError

log = logging.getLogger(__name__)

SCORE_COLUMNS = (
    "run_key", "xbench_version", "git_sha", "task", "task_version", "method", "method_version", "backbone",
    "align_loss", "profile", "seed", "split", "metric", "value", "higher_is_better", "is_main", "n_train",
    "data_source", "data_sha256", "wall_s", "peak_mem_mb", "device", "status", "created_at",
    "settings_hash", "settings", "fidelity",
)
CURVE_COLUMNS = ("run_key", "phase", "epoch", "step", "split", "quantity", "value", "created_at")
# Earlier schemas, still read: their files are moved to ``<name>.schema<N>.csv`` (kept, never rewritten)
# when a run of this version first writes to the folder; the columns they lack read as "".
LEGACY = {"scores.csv": {1: SCORE_COLUMNS[:-3], 2: SCORE_COLUMNS[:-1]}, "curves.csv": {1: CURVE_COLUMNS[:-1]}}
NUMERIC = {"scores.csv": ("task_version", "seed", "value", "n_train", "wall_s", "peak_mem_mb"),
           "curves.csv": ("epoch", "step", "value")}
HEARTBEAT_S = 30.0  # a claimed run touches its marker this often
STALE_S = 600.0  # a marker of another host untouched this long belongs to a dead process


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
    """Write ``obj`` to ``path`` atomically (a temporary file of this process, then a rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str))
        tmp.replace(path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise DataError(f"could not write {path} ({e.strerror or e}); is the disk full? Nothing was changed: free "
                        "space (or use another --results folder) and run the same command again.") from None


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written; a short write is continued, an error raised."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(errno.ENOSPC, "no space left on device")
        view = view[n:]


def _proc_start(pid: int) -> str | None:
    """The start time of process ``pid`` (Linux), to tell a live process from a reused pid."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def marker_alive(marker: dict[str, Any], mtime: float) -> bool:
    """Whether the process that claimed a run still runs: its pid (and start time) on this host, its
    heartbeat (the marker's mtime, :data:`STALE_S`) on another."""
    if marker.get("host") != socket.gethostname():
        return time.time() - mtime < STALE_S
    pid = marker.get("pid")
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    start = marker.get("pid_start")
    return start is None or _proc_start(pid) in (None, start)


class ResultStore:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.scores_path = self.folder / "scores.csv"
        self.curves_path = self.folder / "curves.csv"
        self.runs_dir = self.folder / "runs"
        self._lock = FileLock(str(self.folder / ".lock"))
        self._beats: dict[str, threading.Event] = {}

    # -- records and claims -------------------------------------------------------------------------
    def record(self, key: str) -> dict[str, Any] | None:
        return _read_json(self.runs_dir / f"{key}.json")

    def finished(self, key: str) -> bool:
        rec = self.record(key)
        return rec is not None and rec.get("status") == "ok"

    def _marker_path(self, key: str) -> Path:
        return self.runs_dir / f"{key}.started.json"

    def _marker(self, key: str) -> dict[str, Any] | None:
        return _read_json(self._marker_path(key))

    @contextlib.contextmanager
    def locked(self):
        """The folder's lock, with any commit left by a dead process finished first."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._recover()
            yield

    def claim(self, key: str, info: dict[str, Any]) -> str:
        """Claim ``key`` for this process: ``"claimed"``, ``"finished"`` (skip) or ``"busy"`` (a live
        process holds it). A claimed run keeps its marker fresh until :meth:`write_run` or :meth:`release`."""
        with self.locked():
            if self.finished(key):
                return "finished"
            path = self._marker_path(key)
            earlier = self._marker(key)
            if earlier is not None and marker_alive(earlier, path.stat().st_mtime):
                return "busy"
            unfinished = []
            if earlier is not None:
                unfinished = earlier.pop("unfinished_attempts", []) + [earlier]
            elif path.exists():
                unfinished = [{"run_key": key, "error": "unreadable marker"}]
            _write_json(path, {"run_key": key, **info, "started_at": utc_now(), "host": socket.gethostname(),
                               "pid": os.getpid(), "pid_start": _proc_start(os.getpid()),
                               "unfinished_attempts": unfinished})
        self.release(key)
        stop = self._beats[key] = threading.Event()
        threading.Thread(target=self._heartbeat, args=(path, stop), daemon=True).start()
        return "claimed"

    @staticmethod
    def _heartbeat(path: Path, stop: threading.Event) -> None:
        while not stop.wait(HEARTBEAT_S):
            with contextlib.suppress(OSError):
                os.utime(path)

    def release(self, key: str) -> None:
        """Stop the heartbeat of ``key``; its marker stays until a record replaces it."""
        beat = self._beats.pop(key, None)
        if beat is not None:
            beat.set()

    def unfinished(self) -> list[dict[str, Any]]:
        """Markers of runs started and not (yet) recorded: in progress elsewhere, or killed."""
        return [_read_json(path) or {"run_key": path.name.split(".")[0], "error": "unreadable marker"}
                for path in sorted(self.runs_dir.glob("*.started.json"))]

    def save_predictions(self, key: str, arrays: dict[str, Any]) -> dict[str, Any]:
        """``runs/<key>.pred.npz`` (compressed, written whole or not at all); what the run record says of it."""
        import numpy as np

        self.runs_dir.mkdir(parents=True, exist_ok=True)
        path = self.runs_dir / f"{key}.pred.npz"
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
        try:
            np.savez_compressed(tmp, **{k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()})
            tmp.replace(path)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise DataError(f"could not write {path} ({e.strerror or e}); is the disk full?") from None
        return {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "shapes": {k: list(np.shape(v)) for k, v in arrays.items()}}

    def load_predictions(self, key: str) -> dict[str, Any] | None:
        """The arrays saved for ``key`` (prediction, target, input), or None."""
        import numpy as np

        path = self.runs_dir / f"{key}.pred.npz"
        if not path.exists():
            return None
        with np.load(path) as z:
            return {k: z[k] for k in z.files}

    # -- appending ----------------------------------------------------------------------------------
    def _prepare(self, path: Path, columns: tuple[str, ...], migrate: bool = True) -> int:
        """Move a torn last line aside, check the header; the size the next append starts at. A file of
        an older schema (:data:`LEGACY`) is moved aside when ``migrate`` (before an append), else kept."""
        if not path.exists():
            return 0
        size = self._cut_torn_tail(path)
        if size == 0:
            return 0
        with path.open("rb") as f:
            header = f.readline().decode(errors="replace").rstrip("\r\n").split(",")
        for version, old in LEGACY.get(path.name, {}).items():
            if tuple(header) == old and not migrate:
                return size
            if tuple(header) == old:
                aside = path.with_name(f"{path.stem}.schema{version}{path.suffix}")
                if aside.exists():
                    raise DataError(f"{path} has the columns of schema {version}, and {aside} exists already; "
                                    "xbench moves an old file aside only once. Merge or move one of them away.")
                path.rename(aside)
                log.warning("%s has the columns of results schema %d; moved it to %s (read with the new file)",
                            path, version, aside)
                return 0
        if tuple(header) != columns:
            raise DataError(
                f"{path} has columns {header}, not the schema of this xbench version {list(columns)}. "
                "Write to a new folder with --results, or move the old file away; xbench never rewrites it."
            )
        return size

    @staticmethod
    def _cut_torn_tail(path: Path) -> int:
        """The size of ``path`` without a torn last line, which is moved to ``<file>.torn-<time>``."""
        with path.open("r+b") as f:
            size = f.seek(0, os.SEEK_END)
            tail = min(size, 1 << 20)
            f.seek(size - tail)
            block = f.read()
            if size == 0 or block.endswith(b"\n"):
                return size
            if block.rfind(b"\n") < 0 and tail < size:
                raise DataError(f"{path} ends in a line of over 1 MiB: it is not an xbench results file. Move it "
                                "away and run the command again.")
            cut = size - tail + block.rfind(b"\n") + 1
            aside = path.with_name(f"{path.name}.torn-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{os.getpid()}")
            aside.write_bytes(block[cut - (size - tail):])
            f.truncate(cut)
        log.warning("%s ended in a torn line (%d bytes, a write cut short by a crash or a full disk); moved it "
                    "to %s, the rows before it are intact", path, size - cut, aside)
        return cut

    @staticmethod
    def _encode(columns: tuple[str, ...], rows: list[dict[str, Any]], header: bool) -> bytes:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=columns, extrasaction="raise", lineterminator="\n")
        if header:
            w.writeheader()
        w.writerows(rows)
        return buf.getvalue().encode()

    @staticmethod
    def _append_at(path: Path, data: bytes, offset: int) -> None:
        """Append ``data`` to ``path`` whose committed size is ``offset``: whole, or not at all."""
        size = path.stat().st_size if path.exists() else 0
        if size > offset:  # a dead process's commit of these same bytes, cut short: redo it
            with path.open("rb") as f:
                f.seek(offset)
                done = f.read()
            if not data.startswith(done):
                raise DataError(f"{path} changed after a commit began at byte {offset}; it was written by "
                                "something other than xbench. Move it away and run the command again.")
            os.truncate(path, offset)
        elif size < offset:
            raise DataError(f"{path} is shorter ({size} bytes) than when a commit began ({offset} bytes): it was "
                            "truncated by something other than xbench. Restore it from a backup, or move it away.")
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        except OSError as e:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, offset)
            raise DataError(f"could not append to {path} ({e.strerror or e}); is the disk full? The file is "
                            "as it was before; the run's rows wait in the commit journal under "
                            f"{path.parent / 'runs'} and are written by the next xbench command on this "
                            "folder. Free space and run the same command again.") from None
        finally:
            os.close(fd)

    def write_run(self, key: str, record: dict[str, Any], scores: list[dict[str, Any]],
                  curves: list[dict[str, Any]]) -> None:
        """Commit one run's curves, scores and record (see the module docstring)."""
        self.release(key)
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.locked():
            previous = self.record(key)
            if previous is not None:
                record = {**record, "previous_attempts": previous.pop("previous_attempts", []) + [previous]}
            marker = self._marker(key)
            if marker is not None and marker.get("unfinished_attempts"):
                record = {**record, "unfinished_attempts": marker["unfinished_attempts"]}
            curve_rows = [{"run_key": key, **c, "created_at": record.get("created_at", "")} for c in curves]
            journal = {"run_key": key, "record": record, "scores": scores, "curves": curve_rows,
                       "offsets": {"scores": self._prepare(self.scores_path, SCORE_COLUMNS),
                                   "curves": self._prepare(self.curves_path, CURVE_COLUMNS)}}
            for name, columns in (("scores", SCORE_COLUMNS), ("curves", CURVE_COLUMNS)):
                self._encode(columns, journal[name], False)  # a row that does not fit the schema raises here
            jpath = self.runs_dir / f"{key}.commit.json"
            _write_json(jpath, journal)
            self._commit(jpath, journal)

    def _commit(self, jpath: Path, journal: dict[str, Any]) -> None:
        key = journal["run_key"]
        for name, path, columns in (("curves", self.curves_path, CURVE_COLUMNS),
                                    ("scores", self.scores_path, SCORE_COLUMNS)):
            offset = journal["offsets"][name]
            if journal[name]:
                self._append_at(path, self._encode(columns, journal[name], offset == 0), offset)
        _write_json(self.runs_dir / f"{key}.json", journal["record"])
        self._marker_path(key).unlink(missing_ok=True)
        jpath.unlink()

    def _recover(self) -> None:
        """Finish the commits of processes that died inside the lock (only they leave a journal)."""
        for jpath in sorted(self.runs_dir.glob("*.commit.json")):
            journal = _read_json(jpath)
            if journal is None:  # torn while written: nothing was appended yet
                log.warning("removing the unreadable commit journal %s (its run was not recorded and runs again)",
                            jpath)
                jpath.unlink()
                continue
            log.warning("finishing the commit of run %s left by a process that died", journal["run_key"])
            self._commit(jpath, journal)

    # -- reading ------------------------------------------------------------------------------------
    def repair(self) -> None:
        """Finish dead commits and move torn last lines aside, if the folder is writable."""
        if not self.folder.is_dir() or not os.access(self.folder, os.W_OK):
            return
        try:
            with self.locked():
                self._prepare(self.scores_path, SCORE_COLUMNS, migrate=False)
                self._prepare(self.curves_path, CURVE_COLUMNS, migrate=False)
        except OSError as e:
            log.warning("could not check %s for interrupted writes (%s); reading it as it is", self.folder, e)

    def load_scores(self):
        """Every row of scores.csv and of its moved-aside older schemas, checked (see :func:`read_table`);
        use :func:`latest_attempts` to rank."""
        self.repair()
        return self._load(self.scores_path, SCORE_COLUMNS)

    def load_curves(self):
        self.repair()
        return self._load(self.curves_path, CURVE_COLUMNS)

    @staticmethod
    def _load(path: Path, columns: tuple[str, ...]):
        import pandas as pd

        parts = [read_table(path.with_name(f"{path.stem}.schema{v}{path.suffix}"), columns)
                 for v in sorted(LEGACY.get(path.name, {}))]
        parts = [p for p in parts if not p.empty]
        current = read_table(path, columns)
        return pd.concat([*parts, current], ignore_index=True) if parts else current


def read_table(path: Path, columns: tuple[str, ...]):
    """A results CSV as a DataFrame; a missing or empty file is an empty table. A file that is not
    one (other columns, a row with the wrong field count, text in a number column) is a DataError
    naming the file and line. A torn last line (no end of line) is left out with a warning."""
    import pandas as pd

    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame(columns=list(columns))
    fix = (f"Move {path} away (xbench starts a new one) or fix that line by hand; xbench never rewrites "
           "results files.")
    raw = path.read_bytes()
    if not raw.endswith(b"\n"):
        log.warning("%s ends in a torn line (%d bytes); it is left out", path, len(raw) - raw.rfind(b"\n") - 1)
        raw = raw[:raw.rfind(b"\n") + 1]
    rows = [r for r in csv.reader(io.StringIO(raw.decode(errors="replace"))) if r]
    if not rows:
        return pd.DataFrame(columns=list(columns))
    found = tuple(rows[0])
    legacy = found in LEGACY.get(path.name.split(".")[0] + ".csv", {}).values()
    if found != columns and not legacy:
        raise DataError(f"{path} has columns {rows[0]}, not the schema of this xbench version {list(columns)}. {fix}")
    for line, row in enumerate(rows[1:], 2):
        if len(row) != len(found):
            raise DataError(f"{path}, line {line}: {len(row)} fields instead of {len(found)} (a line cut short, or "
                            f"joined to another). {fix}")
    df = pd.DataFrame(rows[1:], columns=list(found)).reindex(columns=list(columns), fill_value="")
    for col in NUMERIC[path.name.split(".")[0] + ".csv"]:
        text = df[col].str.strip()
        num = pd.to_numeric(text.where(text != "", "nan"), errors="coerce")
        bad = num.isna() & ~text.str.lower().isin(["", "nan"])
        if bad.any():
            line = int(bad.to_numpy().nonzero()[0][0]) + 2
            raise DataError(f"{path}, line {line}: column {col!r} holds {df[col][bad].iloc[0]!r}, not a number. {fix}")
        df[col] = num
    return df


def latest_attempts(scores):
    """The rows of one attempt per run key: the last ``ok`` attempt if any, else the last one.

    Rows of one attempt share ``created_at``; a key can have several attempts (a failure and its
    retry, or duplicates written by xbench versions before run claims), and ranking them all would
    count a run twice. Within the attempt, a repeated (split, metric) keeps its last row.
    """
    if scores.empty:
        return scores
    ok = (scores["status"] == "ok").astype(int)
    order = scores.assign(_ok=ok).sort_values(["run_key", "_ok", "created_at"], kind="stable")
    best = order.groupby("run_key", sort=False)[["_ok", "created_at"]].last()
    keep = (scores["created_at"].to_numpy() == scores["run_key"].map(best["created_at"]).to_numpy()) & \
        (ok.to_numpy() == scores["run_key"].map(best["_ok"]).to_numpy())
    out = scores[keep]
    return out[~out.duplicated(["run_key", "split", "metric"], keep="last")]


def check_results_folder(folder: Path, families: Iterable[str]) -> None:
    """Before any run: the folder and its result files are usable (DataError otherwise)."""
    for fam in families:
        store = ResultStore(folder / fam)
        store.load_scores()
        store.load_curves()
