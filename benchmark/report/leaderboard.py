"""Ranked comparison of methods per task, from ``scores.csv``, with the baselines a method must beat.

One attempt per run key enters (:func:`xbench.results.latest_attempts`), so a row written twice is
never counted twice. Only ``status == ok`` rows of the main metric on the test split enter the mean;
runs that failed and never succeeded are counted in ``failed`` so they are visible, not dropped.

Rows are pooled (as seeds of one experiment) only when they share everything in :data:`GROUP`: task
and task version, profile, method and method version, backbone, alignment loss, the settings hash
(:func:`xbench.config.settings_hash`) and the data (source and file checksum); a group's ``fidelity``
follows from these (rows written before it was recorded have none). ``settings`` shows
what a row changed from its profile's defaults (e.g. ``epochs=20``). Methods are ranked within a
task, task version, profile and data file, and in the ``paper`` profile also by fidelity
(:mod:`xbench.fidelity`): runs that deviate from the reference protocol are ranked among themselves,
never with faithful runs (target-only baselines, ``n/a``, rank with the faithful ones). The other
profiles are not a reference protocol (every cross-modal run there deviates, by scale), so fidelity
does not split their ranking.

``ci95`` is the half-width of the 95 % t-interval of the mean over ``runs`` (the runs counted: one
attempt per run key; ``seeds`` is the number of distinct seeds among them).
``baseline`` is the best mean of the cheap baselines (``train-mean``, ``linear``, ``input-mean``,
``persistence``) on the same task, profile and data; ``gain`` is how many times better a method is
(baseline error / method error, or the inverse where higher is better); ``beats`` says whether its
mean beats the baseline by more than one standard deviation across seeds. A learned method that
does not has learned nothing the baseline does not already give (``beats = NO``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from xbench.models.baselines import CHEAP
from xbench.results import latest_attempts

GROUP = ["task", "task_version", "profile", "method", "method_version", "backbone", "align_loss", "settings_hash",
         "settings", "data_source", "data_sha256"]
RANKED = ["task", "task_version", "profile", "data_sha256"]  # methods are compared within these (and fidelity)
COLUMNS = ["rank", "task", "method", "backbone", "align_loss", "settings", "profile", "metric", "mean", "std", "ci95",
           "runs", "failed", "baseline", "gain", "beats", "fidelity", "settings_hash", "data_source"]
NOTE = ("baseline: the best of train-mean, linear, input-mean and persistence on the same task, profile and data; "
        "gain: baseline error / method error; beats = NO: the method's mean does not beat that baseline by more "
        "than one standard deviation over seeds, so it has learned nothing the baseline does not give.")


def leaderboard(scores: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    cols = GROUP + ["fidelity", "metric", "higher", "mean", "std", "ci95", "runs", "seeds", "failed", "rank",
                    "baseline", "gain", "beats"]
    if scores.empty:
        return pd.DataFrame(columns=cols)
    scores = latest_attempts(scores)
    main = scores[(scores["is_main"].astype(str) == "True") & (scores["split"] == split)]
    main = main.assign(**{c: main[c].fillna("").astype(str) for c in ("settings_hash", "settings", "data_source",
                                                                      "data_sha256", "method_version", "fidelity")})
    ok = main[main["status"] == "ok"]  # one row per run key (one attempt, one row per split and metric)
    failed = main[main["status"] == "failed"]
    agg = ok.groupby(GROUP, dropna=False).agg(
        metric=("metric", "first"), mean=("value", "mean"), std=("value", "std"), runs=("value", "size"),
        seeds=("seed", "nunique"), higher=("higher_is_better", "first"))
    fails = failed.groupby(GROUP, dropna=False).size().rename("failed")
    # fidelity follows from the grouped settings and body; rows of schema 2 have none recorded
    fid = main.groupby(GROUP, dropna=False)["fidelity"].agg(lambda s: next((v for v in s if v), "")).rename("fidelity")
    table = agg.join(fails, how="outer").join(fid).reset_index()
    table["failed"] = table["failed"].fillna(0).astype(int)
    table["seeds"] = table["seeds"].fillna(0).astype(int)
    table["runs"] = table["runs"].fillna(0).astype(int)
    table["ci95"] = [_t_halfwidth(sd, n) for sd, n in zip(table["std"], table["runs"])]
    higher = table["higher"].astype(str) == "True"
    key = table["mean"].where(~higher, -table["mean"])
    deviating = (table["profile"] == "paper") & (table["fidelity"] == "deviating")
    table["rank"] = key.groupby([table[c] for c in RANKED] + [deviating]).rank(method="min")
    _mark_baseline(table, key, higher)
    table = table.assign(_deviating=deviating).sort_values(RANKED + ["_deviating", "rank"], na_position="last")
    return table[cols].reset_index(drop=True)


def _t_halfwidth(std: float, n: int) -> float:
    """Half-width of the 95 % t-interval of a mean over ``n`` runs (NaN for fewer than 2)."""
    if n < 2 or not math.isfinite(std):
        return float("nan")
    from scipy.stats import t

    return float(t.ppf(0.975, n - 1) * std / math.sqrt(n))


def _mark_baseline(table: pd.DataFrame, key: pd.Series, higher: pd.Series) -> None:
    """Add ``baseline``, ``gain`` and ``beats`` (module docstring) in place; ``key`` is lower-is-better."""
    cheap = table["method"].isin(CHEAP) & table["mean"].notna()
    best_key = key[cheap].groupby([table.loc[cheap, c] for c in RANKED]).min()
    idx = pd.MultiIndex.from_frame(table[RANKED])
    base_key = pd.Series(best_key.reindex(idx).to_numpy(), index=table.index)
    table["baseline"] = base_key.where(~higher, -base_key)
    ratio = np.where(higher, table["mean"] / table["baseline"], table["baseline"] / table["mean"])
    table["gain"] = pd.Series(ratio, index=table.index).where(base_key.notna() & table["mean"].notna())
    spread = table["std"].fillna(0.0)
    beats = key + spread < base_key
    table["beats"] = np.where(cheap | base_key.isna() | table["mean"].isna(), "",
                              np.where(beats, "yes", "NO"))


def _fmt(v) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "-"
        return f"{v:.4g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}"
    return str(v) if str(v) != "" else "-"


def format_table(table: pd.DataFrame, columns: list[str] | None = None) -> str:
    """A markdown table (no extra dependency); :data:`COLUMNS` by default."""
    columns = columns or [c for c in COLUMNS if c in table.columns]
    rows = [[_fmt(r[c]) if c != "rank" or not pd.isna(r[c]) else "-" for c in columns] for _, r in table.iterrows()]
    rows = [[c if not (columns[i] == "rank" and c != "-") else str(int(float(c))) for i, c in enumerate(row)]
            for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(columns)]
    line = lambda cells: "| " + " | ".join(x.ljust(w) for x, w in zip(cells, widths)) + " |"  # noqa: E731
    return "\n".join([line(columns), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])
