// The host runtime (sw/runtime/device.hpp): every backend through the Device interface only:
// the Verilated TPU in lockstep with the golden model ("rtl"), the RTL alone ("rtl-only"), the
// golden cycle model ("golden"), the functional model ("functional"), and the two cycle
// backends with the functional cross-check on. Results are checked against an Eigen product
// rounded as the spec rounds (written out here, not golden's), cycle counts against hand-worked
// numbers and across backends.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <exception>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "Vtpu.h"
#include "golden/isa.hpp"
#include "golden/tpu_model.hpp"
#include "sw/asm/assembler.hpp"
#include "sw/runtime/cycle_device.hpp"
#include "sw/runtime/device.hpp"
#include "sw/runtime/engines.hpp"
#include "tb/seed.hpp"
#include "tb/tpu_device.hpp"
#include "test_support.hpp"

namespace {

using tpu::isa::Instr;
using tpu::isa::Opcode;
using tpu::runtime::AddressError;
using tpu::runtime::Device;
using tpu::runtime::DeviceError;
using tpu::runtime::Error;
using tpu::runtime::MismatchError;
using tpu::runtime::ModelOptions;
using tpu::runtime::Row;
using tpu::runtime::State;
using tpu::runtime::Status;
using tpu::runtime::TimeoutError;
using tpu::test::test_name;
using Rtl = tpu::tb::RtlDevice<Vtpu>;

// The Verilated model's parameters (tests/CMakeLists.txt).
constexpr int kDim = TPU_ARRAY_DIM;  // the Verilated TPU's parameters (tests/CMakeLists.txt)
constexpr int kUbDepth = TPU_UB_DEPTH;
constexpr int kImemDepth = TPU_IMEM_DEPTH;

ModelOptions options(bool cross_check = false) {
  return ModelOptions{kDim, kUbDepth, kImemDepth, cross_check};
}

std::unique_ptr<Device> make(const std::string& backend) {
  const std::string trace = "runtime_" + test_name();
  if (backend == "rtl") return std::make_unique<Rtl>(options(), tpu::tb::RtlMode::kLockstep, trace);
  if (backend == "rtl-only") {
    return std::make_unique<Rtl>(options(), tpu::tb::RtlMode::kRtlOnly, trace);
  }
  if (backend == "rtl+cross-check") {
    return std::make_unique<Rtl>(options(true), tpu::tb::RtlMode::kLockstep, trace);
  }
  if (backend == "golden+cross-check") return tpu::runtime::make_device("golden", options(true));
  return tpu::runtime::make_device(backend, options());
}

// --- Programs, encoded with golden/isa.hpp. ------------------------------------------------------

uint64_t op(Opcode o) { return tpu::isa::encode(Instr{.op = o}); }
uint64_t loadw(uint32_t addr, uint32_t rows) {
  return tpu::isa::encode(Instr{.op = Opcode::kLoadw, .addr = addr, .rows = rows});
}
uint64_t vpu_none() { return tpu::isa::encode(Instr{.op = Opcode::kVpu}); }
uint64_t matmul(uint32_t act, uint32_t out, uint32_t rows, uint32_t k, uint32_t n) {
  return tpu::isa::encode(
      Instr{.op = Opcode::kMatmul, .rows = rows, .act = act, .out = out, .k = k, .n = n});
}
uint64_t loop(uint32_t count) {
  return tpu::isa::encode(Instr{.op = Opcode::kLoop, .count = count});
}

// --- The reference: round_sat(A x W) with Q8.8's rounding (nearest, ties away from zero). ------

using Mat = Eigen::Matrix<int64_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Mat reference_matmul(const Mat& a, const Mat& w) {
  const Mat exact = a * w;
  return exact.unaryExpr([](int64_t x) {
    const int64_t mag = ((x < 0 ? -x : x) + 128) >> 8;
    const int64_t r = x < 0 ? -mag : mag;
    return r > 32767 ? int64_t{32767} : (r < -32768 ? int64_t{-32768} : r);
  });
}

std::vector<Row> to_rows(const Mat& m) {
  std::vector<Row> rows;
  for (int r = 0; r < m.rows(); ++r) {
    rows.emplace_back(m.row(r).begin(), m.row(r).end());
  }
  return rows;
}

Mat to_mat(const std::vector<Row>& rows) {
  Mat m(static_cast<int>(rows.size()), kDim);
  for (int r = 0; r < m.rows(); ++r) {
    for (int c = 0; c < kDim; ++c) m(r, c) = rows[r][c];
  }
  return m;
}

class Runtime : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    rng_.seed(tpu::tb::test_seed(test_name()));
    dev_ = make(GetParam());
  }
  void TearDown() override {
    if (auto* rtl = dynamic_cast<Rtl*>(dev_.get())) EXPECT_EQ(rtl->mismatches(), 0u);
  }

  Mat random(int rows, int cols, int64_t lo, int64_t hi) {
    std::uniform_int_distribution<int64_t> v(lo, hi);
    return Mat::NullaryExpr(rows, cols, [&] { return v(rng_); });
  }

  bool cycle_accurate() const { return GetParam() != "functional"; }

  std::mt19937_64 rng_;
  std::unique_ptr<Device> dev_;
};

// Message of the exception `f` throws as E; fails the test when it throws nothing or another.
template <class E, class F>
std::string thrown(F f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw another exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "threw nothing";
  return {};
}

TEST_P(Runtime, ReportsItsSizes) {
  EXPECT_EQ(dev_->name(), GetParam().substr(0, GetParam().find('+')));
  EXPECT_EQ(dev_->dim(), kDim);
  EXPECT_EQ(dev_->ub_depth(), kUbDepth);
  EXPECT_EQ(dev_->imem_depth(), kImemDepth);
  EXPECT_EQ(dev_->status(), (Status{0, State::kIdle, Error::kNone}));
}

TEST_P(Runtime, RowsRoundTrip) {
  const std::vector<Row> a = to_rows(random(5, kDim, -32768, 32767));
  const std::vector<Row> b = to_rows(random(3, kDim, -32768, 32767));
  dev_->write_rows(0, a);
  dev_->write_rows(kUbDepth - 3, b);  // the last rows
  EXPECT_EQ(dev_->read_rows(0, 5), a);
  EXPECT_EQ(dev_->read_rows(kUbDepth - 3, 3), b);
  EXPECT_EQ(dev_->read_rows(0, 0), std::vector<Row>{});
}

TEST_P(Runtime, BadAddressesAndRowsThrowNamingThem) {
  const Row zero(kDim, 0);
  std::string m = thrown<AddressError>([&] { dev_->write_rows(kUbDepth - 1, {zero, zero}); });
  EXPECT_NE(m.find("write_rows"), std::string::npos) << m;
  EXPECT_NE(m.find("row 256 is outside the buffer (256 rows)"), std::string::npos) << m;
  m = thrown<AddressError>([&] { dev_->read_rows(300, 1); });
  EXPECT_NE(m.find("read_rows of buffer rows 300..300: row 300"), std::string::npos) << m;
  m = thrown<AddressError>([&] { dev_->read_rows(70000, 1); });
  EXPECT_NE(m.find("row 70000"), std::string::npos) << m;
  m = thrown<AddressError>(
      [&] { dev_->load_program(std::vector<uint64_t>(kImemDepth + 1, op(Opcode::kNop))); });
  EXPECT_NE(m.find("instruction address 256"), std::string::npos) << m;
  m = thrown<DeviceError>([&] { dev_->write_rows(7, {Row(kDim - 1, 0)}); });
  EXPECT_NE(m.find("row 7: the row has 3 lanes"), std::string::npos) << m;
  m = thrown<DeviceError>([&] { dev_->write_rows(8, {Row{1, 2, 40000, 3}}); });
  EXPECT_NE(m.find("row 8: lane 2 holds 40000"), std::string::npos) << m;
  // Nothing was written by the refused writes.
  EXPECT_EQ(dev_->read_rows(kUbDepth - 1, 1), std::vector<Row>{zero});
  EXPECT_EQ(dev_->read_rows(7, 2), (std::vector<Row>{zero, zero}));
}

// A (2N+1 rows) x W through loadw and matmul, against the reference.
TEST_P(Runtime, MatmulProgramMatchesEigen) {
  const int m = 2 * kDim + 1;
  const Mat a = random(m, kDim, -1024, 1024), w = random(kDim, kDim, -512, 512);
  dev_->write_rows(0, to_rows(a));
  dev_->write_rows(40, to_rows(w));
  dev_->load_program(
      {loadw(40, kDim), vpu_none(), matmul(0, 60, m, kDim, kDim), op(Opcode::kHalt)});
  dev_->start();
  const Status s = dev_->run(10'000);
  EXPECT_EQ(s, (Status{3, State::kDone, Error::kNone}));
  EXPECT_EQ(dev_->status(), s);
  EXPECT_EQ(to_mat(dev_->read_rows(60, m)), reference_matmul(a, w));
  if (!cycle_accurate()) EXPECT_EQ(dev_->instructions(), 4u);
}

// The same from assembler text, with n < N: the lanes >= n of the output rows keep their values.
TEST_P(Runtime, AssembledProgramKeepsTheLanesBeyondN) {
  const Mat a = random(3, kDim, -1024, 1024), w = random(kDim, kDim, -512, 512);
  dev_->write_rows(0, to_rows(a));
  dev_->write_rows(10, to_rows(w));
  const Mat before = random(3, kDim, -32768, 32767);
  dev_->write_rows(20, to_rows(before));
  dev_->load_program(tpu::assembler::assemble("loadw 10, rows=4\nvpu mask=none\n"
                                              "matmul 0, 20, rows=3, k=4, n=2\nhalt\n",
                                              test_name() + ".s")
                         .words);
  dev_->start();
  EXPECT_EQ(dev_->run(10'000).state, State::kDone);
  Mat expect = before;
  expect.leftCols(2) = reference_matmul(a, w).leftCols(2);
  EXPECT_EQ(to_mat(dev_->read_rows(20, 3)), expect);
}

// sync stops with the PC after it; the host reads the first result, writes new activations and
// continues; start and continue are refused where the spec refuses them.
TEST_P(Runtime, SyncAndResume) {
  const Mat a = random(kDim, kDim, -1024, 1024), w = random(kDim, kDim, -512, 512);
  const Mat a2 = random(kDim, kDim, -1024, 1024);
  dev_->write_rows(0, to_rows(a));
  dev_->write_rows(40, to_rows(w));
  dev_->load_program({loadw(40, kDim), vpu_none(), matmul(0, 60, kDim, kDim, kDim),
                      op(Opcode::kSync), matmul(0, 80, kDim, kDim, kDim), op(Opcode::kHalt)});
  EXPECT_NE(thrown<DeviceError>([&] { dev_->resume(); }).find("continue refused (Idle at pc 0)"),
            std::string::npos);
  dev_->start();
  EXPECT_EQ(dev_->run(10'000), (Status{4, State::kSync, Error::kNone}));
  EXPECT_EQ(to_mat(dev_->read_rows(60, kDim)), reference_matmul(a, w));
  EXPECT_NE(thrown<DeviceError>([&] { dev_->start(); }).find("start refused (Sync at pc 4)"),
            std::string::npos);
  EXPECT_NE(thrown<DeviceError>([&] { dev_->load_program({op(Opcode::kHalt)}); }).find("refused"),
            std::string::npos);
  dev_->write_rows(0, to_rows(a2));
  dev_->resume();
  EXPECT_EQ(dev_->run(10'000), (Status{5, State::kDone, Error::kNone}));
  EXPECT_EQ(to_mat(dev_->read_rows(80, kDim)), reference_matmul(a2, w));
  EXPECT_EQ(to_mat(dev_->read_rows(60, kDim)), reference_matmul(a, w));
  // Done: run() returns at once, and a new start runs the program again from pc 0.
  EXPECT_EQ(dev_->run(10).state, State::kDone);
  dev_->start();
  EXPECT_EQ(dev_->run(10'000).state, State::kSync);
}

// An illegal opcode stops the program with ErrOpcode at its PC; the matmul issued before it
// still completes, and run() returns with the buffer final: its last row is read first.
TEST_P(Runtime, IllegalInstructionStopsWithError) {
  const int m = 100;
  const Mat a = random(m, kDim, -1024, 1024), w = random(kDim, kDim, -512, 512);
  dev_->write_rows(0, to_rows(a));
  dev_->write_rows(100, to_rows(w));
  dev_->load_program({loadw(100, kDim), vpu_none(), matmul(0, 120, m, kDim, kDim),
                      uint64_t{0xC} << 60, op(Opcode::kHalt)});
  dev_->start();
  const Status s = dev_->run(10'000);
  EXPECT_EQ(s, (Status{3, State::kError, Error::kOpcode}));
  const Mat expect = reference_matmul(a, w);
  EXPECT_EQ(to_mat(dev_->read_rows(120 + m - 1, 1)), expect.bottomRows(1));
  EXPECT_EQ(tpu::runtime::to_string(s), "Error ErrOpcode at pc 3");
  EXPECT_EQ(dev_->status(), s);
  EXPECT_EQ(to_mat(dev_->read_rows(120, m)), expect);
  // A start after an error clears it.
  dev_->load_program({op(Opcode::kHalt)});
  dev_->start();
  EXPECT_EQ(dev_->run(100), (Status{0, State::kDone, Error::kNone}));
}

// run() throws when its limit passes with the TPU still Running; a later run() carries on.
TEST_P(Runtime, TimeoutThrowsAndRunCarriesOn) {
  dev_->load_program({loop(1000), op(Opcode::kNop), op(Opcode::kEndl), op(Opcode::kHalt)});
  dev_->start();
  const std::string m = thrown<TimeoutError>([&] { dev_->run(50); });
  EXPECT_NE(m.find("did not stop within 50"), std::string::npos) << m;
  EXPECT_EQ(dev_->status().state, State::kRunning);
  EXPECT_EQ(dev_->run(100'000), (Status{3, State::kDone, Error::kNone}));
  if (!cycle_accurate()) EXPECT_EQ(dev_->instructions(), 2002u);
}

// Start in cycle t: Running from t+1, nop issues in t+1, halt in t+2, Done from t+3 (the TPU
// test's hand-worked count). The functional model counts no cycles.
TEST_P(Runtime, CyclesOfNopHalt) {
  dev_->load_program({op(Opcode::kNop), op(Opcode::kHalt)});
  dev_->start();
  EXPECT_EQ(dev_->run(100), (Status{1, State::kDone, Error::kNone}));
  EXPECT_EQ(dev_->cycles(), cycle_accurate() ? 2u : 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, Runtime,
                         ::testing::Values("rtl", "rtl-only", "golden", "functional",
                                           "golden+cross-check", "rtl+cross-check"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (c == '-' || c == '+') c = '_';
                           }
                           return n;
                         });

// --- Across backends. ----------------------------------------------------------------------------

// A program with a sync, a loop and back-to-back matmuls: cycles() must be the same on the RTL
// and the golden model, with and without the cross-check (which must not add cycles).
TEST(RuntimeAcross, CyclesEqualOnRtlAndGolden) {
  std::mt19937_64 rng(tpu::tb::test_seed(test_name()));
  std::uniform_int_distribution<int32_t> v(-1024, 1024);
  std::vector<Row> data(48, Row(kDim));
  for (Row& r : data) {
    for (int32_t& x : r) x = v(rng);
  }
  const std::vector<uint64_t> program = {loadw(40, kDim),
                                         vpu_none(),
                                         matmul(0, 60, 12, kDim, kDim),
                                         matmul(12, 72, 12, kDim, kDim),
                                         op(Opcode::kSync),
                                         loop(3),
                                         matmul(60, 100, 24, kDim, kDim),
                                         op(Opcode::kEndl),
                                         op(Opcode::kHalt)};
  std::vector<uint64_t> cycles;
  std::vector<std::vector<Row>> results;
  for (const std::string backend :
       {"rtl", "golden", "rtl+cross-check", "golden+cross-check", "rtl-only"}) {
    SCOPED_TRACE(backend);
    const std::unique_ptr<Device> dev = make(backend);
    dev->write_rows(0, data);
    dev->load_program(program);
    dev->start();
    EXPECT_EQ(dev->run(10'000).state, State::kSync);
    const uint64_t at_sync = dev->cycles();
    dev->resume();
    EXPECT_EQ(dev->run(10'000), (Status{8, State::kDone, Error::kNone}));
    cycles.push_back(dev->cycles());
    EXPECT_GT(cycles.back(), at_sync);
    results.push_back(dev->read_rows(60, 64));
  }
  for (std::size_t i = 1; i < cycles.size(); ++i) {
    EXPECT_EQ(cycles[i], cycles[0]) << "backend " << i;
    EXPECT_EQ(results[i], results[0]) << "backend " << i;
  }
}

// The cross-check names the first write where a cycle model and the functional model differ: a
// golden device whose buffer seems to hold a wrong lane in row 61.
class CorruptRowPort : public tpu::runtime::HostPort {
 public:
  CorruptRowPort() : HostPort(kDim), model(kDim, kUbDepth, kImemDepth) {}
  tpu::golden::TpuModel model;

 protected:
  tpu::golden::TpuOutputs clock(const tpu::golden::TpuInputs& in) override {
    const tpu::golden::TpuOutputs o = model.outputs(in);
    model.step(in);
    return o;
  }
};

class CorruptRowDevice : public tpu::runtime::CycleDevice {
 public:
  CorruptRowDevice()
      : CycleDevice(std::make_unique<CorruptRowPort>(), kUbDepth, kImemDepth, true),
        port_(static_cast<CorruptRowPort*>(&port())) {}
  std::string name() const override { return "corrupt"; }

 protected:
  Row model_row(uint32_t addr) override {
    Row r = port_->model.buffer().row(addr);
    if (addr == 61) r[1] ^= 1;
    return r;
  }

 private:
  CorruptRowPort* port_;
};

TEST(RuntimeAcross, CrossCheckNamesTheFirstDifferingWrite) {
  CorruptRowDevice dev;
  dev.write_rows(40, std::vector<Row>(kDim, Row(kDim, 256)));  // W = all ones
  dev.write_rows(0, std::vector<Row>(3, Row{256, 512, 0, 0}));
  dev.load_program({loadw(40, kDim), vpu_none(), matmul(0, 60, 3, kDim, kDim), op(Opcode::kHalt)});
  dev.start();
  const std::string m = thrown<MismatchError>([&] { dev.run(1000); });
  EXPECT_NE(m.find("buffer write 1 of the segment ending Done at pc 3 differs: 'corrupt' wrote "
                   "row 61 = [768 769 768 768], the functional model wrote row 61 = "
                   "[768 768 768 768]"),
            std::string::npos)
      << m;
}

TEST(RuntimeAcross, FactoryNamesTheEngines) {
  const std::string m = thrown<DeviceError>([] { tpu::runtime::make_device("tpu9", options()); });
  EXPECT_NE(m.find("unknown engine 'tpu9' (known: 'golden', 'functional'"), std::string::npos) << m;
  EXPECT_EQ(tpu::runtime::engine_names(), (std::vector<std::string>{"golden", "functional"}));
}

}  // namespace
