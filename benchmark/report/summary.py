"""The table papers cite: methods x tasks, mean +- std, ranks across tasks, in Markdown, LaTeX and CSV.

From the leaderboard (:mod:`xbench.report.leaderboard`), one table per profile (and, in the ``paper``
profile, per fidelity class: deviating runs get their own table): a row per comparable group (method
and its version, backbone, alignment loss, settings), a column per task with the test main metric's mean +-
std over seeds (``-`` where a method has no result on a task: missing, not dropped), then the average
rank over the tasks it ran (rank within the task, by the metric's direction), the Borda count (for
each task, the number of groups it beats) and the number of tasks. Where a task has rows of several
data files, the one with the most runs counts, then the latest (the others stay in the leaderboard). Published numbers
(``reports/published.csv``: task, method, metric, value, source, note) are shown below, marked external and
never ranked: they come from other code, data and checkpoint selection (see their notes).

LaTeX: booktabs, the best per task in bold and the second underlined, a caption stating the protocol.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

ROW = ["method", "backbone", "align_loss", "settings"]  # a row; fidelity splits tables (paper profile), not rows


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.3g}" if 1e-3 <= abs(v) < 1e4 or v == 0 else f"{v:.2e}"


def protocol_line(scores: pd.DataFrame, profile: str) -> str:
    """What the numbers are: profile, split, checkpoint selection, seeds, data and fidelity."""
    s = scores[scores["profile"] == profile]
    runs = s.drop_duplicates("run_key")
    data = ", ".join(sorted(set(runs["data_source"].astype(str)))) or "-"
    fid = ", ".join(sorted(set(runs.get("fidelity", pd.Series(dtype=str)).fillna("").astype(str)) - {""})) or "-"
    seeds = runs.groupby(["task", "method"])["seed"].nunique()
    return (f"profile {profile}; test split, main metric (lower is better unless marked); checkpoint: best "
            f"validation epoch (never the test split); seeds per cell {seeds.min() if len(seeds) else 0}-"
            f"{seeds.max() if len(seeds) else 0}; data {data}; fidelity {fid}")


def main_data(scores: pd.DataFrame) -> pd.Series:
    """Per (profile, task): the data file with the most runs, ties broken by the latest run."""
    runs = scores.drop_duplicates("run_key")
    g = runs.groupby(["profile", "task", "data_sha256"]).agg(n=("run_key", "size"), last=("created_at", "max"))
    g = g.reset_index().sort_values(["n", "last"]).groupby(["profile", "task"]).last()
    return g["data_sha256"]


def summary_tables(board: pd.DataFrame, scores: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``{table name: frame}``: one per profile (``paper-deviating`` apart); columns ROW, tasks, ranks."""
    out = {}
    board = board.assign(fidelity=board["fidelity"].fillna("").astype(str))
    chosen = main_data(scores)
    keep = [chosen.get((p, t)) == d for p, t, d in zip(board["profile"], board["task"], board["data_sha256"])]
    board = board[keep]
    for profile, g in board.groupby("profile"):
        parts = {profile: g}
        if profile == "paper":
            dev = g["fidelity"] == "deviating"
            parts = {"paper": g[~dev], "paper-deviating": g[dev]}
        for name, part in parts.items():
            if not part.empty:
                out[name] = _pivot(part)
    return out


def _pivot(g: pd.DataFrame) -> pd.DataFrame:
    g = g[g["mean"].notna()].copy()
    g["key"] = g[ROW + ["method_version"]].astype(str).agg(" | ".join, axis=1)
    tasks = sorted(g["task"].unique())
    rows = []
    for key, r in g.groupby("key", sort=False):
        row = dict(zip(ROW, key.split(" | ")[:len(ROW)]))
        for t in tasks:
            cell = r[r["task"] == t]
            row[t] = (float(cell["mean"].iloc[0]), float(cell["std"].iloc[0]) if cell["std"].notna().any() else
                      float("nan")) if len(cell) else None
        rows.append(row)
    table = pd.DataFrame(rows)
    higher = {t: str(g.loc[g["task"] == t, "higher"].iloc[0]) == "True" if "higher" in g else False for t in tasks}
    ranks = pd.DataFrame({t: table[t].map(lambda c: None if c is None else (-c[0] if higher[t] else c[0]))
                          .astype(float).rank(method="min") for t in tasks})
    n = ranks.notna().sum(axis=0)
    table["avg_rank"] = ranks.mean(axis=1)
    table["borda"] = sum((n[t] - ranks[t]).fillna(0) for t in tasks)
    table["tasks"] = ranks.notna().sum(axis=1)
    order = table.sort_values(["avg_rank", "borda"], ascending=[True, False]).index
    table = table.loc[order].reset_index(drop=True)
    table.attrs["ranks"] = ranks.loc[order].reset_index(drop=True)  # row i of the ranks is row i of the table
    table.attrs["metrics"] = {t: str(g.loc[g["task"] == t, "metric"].iloc[0]) for t in tasks} if "metric" in g else {}
    return table


def _label(r: pd.Series) -> str:
    extra = [x for x in (r["backbone"] if r["backbone"] not in ("none", "minilm") else "",
                         r["align_loss"] if r["align_loss"] not in ("none",) else "", r["settings"]) if x]
    return r["method"] + (f" ({', '.join(extra)})" if extra else "")


def short_names(tasks: list[str]) -> list[str]:
    """Column labels: the family prefix (text before the first ``-``) is dropped when all tasks share it."""
    prefixes = {t.split("-", 1)[0] for t in tasks}
    if len(prefixes) != 1 or any("-" not in t for t in tasks):
        return list(tasks)
    return [t.split("-", 1)[1] for t in tasks]


def _tasks(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if c not in ROW + ["avg_rank", "borda", "tasks"]]


def to_markdown(table: pd.DataFrame, protocol: str, published: pd.DataFrame | None = None) -> str:
    tasks = _tasks(table)
    head = ["method", *short_names(tasks), "avg rank", "Borda", "tasks"]
    lines = [f"Protocol: {protocol}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in table.iterrows():
        cells = [_label(r)] + ["-" if r[t] is None else f"{_fmt(r[t][0])} +- {_fmt(r[t][1])}" for t in tasks]
        lines.append("| " + " | ".join(cells + [f"{r['avg_rank']:.2f}", f"{r['borda']:.0f}", str(r["tasks"])]) + " |")
    for _, p in _published_rows(published, tasks, table.attrs.get("metrics", {})).iterrows():
        cells = [f"{p['method']} (published, external)"] + [_fmt(p[t]) if pd.notna(p[t]) else "-" for t in tasks]
        lines.append("| " + " | ".join(cells + ["-", "-", "-"]) + " |")
    return "\n".join(lines) + "\n"


def to_latex(table: pd.DataFrame, protocol: str, published: pd.DataFrame | None = None) -> str:
    tasks = _tasks(table)
    ranks = table.attrs["ranks"].loc[table.index] if "ranks" in table.attrs else None
    esc = lambda s: str(s).replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")  # noqa: E731
    lines = [r"\begin{table}[t]", r"\centering", r"\small",
             r"\begin{tabular}{l" + "c" * len(tasks) + "rr}", r"\toprule",
             "Method & " + " & ".join(esc(t) for t in short_names(tasks)) + r" & Avg.\ rank & Borda \\",
             r"\midrule"]
    for i, r in table.iterrows():
        cells = []
        for t in tasks:
            if r[t] is None:
                cells.append("--")
                continue
            text = f"{_fmt(r[t][0])} $\\pm$ {_fmt(r[t][1])}"
            rank = ranks.at[i, t] if ranks is not None else None
            cells.append(rf"\textbf{{{text}}}" if rank == 1 else (rf"\underline{{{text}}}" if rank == 2 else text))
        lines.append(f"{esc(_label(r))} & " + " & ".join(cells) + f" & {r['avg_rank']:.2f} & {r['borda']:.0f} \\\\")
    pub = _published_rows(published, tasks, table.attrs.get("metrics", {}))
    if not pub.empty:
        lines.append(r"\midrule")
        for _, p in pub.iterrows():
            cells = [_fmt(p[t]) if pd.notna(p[t]) else "--" for t in tasks]
            lines.append(f"{esc(p['method'])} (published)$^\\dagger$ & " + " & ".join(cells) + r" & -- & -- \\")
    lines += [r"\bottomrule", r"\end{tabular}",
              r"\caption{" + esc(protocol) + r". Best per task in bold, second underlined."
              + (r" $^\dagger$Published numbers, not ranked: other code, data and checkpoint selection."
                 if not pub.empty else "") + "}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def to_frame(table: pd.DataFrame, protocol: str) -> pd.DataFrame:
    """The table for CSV: ``<task>_mean`` and ``<task>_std`` columns, the protocol in a column."""
    flat = table[ROW + ["avg_rank", "borda", "tasks"]].copy()
    for t in _tasks(table):
        flat[f"{t}_mean"] = table[t].map(lambda c: None if c is None else c[0])
        flat[f"{t}_std"] = table[t].map(lambda c: None if c is None else c[1])
    return flat.assign(protocol=protocol)


def load_published(path: str | Path) -> pd.DataFrame:
    """``reports/published.csv`` (task, method, metric, value, source, note); an empty frame when absent."""
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=["task", "method", "metric", "value", "source", "note"])
    return pd.read_csv(path, comment="#")


def _published_rows(published: pd.DataFrame | None, tasks: list[str], metrics: dict[str, str]) -> pd.DataFrame:
    """Published values per method x task; a row that names its ``metric`` shows only under a task whose
    main metric it is (NAS-Bench-360's Cosmic FNR is not the table's 1 - AUROC)."""
    if published is None or published.empty:
        return pd.DataFrame()
    p = published[published["task"].isin(tasks)]
    if "metric" in p:
        named = p["metric"].notna() & (p["metric"].astype(str) != "")
        p = p[~named | (p["metric"].astype(str) == p["task"].map(lambda t: metrics.get(t, "")))]
    if p.empty:
        return pd.DataFrame()
    return p.pivot_table(index="method", columns="task", values="value", aggfunc="first").reindex(
        columns=tasks).reset_index()


def write_summaries(results: Path, families: list[str], out: Path, published: str | Path | None) -> list[Path]:
    """``summary-<profile>.{md,tex,csv}`` (``summary-<family>-<profile>`` with several families) in ``out``."""
    from xbench.report.leaderboard import leaderboard
    from xbench.results import ResultStore

    pub = load_published(published) if published else None
    written = []
    for fam in families:
        scores = ResultStore(Path(results) / fam).load_scores()
        for name, table in summary_tables(leaderboard(scores), scores).items():
            protocol = f"{fam}: " + protocol_line(scores, name.split("-")[0])
            stem = Path(out) / (f"summary-{name}" if len(families) == 1 else f"summary-{fam}-{name}")
            md, tex, csv = (stem.parent / f"{stem.name}.{x}" for x in ("md", "tex", "csv"))
            md.write_text(to_markdown(table, protocol, pub))
            tex.write_text(to_latex(table, protocol, pub))
            to_frame(table, protocol).to_csv(csv, index=False)
            written += [md, tex, csv]
    return written
