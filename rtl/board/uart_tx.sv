// UART transmitter, 8N1, least significant bit first, idle high (docs/fpga.md, "Line").
//
// Takes a byte when `valid_i && ready_o` and shifts out start bit, 8 data bits and stop bit,
// ClksPerBit cycles each; `ready_o` is high again once the stop bit has been on the line for
// its full time. The pin is driven straight from a flop (no glitches). `sent_o` is the byte
// taken, from the cycle after it was taken until its start bit ends (ClksPerBit cycles).
module uart_tx #(
  parameter int ClksPerBit = 260  // clock cycles per bit (clock / baud), at least 4
) (
  input  logic       clk_i,
  input  logic       rst_ni,
  input  logic       valid_i,
  output logic       ready_o,
  input  logic [7:0] data_i,
  output logic       tx_o,     // the pin
  output logic [7:0] sent_o
);
  localparam int CntW = $clog2(ClksPerBit);
  localparam logic [CntW-1:0] FullBit = CntW'(ClksPerBit - 1);

  logic [9:0]      shift_q;  // [0] is on the line; ones shift in from the top
  logic [3:0]      left_q;   // bits still to send, including the one on the line
  logic [CntW-1:0] cnt_q;
  logic            idle;

  assign idle    = left_q == '0;
  assign ready_o = idle;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      shift_q <= '1;
      left_q  <= '0;
      cnt_q   <= '0;
    end else if (idle) begin
      if (valid_i) begin
        shift_q <= {1'b1, data_i, 1'b0};
        left_q  <= 4'd10;
        cnt_q   <= FullBit;
      end
    end else if (cnt_q == '0) begin
      shift_q <= {1'b1, shift_q[9:1]};
      left_q  <= left_q - 1'b1;
      cnt_q   <= FullBit;
    end else begin
      cnt_q <= cnt_q - 1'b1;
    end
  end

  assign tx_o   = shift_q[0];
  assign sent_o = shift_q[8:1];

`ifndef SYNTHESIS
  initial begin
    if (ClksPerBit < 4) $fatal(1, "uart_tx: ClksPerBit %0d is below 4", ClksPerBit);
  end
`endif
endmodule
