"""The data card of every single-step PDEBench task as one markdown table (docs/data-cards.md).

    python benchmarks/data_cards.py --profile quick --data-root DATA > table.md

Generates missing data with xbench's solvers (the profile's sample counts). Columns: samples,
distinct input fields, test samples with an exact / near (1 %) training twin, the test main metric
of the cheap baselines and of the nearest training target, and linear's R^2 on test.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from xbench.config import resolve
from xbench.report.datacard import data_card
from xbench.tasks.datafiles import load_task_data
from xbench.tasks.registry import list_tasks

COLS = ("train-mean", "linear", "input-mean", "persistence", "nearest-train")


def fmt(v) -> str:
    return "-" if v is None else (f"{v:.3g}" if abs(v) >= 1e-3 else f"{v:.2e}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="quick")
    p.add_argument("--data-root", default="data")
    p.add_argument("--tasks", nargs="*", default=None)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    tasks = [t for t in list_tasks() if t.protocol.get("name") == "orca-single-step"
             and (args.tasks is None or t.name in args.tasks)]
    print("| task | data | samples (train/val/test) | distinct inputs | test twins exact / near | "
          + " | ".join(COLS) + " | linear R^2 |")
    print("|---|---|---|---|---|" + "---|" * len(COLS) + "---|")
    for spec in tasks:
        t0 = time.time()
        cfg = resolve(args.profile, spec.profile_overrides(args.profile), {}, {})
        data = load_task_data(spec, Path(args.data_root), cfg.n_samples, False, False)
        c = data_card(spec, data, cfg)
        s = c["splits"]
        print(f"| {spec.name} | {c['data_source']} {c['data_sha256'][:8]} | {c['samples']} ({s['train']}/{s['val']}/"
              f"{s['test']}) | {c['distinct_inputs']} | {c['test_exact_twins']} / {c['test_near_twins']} | "
              + " | ".join(fmt(c["scores"].get(k)) for k in COLS) + f" | {c.get('linear_r2', float('nan')):.4f} |",
              flush=True)
        logging.getLogger("data_cards").warning("%s: %.0f s", spec.name, time.time() - t0)


if __name__ == "__main__":
    main()
