# The project's front door. `make sim` and `make test` install what is missing
# (scripts/install-deps.sh, apt), configure, build and run.

BUILD     ?= build
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

RTL_PKG   := rtl/tpu_pkg.sv
RTL_CORE  := rtl/core/delay_line.sv rtl/core/pe.sv rtl/core/systolic_array.sv
RTL_ALL   := $(RTL_PKG) $(RTL_CORE)
LINT_VLT  := rtl/lint.vlt
LINT_DIMS := 2 3 4 8 16

.PHONY: all sim test lint waves clean deps configure build synth help

all: test

help:
	@echo "make sim     run the demo: an 8x8 matmul on the Verilated array, writes waves/matmul.vcd"
	@echo "make test    build everything and run the regression (ctest)"
	@echo "make lint    verilator --lint-only -Wall over the RTL at several array sizes"
	@echo "make waves   open the last demo's waves in GTKWave (waves/array.gtkw)"
	@echo "make synth   synthesize the array for iCE40 (SYNTH_DIM=2) and print its cells"
	@echo "make clean   remove build output and waveforms"
	@echo "make deps    install missing tools with apt (scripts/install-deps.sh)"

# Runs the installer only when a tool or library the build needs is absent.
deps:
	@if ! command -v verilator >/dev/null || ! command -v cmake >/dev/null \
	    || ! command -v g++ >/dev/null || ! command -v yosys >/dev/null \
	    || [ ! -f /usr/include/gtest/gtest.h ] || [ ! -f /usr/include/eigen3/Eigen/Dense ]; then \
	  bash scripts/install-deps.sh; \
	fi

configure: deps
	@if [ ! -f $(BUILD)/CMakeCache.txt ]; then cmake -S . -B $(BUILD) $(CMAKE_ARGS); fi

build: configure
	cmake --build $(BUILD) -j $(JOBS)

sim: configure
	cmake --build $(BUILD) -j $(JOBS) --target matmul_demo
	$(BUILD)/sim/matmul_demo

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

lint: deps
	@for n in $(LINT_DIMS); do \
	  echo "lint: systolic_array ArrayDim=$$n"; \
	  verilator --lint-only -Wall -GArrayDim=$$n --top-module systolic_array \
	    $(LINT_VLT) $(RTL_ALL) || exit 1; \
	done
	@echo "lint: pe"; verilator --lint-only -Wall --top-module pe $(LINT_VLT) $(RTL_PKG) rtl/core/pe.sv
	@echo "lint: clean"

waves:
	@if [ ! -f waves/matmul.vcd ]; then echo "waves/matmul.vcd is missing: run 'make sim' first"; exit 1; fi
	@if [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ]; then \
	  echo "no display: run 'gtkwave waves/matmul.vcd waves/array.gtkw' on a desktop"; \
	else gtkwave waves/matmul.vcd waves/array.gtkw; fi

SYNTH_DIM ?= 2
# Synthesis only: the bare array has more I/O than any iCE40 package, so place-and-route
# waits for a board top that feeds it through the buffer.
synth: deps
	@mkdir -p $(BUILD)/synth
	yosys -q -l $(BUILD)/synth/yosys.log -p "read_verilog -sv $(RTL_ALL); \
	  chparam -set ArrayDim $(SYNTH_DIM) systolic_array; \
	  synth_ice40 -top systolic_array -dsp -json $(BUILD)/synth/array.json; \
	  tee -o $(BUILD)/synth/stat.txt stat"
	@echo "systolic_array ArrayDim=$(SYNTH_DIM), synth_ice40 -dsp:"
	@grep -E "Number of cells|SB_" $(BUILD)/synth/stat.txt

clean:
	rm -rf $(BUILD) waves/*.vcd waves/*.fst
