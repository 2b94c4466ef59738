// Formal properties of the control unit's states (rtl/ctrl/control_unit.sv), proved by
// scripts/formal.sh at a small ArrayDim, UbDepth, ImemDepth and MaxInFlight.
//
// The program is arbitrary: the instruction memory holds any ImemDepth words, fixed for the
// run (anyconst), and reads them as tpu.sv's does (registered, at imem_raddr_o). Everything
// else the unit sees is free in every cycle (buffer readiness, rows coming back, the buffer's
// error, the gradient-descent unit's idle, host reads of the instruction memory), within the
// host port's contract (rtl/ctrl/host_port.sv, docs/architecture.md "Host port"): a start only
// while the TPU is not Running or in Sync, a continue only in Sync, never both; a host read of
// an instruction word only while stopped.
//
// Properties (docs/architecture.md "Decode and issue", docs/isa.md "Errors" and "Status"):
//   - legal state: the state is Idle, Running, Sync, Done or Error; the error code is one of
//                  ErrOpcode..ErrBuffer exactly in Error, ErrNone otherwise; the PC is at most
//                  ImemDepth;
//   - transitions: only start makes the state Running from Idle, Done or Error; only continue
//                  leaves Sync; Running leaves only for Sync, Done or Error;
//   - error then halt: once in Error (or Done) the state, the error code and the PC stay
//                  until a start; the cycle an error is found issues nothing and leaves the PC
//                  at the faulting instruction; a buffer error or a PC past the end seen while
//                  Running always stops it with an error;
//   - nothing issues unless Running: no port 0 or 1 command (no new matmul, no loadw), no
//                  gradient-descent command, no seed. (What was issued before completes: the
//                  delayed bias, side and write commands and the loader's rows are not
//                  constrained.)
//   - invariants that make the induction close (and hold from reset, which BMC checks): the
//                  fetch reads word 0 while stopped and otherwise the word after decode's, or
//                  for an endl in decode its loop's start (never past the end); every loop
//                  start is inside the program; predecode's error is one it can find; decode's
//                  kind-of-wait flags are its opcode's.
module cu_props #(
  parameter int ArrayDim    = 2,
  parameter int UbDepth     = 8,
  parameter int ImemDepth   = 4,
  parameter int MaxInFlight = 2
) (
  input logic                                   clk_i,
  input logic                                   rst_ni,
  input logic                                   host_re_i,
  input logic [tpu_pkg::addr_width(ImemDepth)-1:0] host_raddr_i,
  input logic                                   start_i,
  input logic                                   continue_i,
  input logic [3:0]                             ub_rd_ready_i,
  input logic [1:0]                             ub_rd_rvalid_i,
  input logic                                   ub_err_i,
  input logic                                   sgd_idle_i
);
  localparam int ImemAW = tpu_pkg::addr_width(ImemDepth);
  localparam int IW     = tpu_pkg::idx_width(ArrayDim);
  localparam int RdCmdW = tpu_pkg::UbRdCmdWidth;
  localparam int WrCmdW = tpu_pkg::UbWrCmdWidth;
  localparam int IWd    = tpu_pkg::InstrWidth;

  // The program, and the instruction memory's registered read.
  (* anyconst *) logic [ImemDepth*IWd-1:0] prog;
  logic [ImemAW-1:0] imem_raddr;
  tpu_pkg::instr_t   imem_rdata_q;
  always_ff @(posedge clk_i) imem_rdata_q <= prog[32'(imem_raddr)*IWd +: IWd];

  logic [2:0]          state_o;
  logic [15:0]         pc_o;
  logic [3:0]          err_o;
  logic [31:0]         cycles_o;
  logic [3:0]          ub_rd_valid_o;
  logic [4*RdCmdW-1:0] ub_rd_cmd_o;
  logic                ub_wr_cmd_valid_o;
  logic [WrCmdW-1:0]   ub_wr_cmd_o;
  logic                w_valid_o, in_valid_o, in_switch_o;
  logic [IW-1:0]       w_row_o;
  tpu_pkg::vpu_cfg_t   vpu_cfg_o;
  logic                sgd_cmd_valid_o, seed_valid_o;
  tpu_pkg::sgd_cmd_t   sgd_cmd_o;
  logic [31:0]         seed_o;

  control_unit #(
    .ArrayDim    (ArrayDim),
    .UbDepth     (UbDepth),
    .ImemDepth   (ImemDepth),
    .MaxInFlight (MaxInFlight)
  ) u_dut (
    .clk_i,
    .rst_ni,
    .imem_raddr_o      (imem_raddr),
    .imem_rdata_i      (imem_rdata_q),
    .host_re_i,
    .host_raddr_i,
    .start_i,
    .continue_i,
    .state_o,
    .pc_o,
    .err_o,
    .cycles_o,
    .ub_rd_ready_i,
    .ub_rd_rvalid_i,
    .ub_rd_valid_o,
    .ub_rd_cmd_o,
    .ub_wr_cmd_valid_o,
    .ub_wr_cmd_o,
    .ub_err_i,
    .w_valid_o,
    .w_row_o,
    .in_valid_o,
    .in_switch_o,
    .vpu_cfg_o,
    .sgd_idle_i,
    .sgd_cmd_valid_o,
    .sgd_cmd_o,
    .seed_valid_o,
    .seed_o
  );

  // Internal registers (scripts/formal.sh connects the peeks): the fetch address, the opcode in
  // decode and its kind-of-wait flags, and the loop stack's start addresses.
  localparam int PcW       = tpu_pkg::count_width(ImemDepth);
  localparam int LoopDepth = 4;  // the control unit's loop stack
  logic [PcW-1:0]   peek_fa;
  logic [3:0]       peek_d_op, peek_d_perr;
  logic             peek_d_is_ld, peek_d_is_mm, peek_d_is_seed, peek_d_drains, peek_d_is_vpu;
  logic [LoopDepth*PcW-1:0] peek_loop_start;

  logic running, sync, stopped, issues;
  assign running = state_o == tpu_pkg::StRunning;
  assign sync    = state_o == tpu_pkg::StSync;
  assign stopped = !running && !sync;
  assign issues  = ub_rd_valid_o[0] || ub_rd_valid_o[1] || sgd_cmd_valid_o || seed_valid_o;

  logic init_q = 1'b1;
  always_ff @(posedge clk_i) init_q <= 1'b0;
  always_comb begin
    if (init_q) assume (!rst_ni);
    assume (!(start_i && continue_i));
    if (start_i)    assume (stopped);
    if (continue_i) assume (sync);
    if (host_re_i)  assume (stopped);
  end

  // The previous cycle, out of reset.
  logic        past_ok_q, past_start_q, past_cont_q, past_issues_q, past_ub_err_q;
  logic [2:0]  past_state_q;
  logic [15:0] past_pc_q;
  logic [3:0]  past_err_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      past_ok_q     <= 1'b0;
      past_start_q  <= 1'b0;
      past_cont_q   <= 1'b0;
      past_issues_q <= 1'b0;
      past_ub_err_q <= 1'b0;
      past_state_q  <= tpu_pkg::StIdle;
      past_pc_q     <= '0;
      past_err_q    <= tpu_pkg::ErrNone;
    end else begin
      past_ok_q     <= 1'b1;
      past_start_q  <= start_i;
      past_cont_q   <= continue_i;
      past_issues_q <= issues;
      past_ub_err_q <= ub_err_i;
      past_state_q  <= state_o;
      past_pc_q     <= pc_o;
      past_err_q    <= err_o;
    end
  end

  always_comb begin
    if (rst_ni) begin
      // legal state
      assert (state_o == tpu_pkg::StIdle || state_o == tpu_pkg::StRunning
              || state_o == tpu_pkg::StSync || state_o == tpu_pkg::StDone
              || state_o == tpu_pkg::StError);
      if (state_o == tpu_pkg::StError) begin
        assert (err_o >= tpu_pkg::ErrOpcode && err_o <= tpu_pkg::ErrBuffer);
      end else begin
        assert (err_o == tpu_pkg::ErrNone);
      end
      assert (32'(pc_o) <= ImemDepth);
      // nothing issues unless Running
      if (!running) assert (!issues);
      // fetch: stopped, the memory reads word 0; otherwise the word after decode's, unless
      // decode holds an endl (its loop's start then, inside the program)
      if (stopped) assert (peek_fa == '0);
      if (!stopped && peek_d_op != tpu_pkg::OpEndl) assert (32'(peek_fa) == 32'(pc_o) + 1);
      if (!stopped && peek_d_op == tpu_pkg::OpEndl) begin
        assert (32'(peek_fa) == 32'(pc_o) + 1 || 32'(peek_fa) <= ImemDepth);
      end
      for (int k = 0; k < LoopDepth; k++) assert (32'(peek_loop_start[k*PcW +: PcW]) <= ImemDepth);
      // predecode's error is one of those it can find
      assert (peek_d_perr == tpu_pkg::ErrNone || peek_d_perr == tpu_pkg::ErrOpcode
              || peek_d_perr == tpu_pkg::ErrField || peek_d_perr == tpu_pkg::ErrAddress);
      // decode's kind-of-wait flags are its opcode's
      assert (peek_d_is_ld == (peek_d_op == tpu_pkg::OpLoadw));
      assert (peek_d_is_mm == (peek_d_op == tpu_pkg::OpMatmul));
      assert (peek_d_is_seed == (peek_d_op == tpu_pkg::OpSeed));
      assert (peek_d_is_vpu == (peek_d_op == tpu_pkg::OpVpu));
      assert (peek_d_drains == (peek_d_op == tpu_pkg::OpSgd || peek_d_op == tpu_pkg::OpSync
                                || peek_d_op == tpu_pkg::OpHalt));
      if (past_ok_q) begin
        // transitions
        if (past_start_q) begin
          assert (running && pc_o == '0);
        end else if (past_cont_q) begin
          assert (running);
        end else begin
          if (past_state_q != tpu_pkg::StRunning) assert (state_o == past_state_q);
          if (past_state_q == tpu_pkg::StRunning) assert (state_o != tpu_pkg::StIdle);
        end
        // error then halt: a stopped state keeps its PC and code until a start
        if (!past_start_q && (past_state_q == tpu_pkg::StError
                              || past_state_q == tpu_pkg::StDone)) begin
          assert (pc_o == past_pc_q && err_o == past_err_q);
        end
        // the cycle an error is found issues nothing and keeps the PC
        if (past_state_q == tpu_pkg::StRunning && state_o == tpu_pkg::StError) begin
          assert (!past_issues_q && pc_o == past_pc_q);
        end
        // a buffer error or a PC past the end stops a running program with an error
        if (past_state_q == tpu_pkg::StRunning
            && (past_ub_err_q || 32'(past_pc_q) >= ImemDepth)) begin
          assert (state_o == tpu_pkg::StError);
        end
        if (past_state_q == tpu_pkg::StRunning && 32'(past_pc_q) >= ImemDepth) begin
          assert (err_o == tpu_pkg::ErrPc);
        end
      end
    end
  end
endmodule
