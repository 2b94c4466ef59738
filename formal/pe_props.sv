// Formal properties of the processing element (rtl/core/pe.sv), proved by scripts/formal.sh.
//
// Every input is free in every cycle; the only assumption is reset in the first cycle. A
// reference model of the PE's two weight registers, written from docs/architecture.md ("The
// processing element"), decides what the outputs must be:
//   - mac:    after a cycle with valid_i, psum_o = psum_i + act_i * w_eff (exact, SumWidth
//             bits, the product sign-extended), with w_eff = switch_i ? shadow : active;
//             act_o, switch_o, valid_o follow their inputs; without valid_i they hold.
//   - switch: the active weight takes the shadow weight exactly when valid_i && switch_i,
//             the shadow weight takes w_i exactly when load_i (a load and a switch in one
//             cycle: the switch moves the old shadow value).
// The weights are internal registers: the script connects peek_active and peek_shadow to the
// PE's active_q and shadow_q after flattening (PEEK lines in scripts/formal.sh), so that
// k-induction can relate them to the reference model; the MAC property itself is checked at
// the ports.
module pe_props #(
  parameter int SumWidth = tpu_pkg::AccWidth + 1
) (
  input logic                clk_i,
  input logic                rst_ni,
  input logic                valid_i,
  input logic                switch_i,
  input tpu_pkg::data_t      act_i,
  input logic [SumWidth-1:0] psum_i,
  input logic                load_i,
  input tpu_pkg::data_t      w_i
);
  logic                valid_o, switch_o;
  tpu_pkg::data_t      act_o;
  logic [SumWidth-1:0] psum_o;

  pe #(.SumWidth(SumWidth)) u_dut (
    .clk_i,
    .rst_ni,
    .valid_i,
    .switch_i,
    .act_i,
    .psum_i,
    .load_i,
    .w_i,
    .valid_o,
    .switch_o,
    .act_o,
    .psum_o
  );

  // Reset in the first cycle; afterwards reset is as free as every other input.
  logic init_q = 1'b1;
  always_ff @(posedge clk_i) init_q <= 1'b0;
  always_comb if (init_q) assume (!rst_ni);

  // Connected by the script to u_dut.active_q and u_dut.shadow_q.
  tpu_pkg::data_t peek_active, peek_shadow;

  // Reference weights (both cleared by reset, like every PE register).
  tpu_pkg::data_t ref_active_q, ref_shadow_q, ref_w_eff;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      ref_active_q <= '0;
      ref_shadow_q <= '0;
    end else begin
      if (valid_i && switch_i) ref_active_q <= ref_shadow_q;
      if (load_i)              ref_shadow_q <= w_i;
    end
  end
  // The MAC's reference takes the weights from the PE's registers, which the switch property
  // proves equal to the reference weights in every cycle: together the two say psum_o = psum_i
  // + act_i * (the specification's weight). Built from the same signals as the PE's own
  // product, the two multipliers merge into one (opt_merge), and the solver is left with the
  // adders: proving two separate 16x16 multipliers equal is far beyond z3 in a minute.
  assign ref_w_eff = switch_i ? peek_shadow : peek_active;

  // The previous cycle's inputs and outputs, and whether that cycle was out of reset.
  logic                past_ok_q, past_valid_q, past_switch_q;
  tpu_pkg::data_t      past_act_q, past_act_o_q;
  logic [SumWidth-1:0] past_sum_q, past_psum_o_q;
  logic                past_switch_o_q;
  logic signed [2*tpu_pkg::DataWidth-1:0] ref_product;
  assign ref_product = act_i * ref_w_eff;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      past_ok_q       <= 1'b0;
      past_valid_q    <= 1'b0;
      past_switch_q   <= 1'b0;
      past_act_q      <= '0;
      past_sum_q      <= '0;
      past_act_o_q    <= '0;
      past_switch_o_q <= 1'b0;
      past_psum_o_q   <= '0;
    end else begin
      past_ok_q       <= 1'b1;
      past_valid_q    <= valid_i;
      past_switch_q   <= switch_i;
      past_act_q      <= act_i;
      past_sum_q      <= psum_i + SumWidth'(ref_product);  // sign-extends: signed operand
      past_act_o_q    <= act_o;
      past_switch_o_q <= switch_o;
      past_psum_o_q   <= psum_o;
    end
  end

  always_comb begin
    if (rst_ni) begin
      // switch: the PE's weights are the reference's in every cycle.
      assert (peek_active == ref_active_q);
      assert (peek_shadow == ref_shadow_q);
      if (past_ok_q) begin
        assert (valid_o == past_valid_q);
        if (past_valid_q) begin
          // mac
          assert (psum_o == past_sum_q);
          assert (act_o == past_act_q);
          assert (switch_o == past_switch_q);
        end else begin
          // Nothing toggles while idle.
          assert (psum_o == past_psum_o_q);
          assert (act_o == past_act_o_q);
          assert (switch_o == past_switch_o_q);
        end
      end
    end
  end
endmodule
