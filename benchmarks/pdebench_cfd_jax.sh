#!/usr/bin/env bash
# Time PDEBench's own JAX generator for the compressible Navier-Stokes tasks (CFD_multi_Hydra.py) on
# this machine, to compare with xbench's (python benchmarks/generator_cfd.py). A report, not a test.
#
# Nothing of PDEBench ships with xbench (its generator code is under a non-commercial licence): point
# this script at your own checkout of github.com/pdebench/PDEBench at commit b9c7cd1, the last one whose
# data_gen_NLE/utils.py runs (later commits rewrote JAX's x.at[...] into x.loc[...], spec §11), and run
# it with a Python that has jax[cpu]==0.4.30 and hydra-core (kept apart from xbench's environment):
#
#   python -m venv /tmp/jv && /tmp/jv/bin/pip install "jax[cpu]==0.4.30" hydra-core
#   PYTHON=/tmp/jv/bin/python bash benchmarks/pdebench_cfd_jax.sh ~/PDEBench 1d 1 0.02 0.12
#
# Arguments: PDEBENCH_DIR, 1d | 2d, samples (PDEBench's `numbers`), two end times T1 < T2. The task's
# settings: 1d = 1D_Multi.yaml with eta = zeta = 0.1 (1024 cells, periodic, CFL 0.3);
# 2d = 2D_Multi_Rand.yaml with M0 = 1.0, eta = zeta = 0.1 (128^2). Each end time is one process
# (compilation included); the difference of the two wall times is the cost of simulating T2 - T1,
# which gives samples per second for a whole trajectory (t = 1) without the compile time. Its cost
# per unit time is nearly constant: the explicit viscous sub-steps, a fixed step, dominate.
set -euo pipefail
dir=${1:?PDEBench checkout}; dim=${2:-1d}; n=${3:-1}; t1=${4:-0.02}; t2=${5:-0.12}
py=${PYTHON:-python}
gen="$dir/pdebench/data_gen/data_gen_NLE/CompressibleFluid"
[ -f "$gen/CFD_multi_Hydra.py" ] || { echo "no $gen/CFD_multi_Hydra.py: pass a PDEBench checkout" >&2; exit 2; }
case $dim in
  1d) args=(+args=1D_Multi.yaml ++args.eta=0.1 ++args.zeta=0.1) ;;
  2d) args=(+args=2D_Multi_Rand.yaml ++args.M0=1.0 ++args.eta=0.1 ++args.zeta=0.1) ;;
  *) echo "dimension must be 1d or 2d, not $dim" >&2; exit 2 ;;
esac
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
wall() {  # seconds for one run to end time $1
  local start end
  start=$(date +%s.%N)
  (cd "$gen" && "$py" CFD_multi_Hydra.py "${args[@]}" ++args.numbers="$n" ++args.fin_time="$1" \
    ++args.save="$out/" > "$out/log.txt" 2>&1) || { cat "$out/log.txt" >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'
}
w1=$(wall "$t1"); w2=$(wall "$t2")
awk -v w1="$w1" -v w2="$w2" -v t1="$t1" -v t2="$t2" -v n="$n" -v d="$dim" 'BEGIN {
  per = (w2 - w1) / (t2 - t1) / n
  printf "PDEBench JAX %s, %d samples: %.1f s to t=%s, %.1f s to t=%s\n", d, n, w1, t1, w2, t2
  printf "%.1f s per sample per unit time: %.4g samples/s for a trajectory to t=1\n", per, 1 / per
}'
