"""A task's data card: how hard the task is before any method runs (``xbench data card TASK``).

For the data a profile uses (its ``n_samples``, the task's split):

- ``distinct_inputs``: distinct input fields among all samples (equal after rounding each value to
  ``1e-6`` of the overall scale, :func:`xbench.data.input_groups`, the groups a grouped split keeps
  together); fewer than the samples means repeated initial conditions;
- ``test_exact_twins`` / ``test_near_twins``: test samples whose nearest training input (L2) is
  identical (relative distance below 1e-6) or within ``NEAR`` (relative L2 distance, 1 %): there the
  test split measures recall of a training pair rather than generalisation;
- the test main metric of the cheap baselines (``train-mean``, ``linear``, ``input-mean``,
  ``persistence``, where they apply) and of ``nearest-train`` (the target of the nearest training
  input: what memorisation scores);
- ``linear_r2``: the fraction of the test targets' variance about the training mean that the
  ridge map explains, :math:`1 - \\sum\\|y - \\hat y\\|^2 / \\sum\\|y - \\bar y_{train}\\|^2`.
"""

from __future__ import annotations

from typing import Any

import torch

from xbench.data import TaskData, input_groups

NEAR = 1e-2
EXACT = 1e-6


def _nearest(train: torch.Tensor, other: torch.Tensor, chunk: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """For each row of ``other`` (m, D): index of the nearest row of ``train`` (n, D) and the distance."""
    idx, dist = [], []
    for part in other.split(chunk):
        d = torch.cdist(part.double(), train.double())
        v, i = d.min(dim=1)
        idx.append(i)
        dist.append(v)
    return torch.cat(idx), torch.cat(dist)


def data_card(spec, data: TaskData, cfg) -> dict[str, Any]:
    """The card's numbers (module docstring) for task ``spec`` on ``data`` under config ``cfg``."""
    from xbench.methods import get_method
    from xbench.metrics import compute_metrics
    from xbench.models.baselines import CHEAP, baseline_problem, build_baseline
    from xbench.phasekinds import run_phases
    from xbench.train import Trainer

    x = {s: data.x[s].flatten(1) for s in ("train", "val", "test")}
    y = {s: data.y[s] for s in ("train", "val", "test")}
    every = torch.cat(list(x.values()))
    distinct = len(set(input_groups(every).tolist()))  # the rule the grouped split uses
    nn_idx, nn_dist = _nearest(x["train"], x["test"])
    rel = nn_dist / x["test"].double().norm(dim=1).clamp_min(1e-30)
    card: dict[str, Any] = {
        "task": spec.name, "task_version": spec.version, "data_source": data.data_source,
        "data_sha256": data.data_sha256, "splits": data.sizes(), "samples": len(every),
        "distinct_inputs": distinct, "test_exact_twins": int((rel <= EXACT).sum()),
        "test_near_twins": int((rel <= NEAR).sum()), "main_metric": spec.main_metric, "scores": {},
    }
    main = spec.main_metric
    card["scores"]["nearest-train"] = compute_metrics((main,), y["train"][nn_idx], y["test"])[main]
    for name in CHEAP:
        if baseline_problem(name, spec):
            continue
        trainer = Trainer(build_baseline(name, spec, data), data, spec, cfg, torch.device("cpu"), 0)
        run_phases(trainer, get_method(name).phases, "none", None)
        card["scores"][name] = trainer.evaluate("test", (main,))[main]
        if name == "linear":
            pred = trainer.predict("test").double()
            sse = ((pred - y["test"].double()) ** 2).sum()
            sst = ((y["test"].double() - y["train"].double().mean(dim=0)) ** 2).sum()
            card["linear_r2"] = float(1 - sse / sst.clamp_min(1e-300))
    return card


def format_card(card: dict[str, Any]) -> str:
    s = card["splits"]
    lines = [f"{card['task']} v{card['task_version']} ({card['data_source']} data, sha256 {card['data_sha256'][:12]})",
             f"  samples {card['samples']}: train {s['train']}, val {s['val']}, test {s['test']}",
             f"  distinct input fields: {card['distinct_inputs']} of {card['samples']}",
             f"  test samples with a training twin: {card['test_exact_twins']} exact, {card['test_near_twins']} within "
             f"{NEAR:.0%} (relative L2) of {s['test']}",
             f"  test {card['main_metric']} of the baselines:"]
    lines += [f"    {k:<14} {v:.4g}" for k, v in sorted(card["scores"].items(), key=lambda kv: kv[1])]
    if "linear_r2" in card:
        lines.append(f"  variance of the test targets a linear map explains (R^2 of linear): {card['linear_r2']:.4f}")
    return "\n".join(lines)
