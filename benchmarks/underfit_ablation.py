"""Why does the pretrained transformer underfit? Ablations of ``finetune`` on one task (issue 11).

Each variant changes one thing against the base (the task's profile settings): the loss space,
the learning rate, the epochs, the token layout, the embedder's LayerNorm. Every variant prints its
learning curve (train loss and validation main metric per epoch) and its test score beside the
``train-mean`` and ``linear`` baselines on the same data. Nothing is written to a results folder:
this is a diagnosis, the numbers people cite come from ``xbench run``.

    python benchmarks/underfit_ablation.py pdebench-diff-react --profile quick --variants base lr1e-3 no-ln
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch
from torch import nn

from xbench.config import resolve
from xbench.methods import get_method
from xbench.models import build_baseline, build_model, load_backbone
from xbench.runner import seed_everything
from xbench.tasks.datafiles import load_task_data
from xbench.tasks.registry import get_task
from xbench.phasekinds import run_phases
from xbench.train import Trainer


class Rescaled(nn.Module):
    """LayerNorm that keeps each token's norm as an extra scale (the amplitude a plain LN removes)."""

    def __init__(self, norm: nn.LayerNorm):
        super().__init__()
        self.norm = norm

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.norm(h) * (h.std(dim=-1, keepdim=True) + 1e-6).log1p()


VARIANTS = {  # name -> (settings, model surgery)
    "base": ({}, None),
    "normalised-loss": ({"loss_space": "normalised"}, None),
    "lr1e-3": ({"lr": 1e-3}, None),
    "lr3e-5": ({"lr": 3e-5}, None),
    "epochs4x": ({"epochs_mult": 4}, None),
    "tokens128": ({"target_seq_len": 128}, None),
    "tokens8": ({"target_seq_len": 8}, None),
    "no-ln": ({"embed_norm": "none"}, None),
    "bert-ln": ({"embed_norm": "bert"}, None),
    "lr1e-4": ({"lr": 1e-4}, None),
    "scaled-ln": ({}, "scaled-ln"),
    "no-clip": ({"clip": None}, None),
}


def surgery(model: nn.Module, kind: str | None) -> None:
    if kind == "scaled-ln":
        model.embedder.norm = Rescaled(model.embedder.norm)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task")
    p.add_argument("--profile", default="quick")
    p.add_argument("--method", default="finetune")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS),
                   help=f"variants, or several joined by '+' (e.g. no-ln+lr1e-3): {', '.join(VARIANTS)}")
    p.add_argument("--set", nargs="*", default=[], help="extra settings for every variant, key=value")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-root", default="data")
    p.add_argument("--out", default=None, help="append one JSON line per variant here")
    args = p.parse_args()
    from xbench.config import parse_overrides

    spec, method = get_task(args.task), get_method(args.method)
    extra = parse_overrides(args.set)
    base_cfg = resolve(args.profile, spec.profile_overrides(args.profile), method.overrides, extra)
    data = load_task_data(spec, Path(args.data_root), base_cfg.n_samples, False, True)
    dev = torch.device("cpu")
    for b in ("train-mean", "linear"):
        cfg = resolve(args.profile, spec.profile_overrides(args.profile), {}, extra)
        t = Trainer(build_baseline(b, spec, data), data, spec, cfg, dev, args.seed)
        run_phases(t, get_method(b).phases, "none", None)
        print(f"{b:>16}: test {spec.main_metric} {t.evaluate('test')[spec.main_metric]:.4g}")
    for name in args.variants:
        parts = name.split("+")
        unknown = [v for v in parts if v not in VARIANTS]
        if unknown:
            raise SystemExit(f"unknown variant(s) {unknown}; known: {', '.join(VARIANTS)}")
        settings = {k: v for v in parts for k, v in VARIANTS[v][0].items()}
        cuts = [VARIANTS[v][1] for v in parts if VARIANTS[v][1]]
        cut = cuts[0] if cuts else None
        mult = settings.pop("epochs_mult", 1)
        cfg = dataclasses.replace(base_cfg, **settings, track_bound=False)
        if mult != 1:
            cfg = dataclasses.replace(cfg, epochs=cfg.epochs * mult)
        seed_everything(args.seed)
        body = load_backbone("minilm", pretrained=method.pretrained, seed=args.seed)
        model = build_model(body, spec.input_shape, spec.output_shape, cfg.target_seq_len, cfg.embed_norm)
        surgery(model, cut)
        t0 = time.time()
        t = Trainer(model, data, spec, cfg, dev, args.seed)
        run_phases(t, method.phases, "none", None)
        test = t.evaluate("test")[spec.main_metric]
        train = t.evaluate("train")[spec.main_metric]
        curve = [(c["epoch"], c["quantity"], round(c["value"], 5)) for c in t.curves
                 if c["phase"] == "fit" and (c["quantity"] == spec.main_metric or c["quantity"].startswith("loss"))]
        val = [v for _, q, v in curve if q == spec.main_metric]
        loss = [v for _, q, v in curve if q.startswith("loss")]
        print(f"{name:>16}: test {test:.4g}, train {train:.4g}, {time.time() - t0:.0f} s; val per epoch {val}; "
              f"train loss per epoch {loss}", flush=True)
        if args.out:
            with open(args.out, "a") as f:
                f.write(json.dumps({"task": spec.name, "profile": args.profile, "method": args.method,
                                    "variant": name, "settings": {**extra, **settings, "epochs": cfg.epochs},
                                    "test": test, "train": train, "val_curve": val, "loss_curve": loss,
                                    "wall_s": time.time() - t0}) + "\n")


if __name__ == "__main__":
    main()
