// Formal properties of rtl/core/delay_line.sv, proved by scripts/formal.sh.
//
// Specification (the module's header; docs/architecture.md, "Skew, weights and de-skew"):
// a valid/data pipeline of Depth registers. valid_o is valid_i of Depth cycles before; while
// valid_o is high, data_o is data_i of Depth cycles before; while it is low, data_o holds
// (a data register loads only when the valid entering it is high, so idle lanes do not
// toggle). Reset clears every register: no valid_o for Depth cycles after it.
module delay_line_props #(
  parameter int Width = 17,
  parameter int Depth = 2
) (
  input logic             clk_i,
  input logic             rst_ni,
  input logic             valid_i,
  input logic [Width-1:0] data_i
);
  logic             valid_o;
  logic [Width-1:0] data_o;

  delay_line #(.Width(Width), .Depth(Depth)) u_dut (
    .clk_i,
    .rst_ni,
    .valid_i,
    .data_i,
    .valid_o,
    .data_o
  );

  logic init_q = 1'b1;
  always_ff @(posedge clk_i) init_q <= 1'b0;
  always_comb if (init_q) assume (!rst_ni);

  // The inputs of the last Depth cycles: slice k is k+1 cycles ago. Valid bits clear at reset.
  logic [Depth-1:0]       hist_valid_q;
  logic [Depth*Width-1:0] hist_data_q;
  logic                   past_ok_q;
  logic [Width-1:0]       past_data_o_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      hist_valid_q  <= '0;
      hist_data_q   <= '0;
      past_ok_q     <= 1'b0;
      past_data_o_q <= '0;
    end else begin
      hist_valid_q  <= Depth'({hist_valid_q, valid_i});
      hist_data_q   <= (Depth * Width)'({hist_data_q, data_i});
      past_ok_q     <= 1'b1;
      past_data_o_q <= data_o;
    end
  end

  always_comb begin
    if (rst_ni) begin
      assert (valid_o == hist_valid_q[Depth-1]);
      if (valid_o) assert (data_o == hist_data_q[(Depth-1)*Width +: Width]);
      else if (past_ok_q) assert (data_o == past_data_o_q);
    end
  end
endmodule
