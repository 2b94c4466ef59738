#!/usr/bin/env bash
# Formal property checks of the RTL with Yosys 0.23, yosys-smtbmc and z3 (no SymbiYosys): for
# every proof, a bounded model check (BMC) from reset, then k-induction where the proof is meant
# to close, and a table of the results. The properties live in formal/*_props.sv, wrappers that
# instantiate one RTL module each and state what docs/architecture.md says at its ports.
#
# Usage: scripts/formal.sh [--rtl DIR] [--only NAME[,NAME...]] [--jobs N] [--list] [BUILD_DIR]
#   BUILD_DIR   scratch files (netlists, logs, a VCD of every failure); default $BUILD/formal,
#               else build/formal
#   --rtl DIR   read the RTL (DIR/rtl/tpu.f and the files it lists) from another tree, e.g. a
#               scratch copy with a planted bug; the properties still come from this tree
#   --only      run only these proofs (names as in the table's first column)
#   --jobs N    run N proofs at once (default: FORMAL_JOBS, else 1)
#   --list      print the proofs' names and exit
# Environment: FORMAL_TIMEOUT, seconds one solver run may take (default 300).
#
# Exit status: 0 when every proof passes (BMC to its depth, and induction where the table says
# it closes); 1 when one fails (its log and VCD are under BUILD_DIR/NAME/); 2 on a bad command
# line or a missing tool.
#
# How a proof is built: the RTL is read as for synthesis (SYNTHESIS defined, so the RTL's own
# simulation assertions stay out), the wrapper with -formal; after flattening, `connect` ties
# the wrapper's peek_* wires to internal signals of the module (an observer of a register or a
# submodule's port: no `ifdef FORMAL` in the RTL); a peek that names a missing signal or the
# wrong width stops Yosys. Then prep, memory_nordff, async2sync, dffunmap, write_smt2 -wires,
# and yosys-smtbmc -s z3 --unroll (BMC: -t depth; induction: -i -t kmax, and the k reported
# is the smallest that closed it).
set -euo pipefail

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }

root=$(cd "$(dirname "$0")/.." && pwd)
rtl_root=$root
only=""
jobs=${FORMAL_JOBS:-1}
list=0
build=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rtl) rtl_root=$(cd "$2" && pwd); shift 2 ;;
    --only) only=$2; shift 2 ;;
    --jobs|-j) jobs=$2; shift 2 ;;
    --list) list=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "formal.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    *) build=$1; shift ;;
  esac
done
[ -n "$build" ] || build=${BUILD:-build}/formal
timeout_s=${FORMAL_TIMEOUT:-300}

for tool in yosys yosys-smtbmc z3 timeout; do
  if ! command -v "$tool" >/dev/null; then
    echo "formal.sh: $tool is missing (bash scripts/install-deps.sh installs yosys and z3)" >&2
    exit 2
  fi
done

# The RTL, in rtl/tpu.f's order: every proof reads all of it and keeps what its top needs.
rtl_files=()
while read -r f; do
  [ -n "$f" ] && rtl_files+=("$rtl_root/$f")
done < <(sed -e 's@//.*@@' -e 's/[[:space:]]*$//' "$rtl_root/rtl/tpu.f")

# ---------------------------------------------------------------------------------------
# The proofs. Each sets: desc (the table's property column), module (the RTL module proved),
# top (wrapper module in formal/), src (wrapper file), params ("Name=Value ..." for chparam on
# the wrapper), peeks (connect commands, built with peek/peek_slice), bmc (BMC depth), kmax
# (the longest induction tried; 0: BMC only), logic (smtbmc's --logic, empty for its default).

peeks=""
peek()       { peeks+="connect -nounset -set $1 $2; "; }
peek_slice() { peeks+="connect -nounset -set $1[$(( ($2 + 1) * $3 - 1 )):$(( $2 * $3 ))] $4; "; }
clog2() {
  local n=1 w=0
  while [ "$n" -lt "$1" ]; do n=$((n * 2)); w=$((w + 1)); done
  echo "$w"
}

proofs=(pe_s33 pe_s35 delay_d1 delay_d2 delay_d3 array_n2 array_n3 ub_d6_gs1 ub_d6_gs0
        tracker_n2 cu_n2)

define() {
  desc=""; module=""; top=""; src=""; params=""; peeks=""; bmc=0; kmax=0; logic=""
  case "$1" in
    pe_s*)
      # MAC and weight switch; SumWidth 33 is ArrayDim 2's, 35 ArrayDim 8's.
      local sw=${1#pe_s}
      desc="MAC and weight switch (SumWidth $sw)"; module=pe; top=pe_props
      params="SumWidth=$sw"; bmc=12; kmax=4
      peek peek_active u_dut.active_q
      peek peek_shadow u_dut.shadow_q ;;
    delay_d*)
      local d=${1#delay_d}
      desc="delay by Depth, hold while idle (Depth $d)"; module=delay_line; top=delay_line_props
      params="Width=17 Depth=$d"; bmc=10; kmax=6 ;;
    array_n*)
      local n=${1#array_n} r c i sw
      sw=$((32 + $(clog2 "$n")))
      desc="skew, weight skew, de-skew, latency (ArrayDim $n)"; module=systolic_array
      top=array_props; params="ArrayDim=$n"; bmc=$((2 * n + 3)); kmax=$((2 * n + 2))
      for ((r = 0; r < n; r++)); do
        for ((c = 0; c < n; c++)); do
          i=$((r * n + c))
          local p="u_dut.gen_row[$r].gen_col[$c].u_pe"
          peek "peek_valid[$i]" "$p.valid_i"
          peek "peek_switch[$i]" "$p.switch_i"
          peek "peek_load[$i]" "$p.load_i"
          peek_slice peek_act "$i" 16 "$p.act_i"
          peek_slice peek_w "$i" 16 "$p.w_i"
        done
      done
      for ((c = 0; c < n; c++)); do
        peek "peek_last_valid[$c]" "u_dut.gen_row[$((n - 1))].gen_col[$c].u_pe.valid_o"
        peek_slice peek_last_psum "$c" "$sw" "u_dut.gen_row[$((n - 1))].gen_col[$c].u_pe.psum_o"
      done ;;
    ub_d*)
      # Depth 6: not a power of two, so rows 6 and 7 are bank addresses outside the buffer.
      local d=${1#ub_d}; d=${d%%_*}
      local gs=${1##*_gs} n=2 ports=2 ba cnt strw p b i
      ba=$(clog2 "$d")
      if [ "$gs" = 1 ]; then cnt=16; strw=$ba; else cnt=$((ba + 1)); strw=1; fi
      desc="no access outside, illegal touches nothing, errors"
      desc+=" (Depth $d, GeneralStride $gs)"
      module=unified_buffer; top=ub_props; bmc=6; kmax=4; logic=QF_BV
      params="ArrayDim=$n Depth=$d NumReadPorts=$ports GeneralStride=$gs"
      for ((p = 0; p < ports; p++)); do
        for ((b = 0; b < n; b++)); do
          i=$((p * n + b))
          local ram="u_dut.gen_copy[$p].gen_bank[$b].u_ram"
          peek "peek_we[$i]" "$ram.we_i"
          peek "peek_re[$i]" "$ram.re_i"
          peek_slice peek_waddr "$i" "$ba" "$ram.waddr_i"
          peek_slice peek_raddr "$i" "$ba" "$ram.raddr_i"
          peek_slice peek_wdata "$i" 16 "$ram.wdata_i"
        done
        local g="u_dut.gen_read[$p]"
        peek_slice peek_rd_remaining "$p" "$cnt" "$g.remaining_q"
        peek_slice peek_rd_cur "$p" "$ba" "$g.cur_q"
        peek_slice peek_rd_stride "$p" "$strw" "$g.stride_q"
        peek_slice peek_rd_elem "$p" "$(clog2 "$n")" "$g.elem_q"
        peek "peek_rd_transpose[$p]" "$g.transpose_q"
      done
      peek peek_wr_remaining u_dut.wr_remaining_q
      peek peek_wr_addr u_dut.wr_addr_q
      peek peek_wr_stride u_dut.wr_stride_q
      peek peek_wr_mask u_dut.wr_mask_q
      peek peek_wr_discard u_dut.wr_discard_q
      peek peek_host_inflight u_dut.host_inflight_q
      peek peek_host_err u_dut.host_rsp_err_q ;;
    tracker_n2)
      desc="RAW hazard exact, table full/empty, delayed commands (UbDepth 4, 2 in flight)"
      module=matmul_tracker; top=tracker_props
      params="ArrayDim=2 UbDepth=4 MaxInFlight=2"; bmc=20; kmax=16; logic=QF_BV
      peek peek_valid u_dut.e_valid_q
      peek peek_retire_oh u_dut.retire_oh_q
      peek peek_alloc u_dut.alloc_q
      peek peek_ret u_dut.ret_ptr_q
      peek peek_side_ptr u_dut.side_ptr_q
      peek peek_vpu_ptr u_dut.vpu_ptr_q
      peek peek_wr_ptr u_dut.wr_ptr_q
      peek peek_issued u_dut.issued_q
      peek peek_wr_left u_dut.wr_left_q
      peek peek_retire u_dut.retire_q ;;
    cu_n2)
      desc="legal state, transitions, error then halt, no issue unless Running"
      module=control_unit; top=cu_props
      params="ArrayDim=2 UbDepth=8 ImemDepth=4 MaxInFlight=2"; bmc=12; kmax=4
      peek peek_fa u_dut.fa_q
      peek peek_d_op u_dut.d_op
      peek peek_d_perr u_dut.d_perr
      peek peek_d_is_ld u_dut.d_is_ld
      peek peek_d_is_mm u_dut.d_is_mm
      peek peek_d_is_seed u_dut.d_is_seed
      peek peek_d_drains u_dut.d_drains
      peek peek_d_is_vpu u_dut.d_is_vpu
      peek peek_loop_start u_dut.u_loops.start_q ;;
    *) return 1 ;;
  esac
  src=$root/formal/$top.sv
}

if [ "$list" = 1 ]; then printf '%s\n' "${proofs[@]}"; exit 0; fi

selected=()
if [ -n "$only" ]; then
  IFS=',' read -r -a wanted <<< "$only"
  for w in "${wanted[@]}"; do
    if ! define "$w"; then echo "formal.sh: no proof named '$w' (--list)" >&2; exit 2; fi
    selected+=("$w")
  done
else
  selected=("${proofs[@]}")
fi

mkdir -p "$build"
build=$(cd "$build" && pwd)

# ---------------------------------------------------------------------------------------
# One proof: writes BUILD/NAME/result as "status|bmc|induction|seconds".

run_proof() {
  local name=$1 dir=$build/$1 t0 status ind chp="" kv
  define "$name"
  rm -rf "$dir"; mkdir -p "$dir"
  t0=$(date +%s%N)
  for kv in $params; do chp+="chparam -set ${kv%%=*} ${kv#*=} $top; "; done
  local script="read_verilog -sv ${rtl_files[*]}; read_verilog -sv -formal $src; $chp
    hierarchy -check -top $top; proc; flatten; $peeks
    prep -top $top; memory_nordff; async2sync; dffunmap; write_smt2 -wires $dir/$name.smt2"
  local smt_opts=(-s z3 --unroll)
  [ -n "$logic" ] && smt_opts+=(--logic "$logic")
  status=PASS; ind="-"
  if ! yosys -q -l "$dir/yosys.log" -p "$script" >/dev/null 2>&1; then
    status="FAIL (yosys: $(grep -m1 'ERROR' "$dir/yosys.log" | cut -c1-60))"
  elif grep -qE "is used but has no driver|implicitly declared|out of bounds" "$dir/yosys.log"; then
    # An undriven wire would be a free input: a peek or a port the wrapper misses.
    status="FAIL (yosys warning, see yosys.log)"
  elif ! timeout "$timeout_s" yosys-smtbmc "${smt_opts[@]}" -t "$bmc" --noprogress \
        --dump-vcd "$dir/bmc.vcd" "$dir/$name.smt2" > "$dir/bmc.log" 2>&1; then
    if grep -q "Assert failed" "$dir/bmc.log"; then
      status="FAIL (BMC: step $(grep -oE 'step [0-9]+' "$dir/bmc.log" | tail -1 | cut -d' ' -f2))"
    else
      status="FAIL (BMC did not finish, see bmc.log)"
    fi
  else
    rm -f "$dir/bmc.vcd"
    if [ "$kmax" -gt 0 ]; then
      if timeout "$timeout_s" yosys-smtbmc "${smt_opts[@]}" -i -t "$kmax" --noprogress \
           --dump-vcd "$dir/induction.vcd" "$dir/$name.smt2" > "$dir/induction.log" 2>&1 \
         && grep -q "Temporal induction successful" "$dir/induction.log"; then
        local step
        step=$(grep -oE 'Trying induction in step [0-9]+' "$dir/induction.log" \
               | tail -1 | awk '{print $5}')
        ind="closed, k=$((kmax - step))"
        rm -f "$dir/induction.vcd"
      else
        ind="failed (k<=$kmax)"
        status="FAIL (induction, see induction.log)"
      fi
    else
      ind="no (BMC only)"
    fi
  fi
  printf '%s|%s|%s|%s\n' "$status" "$bmc" "$ind" \
    "$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')" \
    > "$dir/result"
}

echo "formal: ${#selected[@]} proofs, RTL from $rtl_root, scratch in $build"
running=0
for name in "${selected[@]}"; do
  run_proof "$name" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
wait || true

# ---------------------------------------------------------------------------------------
# The table.

fails=0
fmt='%-11s %-76s %-15s %-5s %-17s %7s  %s\n'
printf "$fmt" proof property module BMC induction time status
for name in "${selected[@]}"; do
  define "$name"
  if [ -f "$build/$name/result" ]; then
    IFS='|' read -r status depth ind secs < "$build/$name/result"
  else
    status="FAIL (no result)"; depth=$bmc; ind="-"; secs="-"
  fi
  [ "$status" = PASS ] || fails=$((fails + 1))
  printf "$fmt" "$name" "$desc" "$module" "$depth" "$ind" "${secs}s" "$status"
done
if [ "$fails" -gt 0 ]; then
  echo "formal: $fails of ${#selected[@]} proofs failed (logs and VCDs under $build/NAME/)"
  exit 1
fi
echo "formal: all ${#selected[@]} proofs passed"
