// The UART bridge: request frames in on `rx_i`, TPU host-port requests out, reply frames back
// on `tx_o`. Specification: docs/fpga.md, "UART protocol"; the host port it masters is the
// TPU's (docs/architecture.md, "The TPU", host port).
//
// One frame at a time. A request is received whole (its CRC is checked on the CRC byte: a
// CRC-8 with no final XOR run over the message and its own CRC gives 0) before the TPU is
// touched; the reply's sync and kind bytes go out while the first host-port request is made,
// and a read's items are sent as the TPU answers them. A read response is held (ready low)
// until its last byte is handed to the transmitter, so its data needs no copy here. A reply
// byte enters the CRC the cycle after the transmitter takes it (from the transmitter's copy),
// which keeps the TPU's read data out of the CRC's logic: the path from the TPU ends at the
// transmitter's shift register.
module uart_bridge #(
  parameter int ArrayDim    = tpu_pkg::ArrayDim,
  parameter int ClksPerBit  = 260,     // clock cycles per UART bit (clock / baud)
  parameter int TimeoutClks = 300000,  // quiet-line cycles that end a frame (> 12 bits)
  // What the info reply reports.
  parameter int UbDepth     = 512,
  parameter int ImemDepth   = 512,
  parameter int MaxInFlight = 4,
  parameter int ClockMhz    = 30,
  localparam int RowWidth   = ArrayDim * tpu_pkg::DataWidth,
  localparam int HostWidth  = (RowWidth > 64) ? RowWidth : 64
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,
  // UART pins (idle high).
  input  logic                 rx_i,
  output logic                 tx_o,
  // Master of the TPU's host port.
  output logic                 host_req_valid_o,
  input  logic                 host_req_ready_i,
  output logic                 host_req_we_o,
  output logic [1:0]           host_req_space_o,
  output tpu_pkg::ub_addr_t    host_req_addr_o,
  output logic [HostWidth-1:0] host_req_wdata_o,
  input  logic                 host_rsp_valid_i,
  output logic                 host_rsp_ready_o,
  input  logic [HostWidth-1:0] host_rsp_rdata_i,
  input  logic                 host_rsp_err_i
);
  localparam int HostBytes = HostWidth / 8;
  localparam int RowBytes  = RowWidth / 8;
  // Counts the bytes after the op (address, count or item, then the CRC) and a reply item's.
  localparam int IdxW      = $clog2(HostBytes + 3);
  localparam int QuietW    = $clog2(TimeoutClks + 1);

  localparam logic [7:0] ReqSync = 8'hA5;
  localparam logic [7:0] RspSync = 8'h5A;
  localparam logic [7:0] OpInfo  = 8'h30;

  localparam logic [2:0] StOk       = 3'd0;
  localparam logic [2:0] StBadCrc   = 3'd1;
  localparam logic [2:0] StBadOp    = 3'd2;
  localparam logic [2:0] StTpuError = 3'd3;
  localparam logic [2:0] StTimeout  = 3'd4;

  // Info data, byte 0 first.
  localparam logic [63:0] InfoWord = {8'(ClockMhz), 8'(MaxInFlight), 16'(ImemDepth),
                                      16'(UbDepth), 8'(ArrayDim), 8'd1};

  typedef enum logic [3:0] {
    Idle   = 4'd0,   // waiting for the request sync byte
    Op     = 4'd1,
    Body   = 4'd2,   // address, count or item, then the CRC
    Quiet  = 4'd3,   // after BAD_OP: waiting for a quiet line
    Sync   = 4'd4,   // reply bytes ...
    Kind   = 4'd5,
    Req    = 4'd6,   // a host-port request
    Rsp    = 4'd7,   // its response
    Data   = 4'd8,
    Status = 4'd9,
    Crc    = 4'd10
  } state_e;

  // ---------------------------------------------------------------------------------------
  // The line.

  logic       line, rx_valid;
  logic [7:0] rx_data;
  logic       tx_valid, tx_ready;
  logic [7:0] tx_data, tx_sent;

  uart_rx #(.ClksPerBit(ClksPerBit)) u_rx (
    .clk_i, .rst_ni, .rx_i, .line_o(line), .valid_o(rx_valid), .data_o(rx_data)
  );
  uart_tx #(.ClksPerBit(ClksPerBit)) u_tx (
    .clk_i, .rst_ni, .valid_i(tx_valid), .ready_o(tx_ready), .data_i(tx_data), .tx_o,
    .sent_o(tx_sent)
  );

  // Consecutive cycles with the line high, saturating at TimeoutClks: counted up from
  // 2^QuietW - TimeoutClks, so that the top bit says the line has been quiet long enough (no
  // comparator).
  localparam logic [QuietW:0] QuietStart = (QuietW+1)'(2 ** QuietW - TimeoutClks);

  logic [QuietW:0] quiet_q;
  logic            quiet;
  assign quiet = quiet_q[QuietW];

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)     quiet_q <= QuietStart;
    else if (!line)  quiet_q <= QuietStart;
    else if (!quiet) quiet_q <= quiet_q + 1'b1;
  end

  // ---------------------------------------------------------------------------------------
  // CRC-8, polynomial 0x07, initial 0, most significant bit first.

  function automatic logic [7:0] crc8(input logic [7:0] crc, input logic [7:0] data);
    logic [7:0] c;
    c = crc ^ data;
    for (int i = 0; i < 8; i++) c = c[7] ? {c[6:0], 1'b0} ^ 8'h07 : {c[6:0], 1'b0};
    crc8 = c;
  endfunction

  // ---------------------------------------------------------------------------------------
  // The protocol.

  state_e               state_q, state_d;
  logic [IdxW-1:0]      idx_q, idx_d;
  logic [7:0]           count_q, count_d;   // items left after this one
  tpu_pkg::ub_addr_t    addr_q, addr_d;
  logic [HostWidth-1:0] wdata_q, wdata_d;
  logic [2:0]           status_q, status_d;
  logic [7:0]           crc_q, crc_d;
  logic                 we_q, we_d, info_q, info_d;
  logic                 crc_tx_q, crc_tx_d;  // the byte the transmitter took enters the CRC
  logic [1:0]           space_q, space_d;

  // The op byte (in state Op): write 0x10 + space, read 0x20 + space, info 0x30.
  logic op_write, op_read, op_info;
  assign op_write = rx_data[7:4] == 4'h1 && rx_data[3:2] == 2'b00 && rx_data[1:0] != 2'b11;
  assign op_read  = rx_data[7:4] == 4'h2 && rx_data[3:2] == 2'b00 && rx_data[1:0] != 2'b11;
  assign op_info  = rx_data == OpInfo;

  // Item width in bytes, and the body's length before the CRC byte.
  logic [IdxW-1:0] item_last, body_len;
  always_comb begin
    item_last = IdxW'(7);  // info: 8 bytes
    if (!info_q) begin
      unique case (space_q)
        2'd0:    item_last = IdxW'(RowBytes - 1);
        2'd1:    item_last = IdxW'(7);
        default: item_last = IdxW'(3);
      endcase
    end
    if (info_q)    body_len = '0;
    else if (we_q) body_len = item_last + IdxW'(3);
    else           body_len = IdxW'(3);
  end

  // Reply data: the info word, or the held response's item (zeros when refused). The byte is
  // selected before the masks, so they cost a LUT per byte bit rather than per word bit.
  logic [7:0] rdata_byte, info_byte, data_byte;
  assign rdata_byte = host_rsp_rdata_i[8*32'(idx_q) +: 8];
  assign info_byte  = InfoWord[8*32'(idx_q[2:0]) +: 8];
  assign data_byte  = info_q ? info_byte : host_rsp_err_i ? '0 : rdata_byte;

  logic       kind, item_done;
  logic [7:0] crc_next;
  assign kind     = status_q == StOk && !we_q;  // a read or info: data follows
  assign crc_next = crc8(crc_q, crc_tx_q ? tx_sent : rx_data);

  always_comb begin
    state_d  = state_q;
    idx_d    = idx_q;
    count_d  = count_q;
    addr_d   = addr_q;
    wdata_d  = wdata_q;
    status_d = status_q;
    crc_d    = crc_q;
    we_d     = we_q;
    info_d   = info_q;
    space_d  = space_q;
    tx_valid = 1'b0;
    tx_data  = RspSync;
    host_req_valid_o = 1'b0;
    host_rsp_ready_o = 1'b0;
    item_done = 1'b0;
    crc_tx_d  = 1'b0;

    unique case (state_q)
      Idle: begin
        crc_d = '0;
        if (rx_valid && rx_data == ReqSync) state_d = Op;
      end
      Op: begin
        if (quiet) begin
          status_d = StTimeout;
          state_d  = Sync;
        end else if (rx_valid) begin
          crc_d   = crc_next;
          idx_d   = '0;
          count_d = '0;
          wdata_d = '0;
          we_d    = op_write;
          info_d  = op_info;
          space_d = rx_data[1:0];
          if (op_write || op_read || op_info) begin
            status_d = StOk;
            state_d  = Body;
          end else begin
            status_d = StBadOp;
            state_d  = Sync;
          end
        end
      end
      Body: begin
        if (quiet) begin
          status_d = StTimeout;
          state_d  = Sync;
        end else if (rx_valid) begin
          crc_d = crc_next;
          idx_d = idx_q + 1'b1;
          if (idx_q == body_len) begin
            status_d = crc_next == '0 ? StOk : StBadCrc;
            state_d  = Sync;
          end else begin
            // Shifted in (low byte first): cheaper than a byte select beside the increment.
            if (idx_q < IdxW'(2)) addr_d = {rx_data, addr_q[15:8]};
            if (idx_q == IdxW'(2) && !we_q) count_d = rx_data;
            for (int k = 0; k < HostBytes; k++) begin
              if (idx_q == IdxW'(k + 2)) wdata_d[8*k +: 8] = rx_data;
            end
          end
        end
      end
      Quiet: if (quiet) state_d = Idle;
      Sync: begin
        crc_d    = '0;
        tx_valid = 1'b1;
        tx_data  = RspSync;
        if (tx_ready) state_d = Kind;
      end
      Kind: begin
        tx_valid = 1'b1;
        tx_data  = {7'd0, kind};
        idx_d    = '0;
        if (tx_ready) begin
          crc_tx_d = 1'b1;
          if (status_q != StOk) state_d = Status;
          else if (info_q)      state_d = Data;
          else                  state_d = Req;
        end
      end
      Req: begin
        host_req_valid_o = 1'b1;
        if (host_req_ready_i) state_d = Rsp;
      end
      Rsp: begin
        host_rsp_ready_o = we_q;  // a read's response is held until its bytes are sent
        if (host_rsp_valid_i) begin
          if (host_rsp_err_i) status_d = StTpuError;
          if (we_q) item_done = 1'b1;
          else      state_d = Data;
        end
      end
      Data: begin
        tx_valid = 1'b1;
        tx_data  = data_byte;
        if (tx_ready) begin
          crc_tx_d = 1'b1;
          idx_d    = idx_q + 1'b1;
          if (idx_q == item_last) begin
            host_rsp_ready_o = !info_q;
            idx_d     = '0;
            item_done = 1'b1;
          end
        end
      end
      Status: begin
        tx_valid = 1'b1;
        tx_data  = {5'd0, status_q};
        if (tx_ready) begin
          crc_tx_d = 1'b1;
          state_d  = Crc;
        end
      end
      Crc: begin
        tx_valid = 1'b1;
        tx_data  = crc_q;
        if (tx_ready) state_d = status_q == StBadOp ? Quiet : Idle;
      end
      default: state_d = Idle;
    endcase

    if (crc_tx_q) crc_d = crc_next;

    // The end of one item: the next address, or the status.
    if (item_done) begin
      if (count_q == '0) begin
        state_d = Status;
      end else begin
        count_d = count_q - 1'b1;
        addr_d  = addr_q + 1'b1;
        state_d = Req;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q  <= Idle;
      idx_q    <= '0;
      count_q  <= '0;
      addr_q   <= '0;
      status_q <= StOk;
      crc_q    <= '0;
      crc_tx_q <= 1'b0;
      we_q     <= 1'b0;
      info_q   <= 1'b0;
      space_q  <= '0;
    end else begin
      state_q  <= state_d;
      idx_q    <= idx_d;
      count_q  <= count_d;
      addr_q   <= addr_d;
      status_q <= status_d;
      crc_q    <= crc_d;
      crc_tx_q <= crc_tx_d;
      we_q     <= we_d;
      info_q   <= info_d;
      space_q  <= space_d;
    end
  end

  // The item being written: no reset (a reset would stop the clear at Op from mapping onto
  // the flops' synchronous reset, a LUT per bit); the TPU only sees it after a whole frame.
  always_ff @(posedge clk_i) wdata_q <= wdata_d;

  assign host_req_we_o    = we_q;
  assign host_req_space_o = space_q;
  assign host_req_addr_o  = addr_q;
  assign host_req_wdata_o = wdata_q;

`ifndef SYNTHESIS
  initial begin
    if (TimeoutClks <= 12 * ClksPerBit) begin
      $fatal(1, "uart_bridge: TimeoutClks %0d must exceed 12 bits (%0d cycles)", TimeoutClks,
             12 * ClksPerBit);
    end
  end

  // The CRC byte goes out after the status byte has entered the CRC (the transmitter is busy
  // for ClksPerBit * 10 cycles after taking a byte).
  always_ff @(posedge clk_i) begin
    if (rst_ni && state_q == Crc && tx_ready) begin
      assert (!crc_tx_q) else $error("uart_bridge: CRC byte sent before the CRC was complete");
    end
  end

  // A read's response stays valid while its bytes are sent (the TPU holds it until ready).
  always_ff @(posedge clk_i) begin
    if (rst_ni && state_q == Data && !info_q) begin
      assert (host_rsp_valid_i) else $error("uart_bridge: read response dropped before ready");
    end
  end
`endif
endmodule
