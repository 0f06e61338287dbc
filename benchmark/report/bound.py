r"""Does the bound track the test error? Rank correlations from ``curves.csv`` and ``scores.csv``.

On finished (``status == ok``) runs of crossmodal methods that logged the bound terms
(:mod:`xbench.theory`), one attempt per run key (its own curves, by ``created_at``):

- **across methods**, per task (task, version, profile and data file), over the runs (methods x
  seeds) at the selected checkpoint (phase ``final``: the restored best-validation model), with the
  test error (the main metric, negated where higher is better):

  - ``rho_B``: Spearman correlation of the test error with the bound B;
  - ``rho_A``: with the alignment part alone, :math:`A = \tau W + \mathrm{FLD}`
    (``B - L_S - F_T``: the terms alignment moves);
  - ``partial_A``: the partial Spearman correlation of the test error with A given the fit term
    :math:`F_T`, which otherwise dominates B: the Pearson correlation of the residuals of the ranks
    of A and of the test error after a linear fit on the ranks of :math:`F_T`. A correlation of B
    with the error that is all :math:`F_T`'s shows as ``partial_A`` near 0.

  Each comes with a 95 % bootstrap interval over runs (``BOOTSTRAP`` resamples, fixed seed; the
  percentile interval; resamples with fewer than 3 distinct runs are skipped).
  ``rho_methods`` is ``rho_B`` over the per-method means (no interval: few points).
- **across epochs**: per run, the Spearman correlation between the bound and the validation main
  metric over its tracked evaluations in order (``init``, every alignment step and epoch; ``final``
  excluded as a repeat), averaged over the runs (``mean_epoch_rho``).

A positive correlation always means "a lower bound goes with a lower error".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from xbench.results import CURVE_COLUMNS, latest_attempts

TASK = ["task", "task_version", "profile", "data_sha256"]
METHOD = ["method", "method_version", "settings_hash"]
BOOTSTRAP = 1000
TERMS = ("bound", "bound_source_loss", "bound_fit")


def spearman(a, b) -> float:
    """Spearman's rho of two sequences; NaN with fewer than 3 pairs or a constant sequence."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def partial_spearman(a, b, given) -> float:
    """Spearman correlation of ``a`` and ``b`` given ``given``: Pearson of the rank residuals after a
    least-squares line on the ranks of ``given``; NaN with fewer than 4 points or no spread left."""
    from scipy.stats import rankdata

    a, b, c = (rankdata(np.asarray(v, dtype=float)) for v in (a, b, given))
    if len(a) < 4:
        return float("nan")
    design = np.column_stack([np.ones_like(c), c])
    ra = a - design @ np.linalg.lstsq(design, a, rcond=None)[0]
    rb = b - design @ np.linalg.lstsq(design, b, rcond=None)[0]
    if np.std(ra) < 1e-12 or np.std(rb) < 1e-12:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def bootstrap_ci(stat, n: int, seed: int = 0) -> tuple[float, float]:
    """The 95 % percentile interval of ``stat(idx)`` over ``BOOTSTRAP`` resamples of ``range(n)``."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(BOOTSTRAP):
        idx = rng.integers(0, n, n)
        if len(np.unique(idx)) >= 3:
            v = stat(idx)
            if not math.isnan(v):
                values.append(v)
    if len(values) < BOOTSTRAP // 10:
        return float("nan"), float("nan")
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def _runs(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per ok run: task columns, method columns, seed, test error (sign-adjusted main metric)."""
    scores = latest_attempts(scores)
    main = scores[(scores["is_main"].astype(str) == "True") & (scores["split"] == "test") & (scores["status"] == "ok")]
    main = main.copy()
    for c in ("data_sha256", "method_version", "settings_hash"):
        main[c] = main[c].fillna("").astype(str) if c in main else ""
    higher = main["higher_is_better"].astype(str) == "True"
    main["sign"] = np.where(higher, -1.0, 1.0)
    main["test_error"] = main["sign"] * main["value"]
    return main[["run_key", *TASK, *METHOD, "seed", "metric", "value", "test_error", "sign", "created_at"]].rename(
        columns={"value": "test"})


def bound_runs(scores: pd.DataFrame, curves: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs with their bound terms at the selected checkpoint and ``alignment`` = B - L_S - F_T, the
    curves of the attempts whose scores count); empty when no run logged the bound."""
    runs = _runs(scores)
    stamp = curves["created_at"].fillna("") if "created_at" in curves else pd.Series("", index=curves.index)
    curves = curves[(stamp == "") | (stamp == curves["run_key"].map(runs.set_index("run_key")["created_at"]))]
    curves = curves.drop_duplicates([c for c in CURVE_COLUMNS if c not in ("value", "created_at")], keep="last")
    final = curves[curves["run_key"].isin(runs["run_key"]) & (curves["phase"] == "final")
                   & curves["quantity"].isin(TERMS)]
    final = final.pivot_table(index="run_key", columns="quantity", values="value").reindex(columns=list(TERMS))
    runs = runs.merge(final.reset_index(), on="run_key").dropna(subset=["bound"])
    if not runs.empty:
        runs["alignment"] = runs["bound"] - runs["bound_source_loss"] - runs["bound_fit"]
    return runs, curves


def bound_tables(scores: pd.DataFrame, curves: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per task, per task and method) tables; empty frames when no run logged the bound."""
    runs = _runs(scores)
    # the curves of the attempt whose scores count; rows of results schema 1 carry no attempt stamp,
    # and there a key logged by several attempts keeps each point's last value
    stamp = curves["created_at"].fillna("") if "created_at" in curves else pd.Series("", index=curves.index)
    curves = curves[(stamp == "") | (stamp == curves["run_key"].map(runs.set_index("run_key")["created_at"]))]
    curves = curves.drop_duplicates([c for c in CURVE_COLUMNS if c not in ("value", "created_at")], keep="last")
    tracked = curves[curves["run_key"].isin(runs["run_key"]) & curves["quantity"].isin(["bound", "bound_val"])]
    final = curves[curves["run_key"].isin(runs["run_key"]) & (curves["phase"] == "final")
                   & curves["quantity"].isin(TERMS)]
    final = final.pivot_table(index="run_key", columns="quantity", values="value").reindex(columns=list(TERMS))
    runs = runs.merge(final.reset_index(), on="run_key").dropna(subset=["bound"])
    if runs.empty:
        return pd.DataFrame(), pd.DataFrame()
    runs["alignment"] = runs["bound"] - runs["bound_source_loss"] - runs["bound_fit"]
    sign = runs.set_index("run_key")["sign"]
    epoch_rho = {}
    for key, g in tracked[tracked["phase"] != "final"].groupby("run_key", sort=False):
        # bound and bound_val are logged together, one pair per (phase, epoch, step)
        pairs = g.pivot_table(index=["phase", "epoch", "step"], columns="quantity", values="value", sort=False).dropna()
        ok = len(pairs) and {"bound", "bound_val"} <= set(pairs.columns)
        epoch_rho[key] = spearman(pairs["bound"], sign[key] * pairs["bound_val"]) if ok else float("nan")
    runs["epoch_rho"] = runs["run_key"].map(epoch_rho)
    per_method = runs.groupby([*TASK, *METHOD], dropna=False).agg(
        metric=("metric", "first"), test=("test", "mean"), test_error=("test_error", "mean"), bound=("bound", "mean"),
        alignment=("alignment", "mean"), fit=("bound_fit", "mean"), epoch_rho=("epoch_rho", "mean"),
        seeds=("seed", "nunique")).reset_index()
    rows = []
    for task, g in runs.groupby(TASK, dropna=False):
        m = per_method[(per_method[TASK] == pd.Series(task, index=TASK)).all(axis=1)]
        err, b, a, f = (g[c].to_numpy() for c in ("test_error", "bound", "alignment", "bound_fit"))
        row = {**dict(zip(TASK, task)), "runs": len(g), "methods": len(m)}
        for name, stat in (("rho_B", lambda i: spearman(b[i], err[i])), ("rho_A", lambda i: spearman(a[i], err[i])),
                           ("partial_A", lambda i: partial_spearman(a[i], err[i], f[i]))):
            lo, hi = bootstrap_ci(stat, len(g))
            row.update({name: stat(np.arange(len(g))), f"{name}_ci": "-" if math.isnan(lo) else f"[{lo:.2f}, {hi:.2f}]"})
        row["rho_methods"] = spearman(m["bound"], m["test_error"])
        row["mean_epoch_rho"] = float(np.nanmean(g["epoch_rho"])) if g["epoch_rho"].notna().any() else math.nan
        rows.append(row)
    per_task = pd.DataFrame(rows)
    per_task["data_sha256"] = per_task["data_sha256"].str[:12]
    per_method = per_method.sort_values([*TASK, "bound"]).drop(columns="test_error").reset_index(drop=True)
    per_method["data_sha256"] = per_method["data_sha256"].str[:12]
    return per_task, per_method


def bound_report(scores: pd.DataFrame, curves: pd.DataFrame) -> str:
    """The two tables as markdown, with a line on how to read them ('' when no run logged the bound)."""
    from xbench.report.leaderboard import format_table

    per_task, per_method = bound_tables(scores, curves)
    if per_task.empty:
        return ""
    return "\n".join([
        "Does the bound track the test error? Spearman rank correlations over runs at the selected checkpoint",
        "(1: same order, 0: none), 95 % bootstrap intervals over runs. rho_B: bound B vs test error; rho_A: the",
        "alignment terms tau W + FLD alone; partial_A: rho_A given the fit term F_T (near 0: B's agreement is",
        "F_T's); rho_methods: B over per-method means; mean_epoch_rho: B vs validation metric over each run's",
        "tracked steps, averaged.", "",
        format_table(per_task, list(per_task.columns)), "",
        format_table(per_method, list(per_method.columns)),
    ])
