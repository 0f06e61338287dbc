"""The cpu-profile sweep table (issue 11): per task the best cheap baseline, FNO, U-Net, orca and
finetune (mean +- std over seeds, test main metric), each learned method's gain over the baseline
(baseline error / method error; "NO" where it does not beat the baseline by more than one std),
the mean wall time per run and the largest peak memory of the task's runs. Built from the
leaderboard, so rows of different settings, method versions or data are never pooled; per task the
data file with the most runs counts (then the latest).

    python benchmarks/cpu_table.py RESULTS/pdebench > table.md
"""

from __future__ import annotations

import sys

import pandas as pd

from xbench.models.baselines import CHEAP
from xbench.report.leaderboard import leaderboard
from xbench.results import ResultStore, latest_attempts

LEARNED = ("fno", "unet", "orca", "finetune")


def fmt(v: float) -> str:
    return "-" if pd.isna(v) else (f"{v:.3g}" if abs(v) >= 1e-3 else f"{v:.2e}")


def main(folder: str) -> None:
    scores = ResultStore(folder).load_scores()
    scores = scores[scores["profile"] == "cpu"]
    # one data file per task (xbench.report.summary.main_data): the one with the most runs, then the latest
    # (a profile change, e.g. fewer samples, or a file regenerated on another machine whose solver
    # differs in the last bits, leaves rows of another file, which the leaderboard keeps apart)
    from xbench.report.summary import main_data

    chosen = main_data(scores)
    scores = scores[[chosen.get(("cpu", t)) == d for t, d in zip(scores["task"], scores["data_sha256"])]]
    board = leaderboard(scores)
    main_rows = latest_attempts(scores)
    main_rows = main_rows[(main_rows["split"] == "test") & (main_rows["is_main"].astype(str) == "True")]
    wall = main_rows[main_rows["status"] == "ok"].groupby(["task", "method"])["wall_s"].mean()
    peak = main_rows[main_rows["status"] == "ok"].groupby("task")["peak_mem_mb"].max()
    lines = ["| task | best baseline | " + " | ".join(f"{m} (gain)" for m in LEARNED) + " | wall s/run "
             + " / ".join(LEARNED) + " | peak MB | seeds |",
             "|---|---|" + "---|" * len(LEARNED) + "---|---|---|"]
    wins = {m: [0, 0] for m in LEARNED}
    for task, g in board.groupby("task"):
        g = g[g["settings"].isin(["", "-"]) | g["settings"].isna()]  # the profile's own settings only
        base = g[g["method"].isin(CHEAP)].sort_values("mean").head(1)
        cells = [task, "-" if base.empty else f"{base['method'].item()} {fmt(base['mean'].item())}"]
        seeds = []
        for m in LEARNED:
            r = g[g["method"] == m]
            if r.empty:
                cells.append("-")
                continue
            r = r.iloc[0]
            seeds.append(str(r["seeds"]))
            mark = "" if r["beats"] == "yes" else " NO"
            cells.append(f"{fmt(r['mean'])} +- {fmt(r['std'])} ({fmt(r['gain'])}x{mark})")
            wins[m][0] += r["beats"] == "yes"
            wins[m][1] += r["beats"] == "yes" and r["gain"] >= 2
        cells.append(" / ".join(fmt(wall.get((task, m), float("nan"))) for m in LEARNED))
        cells.append(f"{peak.get(task, float('nan')):.0f}")
        cells.append("/".join(seeds) or "-")
        lines.append("| " + " | ".join(cells) + " |")
    print("\n".join(lines))
    print("\nbeats the best baseline beyond one std (of %d tasks): " % board["task"].nunique()
          + ", ".join(f"{m} {w[0]} (2x: {w[1]})" for m, w in wins.items()))


if __name__ == "__main__":
    main(sys.argv[1])
