# The board-level test: the serial backend (sw/runtime/serial_*) against a C++ fake board, then
# the iCEBreaker board top (rtl/board/icebreaker_top.sv) Verilated without its PLL and with a
# fast UART (ClksPerBit 8), driven through its RX and TX pins by the same serial device a host
# uses on /dev/ttyUSB1 (tb/board_tb.hpp), the TPU inside checked against the golden model every
# cycle. The TPU's parameters are the board's (docs/fpga.md).
tpu_rtl_files(TPU_BOARD_RTL ${TPU_RTL_DIR}/board/icebreaker.f)
# The TPU's parameters are the board top's defaults, the ones `make fpga` builds (not passed to
# Verilator, so Board.InfoReportsTheParameters fails if they drift from TPU_BOARD_*, set in
# tests/CMakeLists.txt); only the simulation's own settings are.
set(board_g -GUsePll=0 -GClksPerBit=8 -GTimeoutClks=2000)
set(board_d TPU_BOARD_ArrayDim=${TPU_BOARD_DIM} TPU_BOARD_UbDepth=${TPU_BOARD_UB_DEPTH}
            TPU_BOARD_ImemDepth=${TPU_BOARD_IMEM_DEPTH} TPU_BOARD_MaxInFlight=${TPU_BOARD_MAX_IN_FLIGHT}
            TPU_BOARD_ClockMhz=30 TPU_BOARD_ClksPerBit=8 TPU_BOARD_TimeoutClks=2000)

add_executable(board_test board_test.cpp)
target_compile_definitions(board_test PRIVATE ${board_d}
                           TPU_MODELS_DIR="${PROJECT_SOURCE_DIR}/models")
tpu_verilate(board_test TOP icebreaker_top PARAMS ${board_g}
             SOURCES ${TPU_RTL_ALL} ${TPU_BOARD_RTL})
target_link_libraries(board_test PRIVATE tpu_tb tpu_runner tpu_asm GTest::gtest_main)
gtest_discover_tests(board_test TEST_PREFIX "board." DISCOVERY_TIMEOUT 60)
