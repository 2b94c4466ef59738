// Vector processing unit: ArrayDim identical lanes, four registered stages each
// (bias, activation, loss gradient, activation derivative), latency exactly 4.
//
// A row and its configuration enter together and travel together, so consecutive rows
// may use different configurations. A bypassed stage still costs its register. Every
// scale is a power of two, so the unit has shifts and no multiplier.
// Specification: docs/architecture.md, "Vector processing unit".
module vpu #(
  parameter int ArrayDim = tpu_pkg::ArrayDim,
  localparam int DataWidth = tpu_pkg::DataWidth
) (
  input  logic                          clk_i,
  input  logic                          rst_ni,
  input  logic                          in_valid_i,
  input  logic [ArrayDim*DataWidth-1:0] in_data_i,    // x
  input  logic [ArrayDim*DataWidth-1:0] in_bias_i,    // b
  input  logic [ArrayDim*DataWidth-1:0] in_target_i,  // y
  input  logic [ArrayDim*DataWidth-1:0] in_deriv_i,   // s
  input  tpu_pkg::vpu_cfg_t             in_cfg_i,
  output logic                          out_valid_o,
  output logic [ArrayDim*DataWidth-1:0] out_data_o
);
  localparam int N = ArrayDim;

  // ---------------------------------------------------------------------------------
  // Valid and configuration pipeline, one copy shared by all lanes. Register k holds
  // what stages k+1.. still need: a field leaves the pipeline after its last use.

  logic       valid1_q, valid2_q, valid3_q, valid4_q;
  logic [3:1] mask1_q;
  logic [3:2] mask2_q;
  logic       mask3_q;                      // mask[MaskDeriv]
  logic [1:0] act_fn1_q, act_fn2_q, act_fn3_q;
  logic [3:0] leak1_q, leak2_q, leak3_q;    // leak_shift: stages 2 and 4
  logic [3:0] batch1_q, batch2_q;           // batch_log2: stage 3

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid1_q  <= 1'b0;
      valid2_q  <= 1'b0;
      valid3_q  <= 1'b0;
      valid4_q  <= 1'b0;
      mask1_q   <= '0;
      mask2_q   <= '0;
      mask3_q   <= 1'b0;
      act_fn1_q <= '0;
      act_fn2_q <= '0;
      act_fn3_q <= '0;
      leak1_q   <= '0;
      leak2_q   <= '0;
      leak3_q   <= '0;
      batch1_q  <= '0;
      batch2_q  <= '0;
    end else begin
      valid1_q <= in_valid_i;
      valid2_q <= valid1_q;
      valid3_q <= valid2_q;
      valid4_q <= valid3_q;
      if (in_valid_i) begin
        mask1_q   <= in_cfg_i.mask[3:1];
        act_fn1_q <= in_cfg_i.act_fn;
        leak1_q   <= in_cfg_i.leak_shift;
        batch1_q  <= in_cfg_i.batch_log2;
      end
      if (valid1_q) begin
        mask2_q   <= mask1_q[3:2];
        act_fn2_q <= act_fn1_q;
        leak2_q   <= leak1_q;
        batch2_q  <= batch1_q;
      end
      if (valid2_q) begin
        mask3_q   <= mask2_q[tpu_pkg::MaskDeriv];
        act_fn3_q <= act_fn2_q;
        leak3_q   <= leak2_q;
      end
    end
  end

  // ---------------------------------------------------------------------------------
  // Lanes.

  for (genvar c = 0; c < N; c++) begin : gen_lane
    tpu_pkg::data_t x, b, y, s;
    // Stage results (x1 is also z, the pre-activation) and the target carried to stage 3.
    tpu_pkg::data_t x1_d, x1_q, x2_d, x2_q, x3_d, x3_q, x4_d, x4_q, y1_q, y2_q;
    // Stage 4 uses only the sign test v > 0 of v = deriv_src ? s : z, so that one bit
    // travels instead of s and z (16 bits each, three stages).
    logic           pos1_d, pos1_q, pos2_q, pos3_q;

    logic signed [DataWidth+1:0] bias_sum;    // x + b, exact
    tpu_pkg::data_t              act, deriv;
    logic signed [DataWidth:0]   diff, diff_scaled;
    logic signed [DataWidth+1:0] loss;        // scale(x2 - y), before saturation

    assign x = in_data_i[c*DataWidth +: DataWidth];
    assign b = in_bias_i[c*DataWidth +: DataWidth];
    assign y = in_target_i[c*DataWidth +: DataWidth];
    assign s = in_deriv_i[c*DataWidth +: DataWidth];

    // Stage 1: bias.
    always_comb begin
      bias_sum = (DataWidth + 2)'(x) + (DataWidth + 2)'(b);
      x1_d     = in_cfg_i.mask[tpu_pkg::MaskBias] ? tpu_pkg::saturate_narrow(bias_sum) : x;
      pos1_d   = in_cfg_i.deriv_src ? (s > 0) : (x1_d > 0);
    end

    // Stage 2: activation.
    always_comb begin
      act = x1_q;
      unique case (act_fn1_q)
        tpu_pkg::ActIdentity:  act = x1_q;
        tpu_pkg::ActRelu:      act = (x1_q > 0) ? x1_q : '0;
        // A rounded right shift of a data value stays in the data range: the cast
        // drops only a copy of the sign.
        tpu_pkg::ActLeakyRelu: act = (x1_q > 0) ? x1_q : DataWidth'(
                                   tpu_pkg::rshift_round((DataWidth + 1)'(x1_q), leak1_q));
        default:               act = x1_q;  // reserved 3: the identity
      endcase
      x2_d = mask1_q[tpu_pkg::MaskAct] ? act : x1_q;
    end

    // Stage 3: loss gradient, sat((2/B)(x2 - y)) with B = 2^batch_log2, rounded once.
    always_comb begin
      diff        = (DataWidth + 1)'(x2_q) - (DataWidth + 1)'(y2_q);
      diff_scaled = tpu_pkg::rshift_round(diff, batch2_q - 4'd1);
      loss        = (DataWidth + 2)'(diff_scaled);
      if (batch2_q == 4'd0) loss = (DataWidth + 2)'(diff) <<< 1;  // B = 1: the scale is 2
      x3_d = mask2_q[tpu_pkg::MaskLoss] ? tpu_pkg::saturate_narrow(loss) : x2_q;
    end

    // Stage 4: activation derivative; g stands for f'(v) where v <= 0 (f' = 1 elsewhere).
    always_comb begin
      deriv = x3_q;
      unique case (act_fn3_q)
        tpu_pkg::ActIdentity:  deriv = x3_q;
        tpu_pkg::ActRelu:      deriv = '0;
        tpu_pkg::ActLeakyRelu: deriv = DataWidth'(
                                   tpu_pkg::rshift_round((DataWidth + 1)'(x3_q), leak3_q));
        default:               deriv = x3_q;  // reserved 3: the identity's f' = 1
      endcase
      x4_d = (mask3_q && !pos3_q) ? deriv : x3_q;
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        x1_q   <= '0;
        y1_q   <= '0;
        pos1_q <= 1'b0;
        x2_q   <= '0;
        y2_q   <= '0;
        pos2_q <= 1'b0;
        x3_q   <= '0;
        pos3_q <= 1'b0;
        x4_q   <= '0;
      end else begin
        if (in_valid_i) begin
          x1_q   <= x1_d;
          y1_q   <= y;
          pos1_q <= pos1_d;
        end
        if (valid1_q) begin
          x2_q   <= x2_d;
          y2_q   <= y1_q;
          pos2_q <= pos1_q;
        end
        if (valid2_q) begin
          x3_q   <= x3_d;
          pos3_q <= pos2_q;
        end
        if (valid3_q) begin
          x4_q <= x4_d;
        end
      end
    end

    assign out_data_o[c*DataWidth +: DataWidth] = x4_q;
  end

  assign out_valid_o = valid4_q;

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (!in_valid_i || in_cfg_i.act_fn != 2'd3)
        else $error("vpu: reserved act_fn 3 on a valid row");
    end
  end
`endif
endmodule
