// The TPU: systolic array, vector unit, unified buffer (four read ports), gradient-descent
// unit and control unit, with an instruction memory and one host port that reaches the
// buffer, the instruction memory and the control registers.
// Specification: docs/architecture.md ("The TPU") and docs/isa.md.
module tpu #(
  parameter int ArrayDim  = tpu_pkg::ArrayDim,
  parameter int UbDepth   = 256,
  parameter int ImemDepth = 256,
  parameter int MaxInFlight = 8,  // matmuls in flight at most (2 or more)
  localparam int DataWidth = tpu_pkg::DataWidth,
  localparam int RowWidth  = ArrayDim * DataWidth,
  localparam int HostWidth = (RowWidth > tpu_pkg::InstrWidth) ? RowWidth : tpu_pkg::InstrWidth,
  localparam int ImemAW    = tpu_pkg::addr_width(ImemDepth),
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
  // ---------------------------------------------------------------------------------
  // Host port and instruction memory.

  logic                 ub_host_valid, ub_host_ready, ub_host_rsp_valid, ub_host_rsp_err;
  logic [RowWidth-1:0]  ub_host_rsp_data;
  logic                 start, cont, imem_we, imem_re, imem_hold;
  logic [ImemAW-1:0]    imem_addr, cu_imem_raddr;
  tpu_pkg::instr_t      imem_rdata;
  logic [2:0]           state;
  logic [15:0]          pc;
  logic [3:0]           err;
  logic [31:0]          cycles;

  host_port #(.ArrayDim(ArrayDim), .ImemDepth(ImemDepth)) u_host (
    .clk_i,
    .rst_ni,
    .req_valid_i    (host_req_valid_i),
    .req_ready_o    (host_req_ready_o),
    .req_we_i       (host_req_we_i),
    .req_space_i    (host_req_space_i),
    .req_addr_i     (host_req_addr_i),
    .req_wdata_i    (host_req_wdata_i),
    .rsp_valid_o    (host_rsp_valid_o),
    .rsp_ready_i    (host_rsp_ready_i),
    .rsp_rdata_o    (host_rsp_rdata_o),
    .rsp_err_o      (host_rsp_err_o),
    .ub_req_valid_o (ub_host_valid),
    .ub_req_ready_i (ub_host_ready),
    .ub_rsp_valid_i (ub_host_rsp_valid),
    .ub_rsp_rdata_i (ub_host_rsp_data),
    .ub_rsp_err_i   (ub_host_rsp_err),
    .imem_we_o      (imem_we),
    .imem_re_o      (imem_re),
    .imem_hold_o    (imem_hold),
    .imem_addr_o    (imem_addr),
    .imem_rdata_i   (imem_rdata),
    .state_i        (state),
    .pc_i           (pc),
    .err_i          (err),
    .cycles_i       (cycles),
    .start_o        (start),
    .continue_o     (cont)
  );

  ram_1r1w #(.Width(tpu_pkg::InstrWidth), .Depth(ImemDepth)) u_imem (
    .clk_i,
    .we_i    (imem_we),
    .waddr_i (imem_addr),
    .wdata_i (host_req_wdata_i[tpu_pkg::InstrWidth-1:0]),
    .re_i    (!imem_hold),
    .raddr_i (cu_imem_raddr),  // the control unit merges the host's read
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
  logic [tpu_pkg::UbWrCmdWidth-1:0] cu_wr_cmd;
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

  control_unit #(
    .ArrayDim(ArrayDim), .UbDepth(UbDepth), .ImemDepth(ImemDepth), .MaxInFlight(MaxInFlight)
  ) u_ctrl (
    .clk_i,
    .rst_ni,
    .imem_raddr_o      (cu_imem_raddr),
    .imem_rdata_i      (imem_rdata),
    .host_re_i         (imem_re),
    .host_raddr_i      (imem_addr),
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

  sgd_unit #(.ArrayDim(ArrayDim), .Depth(UbDepth)) u_sgd (
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

  // Every command the TPU issues has stride 0 or 1 (tpu_pkg::ub_rd_cmd / ub_wr_cmd callers).
  unified_buffer #(
    .ArrayDim(ArrayDim), .Depth(UbDepth), .NumReadPorts(4), .GeneralStride(1'b0)
  ) u_ub (
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
    .host_req_valid_i (ub_host_valid),
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
