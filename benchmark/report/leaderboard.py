"""Ranked comparison of methods per task, from ``scores.csv``.

One attempt per run key enters (:func:`xbench.results.latest_attempts`), so a row written twice is
never counted twice. Only ``status == ok`` rows of the main metric on the test split enter the mean; runs that failed and
never succeeded are counted in ``failed`` so they are visible, not dropped. Rows of different task
versions or profiles are never ranked together.
"""

from __future__ import annotations

import math

import pandas as pd

from xbench.results import latest_attempts

GROUP = ["task", "task_version", "profile", "method", "backbone", "align_loss"]


def leaderboard(scores: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    cols = GROUP + ["metric", "mean", "std", "seeds", "failed", "rank"]
    if scores.empty:
        return pd.DataFrame(columns=cols)
    scores = latest_attempts(scores)
    main = scores[(scores["is_main"].astype(str) == "True") & (scores["split"] == split)]
    ok = main[main["status"] == "ok"]  # one row per run key (one attempt, one row per split and metric)
    failed = main[main["status"] == "failed"]
    agg = ok.groupby(GROUP, dropna=False).agg(
        metric=("metric", "first"), mean=("value", "mean"), std=("value", "std"), seeds=("seed", "nunique"),
        higher=("higher_is_better", "first"))
    fails = failed.groupby(GROUP, dropna=False).size().rename("failed")
    table = agg.join(fails, how="outer").reset_index()
    table["failed"] = table["failed"].fillna(0).astype(int)
    table["seeds"] = table["seeds"].fillna(0).astype(int)
    higher = table["higher"].astype(str) == "True"
    key = table["mean"].where(~higher, -table["mean"])
    table["rank"] = key.groupby([table["task"], table["task_version"], table["profile"]]).rank(method="min")
    table = table.sort_values(["task", "task_version", "profile", "rank"], na_position="last")
    return table[cols].reset_index(drop=True)


def _fmt(v) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "-"
        return f"{v:.4g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}"
    return str(v)


def format_table(table: pd.DataFrame, columns: list[str] | None = None) -> str:
    """A markdown table (no extra dependency)."""
    columns = columns or ["rank", "task", "task_version", "method", "backbone", "align_loss", "profile", "metric",
                          "mean", "std", "seeds", "failed"]
    rows = [[_fmt(r[c]) if c != "rank" or not pd.isna(r[c]) else "-" for c in columns] for _, r in table.iterrows()]
    rows = [[c if not (columns[i] == "rank" and c != "-") else str(int(float(c))) for i, c in enumerate(row)]
            for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(columns)]
    line = lambda cells: "| " + " | ".join(x.ljust(w) for x, w in zip(cells, widths)) + " |"  # noqa: E731
    return "\n".join([line(columns), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])
