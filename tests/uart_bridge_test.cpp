// The UART bridge alone (rtl/board/uart_bridge.sv) against the protocol of docs/fpga.md,
// "UART protocol". A C++ UART drives the bridge's rx pin bit by bit and decodes its tx pin; a
// C++ stand-in for the TPU's host port (docs/architecture.md, "The TPU", host port: buffer
// rows, instruction words, the control registers, the error rule, one request in flight, the
// response from two cycles after acceptance and held until ready) answers the bridge's
// requests, with back-pressure when a test asks for it. Every expected reply is built by the
// host's codec (sw/runtime/serial_protocol) from the protocol's text, never taken from the RTL.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "Vuart_bridge.h"
#include "sw/runtime/serial_protocol.hpp"
#include "tb/harness.hpp"
#include "tb/seed.hpp"

namespace {

using Bytes = std::vector<uint8_t>;

// The bridge's parameters, as tests/uart_bridge.cmake verilates it.
constexpr int kDim = TPU_ARRAY_DIM;
constexpr int kClksPerBit = TPU_CLKS_PER_BIT;
constexpr int kTimeoutClks = TPU_TIMEOUT_CLKS;
constexpr int kUbDepth = TPU_UB_DEPTH;
constexpr int kImemDepth = TPU_IMEM_DEPTH;
constexpr int kMaxInFlight = TPU_MAX_IN_FLIGHT;
constexpr int kClockMhz = TPU_CLOCK_MHZ;

// Waves and coverage files: "uart_bridge<ArrayDim>_<what>".
std::string trace(const std::string& what) {
  return "uart_bridge" + std::to_string(TPU_ARRAY_DIM) + "_" + what;
}

constexpr int kRowBytes = 2 * kDim;
constexpr int kHostBytes = std::max(kRowBytes, 8);

// ---------------------------------------------------------------------------------------
// The protocol (docs/fpga.md): the host's codec, sw/runtime/serial_protocol (itself tested
// against hand-worked frames in board_test), in the byte-level terms these tests use. The op
// codes stay bytes so that a test can send any byte as an op.

namespace serial = tpu::runtime::serial;

constexpr uint8_t kReqSync = serial::kRequestSync;
constexpr uint8_t kRspSync = serial::kReplySync;
constexpr uint8_t kOpWriteRow = uint8_t(serial::Op::kWriteRow);
constexpr uint8_t kOpWriteImem = uint8_t(serial::Op::kWriteInstr);
constexpr uint8_t kOpWriteCsr = uint8_t(serial::Op::kWriteCsr);
constexpr uint8_t kOpReadRow = uint8_t(serial::Op::kReadRows);
constexpr uint8_t kOpReadImem = uint8_t(serial::Op::kReadInstrs);
constexpr uint8_t kOpReadCsr = uint8_t(serial::Op::kReadCsrs);
constexpr uint8_t kOpInfo = uint8_t(serial::Op::kInfo);
constexpr uint8_t kOk = uint8_t(serial::ReplyStatus::kOk);
constexpr uint8_t kBadCrc = uint8_t(serial::ReplyStatus::kBadCrc);
constexpr uint8_t kBadOp = uint8_t(serial::ReplyStatus::kBadOp);
constexpr uint8_t kTpuError = uint8_t(serial::ReplyStatus::kTpuError);
constexpr uint8_t kTimeout = uint8_t(serial::ReplyStatus::kTimeout);

// CRC-8 of bytes [begin, end).
uint8_t crc8(const Bytes& bytes, size_t begin = 0, size_t end = SIZE_MAX) {
  end = std::min(end, bytes.size());
  return serial::crc8(std::span<const uint8_t>(bytes).subspan(begin, end - begin));
}

Bytes write_frame(uint8_t op, uint32_t addr, const Bytes& item) {
  return serial::write_frame(serial::Op(op), uint16_t(addr), item);
}
Bytes read_frame(uint8_t op, uint32_t addr, int count) {
  return serial::read_frame(serial::Op(op), uint16_t(addr), count);
}
Bytes info_frame() { return serial::info_frame(); }

// A reply frame: sync, kind, data, status, the CRC of kind..status.
Bytes reply(bool kind, const Bytes& data, uint8_t status) {
  serial::Reply r;
  r.has_data = kind;
  r.data = data;
  r.status = serial::ReplyStatus(status);
  return serial::encode_reply(r);
}

Bytes le(uint64_t v, int n) { return serial::le_bytes(v, n); }

std::string hex(const Bytes& b) { return serial::hex(b); }

// ---------------------------------------------------------------------------------------
// Wide ports: a Verilated port of up to 64 bits is a uint64_t, a wider one a VlWide.

void put_bytes(uint64_t& port, const Bytes& b) {
  port = 0;
  for (size_t i = 0; i < b.size() && i < 8; ++i) port |= uint64_t(b[i]) << (8 * i);
}
template <std::size_t N>
void put_bytes(VlWide<N>& port, const Bytes& b) {
  for (std::size_t w = 0; w < N; ++w) port[w] = 0;
  for (size_t i = 0; i < b.size() && i < 4 * N; ++i) port[i / 4] |= uint32_t(b[i]) << (8 * (i % 4));
}
Bytes get_bytes(uint64_t port) { return le(port, 8); }
template <std::size_t N>
Bytes get_bytes(const VlWide<N>& port) {
  Bytes b;
  for (std::size_t w = 0; w < N; ++w) {
    Bytes part = le(port[w], 4);
    b.insert(b.end(), part.begin(), part.end());
  }
  return b;
}

// ---------------------------------------------------------------------------------------
// The host side of the line: sends bytes bit by bit, decodes what the bridge sends.

class UartHost {
 public:
  // Queues bytes, each followed by `gap` idle cycles.
  void send(const Bytes& bytes, int gap = 0) {
    for (uint8_t b : bytes) {
      push(false);
      for (int i = 0; i < 8; ++i) push((b >> i) & 1);
      push(true);
      for (int i = 0; i < gap; ++i) levels_.push_back(true);
    }
  }
  bool sending() const { return !levels_.empty(); }

  // The level on the bridge's rx pin this cycle.
  bool rx_level() {
    if (levels_.empty()) return true;
    bool v = levels_.front();
    levels_.pop_front();
    return v;
  }

  // Samples the bridge's tx pin once a cycle: start bit on a falling edge, each bit sampled
  // in its middle, the stop bit must be high.
  void sample_tx(bool tx) {
    if (rx_bit_ < 0) {
      if (last_tx_ && !tx) {
        rx_bit_ = 0;
        rx_count_ = kClksPerBit / 2;
      }
    } else if (--rx_count_ == 0) {
      rx_count_ = kClksPerBit;
      if (rx_bit_ == 0) {
        if (tx)
          rx_bit_ = -1;  // a glitch, not a start bit
        else
          rx_bit_ = 1;
      } else if (rx_bit_ <= 8) {
        rx_byte_ = uint8_t((rx_byte_ >> 1) | (tx ? 0x80 : 0));
        ++rx_bit_;
      } else {
        if (tx)
          received.push_back(rx_byte_);
        else
          ++framing_errors;
        rx_bit_ = -1;
      }
    }
    last_tx_ = tx;
  }

  std::deque<uint8_t> received;
  int framing_errors = 0;

 private:
  void push(bool level) {
    for (int i = 0; i < kClksPerBit; ++i) levels_.push_back(level);
  }
  std::deque<bool> levels_;
  bool last_tx_ = true;
  int rx_bit_ = -1;  // -1 idle; 0 start; 1..8 data; 9 stop
  int rx_count_ = 0;
  uint8_t rx_byte_ = 0;
};

// ---------------------------------------------------------------------------------------
// A stand-in for the TPU's host port, written from docs/architecture.md.

struct HostRequest {
  bool we;
  int space;
  uint32_t addr;
  Bytes wdata;  // the item's bytes (a write's low W bytes)
  bool operator==(const HostRequest&) const = default;
};

std::ostream& operator<<(std::ostream& os, const HostRequest& r) {
  return os << (r.we ? "write" : "read") << " space " << r.space << " addr " << r.addr
            << (r.we ? " data " + hex(r.wdata) : "");
}

enum class TpuState : uint32_t { kIdle = 0, kRunning = 1, kSync = 2, kDone = 3, kError = 4 };

class StandInTpu {
 public:
  StandInTpu() : rows(kUbDepth, Bytes(kRowBytes, 0)), imem(kImemDepth, Bytes(8, 0)) {}

  // The TPU's visible state.
  std::vector<Bytes> rows;
  std::vector<Bytes> imem;
  TpuState state = TpuState::kIdle;
  uint16_t pc = 0;
  uint32_t cycle_counter = 0;

  // Back-pressure: each cycle ready is dropped with probability `stall` (while a request
  // could be taken), and a response comes `2 + U[0, max_delay]` cycles after acceptance.
  double stall = 0.0;
  int max_delay = 0;
  std::mt19937_64 rng{1};

  std::vector<HostRequest> log;  // every request accepted, in order
  std::vector<std::string> violations;

  struct Outputs {
    bool req_ready = false;
    bool rsp_valid = false;
    Bytes rdata = Bytes(kHostBytes, 0);
    bool rsp_err = false;
  };

  // What the port drives this cycle (from its state only).
  Outputs outputs() {
    Outputs o;
    ready_now_ = !busy_ && !(stall > 0 && std::bernoulli_distribution(stall)(rng));
    o.req_ready = ready_now_;
    o.rsp_valid = busy_ && wait_ == 0;
    if (o.rsp_valid) {
      o.rdata = rsp_data_;
      o.rsp_err = rsp_err_;
    }
    return o;
  }

  // The clock edge, given what the bridge drove this cycle.
  void clock(bool req_valid, bool we, int space, uint32_t addr, const Bytes& wdata,
             bool rsp_ready) {
    // A request, once valid, holds until it is taken.
    if (pending_valid_ && !(req_valid && we == pending_.we && space == pending_.space &&
                            addr == pending_.addr && (!we || wdata == pending_wdata_))) {
      violations.push_back("request changed or dropped before it was accepted");
    }
    if (busy_ && wait_ == 0 && rsp_ready) {
      busy_ = false;
    } else if (busy_ && wait_ > 0) {
      --wait_;
    }
    pending_valid_ = false;
    if (req_valid && ready_now_) {
      accept(we, space, addr, wdata);
    } else if (req_valid) {
      pending_valid_ = true;
      pending_ = HostRequest{we, space, addr, {}};
      pending_wdata_ = wdata;
    }
  }

  uint32_t status_word() const { return (uint32_t(state) << 16) | pc; }

 private:
  void accept(bool we, int space, uint32_t addr, const Bytes& wdata) {
    const int w = space == 0 ? kRowBytes : space == 1 ? 8 : 4;
    HostRequest r{we, space, addr, {}};
    if (we) r.wdata.assign(wdata.begin(), wdata.begin() + w);
    log.push_back(r);
    const bool active = state == TpuState::kRunning || state == TpuState::kSync;
    bool err = false;
    Bytes data(kHostBytes, 0);
    switch (space) {
      case 0:
        if (addr >= uint32_t(kUbDepth))
          err = true;
        else if (we)
          rows[addr].assign(wdata.begin(), wdata.begin() + kRowBytes);
        else
          std::copy(rows[addr].begin(), rows[addr].end(), data.begin());
        break;
      case 1:
        if (addr >= uint32_t(kImemDepth) || active)
          err = true;
        else if (we)
          imem[addr].assign(wdata.begin(), wdata.begin() + 8);
        else
          std::copy(imem[addr].begin(), imem[addr].end(), data.begin());
        break;
      case 2:
        if (we) {
          // CSR 0: bit 0 starts (not while Running or in Sync), else bit 1 continues (only
          // in Sync); neither is an error, and so is any other CSR.
          if (addr != 0)
            err = true;
          else if (wdata[0] & 1) {
            if (active)
              err = true;
            else {
              state = TpuState::kRunning;
              pc = 0;
              cycle_counter = 0;
            }
          } else if (wdata[0] & 2) {
            if (state != TpuState::kSync)
              err = true;
            else
              state = TpuState::kRunning;
          } else {
            err = true;
          }
        } else if (addr == 0) {
          Bytes s = le(status_word(), 4);
          std::copy(s.begin(), s.end(), data.begin());
        } else if (addr == 1) {
          Bytes c = le(cycle_counter, 4);
          std::copy(c.begin(), c.end(), data.begin());
        } else {
          err = true;
        }
        break;
      default:
        err = true;
    }
    // A refused buffer request answers zeros (the buffer's rule); for the other spaces the
    // specification leaves the data open, so the stand-in answers noise there, which the
    // bridge must replace by zeros.
    if (err) std::fill(data.begin(), data.end(), space == 0 ? 0 : 0xC3);
    busy_ = true;
    // Valid from cycle t + 2: after this edge, one more edge to wait.
    wait_ = 1 + (max_delay > 0 ? std::uniform_int_distribution<int>(0, max_delay)(rng) : 0);
    rsp_data_ = data;
    rsp_err_ = err;
  }

  bool ready_now_ = false;
  bool busy_ = false;
  int wait_ = 0;
  Bytes rsp_data_ = Bytes(kHostBytes, 0);
  bool rsp_err_ = false;
  bool pending_valid_ = false;
  HostRequest pending_{};
  Bytes pending_wdata_;
};

// ---------------------------------------------------------------------------------------
// The testbench: the Verilated bridge between the UART host and the stand-in.

class BridgeTb {
 public:
  explicit BridgeTb(const std::string& name) : h_(name) {
    h_.top().rx_i = 1;
    h_.reset(3);
  }

  Vuart_bridge& top() { return h_.top(); }

  void cycle() {
    Vuart_bridge& t = h_.top();
    const StandInTpu::Outputs o = tpu.outputs();
    t.rx_i = uart.rx_level();
    t.host_req_ready_i = o.req_ready;
    t.host_rsp_valid_i = o.rsp_valid;
    put_bytes(t.host_rsp_rdata_i, o.rdata);
    t.host_rsp_err_i = o.rsp_err;
    h_.settle();
    tpu.clock(t.host_req_valid_o, t.host_req_we_o, t.host_req_space_o, t.host_req_addr_o,
              get_bytes(t.host_req_wdata_o), t.host_rsp_ready_o);
    uart.sample_tx(t.tx_o);
    h_.step_settled();
  }
  void run(int cycles) {
    for (int i = 0; i < cycles; ++i) cycle();
  }

  // Sends `bytes` (with `gap` idle cycles after each) and waits until they are on the line.
  void send(const Bytes& bytes, int gap = 0) {
    uart.send(bytes, gap);
    while (uart.sending()) cycle();
  }

  // Collects one reply frame: sync, kind, then `data_len` bytes when kind is 1, status,
  // CRC. Fails the test (and returns what came) when none completes within `limit` cycles.
  Bytes receive_reply(int data_len, int limit = 0) {
    if (limit == 0) limit = (data_len + 8) * 12 * kClksPerBit + 20000;
    Bytes r;
    for (int c = 0; c < limit; ++c) {
      while (!uart.received.empty()) {
        r.push_back(uart.received.front());
        uart.received.pop_front();
      }
      if (r.size() >= 2) {
        const size_t want = (r[1] == 1 ? size_t(data_len) : 0) + 4;
        if (r.size() >= want) return r;
      }
      cycle();
    }
    ADD_FAILURE() << "no complete reply within " << limit << " cycles; got " << hex(r);
    return r;
  }

  // A request and its reply; `data_len` is the data a well-formed read or info returns.
  Bytes transact(const Bytes& request, int data_len = 0) {
    uart.send(request);
    return receive_reply(data_len);
  }

  // Cycles with nothing on the line, checking the bridge sends nothing.
  void expect_silence(int cycles) {
    run(cycles);
    EXPECT_TRUE(uart.received.empty())
        << "unexpected bytes " << hex(Bytes(uart.received.begin(), uart.received.end()));
    uart.received.clear();
  }

  void check_clean() {
    EXPECT_TRUE(tpu.violations.empty()) << tpu.violations.front();
    EXPECT_EQ(uart.framing_errors, 0);
  }

  UartHost uart;
  StandInTpu tpu;

 private:
  tpu::tb::Harness<Vuart_bridge> h_;
};

Bytes pattern(int n, int seed) {
  Bytes b(n);
  for (int i = 0; i < n; ++i) b[i] = uint8_t(seed * 37 + i * 11 + 5);
  return b;
}

// ---------------------------------------------------------------------------------------

TEST(UartBridge, Crc8CheckValue) {
  // The check value docs/fpga.md gives for CRC-8/SMBUS.
  const std::string s = "123456789";
  EXPECT_EQ(crc8(Bytes(s.begin(), s.end())), 0xF4);
  // Worked by hand: 0x01 shifted through eight steps of x^8 + x^2 + x + 1.
  EXPECT_EQ(crc8({0x01}), 0x07);
  EXPECT_EQ(crc8({0x80}), 0x89);
}

TEST(UartBridge, Info) {
  BridgeTb tb(trace("info"));
  // Version 1, ArrayDim, UbDepth (2 bytes), ImemDepth (2 bytes), matmuls in flight, MHz.
  const Bytes data{1,
                   uint8_t(kDim),
                   uint8_t(kUbDepth),
                   uint8_t(kUbDepth >> 8),
                   uint8_t(kImemDepth),
                   uint8_t(kImemDepth >> 8),
                   uint8_t(kMaxInFlight),
                   uint8_t(kClockMhz)};
  EXPECT_EQ(info_frame(), (Bytes{0xA5, 0x30, crc8({0x30})}));
  EXPECT_EQ(hex(tb.transact(info_frame(), 8)), hex(reply(true, data, kOk)));
  EXPECT_TRUE(tb.tpu.log.empty());
  tb.check_clean();
}

TEST(UartBridge, WriteAndReadEachSpace) {
  BridgeTb tb(trace("spaces"));
  const Bytes row = pattern(kRowBytes, 1);
  const Bytes word = pattern(8, 2);
  EXPECT_EQ(hex(tb.transact(write_frame(kOpWriteRow, 5, row))), hex(reply(false, {}, kOk)));
  EXPECT_EQ(tb.tpu.rows[5], row);
  EXPECT_EQ(hex(tb.transact(write_frame(kOpWriteImem, 7, word))), hex(reply(false, {}, kOk)));
  EXPECT_EQ(tb.tpu.imem[7], word);
  EXPECT_EQ(hex(tb.transact(read_frame(kOpReadRow, 5, 1), kRowBytes)), hex(reply(true, row, kOk)));
  EXPECT_EQ(hex(tb.transact(read_frame(kOpReadImem, 7, 1), 8)), hex(reply(true, word, kOk)));

  // Start (CSR 0 bit 0), then the status word and the cycle counter.
  tb.tpu.pc = 0x1234;
  EXPECT_EQ(hex(tb.transact(write_frame(kOpWriteCsr, 0, le(1, 4)))), hex(reply(false, {}, kOk)));
  EXPECT_EQ(tb.tpu.state, TpuState::kRunning);
  tb.tpu.pc = 0x0042;
  tb.tpu.cycle_counter = 0xDEADBEEF;
  EXPECT_EQ(hex(tb.transact(read_frame(kOpReadCsr, 0, 2), 8)),
            hex(reply(true, {0x42, 0x00, 0x01, 0x00, 0xEF, 0xBE, 0xAD, 0xDE}, kOk)));

  const std::vector<HostRequest> want{{true, 0, 5, row}, {true, 1, 7, word},     {false, 0, 5, {}},
                                      {false, 1, 7, {}}, {true, 2, 0, le(1, 4)}, {false, 2, 0, {}},
                                      {false, 2, 1, {}}};
  EXPECT_EQ(tb.tpu.log, want);
  tb.check_clean();
}

TEST(UartBridge, ReadOneAndTwoHundredFiftySixRows) {
  BridgeTb tb(trace("read256"));
  for (int a = 0; a < kUbDepth; ++a) tb.tpu.rows[a] = pattern(kRowBytes, a);
  EXPECT_EQ(hex(tb.transact(read_frame(kOpReadRow, 3, 1), kRowBytes)),
            hex(reply(true, pattern(kRowBytes, 3), kOk)));
  Bytes data;
  for (int a = 10; a < 266; ++a) {
    const Bytes r = pattern(kRowBytes, a);
    data.insert(data.end(), r.begin(), r.end());
  }
  const Bytes request = read_frame(kOpReadRow, 10, 256);
  EXPECT_EQ(request[4], 0xFF);  // count - 1
  EXPECT_EQ(tb.transact(request, 256 * kRowBytes), reply(true, data, kOk));
  ASSERT_EQ(tb.tpu.log.size(), 257u);
  for (int i = 0; i < 256; ++i)
    EXPECT_EQ(tb.tpu.log[1 + i], (HostRequest{false, 0, uint32_t(10 + i), {}}));
  tb.check_clean();
}

TEST(UartBridge, TpuErrors) {
  BridgeTb tb(trace("tpu_error"));
  for (int a = 0; a < kUbDepth; ++a) tb.tpu.rows[a] = pattern(kRowBytes, a);
  // A read running past the end: the refused items read as zeros.
  Bytes data = pattern(kRowBytes, kUbDepth - 2);
  const Bytes last = pattern(kRowBytes, kUbDepth - 1);
  data.insert(data.end(), last.begin(), last.end());
  data.resize(4 * kRowBytes, 0);
  EXPECT_EQ(hex(tb.transact(read_frame(kOpReadRow, kUbDepth - 2, 4), 4 * kRowBytes)),
            hex(reply(true, data, kTpuError)));
  // A write out of range changes nothing.
  const auto rows_before = tb.tpu.rows;
  EXPECT_EQ(hex(tb.transact(write_frame(kOpWriteRow, kUbDepth, pattern(kRowBytes, 9)))),
            hex(reply(false, {}, kTpuError)));
  EXPECT_EQ(tb.tpu.rows, rows_before);
  // CSR writes the TPU refuses: neither bit, another CSR, a continue outside Sync.
  EXPECT_EQ(hex(tb.transact(write_frame(kOpWriteCsr, 0, le(0, 4)))),
            hex(reply(false, {}, kTpuError)));
  EXPECT_EQ(hex(tb.transact(write_frame(kOpWriteCsr, 1, le(1, 4)))),
            hex(reply(false, {}, kTpuError)));
  EXPECT_EQ(hex(tb.transact(write_frame(kOpWriteCsr, 0, le(2, 4)))),
            hex(reply(false, {}, kTpuError)));
  // While Running: instruction memory refused, a second start refused, CSR reads fine.
  EXPECT_EQ(hex(tb.transact(write_frame(kOpWriteCsr, 0, le(1, 4)))), hex(reply(false, {}, kOk)));
  EXPECT_EQ(hex(tb.transact(write_frame(kOpWriteImem, 0, pattern(8, 3)))),
            hex(reply(false, {}, kTpuError)));
  EXPECT_EQ(tb.tpu.imem[0], Bytes(8, 0));
  EXPECT_EQ(hex(tb.transact(read_frame(kOpReadImem, 0, 2), 16)),
            hex(reply(true, Bytes(16, 0), kTpuError)));
  EXPECT_EQ(hex(tb.transact(write_frame(kOpWriteCsr, 0, le(1, 4)))),
            hex(reply(false, {}, kTpuError)));
  EXPECT_EQ(hex(tb.transact(read_frame(kOpReadCsr, 0, 1), 4)),
            hex(reply(true, le(tb.tpu.status_word(), 4), kOk)));
  // In Sync a continue succeeds; a CSR read past CSR 1 is refused.
  tb.tpu.state = TpuState::kSync;
  EXPECT_EQ(hex(tb.transact(write_frame(kOpWriteCsr, 0, le(2, 4)))), hex(reply(false, {}, kOk)));
  EXPECT_EQ(tb.tpu.state, TpuState::kRunning);
  tb.tpu.cycle_counter = 0x01020304;
  EXPECT_EQ(hex(tb.transact(read_frame(kOpReadCsr, 1, 2), 8)),
            hex(reply(true, {0x04, 0x03, 0x02, 0x01, 0, 0, 0, 0}, kTpuError)));
  tb.check_clean();
}

TEST(UartBridge, BadCrcDoesNothing) {
  BridgeTb tb(trace("bad_crc"));
  Bytes w = write_frame(kOpWriteRow, 4, pattern(kRowBytes, 4));
  w.back() ^= 0x01;
  EXPECT_EQ(hex(tb.transact(w)), hex(reply(false, {}, kBadCrc)));
  Bytes r = read_frame(kOpReadRow, 4, 3);
  r[2] ^= 0x40;  // a corrupted address byte
  EXPECT_EQ(hex(tb.transact(r)), hex(reply(false, {}, kBadCrc)));
  Bytes i = info_frame();
  i.back() ^= 0x80;
  EXPECT_EQ(hex(tb.transact(i)), hex(reply(false, {}, kBadCrc)));
  EXPECT_TRUE(tb.tpu.log.empty());
  EXPECT_EQ(tb.tpu.rows[4], Bytes(kRowBytes, 0));
  // The next frame is taken at once (no quiet period after BAD_CRC).
  EXPECT_EQ(hex(tb.transact(read_frame(kOpReadRow, 4, 1), kRowBytes)),
            hex(reply(true, Bytes(kRowBytes, 0), kOk)));
  tb.check_clean();
}

TEST(UartBridge, UnknownOpThenResyncAfterQuiet) {
  BridgeTb tb(trace("bad_op"));
  for (uint8_t op : {uint8_t(0x13), uint8_t(0x23), uint8_t(0x00), uint8_t(0x31), uint8_t(0xA5)}) {
    // The unknown op, then what the host sent after it (a whole well-formed frame among it)
    // while the bridge cannot know where the bad frame ends: all ignored.
    EXPECT_EQ(hex(tb.transact({kReqSync, op})), hex(reply(false, {}, kBadOp))) << int(op);
    tb.send(write_frame(kOpWriteRow, 1, pattern(kRowBytes, 1)), kTimeoutClks / 4);
    tb.send(info_frame(), kTimeoutClks / 4);
    tb.expect_silence(kTimeoutClks / 2);
    EXPECT_TRUE(tb.tpu.log.empty());
    // After a quiet line of TimeoutClks cycles, frames work again.
    tb.run(kTimeoutClks);
    EXPECT_EQ(hex(tb.transact(write_frame(kOpWriteRow, 2, pattern(kRowBytes, op)))),
              hex(reply(false, {}, kOk)));
    ASSERT_EQ(tb.tpu.log.size(), 1u);
    EXPECT_EQ(tb.tpu.log[0].addr, 2u);
    tb.tpu.log.clear();
  }
  tb.check_clean();
}

TEST(UartBridge, FrameStoppingMidwayTimesOut) {
  BridgeTb tb(trace("timeout"));
  const Bytes full = write_frame(kOpWriteImem, 3, pattern(8, 5));
  for (size_t cut = 1; cut < full.size(); ++cut) {
    tb.send(Bytes(full.begin(), full.begin() + cut));
    // The line has been high since at most 9 bits before the last byte ended: nothing comes
    // before the timeout, then TIMEOUT (4 bytes) follows it at once.
    tb.expect_silence(kTimeoutClks - 10 * kClksPerBit);
    EXPECT_EQ(hex(tb.receive_reply(0, 56 * kClksPerBit)), hex(reply(false, {}, kTimeout)))
        << cut << " bytes";
  }
  // A gap just short of the timeout between bytes is no timeout.
  EXPECT_EQ(hex([&] {
              tb.uart.send(full, kTimeoutClks - 12 * kClksPerBit);
              return tb.receive_reply(0, 20 * kTimeoutClks);
            }()),
            hex(reply(false, {}, kOk)));
  ASSERT_EQ(tb.tpu.log.size(), 1u);  // only the last, whole frame
  EXPECT_EQ(tb.tpu.imem[3], pattern(8, 5));
  tb.check_clean();
}

TEST(UartBridge, RandomBytesBetweenFramesIgnored) {
  const uint64_t seed = tpu::tb::test_seed("UartBridge.RandomBytesBetweenFramesIgnored");
  std::mt19937_64 rng(seed);
  BridgeTb tb(trace("noise"));
  for (int i = 0; i < 10; ++i) {
    Bytes noise(1 + rng() % 12);
    for (auto& b : noise) {
      do b = uint8_t(rng());
      while (b == kReqSync);
    }
    tb.send(noise, int(rng() % 20));
    tb.expect_silence(50);
    const Bytes row = pattern(kRowBytes, i);
    EXPECT_EQ(hex(tb.transact(write_frame(kOpWriteRow, i, row))), hex(reply(false, {}, kOk)));
    EXPECT_EQ(tb.tpu.rows[i], row);
  }
  EXPECT_EQ(tb.tpu.log.size(), 10u);
  tb.check_clean();
}

TEST(UartBridge, BackPressureAndSlowResponses) {
  BridgeTb tb(trace("backpressure"));
  tb.tpu.stall = 0.8;
  tb.tpu.max_delay = 60;
  for (int a = 0; a < 40; ++a) tb.tpu.rows[a] = pattern(kRowBytes, a);
  Bytes data;
  for (int a = 0; a < 40; ++a) {
    const Bytes r = pattern(kRowBytes, a);
    data.insert(data.end(), r.begin(), r.end());
  }
  EXPECT_EQ(hex(tb.transact(read_frame(kOpReadRow, 0, 40), 40 * kRowBytes)),
            hex(reply(true, data, kOk)));
  EXPECT_EQ(hex(tb.transact(write_frame(kOpWriteImem, 1, pattern(8, 8)))),
            hex(reply(false, {}, kOk)));
  EXPECT_EQ(tb.tpu.imem[1], pattern(8, 8));
  EXPECT_EQ(tb.tpu.log.size(), 41u);
  tb.check_clean();
}

// A random sequence of well-formed frames against a shadow of the TPU's state kept here.
TEST(UartBridge, RandomFrames) {
  const uint64_t seed = tpu::tb::test_seed("UartBridge.RandomFrames");
  std::mt19937_64 rng(seed);
  BridgeTb tb(trace("random"));
  tb.tpu.rng.seed(seed ^ 0x5bd1e995);
  std::vector<Bytes> rows(kUbDepth, Bytes(kRowBytes, 0)), imem(kImemDepth, Bytes(8, 0));
  bool running = false;
  auto pick = [&](int n) { return int(rng() % uint64_t(n)); };
  auto rand_bytes = [&](int n) {
    Bytes b(n);
    for (auto& x : b) x = uint8_t(rng());
    return b;
  };
  for (int f = 0; f < 300; ++f) {
    tb.tpu.stall = pick(3) == 0 ? 0.5 : 0.0;
    tb.tpu.max_delay = pick(3) == 0 ? 10 : 0;
    if (running && pick(4) == 0) {  // the program ends
      tb.tpu.state = TpuState::kDone;
      running = false;
    }
    tb.tpu.cycle_counter = uint32_t(rng());
    tb.tpu.pc = uint16_t(rng());
    const int kind = pick(8);
    Bytes request, expect;
    int data_len = 0;
    if (kind <= 1) {  // write a row, sometimes out of range
      const uint32_t a = pick(8) == 0 ? kUbDepth + pick(3) : pick(kUbDepth);
      const Bytes row = rand_bytes(kRowBytes);
      request = write_frame(kOpWriteRow, a, row);
      if (a < uint32_t(kUbDepth)) rows[a] = row;
      expect = reply(false, {}, a < uint32_t(kUbDepth) ? kOk : kTpuError);
    } else if (kind == 2) {  // write an instruction word
      const uint32_t a = pick(8) == 0 ? kImemDepth : pick(kImemDepth);
      const Bytes word = rand_bytes(8);
      request = write_frame(kOpWriteImem, a, word);
      const bool ok = a < uint32_t(kImemDepth) && !running;
      if (ok) imem[a] = word;
      expect = reply(false, {}, ok ? kOk : kTpuError);
    } else if (kind == 3) {  // start (or a refused start)
      request = write_frame(kOpWriteCsr, 0, le(1 | (rng() & ~uint64_t{3}), 4));
      expect = reply(false, {}, running ? kTpuError : kOk);
      running = true;
    } else if (kind <= 5) {  // read rows, sometimes past the end
      const int count = pick(4) == 0 ? 1 + pick(256) : 1 + pick(6);
      const uint32_t a = pick(6) == 0 ? kUbDepth - pick(4) - 1 : pick(kUbDepth);
      request = read_frame(kOpReadRow, a, count);
      Bytes data;
      bool err = false;
      for (int i = 0; i < count; ++i) {
        const uint32_t r = (a + i) & 0xFFFF;
        const Bytes item = r < uint32_t(kUbDepth) ? rows[r] : Bytes(kRowBytes, 0);
        err |= r >= uint32_t(kUbDepth);
        data.insert(data.end(), item.begin(), item.end());
      }
      expect = reply(true, data, err ? kTpuError : kOk);
      data_len = count * kRowBytes;
    } else if (kind == 6) {  // read instruction words
      const int count = 1 + pick(4);
      const uint32_t a = pick(kImemDepth);
      request = read_frame(kOpReadImem, a, count);
      Bytes data;
      bool err = false;
      for (int i = 0; i < count; ++i) {
        const bool ok = a + i < uint32_t(kImemDepth) && !running;
        const Bytes item = ok ? imem[a + i] : Bytes(8, 0);
        err |= !ok;
        data.insert(data.end(), item.begin(), item.end());
      }
      expect = reply(true, data, err ? kTpuError : kOk);
      data_len = count * 8;
    } else if (pick(2) == 0) {  // the status word and the cycle counter
      const uint32_t state = running ? 1 : (tb.tpu.state == TpuState::kDone ? 3 : 0);
      request = read_frame(kOpReadCsr, 0, 2);
      Bytes data = le((state << 16) | tb.tpu.pc, 4);
      const Bytes c = le(tb.tpu.cycle_counter, 4);
      data.insert(data.end(), c.begin(), c.end());
      expect = reply(true, data, kOk);
      data_len = 8;
    } else {
      request = info_frame();
      expect =
          reply(true,
                {1, uint8_t(kDim), uint8_t(kUbDepth), uint8_t(kUbDepth >> 8), uint8_t(kImemDepth),
                 uint8_t(kImemDepth >> 8), uint8_t(kMaxInFlight), uint8_t(kClockMhz)},
                kOk);
      data_len = 8;
    }
    const Bytes got = tb.transact(request, data_len);
    ASSERT_EQ(hex(got), hex(expect)) << "frame " << f << ": " << hex(request);
    if (pick(3) == 0) tb.run(pick(3 * kTimeoutClks / 4));  // a quiet line between frames
  }
  EXPECT_EQ(tb.tpu.rows, rows);
  EXPECT_EQ(tb.tpu.imem, imem);
  tb.check_clean();
}

}  // namespace
