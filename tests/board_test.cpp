// The host's serial backend and the board top, through the UART protocol (docs/fpga.md):
//   Crc8.*, Frames.*, Replies.*  the codec against values worked out by hand from the spec
//   Fake.*                       the serial device against a C++ board (golden TpuModel behind
//                                the protocol), with faults injected: what each reply becomes
//   TtyLink.*                    a serial port: open errors, and the device through a
//                                pseudo-terminal to the fake board
//   Board.*                      the Verilated board top through its RX/TX pins (tb/board_tb.hpp),
//                                the TPU inside against the golden model every cycle: XOR
//                                trained as on the functional engine, malformed frames, reads
//                                while the TPU runs, the info op
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <chrono>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "Vicebreaker_top.h"
#include "golden/tpu_model.hpp"
#include "sw/asm/assembler.hpp"
#include "sw/runtime/golden_port.hpp"
#include "sw/runner/run.hpp"
#include "sw/runtime/engines.hpp"
#include "sw/runtime/host_port.hpp"
#include "sw/runtime/serial_device.hpp"
#include "sw/runtime/serial_protocol.hpp"
#include "tb/board_tb.hpp"
#include "tb/seed.hpp"
#include "tests/test_support.hpp"

namespace tpu {
namespace {

namespace serial = runtime::serial;
using Bytes = std::vector<uint8_t>;
using runtime::Row;
using serial::Op;
using serial::Reply;
using serial::ReplyStatus;

std::vector<uint8_t> ascii(const std::string& s) { return Bytes(s.begin(), s.end()); }

// ------------------------------------------------------------------------------------------
// The codec. CRC values: the catalogue's check value, and single bytes from the CRC-8/SMBUS
// table (crc8(0x00, k) is the table entry for k: 0x07, 0x0E, 0x09, 0x1C for 1..4; 0x90 for
// 0x30), worked out by shifting by hand.

TEST(Crc8, CheckValueAndTableEntries) {
  EXPECT_EQ(serial::crc8(ascii("123456789")), 0xF4);
  EXPECT_EQ(serial::crc8(Bytes{}), 0x00);
  EXPECT_EQ(serial::crc8(Bytes{0x01}), 0x07);
  EXPECT_EQ(serial::crc8(Bytes{0x30}), 0x90);
  EXPECT_EQ(serial::crc8(Bytes{0x00, 0x04}), 0x1C);  // leading zeros change nothing
  EXPECT_EQ(serial::crc8(Bytes{0x80}), 0x89);        // 0x80 -> 0x07, then 7 shifts: 0x89
}

TEST(Frames, HandWorkedRequests) {
  EXPECT_EQ(serial::info_frame(), (Bytes{0xA5, 0x30, 0x90}));
  // Read 3 rows from 0x0102: body 20 02 01 02.
  const Bytes r = serial::read_frame(Op::kReadRows, 0x0102, 3);
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(Bytes(r.begin(), r.end() - 1), (Bytes{0xA5, 0x20, 0x02, 0x01, 0x02}));
  EXPECT_EQ(r.back(), serial::crc8(Bytes{0x20, 0x02, 0x01, 0x02}));
  // 256 items: count byte 0xFF.
  EXPECT_EQ(serial::read_frame(Op::kReadInstrs, 7, 256)[4], 0xFF);
  // A row of lanes -2 and 0x1234, lane 0 first, little-endian.
  EXPECT_EQ(serial::row_item({-2, 0x1234}), (Bytes{0xFE, 0xFF, 0x34, 0x12}));
  EXPECT_EQ(serial::row_from_item(Bytes{0xFE, 0xFF, 0x34, 0x12}, 2), (Row{-2, 0x1234}));
  const Bytes w = serial::write_frame(Op::kWriteCsr, 0, serial::le_bytes(1, 4));
  EXPECT_EQ(w, (Bytes{0xA5, 0x12, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                      serial::crc8(Bytes{0x12, 0, 0, 1, 0, 0, 0})}));
  EXPECT_EQ(
      serial::write_frame(Op::kWriteInstr, 3, serial::le_bytes(0x1122334455667788ull, 8)).size(),
      13u);
  EXPECT_THROW(serial::read_frame(Op::kReadRows, 0, 0), std::invalid_argument);
  EXPECT_THROW(serial::read_frame(Op::kReadRows, 0, 257), std::invalid_argument);
  EXPECT_THROW(serial::read_frame(Op::kWriteRow, 0, 1), std::invalid_argument);
  EXPECT_EQ(serial::item_bytes(Op::kWriteRow, 4), 8);
  EXPECT_EQ(serial::item_bytes(Op::kReadCsrs, 4), 4);
}

TEST(Frames, RequestsDecodeBack) {
  const Bytes w = serial::write_frame(Op::kWriteRow, 0x1FF, serial::row_item({5, -7}));
  for (std::size_t n = 1; n < w.size(); ++n) {
    EXPECT_EQ(serial::decode_request(std::span(w).first(n), 2).kind,
              serial::Decoded::Kind::kIncomplete);
  }
  serial::Decoded d = serial::decode_request(w, 2);
  ASSERT_EQ(d.kind, serial::Decoded::Kind::kRequest);
  EXPECT_EQ(d.used, w.size());
  EXPECT_EQ(d.request.op, Op::kWriteRow);
  EXPECT_EQ(d.request.addr, 0x1FF);
  EXPECT_EQ(d.request.item, serial::row_item({5, -7}));
  d = serial::decode_request(serial::read_frame(Op::kReadCsrs, 1, 2), 2);
  EXPECT_EQ(d.request.count, 2);
  Bytes bad = w;
  bad[5] ^= 0x10;
  EXPECT_EQ(serial::decode_request(bad, 2).kind, serial::Decoded::Kind::kBadCrc);
  EXPECT_EQ(serial::decode_request(Bytes{0xA5, 0x13}, 2).kind, serial::Decoded::Kind::kBadOp);
  EXPECT_EQ(serial::decode_request(Bytes{0xA5, 0x30, 0x90}, 2).kind,
            serial::Decoded::Kind::kRequest);
}

TEST(Replies, HandWorkedFrames) {
  // Kind 0 with status s: CRC of {00, s} is the table entry for s.
  EXPECT_EQ(serial::encode_reply(Reply{false, {}, ReplyStatus::kOk}), (Bytes{0x5A, 0, 0, 0}));
  EXPECT_EQ(serial::encode_reply(Reply{false, {}, ReplyStatus::kBadCrc}),
            (Bytes{0x5A, 0, 0x01, 0x07}));
  EXPECT_EQ(serial::encode_reply(Reply{false, {}, ReplyStatus::kBadOp}),
            (Bytes{0x5A, 0, 0x02, 0x0E}));
  EXPECT_EQ(serial::encode_reply(Reply{false, {}, ReplyStatus::kTpuError}),
            (Bytes{0x5A, 0, 0x03, 0x09}));
  EXPECT_EQ(serial::encode_reply(Reply{false, {}, ReplyStatus::kTimeout}),
            (Bytes{0x5A, 0, 0x04, 0x1C}));
  const Reply data{true, {0x80}, ReplyStatus::kOk};
  const Bytes f = serial::encode_reply(data);
  EXPECT_EQ(f, (Bytes{0x5A, 0x01, 0x80, 0x00, serial::crc8(Bytes{0x01, 0x80, 0x00})}));
  EXPECT_EQ(serial::parse_reply(f, 1), data);
  EXPECT_EQ(serial::parse_reply(Bytes{0x5A, 0, 0x02, 0x0E}, 8).status, ReplyStatus::kBadOp);
}

TEST(Replies, MalformedRepliesAreNamed) {
  auto error_of = [](const Bytes& f, std::size_t data) {
    try {
      serial::parse_reply(f, data);
    } catch (const serial::ProtocolError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of({0xA5, 0, 0, 0}, 0).find("not the sync byte 0x5A"), std::string::npos);
  EXPECT_NE(error_of({0x5A, 0x02, 0, 0}, 0).find("kind byte 0x02"), std::string::npos);
  EXPECT_NE(error_of({0x5A, 0, 0, 0x55}, 0).find("CRC 0x55, expected 0x00"), std::string::npos);
  EXPECT_NE(error_of({0x5A, 0x01, 0, 0, 0}, 0).find("reads nothing"), std::string::npos);
  Bytes s7{0x5A, 0x00, 0x07};
  s7.push_back(serial::crc8(Bytes{0x00, 0x07}));
  EXPECT_NE(error_of(s7, 0).find("unknown status 0x07"), std::string::npos);
  Bytes crc_after_data{0x5A, 0x01, 0xAA, 0x01};
  crc_after_data.push_back(serial::crc8(Bytes{0x01, 0xAA, 0x01}));
  EXPECT_NE(error_of(crc_after_data, 1).find("BAD_CRC after data"), std::string::npos);
  EXPECT_NE(error_of({0x5A, 0, 0, 0, 0}, 0).find("the frame ends after 4"), std::string::npos);
  EXPECT_NE(error_of({0x5A, 0}, 0).find("more expected"), std::string::npos);
}

// ------------------------------------------------------------------------------------------
// A board in C++: the protocol's board side (serial::decode_request) in front of a golden
// TpuModel (runtime::GoldenPort), which runs `cycles_per_frame` cycles after every frame (the
// time its bytes take).
// Faults are injected one frame at a time.

enum class Fault { kNone, kGarbage, kNoReply, kBadOp, kBadCrc, kTimeout, kSilent };

class FakeBoard : public runtime::ByteLink {
 public:
  // `tpu_ub_depth`: the TPU's real buffer (info may claim another).
  FakeBoard(runtime::BoardInfo info, int tpu_ub_depth = 0)
      : info_(info),
        port_(info.dim, tpu_ub_depth ? tpu_ub_depth : info.ub_depth, info.imem_depth,
              info.max_in_flight) {}

  std::string name() const override { return "fake"; }
  runtime::Micros now() const override { return now_; }
  void write(std::span<const uint8_t> bytes) override {
    for (uint8_t b : bytes) {
      if (ignoring_) continue;
      if (inbox_.empty() && b != serial::kRequestSync) continue;
      inbox_.push_back(b);
      process();
    }
  }
  std::size_t read(std::span<uint8_t> out, runtime::Micros timeout) override {
    const std::size_t n = std::min(out.size(), outbox_.size());
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = outbox_.front();
      outbox_.pop_front();
    }
    now_ += n < out.size() ? timeout : runtime::Micros{100};
    return n;
  }
  void settle(runtime::Micros quiet) override {
    ++settles;
    now_ += quiet;
    outbox_.clear();
    inbox_.clear();
    ignoring_ = false;
  }

  void inject(Fault f) { faults_.push_back(f); }
  // The reply bytes not read yet (the pseudo-terminal test's board side sends them).
  Bytes take_output() {
    Bytes b(outbox_.begin(), outbox_.end());
    outbox_.clear();
    return b;
  }
  golden::TpuModel& model() { return port_.model; }
  runtime::HostPort& port() { return port_; }
  std::vector<Op> ops;  // every request executed, in order
  int settles = 0;
  int cycles_per_frame = 300;

 private:
  void process() {
    const serial::Decoded d = serial::decode_request(inbox_, info_.dim);
    if (d.kind == serial::Decoded::Kind::kIncomplete) return;
    Fault f = Fault::kNone;
    if (!faults_.empty()) {
      f = faults_.front();
      faults_.pop_front();
    }
    if (f == Fault::kSilent) faults_.push_front(f);
    inbox_.clear();
    if (d.kind == serial::Decoded::Kind::kBadOp || f == Fault::kBadOp) {
      reply(Reply{false, {}, ReplyStatus::kBadOp}, f);
      ignoring_ = true;
      return;
    }
    if (d.kind == serial::Decoded::Kind::kBadCrc || f == Fault::kBadCrc) {
      reply(Reply{false, {}, ReplyStatus::kBadCrc}, f);
      return;
    }
    if (f == Fault::kTimeout) {
      reply(Reply{false, {}, ReplyStatus::kTimeout}, f);
      return;
    }
    reply(execute(d.request), f);
    for (int i = 0; i < cycles_per_frame; ++i) port_.idle();
  }

  Reply execute(const serial::Request& q) {
    ops.push_back(q.op);
    Reply r{false, {}, ReplyStatus::kOk};
    if (q.op == Op::kInfo) {
      r.has_data = true;
      r.data = {
          static_cast<uint8_t>(info_.version),       static_cast<uint8_t>(info_.dim),
          static_cast<uint8_t>(info_.ub_depth),      static_cast<uint8_t>(info_.ub_depth >> 8),
          static_cast<uint8_t>(info_.imem_depth),    static_cast<uint8_t>(info_.imem_depth >> 8),
          static_cast<uint8_t>(info_.max_in_flight), static_cast<uint8_t>(info_.clock_mhz)};
      return r;
    }
    const auto space = static_cast<runtime::Space>(static_cast<uint8_t>(q.op) & 3);
    const int w = serial::item_bytes(q.op, info_.dim);
    const int host_width = golden::tpu_host_width(info_.dim);
    bool err = false;
    if (serial::is_write(q.op)) {
      std::vector<uint32_t> wdata;
      if (space == runtime::Space::kBuffer) {
        wdata = golden::pack_row(serial::row_from_item(q.item, info_.dim), host_width);
      } else {
        wdata = golden::pack_u64(serial::le_value(q.item), host_width);
      }
      port_.host(space, true, q.addr, wdata, &err);
    } else {
      r.has_data = true;
      for (int i = 0; i < q.count; ++i) {
        bool e = false;
        const std::vector<uint32_t> words = port_.host(space, false, q.addr + i, {}, &e);
        err = err || e;
        for (int b = 0; b < w; ++b) {
          r.data.push_back(e ? 0 : static_cast<uint8_t>(words[b / 4] >> (8 * (b % 4))));
        }
      }
    }
    if (err) r.status = ReplyStatus::kTpuError;
    return r;
  }

  void reply(const Reply& r, Fault f) {
    if (f == Fault::kNoReply || f == Fault::kSilent) return;
    if (f == Fault::kGarbage) {
      for (uint8_t b : {0x5A, 0x07, 0x33}) outbox_.push_back(b);
      return;
    }
    for (uint8_t b : serial::encode_reply(r)) outbox_.push_back(b);
  }

  runtime::BoardInfo info_;
  runtime::GoldenPort port_;
  std::vector<uint8_t> inbox_;
  std::deque<uint8_t> outbox_;
  std::deque<Fault> faults_;
  bool ignoring_ = false;
  runtime::Micros now_{0};
};

constexpr runtime::BoardInfo kFakeInfo{1, 2, 512, 512, 3, 30};

// A fake board and the device over it (the fake is owned by the device).
struct FakeBench {
  FakeBoard* board;
  std::unique_ptr<runtime::SerialDevice> dev;
};

FakeBench fake_bench(runtime::SerialOptions o = {}, runtime::BoardInfo info = kFakeInfo,
                     int tpu_ub_depth = 0) {
  auto b = std::make_unique<FakeBoard>(info, tpu_ub_depth);
  FakeBoard* raw = b.get();
  return {raw, std::make_unique<runtime::SerialDevice>(std::move(b), o)};
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no exception";
}

std::vector<uint64_t> assemble(const std::string& src, int dim, int depth) {
  return assembler::assemble(src, "board_test.s", assembler::Limits{dim, depth}).words;
}

// Runs long enough for several frames: 100 x 100 matmuls of two rows, then a sync and a halt.
const char* const kLongProgram = R"(
.buf X, 2
.buf W, 2
.buf Y, 2
        loadw W, rows=2
        loop 100
        loop 100
        matmul X, Y, rows=2, k=2, n=2
        endl
        endl
        sync
        halt
)";

TEST(Fake, OpensWithTheBoardsParameters) {
  FakeBench f = fake_bench();
  EXPECT_EQ(f.dev->info(), kFakeInfo);
  EXPECT_EQ(f.dev->dim(), 2);
  EXPECT_EQ(f.dev->ub_depth(), 512);
  EXPECT_EQ(f.dev->imem_depth(), 512);
  EXPECT_EQ(f.dev->name(), "board");
  EXPECT_EQ(f.board->ops, (std::vector<Op>{Op::kInfo}));
  EXPECT_EQ(f.board->settles, 1);  // the line let go quiet before the first frame
}

TEST(Fake, RefusesABoardOfOtherParameters) {
  runtime::SerialOptions o;
  o.dim = 4;
  o.ub_depth = 512;
  o.max_in_flight = 8;
  const std::string m = message_of([&] { fake_bench(o); });
  EXPECT_NE(m.find("board on fake: open: asked for ArrayDim 4 (the board has 2), MaxInFlight 8 "
                   "(the board has 3); the board is ArrayDim 2, UbDepth 512"),
            std::string::npos)
      << m;
  EXPECT_THROW(fake_bench(o), runtime::BoardMismatchError);
  runtime::BoardInfo v2 = kFakeInfo;
  v2.version = 2;
  EXPECT_NE(message_of([&] { fake_bench({}, v2); }).find("protocol version 2"), std::string::npos);
}

TEST(Fake, RowsProgramAndRunGoThroughFrames) {
  FakeBench f = fake_bench();
  std::mt19937_64 rng(tb::test_seed(test::test_name()));
  std::vector<Row> rows;
  for (int i = 0; i < 512; ++i) {
    rows.push_back(test::row_of(test::random_rows(rng, 1, 2, -32768, 32767), 0));
  }
  f.dev->write_rows(0, rows);
  f.board->ops.clear();
  EXPECT_EQ(f.dev->read_rows(0, 512), rows);
  // 512 rows: two frames of 256.
  EXPECT_EQ(f.board->ops, (std::vector<Op>{Op::kReadRows, Op::kReadRows}));
  EXPECT_EQ(f.dev->read_rows(100, 1), std::vector<Row>{rows[100]});

  const std::vector<uint64_t> prog = assemble(kLongProgram, 2, 512);
  f.dev->load_program(prog);
  EXPECT_EQ(f.dev->read_instructions(0, static_cast<uint32_t>(prog.size())), prog);
  f.dev->start();
  EXPECT_EQ(f.dev->status().state, runtime::State::kRunning);
  const runtime::Status s = f.dev->run(10'000'000);
  EXPECT_EQ(s.state, runtime::State::kSync);
  EXPECT_EQ(f.dev->status(), s);
  f.dev->resume();
  EXPECT_EQ(f.dev->run(10'000).state, runtime::State::kDone);
  EXPECT_EQ(f.dev->cycles(), f.board->model().cycles());  // the counter stops at Done
  EXPECT_EQ(f.board->settles, 1);
  EXPECT_EQ(f.dev->retries(), 0u);
}

TEST(Fake, RetriesOnceAfterBadOpOrGarbage) {
  FakeBench f = fake_bench();
  f.dev->write_rows(5, {{1, 2}});
  f.board->inject(Fault::kBadOp);
  EXPECT_EQ(f.dev->read_rows(5, 1), (std::vector<Row>{{1, 2}}));
  f.board->inject(Fault::kGarbage);
  EXPECT_EQ(f.dev->read_rows(5, 1), (std::vector<Row>{{1, 2}}));
  f.board->inject(Fault::kNoReply);
  f.dev->write_rows(6, {{3, 4}});
  EXPECT_EQ(f.dev->retries(), 3u);
  EXPECT_EQ(f.board->settles, 4);  // open + one per fault
  EXPECT_EQ(f.dev->read_rows(6, 1), (std::vector<Row>{{3, 4}}));

  f.board->inject(Fault::kGarbage);
  f.board->inject(Fault::kGarbage);
  const std::string m = message_of([&] { f.dev->read_rows(5, 1); });
  EXPECT_NE(m.find("board on fake: read_rows: read buffer rows (0x20) at addr 5, count 1: "
                   "unparsable reply: "),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("also when sent again"), std::string::npos) << m;
}

TEST(Fake, BadCrcAndTimeoutAreErrorsNamingTheRequest) {
  FakeBench f = fake_bench();
  f.board->inject(Fault::kBadCrc);
  const std::string m = message_of([&] { f.dev->write_rows(9, {{1, 1}}); });
  EXPECT_NE(m.find("board on fake: write_rows: write buffer row (0x10) at addr 9: BAD_CRC"),
            std::string::npos)
      << m;
  f.board->inject(Fault::kTimeout);
  const std::string t = message_of([&] { f.dev->load_program({0}); });
  EXPECT_NE(t.find("load_program: write instruction word (0x11) at addr 0: TIMEOUT"),
            std::string::npos)
      << t;
  EXPECT_EQ(f.dev->retries(), 0u);
}

TEST(Fake, TpuErrorBecomesAddressOrDeviceError) {
  // A board that claims more buffer rows than its TPU has.
  FakeBench f = fake_bench({}, kFakeInfo, 256);
  EXPECT_THROW(f.dev->read_rows(300, 1), runtime::AddressError);
  EXPECT_NE(message_of([&] {
              f.dev->write_rows(256, {{0, 0}});
            }).find("write buffer row (0x10) at addr 256: TPU_ERROR"),
            std::string::npos);
  EXPECT_THROW(f.dev->read_rows(512, 1), runtime::AddressError);  // the device's own check

  f.dev->load_program(assemble(kLongProgram, 2, 256));
  f.dev->start();
  EXPECT_EQ(message_of([&] { f.dev->start(); }).rfind("start refused (Running at pc ", 0), 0u);
  EXPECT_NE(message_of([&] {
              f.dev->load_program({0});
            }).find("at addr 0: TPU_ERROR, the TPU refused it (Running at pc "),
            std::string::npos);
  EXPECT_THROW(f.dev->resume(), runtime::DeviceError);
}

TEST(Fake, ALostStartReplyIsNotSentAgain) {
  FakeBench f = fake_bench();
  f.dev->load_program(assemble("halt\n", 2, 512));
  f.board->ops.clear();
  f.board->inject(Fault::kNoReply);
  const std::string m = message_of([&] { f.dev->start(); });
  EXPECT_NE(m.find("start: write control register (0x12) at addr 0: no reply within"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("it may or may not have taken effect"), std::string::npos) << m;
  EXPECT_EQ(f.board->ops, (std::vector<Op>{Op::kWriteCsr}));
  EXPECT_EQ(f.dev->status().state, runtime::State::kDone);  // it had
}

TEST(Fake, SilentBoardAndTimeouts) {
  auto b = std::make_unique<FakeBoard>(kFakeInfo);
  b->inject(Fault::kSilent);
  const std::string m =
      message_of([&] { runtime::SerialDevice d(std::move(b), runtime::SerialOptions{}); });
  EXPECT_NE(m.find("board on fake: open: info (0x30): no reply within 201 ms, also when sent "
                   "again"),
            std::string::npos)
      << m;

  FakeBench f = fake_bench();
  f.dev->load_program(assemble(kLongProgram, 2, 512));
  f.dev->start();
  EXPECT_THROW(f.dev->run(1000), runtime::TimeoutError);
  EXPECT_EQ(f.dev->run(10'000'000).state, runtime::State::kSync);  // a later run carries on
}

// ------------------------------------------------------------------------------------------
// TtyLink: a serial port's errors, and the device through a pseudo-terminal whose other end a
// thread serves as the fake board.

TEST(TtyLink, OpenErrorsNameThePort) {
  const std::string missing = message_of([] { runtime::TtyLink("/no/such/tty", 115200); });
  EXPECT_EQ(missing, "serial port /no/such/tty: cannot open: No such file or directory");
  EXPECT_NE(message_of([] {
              runtime::TtyLink("/dev/null", 115200);
            }).find("serial port /dev/null: not a serial port"),
            std::string::npos);
  EXPECT_NE(message_of([] {
              runtime::TtyLink("/dev/null", 1234);
            }).find("serial port /dev/null: baud rate 1234 is not one termios offers"),
            std::string::npos);
  EXPECT_THROW(runtime::TtyLink("/no/such/tty", 115200), runtime::LinkOpenError);
}

TEST(TtyLink, DeviceOverAPseudoTerminal) {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  const std::string slave = ::ptsname(master);
  {
    // The pseudo-terminal's master side in raw mode too, so bytes pass as they are.
    termios t{};
    ASSERT_EQ(::tcgetattr(master, &t), 0);
    ::cfmakeraw(&t);
    ASSERT_EQ(::tcsetattr(master, TCSANOW, &t), 0);
  }
  std::atomic<bool> stop{false};
  FakeBoard board(kFakeInfo);
  std::thread serve([&] {
    while (!stop) {
      pollfd p{master, POLLIN, 0};
      if (::poll(&p, 1, 5) <= 0 || (p.revents & POLLIN) == 0) continue;
      uint8_t buf[256];
      const ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0) continue;
      board.write(std::span<const uint8_t>(buf, static_cast<std::size_t>(n)));
      const Bytes out = board.take_output();
      if (!out.empty()) ASSERT_EQ(::write(master, out.data(), out.size()), ssize_t(out.size()));
    }
  });
  {
    runtime::SerialOptions o;
    o.quiet = runtime::Micros{2000};
    auto dev = runtime::SerialDevice::open_tty(slave, o);
    EXPECT_EQ(dev->info(), kFakeInfo);
    EXPECT_EQ(dev->link().name(), slave);
    std::vector<Row> rows;
    for (int i = 0; i < 300; ++i) rows.push_back({i, -i});
    dev->write_rows(10, rows);
    EXPECT_EQ(dev->read_rows(10, 300), rows);  // two frames, 256 + 44 rows
    dev->load_program(assemble("halt\n", 2, 512));
    dev->start();
    EXPECT_EQ(dev->run(1000).state, runtime::State::kDone);
    EXPECT_EQ(dev->retries(), 0u);
  }
  stop = true;
  serve.join();
  ::close(master);
}

// ------------------------------------------------------------------------------------------
// The board top. Its parameters are the Verilated model's (tests/board.cmake).

using Board = tb::BoardTb<Vicebreaker_top>;

constexpr tb::BoardParams kBoard{TPU_BOARD_ArrayDim,    TPU_BOARD_UbDepth,  TPU_BOARD_ImemDepth,
                                 TPU_BOARD_MaxInFlight, TPU_BOARD_ClockMhz, TPU_CLKS_PER_BIT,
                                 TPU_TIMEOUT_CLKS};

// The device's timing in board time: the quiet period twice TimeoutClks, a reply's margin
// 20 TimeoutClks (only spent when a reply never comes).
runtime::SerialOptions board_options() {
  runtime::SerialOptions o;
  o.baud = kBoard.baud();
  o.quiet = kBoard.micros(2 * static_cast<uint64_t>(kBoard.timeout_clks));
  o.reply_margin = kBoard.micros(20 * static_cast<uint64_t>(kBoard.timeout_clks));
  o.dim = kBoard.dim;
  o.ub_depth = kBoard.ub_depth;
  o.imem_depth = kBoard.imem_depth;
  o.max_in_flight = kBoard.max_in_flight;
  return o;
}

struct BoardBench {
  Board* board;
  std::unique_ptr<runtime::SerialDevice> dev;
};

BoardBench board_bench(const std::string& trace = "board_test") {
  auto b = std::make_unique<Board>(kBoard, trace);
  Board* raw = b.get();
  return {raw, std::make_unique<runtime::SerialDevice>(std::move(b), board_options())};
}

// Sends `frame` as it is and returns the one reply, read byte by byte; fails the test when
// none comes within `wait_clks` board cycles after the frame has been sent.
Reply raw_exchange(Board& b, const Bytes& frame, std::size_t data_bytes,
                   uint64_t wait_clks = 4 * kBoard.timeout_clks) {
  b.write(frame);
  b.flush();
  serial::ReplyParser p(data_bytes);
  while (!p.complete()) {
    uint8_t byte = 0;
    const std::size_t n = b.read(std::span(&byte, 1), kBoard.micros(wait_clks));
    if (n == 0) {
      ADD_FAILURE() << "no reply to " << serial::hex(frame) << " (got " << serial::hex(p.bytes())
                    << ")";
      return Reply{false, {}, ReplyStatus{0xFF}};
    }
    p.feed(byte);
  }
  return p.reply();
}

// Nothing more comes for `clks` cycles.
void expect_silence(Board& b, uint64_t clks, const std::string& after) {
  b.run_cycles(clks);
  EXPECT_EQ(b.pending(), 0u) << "unexpected bytes from the board after " << after;
}

const Reply kOkWrite{false, {}, ReplyStatus::kOk};
const Reply kBadCrc{false, {}, ReplyStatus::kBadCrc};
const Reply kBadOp{false, {}, ReplyStatus::kBadOp};
const Reply kTimeoutReply{false, {}, ReplyStatus::kTimeout};
const Reply kTpuErrorWrite{false, {}, ReplyStatus::kTpuError};

void expect_clean(Board& b) {
  EXPECT_EQ(b.mismatches(), 0u);
  EXPECT_EQ(b.framing_errors(), 0u);
}

TEST(Board, InfoReportsTheParameters) {
  BoardBench t = board_bench();
  EXPECT_EQ(t.dev->info(), (runtime::BoardInfo{1, kBoard.dim, kBoard.ub_depth, kBoard.imem_depth,
                                               kBoard.max_in_flight, kBoard.clock_mhz}));
  // The raw frame: A5 30 90 -> 5A 01, version 1, ArrayDim, UbDepth and ImemDepth little-endian,
  // MaxInFlight, MHz, status OK.
  const Reply r = raw_exchange(*t.board, {0xA5, 0x30, 0x90}, 8);
  EXPECT_EQ(r, (Reply{true,
                      {0x01, static_cast<uint8_t>(kBoard.dim), kBoard.ub_depth & 0xFF,
                       kBoard.ub_depth >> 8, kBoard.imem_depth & 0xFF, kBoard.imem_depth >> 8,
                       static_cast<uint8_t>(kBoard.max_in_flight),
                       static_cast<uint8_t>(kBoard.clock_mhz)},
                      ReplyStatus::kOk}));
  expect_silence(*t.board, 2 * kBoard.timeout_clks, "info");
  // A board that is not what the caller needs is refused.
  runtime::SerialOptions o = board_options();
  o.dim = 4;
  EXPECT_THROW(runtime::SerialDevice(std::make_unique<Board>(kBoard, "board_test_refused"), o),
               runtime::BoardMismatchError);
  expect_clean(*t.board);
}

TEST(Board, XorTrainsAsOnTheFunctionalEngine) {
  const auto wall = std::chrono::steady_clock::now();
  const runner::Problem p = runner::prepare(TPU_MODELS_DIR "/xor.json", runner::Overrides{});
  BoardBench t = board_bench("board_xor");
  const compiler::Compiled c = runner::compile_for(p, *t.dev);
  const runner::RunResult board = runner::run(p, c, *t.dev);

  runtime::ModelOptions mo;
  mo.dim = kBoard.dim;
  mo.ub_depth = kBoard.ub_depth;
  mo.imem_depth = kBoard.imem_depth;
  mo.max_in_flight = kBoard.max_in_flight;
  const auto functional = runtime::make_device("functional", mo);
  const runner::RunResult ref = runner::run(p, runner::compile_for(p, *functional), *functional);

  ASSERT_EQ(board.checkpoints.size(), ref.checkpoints.size());
  for (std::size_t i = 0; i < ref.checkpoints.size(); ++i) {
    EXPECT_EQ(board.checkpoints[i].epoch, ref.checkpoints[i].epoch);
    EXPECT_EQ(board.checkpoints[i].loss, ref.checkpoints[i].loss) << "checkpoint " << i;
  }
  EXPECT_EQ(board.pred_train, ref.pred_train);
  ASSERT_EQ(board.params.size(), ref.params.size());
  for (std::size_t l = 0; l < ref.params.size(); ++l) {
    EXPECT_EQ(board.params[l].w, ref.params[l].w) << "layer " << l;
    EXPECT_EQ(board.params[l].b, ref.params[l].b) << "layer " << l;
  }
  // XOR learnt: every prediction within 0.1 of its target.
  EXPECT_LT((board.pred_train - p.train.y).cwiseAbs().maxCoeff(), 0.1);
  expect_clean(*t.board);
  EXPECT_EQ(t.dev->retries(), 0u);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
  std::printf(
      "[ board    ] XOR: %zu checkpoints, %llu TPU cycles, %llu board cycles (all "
      "compared with the golden model), %llu frames, %.1f s\n",
      board.checkpoints.size(), static_cast<unsigned long long>(board.cycles),
      static_cast<unsigned long long>(t.board->compared_cycles()),
      static_cast<unsigned long long>(t.dev->frames()), s);
}

TEST(Board, MalformedFramesLeaveTheTpuIntact) {
  BoardBench t = board_bench();
  Board& b = *t.board;
  std::mt19937_64 rng(tb::test_seed(test::test_name()));
  std::vector<Row> rows;
  for (int i = 0; i < kBoard.ub_depth; ++i) {
    rows.push_back(test::row_of(test::random_rows(rng, 1, kBoard.dim, -32768, 32767), 0));
  }
  std::vector<uint64_t> words(static_cast<std::size_t>(kBoard.imem_depth));
  for (uint64_t& w : words) w = rng();
  t.dev->write_rows(0, rows);
  t.dev->load_program(words);

  auto info_works = [&](const std::string& after) {
    EXPECT_EQ(raw_exchange(b, serial::info_frame(), 8).status, ReplyStatus::kOk)
        << "info after " << after;
  };
  const Bytes row7 = serial::write_frame(Op::kWriteRow, 7, serial::row_item(Row(kBoard.dim, 0x55)));

  // A bad CRC: a write, a write with a damaged item byte, a read; nothing done, no data.
  Bytes f = row7;
  f.back() ^= 0x01;
  EXPECT_EQ(raw_exchange(b, f, 0), kBadCrc);
  f = row7;
  f[4] ^= 0x80;
  EXPECT_EQ(raw_exchange(b, f, 0), kBadCrc);
  f = serial::read_frame(Op::kReadRows, 0, 4);
  f.back() ^= 0xFF;
  EXPECT_EQ(raw_exchange(b, f, 4 * 2 * kBoard.dim), kBadCrc);
  f = serial::write_frame(Op::kWriteCsr, 0, serial::le_bytes(1, 4));  // a start
  f.back() ^= 0x40;
  EXPECT_EQ(raw_exchange(b, f, 0), kBadCrc);
  expect_silence(b, 2 * kBoard.timeout_clks, "BAD_CRC");
  info_works("BAD_CRC");

  // Unknown ops, the rest of the frame following (sync bytes in it too): one BAD_OP, then
  // nothing until the line has been quiet.
  for (uint8_t op : {0x13, 0x00, 0x40, 0xA5, 0x23, 0x31}) {
    Bytes g = {0xA5, op, 0x07, 0x00, 0xA5, 0x30, 0x90, 0xA5, 0x10, 0x01};
    EXPECT_EQ(raw_exchange(b, g, 0), kBadOp) << "op " << int(op);
    expect_silence(b, 2 * kBoard.timeout_clks, "BAD_OP");
    info_works("BAD_OP");
  }

  // A host that stops mid-frame: TIMEOUT after TimeoutClks of quiet line, nothing done.
  for (std::size_t cut : {1u, 2u, 4u, 5u, 7u}) {
    Bytes g(row7.begin(), row7.begin() + static_cast<std::ptrdiff_t>(cut));
    const uint64_t t0 = b.cycles();
    EXPECT_EQ(raw_exchange(b, g, 0), kTimeoutReply) << "cut after " << cut;
    EXPECT_GE(b.cycles() - t0, static_cast<uint64_t>(kBoard.timeout_clks));
    info_works("TIMEOUT");
  }
  f = serial::read_frame(Op::kReadInstrs, 3, 2);
  f.pop_back();
  EXPECT_EQ(raw_exchange(b, f, 16), kTimeoutReply);

  // Random garbage between frames (no sync byte in it): ignored; the next frame is answered.
  for (int round = 0; round < 20; ++round) {
    Bytes g(1 + rng() % 40);
    for (uint8_t& x : g) {
      do x = static_cast<uint8_t>(rng());
      while (x == serial::kRequestSync);
    }
    b.write(g);
    const Bytes q = serial::read_frame(Op::kReadRows, static_cast<uint16_t>(round), 1);
    const Reply r = raw_exchange(b, q, 2 * kBoard.dim);
    EXPECT_EQ(r, (Reply{true, serial::row_item(rows[round]), ReplyStatus::kOk}))
        << "after garbage " << serial::hex(g);
  }
  expect_silence(b, 2 * kBoard.timeout_clks, "garbage");

  // Nothing above changed the TPU: the buffer and the instruction memory read back as written
  // (and as the golden model holds them); the TPU never started.
  EXPECT_EQ(t.dev->read_rows(0, static_cast<uint32_t>(kBoard.ub_depth)), rows);
  EXPECT_EQ(t.dev->read_instructions(0, static_cast<uint32_t>(kBoard.imem_depth)), words);
  for (int a = 0; a < kBoard.ub_depth; ++a) {
    ASSERT_EQ(b.golden().buffer().row(static_cast<uint32_t>(a)), rows[a]) << "row " << a;
  }
  EXPECT_EQ(t.dev->status(), (runtime::Status{0, runtime::State::kIdle, runtime::Error::kNone}));
  EXPECT_EQ(t.dev->cycles(), 0u);
  expect_clean(b);
}

TEST(Board, DeviceResendsAfterADamagedOpByte) {
  // A link that flips a bit of the op byte of the next frame it carries.
  class Damaging : public runtime::ByteLink {
   public:
    explicit Damaging(std::unique_ptr<Board> b) : b_(std::move(b)) {}
    std::string name() const override { return b_->name(); }
    runtime::Micros now() const override { return b_->now(); }
    void write(std::span<const uint8_t> bytes) override {
      Bytes f(bytes.begin(), bytes.end());
      if (damage && f.size() > 1) {
        f[1] ^= 0x40;  // 0x20 -> 0x60: no such op
        damage = false;
      }
      b_->write(f);
    }
    std::size_t read(std::span<uint8_t> out, runtime::Micros t) override {
      return b_->read(out, t);
    }
    void settle(runtime::Micros q) override { b_->settle(q); }
    Board& board() { return *b_; }
    bool damage = false;

   private:
    std::unique_ptr<Board> b_;
  };
  auto link = std::make_unique<Damaging>(std::make_unique<Board>(kBoard, "board_test"));
  Damaging* d = link.get();
  runtime::SerialDevice dev(std::move(link), board_options());
  dev.write_rows(3, {{11, -12}});
  d->damage = true;
  EXPECT_EQ(dev.read_rows(3, 1), (std::vector<Row>{{11, -12}}));
  EXPECT_EQ(dev.retries(), 1u);
  expect_clean(d->board());
}

TEST(Board, RepliesWhileTheTpuRuns) {
  BoardBench t = board_bench();
  Board& b = *t.board;
  const std::vector<uint64_t> prog = assemble(kLongProgram, kBoard.dim, kBoard.ub_depth);
  t.dev->write_rows(0, {{256, 0}, {0, 256}, {512, -256}, {128, 64}});  // X, then W
  t.dev->load_program(prog);
  t.dev->start();

  const std::size_t n = prog.size();
  auto csrs = [&] {
    const Reply r = raw_exchange(b, serial::read_frame(Op::kReadCsrs, 0, 2), 8);
    EXPECT_EQ(r.status, ReplyStatus::kOk);
    return std::pair{static_cast<uint32_t>(serial::le_value(std::span(r.data).first(4))),
                     static_cast<uint32_t>(serial::le_value(std::span(r.data).subspan(4)))};
  };
  const auto [status0, count0] = csrs();
  EXPECT_EQ((status0 >> 16) & 7, static_cast<uint32_t>(runtime::State::kRunning));

  // Instruction memory: refused, a read's items as zeros, nothing written.
  EXPECT_EQ(raw_exchange(b, serial::read_frame(Op::kReadInstrs, 0, 2), 16),
            (Reply{true, Bytes(16, 0), ReplyStatus::kTpuError}));
  EXPECT_EQ(raw_exchange(b, serial::write_frame(Op::kWriteInstr, 1, serial::le_bytes(0, 8)), 0),
            kTpuErrorWrite);
  // Start while Running: refused; continue outside Sync: refused.
  EXPECT_EQ(raw_exchange(b, serial::write_frame(Op::kWriteCsr, 0, serial::le_bytes(1, 4)), 0),
            kTpuErrorWrite);
  EXPECT_EQ(raw_exchange(b, serial::write_frame(Op::kWriteCsr, 0, serial::le_bytes(2, 4)), 0),
            kTpuErrorWrite);
  // The buffer: reads and writes go through (the data is checked against the golden model in
  // the cycle the TPU answers); a row the program does not touch reads back as written.
  EXPECT_EQ(raw_exchange(b, serial::read_frame(Op::kReadRows, 0, 6), 6 * 2 * kBoard.dim).status,
            ReplyStatus::kOk);
  EXPECT_EQ(raw_exchange(b, serial::write_frame(Op::kWriteRow, 100, serial::row_item({-1, 7})), 0),
            kOkWrite);
  EXPECT_EQ(raw_exchange(b, serial::read_frame(Op::kReadRows, 100, 1), 2 * kBoard.dim),
            (Reply{true, serial::row_item({-1, 7}), ReplyStatus::kOk}));
  // A CSR that does not exist: refused, its item zeros.
  EXPECT_EQ(raw_exchange(b, serial::read_frame(Op::kReadCsrs, 1, 2), 8).status,
            ReplyStatus::kTpuError);
  const auto [status1, count1] = csrs();
  EXPECT_EQ((status1 >> 16) & 7, static_cast<uint32_t>(runtime::State::kRunning))
      << "the program ended before the reads: make it longer";
  EXPECT_GT(count1, count0);

  // Through the device: the same refusals as errors that say why.
  EXPECT_NE(message_of([&] { t.dev->start(); }).find("start refused (Running"), std::string::npos);
  EXPECT_THROW(t.dev->read_instructions(0, 1), runtime::DeviceError);

  // In Sync: instruction memory still refused; continue accepted.
  EXPECT_EQ(t.dev->run(10'000'000).state, runtime::State::kSync);
  EXPECT_EQ(raw_exchange(b, serial::read_frame(Op::kReadInstrs, 0, 1), 8),
            (Reply{true, Bytes(8, 0), ReplyStatus::kTpuError}));
  t.dev->resume();
  EXPECT_EQ(t.dev->run(100'000).state, runtime::State::kDone);
  EXPECT_EQ(t.dev->read_instructions(0, static_cast<uint32_t>(n)), prog);
  EXPECT_EQ(t.dev->read_rows(100, 1), (std::vector<Row>{{-1, 7}}));
  expect_clean(b);
}

}  // namespace
}  // namespace tpu
