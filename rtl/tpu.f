// The TPU's RTL files in dependency order (the package first), one path per line relative to
// the repository root. Lint (verilator -f), synthesis and the FPGA flow (Makefile, scripts/),
// and every Verilated model (CMakeLists.txt, tpu_rtl_files) read this list and no other.
rtl/tpu_pkg.sv
rtl/mem/ram_1r1w.sv
rtl/mem/unified_buffer.sv
rtl/core/delay_line.sv
rtl/core/pe.sv
rtl/core/systolic_array.sv
rtl/core/vpu.sv
rtl/core/sgd_unit.sv
rtl/ctrl/instr_decode.sv
rtl/ctrl/loop_stack.sv
rtl/ctrl/matmul_tracker.sv
rtl/ctrl/control_unit.sv
rtl/ctrl/host_port.sv
rtl/tpu.sv
