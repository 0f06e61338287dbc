"""The headline study (issue 13): how much alignment helps fitting, from the results of the suites
alignment-strength (orca's align_steps), joint-lambda (joint's joint_lambda), adaptive (xbench-adaptive,
finetune, linear) and data-size (n_samples for orca, finetune, scratch, linear).

    python benchmarks/alignment_study.py RESULTS_DIR OUT_DIR

Per task: test error (mean, 95 % t-interval over seeds) against the alignment strength; the bound's
alignment terms (tau W, FLD, tau W + FLD) at the hand-over to fitting; the Spearman correlation, over
the runs, between tau W + FLD at the hand-over and the test error, with a bootstrap interval (does the
bound's alignment part predict which strength wins?); and test error against the number of samples.
Writes ``study.md`` and the figures ``strength-<task>`` and ``data-size-<task>`` (PNG and PDF).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from xbench.report.bound import bootstrap_ci, spearman
from xbench.report.figures import _plt, _save
from xbench.results import ResultStore, latest_attempts

KNOBS = {"orca": "align_steps", "joint": "joint_lambda"}


def runs_table(folder: Path) -> pd.DataFrame:
    """One row per ok run: task, method, seed, the knobs from its record, test error, hand-over terms."""
    store = ResultStore(folder)
    s = latest_attempts(store.load_scores())
    s = s[(s["split"] == "test") & (s["is_main"].astype(str) == "True") & (s["status"] == "ok")]
    curves = store.load_curves()
    rows = []
    for _, r in s.drop_duplicates("run_key").iterrows():
        rec = json.loads((store.runs_dir / f"{r['run_key']}.json").read_text())
        cfg = rec["run"]["config"]
        c = curves[(curves["run_key"] == r["run_key"]) & (curves["created_at"] == r["created_at"])]
        # the hand-over: the last tracked point before fitting (the last alignment step, else init)
        terms = c[c["quantity"].isin(["bound", "bound_w", "bound_fld", "bound_fit", "bound_source_loss"])
                  & c["phase"].isin(["init", "align", "adaptive-align", "source-head", "fld"])]
        handover = terms.drop_duplicates("quantity", keep="last").set_index("quantity")["value"]
        tau_w = (handover.get("bound", np.nan) - handover.get("bound_source_loss", np.nan)
                 - handover.get("bound_fld", np.nan) - handover.get("bound_fit", np.nan))
        rows.append({"task": r["task"], "method": r["method"], "seed": r["seed"], "test": r["value"],
                     "align_steps": cfg["align_steps"], "joint_lambda": cfg["joint_lambda"],
                     "n_samples": cfg["n_samples"], "tau_w": tau_w, "fld": handover.get("bound_fld", np.nan)})
    return pd.DataFrame(rows)


def ci(values: pd.Series) -> tuple[float, float, int]:
    from scipy.stats import t

    v = values.dropna().to_numpy()
    half = t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)) if len(v) > 1 else float("nan")
    return float(v.mean()), float(half), len(v)


def study(results: Path, out: Path) -> str:
    t = runs_table(results / "pdebench")
    out.mkdir(parents=True, exist_ok=True)
    plt = _plt()
    lines = ["# How much alignment helps fitting (cpu profile)", "",
             f"From `{results}`; test main metric, mean +- 95 % t-interval over seeds.", ""]
    for task in sorted(t["task"].unique()):
        g = t[t["task"] == task]
        lines += [f"## {task}", "", "| method | strength | test error | runs | tau W at hand-over | FLD at hand-over |",
                  "|---|---|---|---|---|---|"]
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
        for ax, (method, knob) in zip(axes, KNOBS.items()):
            m = g[g["method"] == method]
            if m.empty:
                ax.axis("off")
                continue
            stats = [(k, *ci(x["test"]), x["tau_w"].mean(), x["fld"].mean()) for k, x in m.groupby(knob)]
            for k, mean, half, n, tw, fld in stats:
                lines.append(f"| {method} | {knob}={k:g} | {mean:.4g} +- {half:.2g} | {n} | {tw:.4g} | {fld:.4g} |")
            xs = [k for k, *_ in stats]
            ax.errorbar(xs, [s[1] for s in stats], yerr=[s[2] for s in stats], marker="o", capsize=3, label=method)
            for ref in ("finetune", "linear", "xbench-adaptive"):
                r = g[g["method"] == ref]
                if len(r):
                    ax.axhline(r["test"].mean(), ls="--", lw=1, label=f"{ref} (mean)",
                               color={"finetune": "#8172b2", "linear": "#c44e52", "xbench-adaptive": "#55a868"}[ref])
            ax.set_xscale("symlog", linthresh=min([x for x in xs if x > 0] or [1]))  # 0 included, then log
            ax.set_yscale("log")
            ax.set_xlabel(f"{knob} (symmetric log: linear up to the smallest nonzero value)")
            ax.set_ylabel("test error (log)")
            ax.set_title(f"{method}: test error vs {knob}", fontsize=10)
            ax.legend(fontsize=7)
            a = m[["tau_w", "fld", "test"]].dropna()
            if len(a) >= 4:
                x, y = (a["tau_w"] + a["fld"]).to_numpy(), a["test"].to_numpy()
                rho = spearman(x, y)
                lo, hi = bootstrap_ci(lambda idx: spearman(x[idx], y[idx]), len(a))
                lines.append(f"| {method} | Spearman(tau W + FLD at hand-over, test error) over {len(a)} runs | "
                             f"{rho:.2f} [{lo:.2f}, {hi:.2f}] | | | |")
        fig.suptitle(f"{task}: alignment strength and test error", fontsize=11)
        _save(fig, out / f"strength-{task}")
        for ref in ("finetune", "linear", "xbench-adaptive"):
            r = g[(g["method"] == ref) & (g["n_samples"] == g["n_samples"].mode().iloc[0])]
            if len(r):
                mean, half, n = ci(r["test"])
                lines.append(f"| {ref} | - | {mean:.4g} +- {half:.2g} | {n} | | |")
        sizes = g[g["n_samples"].notna()].groupby(["method", "n_samples"])["test"]
        if g["n_samples"].nunique() > 1:
            fig, ax = plt.subplots(figsize=(5.5, 3.8), layout="constrained")
            for method, m in g.groupby("method"):
                st = [(n, *ci(x["test"])) for n, x in m.groupby("n_samples")]
                if len(st) > 1:
                    ax.errorbar([s[0] for s in st], [s[1] for s in st], yerr=[s[2] for s in st], marker="o",
                                capsize=3, label=method)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("samples in the file used (train 81 %)")
            ax.set_ylabel("test error (log)")
            ax.set_title(f"{task}: test error vs data size", fontsize=10)
            ax.legend(fontsize=7)
            _save(fig, out / f"data-size-{task}")
            lines += ["", "| method | n_samples | test error | runs |", "|---|---|---|---|"]
            lines += [f"| {m} | {n:.0f} | {ci(x)[0]:.4g} +- {ci(x)[1]:.2g} | {ci(x)[2]} |" for (m, n), x in sizes]
        lines.append("")
    text = "\n".join(lines) + "\n"
    (out / "study.md").write_text(text)
    return text


if __name__ == "__main__":
    print(study(Path(sys.argv[1]), Path(sys.argv[2])))
