// A valid/data pipeline of `Depth` registers (Depth >= 1).
//
// The valid bit shifts every cycle; a data register loads only when the valid
// entering it is high, so idle lanes do not toggle. Used for the array's input
// skew, weight-bus skew and output de-skew.
module delay_line #(
  parameter int Width = 16,
  parameter int Depth = 1
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             valid_i,
  input  logic [Width-1:0] data_i,
  output logic             valid_o,
  output logic [Width-1:0] data_o
);
  // Flat vectors rather than unpacked arrays: stage k is bit k / slice k.
  logic [Depth-1:0]       valid_q;
  logic [Depth*Width-1:0] data_q;
  logic [Depth-1:0]       valid_in;
  logic [Depth*Width-1:0] data_in;

  always_comb begin
    valid_in[0]       = valid_i;
    data_in[0+:Width] = data_i;
    for (int k = 1; k < Depth; k++) begin
      valid_in[k]           = valid_q[k-1];
      data_in[k*Width+:Width] = data_q[(k-1)*Width+:Width];
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= '0;
      data_q  <= '0;
    end else begin
      valid_q <= valid_in;
      for (int k = 0; k < Depth; k++) begin
        if (valid_in[k]) data_q[k*Width +: Width] <= data_in[k*Width +: Width];
      end
    end
  end

  assign valid_o = valid_q[Depth-1];
  assign data_o  = data_q[(Depth-1)*Width +: Width];

`ifndef SYNTHESIS
  initial begin
    if (Depth < 1) $fatal(1, "delay_line: Depth must be at least 1, got %0d", Depth);
  end
`endif
endmodule
