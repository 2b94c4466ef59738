// Test top: the gradient-descent unit wired to a unified buffer, as the TPU will wire
// them (read ports 0 and 1 stream theta and the gradient, the write port takes the
// updated rows). The host port loads and reads back the buffer.
module sgd_system #(
  parameter int ArrayDim = tpu_pkg::ArrayDim,
  parameter int Depth    = 64,
  localparam int RowWidth = ArrayDim * tpu_pkg::DataWidth
) (
  input  logic                clk_i,
  input  logic                rst_ni,
  input  logic                cmd_valid_i,
  output logic                cmd_ready_o,
  input  tpu_pkg::sgd_cmd_t   cmd_i,
  input  logic                abort_i,
  input  logic                seed_valid_i,
  input  logic [31:0]         seed_i,
  output logic                busy_o,
  // The updated rows on their way into the buffer, for the per-cycle comparison.
  output logic                upd_valid_o,
  output logic [RowWidth-1:0] upd_data_o,
  output logic                upd_stored_o,  // the buffer stored an updated row now
  output tpu_pkg::ub_addr_t   upd_addr_o,    // at this row
  input  logic                host_req_valid_i,
  output logic                host_req_ready_o,
  input  logic                host_req_we_i,
  input  tpu_pkg::ub_addr_t   host_req_addr_i,
  input  logic [RowWidth-1:0] host_req_wdata_i,
  output logic                host_rsp_valid_o,
  input  logic                host_rsp_ready_i,
  output logic [RowWidth-1:0] host_rsp_rdata_o,
  output logic                host_rsp_err_o,
  input  logic                err_clear_i,
  output logic                err_o,
  output logic [3:0]          err_code_o
);
  logic [1:0]                        rd_cmd_valid, rd_cmd_ready, rd_valid;
  logic [2*tpu_pkg::UbRdCmdWidth-1:0] rd_cmd;
  logic [2*RowWidth-1:0]             rd_data;
  logic                              wr_cmd_valid, wr_cmd_ready, wr_valid;
  tpu_pkg::ub_wr_cmd_t               wr_cmd;
  logic [RowWidth-1:0]               wr_data;

  assign upd_valid_o = wr_valid;
  assign upd_data_o  = wr_data;

  sgd_unit #(.ArrayDim(ArrayDim)) u_sgd (
    .clk_i,
    .rst_ni,
    .cmd_valid_i,
    .cmd_ready_o,
    .cmd_i,
    .abort_i,
    .seed_valid_i,
    .seed_i,
    .busy_o,
    .rd_cmd_valid_o (rd_cmd_valid),
    .rd_cmd_ready_i (rd_cmd_ready),
    .rd_cmd_o       (rd_cmd),
    .rd_valid_i     (rd_valid),
    .rd_data_i      (rd_data),
    .wr_cmd_valid_o (wr_cmd_valid),
    .wr_cmd_ready_i (wr_cmd_ready),
    .wr_cmd_o       (wr_cmd),
    .wr_valid_o     (wr_valid),
    .wr_data_o      (wr_data)
  );

  unified_buffer #(.ArrayDim(ArrayDim), .Depth(Depth), .NumReadPorts(2)) u_ub (
    .clk_i,
    .rst_ni,
    .rd_cmd_valid_i (rd_cmd_valid),
    .rd_cmd_ready_o (rd_cmd_ready),
    .rd_cmd_i       (rd_cmd),
    .rd_valid_o     (rd_valid),
    .rd_data_o      (rd_data),
    .wr_cmd_valid_i (wr_cmd_valid),
    .wr_cmd_ready_o (wr_cmd_ready),
    .wr_cmd_i       (wr_cmd),
    .wr_valid_i     (wr_valid),
    .wr_data_i      (wr_data),
    .wr_row_valid_o (upd_stored_o),
    .wr_row_addr_o  (upd_addr_o),
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
endmodule
