"""Cost of tracking the bound terms (xbench.theory) per evaluation, against one fitting epoch.

Run:  python benchmarks/bound_cost.py [--backbone minilm] [--n-samples 320] [--repeats 5]

Builds the quick-profile model (MiniLM body, target_seq_len 32) on synthetic 1D fields of Burgers'
shape (1 x 1024) with the quick profile's split sizes, a source reference of ``n_source`` points, and
times: training the source head (once per run), building the tracker (once per run), one evaluation
of all bound terms (after every alignment step; after a fit epoch, which already has the validation
metric), and one fitting epoch for scale.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import torch

from xbench.config import resolve
from xbench.data import TaskData, split_indices
from xbench.models import build_model, load_backbone
from xbench.source import source_windows
from xbench.tasks.registry import get_task
from xbench.train import Trainer


def fields(n: int, length: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    x = (np.arange(length) + 0.5) / length
    amp, phase, mean = rng.uniform(0.5, 1.5, (3, n, 1))
    u0 = mean + amp * np.sin(2 * np.pi * x + 2 * np.pi * phase)
    u1 = mean + 0.3 * amp * np.sin(2 * np.pi * x + 2 * np.pi * phase)
    return (torch.tensor(u0, dtype=torch.float32)[:, None], torch.tensor(u1, dtype=torch.float32)[:, None])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backbone", default="minilm")
    ap.add_argument("--n-samples", type=int, default=320)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.manual_seed(0)
    spec = get_task("pdebench-burgers")
    cfg = resolve("quick", spec.profile_overrides("quick"), {}, {"n_samples": args.n_samples})
    x, y = fields(args.n_samples, spec.input_shape[1])
    idx = split_indices(args.n_samples)
    data = TaskData(spec.name, {s: x[i] for s, i in idx.items()}, {s: y[i] for s, i in idx.items()},
                    "generated", "synthetic", "-", args.n_samples)
    backbone = load_backbone(args.backbone)
    model = build_model(backbone, spec.input_shape, spec.output_shape, cfg.target_seq_len)
    with torch.no_grad():
        feats = backbone.embeddings(input_ids=source_windows(backbone, cfg.n_source, cfg.source_window)).mean(1)
    labels = torch.as_tensor(np.arange(cfg.n_source) % cfg.n_classes)
    trainer = Trainer(model, data, spec, cfg, torch.device("cpu"), seed=0)
    trainer.set_source((feats, labels))
    data.pseudo_labels(cfg.n_classes)
    t0 = time.perf_counter()
    trainer.source_model()
    t_head = time.perf_counter() - t0
    t0 = time.perf_counter()
    tracker = trainer.bound_tracker()
    t_build = time.perf_counter() - t0
    times: dict[str, list[float]] = {"all": [], "fit": []}
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        terms = tracker.terms()
        times["all"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        tracker.terms(val=terms.val)  # in a fit epoch the trainer passes the validation metric it computed
        times["fit"].append(time.perf_counter() - t0)
    trainer.cfg = dataclasses.replace(cfg, epochs=1, track_bound=False)
    t0 = time.perf_counter()
    trainer.fit()
    t_epoch = time.perf_counter() - t0
    print(f"backbone {args.backbone}, {data.sizes()}, n_source {cfg.n_source}, bound_points {cfg.bound_points}, "
          f"torch threads {torch.get_num_threads()}")
    print("| what | seconds |\n|---|---|")
    print(f"| source head (once per run, {cfg.source_head_epochs} epochs) | {t_head:.3f} |")
    print(f"| tracker set-up (once per run) | {t_build:.3f} |")
    print(f"| one evaluation, alignment step (val metric computed too; median of {args.repeats}) | "
          f"{float(np.median(times['all'])):.3f} |")
    print(f"| one evaluation, fit epoch (val metric passed in; median of {args.repeats}) | "
          f"{float(np.median(times['fit'])):.3f} |")
    print(f"| one fitting epoch incl. validation (for scale) | {t_epoch:.3f} |")
    print(f"terms: bound {terms.bound:.4g} = source loss {terms.source_loss:.4g} + tau {terms.tau_max:.3g} x W "
          f"{terms.w2:.4g} + FLD {terms.fld:.4g} + fit {terms.fit:.4g}")


if __name__ == "__main__":
    main()
