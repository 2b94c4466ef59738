// Control unit: fetches, decodes and issues the program in instruction memory, one
// instruction per cycle at most, and sequences the datapath: the weight loader, the
// matmul stream (activations, then the vector unit's side rows 2N cycles later, then the
// result write 2N+5 cycles after issue), the gradient-descent unit and the loops.
// It waits in hardware for ports, for reads after writes to the same rows (RAW), and for
// the datapath to drain; an illegal instruction halts it with an error code before
// anything of that instruction happens. Buffer rows are resolved in decode through the
// address registers a1..a3 (row = field + a[sel], exact in 17 bits).
// Specification: docs/architecture.md ("The TPU") and docs/isa.md.
module control_unit #(
  parameter int ArrayDim  = tpu_pkg::ArrayDim,
  parameter int UbDepth   = 256,
  parameter int ImemDepth = 256,
  localparam int ImemAW   = (ImemDepth > 1) ? $clog2(ImemDepth) : 1,
  localparam int IdxWidth = tpu_pkg::idx_width(ArrayDim),
  localparam int RdCmdW   = tpu_pkg::UbRdCmdWidth
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  // Instruction memory: the address read now is the instruction in decode next cycle.
  output logic [ImemAW-1:0]       imem_raddr_o,
  input  tpu_pkg::instr_t         imem_rdata_i,
  // Host control (CSR writes the top has already found legal).
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
  output tpu_pkg::ub_wr_cmd_t     ub_wr_cmd_o,
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
  localparam int N          = ArrayDim;
  localparam int Slots      = 8;   // matmuls in flight at most
  localparam int LoopDepth  = 4;
  localparam int SideAge    = 2 * N;       // side reads, cycles after issue
  localparam int WriteAge   = 2 * N + 5;   // write command
  localparam int LanesW     = tpu_pkg::LanesWidth;

  // ---------------------------------------------------------------------------------
  // Architectural state.

  logic [2:0]  state_q;
  logic [15:0] pc_q;
  logic [3:0]  err_q;
  logic [31:0] cycles_q;
  logic        running;

  // Operation register (the last `vpu`): rows already resolved through their registers,
  // in 17 bits; a row past the buffer is an ErrAddress of the matmul that uses it.
  tpu_pkg::vpu_cfg_t op_cfg_q;
  logic [16:0]       op_bias_q, op_side_q;

  // Address registers a1..a3 (a1 in the low slice); a[0] is no register and reads 0.
  logic [3*16-1:0] areg_q;
  logic [4*16-1:0] areg_all;
  assign areg_all = {areg_q, 16'd0};

  // Loop stack.
  logic [LoopDepth*16-1:0] loop_start_q, loop_count_q;
  logic [2:0]              sp_q;

  // In-flight matmuls, slot s in slice s.
  logic [Slots-1:0]                 e_valid_q, e_acc_q;
  logic [Slots*16-1:0]              e_out_q, e_rows_q, e_age_q, e_bias_q, e_side_q;
  logic [Slots*LanesW-1:0]          e_n_q;
  logic [Slots*tpu_pkg::VpuCfgWidth-1:0] e_cfg_q;

  // Weight loader and the first-row markers of the weight and activation streams (a
  // loadw's rows start arriving two cycles after its issue, possibly while the previous
  // loadw's last row is still coming in).
  logic [8:0]          ld_cnt_q;   // cycles the loader stays busy
  logic [IdxWidth-1:0] ld_row_q;
  logic [1:0]          ld_first_q, first_q;

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

  // The rows the instruction in decode names: field + a[sel], exact in 17 bits so that a
  // sum past 65535 is still outside the buffer rather than wrapped into it.
  logic [16:0] r_addr, r_act, r_out, r_side, r_bias;
  assign r_addr = 17'(f_addr) + 17'(areg_all[32'(f_addr_reg)*16 +: 16]);
  assign r_act  = 17'(f_act)  + 17'(areg_all[32'(f_act_reg)*16 +: 16]);
  assign r_out  = 17'(f_out)  + 17'(areg_all[32'(f_out_reg)*16 +: 16]);
  assign r_side = 17'(f_side) + 17'(areg_all[32'(f_side_reg)*16 +: 16]);
  assign r_bias = 17'(f_bias) + 17'(areg_all[32'(f_bias_reg)*16 +: 16]);

  // The last row of a block of `rows` rows at `start` is inside the buffer.
  function automatic logic fits(input logic [16:0] start, input logic [15:0] rows);
    fits = rows != '0 && (32'(start) + 32'(rows)) <= UbDepth;
  endfunction

  // Rows the matmul in decode reads: activations, the bias row, the side rows.
  logic        uses_bias, uses_side;
  logic [15:0] act_rows, ld_rows_read, bias_rows;
  logic [16:0] bias_start;
  tpu_pkg::vpu_cfg_t f_cfg_s, mm_cfg;
  assign f_cfg_s   = f_cfg;
  // An accumulating matmul (acc) adds its output rows themselves, one per result row.
  assign uses_bias = op_cfg_q.mask[tpu_pkg::MaskBias] || f_acc;
  always_comb begin
    mm_cfg = op_cfg_q;
    mm_cfg.mask[tpu_pkg::MaskBias] = uses_bias;
  end
  assign uses_side = op_cfg_q.mask[tpu_pkg::MaskLoss]
                     || (op_cfg_q.mask[tpu_pkg::MaskDeriv] && op_cfg_q.deriv_src);
  assign act_rows     = f_mm_t ? 16'(N) : 16'(f_mm_rows);
  assign ld_rows_read = f_ld_t ? 16'(N) : 16'(f_ld_rows);
  assign bias_start   = f_acc ? r_out : op_bias_q;
  assign bias_rows    = f_acc ? 16'(f_mm_rows) : 16'd1;

  // A RAW hazard (docs/architecture.md): rows [start, start+rows-1], read from cycle
  // t + d on, one row per cycle in address order (streamed) or all from the first cycle
  // (block), meet the output rows of a matmul in flight that writes one of them too late.
  // Slot s, issued age cycles ago, writes row o+j at the end of cycle t - age + 2N + 6 + j:
  // a read of row r in cycle t + d + (r - start) (streamed; block: every row in t + d)
  // comes too late for the write unless age + o > 2N + 6 - d + lim, where lim is start
  // (streamed) or the last overlapping row (block). Decode checks every (resolved) row
  // against UbDepth before it looks for hazards, so rows and ages fit RawW bits: few LUTs;
  // a row truncated here belongs to an ErrAddress, which decides before the hazard.
  localparam int RawW = $clog2(UbDepth + 2 * N + 8) + 1;
  logic [Slots*RawW-1:0] slot_last, slot_age_o;  // o + rows - 1, age + o

  always_comb begin
    for (int s = 0; s < Slots; s++) begin
      slot_last[s*RawW +: RawW]  = RawW'(e_out_q[s*16 +: 16]) + RawW'(e_rows_q[s*16 +: 16])
                                   - RawW'(1);
      slot_age_o[s*RawW +: RawW] = RawW'(e_age_q[s*16 +: 16]) + RawW'(e_out_q[s*16 +: 16]);
    end
  end

  function automatic logic raw(input logic [RawW-1:0] start, input logic [RawW-1:0] rows,
                               input int d, input logic streamed,
                               input logic [Slots-1:0] valid, input logic [Slots*16-1:0] outs,
                               input logic [Slots*RawW-1:0] lasts,
                               input logic [Slots*RawW-1:0] age_o);
    logic [RawW-1:0] first, last, o, o_last, lim;
    raw   = 1'b0;
    first = start;
    last  = start + rows - RawW'(1);
    for (int s = 0; s < Slots; s++) begin
      o      = RawW'(outs[s*16 +: 16]);
      o_last = lasts[s*RawW +: RawW];
      lim    = streamed ? first : ((last < o_last) ? last : o_last);
      if (valid[s] && first <= o_last && o <= last
          && age_o[s*RawW +: RawW] <= RawW'(2 * N + 6 - d) + lim) begin
        raw = 1'b1;
      end
    end
  endfunction

  // One check serves the activation rows of a matmul and the rows of a loadw (never both).
  logic [RawW-1:0] rd_start, rd_rows;
  logic            rd_streamed;
  assign rd_start    = (op == tpu_pkg::OpLoadw) ? RawW'(r_addr) : RawW'(r_act);
  assign rd_rows     = (op == tpu_pkg::OpLoadw) ? RawW'(ld_rows_read) : RawW'(act_rows);
  assign rd_streamed = (op == tpu_pkg::OpLoadw) ? !f_ld_t : !f_mm_t;

  logic raw_rd, raw_bias, raw_side;
  assign raw_rd   = raw(rd_start, rd_rows, 1, rd_streamed, e_valid_q, e_out_q, slot_last,
                        slot_age_o);
  assign raw_bias = uses_bias && raw(RawW'(bias_start), RawW'(bias_rows), SideAge + 1, f_acc,
                                     e_valid_q, e_out_q, slot_last, slot_age_o);
  assign raw_side = uses_side && raw(RawW'(op_side_q), RawW'(f_mm_rows), SideAge + 1, 1'b1,
                                     e_valid_q, e_out_q, slot_last, slot_age_o);

  logic [3:0] dec_err;   // the error this instruction raises, ErrNone when legal
  logic       wait_now;  // legal but must wait this cycle
  logic       drained, sgd_idle, table_full;

  assign sgd_idle   = sgd_idle_i;
  assign table_full = &e_valid_q;
  assign drained    = e_valid_q == '0 && ld_cnt_q == '0 && sgd_idle;

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
          if (f_ld_rows == '0 || 32'(f_ld_rows) > N)     dec_err = tpu_pkg::ErrField;
          else if (!fits(r_addr, ld_rows_read))          dec_err = tpu_pkg::ErrAddress;
          else wait_now = !ub_rd_ready_i[1] || !sgd_idle || raw_rd;
        end
        tpu_pkg::OpMatmul: begin
          if (f_mm_rows == '0 || f_k == '0 || 32'(f_k) > N || f_n == '0 || 32'(f_n) > N
              || (f_mm_t && 32'(f_mm_rows) > N)) begin
            dec_err = tpu_pkg::ErrField;
          end else if (!fits(r_act, act_rows) || !fits(r_out, 16'(f_mm_rows))
                       || (uses_bias && !fits(bias_start, bias_rows))
                       || (uses_side && !fits(op_side_q, 16'(f_mm_rows)))) begin
            dec_err = tpu_pkg::ErrAddress;
          end else begin
            wait_now = !ub_rd_ready_i[0] || table_full || !sgd_idle
                       || raw_rd || raw_bias || raw_side;
          end
        end
        tpu_pkg::OpSgd: begin
          if (f_sgd_count == '0)                                       dec_err = tpu_pkg::ErrField;
          else if (!fits(17'(f_theta), 16'(f_sgd_count)) || !fits(17'(f_grad), 16'(f_sgd_count)))
            dec_err = tpu_pkg::ErrAddress;
          else wait_now = !drained;
        end
        tpu_pkg::OpLoop: begin
          if (f_count == '0 || sp_q == 3'(LoopDepth)) dec_err = tpu_pkg::ErrLoop;
        end
        tpu_pkg::OpEndl: begin
          if (sp_q == '0) dec_err = tpu_pkg::ErrLoop;
        end
        tpu_pkg::OpSeta, tpu_pkg::OpAdda: begin
          if (f_areg == '0) dec_err = tpu_pkg::ErrField;
        end
        tpu_pkg::OpSeed:                 wait_now = !sgd_idle;
        tpu_pkg::OpSync, tpu_pkg::OpHalt: wait_now = !drained;
        default: ;  // nop
      endcase
    end
    // Decode's own checks first; a buffer error is the last line of defence.
    if (dec_err == tpu_pkg::ErrNone && ub_err_i) dec_err = tpu_pkg::ErrBuffer;
  end

  logic issue;
  assign issue = running && dec_err == tpu_pkg::ErrNone && !wait_now;

  // ---------------------------------------------------------------------------------
  // Next PC and state.

  logic [15:0] pc_d, top_start, top_count;
  assign top_start = (sp_q != '0) ? loop_start_q[(32'(sp_q) - 1)*16 +: 16] : '0;
  assign top_count = (sp_q != '0) ? loop_count_q[(32'(sp_q) - 1)*16 +: 16] : '0;

  always_comb begin
    pc_d = pc_q;
    if (start_i) begin
      pc_d = '0;
    end else if (issue) begin
      unique case (op)
        tpu_pkg::OpHalt: pc_d = pc_q;
        tpu_pkg::OpEndl: pc_d = (top_count > 16'd1) ? top_start : pc_q + 16'd1;
        default:         pc_d = pc_q + 16'd1;
      endcase
    end
  end

  assign imem_raddr_o = pc_d[ImemAW-1:0];

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q      <= tpu_pkg::StIdle;
      pc_q         <= '0;
      err_q        <= tpu_pkg::ErrNone;
      cycles_q     <= '0;
      sp_q         <= '0;
      loop_start_q <= '0;
      loop_count_q <= '0;
      op_cfg_q     <= '0;
      op_bias_q    <= '0;
      op_side_q    <= '0;
      areg_q       <= '0;
    end else begin
      pc_q <= pc_d;
      if (state_q == tpu_pkg::StRunning || state_q == tpu_pkg::StSync) cycles_q <= cycles_q + 1;
      if (start_i) begin
        state_q  <= tpu_pkg::StRunning;
        err_q    <= tpu_pkg::ErrNone;
        cycles_q <= '0;
        sp_q     <= '0;
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
            op_bias_q <= r_bias;
            op_side_q <= r_side;
          end
          tpu_pkg::OpSeta: areg_q[(32'(f_areg) - 1)*16 +: 16] <= f_imm;
          // mod 2^16: the 16-bit sum drops the carry, and a negative step is its complement.
          tpu_pkg::OpAdda: areg_q[(32'(f_areg) - 1)*16 +: 16] <=
                               areg_all[32'(f_areg)*16 +: 16] + f_imm;
          tpu_pkg::OpLoop: begin
            loop_start_q[32'(sp_q)*16 +: 16] <= pc_q + 16'd1;
            loop_count_q[32'(sp_q)*16 +: 16] <= f_count;
            sp_q <= sp_q + 3'd1;
          end
          tpu_pkg::OpEndl: begin
            if (top_count > 16'd1) loop_count_q[(32'(sp_q) - 1)*16 +: 16] <= top_count - 16'd1;
            else                   sp_q <= sp_q - 3'd1;
          end
          default: ;
        endcase
      end
    end
  end

  // ---------------------------------------------------------------------------------
  // Datapath sequencing.

  logic issue_ld, issue_mm, issue_sgd;
  assign issue_ld  = issue && op == tpu_pkg::OpLoadw;
  assign issue_mm  = issue && op == tpu_pkg::OpMatmul;
  assign issue_sgd = issue && op == tpu_pkg::OpSgd;

  // Free slot for a new matmul: the lowest.
  logic [$clog2(Slots)-1:0] free_slot;
  always_comb begin
    free_slot = '0;
    for (int s = Slots - 1; s >= 0; s--) if (!e_valid_q[s]) free_slot = $clog2(Slots)'(s);
  end

  // Per-slot events this cycle.
  logic [Slots-1:0] ev_side, ev_write, ev_retire, in_vpu;
  always_comb begin
    for (int s = 0; s < Slots; s++) begin
      ev_side[s]   = e_valid_q[s] && e_age_q[s*16 +: 16] == 16'(SideAge);
      ev_write[s]  = e_valid_q[s] && e_age_q[s*16 +: 16] == 16'(WriteAge);
      ev_retire[s] = e_valid_q[s]
                     && 32'(e_age_q[s*16 +: 16]) == WriteAge + 32'(e_rows_q[s*16 +: 16]);
      in_vpu[s]    = e_valid_q[s] && 32'(e_age_q[s*16 +: 16]) >= SideAge + 2
                     && 32'(e_age_q[s*16 +: 16]) < SideAge + 2 + 32'(e_rows_q[s*16 +: 16]);
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      e_valid_q <= '0;
      e_acc_q   <= '0;
      e_out_q   <= '0;
      e_rows_q  <= '0;
      e_age_q   <= '0;
      e_bias_q  <= '0;
      e_side_q  <= '0;
      e_n_q     <= '0;
      e_cfg_q   <= '0;
    end else begin
      for (int s = 0; s < Slots; s++) begin
        if (e_valid_q[s]) e_age_q[s*16 +: 16] <= e_age_q[s*16 +: 16] + 16'd1;
        if (ev_retire[s]) e_valid_q[s] <= 1'b0;
      end
      if (issue_mm) begin
        e_valid_q[free_slot]                               <= 1'b1;
        e_acc_q[free_slot]                                 <= f_acc;
        e_age_q[32'(free_slot)*16 +: 16]                   <= 16'd1;
        e_out_q[32'(free_slot)*16 +: 16]                   <= 16'(r_out);
        e_rows_q[32'(free_slot)*16 +: 16]                  <= 16'(f_mm_rows);
        e_n_q[32'(free_slot)*LanesW +: LanesW]             <= LanesW'(f_n);
        e_bias_q[32'(free_slot)*16 +: 16]                  <= 16'(bias_start);
        e_side_q[32'(free_slot)*16 +: 16]                  <= 16'(op_side_q);
        e_cfg_q[32'(free_slot)*tpu_pkg::VpuCfgWidth +: tpu_pkg::VpuCfgWidth] <= mm_cfg;
      end
    end
  end

  // Buffer commands. `cfg` lives at module scope: Yosys 0.23 cannot take the members of a
  // struct declared inside the block (it read cfg.mask as undefined bits).
  tpu_pkg::vpu_cfg_t cfg;
  always_comb begin
    cfg               = '0;
    ub_rd_valid_o     = '0;
    ub_rd_cmd_o       = '0;
    ub_wr_cmd_valid_o = 1'b0;
    ub_wr_cmd_o       = '0;
    vpu_cfg_o         = '0;
    // Port 0: activations.
    ub_rd_valid_o[0]           = issue_mm;
    ub_rd_cmd_o[0 +: RdCmdW]   = {16'(r_act), 16'(f_mm_rows), 16'd1, LanesW'(f_k), f_mm_t};
    // Port 1: weights.
    ub_rd_valid_o[1]               = issue_ld;
    ub_rd_cmd_o[RdCmdW +: RdCmdW]  = {16'(r_addr), 16'(f_ld_rows), 16'd1, LanesW'(N), f_ld_t};
    for (int s = 0; s < Slots; s++) begin
      cfg = e_cfg_q[s*tpu_pkg::VpuCfgWidth +: tpu_pkg::VpuCfgWidth];
      if (ev_side[s]) begin
        ub_rd_valid_o[2] = cfg.mask[tpu_pkg::MaskBias];
        ub_rd_cmd_o[2*RdCmdW +: RdCmdW] =
            {e_bias_q[s*16 +: 16], e_rows_q[s*16 +: 16], e_acc_q[s] ? 16'd1 : 16'd0,
             LanesW'(N), 1'b0};
        ub_rd_valid_o[3] = cfg.mask[tpu_pkg::MaskLoss]
                           || (cfg.mask[tpu_pkg::MaskDeriv] && cfg.deriv_src);
        ub_rd_cmd_o[3*RdCmdW +: RdCmdW] =
            {e_side_q[s*16 +: 16], e_rows_q[s*16 +: 16], 16'd1, LanesW'(N), 1'b0};
      end
      if (ev_write[s]) begin
        ub_wr_cmd_valid_o = 1'b1;
        ub_wr_cmd_o       = {e_out_q[s*16 +: 16], e_rows_q[s*16 +: 16], 16'd1,
                             e_n_q[s*LanesW +: LanesW]};
      end
      if (in_vpu[s]) vpu_cfg_o = cfg;
    end
  end

  // Weight loader: rows on port 1 go to the array, the i-th with w_row = i.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      ld_cnt_q   <= '0;
      ld_row_q   <= '0;
      ld_first_q <= '0;
      first_q    <= '0;
    end else begin
      if (issue_ld)            ld_cnt_q <= 9'(f_ld_rows) + 9'd1;
      else if (ld_cnt_q != '0) ld_cnt_q <= ld_cnt_q - 9'd1;
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
  assign pc_o     = pc_q;
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
