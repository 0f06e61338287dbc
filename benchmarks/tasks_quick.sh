#!/usr/bin/env bash
# Every PDEBench task of the ORCA protocol end to end in the quick profile from generated data (issue 3's
# acceptance run): generate the data (timed), run the cross-modal recipe `orca` and the FNO baseline,
# and FNO on every task's '-ar' variant (PDEBench's autoregressive protocol, same data files), then a
# table of data generation time, run wall time, status and test nRMSE per task and method.
#   bash benchmarks/tasks_quick.sh [WORK_DIR]    (default: ./tasks-quick; data, results and generate.tsv go there)
# Re-running resumes: generated files are reused and finished runs are skipped.
set -euo pipefail
WORK=${1:-tasks-quick}
mkdir -p "$WORK"
export XBENCH_DATA="$WORK/data"
TASKS="pdebench-advection pdebench-burgers pdebench-burgers-nu0.001 pdebench-diff-react pdebench-diff-sorp
pdebench-cfd1d pdebench-darcy pdebench-shallow-water pdebench-diff-react-2d pdebench-diff-react-2d-uv pdebench-cfd2d"
AR_TASKS="pdebench-advection-ar pdebench-burgers-ar pdebench-burgers-nu0.001-ar pdebench-diff-react-ar
pdebench-diff-sorp-ar pdebench-cfd1d-ar pdebench-shallow-water-ar pdebench-diff-react-2d-ar pdebench-cfd2d-ar"
start=$(date +%s)
touch "$WORK/generate.tsv"
for task in $TASKS; do
  if grep -q "^$task	" "$WORK/generate.tsv"; then continue; fi  # generated and timed by an earlier pass
  t0=$(date +%s.%N)
  xbench data generate "$task"
  awk -v task="$task" -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%s\t%.1f\n", task, t1 - t0 }' >> "$WORK/generate.tsv"
done
for task in $TASKS; do
  xbench run "$task" --method orca fno --seeds 0 --profile quick --results "$WORK/results" --no-progress || true
done
for task in $AR_TASKS; do
  xbench run "$task" --method fno --seeds 0 --profile quick --results "$WORK/results" --no-progress || true
done
python - "$WORK" $AR_TASKS <<'PY'
import sys
import pandas as pd
work = sys.argv[1]
gen = pd.read_csv(f"{work}/generate.tsv", sep="\t", names=["task", "generate_s"]).set_index("task")
gen = gen.reindex([*gen.index, *sys.argv[2:]])  # '-ar' variants read their parent's file
s = pd.read_csv(f"{work}/results/pdebench/scores.csv")
s = s[s.task.isin(gen.index) & (s.profile == "quick")]
latest = s.drop_duplicates("run_key", keep="last").drop_duplicates(["task", "method"], keep="last")["run_key"]
s = s[s.run_key.isin(latest)]  # the newest run per task and method (rows are appended in time order)
runs = s.drop_duplicates("run_key", keep="last")
wall = runs.pivot_table(index="task", columns="method", values="wall_s", aggfunc="first")
test = s[(s.split == "test") & (s.metric == "nrmse")].drop_duplicates("run_key", keep="last")
score = test.pivot_table(index="task", columns="method", values="value", aggfunc="first")
pdb = s[(s.split == "test") & (s.metric == "pdebench_nrmse") & (s.method == "fno")].drop_duplicates("run_key", keep="last")
t = gen.join(wall.add_suffix(" wall_s")).join(score.add_suffix(" nrmse"))
t = t.join(pdb.set_index("task")["value"].rename("fno pdebench_nrmse")).round(4)
t["failed"] = runs[runs.status != "ok"].groupby("task").size().reindex(t.index).fillna(0).astype(int)
print("\nquick profile, generated data: generation time (s, quick-profile samples), run wall time (s), test nRMSE "
      "(ORCA's per-sample nrmse; PDEBench's pdebench_nrmse, the '-ar' tasks' main metric)\n"
      + t.to_string())
PY
echo "total wall time: $(( $(date +%s) - start )) s"
