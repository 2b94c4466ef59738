// Formal properties of the matmul tracker (rtl/ctrl/matmul_tracker.sv), proved by
// scripts/formal.sh at a small ArrayDim, UbDepth and MaxInFlight.
//
// The tracker's inputs are free, within the contract the control unit keeps (the tracker's
// header and docs/architecture.md, "Decode and issue"): a matmul issues only while fewer than
// MaxInFlight are in flight and at least `rows` cycles after the previous one (port 0 streams
// its activation rows), its output rows [out, out+rows-1] lie in the buffer, and the hazard
// queries name rows first <= last in the buffer with the limits the header defines
// (2N+5 + first or + last for a block; 5 + first for bias and side). This wrapper computes
// those limits and out_last_i itself, so a port that changes meaning shows here.
//
// A reference model keeps, for every buffer row, whether a matmul in flight still has to
// write it and in how many cycles (row o+j of a matmul issued in cycle t is written at the end
// of cycle t+2N+6+j; a read in a cycle sees the writes of the cycles before it), and a timer
// per matmul in flight (from cycle t+1 through t+2N+5+rows). Properties:
//   - hazard:  raw_rd_o (d = 1: streamed rows one per cycle from t+1, or a block all read in
//              t+1), raw_bias_o and raw_side_o (streamed from t+2N+1) are high exactly when
//              some row the read would name is not yet written when it would be read: no
//              read goes ahead of a write in flight, and no read waits without a reason;
//   - table:   full_o and empty_o follow the number of matmuls in flight;
//   - events:  the bias and side read commands in cycle t+2N, the result write command in
//              cycle t+2N+5, and the vector unit's configuration while the result rows pass
//              (cycles t+2N+2 .. t+2N+1+rows), with the fields of the matmul issued in t;
//   - invariants of the tracker's own state that make the induction close (and hold from
//              reset, which BMC checks): see the end of the assertions.
module tracker_props #(
  parameter int ArrayDim    = 2,
  parameter int UbDepth     = 8,
  parameter int MaxInFlight = 2
) (
  input logic                                     clk_i,
  input logic                                     rst_ni,
  input logic                                     issue_i,
  input logic [tpu_pkg::addr_width(UbDepth)-1:0]  out_i,
  input logic [tpu_pkg::count_width(UbDepth)-1:0] rows_i,
  input logic [tpu_pkg::idx_width(ArrayDim):0]    n_i,
  input logic [tpu_pkg::addr_width(UbDepth)-1:0]  bias_i,
  input logic                                     bias_step_i,
  input logic [tpu_pkg::addr_width(UbDepth)-1:0]  side_i,
  input tpu_pkg::vpu_cfg_t                        cfg_i,
  input logic [tpu_pkg::addr_width(UbDepth)-1:0]  rd_first_i,
  input logic [tpu_pkg::addr_width(UbDepth)-1:0]  rd_last_i,
  input logic                                     rd_block_i,
  input logic [tpu_pkg::addr_width(UbDepth)-1:0]  bias_first_i,
  input logic [tpu_pkg::addr_width(UbDepth)-1:0]  bias_last_i,
  input logic [tpu_pkg::addr_width(UbDepth)-1:0]  side_first_i,
  input logic [tpu_pkg::addr_width(UbDepth)-1:0]  side_last_i
);
  localparam int N      = ArrayDim;
  localparam int D      = UbDepth;
  localparam int S      = MaxInFlight;
  localparam int AW     = tpu_pkg::addr_width(D);
  localparam int CW     = tpu_pkg::count_width(D);  // UbDepth <= 1023 here: the tracker's CW
  localparam int NW     = tpu_pkg::idx_width(N) + 1;
  localparam int RawW   = tpu_pkg::raw_width(D, N);
  localparam int RdCmdW = tpu_pkg::UbRdCmdWidth;
  localparam int WrCmdW = tpu_pkg::UbWrCmdWidth;
  localparam int CfgW   = tpu_pkg::VpuCfgWidth;
  localparam int TW     = $clog2(2 * N + 6 + D + 1);  // a cycle count up to 2N+5+UbDepth
  localparam int L      = 2 * N + 5;                  // issues remembered (age 1 .. 2N+5)
  localparam int FldW   = AW + CW + NW + AW + 1 + AW + CfgW;  // out rows n bias step side cfg

  // ---------------------------------------------------------------------------------
  // The tracker, with the limits and out_last_i as the control unit computes them.

  logic [AW-1:0]   out_last;
  logic [RawW-1:0] rd_lim, bias_lim, side_lim;
  assign out_last = AW'(32'(out_i) + 32'(rows_i) - 1);
  assign rd_lim   = RawW'(2 * N + 5) + RawW'(rd_block_i ? rd_last_i : rd_first_i);
  assign bias_lim = RawW'(5) + RawW'(bias_first_i);
  assign side_lim = RawW'(5) + RawW'(side_first_i);

  logic              full_o, empty_o, raw_rd_o, raw_bias_o, raw_side_o;
  logic              bias_rd_valid_o, side_rd_valid_o, wr_cmd_valid_o;
  logic [RdCmdW-1:0] bias_rd_cmd_o, side_rd_cmd_o;
  logic [WrCmdW-1:0] wr_cmd_o;
  tpu_pkg::vpu_cfg_t vpu_cfg_o;

  matmul_tracker #(.ArrayDim(N), .UbDepth(D), .MaxInFlight(S)) u_dut (
    .clk_i,
    .rst_ni,
    .issue_i,
    .out_i,
    .out_last_i      (out_last),
    .rows_i,
    .n_i,
    .bias_i,
    .bias_step_i,
    .side_i,
    .cfg_i,
    .full_o,
    .empty_o,
    .rd_first_i,
    .rd_last_i,
    .rd_block_i,
    .rd_lim_i        (rd_lim),
    .bias_first_i,
    .bias_last_i,
    .bias_lim_i      (bias_lim),
    .side_first_i,
    .side_last_i,
    .side_lim_i      (side_lim),
    .raw_rd_o,
    .raw_bias_o,
    .raw_side_o,
    .bias_rd_valid_o,
    .bias_rd_cmd_o,
    .side_rd_valid_o,
    .side_rd_cmd_o,
    .wr_cmd_valid_o,
    .wr_cmd_o,
    .vpu_cfg_o
  );

  // ---------------------------------------------------------------------------------
  // The tracker's own state (scripts/formal.sh connects the peeks), for the invariants that
  // make the induction close: the ring of entries and its pointers, the shift register of
  // issues, the result write's row counter and the retire flags.
  localparam int PW = (S > 1) ? $clog2(S) : 1;
  localparam int WA = 2 * N + 5;  // WriteAge: the result write command's age
  logic [S-1:0]  peek_valid, peek_retire_oh;
  logic [PW-1:0] peek_alloc, peek_ret, peek_side_ptr, peek_vpu_ptr, peek_wr_ptr;
  logic [WA-1:0] peek_issued;
  logic [CW-1:0] peek_wr_left;
  logic          peek_retire;

  // Issues of age 1 .. hi+1 (bits hi..0 of the shift register).
  function automatic int issues_upto(input logic [WA-1:0] v, input int hi);
    issues_upto = 0;
    for (int k = 0; k < WA; k++) if (k <= hi && v[k]) issues_upto++;
  endfunction
  // p - n around the ring.
  function automatic logic [PW-1:0] ring_back(input logic [PW-1:0] p, input int n);
    ring_back = PW'((32'(p) + S * WA - n) % S);
  endfunction

  // ---------------------------------------------------------------------------------
  // The matmuls in flight: one timer each, and the rows still to be written.

  logic [S*TW-1:0] t_left_q;      // cycles in flight left, 0: a free timer
  logic [D-1:0]    pend_q;        // row r still to be written by a matmul in flight
  logic [D*TW-1:0] pend_cyc_q;    // ... at the end of the cycle this many cycles from now
  logic [CW-1:0]   port0_left_q;  // cycles before the next matmul may issue
  int              in_flight;

  always_comb begin
    in_flight = 0;
    for (int s = 0; s < S; s++) if (t_left_q[s*TW +: TW] != '0) in_flight++;
  end

  // Reset first; then the control unit's contract.
  logic init_q = 1'b1;
  always_ff @(posedge clk_i) init_q <= 1'b0;
  always_comb begin
    if (init_q) assume (!rst_ni);
    if (issue_i) begin
      assume (in_flight < S);
      assume (port0_left_q == '0);
      assume (rows_i != '0 && 32'(out_i) + 32'(rows_i) <= D);  // so out_last does not wrap
    end
    assume (rd_first_i <= rd_last_i && 32'(rd_last_i) < D);
    assume (bias_first_i <= bias_last_i && 32'(bias_last_i) < D);
    assume (side_first_i <= side_last_i && 32'(side_last_i) < D);
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      t_left_q     <= '0;
      pend_q       <= '0;
      pend_cyc_q   <= '0;
      port0_left_q <= '0;
    end else begin
      logic placed;
      placed = 1'b0;
      for (int s = 0; s < S; s++) begin
        if (t_left_q[s*TW +: TW] != '0) begin
          t_left_q[s*TW +: TW] <= t_left_q[s*TW +: TW] - TW'(1);
        end else if (issue_i && !placed) begin
          t_left_q[s*TW +: TW] <= TW'(2 * N + 5) + TW'(rows_i);
          placed = 1'b1;
        end
      end
      for (int r = 0; r < D; r++) begin
        if (issue_i && AW'(r) >= out_i && AW'(r) <= out_last) begin
          // A later matmul writes a row later than an earlier one (they issue rows apart).
          pend_q[r]               <= 1'b1;
          pend_cyc_q[r*TW +: TW]  <= TW'(2 * N + 5) + TW'(AW'(r) - out_i);
        end else if (pend_q[r]) begin
          if (pend_cyc_q[r*TW +: TW] == '0) pend_q[r] <= 1'b0;
          else pend_cyc_q[r*TW +: TW] <= pend_cyc_q[r*TW +: TW] - TW'(1);
        end
      end
      if (issue_i)                    port0_left_q <= rows_i - CW'(1);
      else if (port0_left_q != '0)    port0_left_q <= port0_left_q - CW'(1);
    end
  end

  // A read of rows [first, last] whose row first+i is read d + i cycles from now (streamed)
  // or all d cycles from now (block) sees a row before it is written.
  // (Narrow arithmetic throughout: 32-bit sums here cost the solver far more than the logic
  // they check.)
  function automatic logic hazard(input logic [D-1:0] pend, input logic [D*TW-1:0] cyc,
                                  input logic [AW-1:0] first, input logic [AW-1:0] last,
                                  input logic block, input int d);
    logic [TW:0] when;  // cycles from now until row r is read
    hazard = 1'b0;
    for (int r = 0; r < D; r++) begin
      when = (TW + 1)'(d) + (block ? '0 : (TW + 1)'(AW'(r) - first));
      if (pend[r] && AW'(r) >= first && AW'(r) <= last && when <= (TW + 1)'(cyc[r*TW +: TW])) begin
        hazard = 1'b1;
      end
    end
  endfunction

  logic ref_raw_rd, ref_raw_bias, ref_raw_side;
  assign ref_raw_rd   = hazard(pend_q, pend_cyc_q, rd_first_i, rd_last_i, rd_block_i, 1);
  assign ref_raw_bias = hazard(pend_q, pend_cyc_q, bias_first_i, bias_last_i, 1'b0, 2 * N + 1);
  assign ref_raw_side = hazard(pend_q, pend_cyc_q, side_first_i, side_last_i, 1'b0, 2 * N + 1);

  // ---------------------------------------------------------------------------------
  // The issues of the last 2N+5 cycles and their fields (slice k: k+1 cycles ago).

  logic [L-1:0]      h_issue_q;
  logic [L*FldW-1:0] h_fld_q;
  logic [FldW-1:0]   fld_now;
  assign fld_now = {out_i, rows_i, n_i, bias_i, bias_step_i, side_i, cfg_i};

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      h_issue_q <= '0;
      h_fld_q   <= '0;
    end else begin
      h_issue_q <= L'({h_issue_q, issue_i});
      h_fld_q   <= (L * FldW)'({h_fld_q, fld_now});
    end
  end

  // The fields of the matmul issued `age` cycles ago.
  logic [FldW-1:0]   f_side_ev, f_wr_ev, f_vpu_ev;
  assign f_side_ev = h_fld_q[(2 * N - 1) * FldW +: FldW];
  assign f_wr_ev   = h_fld_q[(2 * N + 4) * FldW +: FldW];
  assign f_vpu_ev  = h_fld_q[(2 * N + 1) * FldW +: FldW];

  // Field slices of a history entry, most significant first as in fld_now.
  function automatic logic [AW-1:0] f_out(input logic [FldW-1:0] f);
    f_out = f[FldW-1 -: AW];
  endfunction
  function automatic logic [CW-1:0] f_rows(input logic [FldW-1:0] f);
    f_rows = f[FldW-AW-1 -: CW];
  endfunction
  function automatic logic [NW-1:0] f_n(input logic [FldW-1:0] f);
    f_n = f[FldW-AW-CW-1 -: NW];
  endfunction
  function automatic logic [AW-1:0] f_bias(input logic [FldW-1:0] f);
    f_bias = f[FldW-AW-CW-NW-1 -: AW];
  endfunction
  function automatic logic f_step(input logic [FldW-1:0] f);
    f_step = f[AW + CfgW];
  endfunction
  function automatic logic [AW-1:0] f_side(input logic [FldW-1:0] f);
    f_side = f[CfgW +: AW];
  endfunction
  function automatic tpu_pkg::vpu_cfg_t f_cfg(input logic [FldW-1:0] f);
    f_cfg = f[CfgW-1:0];
  endfunction

  // The configuration of the rows passing the vector unit: loaded when a matmul's first
  // result row arrives (age 2N+2), for `rows` cycles.
  logic [CfgW-1:0] v_cfg_q;
  logic [CW-1:0]   v_left_q;
  logic [CfgW-1:0] v_cfg;
  logic            v_now;
  assign v_now = h_issue_q[2 * N + 1] || v_left_q > CW'(1);
  assign v_cfg = h_issue_q[2 * N + 1] ? f_cfg(f_vpu_ev) : v_cfg_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v_cfg_q  <= '0;
      v_left_q <= '0;
    end else if (h_issue_q[2 * N + 1]) begin
      v_cfg_q  <= f_cfg(f_vpu_ev);
      v_left_q <= f_rows(f_vpu_ev);
    end else if (v_left_q != '0) begin
      v_left_q <= v_left_q - CW'(1);
    end
  end

  // ---------------------------------------------------------------------------------

  int n_valid;  // the entries that should be valid
  assign n_valid = issues_upto(peek_issued, WA - 1) + ((peek_wr_left != '0) ? 1 : 0);

  tpu_pkg::vpu_cfg_t cfg;  // of the matmul whose bias and side commands go out now
  assign cfg = f_cfg(f_side_ev);

  always_comb begin
    if (rst_ni) begin
      // hazard: safe (every hazard makes the instruction wait) and exact (no other waits)
      if (ref_raw_rd)   assert (raw_rd_o);
      if (ref_raw_bias) assert (raw_bias_o);
      if (ref_raw_side) assert (raw_side_o);
      if (raw_rd_o)     assert (ref_raw_rd);
      if (raw_bias_o)   assert (ref_raw_bias);
      if (raw_side_o)   assert (ref_raw_side);
      // table
      assert (full_o == (in_flight == S));
      assert (empty_o == (in_flight == 0));
      // events
      assert (bias_rd_valid_o == (h_issue_q[2 * N - 1] && cfg.mask[tpu_pkg::MaskBias]));
      assert (side_rd_valid_o == (h_issue_q[2 * N - 1]
                                  && (cfg.mask[tpu_pkg::MaskLoss]
                                      || (cfg.mask[tpu_pkg::MaskDeriv] && cfg.deriv_src))));
      if (bias_rd_valid_o) begin
        assert (bias_rd_cmd_o == tpu_pkg::ub_rd_cmd(
            tpu_pkg::UbAddrWidth'(f_bias(f_side_ev)), tpu_pkg::UbAddrWidth'(f_rows(f_side_ev)),
            tpu_pkg::UbAddrWidth'(f_step(f_side_ev)), tpu_pkg::LanesWidth'(N), 1'b0));
      end
      if (side_rd_valid_o) begin
        assert (side_rd_cmd_o == tpu_pkg::ub_rd_cmd(
            tpu_pkg::UbAddrWidth'(f_side(f_side_ev)), tpu_pkg::UbAddrWidth'(f_rows(f_side_ev)),
            tpu_pkg::UbAddrWidth'(1), tpu_pkg::LanesWidth'(N), 1'b0));
      end
      assert (wr_cmd_valid_o == h_issue_q[2 * N + 4]);
      if (wr_cmd_valid_o) begin
        assert (wr_cmd_o == tpu_pkg::ub_wr_cmd(
            tpu_pkg::UbAddrWidth'(f_out(f_wr_ev)), tpu_pkg::UbAddrWidth'(f_rows(f_wr_ev)),
            tpu_pkg::UbAddrWidth'(1), tpu_pkg::LanesWidth'(f_n(f_wr_ev))));
      end
      if (v_now) assert (vpu_cfg_o == v_cfg);
      // invariants: the tracker's shift register of issues is the reference's; each event's
      // pointer is the allocation pointer less the matmuls that have not reached the event
      // (side: age 2N-1, vector unit: 2N+1, write: 2N+4, each read a cycle early); the valid
      // entries are the issues of the last 2N+5 cycles and the one whose rows are being
      // written, contiguous from the retire pointer up to the allocation pointer; the retire
      // flags are the write counter's last row; the counter counts at most UbDepth rows.
      assert (peek_issued == h_issue_q);
      assert (peek_side_ptr == ring_back(peek_alloc, issues_upto(peek_issued, 2 * N - 2)));
      assert (peek_vpu_ptr == ring_back(peek_alloc, issues_upto(peek_issued, 2 * N)));
      assert (peek_wr_ptr == ring_back(peek_alloc, issues_upto(peek_issued, 2 * N + 3)));
      assert (n_valid <= S);
      assert (32'(peek_alloc) == (32'(peek_ret) + n_valid) % S);
      for (int s = 0; s < S; s++) begin
        assert (peek_valid[s] == ((32'(s) + S - 32'(peek_ret)) % S < n_valid));
        assert (peek_retire_oh[s] == (peek_retire && 32'(peek_ret) == s));
      end
      assert (peek_retire == (peek_wr_left == CW'(1)));
      assert (32'(peek_wr_left) <= D);
    end
  end
endmodule
