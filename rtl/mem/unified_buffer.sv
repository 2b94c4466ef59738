// Unified buffer: Depth rows of ArrayDim words for inputs, weights, biases, targets,
// activations and gradients. Read ports stream rows or columns (transposed reads) at
// one per cycle, a write port stores a stream of rows, and a host port reads and
// writes single rows. Every command's range is checked when it is accepted: an
// illegal one sets the sticky error and touches nothing.
//
// Element (row a, lane c) lives in bank (a + c) mod N at bank address a, so a row and
// a column of N consecutive rows both need one access per bank.
// Specification: docs/architecture.md, "Unified buffer".
//
// Commands carry UbAddrWidth-bit fields, but a legal command only ever names rows below
// Depth: past the range checks every register is AddrWidth bits wide, and a read engine's
// row counter is AddrWidth + 1 bits when GeneralStride is 0 (count <= Depth).
module unified_buffer #(
  parameter int ArrayDim     = tpu_pkg::ArrayDim,
  parameter int Depth        = 256,
  parameter int NumReadPorts = 2,
  // 1: any stride. 0: the TPU's command set only, stride 0 or 1 and count at most Depth
  // (anything else is an illegal command): the range checks need no multiplier and the
  // read engines' counters fit the depth.
  parameter bit GeneralStride = 1'b1,
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
  localparam int N           = ArrayDim;
  localparam int LW          = tpu_pkg::LanesWidth;
  localparam bit NIsPow2     = (N & (N - 1)) == 0;
  localparam bit DepthIsPow2 = (Depth & (Depth - 1)) == 0;
  // A read engine's row counter: with general strides a stride-0 command may repeat a row
  // up to 2^UbAddrWidth - 1 times; otherwise count <= Depth.
  localparam int CntW        = GeneralStride ? AW : ((AddrWidth + 1 < AW) ? AddrWidth + 1 : AW);
  // The stride register: a stride of Depth or more is legal only with count 1, whose row
  // address never adds it, so its low AddrWidth bits are enough.
  localparam int StrideW     = GeneralStride ? AddrWidth : 1;
  // Transposed reads of a power-of-two N: bank addresses are start's high bits (or one
  // more) above a lane index, with no adder per bank.
  localparam bit FastTranspose = NIsPow2 && AddrWidth > RotWidth;

  // a mod N for a row address: a bit slice when N is a power of two.
  function automatic logic [RotWidth-1:0] mod_n(input logic [AddrWidth-1:0] a);
    if (NIsPow2) mod_n = RotWidth'(a);
    else         mod_n = RotWidth'(a % AddrWidth'(N));
  endfunction

  // (x + y) mod N and (x - y) mod N for x, y already below N.
  function automatic logic [RotWidth-1:0] add_mod(input logic [RotWidth-1:0] x,
                                                  input logic [RotWidth-1:0] y);
    logic [RotWidth:0] sum;
    sum = {1'b0, x} + {1'b0, y};
    if (NIsPow2) add_mod = RotWidth'(sum);
    else add_mod = (sum >= (RotWidth + 1)'(N)) ? RotWidth'(sum - (RotWidth + 1)'(N))
                                               : RotWidth'(sum);
  endfunction

  function automatic logic [RotWidth-1:0] sub_mod(input logic [RotWidth-1:0] x,
                                                  input logic [RotWidth-1:0] y);
    if (NIsPow2)     sub_mod = x - y;
    else if (x >= y) sub_mod = RotWidth'(x - y);
    else             sub_mod = RotWidth'((RotWidth + 1)'(x) + (RotWidth + 1)'(N) - (RotWidth + 1)'(y));
  endfunction

  // x <= k for a constant k: a chain of ANDs and ORs from the least significant bit up, which
  // the LUTs absorb (Yosys maps a comparison with a constant to a carry chain instead).
  function automatic logic le_const(input logic [31:0] x, input int unsigned k);
    le_const = 1'b1;
    for (int i = 0; i < 32; i++) begin
      if (k[i]) le_const = !x[i] || le_const;
      else      le_const = !x[i] && le_const;
    end
  endfunction

  // A command field below Depth: the bits above AddrWidth clear (an OR), the rest compared
  // only when Depth is not a power of two.
  function automatic logic below_depth(input logic [AW-1:0] x);
    below_depth = (x >> AddrWidth) == '0
                  && (DepthIsPow2 || le_const(32'(x[AddrWidth-1:0]), Depth - 1));
  endfunction

  function automatic logic at_most_depth(input logic [AW-1:0] x);
    at_most_depth = le_const(32'(x), Depth);
  endfunction

  // A row read's (and the write port's) range rule: count >= 1 and the last row it touches,
  // start + (count-1)*stride, below Depth. With general strides the product is only needed
  // when both factors are below Depth, so it is an AddrWidth-square shift-add (no DSP block
  // spent on an address check); with strides 0 and 1 it is an add.
  function automatic logic row_ok(input logic [AW-1:0] start, input logic [AW-1:0] count,
                                  input logic [AW-1:0] stride);
    logic [AW-1:0]          steps;
    logic [2*AddrWidth+1:0] last;
    logic [AddrWidth+1:0]   past_last;
    steps     = count - AW'(1);
    last      = '0;
    past_last = '0;
    row_ok    = 1'b0;
    if (count == '0 || !below_depth(start)) begin
      row_ok = 1'b0;
    end else if (GeneralStride) begin
      if (steps == '0 || stride == '0) begin
        row_ok = 1'b1;
      end else if (below_depth(steps) && below_depth(stride)) begin
        last = (2 * AddrWidth + 2)'(start[AddrWidth-1:0]);
        for (int k = 0; k < AddrWidth; k++) begin
          if (steps[k]) last = last + ((2 * AddrWidth + 2)'(stride[AddrWidth-1:0]) << k);
        end
        row_ok = 64'(last) < 64'(Depth);
      end
    end else if ((stride >> 1) == '0 && at_most_depth(count)) begin
      // Stride 0 repeats row start; stride 1 covers start .. start + count - 1.
      past_last = (AddrWidth + 2)'(start[AddrWidth-1:0]) + (AddrWidth + 2)'(count[CntW-1:0]);
      row_ok    = !stride[0] || le_const(32'(past_last), Depth);
    end
  endfunction

  function automatic logic lanes_ok(input logic [LW-1:0] lanes);
    lanes_ok = lanes != '0 && le_const(32'(lanes), N);
  endfunction

  // Lane c of a command with `lanes` (1..N) lanes is live when c < lanes.
  function automatic logic [N-1:0] lane_mask(input logic [LW-1:0] lanes);
    for (int c = 0; c < N; c++) lane_mask[c] = c == 0 || !le_const(32'(lanes), c);
  endfunction

  function automatic logic rd_legal(input logic [AW-1:0] start, input logic [AW-1:0] count,
                                    input logic [AW-1:0] stride, input logic [LW-1:0] lanes,
                                    input logic transpose);
    if (!lanes_ok(lanes)) begin
      rd_legal = 1'b0;
    end else if (transpose) begin
      rd_legal = count != '0 && le_const(32'(count), N) && stride == AW'(1) && Depth >= N
                 && le_const(32'(start), Depth - N);
    end else begin
      rd_legal = row_ok(start, count, stride);
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
  // Write engine. An illegal command still consumes its count rows, so the row counter
  // keeps the field's width.

  tpu_pkg::ub_addr_t     wr_remaining_q;
  logic [AddrWidth-1:0]  wr_addr_q;
  logic [StrideW-1:0]    wr_stride_q;
  logic [N-1:0]          wr_mask_q;
  logic                  wr_discard_q;
  logic                  wr_active, wr_row, wr_accept, wr_legal;

  assign wr_active      = wr_remaining_q != '0;
  assign wr_row         = wr_valid_i && wr_active;
  assign wr_cmd_ready_o = !wr_active || (wr_remaining_q == AW'(1) && wr_valid_i);
  assign wr_accept      = wr_cmd_valid_i && wr_cmd_ready_o;
  assign wr_legal       = lanes_ok(wr_cmd_i.lanes)
                          && row_ok(wr_cmd_i.start, wr_cmd_i.count, wr_cmd_i.stride);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wr_remaining_q <= '0;
      wr_addr_q      <= '0;
      wr_stride_q    <= '0;
      wr_mask_q      <= '0;
      wr_discard_q   <= 1'b0;
    end else if (wr_accept) begin
      wr_remaining_q <= wr_cmd_i.count;
      wr_addr_q      <= wr_cmd_i.start[AddrWidth-1:0];
      wr_stride_q    <= wr_cmd_i.stride[StrideW-1:0];
      wr_mask_q      <= lane_mask(wr_cmd_i.lanes);
      wr_discard_q   <= !wr_legal;
    end else if (wr_row) begin
      wr_remaining_q <= wr_remaining_q - AW'(1);
      wr_addr_q      <= wr_addr_q + AddrWidth'(wr_stride_q);
    end
  end

  assign wr_row_valid_o = wr_row && !wr_discard_q;
  assign wr_row_addr_o  = AW'(wr_addr_q);

  // ---------------------------------------------------------------------------------
  // Host port.

  logic                 host_inflight_q, host_rd_q;
  logic                 host_rsp_valid_q, host_rsp_err_q;
  logic [RowWidth-1:0]  host_rsp_rdata_q;
  logic                 host_accept, host_in_range, host_write, host_read;
  logic [NumReadPorts-1:0] rd_issue;  // engine p issues an element this cycle

  assign host_in_range    = below_depth(host_req_addr_i);
  // Not ready while the reset is held: the banks have no reset, so a request taken then would
  // write a row that no response answers.
  assign host_req_ready_o = rst_ni && !host_inflight_q && !host_rsp_valid_q
                            && (host_req_we_i ? !(wr_valid_i && wr_active) : !rd_issue[0]);
  assign host_accept      = host_req_valid_i && host_req_ready_o;
  assign host_write       = host_accept && host_req_we_i && host_in_range;
  assign host_read        = host_accept && !host_req_we_i && host_in_range;

  // The bank write port: the write engine's rows, else the host's.
  always_comb begin
    logic [RowWidth-1:0] data;
    logic [N-1:0]        mask;
    logic [RotWidth-1:0] rot;
    logic [RotWidth-1:0] lane;
    if (wr_row) begin
      bank_waddr = wr_addr_q;
      data       = wr_data_i;
      mask       = wr_mask_q;
    end else begin
      bank_waddr = host_req_addr_i[AddrWidth-1:0];
      data       = host_req_wdata_i;
      mask       = '1;
    end
    rot     = mod_n(bank_waddr);
    bank_we = (wr_row && !wr_discard_q) || host_write;
    for (int b = 0; b < N; b++) begin
      lane = sub_mod(RotWidth'(b), rot);  // bank b holds lane (b - row) mod N of this row
      bank_wdata[b*DataWidth +: DataWidth] = data[32'(lane)*DataWidth +: DataWidth];
      bank_lane_we[b] = mask[lane];
    end
  end

  // ---------------------------------------------------------------------------------
  // Read engines.

  logic [NumReadPorts-1:0] rd_err;  // an illegal command accepted this cycle

  for (genvar p = 0; p < NumReadPorts; p++) begin : gen_read
    logic [RdCmdW-1:0]    cmd;
    logic [AW-1:0]        cmd_start, cmd_count, cmd_stride;
    logic [LW-1:0]        cmd_lanes;
    logic                 cmd_transpose, accept, legal;
    // A row read walks cur_q by stride_q. A transposed read keeps cur_q = start (its
    // stride register is 0) and counts its element in elem_q.
    logic [CntW-1:0]      remaining_q;
    logic [AddrWidth-1:0] cur_q;
    logic [StrideW-1:0]   stride_q;
    logic [RotWidth-1:0]  elem_q;
    logic [N-1:0]         mask_q, out_mask_q;
    logic                 transpose_q, out_valid_q;
    logic [RotWidth-1:0]  rot, out_rot_q;
    logic [N-1:0]         re;
    logic [N*AddrWidth-1:0] raddr;
    logic [RowWidth-1:0]  rotated;

    assign cmd               = rd_cmd_i[p*RdCmdW +: RdCmdW];
    assign cmd_start         = cmd[tpu_pkg::UbRdStartLsb +: AW];
    assign cmd_count         = cmd[tpu_pkg::UbRdCountLsb +: AW];
    assign cmd_stride        = cmd[tpu_pkg::UbRdStrideLsb +: AW];
    assign cmd_lanes         = cmd[tpu_pkg::UbRdLanesLsb +: LW];
    assign cmd_transpose     = cmd[tpu_pkg::UbRdTransposeLsb];
    assign rd_cmd_ready_o[p] = (remaining_q >> 1) == '0;  // at most one row left
    assign accept            = rd_cmd_valid_i[p] && rd_cmd_ready_o[p];
    assign legal             = rd_legal(cmd_start, cmd_count, cmd_stride, cmd_lanes, cmd_transpose);
    assign rd_err[p]         = accept && !legal;
    assign rd_issue[p]       = remaining_q != '0;

    // Row read: every bank at row cur; lane c comes from bank (cur + c) mod N.
    // Transposed read of element i: lane r is (row start+r, lane i), in bank
    // (start + r + i) mod N at address start + r, so lane r comes from bank (r + rot) mod N
    // with rot = (start + i) mod N, and bank b reads row start + ((b - rot) mod N).
    // For a power-of-two N, start + ((b - rot) mod N) is {hi, k} or {hi + 1, k} with hi the
    // high bits of start and k = (b - i) mod N: the second when k < start mod N.
    localparam int HiW = FastTranspose ? AddrWidth - RotWidth : 1;
    logic [HiW-1:0] blk_hi, blk_hi_next;

    if (FastTranspose) begin : gen_blk_hi
      assign blk_hi = cur_q[AddrWidth-1:RotWidth];
    end else begin : gen_no_blk_hi
      assign blk_hi = '0;  // unused: the banks' addresses take an adder each
    end
    assign blk_hi_next = blk_hi + HiW'(1);

    always_comb begin
      logic [RotWidth-1:0] k;
      rot = add_mod(mod_n(cur_q), elem_q);  // elem_q is 0 during a row read
      for (int b = 0; b < N; b++) begin
        k     = sub_mod(RotWidth'(b), elem_q);
        re[b] = rd_issue[p];
        raddr[b*AddrWidth +: AddrWidth] = cur_q;
        if (transpose_q) begin
          if (FastTranspose) begin
            raddr[b*AddrWidth +: AddrWidth] =
                AddrWidth'({(k < mod_n(cur_q)) ? blk_hi_next : blk_hi, k});
          end else begin
            raddr[b*AddrWidth +: AddrWidth] = cur_q + AddrWidth'(sub_mod(RotWidth'(b), rot));
          end
        end
        if (p == 0 && !rd_issue[p]) begin  // port 0's copies serve the host when idle
          re[b]                           = host_read;
          raddr[b*AddrWidth +: AddrWidth] = host_req_addr_i[AddrWidth-1:0];
        end
      end
    end

    // The next row of a row read. With strides 0 and 1 it is cur + 1, whose high bits are the
    // transposed read's hi + 1: one incrementer serves both.
    logic [AddrWidth-1:0] cur_next;
    if (!GeneralStride && FastTranspose) begin : gen_cur_inc
      logic [RotWidth-1:0] cur_lo;
      assign cur_lo   = cur_q[RotWidth-1:0];
      assign cur_next = !stride_q[0] ? cur_q
                      : (&cur_lo)    ? AddrWidth'({blk_hi_next, RotWidth'(0)})
                                     : AddrWidth'({blk_hi, RotWidth'(cur_lo + RotWidth'(1))});
    end else begin : gen_cur_add
      assign cur_next = cur_q + AddrWidth'(stride_q);
    end

    assign bank_re[p*N +: N]                        = re;
    assign bank_raddr[p*N*AddrWidth +: N*AddrWidth] = raddr;

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        remaining_q <= '0;
        cur_q       <= '0;
        stride_q    <= '0;
        elem_q      <= '0;
        mask_q      <= '0;
        transpose_q <= 1'b0;
      end else if (rd_cmd_ready_o[p]) begin
        // A free port takes the command's fields whether or not one comes: they matter only
        // while rows are left, and only the row count waits for valid and legality (an illegal
        // command loads no rows). So the command's valid, late from the control unit's issue,
        // reaches one register's input and no enable.
        remaining_q <= accept && legal ? cmd_count[CntW-1:0] : '0;
        cur_q       <= cmd_start[AddrWidth-1:0];
        stride_q    <= cmd_transpose ? '0 : cmd_stride[StrideW-1:0];
        elem_q      <= '0;
        mask_q      <= lane_mask(cmd_lanes);
        transpose_q <= cmd_transpose;
      end else if (rd_issue[p]) begin
        remaining_q <= remaining_q - CntW'(1);
        cur_q       <= cur_next;
        if (transpose_q) elem_q <= elem_q + RotWidth'(1);
      end
    end

    // What the banks' output registers will hold next cycle, and how to route it.
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        out_valid_q <= 1'b0;
        out_rot_q   <= '0;
        out_mask_q  <= '0;
      end else begin
        out_valid_q <= rd_issue[p];
        if (rd_issue[p]) begin
          out_rot_q  <= rot;
          out_mask_q <= mask_q;
        end else if (p == 0 && host_read) begin
          out_rot_q  <= mod_n(host_req_addr_i[AddrWidth-1:0]);
          out_mask_q <= '1;
        end
      end
    end

    always_comb begin
      logic [RotWidth-1:0] bank;
      for (int c = 0; c < N; c++) begin
        bank = add_mod(RotWidth'(c), out_rot_q);
        rotated[c*DataWidth +: DataWidth] =
            out_mask_q[c] ? bank_rdata[(p*N + 32'(bank))*DataWidth +: DataWidth] : '0;
      end
    end

    assign rd_valid_o[p]                     = out_valid_q;
    assign rd_data_o[p*RowWidth +: RowWidth] = rotated;

    if (p == 0) begin : gen_host_rsp
      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          host_inflight_q  <= 1'b0;
          host_rd_q        <= 1'b0;
          host_rsp_valid_q <= 1'b0;
          host_rsp_err_q   <= 1'b0;
        end else begin
          if (host_accept) begin
            host_inflight_q <= 1'b1;
            host_rd_q       <= host_read;
            host_rsp_err_q  <= !host_in_range;
          end else if (host_inflight_q) begin
            host_inflight_q  <= 1'b0;
            host_rsp_valid_q <= 1'b1;
          end else if (host_rsp_valid_q && host_rsp_ready_i) begin
            host_rsp_valid_q <= 1'b0;
          end
        end
      end

      // Data only, defined while host_rsp_valid_o is high: no reset, so the zero of a write's
      // response is the flop's synchronous reset rather than a LUT per bit.
      always_ff @(posedge clk_i) begin
        if (host_inflight_q) begin  // no request is accepted while one is in flight
          if (host_rd_q) host_rsp_rdata_q <= rotated;
          else           host_rsp_rdata_q <= '0;
        end
      end
    end
  end

  assign host_rsp_valid_o = host_rsp_valid_q;
  assign host_rsp_rdata_o = host_rsp_rdata_q;
  assign host_rsp_err_o   = host_rsp_err_q;

  // ---------------------------------------------------------------------------------
  // Sticky first error; the lowest code wins within a cycle.
  //
  // This cycle's causes are registered as they are (the range checks, the deepest logic here,
  // end at a flop), and err_o / err_code_o combine them with the sticky register: an error
  // still shows from the cycle after its cause. err_code_q is UbErrNone whenever err_q is low.

  logic [NumReadPorts-1:0] rd_err_q;
  logic                    wr_err_q, no_cmd_err_q, host_err_q, err_q;
  logic [3:0]              err_code_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rd_err_q     <= '0;
      wr_err_q     <= 1'b0;
      no_cmd_err_q <= 1'b0;
      host_err_q   <= 1'b0;
      err_q        <= 1'b0;
      err_code_q   <= tpu_pkg::UbErrNone;
    end else begin
      // err_clear_i drops an error of its own cycle too.
      rd_err_q     <= err_clear_i ? '0 : rd_err;
      wr_err_q     <= !err_clear_i && wr_accept && !wr_legal;
      no_cmd_err_q <= !err_clear_i && wr_valid_i && !wr_active;
      host_err_q   <= !err_clear_i && host_accept && !host_in_range;
      err_q        <= !err_clear_i && err_o;
      err_code_q   <= err_clear_i ? tpu_pkg::UbErrNone : err_code_o;
    end
  end

  always_comb begin
    err_o      = err_q || |rd_err_q || wr_err_q || no_cmd_err_q || host_err_q;
    err_code_o = tpu_pkg::UbErrNone;
    if (host_err_q)   err_code_o = tpu_pkg::UbErrHostRange;
    if (no_cmd_err_q) err_code_o = tpu_pkg::UbErrWriteNoCmd;
    if (wr_err_q)     err_code_o = tpu_pkg::UbErrWriteRange;
    if (|rd_err_q)    err_code_o = tpu_pkg::UbErrReadRange;
    if (err_q)        err_code_o = err_code_q;  // the first error is kept
  end

`ifndef SYNTHESIS
  initial begin
    if (Depth < 2 || Depth > 2 ** tpu_pkg::UbAddrWidth) begin
      $fatal(1, "unified_buffer: Depth %0d is outside 2..%0d", Depth, 2 ** tpu_pkg::UbAddrWidth);
    end
    if (NumReadPorts < 1) $fatal(1, "unified_buffer: NumReadPorts must be at least 1");
  end
`endif
endmodule
