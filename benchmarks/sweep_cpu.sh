#!/usr/bin/env bash
# The cpu-profile sweep (issue 11): the cheap baselines, FNO, U-Net, orca and finetune on every
# ORCA-protocol PDEBench task x 3 seeds, seed by seed (so a cut-short sweep still covers every task
# once), then the table (benchmarks/cpu_table.py), the leaderboard and the bound report.
#   bash benchmarks/sweep_cpu.sh PART [RESULTS_DIR] [REPORT_DIR]   PART: 1d | 2d | methods | all
# Part 1d (six 1D tasks) and part 2d (five 2D tasks and the grouped shallow-water split) are each sized to about two hours on a 2-core
# CPU; "methods" runs the other cross-modal methods on two tasks. Re-running resumes: finished runs
# are skipped. Set XBENCH_DATA to reuse generated data, SEEDS (default "0 1 2") to run some seeds.
set -uo pipefail
PART=${1:-all}
RESULTS=${2:-results}
REPORTS=${3:-$RESULTS}
TASKS_1D="pdebench-diff-react pdebench-diff-sorp pdebench-advection pdebench-burgers pdebench-burgers-nu0.001 pdebench-cfd1d"
TASKS_2D="pdebench-darcy pdebench-shallow-water pdebench-shallow-water-grouped pdebench-diff-react-2d pdebench-diff-react-2d-uv pdebench-cfd2d"
MAIN="fno unet orca finetune"
OTHERS="scratch linear-probe lora mmd-align recraft pare joint xbench-adaptive"
case $PART in
  1d) TASKS=$TASKS_1D ;; 2d) TASKS=$TASKS_2D ;; all) TASKS="$TASKS_1D $TASKS_2D" ;; methods) TASKS="" ;;
  *) echo "PART must be 1d, 2d, methods or all" >&2; exit 2 ;;
esac
start=$(date +%s)
for seed in ${SEEDS:-0 1 2}; do
  for task in $TASKS; do
    # the cheap baselines that apply (the default set) come with every task
    baselines=$(python -c "from xbench.runner import default_methods; from xbench.tasks.registry import get_task; \
from xbench.models.baselines import CHEAP; print(' '.join(m for m in default_methods(get_task('$task')) if m in CHEAP))")
    xbench run "$task" --method $baselines $MAIN --seeds $seed --profile cpu --results "$RESULTS" --no-progress
  done
  if [ "$PART" = methods ] || [ "$PART" = all ]; then
    for task in pdebench-diff-react pdebench-darcy; do
      xbench run "$task" --method $OTHERS --seeds $seed --profile cpu --results "$RESULTS" --no-progress
    done
  fi
done
echo "sweep wall time: $(( $(date +%s) - start )) s"
mkdir -p "$REPORTS"
python benchmarks/cpu_table.py "$RESULTS/pdebench" > "$REPORTS/table.md"
xbench report --results "$RESULTS" --out "$REPORTS" > /dev/null
cat "$REPORTS/table.md"
