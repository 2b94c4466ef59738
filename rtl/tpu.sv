// The TPU: systolic array, vector unit, unified buffer (four read ports), gradient-descent
// unit and control unit, with an instruction memory and one host port that reaches the
// buffer, the instruction memory and the control registers.
// Specification: docs/architecture.md ("The TPU") and docs/isa.md.
module tpu #(
  parameter int ArrayDim  = tpu_pkg::ArrayDim,
  parameter int UbDepth   = 256,
  parameter int ImemDepth = 256,
  localparam int DataWidth = tpu_pkg::DataWidth,
  localparam int RowWidth  = ArrayDim * DataWidth,
  localparam int HostWidth = (RowWidth > 64) ? RowWidth : 64,
  localparam int ImemAW    = (ImemDepth > 1) ? $clog2(ImemDepth) : 1,
  localparam int IdxWidth  = tpu_pkg::idx_width(ArrayDim),
  localparam int RdCmdW    = tpu_pkg::UbRdCmdWidth
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,
  // Host port: space 0 buffer rows, 1 instruction words, 2 control registers.
  input  logic                 host_req_valid_i,
  output logic                 host_req_ready_o,
  input  logic                 host_req_we_i,
  input  logic [1:0]           host_req_space_i,
  input  tpu_pkg::ub_addr_t    host_req_addr_i,
  input  logic [HostWidth-1:0] host_req_wdata_i,
  output logic                 host_rsp_valid_o,
  input  logic                 host_rsp_ready_i,
  output logic [HostWidth-1:0] host_rsp_rdata_o,
  output logic                 host_rsp_err_o,
  // What the testbench compares every cycle (and the waves show).
  output logic                 dbg_array_valid_o,
  output logic [RowWidth-1:0]  dbg_array_data_o,
  output logic                 dbg_vpu_valid_o,
  output logic [RowWidth-1:0]  dbg_vpu_data_o,
  output logic                 dbg_wr_valid_o,
  output tpu_pkg::ub_addr_t    dbg_wr_addr_o,
  output logic [RowWidth-1:0]  dbg_wr_data_o,
  output logic [15:0]          dbg_pc_o,
  output logic [2:0]           dbg_state_o,
  output logic [3:0]           dbg_err_o
);
  localparam int Space0 = 0;
  localparam int Space1 = 1;
  localparam int Space2 = 2;

  // ---------------------------------------------------------------------------------
  // Host port: one request in flight; spaces 1 and 2 answered here, space 0 by the buffer.

  logic                 busy_q, own_rsp_valid_q, own_rsp_err_q, own_pending_q, own_err_q;
  logic [HostWidth-1:0] own_rsp_data_q, own_data_q;
  logic                 own_read_imem_q;
  logic                 ub_host_ready, ub_host_rsp_valid, ub_host_rsp_err;
  logic [RowWidth-1:0]  ub_host_rsp_data;
  logic                 accept, to_ub, to_imem, to_csr;
  logic [2:0]           state;
  logic [15:0]          pc;
  logic [3:0]           err;
  logic [31:0]          cycles;
  logic                 active;  // Running or Sync: instruction memory locked

  assign active = state == tpu_pkg::StRunning || state == tpu_pkg::StSync;
  assign to_ub   = host_req_space_i == 2'(Space0);
  assign to_imem = host_req_space_i == 2'(Space1);
  assign to_csr  = host_req_space_i == 2'(Space2);
  assign host_req_ready_o = !busy_q && (!to_ub || ub_host_ready);
  assign accept = host_req_valid_i && host_req_ready_o;

  // Instruction-memory and CSR requests: legality and effects.
  logic imem_ok, imem_write, imem_read, csr_ok, start, cont;
  assign imem_ok    = 32'(host_req_addr_i) < ImemDepth && !active;
  assign imem_write = accept && to_imem && host_req_we_i && imem_ok;
  assign imem_read  = accept && to_imem && !host_req_we_i && imem_ok;

  always_comb begin
    csr_ok = 1'b0;
    if (host_req_we_i) begin
      // CSR 0: bit 0 starts (not while Running or in Sync); else bit 1 continues (only in
      // Sync); neither is an error. Higher bits are ignored.
      if (host_req_addr_i == '0) begin
        if (host_req_wdata_i[0])      csr_ok = !active;
        else if (host_req_wdata_i[1]) csr_ok = state == tpu_pkg::StSync;
      end
    end else begin
      csr_ok = host_req_addr_i <= 16'd1;
    end
  end
  assign start = accept && to_csr && host_req_we_i && csr_ok && host_req_wdata_i[0];
  assign cont  = accept && to_csr && host_req_we_i && csr_ok && !host_req_wdata_i[0];

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q          <= 1'b0;
      own_pending_q   <= 1'b0;
      own_err_q       <= 1'b0;
      own_data_q      <= '0;
      own_read_imem_q <= 1'b0;
      own_rsp_valid_q <= 1'b0;
      own_rsp_err_q   <= 1'b0;
      own_rsp_data_q  <= '0;
    end else begin
      if (accept) busy_q <= 1'b1;
      else if (host_rsp_valid_o && host_rsp_ready_i) busy_q <= 1'b0;
      // Cycle t: accepted; t+1: pending; t+2: the response.
      own_pending_q <= accept && !to_ub;
      if (accept && !to_ub) begin
        own_err_q       <= to_imem ? !imem_ok : !(to_csr && csr_ok);  // space 3: an error
        own_read_imem_q <= imem_read;
        own_data_q      <= '0;
        if (to_csr && !host_req_we_i && csr_ok) begin
          own_data_q <= (host_req_addr_i == '0)
                        ? HostWidth'({err, 1'b0, state, pc})
                        : HostWidth'(cycles);
        end
      end
      if (own_pending_q) begin
        own_rsp_valid_q <= 1'b1;
        own_rsp_err_q   <= own_err_q;
        own_rsp_data_q  <= own_read_imem_q ? HostWidth'(imem_rdata) : own_data_q;
      end else if (own_rsp_valid_q && host_rsp_ready_i) begin
        own_rsp_valid_q <= 1'b0;
      end
    end
  end

  assign host_rsp_valid_o = ub_host_rsp_valid || own_rsp_valid_q;
  assign host_rsp_err_o   = ub_host_rsp_valid ? ub_host_rsp_err : own_rsp_err_q;
  assign host_rsp_rdata_o = ub_host_rsp_valid ? HostWidth'(ub_host_rsp_data) : own_rsp_data_q;

  // ---------------------------------------------------------------------------------
  // Instruction memory.

  tpu_pkg::instr_t     imem_rdata;
  logic [ImemAW-1:0]   cu_imem_raddr;

  ram_1r1w #(.Width(64), .Depth(ImemDepth)) u_imem (
    .clk_i,
    .we_i    (imem_write),
    .waddr_i (host_req_addr_i[ImemAW-1:0]),
    .wdata_i (host_req_wdata_i[63:0]),
    .re_i    (1'b1),
    .raddr_i (imem_read ? host_req_addr_i[ImemAW-1:0] : cu_imem_raddr),
    .rdata_o (imem_rdata)
  );

  // ---------------------------------------------------------------------------------
  // Datapath.

  logic [3:0]              ub_rd_cmd_valid, ub_rd_cmd_ready, ub_rd_valid;
  logic [4*RdCmdW-1:0]     ub_rd_cmd;
  logic [4*RowWidth-1:0]   ub_rd_data;
  logic                    ub_wr_cmd_valid, ub_wr_cmd_ready, ub_wr_valid;
  tpu_pkg::ub_wr_cmd_t     ub_wr_cmd;
  logic [RowWidth-1:0]     ub_wr_data;
  logic                    ub_err;

  // Control unit's side.
  logic [3:0]              cu_rd_valid;
  logic [4*RdCmdW-1:0]     cu_rd_cmd;
  logic                    cu_wr_cmd_valid;
  tpu_pkg::ub_wr_cmd_t     cu_wr_cmd;
  logic                    w_valid, in_valid, in_switch;
  logic [IdxWidth-1:0]     w_row;
  tpu_pkg::vpu_cfg_t       vpu_cfg;

  // Gradient-descent unit's side.
  logic                    sgd_cmd_valid, sgd_cmd_ready, sgd_busy, seed_valid;
  tpu_pkg::sgd_cmd_t       sgd_cmd;
  logic [31:0]             seed;
  logic [1:0]              sgd_rd_valid;
  logic [2*RdCmdW-1:0]     sgd_rd_cmd;
  logic                    sgd_wr_cmd_valid, sgd_wr_valid;
  tpu_pkg::ub_wr_cmd_t     sgd_wr_cmd;
  logic [RowWidth-1:0]     sgd_wr_data;

  logic                    arr_valid, vpu_valid;
  logic [RowWidth-1:0]     arr_data, vpu_data;
  logic [RowWidth-1:0]     vpu_bias, vpu_side;

  control_unit #(.ArrayDim(ArrayDim), .UbDepth(UbDepth), .ImemDepth(ImemDepth)) u_ctrl (
    .clk_i,
    .rst_ni,
    .imem_raddr_o      (cu_imem_raddr),
    .imem_rdata_i      (imem_rdata),
    .start_i           (start),
    .continue_i        (cont),
    .state_o           (state),
    .pc_o              (pc),
    .err_o             (err),
    .cycles_o          (cycles),
    .ub_rd_ready_i     (ub_rd_cmd_ready),
    .ub_rd_rvalid_i    (ub_rd_valid[1:0]),
    .ub_rd_valid_o     (cu_rd_valid),
    .ub_rd_cmd_o       (cu_rd_cmd),
    .ub_wr_cmd_valid_o (cu_wr_cmd_valid),
    .ub_wr_cmd_o       (cu_wr_cmd),
    .ub_err_i          (ub_err),
    .w_valid_o         (w_valid),
    .w_row_o           (w_row),
    .in_valid_o        (in_valid),
    .in_switch_o       (in_switch),
    .vpu_cfg_o         (vpu_cfg),
    .sgd_idle_i        (sgd_cmd_ready),
    .sgd_cmd_valid_o   (sgd_cmd_valid),
    .sgd_cmd_o         (sgd_cmd),
    .seed_valid_o      (seed_valid),
    .seed_o            (seed)
  );

  sgd_unit #(.ArrayDim(ArrayDim)) u_sgd (
    .clk_i,
    .rst_ni,
    .cmd_valid_i    (sgd_cmd_valid),
    .cmd_ready_o    (sgd_cmd_ready),
    .cmd_i          (sgd_cmd),
    .abort_i        (1'b0),  // programs decode accepts never make the buffer reject a read
    .seed_valid_i   (seed_valid),
    .seed_i         (seed),
    .busy_o         (sgd_busy),
    .rd_cmd_valid_o (sgd_rd_valid),
    .rd_cmd_ready_i (ub_rd_cmd_ready[1:0]),
    .rd_cmd_o       (sgd_rd_cmd),
    .rd_valid_i     (ub_rd_valid[1:0]),
    .rd_data_i      (ub_rd_data[0 +: 2*RowWidth]),
    .wr_cmd_valid_o (sgd_wr_cmd_valid),
    .wr_cmd_ready_i (ub_wr_cmd_ready),
    .wr_cmd_o       (sgd_wr_cmd),
    .wr_valid_o     (sgd_wr_valid),
    .wr_data_o      (sgd_wr_data)
  );

  // Ports 0, 1 and the write port belong to the gradient-descent unit while it runs.
  always_comb begin
    ub_rd_cmd_valid = cu_rd_valid;
    ub_rd_cmd       = cu_rd_cmd;
    ub_wr_cmd_valid = cu_wr_cmd_valid;
    ub_wr_cmd       = cu_wr_cmd;
    ub_wr_valid     = vpu_valid;
    ub_wr_data      = vpu_data;
    if (sgd_busy) begin
      ub_rd_cmd_valid[1:0]     = sgd_rd_valid;
      ub_rd_cmd[0 +: 2*RdCmdW] = sgd_rd_cmd;
      ub_wr_cmd_valid          = sgd_wr_cmd_valid;
      ub_wr_cmd                = sgd_wr_cmd;
      ub_wr_valid              = sgd_wr_valid;
      ub_wr_data               = sgd_wr_data;
    end
  end

  unified_buffer #(.ArrayDim(ArrayDim), .Depth(UbDepth), .NumReadPorts(4)) u_ub (
    .clk_i,
    .rst_ni,
    .rd_cmd_valid_i   (ub_rd_cmd_valid),
    .rd_cmd_ready_o   (ub_rd_cmd_ready),
    .rd_cmd_i         (ub_rd_cmd),
    .rd_valid_o       (ub_rd_valid),
    .rd_data_o        (ub_rd_data),
    .wr_cmd_valid_i   (ub_wr_cmd_valid),
    .wr_cmd_ready_o   (ub_wr_cmd_ready),
    .wr_cmd_i         (ub_wr_cmd),
    .wr_valid_i       (ub_wr_valid),
    .wr_data_i        (ub_wr_data),
    .wr_row_valid_o   (dbg_wr_valid_o),
    .wr_row_addr_o    (dbg_wr_addr_o),
    .host_req_valid_i (host_req_valid_i && to_ub && !busy_q),
    .host_req_ready_o (ub_host_ready),
    .host_req_we_i,
    .host_req_addr_i,
    .host_req_wdata_i (host_req_wdata_i[RowWidth-1:0]),
    .host_rsp_valid_o (ub_host_rsp_valid),
    .host_rsp_ready_i,
    .host_rsp_rdata_o (ub_host_rsp_data),
    .host_rsp_err_o   (ub_host_rsp_err),
    .err_clear_i      (start),
    .err_o            (ub_err),
    .err_code_o       ()  // the control unit reports ErrBuffer; the code is in the waves
  );

  systolic_array #(.ArrayDim(ArrayDim)) u_array (
    .clk_i,
    .rst_ni,
    .w_valid_i   (w_valid),
    .w_row_i     (w_row),
    .w_data_i    (ub_rd_data[RowWidth +: RowWidth]),
    .in_valid_i  (in_valid),
    .in_switch_i (in_switch),
    .in_act_i    (ub_rd_data[0 +: RowWidth]),
    .out_valid_o (arr_valid),
    .out_data_o  (arr_data)
  );

  assign vpu_bias = ub_rd_valid[2] ? ub_rd_data[2*RowWidth +: RowWidth] : '0;
  assign vpu_side = ub_rd_valid[3] ? ub_rd_data[3*RowWidth +: RowWidth] : '0;

  vpu #(.ArrayDim(ArrayDim)) u_vpu (
    .clk_i,
    .rst_ni,
    .in_valid_i  (arr_valid),
    .in_data_i   (arr_data),
    .in_bias_i   (vpu_bias),
    .in_target_i (vpu_side),
    .in_deriv_i  (vpu_side),
    .in_cfg_i    (vpu_cfg),
    .out_valid_o (vpu_valid),
    .out_data_o  (vpu_data)
  );

  assign dbg_array_valid_o = arr_valid;
  assign dbg_array_data_o  = arr_data;
  assign dbg_vpu_valid_o   = vpu_valid;
  assign dbg_vpu_data_o    = vpu_data;
  assign dbg_wr_data_o     = ub_wr_data;
  assign dbg_pc_o          = pc;
  assign dbg_state_o       = state;
  assign dbg_err_o         = err;
endmodule
