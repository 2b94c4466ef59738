#!/usr/bin/env bash
# CI's digits check: the first epochs of `make digits` on the Verilated TPU, every cycle
# against the golden model and every buffer write against the functional model (tpu-run exits
# 1 on any mismatch), and the test accuracy after them at least MIN (a fraction).
# usage: scripts/digits-check.sh TPU_RUN DIGITS_PREPARE DATA_DIR OUT_DIR EPOCHS MIN
set -euo pipefail
run=$1 prepare=$2 data=$3 out=$4 epochs=$5 min=$6
cd "$(dirname "$0")/.."
bash scripts/fetch-digits.sh "$data/digits.csv"
"$prepare" "$data/digits.csv" "$data/train.csv" "$data/test.csv"
"$run" models/digits.json --engine rtl --cross-check --float --no-plots --epochs "$epochs" \
  --train "$data/train.csv" --test "$data/test.csv" --out "$out"
# metrics.csv: epoch, loss, train_acc, test_acc, cycles, float_loss, float_train_acc, float_test_acc
tail -n 1 "$out/metrics.csv" | awk -F, -v min="$min" '{
  printf "digits after %d epochs on the RTL: test accuracy %.2f%% (float %.2f%%)\n", $1, 100*$4, 100*$8
  if ($4 < min) { printf "below %.2f%%\n", 100*min; exit 1 } }'
