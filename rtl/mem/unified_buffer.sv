// Unified buffer: Depth rows of ArrayDim words for inputs, weights, biases, targets,
// activations and gradients. Read ports stream rows or columns (transposed reads) at
// one per cycle, a write port stores a stream of rows, and a host port reads and
// writes single rows. Every command's range is checked when it is accepted: an
// illegal one sets the sticky error and touches nothing.
//
// Element (row a, lane c) lives in bank (a + c) mod N at bank address a, so a row and
// a column of N consecutive rows both need one access per bank.
// Specification: docs/architecture.md, "Unified buffer".
module unified_buffer #(
  parameter int ArrayDim     = tpu_pkg::ArrayDim,
  parameter int Depth        = 256,
  parameter int NumReadPorts = 2,
  localparam int DataWidth = tpu_pkg::DataWidth,
  localparam int RowWidth  = ArrayDim * DataWidth,
  localparam int AddrWidth = (Depth > 1) ? $clog2(Depth) : 1,
  localparam int RotWidth  = tpu_pkg::idx_width(ArrayDim),
  localparam int RdCmdW    = tpu_pkg::UbRdCmdWidth,
  localparam int AW        = tpu_pkg::UbAddrWidth
) (
  input  logic                             clk_i,
  input  logic                             rst_ni,
  // Read ports, port p in slice p.
  input  logic [NumReadPorts-1:0]          rd_cmd_valid_i,
  output logic [NumReadPorts-1:0]          rd_cmd_ready_o,
  input  logic [NumReadPorts*RdCmdW-1:0]   rd_cmd_i,
  output logic [NumReadPorts-1:0]          rd_valid_o,
  output logic [NumReadPorts*RowWidth-1:0] rd_data_o,
  // Write port: a command, then its rows.
  input  logic                             wr_cmd_valid_i,
  output logic                             wr_cmd_ready_o,
  input  tpu_pkg::ub_wr_cmd_t              wr_cmd_i,
  input  logic                             wr_valid_i,
  input  logic [RowWidth-1:0]              wr_data_i,
  output logic                             wr_row_valid_o,  // a write-port row is stored now
  output tpu_pkg::ub_addr_t                wr_row_addr_o,   // at this row
  // Host port: one row per request, one response per request.
  input  logic                             host_req_valid_i,
  output logic                             host_req_ready_o,
  input  logic                             host_req_we_i,
  input  tpu_pkg::ub_addr_t                host_req_addr_i,
  input  logic [RowWidth-1:0]              host_req_wdata_i,
  output logic                             host_rsp_valid_o,
  input  logic                             host_rsp_ready_i,
  output logic [RowWidth-1:0]              host_rsp_rdata_o,
  output logic                             host_rsp_err_o,
  // Sticky first error.
  input  logic                             err_clear_i,
  output logic                             err_o,
  output logic [3:0]                       err_code_o
);
  localparam int N = ArrayDim;
  localparam bit NIsPow2 = (N & (N - 1)) == 0;

  // a mod N for a buffer address: a bit slice when N is a power of two.
  function automatic logic [RotWidth-1:0] mod_n(input logic [AW-1:0] a);
    if (NIsPow2) mod_n = a[RotWidth-1:0];
    else         mod_n = RotWidth'(a % AW'(N));
  endfunction

  // (x + y) mod N and (x - y) mod N for x, y already below N.
  function automatic logic [RotWidth-1:0] add_mod(input logic [RotWidth-1:0] x,
                                                  input logic [RotWidth-1:0] y);
    logic [RotWidth:0] sum;
    sum = {1'b0, x} + {1'b0, y};
    add_mod = (sum >= (RotWidth + 1)'(N)) ? RotWidth'(sum - (RotWidth + 1)'(N)) : RotWidth'(sum);
  endfunction

  function automatic logic [RotWidth-1:0] sub_mod(input logic [RotWidth-1:0] x,
                                                  input logic [RotWidth-1:0] y);
    sub_mod = (x >= y) ? RotWidth'(x - y) : RotWidth'((RotWidth + 1)'(x) + (RotWidth + 1)'(N) - (RotWidth + 1)'(y));
  endfunction

  // The last row a strided command touches is below Depth. The product (count-1)*stride
  // is only needed when both factors are below Depth, so it is an AddrWidth-square
  // shift-add (no DSP block spent on an address check).
  function automatic logic span_in_range(input logic [AW-1:0] start, input logic [AW-1:0] count,
                                         input logic [AW-1:0] stride);
    logic [AW-1:0]            steps;
    logic [2*AddrWidth+1:0]   last;
    steps = count - AW'(1);
    if (count == '0 || 32'(start) >= Depth) begin
      span_in_range = 1'b0;
    end else if (steps == '0 || stride == '0) begin
      span_in_range = 1'b1;
    end else if (32'(steps) >= Depth || 32'(stride) >= Depth) begin
      span_in_range = 1'b0;
    end else begin
      last = (2 * AddrWidth + 2)'(start);
      for (int k = 0; k < AddrWidth; k++) begin
        if (steps[k]) last = last + ((2 * AddrWidth + 2)'(stride[AddrWidth-1:0]) << k);
      end
      span_in_range = 64'(last) < 64'(Depth);
    end
  endfunction

  function automatic logic lanes_ok(input logic [tpu_pkg::LanesWidth-1:0] lanes);
    lanes_ok = lanes != '0 && 32'(lanes) <= N;
  endfunction

  function automatic logic rd_legal(input logic [AW-1:0] start, input logic [AW-1:0] count,
                                    input logic [AW-1:0] stride,
                                    input logic [tpu_pkg::LanesWidth-1:0] lanes,
                                    input logic transpose);
    if (!lanes_ok(lanes)) begin
      rd_legal = 1'b0;
    end else if (transpose) begin
      rd_legal = count != '0 && 32'(count) <= N && stride == AW'(1) && 32'(start) + N <= Depth;
    end else begin
      rd_legal = span_in_range(start, count, stride);
    end
  endfunction

  // ---------------------------------------------------------------------------------
  // Bank ports: one write port shared by every copy, one read port per copy.

  logic                     bank_we;
  logic [AddrWidth-1:0]     bank_waddr;
  logic [N-1:0]             bank_lane_we;   // per bank
  logic [N*DataWidth-1:0]   bank_wdata;     // per bank
  logic [NumReadPorts*N-1:0]           bank_re;     // copy p, bank b at p*N+b
  logic [NumReadPorts*N*AddrWidth-1:0] bank_raddr;
  logic [NumReadPorts*N*DataWidth-1:0] bank_rdata;

  for (genvar p = 0; p < NumReadPorts; p++) begin : gen_copy
    for (genvar b = 0; b < N; b++) begin : gen_bank
      ram_1r1w #(.Width(DataWidth), .Depth(Depth)) u_ram (
        .clk_i,
        .we_i    (bank_we && bank_lane_we[b]),
        .waddr_i (bank_waddr),
        .wdata_i (bank_wdata[b*DataWidth +: DataWidth]),
        .re_i    (bank_re[p*N + b]),
        .raddr_i (bank_raddr[(p*N + b)*AddrWidth +: AddrWidth]),
        .rdata_o (bank_rdata[(p*N + b)*DataWidth +: DataWidth])
      );
    end
  end

  // ---------------------------------------------------------------------------------
  // Write engine.

  tpu_pkg::ub_addr_t            wr_remaining_q, wr_addr_q, wr_stride_q;
  logic [tpu_pkg::LanesWidth-1:0] wr_lanes_q;
  logic                         wr_discard_q;
  logic                         wr_active, wr_row, wr_accept, wr_legal;

  assign wr_active      = wr_remaining_q != '0;
  assign wr_row         = wr_valid_i && wr_active;
  assign wr_cmd_ready_o = !wr_active || (wr_remaining_q == AW'(1) && wr_valid_i);
  assign wr_accept      = wr_cmd_valid_i && wr_cmd_ready_o;
  assign wr_legal       = lanes_ok(wr_cmd_i.lanes)
                          && span_in_range(wr_cmd_i.start, wr_cmd_i.count, wr_cmd_i.stride);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wr_remaining_q <= '0;
      wr_addr_q      <= '0;
      wr_stride_q    <= '0;
      wr_lanes_q     <= '0;
      wr_discard_q   <= 1'b0;
    end else if (wr_accept) begin
      wr_remaining_q <= wr_cmd_i.count;
      wr_addr_q      <= wr_cmd_i.start;
      wr_stride_q    <= wr_cmd_i.stride;
      wr_lanes_q     <= wr_cmd_i.lanes;
      wr_discard_q   <= !wr_legal;
    end else if (wr_row) begin
      wr_remaining_q <= wr_remaining_q - AW'(1);
      wr_addr_q      <= wr_addr_q + wr_stride_q;
    end
  end

  assign wr_row_valid_o = wr_row && !wr_discard_q;
  assign wr_row_addr_o  = wr_addr_q;

  // ---------------------------------------------------------------------------------
  // Host port.

  logic                 host_inflight_q, host_rd_q;
  logic                 host_rsp_valid_q, host_rsp_err_q;
  logic [RowWidth-1:0]  host_rsp_rdata_q;
  logic                 host_accept, host_in_range, host_write, host_read;
  logic [NumReadPorts-1:0] rd_issue;  // engine p issues an element this cycle

  assign host_in_range    = 32'(host_req_addr_i) < Depth;
  assign host_req_ready_o = !host_inflight_q && !host_rsp_valid_q
                            && (host_req_we_i ? !(wr_valid_i && wr_active) : !rd_issue[0]);
  assign host_accept      = host_req_valid_i && host_req_ready_o;
  assign host_write       = host_accept && host_req_we_i && host_in_range;
  assign host_read        = host_accept && !host_req_we_i && host_in_range;

  // The bank write port: the write engine's rows, else the host's.
  always_comb begin
    logic [AddrWidth-1:0]       row;
    logic [RowWidth-1:0]        data;
    logic [tpu_pkg::LanesWidth-1:0] lanes;
    logic [RotWidth-1:0]        rot;
    logic [RotWidth-1:0]        lane;
    if (wr_row) begin
      row   = wr_addr_q[AddrWidth-1:0];
      data  = wr_data_i;
      lanes = wr_lanes_q;
      rot   = mod_n(wr_addr_q);
    end else begin
      row   = host_req_addr_i[AddrWidth-1:0];
      data  = host_req_wdata_i;
      lanes = tpu_pkg::LanesWidth'(N);
      rot   = mod_n(host_req_addr_i);
    end
    bank_we    = (wr_row && !wr_discard_q) || host_write;
    bank_waddr = row;
    for (int b = 0; b < N; b++) begin
      lane = sub_mod(RotWidth'(b), rot);  // bank b holds lane (b - row) mod N of this row
      bank_wdata[b*DataWidth +: DataWidth] = data[32'(lane)*DataWidth +: DataWidth];
      bank_lane_we[b] = 32'(lane) < 32'(lanes);
    end
  end

  // ---------------------------------------------------------------------------------
  // Read engines.

  logic [NumReadPorts-1:0] rd_err;  // an illegal command accepted this cycle

  for (genvar p = 0; p < NumReadPorts; p++) begin : gen_read
    logic [RdCmdW-1:0]              cmd;
    tpu_pkg::ub_addr_t              cmd_start, cmd_count, cmd_stride;
    logic [tpu_pkg::LanesWidth-1:0] cmd_lanes;
    logic                           cmd_transpose;
    tpu_pkg::ub_addr_t              remaining_q, cur_q, start_q, stride_q;
    logic [tpu_pkg::LanesWidth-1:0] lanes_q, out_lanes_q;
    logic                           transpose_q, accept, legal;
    logic [RotWidth-1:0]            rot, out_rot_q;
    logic [N-1:0]                   re;
    logic [N*AddrWidth-1:0]         raddr;
    logic                           out_valid_q;
    logic [RowWidth-1:0]            rotated;

    assign cmd               = rd_cmd_i[p*RdCmdW +: RdCmdW];
    assign cmd_start         = cmd[tpu_pkg::UbRdStartLsb +: AW];
    assign cmd_count         = cmd[tpu_pkg::UbRdCountLsb +: AW];
    assign cmd_stride        = cmd[tpu_pkg::UbRdStrideLsb +: AW];
    assign cmd_lanes         = cmd[tpu_pkg::UbRdLanesLsb +: tpu_pkg::LanesWidth];
    assign cmd_transpose     = cmd[tpu_pkg::UbRdTransposeLsb];
    assign rd_cmd_ready_o[p] = remaining_q <= AW'(1);
    assign accept            = rd_cmd_valid_i[p] && rd_cmd_ready_o[p];
    assign legal             = rd_legal(cmd_start, cmd_count, cmd_stride, cmd_lanes, cmd_transpose);
    assign rd_err[p]         = accept && !legal;
    assign rd_issue[p]       = remaining_q != '0;

    // Row read: every bank at row cur; lane c comes from bank (cur + c) mod N.
    // Transposed read of element i = cur: lane r is (row start+r, lane i), in bank
    // (start + r + i) mod N at address start + r, so lane r comes from bank (r + rot) mod N
    // with rot = (start + i) mod N, and bank b reads row start + ((b - rot) mod N).
    always_comb begin
      rot = transpose_q ? add_mod(mod_n(start_q), RotWidth'(cur_q)) : mod_n(cur_q);
      for (int b = 0; b < N; b++) begin
        re[b] = rd_issue[p];
        if (transpose_q) begin
          raddr[b*AddrWidth +: AddrWidth] = AddrWidth'(start_q + AW'(sub_mod(RotWidth'(b), rot)));
        end else begin
          raddr[b*AddrWidth +: AddrWidth] = cur_q[AddrWidth-1:0];
        end
        if (p == 0 && !rd_issue[p]) begin  // port 0's copies serve the host when idle
          re[b]                            = host_read;
          raddr[b*AddrWidth +: AddrWidth] = host_req_addr_i[AddrWidth-1:0];
        end
      end
    end

    assign bank_re[p*N +: N]                            = re;
    assign bank_raddr[p*N*AddrWidth +: N*AddrWidth]     = raddr;

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        remaining_q <= '0;
        cur_q       <= '0;
        start_q     <= '0;
        stride_q    <= '0;
        lanes_q     <= '0;
        transpose_q <= 1'b0;
      end else if (accept && legal) begin
        remaining_q <= cmd_count;
        cur_q       <= cmd_transpose ? '0 : cmd_start;
        start_q     <= cmd_start;
        stride_q    <= cmd_stride;
        lanes_q     <= cmd_lanes;
        transpose_q <= cmd_transpose;
      end else if (rd_issue[p]) begin
        remaining_q <= remaining_q - AW'(1);
        cur_q       <= cur_q + (transpose_q ? AW'(1) : stride_q);
      end
    end

    // What the banks' output registers will hold next cycle, and how to route it.
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        out_valid_q <= 1'b0;
        out_rot_q   <= '0;
        out_lanes_q <= '0;
      end else begin
        out_valid_q <= rd_issue[p];
        if (rd_issue[p]) begin
          out_rot_q   <= rot;
          out_lanes_q <= lanes_q;
        end else if (p == 0 && host_read) begin
          out_rot_q   <= mod_n(host_req_addr_i);
          out_lanes_q <= tpu_pkg::LanesWidth'(N);
        end
      end
    end

    always_comb begin
      logic [RotWidth-1:0] bank;
      for (int c = 0; c < N; c++) begin
        bank = add_mod(RotWidth'(c), out_rot_q);
        rotated[c*DataWidth +: DataWidth] =
            (32'(c) < 32'(out_lanes_q))
            ? bank_rdata[(p*N + 32'(bank))*DataWidth +: DataWidth] : '0;
      end
    end

    assign rd_valid_o[p]                    = out_valid_q;
    assign rd_data_o[p*RowWidth +: RowWidth] = rotated;

    if (p == 0) begin : gen_host_rsp
      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          host_inflight_q  <= 1'b0;
          host_rd_q        <= 1'b0;
          host_rsp_valid_q <= 1'b0;
          host_rsp_err_q   <= 1'b0;
          host_rsp_rdata_q <= '0;
        end else begin
          if (host_accept) begin
            host_inflight_q <= 1'b1;
            host_rd_q       <= host_read;
            host_rsp_err_q  <= !host_in_range;
          end else if (host_inflight_q) begin
            host_inflight_q  <= 1'b0;
            host_rsp_valid_q <= 1'b1;
            host_rsp_rdata_q <= host_rd_q ? rotated : '0;
          end else if (host_rsp_valid_q && host_rsp_ready_i) begin
            host_rsp_valid_q <= 1'b0;
          end
        end
      end
    end
  end

  assign host_rsp_valid_o = host_rsp_valid_q;
  assign host_rsp_rdata_o = host_rsp_rdata_q;
  assign host_rsp_err_o   = host_rsp_err_q;

  // ---------------------------------------------------------------------------------
  // Sticky first error; the lowest code wins within a cycle.

  logic       err_q;
  logic [3:0] err_code_q, err_new;

  always_comb begin
    err_new = tpu_pkg::UbErrNone;
    if (host_accept && !host_in_range)  err_new = tpu_pkg::UbErrHostRange;
    if (wr_valid_i && !wr_active)       err_new = tpu_pkg::UbErrWriteNoCmd;
    if (wr_accept && !wr_legal)         err_new = tpu_pkg::UbErrWriteRange;
    if (|rd_err)                        err_new = tpu_pkg::UbErrReadRange;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      err_q      <= 1'b0;
      err_code_q <= tpu_pkg::UbErrNone;
    end else if (err_clear_i) begin
      err_q      <= 1'b0;
      err_code_q <= tpu_pkg::UbErrNone;
    end else if (!err_q && err_new != tpu_pkg::UbErrNone) begin
      err_q      <= 1'b1;
      err_code_q <= err_new;
    end
  end

  assign err_o      = err_q;
  assign err_code_o = err_code_q;

`ifndef SYNTHESIS
  initial begin
    if (Depth < 2 || Depth > 2 ** tpu_pkg::UbAddrWidth) begin
      $fatal(1, "unified_buffer: Depth %0d is outside 2..%0d", Depth, 2 ** tpu_pkg::UbAddrWidth);
    end
    if (NumReadPorts < 1) $fatal(1, "unified_buffer: NumReadPorts must be at least 1");
  end
`endif
endmodule
