// Control unit: fetches the program in instruction memory, decodes it (instr_decode), checks
// it, and issues at most one instruction per cycle, sequencing the datapath: the weight
// loader, the matmuls in flight (matmul_tracker: activations now, bias and side rows 2N cycles
// later, the result write 2N+5 cycles after issue), the gradient-descent unit and the loops
// (loop_stack). It waits in hardware for ports, for reads after writes to the same rows (RAW),
// and for the datapath to drain; an illegal instruction halts it with an error code before
// anything of that instruction happens.
//
// Two stages, with the cycle behaviour of one (docs/architecture.md, "Decode and issue"):
//  - predecode (P) works on the word on the instruction memory's output, the instruction
//    after the one in decode. It resolves its rows through the address registers, adds up the
//    last row of every block it reads or writes (and whether it fits the buffer) and the
//    limits of the read-after-write test, and checks what needs only the word. It sees the
//    address and operation registers as they will be when the instruction reaches decode: a
//    seta or adda in decode forwards the address register it will write (it always issues
//    unless the TPU stops), and a vpu in decode the operation register.
//  - decode (D) holds the predecoded instruction at pc_q. It finishes the checks (the PC, the
//    loop stack, the buffer's error), asks the tracker for hazards and issues. Decode loads
//    P's result whenever it issues (and at a start), so an instruction is in decode the cycle
//    after the one before it issued, as in the specification. Only a loadw or matmul waits
//    for the hazard test, and only what they start hangs off it.
// The fetch runs one word ahead: fa_q is the address of the word on the memory's output. An
// `endl` is seen in P, so when it will jump back the loop's start is fetched instead of the
// next word and the loop costs no cycle; while stopped the memory reads word 0, so that the
// first instruction of a start is predecoded in the start cycle.
//
// Buffer rows are resolved through the address registers a1..a3: row = field + a[sel], exact.
// Every row field sits in one of two places in its format (bits 15:0 with the selector in
// 17:16, "operand A": loadw addr, matmul act, vpu side; bits 33:18 with the selector in 35:34,
// "operand B": matmul out, vpu bias), so two adders serve every format. Only a row's low AddrW
// bits and whether the rest is zero are kept: a row at or past 2^AddrW is outside the buffer
// whatever its exact value.
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
  // Instruction memory: the address read now is the word on its output next cycle.
  output logic [ImemAW-1:0]       imem_raddr_o,
  input  tpu_pkg::instr_t         imem_rdata_i,
  // The host port's read of an instruction word (only while the control unit is stopped),
  // merged into imem_raddr_o here so that the issue is the last select.
  input  logic                    host_re_i,
  input  logic [ImemAW-1:0]       host_raddr_i,
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
  localparam int RawW      = tpu_pkg::raw_width(UbDepth, N);  // the hazard test's limits
  localparam int WriteAge  = 2 * N + 5;                       // a matmul's write command
  localparam int PayW      = tpu_pkg::FOpLsb;                 // the word below the opcode

  // A buffer row named by a field and an address register, {ok, lo}: ok when every bit above
  // AW-1 is zero, and the low part, one bit wider for the carry.
  localparam int RowW = AW + 2;
  // The last row of a block, {ok, exact}: inside the buffer when ok and exact < UbDepth.
  localparam int LastW = FW + 1;

  // field + a[sel], exact: both high parts zero, and the sum of the low parts. areg_ok holds
  // whether each register's high part is zero (a[0]: 1), so that only low parts are selected.
  function automatic logic [RowW-1:0] resolve(input logic [ARW-1:0] field,
                                              input logic [4*AW-1:0] areg_lo,
                                              input logic [3:0] areg_ok,
                                              input logic [1:0] sel);
    resolve = {(field >> AW) == '0 && areg_ok[sel],
               (AW + 1)'(field[AW-1:0]) + (AW + 1)'(areg_lo[32'(sel)*AW +: AW])};
  endfunction

  // The last row of the block of `rows` rows (1 or more) at `start`.
  function automatic logic [LastW-1:0] last_row(input logic [RowW-1:0] start,
                                                input logic [FW-2:0] rows);
    last_row = {start[RowW-1], FW'(start[AW:0]) + FW'(rows) - FW'(1)};
  endfunction

  // That block is inside the buffer (for a power-of-two UbDepth: the high bits are zero).
  function automatic logic in_buffer(input logic [LastW-1:0] last);
    if ((UbDepth & (UbDepth - 1)) == 0) in_buffer = last[FW] && (last[FW-1:0] >> AW) == '0;
    else                                in_buffer = last[FW] && last[FW-1:0] < FW'(UbDepth);
  endfunction

  // The block of `rows` rows at `start` is inside the buffer.
  function automatic logic fits(input logic [RowW-1:0] start, input logic [FW-2:0] rows);
    fits = start[RowW-1] && rows != '0 && FW'(start[AW:0]) + FW'(rows) <= FW'(UbDepth);
  endfunction

  // ---------------------------------------------------------------------------------
  // Architectural state.

  logic [2:0]     state_q;
  logic [PcW-1:0] pc_q;     // the instruction in decode
  logic [PcW-1:0] fa_q;     // the word on the instruction memory's output (in P)
  logic [3:0]     err_q;
  logic [31:0]    cycles_q;
  logic           running;

  // Operation register (the last `vpu`): configuration, and its bias and side rows resolved
  // through their registers when it issued; a row outside the buffer is an ErrAddress of the
  // matmul that uses it.
  tpu_pkg::vpu_cfg_t op_cfg_q;
  logic [RowW-1:0]   op_bias_q, op_side_q;

  // Address registers a1..a3 (a1 in the low slice). A seta or adda writes its register when it
  // issues, and they are cleared when the TPU stops. Only predecode reads them, as the
  // instruction in decode will leave them: a seta or adda in decode (which always issues
  // unless the TPU stops) forwards the value it will write. Nothing outside sees them.
  logic [3*ARW-1:0] areg_q;
  logic [3:1]       areg_ok_q;  // each register's bits above AW-1 are zero

  assign running = state_q == tpu_pkg::StRunning;

  // ---------------------------------------------------------------------------------
  // Decode's registers: the instruction at pc_q, predecoded.

  logic [3:0]        d_op;
  logic [PayW-1:0]   d_w;          // the word below the opcode
  logic [3:0]        d_perr;       // ErrOpcode, ErrField, or sgd's ErrAddress, found in P
  logic [RowW-1:0]   d_row_a, d_row_b;  // operand A and B resolved
  logic [AW-1:0]     d_rd_last, d_out_last, d_bias_last, d_side_last;  // the low bits
  logic              d_rd_in, d_out_in, d_bias_in, d_side_in;  // those blocks fit the buffer
  logic [AW-1:0]     d_bias_first;
  logic [RawW-1:0]   d_rd_lim, d_bias_lim, d_side_lim;
  logic              d_rd_block, d_uses_bias, d_uses_side, d_loop_zero, d_loop_many;
  logic              d_is_ld, d_is_mm, d_is_seed, d_drains;  // the opcode's kind of wait
  logic              d_is_vpu;
  logic [3:1]        d_aw;         // a seta or adda of a1, a2 or a3 (cleared when the TPU stops)
  logic [ARW-1:0]    d_areg_val;   // the value it writes
  logic              d_areg_ok;    // its bits above AW-1 are zero

  // Decode's fields (wiring).
  logic        d_known;
  logic [3:0]  d_op_again;
  logic [15:0] d_count, d_side, d_bias, d_addr, d_act, d_out, d_theta, d_grad, d_lr, d_imm;
  logic [1:0]  d_side_reg, d_bias_reg, d_addr_reg, d_act_reg, d_out_reg, d_areg;
  logic [14:0] d_cfg;
  logic [7:0]  d_ld_rows;
  logic [9:0]  d_mm_rows;
  logic [10:0] d_sgd_count;
  logic [5:0]  d_k, d_n;
  logic        d_ld_t, d_mm_t, d_stoch, d_acc;
  logic [31:0] d_seed;

  instr_decode u_ddec (
    .instr_i          ({d_op, d_w}),
    .legal_o          (d_known),
    .op_o             (d_op_again),
    .loop_count_o     (d_count),
    .seed_o           (d_seed),
    .vpu_side_o       (d_side),
    .vpu_side_reg_o   (d_side_reg),
    .vpu_bias_o       (d_bias),
    .vpu_bias_reg_o   (d_bias_reg),
    .vpu_cfg_o        (d_cfg),
    .loadw_addr_o     (d_addr),
    .loadw_addr_reg_o (d_addr_reg),
    .loadw_rows_o     (d_ld_rows),
    .loadw_t_o        (d_ld_t),
    .matmul_act_o     (d_act),
    .matmul_act_reg_o (d_act_reg),
    .matmul_out_o     (d_out),
    .matmul_out_reg_o (d_out_reg),
    .matmul_rows_o    (d_mm_rows),
    .matmul_k_o       (d_k),
    .matmul_n_o       (d_n),
    .matmul_t_o       (d_mm_t),
    .matmul_acc_o     (d_acc),
    .sgd_theta_o      (d_theta),
    .sgd_grad_o       (d_grad),
    .sgd_count_o      (d_sgd_count),
    .sgd_lr_o         (d_lr),
    .sgd_stochastic_o (d_stoch),
    .areg_imm_o       (d_imm),
    .areg_reg_o       (d_areg)
  );

  // Rows come predecoded; the checks of the word were made in P.
  logic d_unused;
  assign d_unused = ^{d_known, d_op_again, d_n, d_side, d_side_reg, d_bias, d_bias_reg, d_addr,
                      d_addr_reg, d_act, d_act_reg, d_out, d_out_reg, d_imm, d_areg};

  // ---------------------------------------------------------------------------------
  // Predecode (P): the word on the instruction memory's output.

  logic [3:0]  p_op;
  logic        p_known;  // a known opcode with every reserved bit clear
  logic [15:0] p_count, p_side, p_bias, p_addr, p_act, p_out, p_theta, p_grad, p_lr, p_imm;
  logic [1:0]  p_side_reg, p_bias_reg, p_addr_reg, p_act_reg, p_out_reg, p_areg;
  logic [14:0] p_cfg;
  logic [7:0]  p_ld_rows;
  logic [9:0]  p_mm_rows;
  logic [10:0] p_sgd_count;
  logic [5:0]  p_k, p_n;
  logic        p_ld_t, p_mm_t, p_stoch, p_acc;
  logic [31:0] p_seed;

  // Operand A and B are read through the matmul's names for them (loadw addr and vpu side are
  // the same bits as matmul act, vpu bias the same as matmul out).
  logic p_unused;
  assign p_unused = ^{p_side, p_side_reg, p_bias, p_bias_reg, p_addr, p_addr_reg, p_seed,
                      p_lr, p_stoch, p_k[0], p_n[0], p_cfg_s, op_cfg_p};

  instr_decode u_pdec (
    .instr_i          (imem_rdata_i),
    .legal_o          (p_known),
    .op_o             (p_op),
    .loop_count_o     (p_count),
    .seed_o           (p_seed),
    .vpu_side_o       (p_side),
    .vpu_side_reg_o   (p_side_reg),
    .vpu_bias_o       (p_bias),
    .vpu_bias_reg_o   (p_bias_reg),
    .vpu_cfg_o        (p_cfg),
    .loadw_addr_o     (p_addr),
    .loadw_addr_reg_o (p_addr_reg),
    .loadw_rows_o     (p_ld_rows),
    .loadw_t_o        (p_ld_t),
    .matmul_act_o     (p_act),
    .matmul_act_reg_o (p_act_reg),
    .matmul_out_o     (p_out),
    .matmul_out_reg_o (p_out_reg),
    .matmul_rows_o    (p_mm_rows),
    .matmul_k_o       (p_k),
    .matmul_n_o       (p_n),
    .matmul_t_o       (p_mm_t),
    .matmul_acc_o     (p_acc),
    .sgd_theta_o      (p_theta),
    .sgd_grad_o       (p_grad),
    .sgd_count_o      (p_sgd_count),
    .sgd_lr_o         (p_lr),
    .sgd_stochastic_o (p_stoch),
    .areg_imm_o       (p_imm),
    .areg_reg_o       (p_areg)
  );

  // The address registers P's instruction sees in decode (a[0] reads 0): a seta or adda in
  // decode forwards its value (d_aw is cleared when the TPU stops, so only flip-flops select).
  logic [4*ARW-1:0] areg_p;
  logic [4*AW-1:0]  areg_lo;
  logic [3:0]       areg_ok;
  always_comb begin
    areg_p  = {areg_q, ARW'(0)};
    areg_ok = {areg_ok_q, 1'b1};
    for (int k = 1; k < 4; k++) begin
      if (d_aw[k]) begin
        areg_p[k*ARW +: ARW] = d_areg_val;
        areg_ok[k]           = d_areg_ok;
      end
    end
    for (int k = 0; k < 4; k++) areg_lo[k*AW +: AW] = areg_p[k*ARW +: AW];
  end

  // The operation register P's instruction sees: a vpu in decode forwards its own.
  logic              fwd_vpu;
  tpu_pkg::vpu_cfg_t op_cfg_p;
  logic [RowW-1:0]   op_bias_p, op_side_p;
  assign fwd_vpu   = running && d_is_vpu;
  assign op_cfg_p  = fwd_vpu ? d_cfg : op_cfg_q;
  assign op_bias_p = fwd_vpu ? d_row_b : op_bias_q;
  assign op_side_p = fwd_vpu ? d_row_a : op_side_q;

  // Operand A (loadw addr, matmul act, vpu side) and B (matmul out, vpu bias): the same bits
  // in every format that has them (tpu_pkg field positions).
  logic [RowW-1:0] p_row_a, p_row_b;
  assign p_row_a = resolve(p_act, areg_lo, areg_ok, p_act_reg);
  assign p_row_b = resolve(p_out, areg_lo, areg_ok, p_out_reg);

  // What a matmul or loadw reads and writes, where its bias and side rows are, and the limits
  // of the hazard test (matmul_tracker): 2N+5 + first (streamed) or + last (a block of N rows),
  // 5 + first for the bias and side rows.
  logic              p_is_ld, p_rd_block, p_uses_bias, p_uses_side;
  logic [FW-2:0]     p_mm_rows_w, p_rd_rows;
  logic [LastW-1:0]  p_rd_last, p_out_last, p_side_last;
  logic [AW-1:0]     p_bias_last;
  logic [AW-1:0]     p_bias_first;
  logic [RawW-1:0]   p_rd_lim, p_bias_lim, p_side_lim;
  assign p_is_ld     = p_op == tpu_pkg::OpLoadw;
  assign p_mm_rows_w = (FW - 1)'(p_mm_rows);
  assign p_rd_block  = p_is_ld ? p_ld_t : p_mm_t;
  assign p_rd_rows   = p_is_ld ? (p_ld_t ? (FW - 1)'(N) : (FW - 1)'(p_ld_rows))
                               : (p_mm_t ? (FW - 1)'(N) : p_mm_rows_w);
  assign p_rd_last   = last_row(p_row_a, p_rd_rows);
  assign p_out_last  = last_row(p_row_b, p_mm_rows_w);
  assign p_rd_lim    = RawW'(p_row_a[AW-1:0])
                       + RawW'(p_rd_block ? WriteAge + N - 1 : WriteAge);
  // An accumulating matmul (acc) adds its output rows themselves, one per result row.
  assign p_uses_bias = op_cfg_p.mask[tpu_pkg::MaskBias] || p_acc;
  assign p_uses_side = op_cfg_p.mask[tpu_pkg::MaskLoss]
                       || (op_cfg_p.mask[tpu_pkg::MaskDeriv] && op_cfg_p.deriv_src);
  assign p_bias_first = p_acc ? p_row_b[AW-1:0] : op_bias_p[AW-1:0];
  assign p_bias_last  = p_acc ? p_out_last[AW-1:0] : op_bias_p[AW-1:0];
  assign p_bias_lim   = p_acc ? RawW'(p_row_b[AW-1:0]) + RawW'(5)
                              : RawW'(op_bias_p[AW-1:0]) + RawW'(5);
  assign p_side_last  = last_row(op_side_p, p_mm_rows_w);
  assign p_side_lim   = RawW'(op_side_p[AW-1:0]) + RawW'(5);

  // What a seta or adda will write (mod 2^16: the 16-bit sum drops the carry, and a negative
  // step is its complement).
  logic [ARW-1:0] p_areg_val;
  assign p_areg_val = (p_op == tpu_pkg::OpSeta) ? p_imm
                                                : areg_p[32'(p_areg)*ARW +: ARW] + p_imm;

  // The checks that need only the word, in the specification's order (ErrPc first, in
  // decode; the rows of loadw and matmul against UbDepth, and the loop stack, in decode).
  logic [RowW-1:0]   p_theta_row, p_grad_row;
  logic [3:0]        p_perr;
  tpu_pkg::vpu_cfg_t p_cfg_s;
  assign p_cfg_s = p_cfg;
  assign p_theta_row = resolve(p_theta, areg_lo, 4'b0001, 2'd0);
  assign p_grad_row  = resolve(p_grad, areg_lo, 4'b0001, 2'd0);
  always_comb begin
    p_perr = tpu_pkg::ErrNone;
    if (!p_known) begin
      p_perr = tpu_pkg::ErrOpcode;
    end else begin
      unique case (p_op)
        tpu_pkg::OpVpu: begin
          if (p_cfg_s.act_fn == 2'd3) p_perr = tpu_pkg::ErrField;
        end
        tpu_pkg::OpLoadw: begin
          if (p_ld_rows == '0 || 32'(p_ld_rows) > N) p_perr = tpu_pkg::ErrField;
        end
        tpu_pkg::OpMatmul: begin
          if (p_mm_rows == '0 || p_k == '0 || 32'(p_k) > N || p_n == '0 || 32'(p_n) > N
              || (p_mm_t && 32'(p_mm_rows) > N)) p_perr = tpu_pkg::ErrField;
        end
        tpu_pkg::OpSgd: begin
          if (p_sgd_count == '0) p_perr = tpu_pkg::ErrField;
          else if (!fits(p_theta_row, (FW - 1)'(p_sgd_count))
                   || !fits(p_grad_row, (FW - 1)'(p_sgd_count))) p_perr = tpu_pkg::ErrAddress;
        end
        tpu_pkg::OpSeta, tpu_pkg::OpAdda: begin
          if (p_areg == '0) p_perr = tpu_pkg::ErrField;
        end
        default: ;
      endcase
    end
  end

  // ---------------------------------------------------------------------------------
  // Decode (D): the checks that need the machine's state, in the specification's order.

  logic loop_empty, loop_full, loop_repeat, loop_repeat_next, loop_second_repeat;
  logic [PcW-1:0] loop_start, loop_second_start;
  logic issue, issue_ld, issue_mm, issue_sgd, issue_loop, issue_endl;

  logic [3:0] dec_err;   // the error this instruction raises, ErrNone when legal
  logic       drained, sgd_idle, raw_rd, raw_bias, raw_side, table_full, none_in_flight;
  logic [LdW-1:0] ld_cnt_q;  // cycles the weight loader stays busy

  assign sgd_idle = sgd_idle_i;
  assign drained  = none_in_flight && ld_cnt_q == '0 && sgd_idle;

  always_comb begin
    dec_err = tpu_pkg::ErrNone;
    if (32'(pc_q) >= ImemDepth) begin
      dec_err = tpu_pkg::ErrPc;
    end else if (d_perr != tpu_pkg::ErrNone) begin
      dec_err = d_perr;
    end else begin
      unique case (d_op)
        tpu_pkg::OpLoadw: if (!d_rd_in) dec_err = tpu_pkg::ErrAddress;
        tpu_pkg::OpMatmul: begin
          if (!d_rd_in || !d_out_in || (d_uses_bias && !d_bias_in) || (d_uses_side && !d_side_in))
            dec_err = tpu_pkg::ErrAddress;
        end
        tpu_pkg::OpLoop: if (d_loop_zero || loop_full) dec_err = tpu_pkg::ErrLoop;
        tpu_pkg::OpEndl: if (loop_empty) dec_err = tpu_pkg::ErrLoop;
        default: ;
      endcase
    end
    // Decode's own checks first; a buffer error is the last line of defence.
    if (dec_err == tpu_pkg::ErrNone && ub_err_i) dec_err = tpu_pkg::ErrBuffer;
  end

  // Issue, per kind of wait (the opcode's kind comes decoded from P, one flag each): only a
  // loadw or matmul waits for the hazard test, the deepest logic here, so that only what they
  // start hangs off it; the other instructions' effects (state, registers, the loops, the
  // gradient-descent unit) do not.
  logic dec_ok, issue_now;
  assign dec_ok    = running && dec_err == tpu_pkg::ErrNone;
  assign issue_ld  = dec_ok && d_is_ld && ub_rd_ready_i[1] && sgd_idle && !raw_rd;
  assign issue_mm  = dec_ok && d_is_mm && ub_rd_ready_i[0] && !table_full && sgd_idle && !raw_rd
                     && !(d_uses_bias && raw_bias) && !(d_uses_side && raw_side);
  assign issue_now = dec_ok && !d_is_ld && !d_is_mm && !(d_is_seed && !sgd_idle)
                     && !(d_drains && !drained);
  assign issue     = issue_ld || issue_mm || issue_now;

  assign issue_sgd  = issue_now && d_op == tpu_pkg::OpSgd;
  assign issue_loop = issue_now && d_op == tpu_pkg::OpLoop;
  assign issue_endl = issue_now && d_op == tpu_pkg::OpEndl;

  // The TPU stops now: an error, or a halt issues.
  logic stop_now;
  assign stop_now = running && (dec_err != tpu_pkg::ErrNone
                                || (issue_now && d_op == tpu_pkg::OpHalt));

  // The matmuls in flight, and their read-after-write answer for the instruction in decode.
  // The operation register is the one the matmul issues with (a vpu before it has issued).
  tpu_pkg::vpu_cfg_t mm_cfg;
  always_comb begin
    mm_cfg = op_cfg_q;
    mm_cfg.mask[tpu_pkg::MaskBias] = d_uses_bias;
  end

  matmul_tracker #(.ArrayDim(N), .UbDepth(UbDepth), .MaxInFlight(MaxInFlight)) u_tracker (
    .clk_i,
    .rst_ni,
    .issue_i         (issue_mm),
    .out_i           (d_row_b[AW-1:0]),
    .out_last_i      (d_out_last),
    .rows_i          (CW'(d_mm_rows)),
    .n_i             (NW'(d_n)),
    .bias_i          (d_bias_first),
    .bias_step_i     (d_acc),
    .side_i          (op_side_q[AW-1:0]),
    .cfg_i           (mm_cfg),
    .full_o          (table_full),
    .empty_o         (none_in_flight),
    .rd_first_i      (d_row_a[AW-1:0]),
    .rd_last_i       (d_rd_last),
    .rd_block_i      (d_rd_block),
    .rd_lim_i        (d_rd_lim),
    .bias_first_i    (d_bias_first),
    .bias_last_i     (d_bias_last),
    .bias_lim_i      (d_bias_lim),
    .side_first_i    (op_side_q[AW-1:0]),
    .side_last_i     (d_side_last),
    .side_lim_i      (d_side_lim),
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

  // The loops. A `loop` pushes the address after it: the word in P.
  loop_stack #(.Depth(LoopDepth), .PcW(PcW), .CountW(16)) u_loops (
    .clk_i,
    .rst_ni,
    .clear_i         (start_i),
    .push_i          (issue_loop),
    .push_start_i    (fa_q),
    .push_count_i    (d_count),
    .endl_i          (issue_endl),
    .empty_o         (loop_empty),
    .full_o          (loop_full),
    .repeat_o        (loop_repeat),
    .top_start_o     (loop_start),
    .repeat_next_o   (loop_repeat_next),
    .second_repeat_o (loop_second_repeat),
    .second_start_o  (loop_second_start)
  );

  // ---------------------------------------------------------------------------------
  // Fetch, next PC and state.

  // The word after P's when P's instruction reaches decode now: an `endl` that will jump back
  // (the loop on top once this cycle's loop or endl, if any, has issued) fetches the loop's
  // start. A wrong guess is impossible: nothing else changes the loop stack.
  logic           p_jumps;
  logic [PcW-1:0] p_target, fetch_next;
  always_comb begin
    unique case (d_op)
      tpu_pkg::OpLoop: begin
        p_jumps  = d_loop_many;
        p_target = fa_q;
      end
      tpu_pkg::OpEndl: begin
        p_jumps  = loop_repeat ? loop_repeat_next : loop_second_repeat;
        p_target = loop_repeat ? loop_start : loop_second_start;
      end
      default: begin
        p_jumps  = loop_repeat;
        p_target = loop_start;
      end
    endcase
    fetch_next = (p_op == tpu_pkg::OpEndl && p_jumps) ? p_target : fa_q + PcW'(1);
  end

  // What the memory reads now: P's word moves to decode at a start (P holds word 0) or an
  // issue; it stays while decode waits or the TPU is in Sync; and when the TPU stops (a halt
  // issues, an error, or already stopped) the memory reads word 0 for the next start. The
  // issue, the deepest signal here, selects last: fetch_adv (an issue that is not a halt)
  // takes fetch_next, and everything else (fa_wait, or the host's address while the control
  // unit is stopped: the host reads instruction words only then) is settled before it.
  logic [PcW-1:0] fa_d, fa_wait, pc_d;
  logic           d_load, fetch_adv;
  assign d_load    = start_i || issue;
  assign fetch_adv = issue_ld || issue_mm || (issue_now && d_op != tpu_pkg::OpHalt);
  always_comb begin
    if (start_i)                                                       fa_wait = PcW'(1);
    else if ((running && !stop_now) || state_q == tpu_pkg::StSync)     fa_wait = fa_q;
    else                                                               fa_wait = '0;
  end
  assign fa_d         = fetch_adv ? fetch_next : fa_wait;
  assign imem_raddr_o = fetch_adv   ? fetch_next[ImemAW-1:0]
                      : host_re_i   ? host_raddr_i
                      :               fa_wait[ImemAW-1:0];

  // The PC follows P's word into decode (a halt stays).
  always_comb begin
    pc_d = pc_q;
    if (start_i)                              pc_d = '0;
    else if (issue && d_op != tpu_pkg::OpHalt) pc_d = fa_q;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      d_op         <= tpu_pkg::OpNop;
      d_w          <= '0;
      d_perr       <= tpu_pkg::ErrNone;
      d_row_a      <= '0;
      d_row_b      <= '0;
      d_rd_last    <= '0;
      d_out_last   <= '0;
      d_bias_last  <= '0;
      d_side_last  <= '0;
      d_rd_in      <= 1'b0;
      d_out_in     <= 1'b0;
      d_bias_in    <= 1'b0;
      d_side_in    <= 1'b0;
      d_bias_first <= '0;
      d_rd_lim     <= '0;
      d_bias_lim   <= '0;
      d_side_lim   <= '0;
      d_rd_block   <= 1'b0;
      d_uses_bias  <= 1'b0;
      d_uses_side  <= 1'b0;
      d_loop_zero  <= 1'b0;
      d_loop_many  <= 1'b0;
      d_is_ld      <= 1'b0;
      d_is_mm      <= 1'b0;
      d_is_seed    <= 1'b0;
      d_drains     <= 1'b0;
      d_is_vpu     <= 1'b0;
      d_areg_val   <= '0;
      d_areg_ok    <= 1'b1;
    end else if (d_load) begin
      d_op         <= p_op;
      d_w          <= imem_rdata_i[PayW-1:0];
      d_perr       <= p_perr;
      d_row_a      <= p_row_a;
      d_row_b      <= p_row_b;
      d_rd_last    <= p_rd_last[AW-1:0];
      d_out_last   <= p_out_last[AW-1:0];
      d_bias_last  <= p_bias_last;
      d_side_last  <= p_side_last[AW-1:0];
      d_rd_in      <= in_buffer(p_rd_last);
      d_out_in     <= in_buffer(p_out_last);
      d_bias_in    <= p_acc ? in_buffer(p_out_last)  // the mux after the test: shorter
                            : in_buffer({op_bias_p[RowW-1], FW'(op_bias_p[AW:0])});
      d_side_in    <= in_buffer(p_side_last);
      d_bias_first <= p_bias_first;
      d_rd_lim     <= p_rd_lim;
      d_bias_lim   <= p_bias_lim;
      d_side_lim   <= p_side_lim;
      d_rd_block   <= p_rd_block;
      d_uses_bias  <= p_uses_bias;
      d_uses_side  <= p_uses_side;
      d_loop_zero  <= p_count == '0;
      d_loop_many  <= p_count > 16'd1;
      d_is_ld      <= p_op == tpu_pkg::OpLoadw;
      d_is_mm      <= p_op == tpu_pkg::OpMatmul;
      d_is_seed    <= p_op == tpu_pkg::OpSeed;
      d_drains     <= p_op == tpu_pkg::OpSgd || p_op == tpu_pkg::OpSync || p_op == tpu_pkg::OpHalt;
      d_is_vpu     <= p_op == tpu_pkg::OpVpu;
      d_areg_val   <= p_areg_val;
      d_areg_ok    <= (p_areg_val >> AW) == '0;
    end
  end

  // A seta or adda in decode, cleared when the TPU stops (a halt that issues may load one).
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      d_aw <= '0;
    end else if (stop_now) begin
      d_aw <= '0;
    end else if (d_load) begin
      for (int k = 1; k < 4; k++) begin
        d_aw[k] <= (p_op == tpu_pkg::OpSeta || p_op == tpu_pkg::OpAdda) && 32'(p_areg) == k;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q   <= tpu_pkg::StIdle;
      pc_q      <= '0;
      fa_q      <= '0;
      err_q     <= tpu_pkg::ErrNone;
      cycles_q  <= '0;
      op_cfg_q  <= '0;
      op_bias_q <= '0;
      op_side_q <= '0;
    end else begin
      pc_q <= pc_d;
      fa_q <= fa_d;
      if (state_q == tpu_pkg::StRunning || state_q == tpu_pkg::StSync) cycles_q <= cycles_q + 1;
      if (start_i) begin
        state_q  <= tpu_pkg::StRunning;
        err_q    <= tpu_pkg::ErrNone;
        cycles_q <= '0;
      end else if (continue_i) begin
        state_q <= tpu_pkg::StRunning;
      end else if (running && dec_err != tpu_pkg::ErrNone) begin
        state_q <= tpu_pkg::StError;
        err_q   <= dec_err;
      end else if (issue_now) begin  // a loadw or matmul changes none of these
        unique case (d_op)
          tpu_pkg::OpHalt: state_q <= tpu_pkg::StDone;
          tpu_pkg::OpSync: state_q <= tpu_pkg::StSync;
          tpu_pkg::OpVpu: begin
            op_cfg_q  <= d_cfg;
            op_bias_q <= d_row_b;
            op_side_q <= d_row_a;
          end
          default: ;
        endcase
      end
    end
  end

  // The address registers: written when a seta or adda issues (its kind of wait is none, so
  // the hazard test does not reach these enables); when the TPU stops they clear, which a
  // start also needs (a start can come the cycle after the stop).
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      areg_q    <= '0;
      areg_ok_q <= '1;
    end else if (stop_now) begin
      areg_q    <= '0;
      areg_ok_q <= '1;
    end else if (issue_now) begin
      for (int k = 1; k < 4; k++) begin
        if (d_aw[k]) begin
          areg_q[(k-1)*ARW +: ARW] <= d_areg_val;
          areg_ok_q[k]             <= d_areg_ok;
        end
      end
    end
  end

  // ---------------------------------------------------------------------------------
  // Ports 0 (activations) and 1 (weights): the commands of the matmul or loadw issuing now.

  assign ub_rd_valid_o[0]            = issue_mm;
  assign ub_rd_cmd_o[0 +: RdCmdW]    = tpu_pkg::ub_rd_cmd(AddrW'(d_row_a[AW-1:0]),
                                                          AddrW'(d_mm_rows), AddrW'(1),
                                                          LanesW'(d_k), d_mm_t);
  assign ub_rd_valid_o[1]            = issue_ld;
  assign ub_rd_cmd_o[RdCmdW +: RdCmdW] = tpu_pkg::ub_rd_cmd(AddrW'(d_row_a[AW-1:0]),
                                                            AddrW'(d_ld_rows), AddrW'(1),
                                                            LanesW'(N), d_ld_t);

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
      if (issue_ld)            ld_cnt_q <= LdW'(d_ld_rows) + LdW'(1);
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
  assign sgd_cmd_o       = {d_theta, d_grad, 16'(d_sgd_count), d_lr, d_stoch};
  assign seed_valid_o    = issue_now && d_is_seed;
  assign seed_o          = d_seed;

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
