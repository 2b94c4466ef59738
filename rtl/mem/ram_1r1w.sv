// One write port, one registered read port, no reset: the shape Yosys maps to iCE40
// block RAM (SB_RAM40_4K). A read and a write of the same word in one cycle return
// the old word.
//
// The iCE40 block RAM leaves a read and a write of one word at the same clock edge
// undefined, so Yosys would keep the old-word rule by delaying the write a cycle and
// bypassing it into the read (Width + AddrWidth + 1 flops, then Width + 1 flops and about
// Width + 7 LUTs more). Instead the write port's inputs are held at the rising edge and
// written at the falling edge half a cycle later (the RAM's write clock inverted, free in
// the block): every read, at a rising edge, sees exactly the writes of the earlier cycles,
// and no edge ever both reads and writes. What is left is the hold register; where several
// copies take the same write (unified_buffer), a flattened synthesis merges theirs.
module ram_1r1w #(
  parameter int Width     = 16,
  parameter int Depth     = 256,
  localparam int AddrWidth = (Depth > 1) ? $clog2(Depth) : 1
) (
  input  logic                 clk_i,
  input  logic                 we_i,
  input  logic [AddrWidth-1:0] waddr_i,
  input  logic [Width-1:0]     wdata_i,
  input  logic                 re_i,
  input  logic [AddrWidth-1:0] raddr_i,
  output logic [Width-1:0]     rdata_o
);
  logic [Width-1:0]     mem_q [Depth];
  logic [Width-1:0]     rdata_q;
  // No reset, like the RAM: the FPGA's flops start at 0 (no write pending; the initial block
  // below says so for simulation).
  logic                 we_q;
  logic [AddrWidth-1:0] waddr_q;
  logic [Width-1:0]     wdata_q;

  always_ff @(posedge clk_i) begin
    we_q    <= we_i;
    waddr_q <= waddr_i;
    wdata_q <= wdata_i;
    if (re_i) rdata_q <= mem_q[raddr_i];
  end

  always_ff @(negedge clk_i) begin
    if (we_q) mem_q[waddr_q] <= wdata_q;
  end

  assign rdata_o = rdata_q;

`ifndef SYNTHESIS
  // Power-up state (docs/architecture.md, "Unified buffer"): the iCE40's block RAM and flops
  // are configured to zeros, so the memory holds zeros and no write is pending until the first
  // edge. Stated here for simulation, so that a model built with --x-initial unique (make
  // xcheck) starts where the FPGA does; synthesis gets the same from the device.
  initial begin
    for (int i = 0; i < Depth; i++) mem_q[i] = '0;
    we_q = 1'b0;
  end
`endif
endmodule
