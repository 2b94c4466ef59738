#!/usr/bin/env bash
# The FPGA flow for a board top: Yosys (synth_ice40 -dsp), nextpnr-ice40, icetime, icepack,
# then a resource and timing report against the targets (docs/fpga.md).
#
# Usage: scripts/fpga.sh [--board icebreaker] [--array 2] [--build build] [--freq 30]
#                        [--lut-limit 4500] [--param Name=Value ...]
# The same settings come from the environment: BOARD, ARRAY, BUILD, FPGA_FREQ,
# FPGA_LUT_LIMIT, FPGA_PARAMS ("Name=Value ..." set on the top with chparam), and
# FPGA_TPU_LIST (default rtl/tpu.f: the TPU's file list the board's list is read after).
#
# Writes under BUILD/fpga/: BOARD.json (netlist), BOARD.asc, BOARD.bin, yosys.log,
# yosys.stat, nextpnr.log, nextpnr-report.json, icetime.txt and report.txt (also printed).
# Exit status: 0 when every target is met; 1 when the design does not fit, nextpnr misses
# the clock, or SB_LUT4 exceeds the limit (the report says which); 2 on a bad command line
# or a missing tool.
set -euo pipefail

board=${BOARD:-icebreaker}
array=${ARRAY:-2}
build=${BUILD:-build}
freq=${FPGA_FREQ:-30}
lut_limit=${FPGA_LUT_LIMIT:-4500}
tpu_list=${FPGA_TPU_LIST:-rtl/tpu.f}
read -r -a params <<< "${FPGA_PARAMS:-}"

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --board) board=$2; shift 2 ;;
    --array) array=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --freq) freq=$2; shift 2 ;;
    --lut-limit) lut_limit=$2; shift 2 ;;
    --param) params+=("$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "fpga.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
case "$board" in
  icebreaker) top=icebreaker_top; device=(--up5k --package sg48); icetime_dev=(-d up5k -P sg48);
              chipdb=5k; chipdb_flag=-5 ;;
  *) echo "fpga.sh: unknown board '$board' (known: icebreaker)" >&2; exit 2 ;;
esac
board_list=rtl/board/$board.f
pcf=fpga/$board.pcf
for f in "$tpu_list" "$board_list" "$pcf"; do
  [ -f "$f" ] || { echo "fpga.sh: $f is missing" >&2; exit 2; }
done
for tool in yosys nextpnr-ice40 icetime icepack; do
  command -v "$tool" >/dev/null || { echo "fpga.sh: $tool not found (make deps)" >&2; exit 2; }
done

out=$build/fpga
mkdir -p "$out"
rm -f "$out/$board.json" "$out/$board.asc" "$out/$board.bin" "$out/nextpnr-report.json" \
      "$out/icetime.txt" "$out/icetime.log" "$out/report.txt"

# The RTL: the TPU's list, then the board's (one path per line, `//` comments).
mapfile -t files < <(sed -e 's@//.*@@' -e 's/[[:space:]]*$//' "$tpu_list" "$board_list" \
                     | grep -v '^$')
chparams="chparam -set ArrayDim $array $top;"
for p in "${params[@]}"; do
  [[ "$p" == *=* ]] || { echo "fpga.sh: --param wants Name=Value, got '$p'" >&2; exit 2; }
  chparams+=" chparam -set ${p%%=*} ${p#*=} $top;"
done

echo "fpga: yosys synth_ice40 -dsp -top $top (ArrayDim $array${params[*]:+ ${params[*]}})" \
     "-> $out/yosys.log"
yosys -q -l "$out/yosys.log" -p "read_verilog -sv ${files[*]}; $chparams
  synth_ice40 -dsp -top $top -json $out/$board.json; tee -q -o $out/yosys.stat stat"

cells() {  # cells whose type matches a regular expression, in yosys.stat (0 when none)
  awk -v c="^($1)\$" '$1 ~ c { n += $2 } END { print n + 0 }' "$out/yosys.stat"
}
luts=$(cells SB_LUT4)
ffs=$(cells 'SB_DFF[A-Z]*')

# nextpnr: a design that does not fit stops it early; a timing miss returns 1 but still
# writes the .asc. It is single-threaded for this flow; expect minutes on a full design.
echo "fpga: nextpnr-ice40 ${device[*]} --freq $freq -> $out/nextpnr.log"
pnr_rc=0
nextpnr-ice40 "${device[@]}" --pcf "$pcf" --json "$out/$board.json" --asc "$out/$board.asc" \
  --freq "$freq" --report "$out/nextpnr-report.json" -q -l "$out/nextpnr.log" || pnr_rc=$?

lc_line=$(grep -E '^Info:[[:space:]]+ICESTORM_LC:' "$out/nextpnr.log" | tail -1 \
          | sed -e 's/^Info:[[:space:]]*ICESTORM_LC:[[:space:]]*//' -e 's/ *\/ */ of /' || true)
fmax_line=$(grep -E "Max frequency for clock" "$out/nextpnr.log" | tail -1 \
            | sed -E 's/^(Info|ERROR|Warning): *//' || true)
fmax=$(sed -n 's/.*clock [^:]*: *\([0-9.]*\) MHz.*/\1/p' <<< "$fmax_line")

# icetime needs the chip database (Debian's fpga-icestorm-chipdb); without it, one is made
# once with icebox_chipdb (about a minute) and kept under BUILD/fpga.
icetime_line=""
if [ -f "$out/$board.asc" ]; then
  echo "fpga: icetime ${icetime_dev[*]} -mt; icepack -> $out/$board.bin"
  if ! icetime "${icetime_dev[@]}" -mt -r "$out/icetime.txt" "$out/$board.asc" \
       >"$out/icetime.log" 2>&1; then
    if grep -q "chipdb" "$out/icetime.log" && command -v icebox_chipdb >/dev/null; then
      if [ ! -s "$out/chipdb-$chipdb.txt" ]; then
        echo "fpga: no icetime chip database installed: icebox_chipdb $chipdb_flag (once)"
        # icebox_chipdb prints its usage and exits 0 on a bad option: keep only a database.
        if icebox_chipdb "$chipdb_flag" >"$out/chipdb-$chipdb.txt.tmp" \
           && grep -q '^\.device' "$out/chipdb-$chipdb.txt.tmp"; then
          mv "$out/chipdb-$chipdb.txt.tmp" "$out/chipdb-$chipdb.txt"
        else
          echo "fpga: icebox_chipdb $chipdb_flag made no chip database; no icetime estimate" >&2
          rm -f "$out/chipdb-$chipdb.txt.tmp"
        fi
      fi
      if [ -s "$out/chipdb-$chipdb.txt" ]; then
        icetime "${icetime_dev[@]}" -mt -C "$out/chipdb-$chipdb.txt" -r "$out/icetime.txt" \
          "$out/$board.asc" >"$out/icetime.log" 2>&1 || true
      fi
    fi
  fi
  icetime_line=$(grep -E "Total path delay" "$out/icetime.txt" | tail -1 | sed 's/^ *//' || true)
  icepack "$out/$board.asc" "$out/$board.bin"
fi

# The verdict.
fails=()
[ "$luts" -le "$lut_limit" ] || fails+=("SB_LUT4 $luts > limit $lut_limit")
lc_used=$(awk '{ print $1 }' <<< "$lc_line")
lc_avail=$(awk '{ print $3 }' <<< "$lc_line")
if [ ! -f "$out/$board.asc" ]; then
  reason=$(grep -m1 -E "^ERROR" "$out/nextpnr.log" | sed 's/^ERROR: *//' || true)
  if [ -n "$lc_used" ] && [ -n "$lc_avail" ] && [ "$lc_used" -gt "$lc_avail" ]; then
    fit="the design does not fit: $lc_used of $lc_avail logic cells"
    fails+=("$fit (nextpnr: ${reason:-see nextpnr.log})")
  else
    fails+=("nextpnr did not place and route the design (exit $pnr_rc): ${reason:-see nextpnr.log}")
  fi
elif [ -z "$fmax" ] || ! awk -v f="$fmax" -v t="$freq" 'BEGIN { exit !(f >= t) }'; then
  fails+=("nextpnr misses the clock: Fmax ${fmax:-unknown} MHz < $freq MHz")
fi

{
  echo "FPGA flow: board $board, top $top, ArrayDim $array${params[*]:+, ${params[*]}}"
  echo "  synth_ice40 -dsp (yosys 0.23)"
  printf '  %-14s %6s   (target <= %s)\n' SB_LUT4 "$luts" "$lut_limit"
  printf '  %-14s %6s\n' "flip-flops" "$ffs"
  printf '  %-14s %6s\n' SB_CARRY "$(cells SB_CARRY)" SB_MAC16 "$(cells SB_MAC16)" \
    SB_RAM40_4K "$(cells 'SB_RAM40_4K(NR)?(NW)?')" SB_SPRAM256KA "$(cells SB_SPRAM256KA)"
  echo "  nextpnr-ice40 --up5k --package sg48 --freq $freq"
  echo "  logic cells    ${lc_line:-n/a (not placed)}"
  echo "  Fmax           ${fmax_line:-n/a}   (target >= $freq MHz)"
  echo "  icetime -mt    ${icetime_line:-n/a}   (an estimate; conservative on SB_MAC16)"
  [ -f "$out/$board.bin" ] && echo "  bitstream      $out/$board.bin"
  if [ ${#fails[@]} -eq 0 ]; then
    echo "RESULT: PASS (every target met)"
  else
    for f in "${fails[@]}"; do echo "RESULT: FAIL: $f"; done
  fi
} > "$out/report.txt"
cat "$out/report.txt"
[ ${#fails[@]} -eq 0 ]
