// The loop stack: `loop c` pushes (the address after it, c); `endl` either counts the top
// down and jumps back to its start (count > 1) or pops it. The top lives in slot 0 and a push
// shifts the others down, so reading the top needs no multiplexer.
// Specification: docs/isa.md ("loop", "endl") and docs/architecture.md ("Decode and issue").
module loop_stack #(
  parameter int Depth  = 4,   // loops nest this deep
  parameter int PcW    = 16,  // width of a loop's start address
  parameter int CountW = 16   // width of a loop count
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              clear_i,       // empty the stack (start)
  input  logic              push_i,        // a `loop` issues
  input  logic [PcW-1:0]    push_start_i,
  input  logic [CountW-1:0] push_count_i,
  input  logic              endl_i,        // an `endl` issues
  output logic              empty_o,
  output logic              full_o,
  output logic              repeat_o,      // the top's count is above 1: endl jumps back
  output logic [PcW-1:0]    top_start_o
);
  localparam int SpW = $clog2(Depth + 1);

  logic [Depth*PcW-1:0]    start_q;
  logic [Depth*CountW-1:0] count_q;
  logic [SpW-1:0]          sp_q;    // loops on the stack

  assign empty_o     = sp_q == '0;
  assign full_o      = 32'(sp_q) == Depth;
  assign repeat_o    = count_q[CountW-1:0] > CountW'(1);
  assign top_start_o = start_q[PcW-1:0];

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      start_q <= '0;
      count_q <= '0;
      sp_q    <= '0;
    end else if (clear_i) begin
      sp_q <= '0;
    end else if (push_i) begin
      start_q <= {start_q[(Depth-1)*PcW-1:0], push_start_i};
      count_q <= {count_q[(Depth-1)*CountW-1:0], push_count_i};
      sp_q    <= sp_q + SpW'(1);
    end else if (endl_i) begin
      if (repeat_o) begin
        count_q[CountW-1:0] <= count_q[CountW-1:0] - CountW'(1);
      end else begin
        start_q <= {PcW'(0), start_q[Depth*PcW-1:PcW]};
        count_q <= {CountW'(0), count_q[Depth*CountW-1:CountW]};
        sp_q    <= sp_q - SpW'(1);
      end
    end
  end
endmodule
