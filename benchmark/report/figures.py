"""Figures from the result files: per-task bars, the rank heat map, and training curves.

Every figure is written as PNG and PDF into the report folder, one set per profile (the profiles are
never mixed): ``bars-<profile>``: the test main metric per method and task (mean, error bars one std
over runs, log scale: errors span decades), the best cheap baseline as a dashed line; ``ranks-<profile>``:
the rank of each method on each task (missing cells blank); ``curves-<profile>-<task>``: per method
the validation main metric over fitting epochs and the alignment distance over alignment steps, from
``curves.csv`` (the attempt whose scores count); ``bound-<profile>-<task>``: test error against the bound
B and against its alignment terms tau W + FLD at the selected checkpoint, one point per run, with the
Spearman correlation; ``bound-terms-<profile>-<task>``: the bound's terms over the tracked steps of each
method's seed-0 run; ``predictions-<profile>-<task>``: a few predicted and true test fields where runs saved
them (:mod:`xbench.report.predictions`). matplotlib is imported here only.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from xbench.models.baselines import CHEAP
from xbench.report.summary import short_names


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, stem: Path) -> list[Path]:
    out = [stem.parent / f"{stem.name}.png", stem.parent / f"{stem.name}.pdf"]  # names hold dots (nu0.001)
    fig.savefig(out[0], dpi=150, bbox_inches="tight")
    fig.savefig(out[1], bbox_inches="tight")
    _plt().close(fig)
    return out


def bars(board: pd.DataFrame, profile: str, stem: Path) -> list[Path]:
    plt = _plt()
    g = board[(board["profile"] == profile) & board["mean"].notna()]
    tasks = sorted(g["task"].unique())
    if not tasks:
        return []
    cols = min(4, len(tasks))
    rows = math.ceil(len(tasks) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False, layout="constrained")
    for ax, task, title in zip(axes.flat, tasks, short_names(tasks)):
        t = g[g["task"] == task].sort_values("mean")
        learned = t[~t["method"].isin(CHEAP)]
        labels = [m + ("" if s in ("", "-") or pd.isna(s) else "\n" + (s if len(s) <= 24 else s[:23] + "..."))
                  for m, s in zip(learned["method"], learned["settings"])]
        ax.bar(range(len(learned)), learned["mean"], yerr=learned["std"].fillna(0), capsize=3, color="#4c72b0")
        base = t[t["method"].isin(CHEAP)].head(1)
        if len(base):
            ax.axhline(base["mean"].iloc[0], color="#c44e52", ls="--", lw=1.2,
                       label=f"best baseline ({base['method'].iloc[0]})")
            ax.legend(fontsize=7, loc="upper left")
        ax.set_yscale("log")
        ax.set_xticks(range(len(learned)), labels, rotation=45, ha="right", fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(f"test {t['metric'].iloc[0]} (log)", fontsize=8)
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    fig.suptitle(f"Test error per task, {profile} profile (mean, error bar = 1 std over runs)", fontsize=11)
    return _save(fig, stem)


def rank_map(table: pd.DataFrame, profile: str, stem: Path) -> list[Path]:
    """``table``: a summary table (:func:`xbench.report.summary.summary_tables`) with its ranks."""
    plt = _plt()
    ranks = table.attrs.get("ranks")
    if ranks is None or ranks.empty:
        return []
    ranks = ranks.loc[table.index]
    labels = [m + ("" if s in ("", "-") else f" ({s if len(s) <= 24 else s[:23] + '...'})")
              for m, s in zip(table["method"], table["settings"])]
    fig, ax = plt.subplots(figsize=(max(5.0, 2.5 + 0.75 * ranks.shape[1]), 1.5 + 0.36 * ranks.shape[0]),
                           layout="constrained")
    im = ax.imshow(ranks.to_numpy(dtype=float), cmap="viridis_r", aspect="auto")
    for i in range(ranks.shape[0]):
        for j in range(ranks.shape[1]):
            v = ranks.iat[i, j]
            if pd.notna(v):
                ax.text(j, i, f"{int(v)}", ha="center", va="center", fontsize=7, color="white" if v > 3 else "black")
    ax.set_xticks(range(ranks.shape[1]), short_names(list(ranks.columns)), rotation=45,
                  ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    fig.colorbar(im, ax=ax, label="rank on the task (1 = best)")
    ax.set_title(f"Rank per task, {profile} profile (rows by average rank; blank: not run)", fontsize=10)
    return _save(fig, stem)


def training_curves(scores: pd.DataFrame, curves: pd.DataFrame, profile: str, task: str, stem: Path) -> list[Path]:
    """Validation metric per fitting epoch and alignment distance per step, for every method (seed 0)."""
    plt = _plt()
    from xbench.results import latest_attempts

    s = latest_attempts(scores)
    s = s[(s["profile"] == profile) & (s["task"] == task) & (s["seed"] == 0) & (s["is_main"].astype(str) == "True")
          & (s["split"] == "test") & (s["status"] == "ok")].drop_duplicates("run_key")
    if s.empty:
        return []
    c = curves.merge(s[["run_key", "created_at", "method"]], on=["run_key", "created_at"])
    metric = s["metric"].iloc[0]
    fit = c[(c["split"] == "val") & (c["quantity"] == metric) & (c["phase"] != "closed-form")]
    ridge = c[(c["phase"] == "closed-form") & (c["split"] == "val") & (c["quantity"] == metric)]
    align = c[c["quantity"].astype(str).str.startswith("align_") & (c["phase"] == "align")]
    if fit.empty and align.empty:
        return []
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    for method, m in fit.groupby("method"):
        m = m[m["phase"] == m["phase"].iloc[-1]]  # the last fitting phase
        a1.plot(m["epoch"] + 1, m["value"], marker="o", ms=3, label=method)
    if len(ridge):
        a1.axhline(ridge["value"].min(), color="#c44e52", ls="--", lw=1.2, label="linear (ridge, best penalty)")
    a1.set_yscale("log")
    a1.set_xlabel("fitting epoch")
    a1.set_ylabel(f"validation {metric} (log)")
    a1.set_title("Fitting: validation error per epoch", fontsize=10)
    if len(fit) or len(ridge):
        a1.legend(fontsize=7)
    for method, m in align.groupby("method"):
        a2.plot(m["step"] + 1, m["value"], marker=".", label=f"{method} ({m['quantity'].iloc[0][6:]})")
    a2.set_xlabel("alignment step")
    a2.set_ylabel("alignment distance to the source")
    a2.set_title("Alignment: distance per step", fontsize=10)
    if len(align):
        a2.legend(fontsize=7)
    fig.suptitle(f"{task}, {profile} profile, seed 0", fontsize=11)
    return _save(fig, stem)


def bound_scatter(runs: pd.DataFrame, profile: str, task: str, stem: Path) -> list[Path]:
    plt = _plt()
    from xbench.report.bound import spearman

    r = runs[(runs["profile"] == profile) & (runs["task"] == task)]
    if len(r) < 3:
        return []
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    for ax, col, name in ((axes[0], "bound", "bound B"), (axes[1], "alignment", "alignment terms tau W + FLD")):
        for method, m in r.groupby("method"):
            ax.scatter(m[col], m["test"], label=method, s=22)
        rho = spearman(r[col].to_numpy(), r["test_error"].to_numpy())
        ax.set_xlabel(name)
        ax.set_ylabel(f"test {r['metric'].iloc[0]} (log)")
        ax.set_yscale("log")
        ax.set_title(f"{name} vs test error: Spearman {rho:.2f} ({len(r)} runs)", fontsize=10)
    axes[1].legend(fontsize=7)
    fig.suptitle(f"{task}, {profile} profile: does the bound order the runs like their test error?", fontsize=11)
    return _save(fig, stem)


def bound_terms(runs: pd.DataFrame, curves: pd.DataFrame, profile: str, task: str, stem: Path) -> list[Path]:
    plt = _plt()
    r = runs[(runs["profile"] == profile) & (runs["task"] == task) & (runs["seed"] == 0)]
    if r.empty:
        return []
    c = curves[curves["run_key"].isin(r["run_key"]) & curves["quantity"].isin(
        ["bound", "bound_fld", "bound_fit", "bound_source_loss"])]
    methods = list(r.drop_duplicates("method")[["run_key", "method"]].itertuples(index=False))
    fig, axes = plt.subplots(1, len(methods), figsize=(max(5.0, 3.6 * len(methods)), 3.4), squeeze=False,
                             layout="constrained")
    for ax, (key, method) in zip(axes.flat, methods):
        w = c[c["run_key"] == key].pivot_table(index=["phase", "epoch", "step"], columns="quantity", values="value",
                                              sort=False)
        x = range(len(w))
        for col, label in (("bound", "B"), ("bound_fit", "F_T"), ("bound_fld", "FLD"),
                           ("bound_source_loss", "L_S")):
            if col in w:
                ax.plot(x, w[col], label=label)
        if {"bound", "bound_source_loss", "bound_fld", "bound_fit"} <= set(w.columns):  # the term B carries
            ax.plot(x, w["bound"] - w["bound_source_loss"] - w["bound_fld"] - w["bound_fit"], label="tau W")
        ax.set_title(method, fontsize=10)
        ax.set_xlabel("tracked step (alignment, then epochs)")
        ax.set_yscale("log")
    axes.flat[0].set_ylabel("bound term (log)")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"The bound's terms over training, {task}, {profile} profile, seed 0", fontsize=11)
    return _save(fig, stem)


def write_figures(scores: pd.DataFrame, curves: pd.DataFrame, out: Path, tasks_for_curves: int = 2,
                  folder: Path | None = None) -> list[Path]:
    """Every figure of the module docstring; curves for the first ``tasks_for_curves`` tasks per profile;
    with the results ``folder``, ``predictions-<profile>-<task>`` where runs saved their predictions."""
    from xbench.report.leaderboard import leaderboard
    from xbench.report.summary import summary_tables

    from xbench.report.bound import bound_runs

    board = leaderboard(scores)
    written = []
    tables = summary_tables(board, scores)
    runs, tracked = bound_runs(scores, curves) if not curves.empty else (pd.DataFrame(), curves)
    if not runs.empty:
        runs = runs.merge(scores[["run_key", "profile"]].drop_duplicates("run_key"), on="run_key", how="left") \
            if "profile" not in runs else runs
    for profile in sorted(board["profile"].unique()):
        written += bars(board, profile, Path(out) / f"bars-{profile}")
        if profile in tables:
            written += rank_map(tables[profile], profile, Path(out) / f"ranks-{profile}")
        if not curves.empty:
            for task in sorted(board.loc[board["profile"] == profile, "task"].unique())[:tasks_for_curves]:
                written += training_curves(scores, curves, profile, task, Path(out) / f"curves-{profile}-{task}")
        if folder is not None:
            from xbench.report.predictions import prediction_figure

            for task in sorted(board.loc[board["profile"] == profile, "task"].unique()):
                written += prediction_figure(folder, profile, task, Path(out) / f"predictions-{profile}-{task}")
        if not runs.empty:
            for task in sorted(runs.loc[runs["profile"] == profile, "task"].unique()):
                written += bound_scatter(runs, profile, task, Path(out) / f"bound-{profile}-{task}")
            for task in sorted(runs.loc[runs["profile"] == profile, "task"].unique())[:tasks_for_curves]:
                written += bound_terms(runs, tracked, profile, task, Path(out) / f"bound-terms-{profile}-{task}")
    return written
