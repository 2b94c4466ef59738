// UART receiver, 8N1, least significant bit first, idle high (docs/fpga.md, "Line").
//
// The pin is asynchronous: two flops synchronise it. A start bit is a falling edge of the
// synchronised line (an edge, not a low level, so a line held low yields one byte at most);
// it is checked again half a bit later (a shorter pulse is a glitch and ignored), then every
// bit is sampled once in its middle. A byte whose stop bit reads low (a framing error) is
// dropped. `valid_o` is high for one cycle with the byte on `data_o`, which holds it until
// the next byte's first data bit.
module uart_rx #(
  parameter int ClksPerBit = 260  // clock cycles per bit (clock / baud), at least 4
) (
  input  logic       clk_i,
  input  logic       rst_ni,
  input  logic       rx_i,     // the pin
  output logic       line_o,   // the synchronised line (high: idle)
  output logic       valid_o,
  output logic [7:0] data_o
);
  localparam int CntW = $clog2(ClksPerBit);
  localparam logic [CntW-1:0] HalfBit = CntW'(ClksPerBit / 2 - 1);
  localparam logic [CntW-1:0] FullBit = CntW'(ClksPerBit - 1);

  typedef enum logic [1:0] {
    Idle  = 2'd0,
    Start = 2'd1,
    Data  = 2'd2,
    Stop  = 2'd3
  } state_e;

  logic [2:0]      sync_q;  // [0], [1]: the synchroniser; [2]: the line one cycle earlier
  state_e          state_q, state_d;
  logic [CntW-1:0] cnt_q, cnt_d;
  logic [2:0]      bit_q, bit_d;
  logic [7:0]      shift_q, shift_d;
  logic            valid_q, valid_d;
  logic            line, tick;

  assign line = sync_q[1];
  assign tick = cnt_q == '0;

  always_comb begin
    state_d = state_q;
    cnt_d   = tick ? FullBit : cnt_q - 1'b1;
    bit_d   = bit_q;
    shift_d = shift_q;
    valid_d = 1'b0;
    unique case (state_q)
      Idle: begin
        cnt_d = HalfBit;
        if (sync_q[2] && !line) state_d = Start;
      end
      Start: if (tick) state_d = line ? Idle : Data;
      Data: begin
        if (tick) begin
          shift_d = {line, shift_q[7:1]};
          bit_d   = bit_q + 1'b1;
          if (bit_q == 3'd7) state_d = Stop;
        end
      end
      Stop: begin
        if (tick) begin
          valid_d = line;
          state_d = Idle;
        end
      end
      default: state_d = Idle;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      sync_q  <= '1;
      state_q <= Idle;
      cnt_q   <= '0;
      bit_q   <= '0;
      shift_q <= '0;
      valid_q <= 1'b0;
    end else begin
      sync_q  <= {sync_q[1:0], rx_i};
      state_q <= state_d;
      cnt_q   <= cnt_d;
      bit_q   <= bit_d;
      shift_q <= shift_d;
      valid_q <= valid_d;
    end
  end

  assign line_o  = line;
  assign valid_o = valid_q;
  assign data_o  = shift_q;

`ifndef SYNTHESIS
  initial begin
    if (ClksPerBit < 4) $fatal(1, "uart_rx: ClksPerBit %0d is below 4", ClksPerBit);
  end
`endif
endmodule
