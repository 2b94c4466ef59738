// The iCEBreaker board's own RTL files (read after rtl/tpu.f), one path per line relative to
// the repository root: the UART and its protocol engine, then the board top.
rtl/board/uart_rx.sv
rtl/board/uart_tx.sv
rtl/board/uart_bridge.sv
rtl/board/icebreaker_top.sv
