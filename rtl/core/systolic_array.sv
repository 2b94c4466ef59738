// ArrayDim x ArrayDim weight-stationary systolic array with input skew, weight-bus
// skew, rounding at the south edge and output de-skew.
//
// The array takes one row of activations per cycle and gives one row of results
// per cycle, `2 * ArrayDim` cycles later: out[c] = round_sat(sum_r act[r] * W[r][c]).
// Weights for the next tile are written one row per cycle into the shadow registers
// while the current tile computes; the tile boundary costs no cycle.
// Specification: docs/architecture.md.
module systolic_array #(
  parameter int ArrayDim = tpu_pkg::ArrayDim,
  localparam int DataWidth = tpu_pkg::DataWidth,
  localparam int IdxWidth  = tpu_pkg::idx_width(ArrayDim),
  // Guard bits so a column of ArrayDim full products never wraps.
  localparam int SumWidth  = tpu_pkg::AccWidth + $clog2(ArrayDim)
) (
  input  logic                          clk_i,
  input  logic                          rst_ni,
  // Shadow-weight port: row w_row_i of the next tile's W.
  input  logic                          w_valid_i,
  input  logic [IdxWidth-1:0]           w_row_i,
  input  logic [ArrayDim*DataWidth-1:0] w_data_i,
  // Activation port: one row of the batch; in_switch_i marks a tile's first row.
  input  logic                          in_valid_i,
  input  logic                          in_switch_i,
  input  logic [ArrayDim*DataWidth-1:0] in_act_i,
  // Result port: one row of the product per cycle.
  output logic                          out_valid_o,
  output logic [ArrayDim*DataWidth-1:0] out_data_o
);
  localparam int N = ArrayDim;
  localparam int FracBits = tpu_pkg::FracBits;
  // Bits of a column sum from the result's sign bit up (see gen_south).
  localparam int SouthHiWidth = SumWidth - FracBits - DataWidth + 1;

  // Per-PE outputs, PE(r,c) at index r*N+c.
  logic [N*N-1:0]           pe_valid, pe_switch;
  logic [N*N*DataWidth-1:0] pe_act;
  logic [N*N*SumWidth-1:0]  pe_psum;

  // West edge after the row skew, one entry per row.
  logic [N-1:0]           west_valid, west_switch;
  logic [N*DataWidth-1:0] west_act;

  // Weight bus after the column skew, one entry per column.
  logic [N-1:0]           col_w_valid;
  logic [N*IdxWidth-1:0]  col_w_row;
  logic [N*DataWidth-1:0] col_w_data;

  // South edge: rounded column results and the de-skewed output.
  logic [N-1:0]           south_valid_q, deskew_valid;
  logic [N*DataWidth-1:0] south_data;

  for (genvar r = 0; r < N; r++) begin : gen_row_skew
    if (r == 0) begin : gen_direct
      assign west_valid[0]            = in_valid_i;
      assign west_switch[0]           = in_switch_i;
      assign west_act[0 +: DataWidth] = in_act_i[0 +: DataWidth];
    end else begin : gen_delay
      delay_line #(.Width(DataWidth + 1), .Depth(r)) u_skew (
        .clk_i,
        .rst_ni,
        .valid_i (in_valid_i),
        .data_i  ({in_switch_i, in_act_i[r*DataWidth +: DataWidth]}),
        .valid_o (west_valid[r]),
        .data_o  ({west_switch[r], west_act[r*DataWidth +: DataWidth]})
      );
    end
  end

  for (genvar c = 0; c < N; c++) begin : gen_weight_skew
    if (c == 0) begin : gen_direct
      assign col_w_valid[0]             = w_valid_i;
      assign col_w_row[0 +: IdxWidth]   = w_row_i;
      assign col_w_data[0 +: DataWidth] = w_data_i[0 +: DataWidth];
    end else begin : gen_delay
      delay_line #(.Width(IdxWidth + DataWidth), .Depth(c)) u_skew (
        .clk_i,
        .rst_ni,
        .valid_i (w_valid_i),
        .data_i  ({w_row_i, w_data_i[c*DataWidth +: DataWidth]}),
        .valid_o (col_w_valid[c]),
        .data_o  ({col_w_row[c*IdxWidth +: IdxWidth], col_w_data[c*DataWidth +: DataWidth]})
      );
    end
  end

  for (genvar r = 0; r < N; r++) begin : gen_row
    for (genvar c = 0; c < N; c++) begin : gen_col
      logic                valid_in, switch_in, load;
      tpu_pkg::data_t      act_in;
      logic [SumWidth-1:0] psum_in;

      if (c == 0) begin : gen_west_edge
        assign valid_in  = west_valid[r];
        assign switch_in = west_switch[r];
        assign act_in    = west_act[r*DataWidth +: DataWidth];
      end else begin : gen_west_pe
        assign valid_in  = pe_valid[r*N + c - 1];
        assign switch_in = pe_switch[r*N + c - 1];
        assign act_in    = pe_act[(r*N + c - 1)*DataWidth +: DataWidth];
      end

      if (r == 0) begin : gen_north_edge
        assign psum_in = '0;
      end else begin : gen_north_pe
        assign psum_in = pe_psum[((r-1)*N + c)*SumWidth +: SumWidth];
      end

      assign load = col_w_valid[c] && (col_w_row[c*IdxWidth +: IdxWidth] == IdxWidth'(r));

      pe #(.SumWidth(SumWidth)) u_pe (
        .clk_i,
        .rst_ni,
        .valid_i  (valid_in),
        .switch_i (switch_in),
        .act_i    (act_in),
        .psum_i   (psum_in),
        .load_i   (load),
        .w_i      (col_w_data[c*DataWidth +: DataWidth]),
        .valid_o  (pe_valid[r*N + c]),
        .switch_o (pe_switch[r*N + c]),
        .act_o    (pe_act[(r*N + c)*DataWidth +: DataWidth]),
        .psum_o   (pe_psum[(r*N + c)*SumWidth +: SumWidth])
      );
    end
  end

  for (genvar c = 0; c < N; c++) begin : gen_south
    logic                       valid_last;
    logic signed [SumWidth-1:0] psum_last;
    tpu_pkg::wide_t             psum_wide;
    tpu_pkg::data_t             result;  // after de-skew; named so waves show it per column

    // round_sat, cut to what a SumWidth-bit sum needs (about half the LUTs of the generic
    // helper on the wide type): the rounding adds 1 to the bits above the fraction when the
    // bits below reach one half (ties away from zero), and the result saturates unless the
    // bits from the data's sign bit up are all equal after that increment.
    logic                    round_up, carry_top, fits;
    logic [DataWidth-1:0]    rounded;
    logic [SouthHiWidth-1:0] top;
    // The column's output register: the rounded value, whether it saturates, and the sign.
    // Its data output applies the saturation, so for every column but the last the LUTs of
    // that choice share logic cells with the first de-skew register (ICESTORM_LC).
    logic [DataWidth-1:0]    round_q;
    logic                    sat_q, neg_q;

    assign valid_last = pe_valid[(N-1)*N + c];
    assign psum_last  = pe_psum[((N-1)*N + c)*SumWidth +: SumWidth];
    assign psum_wide  = tpu_pkg::WideWidth'(psum_last);  // sign-extends: psum_last is signed

    always_comb begin
      round_up  = psum_last[FracBits-1]
                  && (|psum_last[FracBits-2:0] || !psum_last[SumWidth-1]);
      rounded   = psum_last[FracBits +: DataWidth] + DataWidth'(round_up);
      // The carry into the result's sign bit, and the bits that must agree with it.
      carry_top = rounded[DataWidth-1] ^ psum_last[FracBits+DataWidth-1];
      top       = psum_last[SumWidth-1 -: SouthHiWidth];
      fits      = carry_top ? &top[SouthHiWidth-1:1] : (&top || ~|top);
    end

    // Rounding happens here, once per result; the saturation at the register's output.
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        south_valid_q[c] <= 1'b0;
        round_q          <= '0;
        sat_q            <= 1'b0;
        neg_q            <= 1'b0;
      end else begin
        south_valid_q[c] <= valid_last;
        if (valid_last) begin
          round_q <= rounded;
          sat_q   <= !fits;
          neg_q   <= psum_last[SumWidth-1];
        end
      end
    end

    assign south_data[c*DataWidth +: DataWidth] =
        sat_q ? {neg_q, {(DataWidth-1){!neg_q}}} : round_q;

`ifndef SYNTHESIS
    tpu_pkg::data_t expected_q;  // round_sat of the sum the output register took
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni)         expected_q <= '0;
      else if (valid_last) expected_q <= tpu_pkg::round_sat(psum_wide);
    end
    always_ff @(posedge clk_i) begin
      if (rst_ni) begin
        assert (south_data[c*DataWidth +: DataWidth] == expected_q)
          else $error("systolic_array: column %0d gives %0h, round_sat gives %0h",
                      c, south_data[c*DataWidth +: DataWidth], expected_q);
      end
    end
`endif

    if (c == N - 1) begin : gen_direct
      assign deskew_valid[c] = south_valid_q[c];
      assign result          = south_data[c*DataWidth +: DataWidth];
    end else begin : gen_delay
      delay_line #(.Width(DataWidth), .Depth(N - 1 - c)) u_deskew (
        .clk_i,
        .rst_ni,
        .valid_i (south_valid_q[c]),
        .data_i  (south_data[c*DataWidth +: DataWidth]),
        .valid_o (deskew_valid[c]),
        .data_o  (result)
      );
    end

    assign out_data_o[c*DataWidth +: DataWidth] = result;
  end

  assign out_valid_o = deskew_valid[0];

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rst_ni) begin
      assert (!w_valid_i || 32'(w_row_i) < N)
        else $error("systolic_array: w_row_i=%0d is outside the %0d-row array", w_row_i, N);
      assert (!in_switch_i || in_valid_i)
        else $error("systolic_array: in_switch_i without in_valid_i");
      assert (deskew_valid == '0 || deskew_valid == '1)
        else $error("systolic_array: de-skewed column valids disagree: %b", deskew_valid);
    end
  end
  initial begin
    if (SumWidth > tpu_pkg::WideWidth) begin
      $fatal(1, "systolic_array: ArrayDim %0d needs %0d-bit sums, helpers take %0d",
             N, SumWidth, tpu_pkg::WideWidth);
    end
  end
`endif
endmodule
