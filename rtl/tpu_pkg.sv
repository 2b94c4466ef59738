// Shared parameters, types and fixed-point helpers of the TPU.
//
// Always referenced by scope (tpu_pkg::round_sat): Yosys 0.23 rejects `import`.
// The number format and the rounding rule are specified in docs/architecture.md;
// the golden model (golden/fixed_point.hpp) implements the same rules from that page.
package tpu_pkg;

  // Width of every value outside the accumulators (two's complement).
  localparam int DataWidth = 16;
  // Fractional bits of a value: the default format is Q8.8.
  localparam int FracBits  = 8;
  // Holds one full product of two values (2 * DataWidth).
  localparam int AccWidth  = 32;
  // Default side of the square systolic array; every module takes it as a parameter.
  localparam int ArrayDim  = 8;

  // Widest intermediate the helpers accept: a product plus 8 guard bits, enough for
  // column sums of arrays up to 256 PEs deep.
  localparam int WideWidth = AccWidth + 8;

  localparam int DataMax = 2 ** (DataWidth - 1) - 1;
  localparam int DataMin = -(2 ** (DataWidth - 1));

  typedef logic signed [DataWidth-1:0]   data_t;
  typedef logic signed [2*DataWidth-1:0] prod_t;
  typedef logic signed [WideWidth-1:0]   wide_t;

  // Exact signed product: nothing is dropped at the multiplier.
  function automatic prod_t mul(input data_t a, input data_t b);
    mul = a * b;
  endfunction

  // From 2*FracBits to FracBits fractional bits: round to nearest, ties away from zero.
  //   round(x) = (x + 2^(F-1) - (x < 0)) >>> F, computed one bit wider than x.
  // Ties away from zero is symmetric; the predecessor's truncation biased every
  // product by -1/2 LSB.
  function automatic wide_t round_shift(input wide_t x);
    logic signed [WideWidth:0] biased;
    biased = $signed({x[WideWidth-1], x})
             + $signed((WideWidth + 1)'(2 ** (FracBits - 1)))
             - $signed((WideWidth + 1)'(x[WideWidth-1]));
    round_shift = WideWidth'(biased >>> FracBits);
  endfunction

  // Clamp to [DataMin, DataMax]. A value fits when every bit above the data's sign
  // bit equals it, a cheaper test than two wide compares.
  function automatic data_t saturate(input wide_t x);
    if (&x[WideWidth-1:DataWidth-1] || ~|x[WideWidth-1:DataWidth-1]) begin
      saturate = x[DataWidth-1:0];
    end else if (x[WideWidth-1]) begin
      saturate = DataWidth'(DataMin);
    end else begin
      saturate = DataWidth'(DataMax);
    end
  endfunction

  // The one way a wide value becomes a data value in this design.
  function automatic data_t round_sat(input wide_t x);
    round_sat = saturate(round_shift(x));
  endfunction

  // Width of a row/column index into an array of `dim` lanes (at least 1 bit).
  function automatic int idx_width(input int dim);
    idx_width = (dim > 1) ? $clog2(dim) : 1;
  endfunction

endpackage
