// Formal properties of the unified buffer's command handling (rtl/mem/unified_buffer.sv),
// proved by scripts/formal.sh with a small Depth that is not a power of two, so that a bank
// address past the buffer is representable.
//
// Every input is free in every cycle: commands with any field values, data rows with or
// without a command, host requests anywhere, err_clear_i. A reference model written from
// docs/architecture.md ("Unified buffer": read ports, write port, host port, errors) decides
// what each bank may do:
//   - bound:   no bank is written or read at an address >= Depth, whatever the command;
//   - writes:  a bank is written only for a row of a legal write command (row start +
//              k*stride, lanes below `lanes`, bank (row + lane) mod N, that lane's data) or
//              for a host write in range, and exactly then: an illegal command touches
//              nothing; wr_row_valid_o / wr_row_addr_o report exactly those rows;
//   - errors:  an illegal read or write command, a data row without a command, or a host
//              request out of range raises err_o from the next cycle with the lowest code,
//              sticky until err_clear_i; nothing else raises it;
//   - ports:   the ready rules of the command, write and host ports, read rows presented
//              one per cycle from t+2 for the legal commands only, and one response per
//              host request from t+2, with the error bit when out of range.
// The banks' ports are internal: the script connects peek_* to the ports of every
// u_dut.gen_copy[p].gen_bank[b].u_ram (slice p*N+b) after flattening. The legality rule is
// the specification's arithmetic on exact values; the product (count-1)*stride is formed only
// when both factors are below Depth (otherwise it is at least Depth), so it stays small.
module ub_props #(
  parameter int ArrayDim      = 2,
  parameter int Depth         = 6,
  parameter int NumReadPorts  = 2,
  parameter bit GeneralStride = 1'b1
) (
  input logic                                            clk_i,
  input logic                                            rst_ni,
  input logic [NumReadPorts-1:0]                         rd_cmd_valid_i,
  input logic [NumReadPorts*tpu_pkg::UbRdCmdWidth-1:0]   rd_cmd_i,
  input logic                                            wr_cmd_valid_i,
  input tpu_pkg::ub_wr_cmd_t                             wr_cmd_i,
  input logic                                            wr_valid_i,
  input logic [ArrayDim*tpu_pkg::DataWidth-1:0]          wr_data_i,
  input logic                                            host_req_valid_i,
  input logic                                            host_req_we_i,
  input tpu_pkg::ub_addr_t                               host_req_addr_i,
  input logic [ArrayDim*tpu_pkg::DataWidth-1:0]          host_req_wdata_i,
  input logic                                            host_rsp_ready_i,
  input logic                                            err_clear_i
);
  localparam int N      = ArrayDim;
  localparam int P      = NumReadPorts;
  localparam int DW     = tpu_pkg::DataWidth;
  localparam int RowW   = N * DW;
  localparam int AW     = tpu_pkg::UbAddrWidth;
  localparam int LW     = tpu_pkg::LanesWidth;
  localparam int BA     = (Depth > 1) ? $clog2(Depth) : 1;  // a bank address
  localparam int RdCmdW = tpu_pkg::UbRdCmdWidth;

  logic [P-1:0]      rd_cmd_ready_o, rd_valid_o;
  logic [P*RowW-1:0] rd_data_o;
  logic              wr_cmd_ready_o, wr_row_valid_o;
  tpu_pkg::ub_addr_t wr_row_addr_o;
  logic              host_req_ready_o, host_rsp_valid_o, host_rsp_err_o;
  logic [RowW-1:0]   host_rsp_rdata_o;
  logic              err_o;
  logic [3:0]        err_code_o;

  unified_buffer #(
    .ArrayDim      (N),
    .Depth         (Depth),
    .NumReadPorts  (P),
    .GeneralStride (GeneralStride)
  ) u_dut (
    .clk_i,
    .rst_ni,
    .rd_cmd_valid_i,
    .rd_cmd_ready_o,
    .rd_cmd_i,
    .rd_valid_o,
    .rd_data_o,
    .wr_cmd_valid_i,
    .wr_cmd_ready_o,
    .wr_cmd_i,
    .wr_valid_i,
    .wr_data_i,
    .wr_row_valid_o,
    .wr_row_addr_o,
    .host_req_valid_i,
    .host_req_ready_o,
    .host_req_we_i,
    .host_req_addr_i,
    .host_req_wdata_i,
    .host_rsp_valid_o,
    .host_rsp_ready_i,
    .host_rsp_rdata_o,
    .host_rsp_err_o,
    .err_clear_i,
    .err_o,
    .err_code_o
  );

  logic init_q = 1'b1;
  always_ff @(posedge clk_i) init_q <= 1'b0;
  always_comb if (init_q) assume (!rst_ni);

  // The banks' ports (copy p, bank b at p*N+b).
  logic [P*N-1:0]    peek_we, peek_re;
  logic [P*N*BA-1:0] peek_waddr, peek_raddr;
  logic [P*N*DW-1:0] peek_wdata;

  // The engines' registers, for the induction invariants at the end only: k-induction cannot
  // bound a 16-bit row count by looking at ports. Their widths are unified_buffer's
  // (docs/architecture.md: address registers clog2(Depth) bits, a read port's row counter one
  // more with GeneralStride = 0, the write port's counter the field's 16); a changed width
  // makes the script's `connect` fail, not the proof pass.
  localparam int RotW    = tpu_pkg::idx_width(N);
  localparam int CntW    = GeneralStride ? AW : ((BA + 1 < AW) ? BA + 1 : AW);
  localparam int StrideW = GeneralStride ? BA : 1;
  logic [AW-1:0]        peek_wr_remaining;
  logic [BA-1:0]        peek_wr_addr;
  logic [StrideW-1:0]   peek_wr_stride;
  logic [N-1:0]         peek_wr_mask;
  logic                 peek_wr_discard, peek_host_inflight, peek_host_err;
  logic [P*CntW-1:0]    peek_rd_remaining;
  logic [P*BA-1:0]      peek_rd_cur;
  logic [P*StrideW-1:0] peek_rd_stride;
  logic [P*RotW-1:0]    peek_rd_elem;
  logic [P-1:0]         peek_rd_transpose;

  // ---------------------------------------------------------------------------------
  // The specification's legality rules.

  function automatic logic lanes_legal(input logic [LW-1:0] lanes);
    lanes_legal = lanes >= LW'(1) && 32'(lanes) <= N;
  endfunction

  // Rows start + k*stride for k < count, all below Depth (and GeneralStride = 0's limits).
  function automatic logic rows_legal(input logic [AW-1:0] start, input logic [AW-1:0] count,
                                      input logic [AW-1:0] stride);
    logic [AW-1:0] steps;
    steps = count - AW'(1);
    if (count == '0 || 32'(start) >= Depth)                       rows_legal = 1'b0;
    else if (!GeneralStride && (stride > AW'(1) || 32'(count) > Depth)) rows_legal = 1'b0;
    else if (steps == '0 || stride == '0)                          rows_legal = 1'b1;
    else if (32'(steps) >= Depth || 32'(stride) >= Depth)         rows_legal = 1'b0;
    else rows_legal = (2 * BA)'(steps[BA-1:0]) * (2 * BA)'(stride[BA-1:0])
                      <= (2 * BA)'(Depth - 1) - (2 * BA)'(start[BA-1:0]);
  endfunction

  function automatic logic rd_legal(input logic [RdCmdW-1:0] cmd);
    logic [AW-1:0] start, count, stride;
    start  = cmd[tpu_pkg::UbRdStartLsb +: AW];
    count  = cmd[tpu_pkg::UbRdCountLsb +: AW];
    stride = cmd[tpu_pkg::UbRdStrideLsb +: AW];
    if (!lanes_legal(cmd[tpu_pkg::UbRdLanesLsb +: LW])) begin
      rd_legal = 1'b0;
    end else if (cmd[tpu_pkg::UbRdTransposeLsb]) begin
      rd_legal = count != '0 && 32'(count) <= N && stride == AW'(1)
                 && 32'(start) + N - 1 < Depth;
    end else begin
      rd_legal = rows_legal(start, count, stride);
    end
  endfunction

  // ---------------------------------------------------------------------------------
  // Read ports: a command accepted in cycle t issues element i in cycle t+1+i and presents it
  // in t+2+i; an illegal one issues nothing.

  logic [P*AW-1:0]   r_left_q, r_row_q, r_stride_q;  // rows left, the next row, the stride
  logic [P*RotW-1:0] r_elem_q;                        // a transposed read's next element
  logic [P-1:0]      r_tr_q;
  logic [P-1:0]      r_issue, r_ready, r_accept, r_illegal, r_issued_q;
  always_comb begin
    for (int p = 0; p < P; p++) begin
      r_issue[p]   = r_left_q[p*AW +: AW] != '0;
      r_ready[p]   = r_left_q[p*AW +: AW] <= AW'(1);
      r_accept[p]  = rd_cmd_valid_i[p] && r_ready[p];
      r_illegal[p] = r_accept[p] && !rd_legal(rd_cmd_i[p*RdCmdW +: RdCmdW]);
    end
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      r_left_q   <= '0;
      r_row_q    <= '0;
      r_stride_q <= '0;
      r_elem_q   <= '0;
      r_tr_q     <= '0;
      r_issued_q <= '0;
    end else begin
      r_issued_q <= r_issue;
      for (int p = 0; p < P; p++) begin
        if (r_accept[p]) begin
          r_left_q[p*AW +: AW]   <= r_illegal[p] ? '0
                                    : rd_cmd_i[p*RdCmdW + tpu_pkg::UbRdCountLsb +: AW];
          r_row_q[p*AW +: AW]    <= rd_cmd_i[p*RdCmdW + tpu_pkg::UbRdStartLsb +: AW];
          r_stride_q[p*AW +: AW] <= rd_cmd_i[p*RdCmdW + tpu_pkg::UbRdStrideLsb +: AW];
          r_tr_q[p]              <= rd_cmd_i[p*RdCmdW + tpu_pkg::UbRdTransposeLsb];
          r_elem_q[p*RotW +: RotW] <= '0;
        end else if (r_issue[p]) begin
          r_left_q[p*AW +: AW] <= r_left_q[p*AW +: AW] - AW'(1);
          if (r_tr_q[p]) r_elem_q[p*RotW +: RotW] <= r_elem_q[p*RotW +: RotW] + RotW'(1);
          else           r_row_q[p*AW +: AW] <= r_row_q[p*AW +: AW] + r_stride_q[p*AW +: AW];
        end
      end
    end
  end

  // ---------------------------------------------------------------------------------
  // Write port.

  logic [AW-1:0] w_left_q, w_row_q, w_stride_q;
  logic [LW-1:0] w_lanes_q;
  logic          w_legal_q, w_active, w_ready, w_accept, w_row_now, w_store, w_illegal;
  assign w_active  = w_left_q != '0;
  assign w_ready   = !w_active || (w_left_q == AW'(1) && wr_valid_i);
  assign w_accept  = wr_cmd_valid_i && w_ready;
  assign w_row_now = wr_valid_i && w_active;
  assign w_store   = w_row_now && w_legal_q;
  assign w_illegal = w_accept && !(lanes_legal(wr_cmd_i.lanes)
                                   && rows_legal(wr_cmd_i.start, wr_cmd_i.count, wr_cmd_i.stride));
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      w_left_q   <= '0;
      w_row_q    <= '0;
      w_stride_q <= '0;
      w_lanes_q  <= '0;
      w_legal_q  <= 1'b0;
    end else if (w_accept) begin
      w_left_q   <= wr_cmd_i.count;
      w_row_q    <= wr_cmd_i.start;
      w_stride_q <= wr_cmd_i.stride;
      w_lanes_q  <= wr_cmd_i.lanes;
      w_legal_q  <= !w_illegal;
    end else if (w_row_now) begin
      w_left_q <= w_left_q - AW'(1);
      w_row_q  <= w_row_q + w_stride_q;
    end
  end

  // ---------------------------------------------------------------------------------
  // Host port: one request in flight, the response from t+2 until taken.

  logic h_inflight_q, h_rsp_q, h_err_q, h_ready, h_accept, h_in_range, h_write;
  assign h_in_range = 32'(host_req_addr_i) < Depth;
  assign h_ready    = !h_inflight_q && !h_rsp_q
                      && (host_req_we_i ? !(wr_valid_i && w_active) : !r_issue[0]);
  assign h_accept   = host_req_valid_i && h_ready;
  assign h_write    = h_accept && host_req_we_i && h_in_range;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      h_inflight_q <= 1'b0;
      h_rsp_q      <= 1'b0;
      h_err_q      <= 1'b0;
    end else begin
      if (h_accept) begin
        h_inflight_q <= 1'b1;
        h_err_q      <= !h_in_range;
      end else if (h_inflight_q) begin
        h_inflight_q <= 1'b0;
        h_rsp_q      <= 1'b1;
      end else if (h_rsp_q && host_rsp_ready_i) begin
        h_rsp_q <= 1'b0;
      end
    end
  end

  // ---------------------------------------------------------------------------------
  // Sticky first error, lowest code of a cycle.

  logic       e_q;
  logic [3:0] e_code_q, e_cause;
  always_comb begin
    e_cause = tpu_pkg::UbErrNone;
    if (h_accept && !h_in_range) e_cause = tpu_pkg::UbErrHostRange;
    if (wr_valid_i && !w_active) e_cause = tpu_pkg::UbErrWriteNoCmd;
    if (w_illegal)               e_cause = tpu_pkg::UbErrWriteRange;
    if (|r_illegal)              e_cause = tpu_pkg::UbErrReadRange;
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      e_q      <= 1'b0;
      e_code_q <= tpu_pkg::UbErrNone;
    end else if (err_clear_i) begin
      e_q      <= 1'b0;
      e_code_q <= tpu_pkg::UbErrNone;
    end else if (!e_q && e_cause != tpu_pkg::UbErrNone) begin
      e_q      <= 1'b1;
      e_code_q <= e_cause;
    end
  end

  // ---------------------------------------------------------------------------------
  // The banks: what each must do this cycle.

  logic [AW-1:0]   b_row;
  logic [RowW-1:0] b_data;
  logic [N-1:0]    b_we;
  logic [N*DW-1:0] b_wdata;
  always_comb begin
    int lane;
    b_row  = w_store ? w_row_q : host_req_addr_i;
    b_data = w_store ? wr_data_i : host_req_wdata_i;
    for (int b = 0; b < N; b++) begin
      // Bank b holds lane (b - row) mod N; only rows below Depth are written, so the row's
      // low bits are enough (and keep the division small).
      lane     = (b + N - 32'(b_row[BA-1:0] % BA'(N))) % N;
      b_we[b]  = w_store ? lane < 32'(w_lanes_q) : h_write;
      b_wdata[b*DW +: DW] = b_data[lane*DW +: DW];
    end
  end

  always_comb begin
    if (rst_ni) begin
      for (int p = 0; p < P; p++) begin
        for (int b = 0; b < N; b++) begin
          // bound
          if (peek_we[p*N + b]) assert (32'(peek_waddr[(p*N + b)*BA +: BA]) < Depth);
          if (peek_re[p*N + b]) assert (32'(peek_raddr[(p*N + b)*BA +: BA]) < Depth);
          // writes
          assert (peek_we[p*N + b] == b_we[b]);
          if (b_we[b]) begin
            assert (peek_waddr[(p*N + b)*BA +: BA] == b_row[BA-1:0]);
            assert (peek_wdata[(p*N + b)*DW +: DW] == b_wdata[b*DW +: DW]);
          end
        end
        // ports
        assert (rd_cmd_ready_o[p] == r_ready[p]);
        assert (rd_valid_o[p] == r_issued_q[p]);
      end
      assert (wr_row_valid_o == w_store);
      if (w_store) assert (wr_row_addr_o == w_row_q && 32'(w_row_q) < Depth);
      assert (wr_cmd_ready_o == w_ready);
      assert (host_req_ready_o == h_ready);
      assert (host_rsp_valid_o == h_rsp_q);
      if (h_rsp_q) assert (host_rsp_err_o == h_err_q);
      // errors
      assert (err_o == e_q);
      assert (err_code_o == e_code_q);
    end
  end

  // ---------------------------------------------------------------------------------
  // Induction invariants: the reference's own bookkeeping is consistent (the rows a legal
  // command has left are still in range), and the engines' registers hold what the reference
  // says. True in every reachable state; they only let k-induction close.

  always_comb begin
    if (rst_ni) begin
      assert (peek_wr_remaining == w_left_q);
      if (w_active) begin
        assert (peek_wr_discard == !w_legal_q);
        if (w_legal_q) begin
          assert (rows_legal(w_row_q, w_left_q, w_stride_q) && lanes_legal(w_lanes_q));
          assert (peek_wr_addr == w_row_q[BA-1:0]);
          if (w_left_q > AW'(1)) assert (peek_wr_stride == w_stride_q[StrideW-1:0]);
          for (int c = 0; c < N; c++) assert (peek_wr_mask[c] == (c < 32'(w_lanes_q)));
        end
      end
      assert (peek_host_inflight == h_inflight_q);
      if (h_inflight_q || h_rsp_q) assert (peek_host_err == h_err_q);
      for (int p = 0; p < P; p++) begin
        assert (AW'(peek_rd_remaining[p*CntW +: CntW]) == r_left_q[p*AW +: AW]);
        if (r_issue[p]) begin
          assert (peek_rd_transpose[p] == r_tr_q[p]);
          assert (peek_rd_cur[p*BA +: BA] == r_row_q[p*AW +: BA]);
          if (r_tr_q[p]) begin
            assert (32'(r_row_q[p*AW +: AW]) + N - 1 < Depth);
            assert (32'(r_elem_q[p*RotW +: RotW]) + 32'(r_left_q[p*AW +: AW]) <= N);
            assert (peek_rd_elem[p*RotW +: RotW] == r_elem_q[p*RotW +: RotW]);
            assert (peek_rd_stride[p*StrideW +: StrideW] == '0);
          end else begin
            assert (rows_legal(r_row_q[p*AW +: AW], r_left_q[p*AW +: AW], r_stride_q[p*AW +: AW]));
            if (r_left_q[p*AW +: AW] > AW'(1)) begin
              assert (peek_rd_stride[p*StrideW +: StrideW] == r_stride_q[p*AW +: StrideW]);
            end
          end
        end
      end
    end
  end
endmodule
