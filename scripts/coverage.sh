#!/usr/bin/env bash
# RTL coverage (make coverage): builds every RTL test with Verilator's line, branch and toggle
# coverage (cmake -DTPU_COVERAGE=ON), and with --x-assign unique --x-initial unique
# (-DTPU_X_UNIQUE=ON), runs them (the directed tests and the random programs; not the 20-seed
# XOR training run; 1,000 random programs per configuration unless TPU_PROGRAMS says
# otherwise), merges the points with verilator_coverage, writes an lcov report (genhtml) and
# prints a table per RTL file. Then, in the same build, the X-robustness check: the --x-tests
# under random initial values (TPU_RAND_RESET=2) from each of --x-seeds, which write no
# coverage points (random power-up values toggle bits and reach states no reset leaves, which would
# flatter the coverage). One build thus serves both (docs/testplan.md).
#
# Usage: scripts/coverage.sh [-j JOBS] [--min-line PCT] [--toggle-max-dim N]
#                            [--x-seeds "S1 S2 ..."] [--x-tests REGEX] [--report-only]
#                            [BUILD_DIR]
#   BUILD_DIR    the coverage build (default build-cov); the report is BUILD_DIR/coverage/html
#   -j JOBS      build and test jobs (default: the number of CPUs)
#   --min-line   fail when a file's line coverage is below PCT (default: report only)
#   --toggle-max-dim  toggle points only in the models of ArrayDim up to N and those without
#                one (default 16: every model; CI takes 4 to shorten its run: the models at 8
#                and 16 keep their line and branch points)
#   --x-seeds    TPU_RAND_SEED of each X-robustness run (default "1 2 3"; "" runs none)
#   --x-tests    the ctest regular expression of the tests those runs take (default: every
#                RTL test; make coverage passes make xcheck's XTESTS), with XPROGRAMS random
#                programs and XHOSTILE bad programs per configuration (default 1000, 100)
#   --report-only  build and run nothing: merge the points already in BUILD_DIR/coverage/points
#                (make xcheck XCOVERAGE=1 writes them there) and report
# Exit status: 0 when the tests pass (and every file reaches --min-line), 1 otherwise, 2 on a
# bad command line.
set -euo pipefail

usage() { sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; }

jobs=$(nproc 2>/dev/null || echo 2)
min_line=""
report_only=0
build=""
x_seeds="1 2 3"
x_tests=""
toggle_max_dim=16
while [ $# -gt 0 ]; do
  case "$1" in
    -j) jobs=${2:?}; shift 2 ;;
    --min-line) min_line=${2:?}; shift 2 ;;
    --toggle-max-dim) toggle_max_dim=${2:?}; shift 2 ;;
    --x-seeds) x_seeds=${2:?}; shift 2 ;;
    --x-tests) x_tests=${2:?}; shift 2 ;;
    --report-only) report_only=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "coverage.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    *) [ -z "$build" ] || { usage >&2; exit 2; }; build=$1; shift ;;
  esac
done
build=${build:-build-cov}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Every test binary with a Verilated model (tests/CMakeLists.txt, tests/*.cmake).
targets=(pe_test isa_test board_test runtime_test)
for n in 2 4 8 16; do targets+=("array_test_$n"); done
for n in 2 3 4 8; do targets+=("ub_test_$n" "ub_tpu_test_$n"); done
for n in 2 4 8; do targets+=("vpu_test_$n" "sgd_test_$n"); done
for c in 2 4 8 board; do targets+=("tpu_test_$c"); done
for n in 2 8; do targets+=("uart_bridge_test_$n"); done
tests='^(pe|isa|board|runtime|array[0-9]+|ub[0-9]+s?|vpu[0-9]+|sgd[0-9]+|tpu[0-9a-z]+|uart_bridge[0-9]+)\.'

x_tests=${x_tests:-$tests}
read -r -a seeds <<< "$x_seeds"
[[ "$toggle_max_dim" =~ ^[0-9]+$ ]] || {
  echo "coverage.sh: --toggle-max-dim: '$toggle_max_dim' is not a number" >&2; exit 2; }
for s in "${seeds[@]}"; do
  [[ "$s" =~ ^[0-9]+$ ]] || { echo "coverage.sh: --x-seeds: '$s' is not a number" >&2; exit 2; }
done

rc=0
if [ "$report_only" = 0 ]; then
  cmake -S . -B "$build" -DTPU_COVERAGE=ON -DTPU_COVERAGE_TOGGLE=ON -DTPU_X_UNIQUE=ON \
    -DTPU_COVERAGE_TOGGLE_MAX_DIM="$toggle_max_dim" >/dev/null
fi
# Absolute: ctest runs each test in its own directory.
out=$(cd "$build" && pwd)/coverage
if [ "$report_only" = 0 ]; then
  cmake --build "$build" -j "$jobs" --target "${targets[@]}"
  rm -rf "$out"
  mkdir -p "$out/points"
  # Coverage slows the models about fivefold: 1,000 random programs per configuration here.
  log=$out/ctest.log
  echo "coverage: every RTL test (log: $log)"
  TPU_COVERAGE_DIR=$out/points TPU_PROGRAMS=${TPU_PROGRAMS:-1000} ctest --test-dir "$build" \
    -j "$jobs" -R "$tests" --output-on-failure >"$log" 2>&1 || rc=1
  tail -n 3 "$log"
  # X robustness: an empty TPU_COVERAGE_DIR writes no points (tb/harness.hpp).
  for s in "${seeds[@]}"; do
    [ "$rc" = 0 ] || break
    log=$out/xcheck-seed$s.log
    echo "coverage: X robustness, TPU_RAND_RESET=2 TPU_RAND_SEED=$s: $x_tests (log: $log)"
    TPU_COVERAGE_DIR= TPU_PROGRAMS=${XPROGRAMS:-1000} \
      TPU_HOSTILE_PROGRAMS=${XHOSTILE:-100} TPU_RAND_RESET=2 TPU_RAND_SEED=$s \
      ctest --test-dir "$build" -j "$jobs" -R "$x_tests" --output-on-failure >"$log" 2>&1 || rc=1
    tail -n 3 "$log"
  done
  if [ "$rc" != 0 ]; then
    grep -hE "Failed|\*\*\*" "$out"/ctest.log "$out"/xcheck-seed*.log 2>/dev/null | head -20
    echo "coverage: tests failed (logs: $out/ctest.log, $out/xcheck-seed*.log)"
  fi
fi

# Merge (in batches: thousands of files), then the lcov report and the table.
if [ ! -d "$out/points" ]; then
  echo "coverage: $out/points is missing: no coverage run wrote points there" >&2
  exit 1
fi
# merge LIST OUT: the coverage files named in LIST into OUT, 200 at a time (thousands of files
# overflow one command line).
merge() {
  rm -f "$out"/batch.* "$out"/part*.dat
  split -l 200 "$1" "$out/batch."
  local i=0 b
  for b in "$out"/batch.*; do
    xargs verilator_coverage --write "$out/part$i.dat" <"$b"
    i=$((i + 1))
  done
  verilator_coverage --write "$2" "$out"/part*.dat
  rm -f "$out"/batch.* "$out"/part*.dat
}

find "$out/points" -name '*.dat' >"$out/files.txt"
if [ ! -s "$out/files.txt" ]; then
  echo "coverage: no coverage points were written (is the build made with -DTPU_COVERAGE=ON?)" >&2
  exit 1
fi
merge "$out/files.txt" "$out/merged.dat"
verilator_coverage --write-info "$out/coverage.info" "$out/merged.dat"
genhtml --quiet --output-directory "$out/html" --title "TPU RTL coverage" \
  "$out/coverage.info" >"$out/genhtml.log" 2>&1 || echo "coverage: genhtml failed ($out/genhtml.log)"
echo "coverage: $(wc -l <"$out/files.txt") coverage files merged; report: $out/html/index.html"
table_args=("$out/merged.dat" --root "$root")
[ -n "$min_line" ] && table_args+=(--min-line "$min_line")
python3 scripts/coverage_table.py "${table_args[@]}" | tee "$out/table.txt" || rc=1

# The same per regressed size: the points of the tests at that ArrayDim (their coverage files
# are named after their traces: tpu2_..., ub4s_..., uart_bridge8_...; the PE's and the
# decoder's count at every size). Size 3 is the buffer's alone, 16 the array's.
echo "coverage at each regressed size (line, branch, toggle; rtl/ files the size's tests reach):"
for size in 2 3 4 8 16; do
  case $size in
    2) own='^(array2|ub2s?|vpu2|sgd2|tpu2|uart_bridge2|board)_' ;;
    3) own='^(ub3s?)_' ;;
    4) own='^(array4|ub4s?|vpu4|sgd4|tpu4|runtime|compiled)_' ;;
    8) own='^(array8|ub8s?|vpu8|sgd8|tpu8|uart_bridge8)_' ;;
    16) own='^(array16)_' ;;
  esac
  shared='^(pe|isa)_'
  while read -r f; do
    name=$(basename "$f")
    if [[ "$name" =~ $own ]]; then echo "$f"; elif [[ "$name" =~ $shared ]]; then echo "$f"; fi
  done <"$out/files.txt" >"$out/files-$size.txt"
  if ! grep -qE "/${own#^}" "$out/files-$size.txt"; then
    echo "  ArrayDim $size: not run here"
    continue
  fi
  merge "$out/files-$size.txt" "$out/merged-$size.dat"
  size_args=("$out/merged-$size.dat" --root "$root")
  [ -n "$min_line" ] && size_args+=(--min-line "$min_line")
  python3 scripts/coverage_table.py "${size_args[@]}" >"$out/table-$size.txt" || rc=1
  echo "  ArrayDim $size ($(wc -l <"$out/files-$size.txt") runs): $(tail -n 1 "$out/table-$size.txt" | sed 's/^all of rtl\/ *//')"
done
exit "$rc"
