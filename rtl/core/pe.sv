// Weight-stationary multiply-accumulate PE with double-buffered weights.
//
// The MAC uses `active_q`; the next tile's weight is written into `shadow_q`
// while the current tile computes. The switch flag travels east with the first
// activation of a tile, so each PE moves shadow to active exactly when that
// activation reaches it, and uses the new weight for it in the same cycle.
// Specification: docs/architecture.md, "The processing element".
module pe #(
  parameter int SumWidth = tpu_pkg::AccWidth + 1
) (
  input  logic                clk_i,
  input  logic                rst_ni,
  // From the west: an activation and the flags travelling with it.
  input  logic                valid_i,
  input  logic                switch_i,
  input  tpu_pkg::data_t      act_i,
  // From the north: the column's partial sum so far.
  input  logic [SumWidth-1:0] psum_i,
  // From the column's weight bus: write the shadow weight.
  input  logic                load_i,
  input  tpu_pkg::data_t      w_i,
  // To the east and south.
  output logic                valid_o,
  output logic                switch_o,
  output tpu_pkg::data_t      act_o,
  output logic [SumWidth-1:0] psum_o
);
  // The iCE40 DSP (SB_MAC16) adds a 16x16 product to a 32-bit word. Yosys 0.23 (ice40_dsp)
  // packs a 33-bit signed add into it by copying bit 31 to bit 32, which is wrong whenever
  // psum_i uses its guard bit, and leaves a wider one in LUTs. So the low AccWidth bits of
  // the sum come from a modular adder the DSP takes, the guard bits from a few LUTs.
  localparam int LoWidth = tpu_pkg::AccWidth;
  localparam int HiWidth = SumWidth - LoWidth;

  logic                         valid_q, switch_q;
  tpu_pkg::data_t               act_q, active_q, shadow_q, w_eff;
  tpu_pkg::prod_t               product;
  logic signed [SumWidth-1:0]   psum_d, psum_q;

  always_comb begin
    w_eff   = switch_i ? shadow_q : active_q;
    product = tpu_pkg::mul(act_i, w_eff);
  end

  if (HiWidth > 0) begin : gen_split_sum
    logic [LoWidth-1:0] sum_lo;
    logic [HiWidth-1:0] sum_hi;
    logic               wrap_up, wrap_down;

    // A product of two data values lies within [-2^(AccWidth-2), 2^(AccWidth-2)], so adding
    // it to the low word wraps upwards only from a low word in the top quarter to one in the
    // bottom quarter, and downwards only the other way; no other pair of top-two-bit values
    // can follow a wrap. The guard bits take that carry or borrow.
    always_comb begin
      sum_lo    = psum_i[LoWidth-1:0] + product;
      wrap_up   = (psum_i[LoWidth-1 -: 2] == 2'b11) && (sum_lo[LoWidth-1 -: 2] == 2'b00);
      wrap_down = (psum_i[LoWidth-1 -: 2] == 2'b00) && (sum_lo[LoWidth-1 -: 2] == 2'b11);
      sum_hi    = psum_i[SumWidth-1:LoWidth] + HiWidth'(wrap_up) - HiWidth'(wrap_down);
      psum_d    = {sum_hi, sum_lo};
    end
  end else begin : gen_plain_sum
    always_comb begin
      // A size cast of a signed value sign-extends.
      psum_d = $signed(psum_i) + SumWidth'(product);
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q  <= 1'b0;
      switch_q <= 1'b0;
      act_q    <= '0;
      psum_q   <= '0;
      active_q <= '0;
    end else begin
      valid_q <= valid_i;
      // Clock-enable on valid: nothing toggles while the array is idle.
      if (valid_i) begin
        switch_q <= switch_i;
        act_q    <= act_i;
        psum_q   <= psum_d;
        if (switch_i) active_q <= shadow_q;
      end
    end
  end

  // Separate process: the shadow loads independently of the compute wave.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)     shadow_q <= '0;
    else if (load_i) shadow_q <= w_i;
  end

  assign valid_o  = valid_q;
  assign switch_o = switch_q;
  assign act_o    = act_q;
  assign psum_o   = psum_q;

`ifndef SYNTHESIS
  // The split sum is the exact SumWidth-bit sum of the specification.
  always_ff @(posedge clk_i) begin
    if (rst_ni && valid_i) begin
      assert (psum_d == $signed(psum_i) + SumWidth'(product))
        else $error("pe: split sum %0h differs from psum_i + product", psum_d);
    end
  end
`endif
endmodule
