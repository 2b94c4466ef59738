// Gradient-descent unit: streams a block of parameter rows and their gradient rows out
// of the unified buffer and writes theta - round(lr * g) back in place, lane by lane.
// Rounding is to nearest, or stochastic from per-lane LFSRs that the golden model
// reproduces bit for bit (Q8.8 SGD with round-to-nearest stalls: updates below half an
// LSB vanish). Specification: docs/architecture.md, "Gradient-descent unit".
module sgd_unit #(
  parameter int ArrayDim = tpu_pkg::ArrayDim,
  // Rows of the buffer. The control unit checks a command's range before it issues it,
  // so addresses are below Depth and counts at most Depth: the registers are that wide.
  parameter int Depth    = 65536,
  localparam int DataWidth = tpu_pkg::DataWidth,
  localparam int RowWidth  = ArrayDim * DataWidth,
  localparam int RdCmdW    = tpu_pkg::UbRdCmdWidth,
  localparam int AW        = tpu_pkg::UbAddrWidth,
  localparam int FracBits  = tpu_pkg::FracBits
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,
  // Block update command.
  input  logic                  cmd_valid_i,
  output logic                  cmd_ready_o,
  input  tpu_pkg::sgd_cmd_t     cmd_i,
  input  logic                  abort_i,     // back to idle at once (tpu.sv ties it low)
  input  logic                  seed_valid_i,
  input  logic [31:0]           seed_i,
  output logic                  busy_o,
  // Read-port masters: port 0 streams theta, port 1 the gradient.
  output logic [1:0]            rd_cmd_valid_o,
  input  logic [1:0]            rd_cmd_ready_i,
  output logic [2*RdCmdW-1:0]   rd_cmd_o,
  input  logic [1:0]            rd_valid_i,
  input  logic [2*RowWidth-1:0] rd_data_i,
  // Write-port master: the updated rows.
  output logic                  wr_cmd_valid_o,
  input  logic                  wr_cmd_ready_i,
  output tpu_pkg::ub_wr_cmd_t   wr_cmd_o,
  output logic                  wr_valid_o,
  output logic [RowWidth-1:0]   wr_data_o
);
  localparam int N      = ArrayDim;
  localparam int DW     = DataWidth;
  localparam int AddrW  = (Depth <= 2) ? 1 : ($clog2(Depth) < AW) ? $clog2(Depth) : AW;
  localparam int CountW = ($clog2(Depth + 1) < AW) ? $clog2(Depth + 1) : AW;

  typedef enum logic [1:0] {
    Idle,
    Issue,   // waiting for both read ports and the write port to be ready together
    Gap,     // the cycle after the issue: the buffer is fetching row 0
    Stream   // rows arrive, then drain through the two stages
  } state_e;

  state_e            state_q, state_d;
  logic [AddrW-1:0]  theta_addr_q, grad_addr_q;
  logic [CountW-1:0] count_q, to_take_q;  // to_take_q: rows not yet taken
  tpu_pkg::data_t    lr_q;
  logic              stochastic_q;
  logic              issue, row_in, none_to_take;
  logic              s1_valid_q, s2_valid_q;

  assign cmd_ready_o  = state_q == Idle;
  assign busy_o       = state_q != Idle;
  // The three commands go out in one cycle so theta and gradient rows arrive together.
  assign issue        = state_q == Issue && (&rd_cmd_ready_i) && wr_cmd_ready_i;
  assign none_to_take = to_take_q == '0;
  // A row is ours when theta and gradient arrive together, from the cycle row 0 is due,
  // and only `count` of them.
  assign row_in       = state_q == Stream && (&rd_valid_i) && !none_to_take;

  // In Stream the rows still to write are to_take_q + s1_valid_q + s2_valid_q, so the
  // last one is on the write port when s2 holds a row, s1 none, and none is left to take.
  always_comb begin
    state_d = state_q;
    unique case (state_q)
      Idle:    if (cmd_valid_i) state_d = Issue;
      Issue:   if (issue) state_d = none_to_take ? Idle : Gap;  // count 0: nothing to wait for
      Gap:     state_d = Stream;
      Stream:  if (s2_valid_q && !s1_valid_q && none_to_take) state_d = Idle;
      default: state_d = Idle;
    endcase
    if (abort_i) state_d = Idle;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q      <= Idle;
      theta_addr_q <= '0;
      grad_addr_q  <= '0;
      count_q      <= '0;
      to_take_q    <= '0;
      lr_q         <= '0;
      stochastic_q <= 1'b0;
    end else begin
      state_q <= state_d;
      if (cmd_valid_i && cmd_ready_o) begin
        theta_addr_q <= AddrW'(cmd_i.theta_addr);
        grad_addr_q  <= AddrW'(cmd_i.grad_addr);
        count_q      <= CountW'(cmd_i.count);
        to_take_q    <= CountW'(cmd_i.count);
        lr_q         <= cmd_i.lr;
        stochastic_q <= cmd_i.stochastic;
      end else if (row_in) begin
        to_take_q <= to_take_q - CountW'(1);
      end
    end
  end

  // Commands: stride 1, all N lanes, the narrow registers zero-extended.
  tpu_pkg::ub_addr_t theta_addr, grad_addr, count;
  assign theta_addr = AW'(theta_addr_q);
  assign grad_addr  = AW'(grad_addr_q);
  assign count      = AW'(count_q);

  assign rd_cmd_valid_o = {issue, issue};
  assign rd_cmd_o       = {tpu_pkg::ub_rd_cmd(grad_addr, count, AW'(1),
                                              tpu_pkg::LanesWidth'(N), 1'b0),
                           tpu_pkg::ub_rd_cmd(theta_addr, count, AW'(1),
                                              tpu_pkg::LanesWidth'(N), 1'b0)};
  assign wr_cmd_valid_o = issue;
  assign wr_cmd_o       = tpu_pkg::ub_wr_cmd(theta_addr, count, AW'(1), tpu_pkg::LanesWidth'(N));

  // Two-stage lane pipeline: (1) product and theta, (2) rounded, saturated update.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      s1_valid_q <= 1'b0;
      s2_valid_q <= 1'b0;
    end else begin
      s1_valid_q <= row_in && !abort_i;
      s2_valid_q <= s1_valid_q && !abort_i;
    end
  end

  for (genvar c = 0; c < N; c++) begin : gen_lane
    // Lane c's seed differs from the others by a multiple of the golden-ratio constant.
    localparam logic [31:0] SeedSalt = 32'(c) * 32'h9E3779B9;

    logic [31:0]         lfsr_q, lfsr_adv;
    tpu_pkg::data_t      theta, grad, s1_thetan_q, s2_theta_q, upd;
    tpu_pkg::prod_t      s1_prod_q;
    logic [FracBits-1:0] s1_add_q;
    logic [DW+1:0]       sumn;
    logic                sgn, big, ovf, neg;

    assign theta = rd_data_i[c*DW +: DW];
    assign grad  = rd_data_i[RowWidth + c*DW +: DW];

    always_comb begin
      lfsr_adv = lfsr_q;
      for (int k = 0; k < FracBits; k++) lfsr_adv = tpu_pkg::lfsr_step(lfsr_adv);
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        lfsr_q <= 32'd1 ^ SeedSalt;
      end else if (seed_valid_i && state_q == Idle) begin
        lfsr_q <= ((seed_i ^ SeedSalt) == '0) ? 32'd1 : (seed_i ^ SeedSalt);
      end else if (row_in && stochastic_q) begin
        lfsr_q <= lfsr_adv;  // the row takes r from the current state, then it moves on
      end
    end

    // step = (p + a) >>> FracBits, a = r (stochastic) or 2^(FracBits-1) - (p < 0)
    // (nearest: tpu_pkg::round_shift). Where p = lr * g is 0, a adds nothing, so p < 0 is
    // the sign of lr * g known already in stage 1, and stage 1 registers a itself.
    assign sgn = lr_q[DW-1] ^ grad[DW-1];

    // Stage 1 registers ~theta: an adder's register input must arrive inverted, as the
    // carry chain cannot invert. The data registers take no reset: stage 2 reads them
    // only for a row they hold.
    always_ff @(posedge clk_i) begin
      if (row_in) begin
        s1_thetan_q <= ~theta;
        s1_prod_q   <= tpu_pkg::mul(lr_q, grad);
        s1_add_q    <= stochastic_q ? lfsr_q[FracBits-1:0] : {!sgn, {(FracBits-1){sgn}}};
      end
    end

    // theta - step = ~(~theta + step): one adder over {~theta, a} + p, whose bits above
    // FracBits are ~theta + (p + a) >>> FracBits. DW + 2 of them are exact unless
    // p >>> FracBits itself lies beyond DW + 1 bits ("big"), which saturates anyway.
    always_comb begin
      sumn = (DW + 2)'(({{2{s1_thetan_q[DW-1]}}, s1_thetan_q, s1_add_q}
                        + s1_prod_q[FracBits+DW+1:0]) >> FracBits);
      big  = !((&s1_prod_q[2*DW-1:FracBits+DW]) || !(|s1_prod_q[2*DW-1:FracBits+DW]));
      ovf  = big || !(sumn[DW+1] == sumn[DW] && sumn[DW] == sumn[DW-1]);
      neg  = big ? !s1_prod_q[2*DW-1] : !sumn[DW+1];
      upd  = ovf ? (neg ? DW'(tpu_pkg::DataMin) : DW'(tpu_pkg::DataMax)) : ~sumn[DW-1:0];
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni)         s2_theta_q <= '0;
      else if (s1_valid_q) s2_theta_q <= upd;
    end

    assign wr_data_o[c*DW +: DW] = s2_theta_q;
  end

  assign wr_valid_o = s2_valid_q;

endmodule
