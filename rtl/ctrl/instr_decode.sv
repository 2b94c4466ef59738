// Splits an instruction word into its fields by tpu_pkg's encoding (docs/isa.md) and
// says whether the opcode is known and every reserved bit clear. The control unit decodes
// with it; tests/isa_test.cpp checks it against the C++ encoding, golden/isa.hpp.
// A `*_reg_o` output is the address register (0: none) added to the row field beside it.
module instr_decode (
  input  tpu_pkg::instr_t instr_i,
  output logic            legal_o,     // a known opcode with no reserved bit set
  output logic [3:0]      op_o,
  output logic [15:0]     loop_count_o,
  output logic [31:0]     seed_o,
  output logic [15:0]     vpu_side_o,
  output logic [1:0]      vpu_side_reg_o,
  output logic [15:0]     vpu_bias_o,
  output logic [1:0]      vpu_bias_reg_o,
  output logic [14:0]     vpu_cfg_o,
  output logic [15:0]     loadw_addr_o,
  output logic [1:0]      loadw_addr_reg_o,
  output logic [7:0]      loadw_rows_o,
  output logic            loadw_t_o,
  output logic [15:0]     matmul_act_o,
  output logic [1:0]      matmul_act_reg_o,
  output logic [15:0]     matmul_out_o,
  output logic [1:0]      matmul_out_reg_o,
  output logic [9:0]      matmul_rows_o,
  output logic [5:0]      matmul_k_o,
  output logic [5:0]      matmul_n_o,
  output logic            matmul_t_o,
  output logic            matmul_acc_o,
  output logic [15:0]     sgd_theta_o,
  output logic [15:0]     sgd_grad_o,
  output logic [10:0]     sgd_count_o,
  output logic [15:0]     sgd_lr_o,
  output logic            sgd_stochastic_o,
  output logic [15:0]     areg_imm_o,  // seta: the value; adda: the signed step
  output logic [1:0]      areg_reg_o   // seta, adda: the register written (0 is ErrField)
);
  assign op_o    = instr_i[tpu_pkg::FOpLsb +: 4];
  assign legal_o = op_o <= tpu_pkg::OpAdda && (instr_i[59:0] & ~tpu_pkg::used_bits(op_o)) == '0;

  assign loop_count_o     = instr_i[tpu_pkg::FLoopCount +: 16];
  assign seed_o           = instr_i[tpu_pkg::FSeed +: 32];
  assign vpu_side_o       = instr_i[tpu_pkg::FVpuSide +: 16];
  assign vpu_side_reg_o   = instr_i[tpu_pkg::FVpuSideReg +: 2];
  assign vpu_bias_o       = instr_i[tpu_pkg::FVpuBias +: 16];
  assign vpu_bias_reg_o   = instr_i[tpu_pkg::FVpuBiasReg +: 2];
  assign vpu_cfg_o        = instr_i[tpu_pkg::FVpuCfg +: tpu_pkg::VpuCfgWidth];
  assign loadw_addr_o     = instr_i[tpu_pkg::FLoadwAddr +: 16];
  assign loadw_addr_reg_o = instr_i[tpu_pkg::FLoadwAddrReg +: 2];
  assign loadw_rows_o     = instr_i[tpu_pkg::FLoadwRows +: 8];
  assign loadw_t_o        = instr_i[tpu_pkg::FLoadwT];
  assign matmul_act_o     = instr_i[tpu_pkg::FMatmulAct +: 16];
  assign matmul_act_reg_o = instr_i[tpu_pkg::FMatmulActReg +: 2];
  assign matmul_out_o     = instr_i[tpu_pkg::FMatmulOut +: 16];
  assign matmul_out_reg_o = instr_i[tpu_pkg::FMatmulOutReg +: 2];
  assign matmul_rows_o    = instr_i[tpu_pkg::FMatmulRows +: 10];
  assign matmul_k_o       = instr_i[tpu_pkg::FMatmulK +: 6];
  assign matmul_n_o       = instr_i[tpu_pkg::FMatmulN +: 6];
  assign matmul_t_o       = instr_i[tpu_pkg::FMatmulT];
  assign matmul_acc_o     = instr_i[tpu_pkg::FMatmulAcc];
  assign sgd_theta_o      = instr_i[tpu_pkg::FSgdTheta +: 16];
  assign sgd_grad_o       = instr_i[tpu_pkg::FSgdGrad +: 16];
  assign sgd_count_o      = instr_i[tpu_pkg::FSgdCount +: 11];
  assign sgd_lr_o         = instr_i[tpu_pkg::FSgdLr +: 16];
  assign sgd_stochastic_o = instr_i[tpu_pkg::FSgdStoch];
  assign areg_imm_o       = instr_i[tpu_pkg::FAregImm +: 16];
  assign areg_reg_o       = instr_i[tpu_pkg::FAregReg +: 2];
endmodule
