#!/usr/bin/env python3
"""Writes the GTKWave savefiles in waves/ (signal lists, groups and number formats).

The savefiles are checked in so `make waves` opens a useful view at once; this script
is how they are made, so a change of signal names or array size is one edit here:

    python3 scripts/gtkw.py array 8 > waves/array.gtkw
    python3 scripts/gtkw.py tpu 2 > waves/tpu.gtkw

Values are shown as signed fixed point (GTKWave's "fixed point shift"), so a Q8.8
activation reads 1.5, not 384, and a Q16.16 partial sum reads in the same units.
"""
import sys

# GTKWave trace flags (gtkwave's analyzer.h, TraceEntFlagBits).
RJUSTIFY = 0x20
BIN = 0x8
DEC = 0x4
SIGNED = 0x400
FPDECSHIFT = 0x40000000
GRP_BEGIN = 0x800000
GRP_END = 0x1000000
BLANK = 0x200
CLOSED = 0x400000

FLAG_BIT = BIN | RJUSTIFY
FLAG_UDEC = DEC | RJUSTIFY


class Savefile:
    def __init__(self, dumpfile, timestart=0):
        self.lines = [
            "[*] GTKWave savefile for this project; regenerate with scripts/gtkw.py",
            f'[dumpfile] "{dumpfile}"',
            f"[timestart] {timestart}",
            "[size] 1600 1000",
            "[pos] -1 -1",
            "*-17.000000 0 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1",
            "[sst_width] 280",
            "[signals_width] 360",
            "[sst_expanded] 1",
            "[sst_vpaned_height] 300",
        ]

    def _flags(self, flags):
        self.lines.append(f"@{flags:x}")

    def _trace(self, name, alias):
        self.lines.append(f"+{{{alias}}} {name}" if alias else name)

    def bit(self, name, alias=None):
        self._flags(FLAG_BIT)
        self._trace(name, alias)

    def udec(self, name, alias=None):
        self._flags(FLAG_UDEC)
        self._trace(name, alias)

    def fixed(self, name, frac_bits, alias=None):
        """A signed fixed-point value with `frac_bits` fractional bits."""
        self._flags(SIGNED | RJUSTIFY | FPDECSHIFT)
        self.lines.append(f"[fpshift_count] {frac_bits}")
        self._trace(name, alias)

    def group(self, title, body):
        self._flags(GRP_BEGIN | BLANK)
        self.lines.append(f"-{title}")
        body()
        self._flags(GRP_END | BLANK)
        self.lines.append(f"-{title}")

    def text(self):
        return "\n".join(self.lines) + "\n[pattern_trace] 1\n[pattern_trace] 0\n"


def array_savefile(dim, dumpfile="waves/matmul.vcd", scope="TOP.systolic_array"):
    """The systolic array: control, row skew, weights, PE corners, south edge, results."""
    s = Savefile(dumpfile)
    frac = 8

    def control():
        s.bit("TOP.clk_i")
        s.bit("TOP.rst_ni")
        s.bit("TOP.in_valid_i")
        s.bit("TOP.in_switch_i")
        s.bit("TOP.w_valid_i")
        s.udec(f"TOP.w_row_i[{max(1, (dim - 1).bit_length()) - 1}:0]")

    def west():
        for r in range(dim):
            west = f"{scope}.gen_row[{r}].gen_col[0]"
            s.bit(f"{west}.valid_in", f"row{r} valid")
            s.bit(f"{west}.switch_in", f"row{r} switch")
            s.fixed(f"{west}.act_in[15:0]", frac, f"row{r} act")

    def weights():
        for r, c in sorted({(0, 0), (0, dim - 1), (dim - 1, 0), (dim - 1, dim - 1)}):
            pe = f"{scope}.gen_row[{r}].gen_col[{c}].u_pe"
            s.bit(f"{pe}.load_i", f"PE({r},{c}) load")
            s.fixed(f"{pe}.shadow_q[15:0]", frac, f"PE({r},{c}) shadow")
            s.bit(f"{pe}.switch_i", f"PE({r},{c}) switch")
            s.fixed(f"{pe}.active_q[15:0]", frac, f"PE({r},{c}) active")

    def south():
        sum_width = 32 + (dim - 1).bit_length()
        for c in range(dim):
            s.bit(f"{scope}.gen_south[{c}].valid_last", f"col{c} valid")
            s.fixed(f"{scope}.gen_south[{c}].psum_last[{sum_width - 1}:0]", 2 * frac, f"col{c} sum")

    def results():
        s.bit("TOP.out_valid_o")
        for c in range(dim):
            s.fixed(f"{scope}.gen_south[{c}].result[15:0]", frac, f"y[{c}]")

    s.group("control", control)
    s.group("west edge after the row skew (Q8.8)", west)
    s.group("shadow and active weights, corner PEs (Q8.8)", weights)
    s.group("south edge partial sums (Q16.16)", south)
    s.group("results after de-skew (Q8.8)", results)
    return s.text()


def tpu_savefile(dim, dumpfile="waves/xor_train.vcd", scope="TOP.tpu"):
    """The whole TPU: control, the array's ports, the vector unit, the buffer's write port."""
    s = Savefile(dumpfile, timestart=2_000_000)  # 2 us in: after the host has loaded it all
    frac = 8
    idx = max(1, (dim - 1).bit_length())

    def lanes(name, vec, what, frac_bits=frac):
        # A vector of dim lanes, split by the per-lane signals the RTL names.
        for c in range(dim):
            s.fixed(vec.format(c=c), frac_bits, f"{name}[{c}] {what}")

    def control():
        s.bit("TOP.clk_i")
        s.bit("TOP.rst_ni")
        s.udec(f"{scope}.u_ctrl.pc_q[15:0]", "pc")
        s.udec(f"{scope}.u_ctrl.state_q[2:0]", "state (1 run, 2 sync, 3 done, 4 error)")
        s.udec(f"{scope}.u_ctrl.err_q[3:0]", "error code")
        s.bit(f"{scope}.u_ctrl.issue", "issue")
        s.udec(f"{scope}.u_ctrl.op[3:0]", "opcode in decode")
        s.bit(f"{scope}.u_ctrl.wait_now", "waiting")
        s.udec(f"{scope}.u_ctrl.e_valid_q[3:0]", "matmuls in flight (slots)")

    def array():
        s.bit(f"{scope}.u_array.w_valid_i", "weights valid")
        s.udec(f"{scope}.u_array.w_row_i[{idx - 1}:0]", "weight row")
        s.bit(f"{scope}.u_array.in_valid_i", "act valid")
        s.bit(f"{scope}.u_array.in_switch_i", "switch")
        lanes("act", scope + ".u_array.gen_row[{c}].gen_col[0].act_in[15:0]", "(after skew)")
        s.bit(f"{scope}.u_array.out_valid_o", "out valid")
        lanes("y", scope + ".u_array.gen_south[{c}].result[15:0]", "array out")

    def vpu():
        s.bit(f"{scope}.u_vpu.out_valid_o", "vpu out valid")
        lanes("v", scope + ".u_vpu.gen_lane[{c}].x4_q[15:0]", "vpu out")

    def buffer():
        s.bit(f"{scope}.dbg_wr_valid_o", "row written")
        s.udec(f"{scope}.dbg_wr_addr_o[15:0]", "at row")
        s.bit(f"{scope}.u_sgd.busy_o", "sgd busy")

    s.group("control unit", control)
    s.group("systolic array (Q8.8)", array)
    s.group("vector unit (Q8.8)", vpu)
    s.group("unified buffer write port", buffer)
    return s.text()


def main(argv):
    kinds = {"array": array_savefile, "tpu": tpu_savefile}
    if len(argv) != 3 or argv[1] not in kinds or not argv[2].isdigit():
        sys.stderr.write("usage: gtkw.py array|tpu DIM > waves/NAME.gtkw\n")
        return 2
    sys.stdout.write(kinds[argv[1]](int(argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
