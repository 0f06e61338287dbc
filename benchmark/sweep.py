"""Sweeps: tasks x methods x seeds x a grid of settings, from flags or a suite file, on worker processes.

A suite is a TOML (or YAML) file, one of ``benchmark/suites/`` by name or any path::

    name = "alignment-strength"
    profile = "cpu"
    tasks = ["pdebench-diff-react", "pdebench-darcy"]
    methods = ["orca"]                  # omitted: each task's default methods (baselines first)
    seeds = [0, 1, 2]
    [set]                               # fixed overrides (--set)
    epochs = 10
    [grid]                              # every combination is its own setting (its own settings hash)
    align_steps = [0, 5, 15, 30, 60]

:func:`plan_suite` plans every run in this process (locating or generating each data file once, under
its lock), :func:`run_sweep` runs the unfinished ones on ``jobs`` local worker processes; each worker
re-plans its run (deterministic: same key) and executes it with :func:`xbench.runner.execute_run`,
which claims the key under the results folder's lock. So a sweep is idempotent: finished runs are
skipped, a sweep killed at any moment and restarted ends with every run exactly once, and two sweeps
on one folder never run a key twice or corrupt a file. The launcher only decides where a run
executes; the run function and the result files are the same everywhere.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from xbench.errors import ConfigError

log = logging.getLogger(__name__)
SUITES = Path(__file__).with_name("suites")


@dataclass
class Suite:
    name: str
    tasks: list[str]
    methods: list[str] | None = None
    seeds: list[int] = field(default_factory=lambda: [0])
    profile: str = "quick"
    backbone: str | None = None
    align_loss: str | None = None
    set: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)

    def overrides(self) -> list[dict[str, Any]]:
        """The fixed overrides combined with every point of the grid (one dict per point)."""
        keys = sorted(self.grid)
        return [{**self.set, **dict(zip(keys, values))} for values in itertools.product(*(self.grid[k] for k in keys))]


def load_suite(name_or_path: str) -> Suite:
    """A suite by name (``xbench sweep --list`` shows them) or from a ``.toml`` / ``.yaml`` file."""
    path = Path(name_or_path)
    if not path.exists():
        path = SUITES / f"{name_or_path}.toml"
    if not path.exists():
        from xbench.errors import unknown_name

        raise unknown_name("suite", name_or_path, {p.stem: p for p in SUITES.glob("*.toml")},
                           "Give a suite name or the path of a .toml/.yaml file.")
    if path.suffix in (".yaml", ".yml"):
        import yaml

        raw = yaml.safe_load(path.read_text()) or {}
    else:
        import tomllib

        try:
            raw = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML ({e}).") from None
    known = set(Suite.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown or "tasks" not in raw:
        raise ConfigError(f"{path}: {'unknown keys ' + ', '.join(unknown) if unknown else 'no tasks'}; a suite has "
                          f"{', '.join(sorted(known))} (tasks required).")
    raw.setdefault("name", path.stem)
    grid = raw.get("grid", {})
    bad = [k for k, v in grid.items() if not isinstance(v, list) or not v]
    if bad:
        raise ConfigError(f"{path}: grid values must be non-empty lists ({', '.join(bad)}).")
    return Suite(**raw)


def plan_suite(suite: Suite, data_sha256: Callable, data_root: Path) -> list:
    """Every run of the suite (:func:`xbench.runner.plan` per grid point), each experiment once: grid
    points a method does not read (its settings hash is the same) are not run again."""
    from xbench.config import parse_value, resolve
    from xbench.methods import get_method
    from xbench.models.baselines import baseline_problem
    from xbench.runner import plan
    from xbench.tasks.registry import get_task

    runs, seen = [], set()
    for point in suite.overrides():
        overrides = {k: parse_value(k, str(v)) if not isinstance(v, (int, float, bool)) else v for k, v in point.items()}
        for t in suite.tasks:
            spec = get_task(t)
            resolve(suite.profile, spec.profile_overrides(suite.profile), {}, overrides)  # bad values: now
            # a baseline that does not apply to a task (input-mean on Darcy's a -> u) is left out, as by default
            methods = None if suite.methods is None else [
                m for m in suite.methods if get_method(m).model == "crossmodal" or not baseline_problem(
                    get_method(m).model, spec)]
            for p in plan([t], methods, suite.seeds, suite.profile, suite.backbone, suite.align_loss, overrides,
                          data_sha256, data_root):
                # a grid over a setting a method does not read (lr for a closed-form baseline) is one experiment
                same = (p.spec.name, p.run.method, p.run.seed, p.settings_hash, p.run.data_sha256, p.run.backbone,
                        p.run.align_loss, p.run.profile)
                if same not in seen:
                    seen.add(same)
                    runs.append((p, overrides))
    return runs


def _worker(job: dict[str, Any]) -> dict[str, Any]:
    """Run one planned run in a worker process (re-planned from its coordinates: the same key)."""
    import torch

    from xbench.results import ResultStore
    from xbench.runner import execute_run, plan
    from xbench.tasks.datafiles import load_task_data, located_sha256

    torch.set_num_threads(job["threads"])
    root = Path(job["data_root"])

    def sha(spec, n):
        return located_sha256(spec, root, n, False, job["allow_unverified"])

    (p,) = plan([job["task"]], [job["method"]], [job["seed"]], job["profile"], job["backbone"], job["align_loss"],
                job["overrides"], sha, root)
    if p.key != job["key"]:
        return {**job, "status": "failed", "error": f"re-planned key {p.key} differs from {job['key']}"}
    data = load_task_data(p.spec, root, p.run.config.n_samples, False, job["allow_unverified"],
                          job.get("allow_pickle", False))
    out = execute_run(p, data, ResultStore(Path(job["results"]) / p.spec.family), torch.device(job["device"]),
                      root / "cache" / "source", data_root=root, save_predictions=job["save_predictions"])
    return {**job, "status": out.status, "error": out.error, "wall_s": out.wall_s, "main": out.main_value}


LAUNCHERS = ("local", "submitit", "ray")


def _executor(launcher: str, jobs: int, results: Path, options: dict[str, Any]):
    """A ``concurrent.futures``-style executor: local processes, submitit (Slurm, or its ``local``
    cluster on one machine) or Ray (``ray.init()``: a local cluster, or the one ``address`` names)."""
    if launcher == "local":
        return ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=get_context("spawn"))
    if launcher == "submitit":
        try:
            import submitit
        except ImportError:
            raise ConfigError("--launcher submitit needs the package: pip install submitit") from None
        ex = submitit.AutoExecutor(folder=str(results / ".submitit"), cluster=options.pop("cluster", None))
        ex.update_parameters(**{"timeout_min": 240, **options})
        return _SubmititPool(ex)
    if launcher == "ray":
        try:
            import ray
        except ImportError:
            raise ConfigError("--launcher ray needs the package: pip install 'ray[default]'") from None
        if not ray.is_initialized():
            address = options.pop("address", None)
            ray.init(address=address, num_cpus=None if address else options.pop("num_cpus", jobs),
                     include_dashboard=False, log_to_driver=False)
        return _RayPool(ray.remote(num_cpus=options.pop("cpus_per_run", 1))(_worker))  # Ray's CPUs cap concurrency
    raise ConfigError(f"unknown launcher {launcher!r}; choose {', '.join(LAUNCHERS)}.")


class _SubmititPool:
    """submitit jobs as futures (each job: one run, submitted at once; the scheduler queues them)."""

    def __init__(self, executor):
        self.ex = executor

    def submit(self, fn, arg):
        return _Done(self.ex.submit(fn, arg))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Done:
    """A submitit job or Ray object ref behind the two methods :func:`run_sweep` uses."""

    def __init__(self, job, get=None):
        self.job, self._get = job, get

    def done(self) -> bool:
        if self._get is not None:
            import ray

            ready, _ = ray.wait([self.job], timeout=0)
            return bool(ready)
        return self.job.done()

    def result(self):
        return self._get(self.job) if self._get is not None else self.job.result()


class _RayPool:
    def __init__(self, remote):
        self.remote = remote

    def submit(self, fn, arg):
        import ray

        return _Done(self.remote.remote(arg), ray.get)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def run_sweep(runs: Iterable, results: Path, data_root: Path, device: str, jobs: int = 1,
              allow_unverified: bool = False, save_predictions: bool = False,
              report: Callable[[dict[str, Any], dict[str, int], float], None] | None = None,
              launcher: str = "local", options: dict[str, Any] | None = None,
              allow_pickle: bool = False) -> list[dict[str, Any]]:
    """Run the planned ``runs`` that are not finished, ``jobs`` at a time (``launcher``: where; the run
    function and the result files are the same everywhere); returns every outcome."""
    from xbench.results import ResultStore

    todo = []
    for p, overrides in runs:
        if ResultStore(results / p.spec.family).finished(p.key):
            continue
        todo.append({"key": p.key, "task": p.spec.name, "method": p.run.method, "seed": p.run.seed,
                     "profile": p.run.profile, "backbone": p.run.backbone if p.method.model == "crossmodal" else None,
                     "align_loss": None if p.run.align_loss == "none" else p.run.align_loss,
                     "overrides": overrides, "results": str(results), "data_root": str(data_root),
                     "device": device, "allow_unverified": allow_unverified, "save_predictions": save_predictions,
                     "allow_pickle": allow_pickle, "threads": max(1, (os.cpu_count() or 1) // max(1, jobs))})
    counts = {"done": 0, "failed": 0, "remaining": len(todo)}
    outcomes: list[dict[str, Any]] = []
    t0 = time.time()
    with _executor(launcher, jobs, results, dict(options or {})) as pool:  # local: spawned, fresh interpreters
        pending = {pool.submit(_worker, j): j for j in todo}
        while pending:
            if launcher == "local":
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
            else:
                done = [f for f in pending if f.done()]
                if not done:
                    time.sleep(0.5)
                    continue
            for fut in done:
                job = pending.pop(fut)
                try:
                    out = fut.result()
                except Exception as e:  # noqa: BLE001 - a worker that died (killed, out of memory) is a failure
                    out = {**job, "status": "failed", "error": f"worker died: {type(e).__name__}: {e}"}
                counts["remaining"] -= 1
                counts["failed" if out["status"] == "failed" else "done"] += 1
                outcomes.append(out)
                if report:
                    report(out, counts, time.time() - t0)
    return outcomes
