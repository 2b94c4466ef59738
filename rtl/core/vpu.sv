// Vector processing unit: ArrayDim identical lanes, four registered stages each
// (bias, activation, loss gradient, activation derivative), latency exactly 4.
//
// A row and its configuration enter together and travel together, so consecutive rows
// may use different configurations. A bypassed stage still costs its register. Every
// scale is a power of two, so the unit has shifts and no multiplier.
// Specification: docs/architecture.md, "Vector processing unit".
//
// The results are the specification's bit for bit; the registers hold them in forms
// that are cheaper on an iCE40 (4-input LUTs and a carry chain that cannot invert):
//  - A rounded shift rshift_round(v, k) is u = {v, 0} >>> k followed by u[W:1] + inc,
//    where u[0] is the last bit shifted out and inc = u[0] unless v < 0 and every bit
//    below it was 0 (a negative tie rounds away from zero, i.e. down). Bypass is k = 0.
//  - Stage 2 registers not x2 but e = y - x2 = y + ~trunc + ~inc: its rounding carry
//    rides in the subtraction, and no register input of an adder needs an inverter.
//  - Stage 3 registers x3 ^ {d <= 0}, so both saturated values read "0, then all ones"
//    and saturation is a synchronous set of the register.
//  - Where a stage forces one constant (ReLU's zeros, saturation, a bypassed loss
//    stage's y = 0) the register's synchronous set/reset does it, not a multiplexer.
// Data registers take no reset: a row's data is written in the cycle it passes, and
// only x4_q, which the port shows, must read 0 after reset.
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
  localparam int N  = ArrayDim;
  localparam int DW = DataWidth;

  // x >>> k for a shifter input of DW + 3 bits ({d, 00} for a difference d one bit wider
  // than data; {f, f, v, 0} for a data value v shifted in with fill f). Returns
  // {sticky, u[DW:0]}: the low bits of the result (the caller never needs the top two)
  // and whether any bit shifted out was 1.
  function automatic logic [DW+1:0] shift_parts(input logic [DW+2:0] x, input logic [3:0] k);
    logic [DW+2:0] t;
    logic          sticky;
    t      = x;
    sticky = 1'b0;
    for (int i = 3; i >= 0; i--) begin
      if (k[i]) begin
        for (int j = 0; j < (1 << i); j++) sticky = sticky | t[j];
        t = (DW + 3)'($signed(t) >>> (1 << i));
      end
    end
    shift_parts = {sticky, t[DW:0]};
  endfunction

  // ---------------------------------------------------------------------------------
  // Valid and configuration pipeline, one copy shared by all lanes. Register k holds
  // what stages k+1.. still need: a field leaves the pipeline after its last use.

  logic       valid1_q, valid2_q, valid3_q, valid4_q;
  logic       mder1_q, dsrc1_q;     // mask[MaskDeriv], deriv_src
  logic [1:0] act_fn1_q;
  logic [3:0] leak1_q;
  logic [3:0] kb1_q, kb2_q;         // the loss shifter's k: batch_log2, or 1 when bypassed
  logic [2:0] kbis2_q;              // one-hot: kb2_q is 0, 1, 2 (where saturation can occur)

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid1_q <= 1'b0;
      valid2_q <= 1'b0;
      valid3_q <= 1'b0;
      valid4_q <= 1'b0;
    end else begin
      valid1_q <= in_valid_i;
      valid2_q <= valid1_q;
      valid3_q <= valid2_q;
      valid4_q <= valid3_q;
    end
  end

  always_ff @(posedge clk_i) begin
    if (in_valid_i) begin
      mder1_q   <= in_cfg_i.mask[tpu_pkg::MaskDeriv];
      dsrc1_q   <= in_cfg_i.deriv_src;
      act_fn1_q <= in_cfg_i.act_fn;
      leak1_q   <= in_cfg_i.leak_shift;
      // A bypassed loss stage computes scale(x2 - 0) with the scale 1.
      kb1_q     <= in_cfg_i.mask[tpu_pkg::MaskLoss] ? in_cfg_i.batch_log2 : 4'd1;
    end
    if (valid1_q) begin
      kb2_q <= kb1_q;
      for (int j = 0; j < 3; j++) kbis2_q[j] <= kb1_q == 4'(j);
    end
  end

  // ---------------------------------------------------------------------------------
  // Lanes.

  for (genvar c = 0; c < N; c++) begin : gen_lane
    tpu_pkg::data_t x, b, y, s;
    tpu_pkg::data_t x1_q, y1_q, t3, t3_q, x3, x4_d, x4_q;
    logic [DW:0]    sum, e, e_q;      // x + b; e = y - x2 (stage 3 scales d = -e)
    logic           mbias, posovf, negovf, neg1, zero2, spos1_q, pos2, zero4;
    logic           rnd2, sn3, inc3, s3_q, ovf3, rnd4;
    logic           lowz, lowz0, lowz1, topz;
    logic [3:0]     k2_d, k2_q, k4_d, k4m_q, k4_q;
    logic [DW+1:0]  sh2, sh3, sh4;    // shift_parts results

    assign x = in_data_i[c*DW +: DW];
    assign b = in_bias_i[c*DW +: DW];
    assign y = in_target_i[c*DW +: DW];
    assign s = in_deriv_i[c*DW +: DW];

    // Stage 1: bias, x1 = mask[0] ? sat(x + b) : x, and what the activation does to it.
    // x1_q holds x1, or 0 where ReLU zeroes it; leaky ReLU's shift k2 is 0 unless x1 < 0
    // (x1 = 0 shifts to 0 anyway), so stage 2 only ever shifts negative values.
    always_comb begin
      mbias  = in_cfg_i.mask[tpu_pkg::MaskBias];
      sum    = (DW + 1)'(x) + (DW + 1)'(b);
      posovf = mbias && !sum[DW] && sum[DW-1];
      negovf = mbias && sum[DW] && !sum[DW-1];
      neg1   = mbias ? sum[DW] : x[DW-1];
      zero2  = in_cfg_i.mask[tpu_pkg::MaskAct] && neg1 && in_cfg_i.act_fn == tpu_pkg::ActRelu;
      k2_d   = (in_cfg_i.mask[tpu_pkg::MaskAct] && neg1
                && in_cfg_i.act_fn == tpu_pkg::ActLeakyRelu) ? in_cfg_i.leak_shift : 4'd0;
    end

    always_ff @(posedge clk_i) begin
      if (in_valid_i) begin
        if (posovf)               x1_q <= DW'(tpu_pkg::DataMax);
        else if (zero2 || negovf) x1_q <= zero2 ? '0 : DW'(tpu_pkg::DataMin);
        else                      x1_q <= mbias ? sum[DW-1:0] : x;
        y1_q    <= in_cfg_i.mask[tpu_pkg::MaskLoss] ? y : '0;
        k2_q    <= k2_d;
        spos1_q <= !s[DW-1] && (|s[DW-2:0]);
      end
    end

    // Stage 2: activation, then e = y - x2 with x2 = trunc + rnd2 (trunc = u[DW:1]):
    // y + ~trunc + ~rnd2 = y - trunc - rnd2, one adder whose carry-in is ~rnd2.
    always_comb begin
      sh2  = shift_parts({2'b11, x1_q, 1'b0}, k2_q);
      rnd2 = sh2[0] & sh2[DW+1];  // the value is negative whenever it shifts
      e    = (DW + 1)'(({y1_q[DW-1], y1_q, ~rnd2} + {~sh2[DW], ~sh2[DW:1], ~rnd2}) >> 1);
    end

    // The derivative's choice, known now: pos is z > 0 (or s > 0), and x1_q > 0 exactly
    // when z > 0. Its ReLU zero resets e_q: d = 0 scales to x3 = 0.
    always_comb begin
      pos2  = dsrc1_q ? spos1_q : (!x1_q[DW-1] && (|x1_q[DW-2:0]));
      zero4 = mder1_q && !pos2 && act_fn1_q == tpu_pkg::ActRelu;
      k4_d  = (mder1_q && !pos2 && act_fn1_q == tpu_pkg::ActLeakyRelu) ? leak1_q : 4'd0;
    end

    always_ff @(posedge clk_i) begin
      if (valid1_q) begin
        e_q   <= zero4 ? '0 : e;
        k4m_q <= k4_d;
      end
    end

    // Stage 3: loss gradient R = round(2d / 2^kb) for d = -e (2d when kb = 0, else
    // rshift_round(d, kb - 1)). ~{e, 00} = 4d - 1, so u = {e, 00} >>> kb gives
    // R = ~u[DW+2:1] + inc3, inc3 = ~u[0] | (d > 0 and no 1 shifted out of {e, 00}).
    // The register takes t3 = R ^ {DW{d <= 0}}: ~u + inc3 for d > 0, u - inc3 otherwise,
    // one adder either way ({A, 1} + {B, cin} >> 1 is A + B + cin).
    always_comb begin
      sh3  = shift_parts({e_q, 2'b00}, kb2_q);
      sn3  = e_q[DW];                            // e < 0: d > 0
      inc3 = ~sh3[0] | (sn3 & ~sh3[DW+1]);
      t3   = DW'(({sh3[DW:1] ^ {DW{sn3}}, 1'b1} + {{DW{~sn3 & inc3}}, sn3 & inc3}) >> 1);
      // R leaves the data range only for kb <= 2, at thresholds on e decided here in
      // parallel with the shift: kb = 0 (R = 2d) beyond |d| = 2^(DW-2), kb = 1 (R = d)
      // beyond 2^(DW-1), kb = 2 (R = round(d / 2)) only at d = 2^DW - 1.
      lowz  = ~|e_q[DW-3:1];
      lowz0 = lowz && !e_q[0];                   // e[DW-3:0] == 0
      lowz1 = lowz0 && !e_q[DW-2];               // e[DW-2:0] == 0
      topz  = lowz && !e_q[DW-2] && !e_q[DW-1];  // e[DW-1:1] == 0
      ovf3  = e_q[DW] ? (kbis2_q[0] && (!(e_q[DW-1] && e_q[DW-2]) || lowz0)
                         || kbis2_q[1] && (!e_q[DW-1] || lowz1)
                         || kbis2_q[2] && topz)
                      : (kbis2_q[0] && (e_q[DW-1] || (e_q[DW-2] && !lowz0))
                         || kbis2_q[1] && e_q[DW-1] && !lowz1);
    end

    always_ff @(posedge clk_i) begin
      if (valid2_q) begin
        // Saturated: DataMax or DataMin, both ~sign in every bit below the top.
        if (ovf3) t3_q <= {1'b0, {(DW-1){1'b1}}};
        else      t3_q <= t3;
        s3_q <= ~sn3;
        k4_q <= k4m_q;
      end
    end

    // Stage 4: activation derivative, x4 = rshift_round(x3, k4) (k4 = 0 passes x3).
    always_comb begin
      x3   = t3_q ^ {DW{s3_q}};
      sh4  = shift_parts({{2{x3[DW-1]}}, x3, 1'b0}, k4_q);
      rnd4 = sh4[0] & (~x3[DW-1] | sh4[DW+1]);
      x4_d = sh4[DW:1] + DW'(rnd4);
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni)       x4_q <= '0;
      else if (valid3_q) x4_q <= x4_d;
    end

    assign out_data_o[c*DW +: DW] = x4_q;
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
