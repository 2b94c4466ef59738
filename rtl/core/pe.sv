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
  logic                         valid_q, switch_q;
  tpu_pkg::data_t               act_q, active_q, shadow_q, w_eff;
  tpu_pkg::prod_t               product;
  logic signed [SumWidth-1:0]   product_ext, psum_d, psum_q;

  always_comb begin
    w_eff       = switch_i ? shadow_q : active_q;
    product     = tpu_pkg::mul(act_i, w_eff);
    product_ext = SumWidth'(product);  // a size cast of a signed value sign-extends
    psum_d      = $signed(psum_i) + product_ext;
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
endmodule
