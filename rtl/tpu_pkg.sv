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

  // Divide by 2^k, rounding to nearest with ties away from zero, for a shift known only
  // at run time (k = 0 leaves v alone). One bit wider inside, so it cannot overflow.
  function automatic logic signed [DataWidth:0] rshift_round(
      input logic signed [DataWidth:0] v, input logic [3:0] k);
    logic        [DataWidth+1:0] addend;
    logic signed [DataWidth+1:0] biased;
    // addend = 2^(k-1) - (v < 0) for k >= 1 and 0 for k = 0, built bit by bit so one
    // adder does the rounding and k = 0 needs no bypass (the shift by 0 leaves v).
    for (int i = 0; i < DataWidth + 2; i++) begin
      addend[i] = v[DataWidth] ? (5'(i + 1) < {1'b0, k}) : (5'(i + 1) == {1'b0, k});
    end
    biased       = $signed({v[DataWidth], v}) + $signed(addend);
    rshift_round = (DataWidth + 1)'(biased >>> k);
  endfunction

  // Clamp a value one bit wider than data (a sum or difference of two) to data.
  function automatic data_t saturate_narrow(input logic signed [DataWidth+1:0] x);
    saturate_narrow = saturate(WideWidth'(x));
  endfunction

  // ---------------------------------------------------------------------------------
  // Vector processing unit (docs/architecture.md, "Vector processing unit").

  localparam logic [1:0] ActIdentity  = 2'd0;
  localparam logic [1:0] ActRelu      = 2'd1;
  localparam logic [1:0] ActLeakyRelu = 2'd2;

  // Pathway mask bits.
  localparam int MaskBias  = 0;
  localparam int MaskAct   = 1;
  localparam int MaskLoss  = 2;
  localparam int MaskDeriv = 3;

  typedef struct packed {
    logic [3:0] mask;        // bit MaskBias .. MaskDeriv: a clear bit bypasses the stage
    logic [1:0] act_fn;      // ActIdentity, ActRelu, ActLeakyRelu (3 reserved)
    logic [3:0] leak_shift;  // leaky ReLU slope 2^-leak_shift
    logic [3:0] batch_log2;  // loss scale 2/B, B = 2^batch_log2
    logic       deriv_src;   // 0: the row's own pre-activation, 1: in_deriv_i
  } vpu_cfg_t;

  // ---------------------------------------------------------------------------------
  // Unified buffer (docs/architecture.md, "Unified buffer").

  localparam int UbAddrWidth = 16;
  localparam int LanesWidth  = 8;

  typedef logic [UbAddrWidth-1:0] ub_addr_t;

  typedef struct packed {
    ub_addr_t              start;
    ub_addr_t              count;
    ub_addr_t              stride;
    logic [LanesWidth-1:0] lanes;      // lanes >= this read as 0
    logic                  transpose;  // column i of the N-row block at start
  } ub_rd_cmd_t;

  typedef struct packed {
    ub_addr_t              start;
    ub_addr_t              count;
    ub_addr_t              stride;
    logic [LanesWidth-1:0] lanes;      // lanes >= this keep their contents
  } ub_wr_cmd_t;

  // A read port's command as a flat vector (one slice per port), and where each field of
  // ub_rd_cmd_t sits in it. Yosys 0.23 cannot take members of a struct declared inside
  // a generate block, so per-port logic slices these instead.
  localparam int UbRdCmdWidth     = 3 * UbAddrWidth + LanesWidth + 1;
  localparam int UbRdTransposeLsb = 0;
  localparam int UbRdLanesLsb     = 1;
  localparam int UbRdStrideLsb    = UbRdLanesLsb + LanesWidth;
  localparam int UbRdCountLsb     = UbRdStrideLsb + UbAddrWidth;
  localparam int UbRdStartLsb     = UbRdCountLsb + UbAddrWidth;

  localparam int UbWrCmdWidth     = 3 * UbAddrWidth + LanesWidth;

  // Every unit that issues buffer commands packs them with these two (one layout for all).
  function automatic logic [UbRdCmdWidth-1:0] ub_rd_cmd(
      input ub_addr_t start, input ub_addr_t count, input ub_addr_t stride,
      input logic [LanesWidth-1:0] lanes, input logic transpose);
    ub_rd_cmd = {start, count, stride, lanes, transpose};
  endfunction

  function automatic logic [UbWrCmdWidth-1:0] ub_wr_cmd(
      input ub_addr_t start, input ub_addr_t count, input ub_addr_t stride,
      input logic [LanesWidth-1:0] lanes);
    ub_wr_cmd = {start, count, stride, lanes};
  endfunction

  localparam logic [3:0] UbErrNone       = 4'd0;
  localparam logic [3:0] UbErrReadRange  = 4'd1;
  localparam logic [3:0] UbErrWriteRange = 4'd2;
  localparam logic [3:0] UbErrWriteNoCmd = 4'd3;
  localparam logic [3:0] UbErrHostRange  = 4'd4;

  // ---------------------------------------------------------------------------------
  // Gradient-descent unit (docs/architecture.md, "Gradient-descent unit").

  typedef struct packed {
    ub_addr_t theta_addr;
    ub_addr_t grad_addr;
    ub_addr_t count;
    data_t    lr;          // Q8.8 learning rate
    logic     stochastic;  // 1: stochastic rounding of lr * g, 0: to nearest
  } sgd_cmd_t;

  // One step of the lanes' 32-bit Fibonacci LFSR, taps 32, 22, 2, 1 (maximal length).
  function automatic logic [31:0] lfsr_step(input logic [31:0] s);
    lfsr_step = {s[30:0], s[31] ^ s[21] ^ s[1] ^ s[0]};
  endfunction

  // ---------------------------------------------------------------------------------
  // Instruction set (docs/isa.md). golden/isa.hpp mirrors every value here.

  localparam int InstrWidth = 64;
  typedef logic [InstrWidth-1:0] instr_t;

  localparam logic [3:0] OpNop    = 4'h0;
  localparam logic [3:0] OpHalt   = 4'h1;
  localparam logic [3:0] OpSync   = 4'h2;
  localparam logic [3:0] OpLoop   = 4'h3;
  localparam logic [3:0] OpEndl   = 4'h4;
  localparam logic [3:0] OpSeed   = 4'h5;
  localparam logic [3:0] OpVpu    = 4'h6;
  localparam logic [3:0] OpLoadw  = 4'h7;
  localparam logic [3:0] OpMatmul = 4'h8;
  localparam logic [3:0] OpSgd    = 4'h9;
  localparam logic [3:0] OpSeta   = 4'hA;
  localparam logic [3:0] OpAdda   = 4'hB;

  // Field positions: the least significant bit of each field, and its width.
  localparam int FOpLsb        = 60;
  localparam int FLoopCount    = 0;   // 16
  localparam int FSeed         = 0;   // 32
  localparam int FVpuSide      = 0;   // 16
  localparam int FVpuSideReg   = 16;  // 2
  localparam int FVpuBias      = 18;  // 16
  localparam int FVpuBiasReg   = 34;  // 2
  localparam int FVpuCfg       = 36;  // 15 (vpu_cfg_t)
  localparam int FLoadwAddr    = 0;   // 16
  localparam int FLoadwAddrReg = 16;  // 2
  localparam int FLoadwRows    = 18;  // 8
  localparam int FLoadwT       = 26;  // 1
  localparam int FMatmulAct    = 0;   // 16
  localparam int FMatmulActReg = 16;  // 2
  localparam int FMatmulOut    = 18;  // 16
  localparam int FMatmulOutReg = 34;  // 2
  localparam int FMatmulRows   = 36;  // 10
  localparam int FMatmulK      = 46;  // 6
  localparam int FMatmulN      = 52;  // 6
  localparam int FMatmulT      = 58;  // 1
  localparam int FMatmulAcc    = 59;  // 1
  localparam int FSgdTheta     = 0;   // 16
  localparam int FSgdGrad      = 16;  // 16
  localparam int FSgdCount     = 32;  // 11
  localparam int FSgdLr        = 43;  // 16
  localparam int FSgdStoch     = 59;  // 1
  localparam int FAregImm      = 0;   // 16 (adda: signed)
  localparam int FAregReg      = 16;  // 2
  localparam int VpuCfgWidth   = 15;

  // Address registers a1..a3 (a[0] reads 0): the width of one, and of a selector.
  localparam int ARegWidth     = 16;
  localparam int ARegSelWidth  = 2;

  // The bits each format uses below the opcode; any other bit set makes it illegal.
  function automatic logic [59:0] used_bits(input logic [3:0] op);
    unique case (op)
      OpLoop:         used_bits = 60'hFFFF;                 // [15:0]
      OpSeed:         used_bits = 60'hFFFF_FFFF;            // [31:0]
      OpVpu:          used_bits = 60'h7_FFFF_FFFF_FFFF;     // [50:0]
      OpLoadw:        used_bits = 60'h7FF_FFFF;             // [26:0]
      OpMatmul:       used_bits = 60'hFFF_FFFF_FFFF_FFFF;   // [59:0]
      OpSgd:          used_bits = 60'hFFF_FFFF_FFFF_FFFF;   // [59:0]
      OpSeta, OpAdda: used_bits = 60'h3_FFFF;               // [17:0]
      default:        used_bits = '0;  // nop, halt, sync, endl, and the illegal opcodes
    endcase
  endfunction

  // The TPU's host port: address spaces, and the control registers of space 2.
  localparam logic [1:0] HostSpaceUb   = 2'd0;  // buffer rows
  localparam logic [1:0] HostSpaceImem = 2'd1;  // instruction words
  localparam logic [1:0] HostSpaceCsr  = 2'd2;  // control registers
  localparam int         CsrControl    = 0;     // write: bit 0 start, bit 1 continue; read: status
  localparam int         CsrCycles     = 1;     // read: the cycle counter
  localparam int         CsrStartBit   = 0;
  localparam int         CsrContBit    = 1;

  // Status word states and error codes.
  localparam logic [2:0] StIdle    = 3'd0;
  localparam logic [2:0] StRunning = 3'd1;
  localparam logic [2:0] StSync    = 3'd2;
  localparam logic [2:0] StDone    = 3'd3;
  localparam logic [2:0] StError   = 3'd4;

  localparam logic [3:0] ErrNone    = 4'd0;
  localparam logic [3:0] ErrOpcode  = 4'd1;
  localparam logic [3:0] ErrAddress = 4'd2;
  localparam logic [3:0] ErrField   = 4'd3;
  localparam logic [3:0] ErrLoop    = 4'd4;
  localparam logic [3:0] ErrPc      = 4'd5;
  localparam logic [3:0] ErrBuffer  = 4'd6;

  // Bits of an address into `depth` words (at least 1), and of a count 0..depth.
  function automatic int addr_width(input int depth);
    addr_width = (depth > 1) ? $clog2(depth) : 1;
  endfunction

  function automatic int count_width(input int depth);
    count_width = $clog2(depth + 1);
  endfunction

  // Width of a row/column index into an array of `dim` lanes (at least 1 bit).
  function automatic int idx_width(input int dim);
    idx_width = (dim > 1) ? $clog2(dim) : 1;
  endfunction

  // Width of the read-after-write test's sums (matmul_tracker): a matmul's age plus its first
  // output row, at most (2*dim + 5 + depth) + (depth - 1), against a read's limit.
  function automatic int raw_width(input int depth, input int dim);
    raw_width = $clog2(2 * depth + 2 * dim + 8);
  endfunction

endpackage
