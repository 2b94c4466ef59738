#!/usr/bin/env bash
# The digits model from several initialisation seeds: tpu-run on the functional engine
# (bit-identical to the RTL and the golden model: tests/functional_test.cpp, the runtime's
# cross-check) beside the double-precision reference, then the test accuracies per seed and
# their minimum and median.
# usage: scripts/digits-seeds.sh TPU_RUN OUT_DIR TRAIN.csv TEST.csv SEED...
set -euo pipefail
run=$1 out=$2 train=$3 test=$4
shift 4
mkdir -p "$out"
printf '| init seed | TPU test accuracy | float test accuracy |\n|---|---|---|\n' > "$out/seeds.md"
for s in "$@"; do
  "$run" models/digits.json --engine functional --init-seed "$s" --train "$train" --test "$test" \
    --float --quiet --out "$out/seed$s" >/dev/null
  # metrics.csv: epoch, loss, train_acc, test_acc, cycles, float_loss, float_train_acc, float_test_acc
  tail -n 1 "$out/seed$s/metrics.csv" | awk -F, -v s="$s" '{printf "| %s | %.2f%% | %.2f%% |\n", s, 100*$4, 100*$8}' >> "$out/seeds.md"
done
tpu=$(tail -n +3 "$out/seeds.md" | awk -F'|' '{gsub(/[ %]/,"",$3); print $3}' | sort -n)
flt=$(tail -n +3 "$out/seeds.md" | awk -F'|' '{gsub(/[ %]/,"",$4); print $4}' | sort -n)
stat() { awk '{v[NR]=$1} END {printf "min %.2f%%, median %.2f%%", v[1], (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
cat "$out/seeds.md"
echo "TPU:   $(echo "$tpu" | stat) over $# seeds"
echo "float: $(echo "$flt" | stat) over $# seeds"
