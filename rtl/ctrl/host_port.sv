// The TPU's host port: one request in flight, answered two cycles after it is accepted.
// Space 0 (buffer rows) passes to the buffer's own host port; this module answers space 1
// (instruction words, refused while the program runs) and space 2 (control registers: start,
// continue, the status word, the cycle counter), and refuses space 3.
// Specification: docs/architecture.md, "The TPU", "Host port".
module host_port #(
  parameter int ArrayDim  = tpu_pkg::ArrayDim,
  parameter int ImemDepth = 256,
  localparam int RowWidth  = ArrayDim * tpu_pkg::DataWidth,
  localparam int HostWidth = (RowWidth > tpu_pkg::InstrWidth) ? RowWidth : tpu_pkg::InstrWidth,
  localparam int ImemAW    = tpu_pkg::addr_width(ImemDepth)
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,
  // The host.
  input  logic                 req_valid_i,
  output logic                 req_ready_o,
  input  logic                 req_we_i,
  input  logic [1:0]           req_space_i,
  input  tpu_pkg::ub_addr_t    req_addr_i,
  input  logic [HostWidth-1:0] req_wdata_i,
  output logic                 rsp_valid_o,
  input  logic                 rsp_ready_i,
  output logic [HostWidth-1:0] rsp_rdata_o,
  output logic                 rsp_err_o,
  // The buffer's host port (space 0); it takes the request's we, addr and wdata as they are.
  output logic                 ub_req_valid_o,
  input  logic                 ub_req_ready_i,
  input  logic                 ub_rsp_valid_i,
  input  logic [RowWidth-1:0]  ub_rsp_rdata_i,
  input  logic                 ub_rsp_err_i,
  // Instruction memory: a write at req_addr_i, or a read there instead of the control unit's.
  output logic                 imem_we_o,
  output logic                 imem_re_o,
  output logic                 imem_hold_o,   // keep the memory's output: a read's response
                                              // (not in the cycle the response is taken: the
                                              // control unit reads word 0 then, see below)
  output logic [ImemAW-1:0]    imem_addr_o,
  input  tpu_pkg::instr_t      imem_rdata_i,
  // The control unit's status, and the commands a legal CSR write gives it.
  input  logic [2:0]           state_i,
  input  logic [15:0]          pc_i,
  input  logic [3:0]           err_i,
  input  logic [31:0]          cycles_i,
  output logic                 start_o,
  output logic                 continue_o
);
  logic busy_q, own_rsp_valid_q, own_pending_q, own_err_q, own_imem_q;
  logic [31:0] own_csr_q;  // a control register as it was when its read was accepted
  logic accept, to_ub, to_imem, to_csr, active;

  // Running or Sync: the instruction memory is locked.
  assign active  = state_i == tpu_pkg::StRunning || state_i == tpu_pkg::StSync;
  assign to_ub   = req_space_i == tpu_pkg::HostSpaceUb;
  assign to_imem = req_space_i == tpu_pkg::HostSpaceImem;
  assign to_csr  = req_space_i == tpu_pkg::HostSpaceCsr;
  // Nothing is taken while the reset is held: the instruction memory has no reset, so a request
  // taken then (a host that kept its request up across the reset) would write a word no
  // response answers. The buffer keeps the same rule for space 0 itself.
  assign req_ready_o    = rst_ni && !busy_q && (!to_ub || ub_req_ready_i);
  assign accept         = req_valid_i && req_ready_o;
  assign ub_req_valid_o = req_valid_i && to_ub && !busy_q;

  // Instruction-memory and CSR requests: legality and effects.
  logic imem_ok, csr_ok, csr_write;
  assign imem_ok     = 32'(req_addr_i) < ImemDepth && !active;
  assign imem_we_o   = accept && to_imem && req_we_i && imem_ok;
  assign imem_re_o   = accept && to_imem && !req_we_i && imem_ok;
  assign imem_addr_o = req_addr_i[ImemAW-1:0];

  always_comb begin
    csr_ok = 1'b0;
    if (req_we_i) begin
      // CSR 0: the start bit starts (not while Running or in Sync); else the continue bit
      // continues (only in Sync); neither is an error. Higher bits are ignored.
      if (32'(req_addr_i) == tpu_pkg::CsrControl) begin
        if (req_wdata_i[tpu_pkg::CsrStartBit])     csr_ok = !active;
        else if (req_wdata_i[tpu_pkg::CsrContBit]) csr_ok = state_i == tpu_pkg::StSync;
      end
    end else begin
      csr_ok = 32'(req_addr_i) <= tpu_pkg::CsrCycles;
    end
  end
  assign csr_write  = accept && to_csr && req_we_i && csr_ok;
  assign start_o    = csr_write && req_wdata_i[tpu_pkg::CsrStartBit];
  assign continue_o = csr_write && !req_wdata_i[tpu_pkg::CsrStartBit];

  // Cycle t: accepted (a CSR read is captured as it is now, an instruction word is read);
  // t+1: pending; t+2: the response. An instruction word is answered straight from the
  // memory's output register, which holds it until the response is taken (the memory is
  // only read for the host while the control unit is stopped). The memory reads again in the
  // cycle the response is taken, so that its output is the control unit's word 0 by the next
  // cycle, when a start may come (the control unit predecodes word 0 in a start cycle).
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q          <= 1'b0;
      own_pending_q   <= 1'b0;
      own_err_q       <= 1'b0;
      own_imem_q      <= 1'b0;
      own_rsp_valid_q <= 1'b0;
      own_csr_q       <= '0;
    end else begin
      if (accept) busy_q <= 1'b1;
      else if (rsp_valid_o && rsp_ready_i) busy_q <= 1'b0;
      own_pending_q <= accept && !to_ub;
      if (accept && !to_ub) begin
        own_err_q  <= to_imem ? !imem_ok : !(to_csr && csr_ok);  // space 3: an error
        own_imem_q <= imem_re_o;
        own_csr_q  <= '0;
        if (to_csr && !req_we_i && csr_ok) begin
          own_csr_q <= (32'(req_addr_i) == tpu_pkg::CsrControl)
                       ? 32'({err_i, 1'b0, state_i, pc_i}) : cycles_i;
        end
      end else if (own_rsp_valid_q && rsp_ready_i) begin
        own_imem_q <= 1'b0;
      end
      if (own_pending_q) begin
        own_rsp_valid_q <= 1'b1;
      end else if (own_rsp_valid_q && rsp_ready_i) begin
        own_rsp_valid_q <= 1'b0;
      end
    end
  end

  assign imem_hold_o = own_imem_q && !(own_rsp_valid_q && rsp_ready_i);
  assign rsp_valid_o = ub_rsp_valid_i || own_rsp_valid_q;
  assign rsp_err_o   = ub_rsp_valid_i ? ub_rsp_err_i : own_err_q;
  assign rsp_rdata_o = ub_rsp_valid_i ? HostWidth'(ub_rsp_rdata_i)
                     : own_imem_q     ? HostWidth'(imem_rdata_i) : HostWidth'(own_csr_q);
endmodule
