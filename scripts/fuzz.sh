#!/usr/bin/env bash
# Random-program soak (make fuzz): Tpu.RandomProgramsInLockstep and the bad-program and bad-host
# tests (TpuHostile.*, a tenth as many programs each: they run each one twice over the whole
# buffer) of every tpu_test configuration
# (tests/CMakeLists.txt: ArrayDim 2, 4, 8 and the board's parameters) under fresh seeds, each run a
# job of GNU parallel, so that the same command spreads over hosts with parallel's own options
# (FUZZ_PARALLEL_OPTS="-S host1,host2 --workdir ..." for its ssh mode; a Slurm array can run
# one seed per task with TPU_SEED set the same way).
#
# Usage: scripts/fuzz.sh [-s SEEDS] [-j JOBS] [-p PROGRAMS] [-c CONFIGS] [BUILD_DIR]
#   -s SEEDS     fresh seeds per configuration (default 4)
#   -j JOBS      runs at once (default: the number of CPUs)
#   -p PROGRAMS  random programs per run (default 2000)
#   -c CONFIGS   comma-separated tpu_test configurations (default 2,4,8,board)
#   BUILD_DIR    the CMake build with tests/tpu_test_* built (default build)
# A run that fails prints its seed, leaves the failing program as assembly in
# BUILD_DIR/fuzz/<config>-<seed>/random-program-<seed>-<index>.s, and is replayed with
#   TPU_SEED=<seed> TPU_PROGRAMS=<n> TPU_HOSTILE_PROGRAMS=<n/10> TPU_TRACE=1 \
#     BUILD_DIR/tests/tpu_test_<config> --gtest_filter=<the failing test>
# (TPU_TRACE=1 writes the VCD of the run to waves/). Exit status: 0 when every run passed, 1
# when one failed, 2 on a bad command line.
set -euo pipefail

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; }

seeds=4
jobs=$(nproc 2>/dev/null || echo 2)
programs=2000
configs=2,4,8,board
while getopts "s:j:p:c:h" opt; do
  case "$opt" in
    s) seeds=$OPTARG ;;
    j) jobs=$OPTARG ;;
    p) programs=$OPTARG ;;
    c) configs=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
build=${1:-build}
for v in "$seeds" "$jobs" "$programs"; do
  if ! [[ "$v" =~ ^[1-9][0-9]*$ ]]; then
    echo "fuzz.sh: '$v' is not a positive number" >&2; usage >&2; exit 2
  fi
done
if [ $# -gt 1 ]; then usage >&2; exit 2; fi

IFS=',' read -r -a cfgs <<< "$configs"
for c in "${cfgs[@]}"; do
  if [ ! -x "$build/tests/tpu_test_$c" ]; then
    echo "fuzz.sh: $build/tests/tpu_test_$c is not built (configurations: 2, 4, 8, board)" >&2
    exit 2
  fi
done
command -v parallel >/dev/null || { echo "fuzz.sh: GNU parallel is missing (make deps)" >&2; exit 2; }

build=$(cd "$build" && pwd)
out=$build/fuzz
mkdir -p "$out"
# Fresh 64-bit seeds from the kernel's generator, one per run (decimal, as TPU_SEED takes them).
mapfile -t seed_list < <(od -An -v -N$((8 * seeds)) -tu8 -w8 /dev/urandom | tr -d ' ')

echo "fuzz: ${#cfgs[@]} configurations x $seeds seeds x $programs programs, $jobs at once" \
     "(logs: $out)"
one_run() {  # config seed programs out
  local dir=$4/$1-$2 hostile=$(( $3 / 10 > 0 ? $3 / 10 : 1 ))
  mkdir -p "$dir" && cd "$dir"
  if TPU_SEED=$2 TPU_PROGRAMS=$3 TPU_HOSTILE_PROGRAMS=$hostile "$5/tests/tpu_test_$1" \
       --gtest_filter='Tpu.RandomProgramsInLockstep:TpuHostile.*' >log.txt 2>&1; then
    echo "pass  tpu_test_$1 TPU_SEED=$2: $(grep -m1 '^\[ random' log.txt | sed 's/^\[ random   \] //')"
  else
    echo "FAIL  tpu_test_$1 TPU_SEED=$2 (log: $dir/log.txt; replay: TPU_SEED=$2 TPU_PROGRAMS=$3" \
         "TPU_HOSTILE_PROGRAMS=$hostile $5/tests/tpu_test_$1 --gtest_filter=$(grep -m1 -o \
         '^\[  FAILED  \] [A-Za-z.]*' log.txt | sed 's/.* //'))"
    return 1
  fi
}
export -f one_run
rc=0
# shellcheck disable=SC2086  # FUZZ_PARALLEL_OPTS is a list of options
parallel --will-cite -j "$jobs" ${FUZZ_PARALLEL_OPTS:-} one_run {1} {2} "$programs" "$out" "$build" \
  ::: "${cfgs[@]}" ::: "${seed_list[@]}" || rc=1
if [ "$rc" = 0 ]; then
  echo "fuzz: every run passed ($(( ${#cfgs[@]} * seeds * programs )) programs)"
else
  echo "fuzz: a run failed (above)"
fi
exit "$rc"
