// The iCEBreaker board top (iCE40UP5K-SG48): the TPU behind the UART bridge.
// docs/fpga.md describes the board, the flow and the protocol.
//
// Pins (fpga/icebreaker.pcf):
//   CLK    35  12 MHz oscillator (the PLL's reference when UsePll)
//   RX      6  UART in (from the FTDI's second channel, /dev/ttyUSB1), idle high
//   TX      9  UART out, idle high
//   BTN_N  10  the user button, active low: resets the TPU and the bridge
//   LEDR_N 11  red LED, active low: on while the TPU is in Error
//   LEDG_N 37  green LED, active low: blinks while Running or in Sync, on when Done
//
// Parameters:
//   ArrayDim, UbDepth, ImemDepth, MaxInFlight  the TPU's (rtl/tpu.sv), reported by info; the
//                per-cycle regression runs at these defaults (TPU_BOARD_* in tests/CMakeLists.txt,
//                checked by board.Board.InfoReportsTheParameters)
//   ClockMhz     the clock the logic runs at: the PLL's output when UsePll, else CLK's
//   Baud         the UART's rate; ClksPerBit = round(ClockMhz * 1e6 / Baud)
//   TimeoutClks  quiet-line cycles that end a frame (docs/fpga.md): 10 ms by default
//   UsePll       1: SB_PLL40_PAD makes ClockMhz from the 12 MHz CLK (DIVR 0, DIVF and DIVQ
//                as `icepll -i 12 -o ClockMhz` gives them: 79 and 5 for 30 MHz; a clock no
//                setting gives exactly stops elaboration);
//                0: CLK clocks the logic directly (simulation: Verilator has no SB_PLL40_*)
//
// Reset: the logic is held in reset for the first 1024 cycles after configuration (the
// UP5K's block RAMs read garbage for a few microseconds), while the PLL is not locked, and
// while BTN_N is low. The reset asserts asynchronously and releases synchronously (two flops).
//
// Simulation only (`ifndef SYNTHESIS): debug outputs with which a board-level test checks
// the TPU inside against the golden model every cycle: the TPU's reset (dbg_tpu_rst_no),
// every signal of its host port (dbg_host_*: the requests the bridge makes and the TPU's
// answers), and the TPU's own dbg_* outputs under the same names.
module icebreaker_top #(
  parameter int ArrayDim    = 2,
  parameter int UbDepth     = 512,
  parameter int ImemDepth   = 512,
  parameter int MaxInFlight = 3,
  parameter int ClockMhz    = 30,
  parameter int Baud        = 115200,
  parameter int ClksPerBit  = (ClockMhz * 1000000 + Baud / 2) / Baud,
  parameter int TimeoutClks = ClockMhz * 10000,
  parameter int UsePll      = 1,
  localparam int RowWidth   = ArrayDim * tpu_pkg::DataWidth,
  localparam int HostWidth  = (RowWidth > 64) ? RowWidth : 64
) (
  input  logic                 CLK,
  input  logic                 RX,
  output logic                 TX,
  input  logic                 BTN_N,
  output logic                 LEDR_N,
  output logic                 LEDG_N
`ifndef SYNTHESIS
  ,
  output logic                 dbg_tpu_rst_no,
  output logic                 dbg_host_req_valid_o,
  output logic                 dbg_host_req_ready_o,
  output logic                 dbg_host_req_we_o,
  output logic [1:0]           dbg_host_req_space_o,
  output tpu_pkg::ub_addr_t    dbg_host_req_addr_o,
  output logic [HostWidth-1:0] dbg_host_req_wdata_o,
  output logic                 dbg_host_rsp_valid_o,
  output logic                 dbg_host_rsp_ready_o,
  output logic [HostWidth-1:0] dbg_host_rsp_rdata_o,
  output logic                 dbg_host_rsp_err_o,
  output logic                 dbg_array_valid_o,
  output logic [RowWidth-1:0]  dbg_array_data_o,
  output logic                 dbg_vpu_valid_o,
  output logic [RowWidth-1:0]  dbg_vpu_data_o,
  output logic                 dbg_wr_valid_o,
  output tpu_pkg::ub_addr_t    dbg_wr_addr_o,
  output logic [RowWidth-1:0]  dbg_wr_data_o,
  output logic [15:0]          dbg_pc_o,
  output logic [2:0]           dbg_state_o,
  output logic [3:0]           dbg_err_o
`endif
);
  // ---------------------------------------------------------------------------------------
  // Clock: with a 12 MHz reference the PLL's phase detector runs at 12 MHz (DIVR 0, filter
  // range 1) and the VCO at ClockMhz * 2^DIVQ, which must lie in 533..1066 MHz.

  localparam int PllDivQ = ClockMhz >= 67 ? 3 : ClockMhz >= 34 ? 4 : ClockMhz >= 17 ? 5 : 6;
  localparam int PllVco  = ClockMhz * (2 ** PllDivQ);
  localparam int PllDivF = PllVco / 12 - 1;

  localparam bit PllExact = PllVco >= 533 && PllVco <= 1066 && PllVco % 12 == 0
                            && PllDivF <= 127;

  logic clk, pll_lock;

  if (UsePll != 0 && !PllExact) begin : gen_no_pll_setting
    // No PLL setting gives exactly ClockMhz: this module does not exist, so elaboration
    // (Yosys, Verilator) stops here with its name.
    icebreaker_top_no_pll_setting_gives_ClockMhz u_error ();
  end

  if (UsePll != 0) begin : gen_pll
    SB_PLL40_PAD #(
      .FEEDBACK_PATH("SIMPLE"),
      .DIVR        (4'd0),
      .DIVF        (7'(PllDivF)),
      .DIVQ        (3'(PllDivQ)),
      .FILTER_RANGE(3'd1)
    ) u_pll (
      .PACKAGEPIN  (CLK),
      .PLLOUTGLOBAL(clk),
      .LOCK        (pll_lock),
      .BYPASS      (1'b0),
      .RESETB      (1'b1)
    );
  end else begin : gen_no_pll
    assign clk      = CLK;
    assign pll_lock = 1'b1;
  end

  // ---------------------------------------------------------------------------------------
  // Reset. tick_q runs freely from configuration (its initial value is the bitstream's) and
  // also paces the LED blink.

  localparam int TickW = 24;  // bit 23 toggles every 0.28 s at 30 MHz
  localparam int PorBit = 10;

  logic [TickW-1:0] tick_q   = '0;
  logic             por_done_q = 1'b0;
  logic             rst_async_n;
  logic [1:0]       rst_sync_q = '0;  // the bitstream's too: in reset from the first cycle
  logic             rst_n;

  always_ff @(posedge clk) begin
    tick_q <= tick_q + 1'b1;
    if (tick_q[PorBit]) por_done_q <= 1'b1;
  end

  assign rst_async_n = por_done_q && pll_lock && BTN_N;

  always_ff @(posedge clk or negedge rst_async_n) begin
    if (!rst_async_n) rst_sync_q <= '0;
    else              rst_sync_q <= {rst_sync_q[0], 1'b1};
  end
  assign rst_n = rst_sync_q[1];

  // ---------------------------------------------------------------------------------------
  // The TPU and the bridge.

  logic                 req_valid, req_ready, req_we, rsp_valid, rsp_ready, rsp_err;
  logic [1:0]           req_space;
  tpu_pkg::ub_addr_t    req_addr;
  logic [HostWidth-1:0] req_wdata, rsp_rdata;
  logic                 array_valid, vpu_valid, wr_valid;
  logic [RowWidth-1:0]  array_data, vpu_data, wr_data;
  tpu_pkg::ub_addr_t    wr_addr;
  logic [15:0]          pc;
  logic [2:0]           state;
  logic [3:0]           err;

  uart_bridge #(
    .ArrayDim   (ArrayDim),
    .ClksPerBit (ClksPerBit),
    .TimeoutClks(TimeoutClks),
    .UbDepth    (UbDepth),
    .ImemDepth  (ImemDepth),
    .MaxInFlight(MaxInFlight),
    .ClockMhz   (ClockMhz)
  ) u_bridge (
    .clk_i           (clk),
    .rst_ni          (rst_n),
    .rx_i            (RX),
    .tx_o            (TX),
    .host_req_valid_o(req_valid),
    .host_req_ready_i(req_ready),
    .host_req_we_o   (req_we),
    .host_req_space_o(req_space),
    .host_req_addr_o (req_addr),
    .host_req_wdata_o(req_wdata),
    .host_rsp_valid_i(rsp_valid),
    .host_rsp_ready_o(rsp_ready),
    .host_rsp_rdata_i(rsp_rdata),
    .host_rsp_err_i  (rsp_err)
  );

  tpu #(
    .ArrayDim   (ArrayDim),
    .UbDepth    (UbDepth),
    .ImemDepth  (ImemDepth),
    .MaxInFlight(MaxInFlight)
  ) u_tpu (
    .clk_i            (clk),
    .rst_ni           (rst_n),
    .host_req_valid_i (req_valid),
    .host_req_ready_o (req_ready),
    .host_req_we_i    (req_we),
    .host_req_space_i (req_space),
    .host_req_addr_i  (req_addr),
    .host_req_wdata_i (req_wdata),
    .host_rsp_valid_o (rsp_valid),
    .host_rsp_ready_i (rsp_ready),
    .host_rsp_rdata_o (rsp_rdata),
    .host_rsp_err_o   (rsp_err),
    .dbg_array_valid_o(array_valid),
    .dbg_array_data_o (array_data),
    .dbg_vpu_valid_o  (vpu_valid),
    .dbg_vpu_data_o   (vpu_data),
    .dbg_wr_valid_o   (wr_valid),
    .dbg_wr_addr_o    (wr_addr),
    .dbg_wr_data_o    (wr_data),
    .dbg_pc_o         (pc),
    .dbg_state_o      (state),
    .dbg_err_o        (err)
  );

  // ---------------------------------------------------------------------------------------
  // LEDs (active low).

  logic active;
  assign active = state == tpu_pkg::StRunning || state == tpu_pkg::StSync;
  assign LEDG_N = !(state == tpu_pkg::StDone || (active && tick_q[TickW-1]));
  assign LEDR_N = !(state == tpu_pkg::StError);

`ifndef SYNTHESIS
  assign dbg_tpu_rst_no       = rst_n;
  assign dbg_host_req_valid_o = req_valid;
  assign dbg_host_req_ready_o = req_ready;
  assign dbg_host_req_we_o    = req_we;
  assign dbg_host_req_space_o = req_space;
  assign dbg_host_req_addr_o  = req_addr;
  assign dbg_host_req_wdata_o = req_wdata;
  assign dbg_host_rsp_valid_o = rsp_valid;
  assign dbg_host_rsp_ready_o = rsp_ready;
  assign dbg_host_rsp_rdata_o = rsp_rdata;
  assign dbg_host_rsp_err_o   = rsp_err;
  assign dbg_array_valid_o    = array_valid;
  assign dbg_array_data_o     = array_data;
  assign dbg_vpu_valid_o      = vpu_valid;
  assign dbg_vpu_data_o       = vpu_data;
  assign dbg_wr_valid_o       = wr_valid;
  assign dbg_wr_addr_o        = wr_addr;
  assign dbg_wr_data_o        = wr_data;
  assign dbg_pc_o             = pc;
  assign dbg_state_o          = state;
  assign dbg_err_o            = err;
`endif
endmodule
