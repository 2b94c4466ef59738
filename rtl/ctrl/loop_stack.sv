// The loop stack: `loop c` pushes (the address after it, c); `endl` either counts the top
// down and jumps back to its start (count > 1) or pops it. The top lives in slot 0 and a push
// shifts the others down, so reading the top needs no multiplexer. The control unit fetches
// a cycle ahead of decode, so it also reads what the top will be after this cycle's `loop` or
// `endl` (the second slot, and the top's count against 2) to fetch the loop start in time.
// Those answers come from flags kept beside the counts (each slot's count above 1, the top's
// above 2), so that the fetch sees a flip-flop and not a comparison.
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
  output logic [PcW-1:0]    top_start_o,
  output logic              repeat_next_o, // the top's count is above 2: it repeats after a repeat
  output logic              second_repeat_o,  // the second loop's count is above 1
  output logic [PcW-1:0]    second_start_o
);
  localparam int SpW = $clog2(Depth + 1);

  logic [Depth*PcW-1:0]    start_q;
  logic [Depth*CountW-1:0] count_q;
  logic [SpW-1:0]          sp_q;    // loops on the stack
  logic [Depth-1:0]        gt1_q;   // slot k's count is above 1
  logic                    gt2_q;   // the top's count is above 2

  assign empty_o     = sp_q == '0;
  assign full_o      = 32'(sp_q) == Depth;
  assign repeat_o    = gt1_q[0];
  assign top_start_o = start_q[PcW-1:0];
  assign repeat_next_o   = gt2_q;
  assign second_repeat_o = gt1_q[1];
  assign second_start_o  = start_q[2*PcW-1:PcW];

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      start_q <= '0;
      count_q <= '0;
      sp_q    <= '0;
      gt1_q   <= '0;
      gt2_q   <= 1'b0;
    end else if (clear_i) begin
      sp_q <= '0;
    end else if (push_i) begin
      start_q <= {start_q[(Depth-1)*PcW-1:0], push_start_i};
      count_q <= {count_q[(Depth-1)*CountW-1:0], push_count_i};
      gt1_q   <= {gt1_q[Depth-2:0], push_count_i > CountW'(1)};
      gt2_q   <= push_count_i > CountW'(2);
      sp_q    <= sp_q + SpW'(1);
    end else if (endl_i) begin
      if (gt1_q[0]) begin  // count - 1 is above 1 when count is above 2, and so on
        count_q[CountW-1:0] <= count_q[CountW-1:0] - CountW'(1);
        gt1_q[0]            <= gt2_q;
        gt2_q               <= count_q[CountW-1:0] > CountW'(3);
      end else begin
        start_q <= {PcW'(0), start_q[Depth*PcW-1:PcW]};
        count_q <= {CountW'(0), count_q[Depth*CountW-1:CountW]};
        gt1_q   <= {1'b0, gt1_q[Depth-1:1]};
        gt2_q   <= count_q[2*CountW-1:CountW] > CountW'(2);
        sp_q    <= sp_q - SpW'(1);
      end
    end
  end

`ifndef SYNTHESIS
  // The flags are the comparisons they stand for, every cycle.
  logic [Depth:0] flag_ok;
  always_comb begin
    for (int k = 0; k < Depth; k++) begin
      flag_ok[k] = gt1_q[k] == (count_q[k*CountW +: CountW] > CountW'(1));
    end
    flag_ok[Depth] = gt2_q == (count_q[CountW-1:0] > CountW'(2));
  end
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (&flag_ok) else $error("loop_stack: a count flag disagrees with its count");
    end
  end
`endif
endmodule
