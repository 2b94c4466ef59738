#!/usr/bin/env bash
# Fetches the UCI 8x8 handwritten digits (1,797 images, 10 classes, 64 features 0..16) from
# the one file that Debian's python3-sklearn package ships them in,
# sklearn/datasets/data/digits.csv.gz: `apt-get download` the package (nothing is
# installed) and `dpkg-deb -x` it in a scratch folder. Cached: does nothing when OUT exists.
# usage: scripts/fetch-digits.sh OUT.csv
set -euo pipefail
out=${1:?usage: scripts/fetch-digits.sh OUT.csv}
if [ -s "$out" ]; then
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
if ! apt-get download python3-sklearn >/dev/null 2>apt.log; then
  # A fresh machine may have no package lists yet.
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq; elif command -v sudo >/dev/null; then sudo apt-get update -qq; fi
  apt-get download python3-sklearn >/dev/null 2>apt.log || { cat apt.log >&2; exit 1; }
fi
dpkg-deb -x python3-sklearn_*.deb pkg
src=$(find pkg -path '*sklearn/datasets/data/digits.csv.gz' | head -n 1)
if [ -z "$src" ]; then
  echo "fetch-digits: python3-sklearn has no sklearn/datasets/data/digits.csv.gz" >&2
  exit 1
fi
cd - >/dev/null
mkdir -p "$(dirname "$out")"
zcat "$tmp/$src" > "$out.part"
mv "$out.part" "$out"
echo "fetch-digits: $(wc -l < "$out") digits in $out"
