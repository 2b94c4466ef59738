// The matmuls in flight: up to MaxInFlight, each from the cycle after its issue until its last
// result row is written. It sends each one's delayed buffer commands (bias and side reads 2N
// cycles after issue, the result write 2N+5 cycles after) and the vector unit's configuration
// while its rows pass, and answers the control unit's read-after-write question for the
// instruction in decode: would a read of rows [first, last], starting d cycles after issue, see
// a row before a matmul in flight has written it? The control unit computes the rows' limits
// (below) a cycle ahead, in its predecode stage, so that the test is only comparisons.
//
// A matmul issued in cycle t is "age" a = c - t in cycle c. Its events are fixed delays after
// issue and matmuls issue at least `rows` cycles apart (port 0 streams their activations), so
// the events come in issue order: one shift register of issue pulses times them, and the
// entries form a ring read at one pointer per event. Only the hazard check looks at every
// entry at once.
// Specification: docs/architecture.md, "Decode and issue" and "Read-after-write hazards".
module matmul_tracker #(
  parameter int ArrayDim    = tpu_pkg::ArrayDim,
  parameter int UbDepth     = 256,
  parameter int MaxInFlight = 8,
  localparam int AW       = tpu_pkg::addr_width(UbDepth),   // a buffer row
  // A matmul's rows: at most UbDepth and at most 1023 (its 10-bit field).
  localparam int CW       = (tpu_pkg::count_width(UbDepth) < 10)
                            ? tpu_pkg::count_width(UbDepth) : 10,
  localparam int NW       = tpu_pkg::idx_width(ArrayDim) + 1,  // a lane count, 1..ArrayDim
  // age + out of an entry, and a read's limit (see the hazard test below).
  localparam int RawW     = tpu_pkg::raw_width(UbDepth, ArrayDim),
  localparam int RdCmdW   = tpu_pkg::UbRdCmdWidth,
  localparam int WrCmdW   = tpu_pkg::UbWrCmdWidth
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  // A matmul issues in this cycle: result rows [out_i, out_last_i = out_i + rows_i - 1] (lanes
  // below n_i),
  // the bias block at bias_i (one row repeated, or rows_i rows when bias_step_i), the side rows
  // at side_i, and the configuration its rows take through the vector unit.
  input  logic              issue_i,
  input  logic [AW-1:0]     out_i,
  input  logic [AW-1:0]     out_last_i,
  input  logic [CW-1:0]     rows_i,
  input  logic [NW-1:0]     n_i,
  input  logic [AW-1:0]     bias_i,
  input  logic              bias_step_i,
  input  logic [AW-1:0]     side_i,
  input  tpu_pkg::vpu_cfg_t cfg_i,
  output logic              full_o,   // MaxInFlight in flight: a matmul must wait
  output logic              empty_o,  // none in flight
  // Hazard queries for the instruction in decode. rd: read from the cycle after issue (d = 1),
  // one row per cycle in address order, or all rows in that cycle (block, a transposed read).
  // bias and side: streamed reads from 2N+1 cycles after issue. Rows in range (decode rejects
  // the others first). lim: 2N+5 + (rd_block_i ? rd_last_i : rd_first_i) for rd,
  // 5 + first for bias and side (the hazard test below).
  input  logic [AW-1:0]     rd_first_i,
  input  logic [AW-1:0]     rd_last_i,
  input  logic              rd_block_i,
  input  logic [RawW-1:0]   rd_lim_i,
  input  logic [AW-1:0]     bias_first_i,
  input  logic [AW-1:0]     bias_last_i,
  input  logic [RawW-1:0]   bias_lim_i,
  input  logic [AW-1:0]     side_first_i,
  input  logic [AW-1:0]     side_last_i,
  input  logic [RawW-1:0]   side_lim_i,
  output logic              raw_rd_o,
  output logic              raw_bias_o,
  output logic              raw_side_o,
  // Delayed commands: bias (port 2) and side (port 3) reads, the result write.
  output logic              bias_rd_valid_o,
  output logic [RdCmdW-1:0] bias_rd_cmd_o,
  output logic              side_rd_valid_o,
  output logic [RdCmdW-1:0] side_rd_cmd_o,
  output logic              wr_cmd_valid_o,
  output logic [WrCmdW-1:0] wr_cmd_o,
  // The configuration of the matmul whose rows reach the vector unit now.
  output tpu_pkg::vpu_cfg_t vpu_cfg_o
);
  localparam int N        = ArrayDim;
  localparam int S        = MaxInFlight;
  localparam int PW       = (S > 1) ? $clog2(S) : 1;
  localparam int CfgW     = tpu_pkg::VpuCfgWidth;
  localparam int SideAge  = 2 * N;      // bias and side read commands
  localparam int VpuAge   = 2 * N + 2;  // the first result row enters the vector unit
  localparam int WriteAge = 2 * N + 5;  // write command; row j is written at age 2N+6+j

  function automatic logic [PW-1:0] next_ptr(input logic [PW-1:0] p);
    next_ptr = (32'(p) == S - 1) ? '0 : p + PW'(1);
  endfunction

  // ---------------------------------------------------------------------------------
  // Entries, a ring: allocated at alloc_q, read at one pointer per event, retired in order.

  logic [S-1:0]      e_valid_q, e_acc_q, e_use_bias_q, e_use_side_q;
  logic [S*AW-1:0]   e_out_q, e_last_q, e_bias_q, e_side_q;
  logic [S*CW-1:0]   e_rows_q;
  logic [S*NW-1:0]   e_n_q;
  logic [S*RawW-1:0] e_age_out_q;  // age + out, counting up while in flight
  logic [S*CfgW-1:0] e_cfg_q;

  logic [PW-1:0] alloc_q, side_ptr_q, vpu_ptr_q, wr_ptr_q, ret_ptr_q;
  logic [WriteAge-1:0] issued_q;  // bit k: a matmul of age k+1
  logic [CW-1:0]       wr_left_q; // rows the current result write still takes, then retire
  logic side_ev, side_pre, vpu_ev, wr_ev, wr_pre, retire;
  logic          retire_q;       // wr_left_q == 1, kept as a flip-flop
  logic [S-1:0]  retire_oh_q;    // bit s: entry s retires this cycle (retire_q, ret_ptr_q == s)
  logic          retire_d;
  logic [PW-1:0] ret_ptr_d;

  // Each event's entry is read a cycle early (side_pre, wr_pre, vpu_ev) into registers, so
  // that the commands leave from flip-flops; an entry is complete from the cycle after its
  // issue, and SideAge - 1 >= 1.
  assign side_ev  = issued_q[SideAge - 1];
  assign side_pre = issued_q[SideAge - 2];
  assign vpu_ev   = issued_q[VpuAge - 2];   // one cycle early: the register is ready at VpuAge
  assign wr_ev    = issued_q[WriteAge - 1];
  assign wr_pre   = issued_q[WriteAge - 2];
  // The retire decision comes from flip-flops (the hazard test reads it): wr_left_q is 1 in
  // the next cycle when a write of one row starts now, or two rows are left and none starts.
  assign retire    = retire_q;
  assign retire_d  = wr_ev ? wr_rows_q == CW'(1) : wr_left_q == CW'(2);
  assign ret_ptr_d = retire ? next_ptr(ret_ptr_q) : ret_ptr_q;

  logic use_bias, use_side;
  assign use_bias = cfg_i.mask[tpu_pkg::MaskBias];
  assign use_side = cfg_i.mask[tpu_pkg::MaskLoss]
                    || (cfg_i.mask[tpu_pkg::MaskDeriv] && cfg_i.deriv_src);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      e_valid_q    <= '0;
      e_acc_q      <= '0;
      e_use_bias_q <= '0;
      e_use_side_q <= '0;
      e_out_q      <= '0;
      e_last_q     <= '0;
      e_bias_q     <= '0;
      e_side_q     <= '0;
      e_rows_q     <= '0;
      e_n_q        <= '0;
      e_age_out_q  <= '0;
      e_cfg_q      <= '0;
      alloc_q      <= '0;
      side_ptr_q   <= '0;
      vpu_ptr_q    <= '0;
      wr_ptr_q     <= '0;
      ret_ptr_q    <= '0;
      issued_q     <= '0;
      wr_left_q    <= '0;
      retire_q     <= 1'b0;
      retire_oh_q  <= '0;
    end else begin
      // Per entry (a variable part-select on the left would cost a shifter per field). The
      // free entry a matmul would take follows the inputs whether or not one issues, so that
      // only its valid bit waits for the issue (a short path from the hazard test).
      for (int s = 0; s < S; s++) begin
        if (e_valid_q[s]) e_age_out_q[s*RawW +: RawW] <= e_age_out_q[s*RawW +: RawW] + RawW'(1);
        if (retire_oh_q[s]) e_valid_q[s] <= 1'b0;
        if (issue_i && 32'(alloc_q) == s) e_valid_q[s] <= 1'b1;
        if (!e_valid_q[s] && 32'(alloc_q) == s) begin
          e_acc_q[s]                  <= bias_step_i;
          e_use_bias_q[s]             <= use_bias;
          e_use_side_q[s]             <= use_side;
          e_out_q[s*AW +: AW]         <= out_i;
          e_last_q[s*AW +: AW]        <= out_last_i;
          e_bias_q[s*AW +: AW]        <= bias_i;
          e_side_q[s*AW +: AW]        <= side_i;
          e_rows_q[s*CW +: CW]        <= rows_i;
          e_n_q[s*NW +: NW]           <= n_i;
          e_age_out_q[s*RawW +: RawW] <= RawW'(out_i) + RawW'(1);
          e_cfg_q[s*CfgW +: CfgW]     <= cfg_i;
        end
      end
      ret_ptr_q   <= ret_ptr_d;
      retire_q    <= retire_d;
      for (int s = 0; s < S; s++) retire_oh_q[s] <= retire_d && 32'(ret_ptr_d) == s;
      if (issue_i) alloc_q   <= next_ptr(alloc_q);
      issued_q <= {issued_q[WriteAge-2:0], issue_i};
      if (side_pre) side_ptr_q <= next_ptr(side_ptr_q);
      if (vpu_ev)   vpu_ptr_q  <= next_ptr(vpu_ptr_q);
      if (wr_pre)   wr_ptr_q   <= next_ptr(wr_ptr_q);
      if (wr_ev) begin
        wr_left_q <= wr_rows_q;
      end else if (wr_left_q != '0) begin
        wr_left_q <= wr_left_q - CW'(1);
      end
    end
  end

  assign full_o  = &e_valid_q;
  assign empty_o = ~|e_valid_q;

  // ---------------------------------------------------------------------------------
  // Delayed commands and the vector unit's configuration.

  // The entries the events read: one multiplexer per pointer.
  logic [CW-1:0]   side_rows, wr_rows;
  logic [AW-1:0]   side_bias, side_side, wr_out;
  logic [NW-1:0]   wr_n;
  logic            side_acc, side_use_bias, side_use_side;
  logic [CfgW-1:0] vpu_cfg_d;

  always_comb begin
    side_rows = '0; side_bias = '0; side_side = '0; side_acc = 1'b0;
    side_use_bias = 1'b0; side_use_side = 1'b0;
    wr_rows = '0; wr_out = '0; wr_n = '0; vpu_cfg_d = '0;
    for (int s = 0; s < S; s++) begin
      if (32'(side_ptr_q) == s) begin
        side_rows     = e_rows_q[s*CW +: CW];
        side_bias     = e_bias_q[s*AW +: AW];
        side_side     = e_side_q[s*AW +: AW];
        side_acc      = e_acc_q[s];
        side_use_bias = e_use_bias_q[s];
        side_use_side = e_use_side_q[s];
      end
      if (32'(wr_ptr_q) == s) begin
        wr_rows = e_rows_q[s*CW +: CW];
        wr_out  = e_out_q[s*AW +: AW];
        wr_n    = e_n_q[s*NW +: NW];
      end
      if (32'(vpu_ptr_q) == s) vpu_cfg_d = e_cfg_q[s*CfgW +: CfgW];
    end
  end

  // The entries the next events read, registered the cycle before.
  logic [CW-1:0] side_rows_q, wr_rows_q;
  logic [AW-1:0] side_bias_q, side_side_q, wr_out_q;
  logic [NW-1:0] wr_n_q;
  logic          side_acc_q, side_use_bias_q, side_use_side_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      side_rows_q     <= '0;
      side_bias_q     <= '0;
      side_side_q     <= '0;
      side_acc_q      <= 1'b0;
      side_use_bias_q <= 1'b0;
      side_use_side_q <= 1'b0;
      wr_rows_q       <= '0;
      wr_out_q        <= '0;
      wr_n_q          <= '0;
    end else begin
      if (side_pre) begin
        side_rows_q     <= side_rows;
        side_bias_q     <= side_bias;
        side_side_q     <= side_side;
        side_acc_q      <= side_acc;
        side_use_bias_q <= side_use_bias;
        side_use_side_q <= side_use_side;
      end
      if (wr_pre) begin
        wr_rows_q <= wr_rows;
        wr_out_q  <= wr_out;
        wr_n_q    <= wr_n;
      end
    end
  end

  always_comb begin
    bias_rd_valid_o = side_ev && side_use_bias_q;
    bias_rd_cmd_o   = tpu_pkg::ub_rd_cmd(tpu_pkg::UbAddrWidth'(side_bias_q),
                                         tpu_pkg::UbAddrWidth'(side_rows_q),
                                         tpu_pkg::UbAddrWidth'(side_acc_q),
                                         tpu_pkg::LanesWidth'(N), 1'b0);
    side_rd_valid_o = side_ev && side_use_side_q;
    side_rd_cmd_o   = tpu_pkg::ub_rd_cmd(tpu_pkg::UbAddrWidth'(side_side_q),
                                         tpu_pkg::UbAddrWidth'(side_rows_q),
                                         tpu_pkg::UbAddrWidth'(1), tpu_pkg::LanesWidth'(N), 1'b0);
    wr_cmd_valid_o  = wr_ev;
    wr_cmd_o        = tpu_pkg::ub_wr_cmd(tpu_pkg::UbAddrWidth'(wr_out_q),
                                         tpu_pkg::UbAddrWidth'(wr_rows_q),
                                         tpu_pkg::UbAddrWidth'(1), tpu_pkg::LanesWidth'(wr_n_q));
  end

  // Loaded the cycle before the first row arrives; the next matmul's rows come no earlier
  // than the cycle after this one's last.
  tpu_pkg::vpu_cfg_t vpu_cfg_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)     vpu_cfg_q <= '0;
    else if (vpu_ev) vpu_cfg_q <= vpu_cfg_d;
  end
  assign vpu_cfg_o = vpu_cfg_q;

  // ---------------------------------------------------------------------------------
  // Read-after-write hazards (docs/architecture.md). Entry s, issued age cycles ago, writes
  // row o+j at the end of cycle age' = 2N+6+j after its issue. A read that starts d cycles
  // after the instruction in decode issues, of rows [first, last], one per cycle (streamed) or
  // all at once (block), meets it too early unless age + o > 2N+6-d + lim, where lim is first
  // (streamed) or the last row both share (block). For a block (d = 1) that last row is
  // min(last, o+rows-1); age + o <= 2N+5 + (o+rows-1) holds for every entry except one in its
  // retire cycle, so the block test is the streamed one against `last`, minus that entry.
  // The limits 2N+6-d + lim come in as rd_lim_i (d = 1), bias_lim_i and side_lim_i (d = 2N+1).

  always_comb begin
    logic [AW-1:0]   o, o_last;
    logic [RawW-1:0] age_out;
    logic            retiring;
    raw_rd_o   = 1'b0;
    raw_bias_o = 1'b0;
    raw_side_o = 1'b0;
    for (int s = 0; s < S; s++) begin
      o        = e_out_q[s*AW +: AW];
      o_last   = e_last_q[s*AW +: AW];
      age_out  = e_age_out_q[s*RawW +: RawW];
      retiring = retire_oh_q[s];
      if (e_valid_q[s] && rd_first_i <= o_last && o <= rd_last_i && age_out <= rd_lim_i
          && !(rd_block_i && retiring)) begin
        raw_rd_o = 1'b1;
      end
      if (e_valid_q[s] && bias_first_i <= o_last && o <= bias_last_i && age_out <= bias_lim_i) begin
        raw_bias_o = 1'b1;
      end
      if (e_valid_q[s] && side_first_i <= o_last && o <= side_last_i && age_out <= side_lim_i) begin
        raw_side_o = 1'b1;
      end
    end
  end

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (retire_q == (wr_left_q == CW'(1)))
        else $error("matmul_tracker: retire_q differs from wr_left_q == 1");
    end
  end

  initial begin
    if (MaxInFlight < 2) $fatal(1, "matmul_tracker: MaxInFlight %0d is below 2", MaxInFlight);
  end

  // A matmul issues only into the free entry, whose fields followed the inputs.
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (!issue_i || !e_valid_q[alloc_q])
        else $error("matmul_tracker: a matmul issued while every entry is in flight");
    end
  end
`endif
endmodule
