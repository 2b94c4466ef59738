// Formal properties of the systolic array's skew, weight-bus skew, south edge and de-skew
// (rtl/core/systolic_array.sv), proved by scripts/formal.sh at a small ArrayDim.
//
// Specification: docs/architecture.md, "Skew, weights and de-skew". With the row presented
// on the activation port in cycle n and the weight row presented in cycle w:
//   - skew:    PE(r,c) sees (valid, switch, act[r]) of cycle n exactly in cycle n + r + c;
//   - weights: PE(r,c) sees load_i with w_i = w_data[c] exactly in cycle w + c, when the row
//              presented then was row r (w_valid and w_row = r);
//   - south:   column c's result is round_sat (tpu_pkg::round_sat, the specification's
//              helper) of the sum PE(N-1,c) holds, N - c cycles after that PE holds it
//              (output register and N-1-c de-skew registers), so every lane of an output
//              row comes from the same input row;
//   - latency: out_valid_o in cycle n + 2N exactly when a row was presented in cycle n.
// With pe_props (the MAC and the switch of each PE) this is the array's function
// out[c] = round_sat(sum_r act[r] * W[r][c]): the PEs' inputs and the column sums arrive
// where and when the specification says.
//
// What each PE sees is internal: the script connects the peek_* vectors to the ports of
// u_dut.gen_row[r].gen_col[c].u_pe (slice r*N+c) and to each column's last PE after
// flattening. Every input of the array is free, except the two port rules the array's own
// assertions state (w_row_i < N with w_valid_i, in_switch_i only with in_valid_i).
module array_props #(
  parameter int ArrayDim = 2
) (
  input logic                                       clk_i,
  input logic                                       rst_ni,
  input logic                                       w_valid_i,
  input logic [tpu_pkg::idx_width(ArrayDim)-1:0]    w_row_i,
  input logic [ArrayDim*tpu_pkg::DataWidth-1:0]     w_data_i,
  input logic                                       in_valid_i,
  input logic                                       in_switch_i,
  input logic [ArrayDim*tpu_pkg::DataWidth-1:0]     in_act_i
);
  localparam int N        = ArrayDim;
  localparam int DW       = tpu_pkg::DataWidth;
  localparam int IW       = tpu_pkg::idx_width(N);
  localparam int SumWidth = tpu_pkg::AccWidth + $clog2(N);
  localparam int H        = 2 * N + 1;  // cycles of input history kept (0: this cycle)

  logic               out_valid_o;
  logic [N*DW-1:0]    out_data_o;

  systolic_array #(.ArrayDim(N)) u_dut (
    .clk_i,
    .rst_ni,
    .w_valid_i,
    .w_row_i,
    .w_data_i,
    .in_valid_i,
    .in_switch_i,
    .in_act_i,
    .out_valid_o,
    .out_data_o
  );

  logic init_q = 1'b1;
  always_ff @(posedge clk_i) init_q <= 1'b0;
  always_comb begin
    if (init_q) assume (!rst_ni);
    assume (!w_valid_i || 32'(w_row_i) < N);
    assume (!in_switch_i || in_valid_i);
  end

  // What each PE sees (slice r*N+c), and what each column's last PE holds (slice c).
  logic [N*N-1:0]        peek_valid, peek_switch, peek_load;
  logic [N*N*DW-1:0]     peek_act, peek_w;
  logic [N-1:0]          peek_last_valid;
  logic [N*SumWidth-1:0] peek_last_psum;

  // Input history: slice k is k cycles ago (k = 0: now). Valids clear at reset, so nothing
  // presented before a reset is expected afterwards.
  logic [H-1:0]      h_valid, h_switch, h_wvalid;
  logic [H*N*DW-1:0] h_act, h_wdata;
  logic [H*IW-1:0]   h_wrow;
  logic [H-2:0]      h_valid_q, h_switch_q, h_wvalid_q;
  logic [(H-1)*N*DW-1:0] h_act_q, h_wdata_q;
  logic [(H-1)*IW-1:0]   h_wrow_q;

  assign h_valid  = {h_valid_q, in_valid_i};
  assign h_switch = {h_switch_q, in_switch_i};
  assign h_act    = {h_act_q, in_act_i};
  assign h_wvalid = {h_wvalid_q, w_valid_i};
  assign h_wrow   = {h_wrow_q, w_row_i};
  assign h_wdata  = {h_wdata_q, w_data_i};

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      h_valid_q  <= '0;
      h_switch_q <= '0;
      h_act_q    <= '0;
      h_wvalid_q <= '0;
      h_wrow_q   <= '0;
      h_wdata_q  <= '0;
    end else begin
      h_valid_q  <= h_valid[H-2:0];
      h_switch_q <= h_switch[H-2:0];
      h_act_q    <= h_act[(H-1)*N*DW-1:0];
      h_wvalid_q <= h_wvalid[H-2:0];
      h_wrow_q   <= h_wrow[(H-1)*IW-1:0];
      h_wdata_q  <= h_wdata[(H-1)*N*DW-1:0];
    end
  end

  // Column c's expected result for each of the last N cycles of its last PE (slice k: k+1
  // cycles ago), valid where that PE held a valid sum.
  logic [N*N-1:0]    col_valid_q;
  logic [N*N*DW-1:0] col_data_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      col_valid_q <= '0;
      col_data_q  <= '0;
    end else begin
      for (int c = 0; c < N; c++) begin
        for (int k = N - 1; k > 0; k--) begin
          col_valid_q[c*N + k]         <= col_valid_q[c*N + k - 1];
          col_data_q[(c*N + k)*DW +: DW] <= col_data_q[(c*N + k - 1)*DW +: DW];
        end
        col_valid_q[c*N] <= peek_last_valid[c];
        col_data_q[c*N*DW +: DW] <= tpu_pkg::round_sat(
            tpu_pkg::WideWidth'($signed(peek_last_psum[c*SumWidth +: SumWidth])));
      end
    end
  end

  always_comb begin
    if (rst_ni) begin
      for (int r = 0; r < N; r++) begin
        for (int c = 0; c < N; c++) begin
          // skew
          assert (peek_valid[r*N + c] == h_valid[r + c]);
          if (peek_valid[r*N + c]) begin
            assert (peek_switch[r*N + c] == h_switch[r + c]);
            assert (peek_act[(r*N + c)*DW +: DW] == h_act[((r + c)*N + r)*DW +: DW]);
          end
          // weights
          assert (peek_load[r*N + c] == (h_wvalid[c] && 32'(h_wrow[c*IW +: IW]) == r));
          if (peek_load[r*N + c]) begin
            assert (peek_w[(r*N + c)*DW +: DW] == h_wdata[(c*N + c)*DW +: DW]);
          end
        end
      end
      // south and de-skew: column c's sum from N - c cycles ago
      for (int c = 0; c < N; c++) begin
        assert (col_valid_q[c*N + N - 1 - c] == out_valid_o);
        if (out_valid_o) begin
          assert (out_data_o[c*DW +: DW] == col_data_q[(c*N + N - 1 - c)*DW +: DW]);
        end
      end
      // latency
      assert (out_valid_o == h_valid[2*N]);
    end
  end
endmodule
