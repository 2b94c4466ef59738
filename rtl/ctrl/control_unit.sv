// Control unit: fetches the program in instruction memory, decodes it (instr_decode), checks
// it, and issues at most one instruction per cycle, sequencing the datapath: the weight
// loader, the matmuls in flight (matmul_tracker: activations now, bias and side rows 2N cycles
// later, the result write 2N+5 cycles after issue), the gradient-descent unit and the loops
// (loop_stack). It waits in hardware for ports, for reads after writes to the same rows (RAW),
// and for the datapath to drain; an illegal instruction halts it with an error code before
// anything of that instruction happens.
//
// Buffer rows are resolved in decode through the address registers a1..a3: row = field +
// a[sel], exact. Every row field sits in one of two places in its format (bits 15:0 with the
// selector in 17:16, "operand A": loadw addr, matmul act, vpu side; bits 33:18 with the
// selector in 35:34, "operand B": matmul out, vpu bias), so two adders serve every format.
// Only a row's low AddrW bits and whether the rest is zero are kept: a row at or past 2^AddrW
// is outside the buffer whatever its exact value.
// Specification: docs/architecture.md ("The TPU") and docs/isa.md.
module control_unit #(
  parameter int ArrayDim    = tpu_pkg::ArrayDim,
  parameter int UbDepth     = 256,
  parameter int ImemDepth   = 256,
  parameter int MaxInFlight = 8,  // matmuls in flight at most (2 or more)
  localparam int ImemAW   = tpu_pkg::addr_width(ImemDepth),
  localparam int IdxWidth = tpu_pkg::idx_width(ArrayDim),
  localparam int RdCmdW   = tpu_pkg::UbRdCmdWidth,
  localparam int WrCmdW   = tpu_pkg::UbWrCmdWidth
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  // Instruction memory: the address read now is the instruction in decode next cycle.
  output logic [ImemAW-1:0]       imem_raddr_o,
  input  tpu_pkg::instr_t         imem_rdata_i,
  // Host control (CSR writes the host port has already found legal).
  input  logic                    start_i,
  input  logic                    continue_i,
  output logic [2:0]              state_o,
  output logic [15:0]             pc_o,
  output logic [3:0]              err_o,
  output logic [31:0]             cycles_o,
  // Unified buffer read ports 0..3 and write port (the control unit's side of the mux).
  input  logic [3:0]              ub_rd_ready_i,
  input  logic [1:0]              ub_rd_rvalid_i,   // ports 0 and 1 presenting a row
  output logic [3:0]              ub_rd_valid_o,
  output logic [4*RdCmdW-1:0]     ub_rd_cmd_o,
  output logic                    ub_wr_cmd_valid_o,
  output logic [WrCmdW-1:0]       ub_wr_cmd_o,
  input  logic                    ub_err_i,
  // Array control (the data comes straight from ports 0 and 1).
  output logic                    w_valid_o,
  output logic [IdxWidth-1:0]     w_row_o,
  output logic                    in_valid_o,
  output logic                    in_switch_o,
  // The configuration of the matmul whose rows reach the vector unit now.
  output tpu_pkg::vpu_cfg_t       vpu_cfg_o,
  // Gradient-descent unit.
  input  logic                    sgd_idle_i,
  output logic                    sgd_cmd_valid_o,
  output tpu_pkg::sgd_cmd_t       sgd_cmd_o,
  output logic                    seed_valid_o,
  output logic [31:0]             seed_o
);
  localparam int N         = ArrayDim;
  localparam int LoopDepth = 4;
  localparam int AW        = tpu_pkg::addr_width(UbDepth);    // a buffer row
  localparam int CW        = (tpu_pkg::count_width(UbDepth) < 10)  // a matmul's rows
                             ? tpu_pkg::count_width(UbDepth) : 10;
  localparam int PcW       = tpu_pkg::count_width(ImemDepth); // the PC: 0..ImemDepth
  localparam int NW        = IdxWidth + 1;                    // 1..N lanes or rows
  localparam int FW        = ((AW + 1 > 11) ? AW + 1 : 11) + 1;  // a row plus a count, exact
  localparam int ARW       = tpu_pkg::ARegWidth;
  localparam int LdW       = $clog2(N + 2);                   // the loader's cycle count
  localparam int LanesW    = tpu_pkg::LanesWidth;
  localparam int AddrW     = tpu_pkg::UbAddrWidth;

  // A buffer row named by a field and an address register, {ok, lo}: ok when every bit above
  // AW-1 is zero, and the low part, one bit wider for the carry.
  localparam int RowW = AW + 2;

  // field + a[sel], exact: both high parts zero, and the sum of the low parts. areg_ok holds
  // whether each register's high part is zero (a[0]: 1), so that only low parts are selected.
  function automatic logic [RowW-1:0] resolve(input logic [ARW-1:0] field,
                                              input logic [4*AW-1:0] areg_lo,
                                              input logic [3:0] areg_ok,
                                              input logic [1:0] sel);
    resolve = {(field >> AW) == '0 && areg_ok[sel],
               (AW + 1)'(field[AW-1:0]) + (AW + 1)'(areg_lo[32'(sel)*AW +: AW])};
  endfunction

  // The block of `rows` rows at `start` is inside the buffer.
  function automatic logic fits(input logic [RowW-1:0] start, input logic [FW-2:0] rows);
    fits = start[RowW-1] && rows != '0 && FW'(start[AW:0]) + FW'(rows) <= FW'(UbDepth);
  endfunction

  // ---------------------------------------------------------------------------------
  // Architectural state.

  logic [2:0]     state_q;
  logic [PcW-1:0] pc_q;
  logic [3:0]     err_q;
  logic [31:0]    cycles_q;
  logic           running;

  // Operation register (the last `vpu`): configuration, and its bias and side rows resolved
  // through their registers when it issued; a row outside the buffer is an ErrAddress of the
  // matmul that uses it.
  tpu_pkg::vpu_cfg_t op_cfg_q;
  logic [RowW-1:0]   op_bias_q, op_side_q;

  // Address registers a1..a3 (a1 in the low slice); a[0] is no register and reads 0.
  logic [3*ARW-1:0] areg_q;
  logic [4*ARW-1:0] areg_all;
  assign areg_all = {areg_q, ARW'(0)};

  logic [4*AW-1:0] areg_lo;  // a[k]'s low AW bits
  logic [3:0]      areg_ok;  // a[k] < 2^AW
  always_comb begin
    for (int k = 0; k < 4; k++) begin
      areg_lo[k*AW +: AW] = areg_all[k*ARW +: AW];
      areg_ok[k]          = (areg_all[k*ARW +: ARW] >> AW) == '0;
    end
  end

  assign running = state_q == tpu_pkg::StRunning;

  // ---------------------------------------------------------------------------------
  // Decode.

  logic [3:0]  op;
  logic        known;  // a known opcode with every reserved bit clear
  logic [15:0] f_count, f_side, f_bias, f_addr, f_act, f_out, f_theta, f_grad, f_lr, f_imm;
  logic [1:0]  f_side_reg, f_bias_reg, f_addr_reg, f_act_reg, f_out_reg, f_areg;
  logic [14:0] f_cfg;
  logic [7:0]  f_ld_rows;
  logic [9:0]  f_mm_rows;
  logic [10:0] f_sgd_count;
  logic [5:0]  f_k, f_n;
  logic        f_ld_t, f_mm_t, f_stoch, f_acc;
  logic [31:0] f_seed;

  // Operand A and B are read through the matmul's names for them (loadw addr and vpu side are
  // the same bits as matmul act, vpu bias the same as matmul out).
  logic unused_fields;
  assign unused_fields = ^{f_side, f_side_reg, f_bias, f_bias_reg, f_addr, f_addr_reg};

  instr_decode u_decode (
    .instr_i          (imem_rdata_i),
    .legal_o          (known),
    .op_o             (op),
    .loop_count_o     (f_count),
    .seed_o           (f_seed),
    .vpu_side_o       (f_side),
    .vpu_side_reg_o   (f_side_reg),
    .vpu_bias_o       (f_bias),
    .vpu_bias_reg_o   (f_bias_reg),
    .vpu_cfg_o        (f_cfg),
    .loadw_addr_o     (f_addr),
    .loadw_addr_reg_o (f_addr_reg),
    .loadw_rows_o     (f_ld_rows),
    .loadw_t_o        (f_ld_t),
    .matmul_act_o     (f_act),
    .matmul_act_reg_o (f_act_reg),
    .matmul_out_o     (f_out),
    .matmul_out_reg_o (f_out_reg),
    .matmul_rows_o    (f_mm_rows),
    .matmul_k_o       (f_k),
    .matmul_n_o       (f_n),
    .matmul_t_o       (f_mm_t),
    .matmul_acc_o     (f_acc),
    .sgd_theta_o      (f_theta),
    .sgd_grad_o       (f_grad),
    .sgd_count_o      (f_sgd_count),
    .sgd_lr_o         (f_lr),
    .sgd_stochastic_o (f_stoch),
    .areg_imm_o       (f_imm),
    .areg_reg_o       (f_areg)
  );

  // Operand A (loadw addr, matmul act, vpu side) and B (matmul out, vpu bias): the same bits
  // in every format that has them (tpu_pkg field positions).
  logic [RowW-1:0] row_a, row_b;
  assign row_a = resolve(f_act, areg_lo, areg_ok, f_act_reg);
  assign row_b = resolve(f_out, areg_lo, areg_ok, f_out_reg);

  // What the matmul or loadw in decode reads, and where its bias and side rows are.
  logic        uses_bias, uses_side, is_ld;
  logic [FW-2:0] mm_rows, rd_rows, bias_rows;
  logic [RowW-1:0] bias_start;
  tpu_pkg::vpu_cfg_t f_cfg_s, mm_cfg;
  assign f_cfg_s   = f_cfg;
  assign is_ld     = op == tpu_pkg::OpLoadw;
  assign mm_rows   = (FW - 1)'(f_mm_rows);
  // An accumulating matmul (acc) adds its output rows themselves, one per result row.
  assign uses_bias = op_cfg_q.mask[tpu_pkg::MaskBias] || f_acc;
  always_comb begin
    mm_cfg = op_cfg_q;
    mm_cfg.mask[tpu_pkg::MaskBias] = uses_bias;
  end
  assign uses_side  = op_cfg_q.mask[tpu_pkg::MaskLoss]
                      || (op_cfg_q.mask[tpu_pkg::MaskDeriv] && op_cfg_q.deriv_src);
  assign rd_rows    = is_ld ? (f_ld_t ? (FW - 1)'(N) : (FW - 1)'(f_ld_rows))
                            : (f_mm_t ? (FW - 1)'(N) : mm_rows);
  assign bias_start = f_acc ? row_b : op_bias_q;
  assign bias_rows  = f_acc ? mm_rows : (FW - 1)'(1);

  // sgd's rows are plain fields.
  logic [RowW-1:0] theta_row, grad_row;
  assign theta_row = resolve(f_theta, areg_lo, areg_ok, 2'd0);
  assign grad_row  = resolve(f_grad, areg_lo, areg_ok, 2'd0);

  // The matmuls in flight, and their read-after-write answer for the instruction in decode.
  logic raw_rd, raw_bias, raw_side, table_full, none_in_flight, issue_mm;
  logic [AW-1:0] rd_first, bias_first, side_first, rd_last, bias_last, side_last;
  assign rd_first   = row_a[AW-1:0];
  assign bias_first = bias_start[AW-1:0];
  assign side_first = op_side_q[AW-1:0];
  assign rd_last    = rd_first + AW'(rd_rows) - AW'(1);
  assign bias_last  = bias_first + AW'(bias_rows) - AW'(1);
  assign side_last  = side_first + AW'(mm_rows) - AW'(1);

  matmul_tracker #(.ArrayDim(N), .UbDepth(UbDepth), .MaxInFlight(MaxInFlight)) u_tracker (
    .clk_i,
    .rst_ni,
    .issue_i         (issue_mm),
    .out_i           (row_b[AW-1:0]),
    .rows_i          (CW'(f_mm_rows)),
    .n_i             (NW'(f_n)),
    .bias_i          (bias_first),
    .bias_step_i     (f_acc),
    .side_i          (side_first),
    .cfg_i           (mm_cfg),
    .full_o          (table_full),
    .empty_o         (none_in_flight),
    .rd_first_i      (rd_first),
    .rd_last_i       (rd_last),
    .rd_block_i      (is_ld ? f_ld_t : f_mm_t),
    .bias_first_i    (bias_first),
    .bias_last_i     (bias_last),
    .side_first_i    (side_first),
    .side_last_i     (side_last),
    .raw_rd_o        (raw_rd),
    .raw_bias_o      (raw_bias),
    .raw_side_o      (raw_side),
    .bias_rd_valid_o (ub_rd_valid_o[2]),
    .bias_rd_cmd_o   (ub_rd_cmd_o[2*RdCmdW +: RdCmdW]),
    .side_rd_valid_o (ub_rd_valid_o[3]),
    .side_rd_cmd_o   (ub_rd_cmd_o[3*RdCmdW +: RdCmdW]),
    .wr_cmd_valid_o  (ub_wr_cmd_valid_o),
    .wr_cmd_o        (ub_wr_cmd_o),
    .vpu_cfg_o       (vpu_cfg_o)
  );

  // The loops.
  logic loop_empty, loop_full, loop_repeat, issue_loop, issue_endl;
  logic [PcW-1:0] loop_start;

  loop_stack #(.Depth(LoopDepth), .PcW(PcW), .CountW(16)) u_loops (
    .clk_i,
    .rst_ni,
    .clear_i      (start_i),
    .push_i       (issue_loop),
    .push_start_i (pc_q + PcW'(1)),
    .push_count_i (f_count),
    .endl_i       (issue_endl),
    .empty_o      (loop_empty),
    .full_o       (loop_full),
    .repeat_o     (loop_repeat),
    .top_start_o  (loop_start)
  );

  // ---------------------------------------------------------------------------------
  // Checks, in docs/architecture.md's order: the first that fails decides.

  logic [3:0] dec_err;   // the error this instruction raises, ErrNone when legal
  logic       wait_now;  // legal but must wait this cycle
  logic       drained, sgd_idle;
  logic [LdW-1:0] ld_cnt_q;  // cycles the weight loader stays busy

  assign sgd_idle = sgd_idle_i;
  assign drained  = none_in_flight && ld_cnt_q == '0 && sgd_idle;

  always_comb begin
    dec_err  = tpu_pkg::ErrNone;
    wait_now = 1'b0;
    if (32'(pc_q) >= ImemDepth) begin
      dec_err = tpu_pkg::ErrPc;
    end else if (!known) begin
      dec_err = tpu_pkg::ErrOpcode;
    end else begin
      unique case (op)
        tpu_pkg::OpVpu: begin
          if (f_cfg_s.act_fn == 2'd3) dec_err = tpu_pkg::ErrField;
        end
        tpu_pkg::OpLoadw: begin
          if (f_ld_rows == '0 || 32'(f_ld_rows) > N) dec_err = tpu_pkg::ErrField;
          else if (!fits(row_a, rd_rows))            dec_err = tpu_pkg::ErrAddress;
          else wait_now = !ub_rd_ready_i[1] || !sgd_idle || raw_rd;
        end
        tpu_pkg::OpMatmul: begin
          if (f_mm_rows == '0 || f_k == '0 || 32'(f_k) > N || f_n == '0 || 32'(f_n) > N
              || (f_mm_t && 32'(f_mm_rows) > N)) begin
            dec_err = tpu_pkg::ErrField;
          end else if (!fits(row_a, rd_rows) || !fits(row_b, mm_rows)
                       || (uses_bias && !fits(bias_start, bias_rows))
                       || (uses_side && !fits(op_side_q, mm_rows))) begin
            dec_err = tpu_pkg::ErrAddress;
          end else begin
            wait_now = !ub_rd_ready_i[0] || table_full || !sgd_idle
                       || raw_rd || (uses_bias && raw_bias) || (uses_side && raw_side);
          end
        end
        tpu_pkg::OpSgd: begin
          if (f_sgd_count == '0) dec_err = tpu_pkg::ErrField;
          else if (!fits(theta_row, (FW - 1)'(f_sgd_count))
                   || !fits(grad_row, (FW - 1)'(f_sgd_count))) dec_err = tpu_pkg::ErrAddress;
          else wait_now = !drained;
        end
        tpu_pkg::OpLoop: begin
          if (f_count == '0 || loop_full) dec_err = tpu_pkg::ErrLoop;
        end
        tpu_pkg::OpEndl: begin
          if (loop_empty) dec_err = tpu_pkg::ErrLoop;
        end
        tpu_pkg::OpSeta, tpu_pkg::OpAdda: begin
          if (f_areg == '0) dec_err = tpu_pkg::ErrField;
        end
        tpu_pkg::OpSeed:                  wait_now = !sgd_idle;
        tpu_pkg::OpSync, tpu_pkg::OpHalt: wait_now = !drained;
        default: ;  // nop
      endcase
    end
    // Decode's own checks first; a buffer error is the last line of defence.
    if (dec_err == tpu_pkg::ErrNone && ub_err_i) dec_err = tpu_pkg::ErrBuffer;
  end

  logic issue, issue_ld, issue_sgd;
  assign issue      = running && dec_err == tpu_pkg::ErrNone && !wait_now;
  assign issue_ld   = issue && is_ld;
  assign issue_mm   = issue && op == tpu_pkg::OpMatmul;
  assign issue_sgd  = issue && op == tpu_pkg::OpSgd;
  assign issue_loop = issue && op == tpu_pkg::OpLoop;
  assign issue_endl = issue && op == tpu_pkg::OpEndl;

  // ---------------------------------------------------------------------------------
  // Next PC and state.

  logic [PcW-1:0] pc_d;
  always_comb begin
    pc_d = pc_q;
    if (start_i) begin
      pc_d = '0;
    end else if (issue) begin
      unique case (op)
        tpu_pkg::OpHalt: pc_d = pc_q;
        tpu_pkg::OpEndl: pc_d = loop_repeat ? loop_start : pc_q + PcW'(1);
        default:         pc_d = pc_q + PcW'(1);
      endcase
    end
  end

  assign imem_raddr_o = pc_d[ImemAW-1:0];

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q   <= tpu_pkg::StIdle;
      pc_q      <= '0;
      err_q     <= tpu_pkg::ErrNone;
      cycles_q  <= '0;
      op_cfg_q  <= '0;
      op_bias_q <= '0;
      op_side_q <= '0;
      areg_q    <= '0;
    end else begin
      pc_q <= pc_d;
      if (state_q == tpu_pkg::StRunning || state_q == tpu_pkg::StSync) cycles_q <= cycles_q + 1;
      if (start_i) begin
        state_q  <= tpu_pkg::StRunning;
        err_q    <= tpu_pkg::ErrNone;
        cycles_q <= '0;
        areg_q   <= '0;
      end else if (continue_i) begin
        state_q <= tpu_pkg::StRunning;
      end else if (running && dec_err != tpu_pkg::ErrNone) begin
        state_q <= tpu_pkg::StError;
        err_q   <= dec_err;
      end else if (issue) begin
        unique case (op)
          tpu_pkg::OpHalt: state_q <= tpu_pkg::StDone;
          tpu_pkg::OpSync: state_q <= tpu_pkg::StSync;
          tpu_pkg::OpVpu: begin
            op_cfg_q  <= f_cfg_s;
            op_bias_q <= row_b;
            op_side_q <= row_a;
          end
          tpu_pkg::OpSeta: areg_q[(32'(f_areg) - 1)*ARW +: ARW] <= f_imm;
          // mod 2^16: the 16-bit sum drops the carry, and a negative step is its complement.
          tpu_pkg::OpAdda: areg_q[(32'(f_areg) - 1)*ARW +: ARW] <=
                               areg_all[32'(f_areg)*ARW +: ARW] + f_imm;
          default: ;
        endcase
      end
    end
  end

  // ---------------------------------------------------------------------------------
  // Ports 0 (activations) and 1 (weights): the commands of the matmul or loadw issuing now.

  assign ub_rd_valid_o[0]            = issue_mm;
  assign ub_rd_cmd_o[0 +: RdCmdW]    = tpu_pkg::ub_rd_cmd(AddrW'(rd_first), AddrW'(f_mm_rows),
                                                          AddrW'(1), LanesW'(f_k), f_mm_t);
  assign ub_rd_valid_o[1]            = issue_ld;
  assign ub_rd_cmd_o[RdCmdW +: RdCmdW] = tpu_pkg::ub_rd_cmd(AddrW'(rd_first), AddrW'(f_ld_rows),
                                                            AddrW'(1), LanesW'(N), f_ld_t);

  // Weight loader: rows on port 1 go to the array, the i-th with w_row = i. Its rows start
  // arriving two cycles after issue, possibly while the previous loadw's last row still comes.
  logic [IdxWidth-1:0] ld_row_q;
  logic [1:0]          ld_first_q, first_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      ld_cnt_q   <= '0;
      ld_row_q   <= '0;
      ld_first_q <= '0;
      first_q    <= '0;
    end else begin
      if (issue_ld)            ld_cnt_q <= LdW'(f_ld_rows) + LdW'(1);
      else if (ld_cnt_q != '0) ld_cnt_q <= ld_cnt_q - LdW'(1);
      if (w_valid_o) ld_row_q <= w_row_o + IdxWidth'(1);
      ld_first_q <= {ld_first_q[0], issue_ld};
      first_q    <= {first_q[0], issue_mm};
    end
  end

  assign w_valid_o   = ub_rd_rvalid_i[1] && sgd_idle && ld_cnt_q != '0;
  assign w_row_o     = ld_first_q[1] ? '0 : ld_row_q;
  assign in_valid_o  = ub_rd_rvalid_i[0] && sgd_idle;
  assign in_switch_o = in_valid_o && first_q[1];

  // Gradient-descent unit.
  assign sgd_cmd_valid_o = issue_sgd;
  assign sgd_cmd_o       = {f_theta, f_grad, 16'(f_sgd_count), f_lr, f_stoch};
  assign seed_valid_o    = issue && op == tpu_pkg::OpSeed;
  assign seed_o          = f_seed;

  assign state_o  = state_q;
  assign pc_o     = 16'(pc_q);
  assign err_o    = err_q;
  assign cycles_o = cycles_q;

`ifndef SYNTHESIS
  // The schedule guarantees these ports are free when the delayed commands go out.
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (!ub_rd_valid_o[2] || ub_rd_ready_i[2])
        else $error("control_unit: bias read issued while port 2 is busy");
      assert (!ub_rd_valid_o[3] || ub_rd_ready_i[3])
        else $error("control_unit: side read issued while port 3 is busy");
    end
  end
`endif
endmodule
