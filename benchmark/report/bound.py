"""Does the bound track the test error? Rank correlations from ``curves.csv`` and ``scores.csv``.

Two questions, on finished (``status == ok``) runs of crossmodal methods that logged the bound terms
(:mod:`xbench.theory`), one attempt per run key and one value per tracked point (a retried key
keeps the last):

- **across methods**: per task, the Spearman rank correlation between each run's final bound (phase
  ``final``: the restored best-validation model) and its test main metric, over all runs (methods x
  seeds) and over the per-method means;
- **across epochs**: per run, the Spearman correlation between the bound and the validation main
  metric over its tracked evaluations in order (``init``, every alignment step and epoch; ``final``
  excluded as a repeat), averaged over the seeds of each method.

A metric where higher is better is negated first, so a positive correlation always means "a lower
bound goes with a lower error".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from xbench.results import CURVE_COLUMNS, latest_attempts

TASK = ["task", "task_version", "profile"]


def spearman(a, b) -> float:
    """Spearman's rho of two sequences; NaN with fewer than 3 pairs or a constant sequence."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def _runs(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per ok run: task columns, method, seed, test error (sign-adjusted main metric)."""
    scores = latest_attempts(scores)
    main = scores[(scores["is_main"].astype(str) == "True") & (scores["split"] == "test") & (scores["status"] == "ok")]
    main = main.copy()
    higher = main["higher_is_better"].astype(str) == "True"
    main["sign"] = np.where(higher, -1.0, 1.0)
    main["test_error"] = main["sign"] * main["value"]
    return main[["run_key", *TASK, "method", "seed", "metric", "value", "test_error", "sign", "created_at"]].rename(
        columns={"value": "test"})


def bound_tables(scores: pd.DataFrame, curves: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per task, per task and method) tables; empty frames when no run logged the bound."""
    runs = _runs(scores)
    # the curves of the attempt whose scores count; rows of results schema 1 carry no attempt stamp,
    # and there a key logged by several attempts keeps each point's last value
    stamp = curves["created_at"].fillna("") if "created_at" in curves else pd.Series("", index=curves.index)
    curves = curves[(stamp == "") | (stamp == curves["run_key"].map(runs.set_index("run_key")["created_at"]))]
    curves = curves.drop_duplicates([c for c in CURVE_COLUMNS if c not in ("value", "created_at")], keep="last")
    tracked = curves[curves["run_key"].isin(runs["run_key"]) & curves["quantity"].isin(["bound", "bound_val"])]
    final = tracked[(tracked["phase"] == "final") & (tracked["quantity"] == "bound")]
    runs = runs.merge(final[["run_key", "value"]].rename(columns={"value": "bound"}), on="run_key")
    if runs.empty:
        return pd.DataFrame(), pd.DataFrame()
    sign = runs.set_index("run_key")["sign"]
    epoch_rho = {}
    for key, g in tracked[tracked["phase"] != "final"].groupby("run_key", sort=False):
        # bound and bound_val are logged together, one pair per (phase, epoch, step)
        pairs = g.pivot_table(index=["phase", "epoch", "step"], columns="quantity", values="value", sort=False).dropna()
        epoch_rho[key] = spearman(pairs["bound"], sign[key] * pairs["bound_val"]) if len(pairs) else float("nan")
    runs["epoch_rho"] = runs["run_key"].map(epoch_rho)
    per_method = runs.groupby([*TASK, "method"], dropna=False).agg(
        metric=("metric", "first"), test=("test", "mean"), test_error=("test_error", "mean"), bound=("bound", "mean"),
        epoch_rho=("epoch_rho", "mean"), seeds=("seed", "nunique")).reset_index()
    rows = []
    for task, g in runs.groupby(TASK, dropna=False):
        m = per_method[(per_method[TASK] == pd.Series(task, index=TASK)).all(axis=1)]
        rows.append({**dict(zip(TASK, task)), "runs": len(g), "rho_runs": spearman(g["bound"], g["test_error"]),
                     "methods": len(m), "rho_methods": spearman(m["bound"], m["test_error"]),
                     "mean_epoch_rho": float(np.nanmean(g["epoch_rho"])) if g["epoch_rho"].notna().any() else math.nan})
    per_method = per_method.sort_values([*TASK, "bound"]).drop(columns="test_error").reset_index(drop=True)
    return pd.DataFrame(rows), per_method


def bound_report(scores: pd.DataFrame, curves: pd.DataFrame) -> str:
    """The two tables as markdown, with a line on how to read them ('' when no run logged the bound)."""
    from xbench.report.leaderboard import format_table

    per_task, per_method = bound_tables(scores, curves)
    if per_task.empty:
        return ""
    return "\n".join([
        "Does the bound track the test error? Spearman rank correlations (1: same order, 0: none).",
        "rho_runs: final bound vs test main metric over all runs; rho_methods: over per-method means;",
        "mean_epoch_rho: bound vs validation metric over each run's tracked steps, averaged.", "",
        format_table(per_task, list(per_task.columns)), "",
        format_table(per_method, list(per_method.columns)),
    ])
