# The board-level test: the serial backend (sw/runtime/serial_*) against a C++ fake board, then
# the iCEBreaker board top (rtl/board/icebreaker_top.sv) Verilated without its PLL and with a
# fast UART (ClksPerBit 8), driven through its RX and TX pins by the same serial device a host
# uses on /dev/ttyUSB1 (tb/board_tb.hpp), the TPU inside checked against the golden model every
# cycle. The TPU's parameters are the board's (docs/fpga.md).
tpu_rtl_files(TPU_BOARD_RTL ${TPU_RTL_DIR}/board/icebreaker.f)
# The TPU's parameters are the board top's defaults, the ones `make fpga` builds (not passed to
# Verilator, so Board.InfoReportsTheParameters fails if they drift from TPU_BOARD_*, set in
# tests/CMakeLists.txt); only the simulation's own settings are.
tpu_rtl_test(board_test SOURCES board_test.cpp TOP icebreaker_top PREFIX board
             PARAMS UsePll=0 ClksPerBit=8 TimeoutClks=2000 RTL ${TPU_BOARD_RTL}
             LIBS tpu_runner tpu_asm
             DEFINES TPU_BOARD_ArrayDim=${TPU_BOARD_DIM} TPU_BOARD_UbDepth=${TPU_BOARD_UB_DEPTH}
                     TPU_BOARD_ImemDepth=${TPU_BOARD_IMEM_DEPTH}
                     TPU_BOARD_MaxInFlight=${TPU_BOARD_MAX_IN_FLIGHT} TPU_BOARD_ClockMhz=30
                     TPU_MODELS_DIR="${PROJECT_SOURCE_DIR}/models")
