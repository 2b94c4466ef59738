# The UART bridge alone (docs/fpga.md, "UART protocol"): a C++ UART drives its rx pin bit by bit,
# a C++ stand-in answers its TPU host-port requests, every reply checked against the protocol.
# Small ClksPerBit and TimeoutClks keep frames short; the info parameters are distinct values.
tpu_rtl_files(TPU_BOARD_RTL ${TPU_RTL_DIR}/board/icebreaker.f)
tpu_rtl_test(uart_bridge_test SOURCES uart_bridge_test.cpp TOP uart_bridge PREFIX uart_bridge
             SIZES 2 8 PARAMS ClksPerBit=4 TimeoutClks=400 UbDepth=300 ImemDepth=40 MaxInFlight=3
                              ClockMhz=12
             RTL ${TPU_BOARD_RTL} LIBS tpu_runtime)
