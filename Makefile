# The project's front door. `make sim` and `make test` install what is missing
# (scripts/install-deps.sh, apt), configure, build and run.

BUILD     ?= build
ARRAY     ?= 2
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

# The one list of the TPU's RTL files (CMake and the FPGA flow read it too).
RTL_LIST  := rtl/tpu.f
RTL_ALL   := $(shell sed -e 's@//.*@@' $(RTL_LIST))
TB_RTL    := tb/rtl/sgd_system.sv
LINT_VLT  := rtl/lint.vlt
LINT_DIMS := 2 3 4 8 16
LINT_TOPS := systolic_array vpu unified_buffer sgd_unit control_unit tpu sgd_system
SYNTH_TOPS := systolic_array vpu unified_buffer sgd_unit tpu

.PHONY: all sim matmul digits test lint waves clean deps configure build synth bench help formal fuzz xcheck coverage sanitize

all: test

help:
	@echo "make sim     train XOR on the Verilated TPU (ARRAY=2 by default), writes waves/xor_train.vcd"
	@echo "make matmul  an 8x8 matmul on the bare array, writes waves/matmul.vcd"
	@echo "make digits  train a 64-32-10 MLP on the UCI digits on the TPU (ArrayDim 8), float beside it"
	@echo "make test    build everything and run the regression (ctest)"
	@echo "make lint    verilator --lint-only -Wall over the RTL at several array sizes"
	@echo "make waves   open the training demo's waves in GTKWave (WAVE=matmul: the matmul demo's)"
	@echo "make bench   the performance table: matmul utilization, MLP and training cycles against"
	@echo "             their floors, simulation speed of every engine (CSV: BUILD/bench/bench.csv)"
	@echo "make synth   synthesize each unit for iCE40 (SYNTH_DIM=2) and print its cells"
	@echo "make fpga    the iCEBreaker bitstream (BOARD=icebreaker ARRAY=2): yosys, nextpnr,"
	@echo "             icetime, icepack, and a report against FPGA_LUT_LIMIT (4500 LUT4) and"
	@echo "             FPGA_FREQ (30 MHz); fails when the design misses either or does not fit"
	@echo "make formal  prove the RTL's properties with yosys-smtbmc and z3 (BMC, k-induction;"
	@echo "             formal/*_props.sv, scripts/formal.sh): a table of depths and results"
	@echo "make fuzz    random programs on the RTL against the golden model under fresh seeds"
	@echo "             (SEEDS=4 per configuration, PROGRAMS=2000 per run, JOBS at once; GNU parallel)"
	@echo "make xcheck  the RTL tests built with --x-assign/--x-initial unique, run under random"
	@echo "             initial values from three seeds (XSEEDS), in BUILD-x; XCOVERAGE=1: with"
	@echo "             line and branch coverage, and the table of what they covered"
	@echo "make coverage  line, branch and toggle coverage of rtl/ from every RTL test (BUILD-cov):"
	@echo "             a table per file, totals per size, an HTML report (genhtml); waivers in"
	@echo "             scripts/coverage_waivers.txt; COVERAGE_MIN=pct fails below it. Built X-unique:"
	@echo "             then make xcheck's tests run in it under random initial values (XSEEDS);"
	@echo "             COVERAGE_TOGGLE_DIM=n: toggle points only in models of ArrayDim <= n"
	@echo "make sanitize  the assembler, model reader and compiler tests and their fuzzing under"
	@echo "             ASan and UBSan, in BUILD-asan"
	@echo "make flash   program the board with BUILD/fpga/BOARD.bin (iceprog or openFPGALoader)"
	@echo "make clean   remove build output and waveforms"
	@echo "make deps    install missing tools with apt (scripts/install-deps.sh)"

# Runs the installer only when a tool or library the build needs is absent.
deps:
	@if ! command -v verilator >/dev/null || ! command -v cmake >/dev/null \
	    || ! command -v g++ >/dev/null || ! command -v yosys >/dev/null \
	    || [ ! -f /usr/include/gtest/gtest.h ] || [ ! -f /usr/include/eigen3/Eigen/Dense ] \
	    || [ ! -f /usr/include/CLI/CLI.hpp ] || [ ! -f /usr/include/nlohmann/json.hpp ] \
	    || ! command -v gnuplot >/dev/null || ! command -v nextpnr-ice40 >/dev/null \
	    || ! command -v icepack >/dev/null || ! command -v z3 >/dev/null \
	    || ! command -v parallel >/dev/null || ! command -v genhtml >/dev/null \
	    || ! command -v ninja >/dev/null \
	    || [ ! -f /usr/share/fpga-icestorm/chipdb/chipdb-5k.txt ]; then \
	  bash scripts/install-deps.sh; \
	fi

# Verilator's CMake support lists the generated C++ files when CMake configures, so an
# RTL change can change that list: configure again whenever an .sv file is newer.
configure: deps
	@if [ ! -f $(BUILD)/CMakeCache.txt ] \
	    || ! grep -q "^TPU_SIM_ARRAY:STRING=$(ARRAY)$$" $(BUILD)/CMakeCache.txt \
	    || [ -n "$$(find rtl tb/rtl \( -name '*.sv' -o -name '*.f' \) -newer $(BUILD)/CMakeCache.txt)" ]; then \
	  cmake -S . -B $(BUILD) -DTPU_SIM_ARRAY=$(ARRAY) $(CMAKE_ARGS) && touch $(BUILD)/CMakeCache.txt; \
	fi

build: configure
	cmake --build $(BUILD) -j $(JOBS)

sim: configure
	cmake --build $(BUILD) -j $(JOBS) --target xor_train
	$(BUILD)/sim/xor_train

matmul: configure
	cmake --build $(BUILD) -j $(JOBS) --target matmul_demo
	$(BUILD)/sim/matmul_demo

# The UCI digits (fetched from Debian's python3-sklearn, cached under $(BUILD)/data), a seeded
# stratified split, the 64-32-10 MLP trained on the Verilated TPU (ArrayDim 8) beside the
# float reference, then the test accuracy from DIGITS_SEEDS initialisations.
DIGITS_DIR   := $(BUILD)/data/digits
DIGITS_SEEDS ?= 1 2 3 4 5
DIGITS_ENGINE ?= rtl
digits: configure
	cmake --build $(BUILD) -j $(JOBS) --target tpu-run digits_prepare
	bash scripts/fetch-digits.sh $(DIGITS_DIR)/digits.csv
	$(BUILD)/sim/digits_prepare $(DIGITS_DIR)/digits.csv $(DIGITS_DIR)/train.csv $(DIGITS_DIR)/test.csv
	$(BUILD)/sw/runner/tpu-run models/digits.json --engine $(DIGITS_ENGINE) --float \
	  --train $(DIGITS_DIR)/train.csv --test $(DIGITS_DIR)/test.csv --out $(BUILD)/run/digits
	@echo "Initialisation seeds $(DIGITS_SEEDS) (functional engine, bit-identical to the RTL):"
	@bash scripts/digits-seeds.sh $(BUILD)/sw/runner/tpu-run $(BUILD)/run/digits-seeds \
	  $(DIGITS_DIR)/train.csv $(DIGITS_DIR)/test.csv $(DIGITS_SEEDS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

lint: deps
	@for top in $(LINT_TOPS); do for n in $(LINT_DIMS); do \
	  echo "lint: $$top ArrayDim=$$n"; \
	  verilator --lint-only -Wall -GArrayDim=$$n --top-module $$top \
	    $(LINT_VLT) -f $(RTL_LIST) $(TB_RTL) || exit 1; \
	done; done
	@for top in pe instr_decode; do echo "lint: $$top"; \
	  verilator --lint-only -Wall --top-module $$top $(LINT_VLT) -f $(RTL_LIST) || exit 1; done
	@echo "lint: clean"

WAVE ?= xor_train
waves:
	@case "$(WAVE)" in matmul) save=waves/array.gtkw;; *) save=waves/tpu.gtkw;; esac; \
	if [ ! -f waves/$(WAVE).vcd ]; then echo "waves/$(WAVE).vcd is missing: run 'make sim' (or 'make matmul') first"; exit 1; fi; \
	if [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ]; then \
	  echo "no display: run 'gtkwave waves/$(WAVE).vcd $$save' on a desktop"; \
	else gtkwave waves/$(WAVE).vcd $$save; fi

SYNTH_DIM ?= 2
# Synthesis of each unit for iCE40 (cell counts; the unified buffer's memories map to
# SB_RAM40_4K). Place-and-route waits for a board top: the bare units have more I/O
# than any iCE40 package.
synth: deps
	@mkdir -p $(BUILD)/synth
	@for top in $(SYNTH_TOPS); do \
	  yosys -q -l $(BUILD)/synth/$$top.log -p "read_verilog -sv $(RTL_ALL); \
	    chparam -set ArrayDim $(SYNTH_DIM) $$top; \
	    synth_ice40 -top $$top -dsp -json $(BUILD)/synth/$$top.json; \
	    tee -q -o $(BUILD)/synth/$$top.stat stat" || exit 1; \
	  echo "$$top ArrayDim=$(SYNTH_DIM), synth_ice40 -dsp:"; \
	  grep -E "Number of cells|SB_" $(BUILD)/synth/$$top.stat; \
	done

# The FPGA flow (scripts/fpga.sh, docs/fpga.md): writes $(BUILD)/fpga/ and fails when the design
# does not fit, misses the clock or exceeds FPGA_LUT_LIMIT. BOARD, FPGA_FREQ, FPGA_LUT_LIMIT and
# FPGA_PARAMS given on make's command line reach the script through the environment.
.PHONY: fpga flash
fpga: deps
	BUILD=$(BUILD) ARRAY=$(ARRAY) bash scripts/fpga.sh

flash:
	@bin=$(BUILD)/fpga/$(or $(BOARD),icebreaker).bin; \
	if [ ! -f $$bin ]; then echo "flash: $$bin is missing: run 'make fpga' first"; exit 1; fi; \
	if command -v iceprog >/dev/null; then tool="iceprog $$bin"; \
	elif command -v openFPGALoader >/dev/null; then tool="openFPGALoader -b ice40_generic $$bin"; \
	else echo "flash: neither iceprog (Debian fpga-icestorm) nor openFPGALoader (openfpgaloader)" \
	  "is installed"; exit 1; fi; \
	echo "flash: $$tool"; \
	$$tool || { echo "flash: no board programmed: is the iCEBreaker plugged in (FTDI 0403:6010)" \
	  "and its USB device readable by you (a udev rule, or root)?"; exit 1; }

# Formal proofs (docs/testplan.md, scripts/formal.sh): every property to its depth, k-induction
# where it closes; fails when one does not hold.
formal: deps
	bash scripts/formal.sh --jobs $(JOBS) $(BUILD)/formal

# Random-program soak (scripts/fuzz.sh): every tpu_test configuration under SEEDS fresh seeds,
# PROGRAMS programs each, JOBS runs at once through GNU parallel.
SEEDS    ?= 4
PROGRAMS ?= 2000
fuzz: configure
	cmake --build $(BUILD) -j $(JOBS) --target tpu_test_2 tpu_test_4 tpu_test_8 tpu_test_board
	bash scripts/fuzz.sh -s $(SEEDS) -j $(JOBS) -p $(PROGRAMS) $(BUILD)

# X robustness (docs/testplan.md): the RTL tests at ArrayDim 2 and the board's parameters,
# Verilated with --x-assign unique --x-initial unique, under TPU_RAND_RESET=2 with each seed.
# XCOVERAGE=1 Verilates them with line and branch coverage too and prints the coverage
# table of what the three runs covered (scripts/coverage.sh --report-only).
XBUILD   ?= $(BUILD)-x
XSEEDS   ?= 1 2 3
XCOVERAGE ?=
# Random programs per configuration and seed (the regression runs 4,000 and 300).
XPROGRAMS ?= 1000
XHOSTILE  ?= 100
XCOV_ARGS := $(if $(filter 1,$(XCOVERAGE)),-DTPU_COVERAGE=ON -DTPU_COVERAGE_TOGGLE=OFF,-DTPU_COVERAGE=OFF)
XTARGETS := pe_test isa_test array_test_2 ub_test_2 ub_tpu_test_2 vpu_test_2 sgd_test_2 tpu_test_2 \
            tpu_test_board board_test uart_bridge_test_2
XTESTS   := ^(pe|isa|array2|ub2|ub2s|vpu2|sgd2|tpu2|tpuboard|board|uart_bridge2)\.
xcheck: deps
	cmake -S . -B $(XBUILD) -DTPU_SIM_ARRAY=$(ARRAY) -DTPU_X_UNIQUE=ON $(XCOV_ARGS) $(CMAKE_ARGS)
	cmake --build $(XBUILD) -j $(JOBS) --target $(XTARGETS)
	@rm -rf $(XBUILD)/coverage; mkdir -p $(XBUILD)/coverage/points
	@for s in $(XSEEDS); do log=$(XBUILD)/xcheck-seed$$s.log; \
	  echo "xcheck: TPU_RAND_RESET=2 TPU_RAND_SEED=$$s (log: $$log)"; \
	  TPU_COVERAGE_DIR=$(abspath $(XBUILD))/coverage/points TPU_RAND_RESET=2 TPU_RAND_SEED=$$s \
	    TPU_PROGRAMS=$(XPROGRAMS) TPU_HOSTILE_PROGRAMS=$(XHOSTILE) \
	    ctest --test-dir $(XBUILD) -j $(JOBS) \
	    -R '$(XTESTS)' --output-on-failure >$$log 2>&1 || { cat $$log; exit 1; }; \
	  tail -n 3 $$log; done
	@if [ "$(XCOVERAGE)" = 1 ]; then \
	  echo "xcheck: line and branch coverage of rtl/ over the runs above (ArrayDim 2 and the board)"; \
	  bash scripts/coverage.sh --report-only $(XBUILD); fi

# The C++ that reads what users write (assembler, disassembler, model reader, compiler and their
# command lines, and the fuzzing of the readers) under AddressSanitizer and
# UndefinedBehaviorSanitizer. SAN_TESTS adds others (e.g. SAN_TESTS="golden functional" with
# their targets in SAN_TARGETS). Built at -O1, without the Verilated models (TPU_VERILATE=OFF),
# and with Ninja, which compiles across the chain of libraries the tests link (make's build
# waits for each library before the next target's files): 2 minutes instead of 5.5 on 2 cores.
SBUILD      ?= $(BUILD)-asan
SAN_TARGETS ?=
SAN_TESTS   ?=
STARGETS    := input_fuzz_test asm_test compiler_test tpu-as tpu-dis tpu-cc $(SAN_TARGETS)
STESTS      := ^($(subst $(eval) ,|,$(strip fuzz asm compiler $(SAN_TESTS))))\.
sanitize: deps
	@grep -qs 'CMAKE_GENERATOR:INTERNAL=Ninja' $(SBUILD)/CMakeCache.txt || rm -rf $(SBUILD)
	cmake -G Ninja -S . -B $(SBUILD) -DTPU_SANITIZE=ON -DTPU_VERILATE=OFF $(CMAKE_ARGS)
	cmake --build $(SBUILD) -j $(JOBS) --target $(STARGETS)
	ctest --test-dir $(SBUILD) -j $(JOBS) -R '$(STESTS)' --output-on-failure

# Coverage (scripts/coverage.sh): every RTL test Verilated with --coverage-line/toggle in
# BUILD-cov, the points merged, BUILD-cov/coverage/html and a table per RTL file.
# Also the X-robustness check: the coverage build is X-unique, and after the coverage run make
# xcheck's tests run in it under random initial values from each of XSEEDS (not counted).
COVERAGE_TOGGLE_DIM ?= 16
coverage: deps
	XPROGRAMS=$(XPROGRAMS) XHOSTILE=$(XHOSTILE) bash scripts/coverage.sh -j $(JOBS) \
	  $(if $(COVERAGE_MIN),--min-line $(COVERAGE_MIN)) --toggle-max-dim $(COVERAGE_TOGGLE_DIM) \
	  --x-seeds "$(XSEEDS)" --x-tests '$(XTESTS)' $(BUILD)-cov

# The Verilated TPUs at ArrayDim 2, 4, 8 and 16 (sim/CMakeLists.txt) are built only here.
bench: configure
	cmake --build $(BUILD) -j $(JOBS) --target tpu_bench
	@$(BUILD)/sim/tpu_bench --csv $(BUILD)/bench/bench.csv

clean:
	rm -rf $(BUILD) $(BUILD)-x $(BUILD)-cov $(BUILD)-asan waves/*.vcd waves/*.fst
