# The UART bridge alone (docs/fpga.md, "UART protocol"): a C++ UART drives its rx pin bit by bit,
# a C++ stand-in answers its TPU host-port requests, every reply checked against the protocol.
# Small ClksPerBit and TimeoutClks keep frames short; the info parameters are distinct values.
tpu_rtl_files(TPU_BOARD_RTL ${TPU_RTL_DIR}/board/icebreaker.f)
set(UART_BRIDGE_CLKS_PER_BIT 4)
set(UART_BRIDGE_TIMEOUT_CLKS 400)
foreach(dim 2 8)
  add_executable(uart_bridge_test_${dim} uart_bridge_test.cpp)
  target_compile_definitions(uart_bridge_test_${dim} PRIVATE
    TPU_ARRAY_DIM=${dim}
    BRIDGE_CLKS_PER_BIT=${UART_BRIDGE_CLKS_PER_BIT} BRIDGE_TIMEOUT_CLKS=${UART_BRIDGE_TIMEOUT_CLKS}
    BRIDGE_UB_DEPTH=300 BRIDGE_IMEM_DEPTH=40 BRIDGE_MAX_IN_FLIGHT=3 BRIDGE_CLOCK_MHZ=12)
  tpu_verilate(uart_bridge_test_${dim} TOP uart_bridge
               PARAMS -GArrayDim=${dim} -GClksPerBit=${UART_BRIDGE_CLKS_PER_BIT}
                      -GTimeoutClks=${UART_BRIDGE_TIMEOUT_CLKS} -GUbDepth=300 -GImemDepth=40
                      -GMaxInFlight=3 -GClockMhz=12
               SOURCES ${TPU_RTL_ALL} ${TPU_BOARD_RTL})
  target_link_libraries(uart_bridge_test_${dim} PRIVATE tpu_tb tpu_runtime GTest::gtest_main)
  gtest_discover_tests(uart_bridge_test_${dim} TEST_PREFIX "uart_bridge${dim}." DISCOVERY_TIMEOUT 60)
endforeach()
