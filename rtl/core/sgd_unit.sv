// Gradient-descent unit: streams a block of parameter rows and their gradient rows out
// of the unified buffer and writes theta - round(lr * g) back in place, lane by lane.
// Rounding is to nearest, or stochastic from per-lane LFSRs that the golden model
// reproduces bit for bit (Q8.8 SGD with round-to-nearest stalls: updates below half an
// LSB vanish). Specification: docs/architecture.md, "Gradient-descent unit".
module sgd_unit #(
  parameter int ArrayDim = tpu_pkg::ArrayDim,
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
  input  logic                  abort_i,     // back to idle at once (the TPU halts on errors)
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
  localparam int N = ArrayDim;

  typedef enum logic [1:0] {
    Idle,
    Issue,   // waiting for both read ports and the write port to be ready together
    Gap,     // the cycle after the issue: the buffer is fetching row 0
    Stream   // rows arrive, then drain through the two stages
  } state_e;

  state_e            state_q, state_d;
  tpu_pkg::ub_addr_t theta_addr_q, grad_addr_q, count_q, rows_in_q, rows_left_q;
  tpu_pkg::data_t    lr_q;
  logic              stochastic_q;
  logic              issue, row_in;

  assign cmd_ready_o = state_q == Idle;
  assign busy_o      = state_q != Idle;
  // The three commands go out in one cycle so theta and gradient rows arrive together.
  assign issue       = state_q == Issue && (&rd_cmd_ready_i) && wr_cmd_ready_i;
  // A row is ours when theta and gradient arrive together, from the cycle row 0 is due,
  // and only `count` of them.
  assign row_in      = state_q == Stream && (&rd_valid_i) && rows_in_q != count_q;

  always_comb begin
    state_d = state_q;
    unique case (state_q)
      Idle:    if (cmd_valid_i) state_d = Issue;
      Issue:   if (issue) state_d = (count_q == '0) ? Idle : Gap;  // count 0: nothing to wait for
      Gap:     state_d = Stream;
      Stream:  if (wr_valid_o && rows_left_q == AW'(1)) state_d = Idle;
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
      rows_in_q    <= '0;
      rows_left_q  <= '0;
      lr_q         <= '0;
      stochastic_q <= 1'b0;
    end else begin
      state_q <= state_d;
      if (cmd_valid_i && cmd_ready_o) begin
        theta_addr_q <= cmd_i.theta_addr;
        grad_addr_q  <= cmd_i.grad_addr;
        count_q      <= cmd_i.count;
        rows_in_q    <= '0;
        rows_left_q  <= cmd_i.count;
        lr_q         <= cmd_i.lr;
        stochastic_q <= cmd_i.stochastic;
      end else begin
        if (row_in)     rows_in_q   <= rows_in_q + AW'(1);
        if (wr_valid_o) rows_left_q <= rows_left_q - AW'(1);
      end
    end
  end

  // Commands: {start, count, stride, lanes, transpose} in ub_rd_cmd_t's field order.
  assign rd_cmd_valid_o = {issue, issue};
  assign rd_cmd_o       = {grad_addr_q, count_q, AW'(1), tpu_pkg::LanesWidth'(N), 1'b0,
                           theta_addr_q, count_q, AW'(1), tpu_pkg::LanesWidth'(N), 1'b0};
  assign wr_cmd_valid_o = issue;
  assign wr_cmd_o       = {theta_addr_q, count_q, AW'(1), tpu_pkg::LanesWidth'(N)};

  // Two-stage lane pipeline: (1) product and theta, (2) rounded, saturated update.
  logic s1_valid_q, s2_valid_q;

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

    logic [31:0]          lfsr_q, lfsr_adv;
    tpu_pkg::data_t       theta, grad, s1_theta_q, s2_theta_q;
    tpu_pkg::prod_t       s1_prod_q;
    logic [FracBits-1:0]  s1_rand_q;
    logic                 s1_stoch_q;
    tpu_pkg::wide_t       step;

    assign theta = rd_data_i[c*DataWidth +: DataWidth];
    assign grad  = rd_data_i[RowWidth + c*DataWidth +: DataWidth];

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

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        s1_theta_q <= '0;
        s1_prod_q  <= '0;
        s1_rand_q  <= '0;
        s1_stoch_q <= 1'b0;
        s2_theta_q <= '0;
      end else begin
        if (row_in) begin
          s1_theta_q <= theta;
          s1_prod_q  <= tpu_pkg::mul(lr_q, grad);
          s1_rand_q  <= stochastic_q ? lfsr_q[FracBits-1:0] : '0;
          s1_stoch_q <= stochastic_q;
        end
        if (s1_valid_q) begin
          s2_theta_q <= tpu_pkg::saturate(tpu_pkg::WideWidth'(s1_theta_q) - step);
        end
      end
    end

    // round(lr * g): to nearest (ties away from zero), or (lr*g + r) >>> FracBits.
    always_comb begin
      if (s1_stoch_q) begin
        // The random addend is non-negative: $signed keeps the sum signed for the >>>.
        step = (tpu_pkg::WideWidth'(s1_prod_q) + $signed(tpu_pkg::WideWidth'({1'b0, s1_rand_q})))
               >>> FracBits;
      end else begin
        step = tpu_pkg::round_shift(tpu_pkg::WideWidth'(s1_prod_q));
      end
    end

    assign wr_data_o[c*DataWidth +: DataWidth] = s2_theta_q;
  end

  assign wr_valid_o = s2_valid_q;

endmodule
