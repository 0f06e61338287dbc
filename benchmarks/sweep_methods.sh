#!/usr/bin/env bash
# Quick-profile sweep of every method on a 1D and a 2D task x 3 seeds (issue 4's acceptance run), then
# the leaderboard, the bound-vs-test table (REPORT_DIR/bound.md) and a wall-time table per method.
#   bash benchmarks/sweep_methods.sh [RESULTS_DIR] [REPORT_DIR]     (defaults: results, RESULTS_DIR)
# Re-running resumes: finished runs are skipped. Set XBENCH_DATA to reuse generated data.
set -euo pipefail
RESULTS=${1:-results}
REPORTS=${2:-$RESULTS}
METHODS="scratch finetune linear-probe lora orca mmd-align recraft pare joint xbench-adaptive fno unet"
start=$(date +%s)
# the trivial baselines only apply where input and target are the same field (not Darcy's a -> u)
xbench run pdebench-burgers --method $METHODS input-mean persistence --seeds 0 1 2 --profile quick \
  --results "$RESULTS" --no-progress || true
xbench run pdebench-darcy --method $METHODS --seeds 0 1 2 --profile quick --results "$RESULTS" --no-progress || true
xbench report --results "$RESULTS" --out "$REPORTS"
python - "$RESULTS" <<'PY'
import sys
import pandas as pd
s = pd.read_csv(f"{sys.argv[1]}/pdebench/scores.csv").drop_duplicates("run_key", keep="last")
s = s[s.task.isin(["pdebench-burgers", "pdebench-darcy"]) & (s.profile == "quick")]
t = s.pivot_table(index="method", columns="task", values="wall_s", aggfunc="mean").round(1)
t["failed"] = s[s.status != "ok"].groupby("method").size().reindex(t.index).fillna(0).astype(int)
print("\nmean wall time per run (s), quick profile\n" + t.to_string())
PY
echo "sweep wall time: $(( $(date +%s) - start )) s"
