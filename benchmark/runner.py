"""Plan and execute runs: one function that any launcher (local loop, Slurm, Ray) can call.

``plan`` turns (tasks x methods x seeds) into :class:`RunSpec` s with resolved configs and run keys;
``execute_run`` runs one of them and ALWAYS leaves a record: ``ok`` with every metric on the val and
test splits, or ``failed`` with the reason. Finished keys are skipped.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

import xbench
from xbench.config import RunSpec, resolve, settings_diff, settings_hash
from xbench.errors import ConfigError
from xbench.data import TaskData
from xbench.fidelity import Fidelity, assess, default_backbone
from xbench.methods import DEFAULT_METHODS, MethodSpec, get_method
from xbench.metrics import get_metric
from xbench.models import build_baseline, build_model, count_parameters, load_backbone
from xbench.models.baselines import CHEAP, baseline_problem
from xbench.provenance import git_sha, machine, package_versions
from xbench.results import ResultStore, run_key, utc_now
from xbench.source import source_reference
from xbench.source_files import (cifar10_reference, orca_text_reference, orca_text_tokens, resolve_source,
                                 source_sha256)
from xbench.tasks.registry import TaskSpec, get_task
from xbench.autoregressive import AutoregressiveTrainer
from xbench.phasekinds import run_phases
from xbench.train import Trainer

log = logging.getLogger(__name__)


@dataclass
class PlannedRun:
    spec: TaskSpec
    method: MethodSpec
    run: RunSpec
    key: str
    settings_hash: str = ""  # method version + result-changing settings (rows sharing it may be pooled)
    settings: str = ""  # the settings that differ from the profile's, task's and method's defaults
    fidelity: Fidelity | None = None  # the protocol compared with the reference code (xbench.fidelity)


def default_methods(spec: TaskSpec) -> list[str]:
    """What ``xbench run`` runs without ``--method``: the cheap baselines that apply to the task (so
    the first table shows what "learned nothing" scores), then :data:`DEFAULT_METHODS`."""
    return [m for m in CHEAP if not baseline_problem(m, spec)] + list(DEFAULT_METHODS)


@dataclass
class Outcome:
    planned: PlannedRun
    status: str  # ok | failed | skipped (finished earlier) | busy (another live process runs it)
    main_value: float | None = None
    error: str = ""
    wall_s: float = 0.0


def plan(tasks: list[str], methods: list[str] | None, seeds: list[int], profile: str, backbone: str | None,
         align_loss: str | None, overrides: dict,
         data_sha256: Callable[[TaskSpec, int | None], str], data_root: Path | None = None) -> list[PlannedRun]:
    """Every (task, method, seed) with its resolved config and run key (``methods=None``: the
    :func:`default_methods` of each task; ``backbone=None``: each task's
    :func:`xbench.fidelity.default_backbone`, the reference's body in the paper profile).

    ``data_sha256(spec, n_samples)`` gives the checksum of the file the run will read (the CLI
    locates, or generates, the file first), so a run on different data never counts as finished.
    The run key hashes :meth:`RunSpec.key_dict` (cosmetic settings left out, settings added later at
    their old behaviour left out: :func:`xbench.config.key_settings`). ``source=auto`` is resolved
    here against ``data_root`` (:func:`xbench.source_files.resolve_source`), and the checksum of the
    source files a run reads enters its key.
    """
    out, source_shas = [], {}
    for t in tasks:
        spec = get_task(t)
        for m in (default_methods(spec) if methods is None else methods):
            method = get_method(m)
            task_overrides = spec.profile_overrides(profile)
            cfg = resolve(profile, task_overrides, method.overrides, overrides)
            defaults = resolve(profile, task_overrides, method.overrides, {})
            if "auto" in (cfg.source, defaults.source):
                root = Path(data_root) if data_root is not None else Path("/nonexistent")
                cfg = replace(cfg, source=resolve_source(cfg.source, spec.modality, root))
                defaults = replace(defaults, source=resolve_source(defaults.source, spec.modality, root))
            src_sha = ""
            if method.model == "crossmodal" and cfg.source != "text":
                if cfg.source not in source_shas:
                    source_shas[cfg.source] = source_sha256(cfg.source, Path(data_root or "."))
                src_sha = source_shas[cfg.source]
            sh = settings_hash(method.version, cfg, method.reads)
            diff = settings_diff(cfg, defaults, method.reads)
            loss = (align_loss or method.align_loss) if method.aligns else "none"
            task_body = backbone or default_backbone(spec, profile)
            fidelity = assess(spec, method, cfg, task_body, loss)
            for seed in seeds:
                body = task_body if method.model == "crossmodal" else "none"  # baselines load no body
                run = RunSpec(spec.name, spec.version, method.name, method.version, body, loss, profile, seed,
                              data_sha256(spec, cfg.n_samples), cfg, src_sha)
                out.append(PlannedRun(spec, method, run, run_key(run.key_dict()), sh, diff, fidelity))
    return out


class PeakMemory:
    """Peak resident memory (MB) of this process while the block runs, sampled every 50 ms."""

    def __init__(self, device: torch.device):
        self.device, self.peak_mb, self._stop = device, 0.0, threading.Event()

    @staticmethod
    def _rss_mb() -> float:
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak_mb = max(self.peak_mb, self._rss_mb())

    def __enter__(self) -> PeakMemory:
        self.peak_mb = self._rss_mb()
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._rss_mb())
        if self.device.type == "cuda":
            self.peak_mb = torch.cuda.max_memory_allocated(self.device) / 2**20


def build_source(cfg, backbone, cache_dir: Path, data_root: Path | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The source reference (features (n, d), labels (n,)) that ``cfg.source`` names, checked against
    the body: its features must have the width of the body's embedder tokens."""
    if cfg.source == "text":
        return source_reference(backbone, cfg.n_source, cfg.source_window, cfg.n_classes, cache_dir)
    root = Path(data_root) if data_root is not None else Path(".")
    if cfg.source == "cifar10":
        if backbone.kind == "text" or backbone.embeddings is None:
            raise ConfigError("source=cifar10 embeds images with a vision body's patch embedding (ORCA: Swin); "
                              f"{backbone.name!r} is a text body. Use a Swin body or --set source=text.")
        feats, labels = cifar10_reference(backbone.embeddings, root, cfg.n_source)
    else:
        feats, labels = orca_text_reference(root, cfg.n_source)
    if feats.shape[1] != backbone.hidden_size:
        raise ConfigError(f"source={cfg.source}: its features are {feats.shape[1]} wide and the body's tokens "
                          f"{backbone.hidden_size} (ORCA's text features are RoBERTa-base's, 768); use the body they "
                          "were made with, or --set source=text.")
    return feats, labels


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def execute_run(p: PlannedRun, data: TaskData, store: ResultStore, device: torch.device, cache_dir: Path,
                progress: bool = False, data_root: Path | None = None, save_predictions: bool = False,
                live: tuple[str, Path] | None = None) -> Outcome:
    """Claim one planned run, run it and record it (ok or failed). Never raises for a failure inside
    the run; a key that finished, or that a live process holds, is not run (``skipped`` / ``busy``)."""
    run, cfg, spec = p.run, p.run.config, p.spec
    claim = store.claim(p.key, {"task": spec.name, "method": run.method, "seed": run.seed, "profile": run.profile})
    if claim != "claimed":  # finished, or held by a live process (another job of the sweep)
        return Outcome(p, "skipped" if claim == "finished" else "busy")
    t0, status, error, tb, metrics, trainer, predictions = time.time(), "ok", "", "", {}, None, None
    with PeakMemory(device) as mem:
        try:
            seed_everything(run.seed)
            if p.method.model == "crossmodal":
                backbone = load_backbone(run.backbone, pretrained=p.method.pretrained, seed=run.seed)
                model = build_model(backbone, spec.input_shape, spec.output_shape, cfg.target_seq_len,
                                    cfg.embed_norm, cfg.dense_head, cfg.embed_2d, cfg.channels_1d)
            else:
                model = build_baseline(p.method.model, spec, data)
            trainer_cls = AutoregressiveTrainer if spec.protocol.get("name") == "autoregressive" else Trainer
            trainer = trainer_cls(model, data, spec, cfg, device, run.seed, progress)
            if live is not None:  # (backend, log dir): mirror the curves live (xbench.live)
                from xbench.live import LiveLogger

                trainer.live = LiveLogger(live[0], p.key, live[1], {**run.as_dict(), "settings": p.settings})
            source = None
            # the bound terms (xbench.theory) need the source reference too; it exists for text bodies only
            tracked = (cfg.track_bound and p.method.model == "crossmodal"
                       and (backbone.kind == "text" or cfg.source == "cifar10"))
            if p.method.needs_source or tracked:
                source = build_source(cfg, backbone, cache_dir, data_root)
            reads_tokens = any(ph.kind == "pare" or (ph.kind == "fld" and cfg.fld_reads == "body")
                               for ph in p.method.phases)
            if cfg.source == "orca-text" and reads_tokens:
                trainer.source_tokens = orca_text_tokens(Path(data_root or "."), cfg.n_source)[0]
            run_phases(trainer, p.method.phases, run.align_loss, source)
            metrics = {s: trainer.evaluate(s) for s in ("val", "test")}
            if save_predictions:
                predictions = store.save_predictions(p.key, {"prediction": trainer.predict("test").numpy(),
                                                             "target": data.y["test"].numpy(),
                                                             "input": data.x["test"].numpy()})
        except KeyboardInterrupt:
            status, error, tb = "failed", "interrupted by the user", traceback.format_exc()
            _record(p, data, store, device, status, error, tb, {}, trainer, time.time() - t0, mem._rss_mb())
            raise
        except Exception as e:  # the run fails; the sweep goes on and the failure is recorded
            status, error, tb = "failed", f"{type(e).__name__}: {e}", traceback.format_exc()
            log.error("run %s (%s, %s, seed %d) failed: %s", p.key, spec.name, run.method, run.seed, error)
    wall = time.time() - t0
    if trainer is not None and getattr(trainer, "live", None) is not None:
        trainer.live.close()
    _record(p, data, store, device, status, error, tb, metrics, trainer, wall, mem.peak_mb,
            predictions if status == "ok" else None)
    main = metrics.get("test", {}).get(spec.main_metric)
    return Outcome(p, status, main, error, wall)


def _record(p: PlannedRun, data: TaskData, store: ResultStore, device: torch.device, status: str, error: str,
            tb: str, metrics: dict, trainer: Trainer | None, wall: float, peak_mb: float,
            predictions: dict | None = None) -> None:
    run, spec = p.run, p.spec
    common = {
        "run_key": p.key, "xbench_version": xbench.__version__, "git_sha": git_sha(), "task": spec.name,
        "task_version": spec.version, "method": run.method, "method_version": run.method_version,
        "backbone": run.backbone, "align_loss": run.align_loss, "profile": run.profile, "seed": run.seed,
        "n_train": len(data.x["train"]), "data_source": data.data_source, "data_sha256": data.data_sha256,
        "wall_s": round(wall, 2), "peak_mem_mb": round(peak_mb, 1), "device": str(device), "status": status,
        "created_at": utc_now(), "settings_hash": p.settings_hash, "settings": p.settings,
        "fidelity": p.fidelity.status if p.fidelity else "",
    }
    rows = []
    for split, values in metrics.items():
        for name, value in values.items():
            rows.append({**common, "split": split, "metric": name, "value": value,
                         "higher_is_better": get_metric(name).higher_is_better,
                         "is_main": name == spec.main_metric})
    if status != "ok":
        rows = [{**common, "split": "test", "metric": spec.main_metric, "value": float("nan"),
                 "higher_is_better": get_metric(spec.main_metric).higher_is_better, "is_main": True}]
    record = {
        "run_key": p.key, "status": status, "error": error, "traceback": tb, "run": run.as_dict(),
        "settings_hash": p.settings_hash, "settings": p.settings,
        "fidelity": p.fidelity.as_dict() if p.fidelity else None,
        "task_spec": spec.describe(), "method": p.method.__dict__ | {"phases": [ph.__dict__ for ph in p.method.phases]},
        "data": {"source": data.data_source, "path": data.data_path, "sha256": data.data_sha256,
                 "n_file_samples": data.n_file_samples, "splits": data.sizes(),
                 "x_normalizer": data.x_norm.state(), "y_normalizer": data.y_norm.state()},
        "model": {"kind": p.method.model, "n_params": count_parameters(trainer.model) if trainer else None},
        "metrics": metrics, "summary": trainer.summary if trainer else {}, "wall_s": wall, "peak_mem_mb": peak_mb,
        "predictions": predictions,  # the test split's de-normalised predictions (--save-predictions)
        "versions": package_versions(), "git_sha": common["git_sha"], "machine": machine(),
        "device": str(device), "created_at": common["created_at"],
    }
    store.write_run(p.key, record, rows, trainer.curves if trainer else [])
