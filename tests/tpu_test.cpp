// The whole TPU at one size (TPU_ARRAY_DIM): programs assembled from text, loaded and
// started through the host port, every cycle compared with the golden TPU model
// (tb/tpu_tb.hpp lists what), and results checked against Eigen and float references.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "Vtpu.h"
#include "golden/isa.hpp"
#include "golden/mlp_reference.hpp"
#include "golden/reference.hpp"
#include "sw/asm/assembler.hpp"
#include "sim/mlp_program.hpp"
#include "tb/seed.hpp"
#include "tb/tpu_tb.hpp"
#include "test_support.hpp"

#ifndef TPU_ARRAY_DIM
#error "TPU_ARRAY_DIM must name the array size the model was Verilated with"
#endif

namespace {

using tpu::isa::Error;
using tpu::isa::State;
using tpu::tb::Space;
using Tb = tpu::tb::TpuTb<Vtpu>;
using tpu::test::Rows;
using tpu::test::test_name;

constexpr int kDim = TPU_ARRAY_DIM;
constexpr int kUbDepth = 128;    // the Verilated model's (tests/CMakeLists.txt)
constexpr int kImemDepth = 128;

std::vector<uint64_t> assemble(const std::string& text) {
  return tpu::assembler::assemble(text, test_name() + ".s").words;
}

class Tpu : public ::testing::Test {
 protected:
  void SetUp() override {
    rng_.seed(tpu::tb::test_seed(test_name()));
    tb_ = std::make_unique<Tb>(kDim, kUbDepth, kImemDepth,
                               "tpu" + std::to_string(kDim) + "_" + test_name());
    tb_->reset();
  }
  void TearDown() override { EXPECT_EQ(tb_->log().count(), 0u) << tb_->log().report(); }

  Rows random_rows(int rows, int32_t lo, int32_t hi) {
    return tpu::test::random_rows(rng_, rows, kDim, lo, hi);
  }

  void store(int at, const Rows& m) {
    for (int r = 0; r < m.rows(); ++r) {
      tb_->write_row(at + r, std::vector<int32_t>(m.row(r).begin(), m.row(r).end()));
    }
  }

  Rows load(int at, int rows) {
    Rows m(rows, kDim);
    for (int r = 0; r < rows; ++r) {
      const auto v = tb_->read_row(at + r);
      for (int c = 0; c < kDim; ++c) m(r, c) = v[c];
    }
    return m;
  }

  Rows snapshot() { return load(0, kUbDepth); }

  std::mt19937_64 rng_;
  std::unique_ptr<Tb> tb_;
};

TEST_F(Tpu, HostReachesBufferInstructionMemoryAndRegisters) {
  const Rows m = random_rows(3, -32768, 32767);
  store(10, m);
  EXPECT_EQ(load(10, 3), m);
  bool err = true;
  tb_->host(Space::kImem, true, 5, {0x89abcdefu, 0x01234567u}, &err);
  EXPECT_FALSE(err);
  EXPECT_EQ(tb_->host(Space::kImem, false, 5, {}, &err)[0], 0x89abcdefu);
  EXPECT_FALSE(err);
  tb_->host(Space::kImem, true, kImemDepth, {1, 0}, &err);
  EXPECT_TRUE(err) << "an instruction address past the memory";
  EXPECT_EQ(tb_->csr(0), tpu::isa::status_word(0, State::kIdle, Error::kNone));
  tb_->host(Space::kCsr, true, 0, {2}, &err);
  EXPECT_TRUE(err) << "continue outside Sync";
  tb_->host(Space::kCsr, false, 7, {}, &err);
  EXPECT_TRUE(err) << "no CSR 7";
}

// Start in cycle t: Running from t+1; nop issues in t+1, halt in t+2; Done from t+3.
TEST_F(Tpu, NopHaltTakesTwoCycles) {
  tb_->load_program(assemble("nop\nhalt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  EXPECT_EQ(tb_->csr(0), tpu::isa::status_word(1, State::kDone, Error::kNone));
  EXPECT_EQ(tb_->csr(1), 2u);
}

// A x W through loadw and matmul, against the Eigen reference under the spec's rounding.
TEST_F(Tpu, MatmulProgramMatchesEigen) {
  const int m = 2 * kDim + 1;
  const Rows a = random_rows(m, -1024, 1024), w = random_rows(kDim, -512, 512);
  store(0, a);
  store(40, w);
  tb_->load_program(assemble("loadw 40, rows=" + std::to_string(kDim) +
                             "\nvpu mask=none\nmatmul 0, 60, rows=" + std::to_string(m) +
                             ", k=" + std::to_string(kDim) + ", n=" + std::to_string(kDim) +
                             "\nhalt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  const tpu::golden::MatrixI expect =
      tpu::golden::matmul_fixed(a.cast<int64_t>(), w.cast<int64_t>());
  EXPECT_EQ(load(60, m).cast<int64_t>(), expect);
}

// The second matmul reads the first's output: the control unit must wait for the last
// write (the per-cycle comparison checks when), and the chain must be right.
TEST_F(Tpu, ReadAfterWriteWaitsAndChains) {
  const Rows a = random_rows(kDim, -512, 512), w = random_rows(kDim, -300, 300);
  store(0, a);
  store(20, w);
  const std::string n = std::to_string(kDim);
  tb_->load_program(assemble("vpu mask=none\nloadw 20, rows=" + n + "\nmatmul 0, 40, rows=" + n +
                             ", k=" + n + ", n=" + n + "\nmatmul 40, 60, rows=" + n + ", k=" + n +
                             ", n=" + n + "\nhalt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  const auto first = tpu::golden::matmul_fixed(a.cast<int64_t>(), w.cast<int64_t>());
  const auto second = tpu::golden::matmul_fixed(first, w.cast<int64_t>());
  EXPECT_EQ(load(40, kDim).cast<int64_t>(), first);
  EXPECT_EQ(load(60, kDim).cast<int64_t>(), second);
}

// loadw, matmul, loadw, matmul back to back: the second loadw issues while the first's
// rows are still arriving, and each matmul must see its own weights.
TEST_F(Tpu, BackToBackWeightLoadsKeepTheirRows) {
  const std::string n = std::to_string(kDim);
  const Rows a = random_rows(kDim, -700, 700);
  const Rows w1 = random_rows(kDim, -300, 300), w2 = random_rows(kDim, -300, 300);
  store(0, a);
  store(20, w1);
  store(30, w2);
  const std::string mm = ", rows=" + n + ", k=" + n + ", n=" + n + "\n";
  tb_->load_program(assemble("vpu mask=none\nloadw 20, rows=" + n + "\nmatmul 0, 40" + mm +
                             "loadw 30, rows=" + n + "\nmatmul 0, 50" + mm + "halt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  EXPECT_EQ(load(40, kDim).cast<int64_t>(),
            tpu::golden::matmul_fixed(a.cast<int64_t>(), w1.cast<int64_t>()));
  EXPECT_EQ(load(50, kDim).cast<int64_t>(),
            tpu::golden::matmul_fixed(a.cast<int64_t>(), w2.cast<int64_t>()));
}

// A product tiled along K: out = A1 W1, then out += A2 W2 (matmul acc), each tile rounded
// at the array's edge and the sum saturated in the vector unit's bias stage.
TEST_F(Tpu, AccumulatingMatmulAddsATiledProduct) {
  const std::string n = std::to_string(kDim), m = std::to_string(kDim + 1);
  const Rows a1 = random_rows(kDim + 1, -900, 900), a2 = random_rows(kDim + 1, -900, 900);
  const Rows w1 = random_rows(kDim, -400, 400), w2 = random_rows(kDim, -400, 400);
  store(0, a1);
  store(20, a2);
  store(40, w1);
  store(50, w2);
  const std::string shape = ", rows=" + m + ", k=" + n + ", n=" + n;
  tb_->load_program(assemble("vpu mask=none\nloadw 40, rows=" + n + "\nmatmul 0, 60" + shape +
                             "\nloadw 50, rows=" + n + "\nmatmul 20, 60" + shape +
                             ", acc\nhalt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  const auto p1 = tpu::golden::matmul_fixed(a1.cast<int64_t>(), w1.cast<int64_t>());
  const auto p2 = tpu::golden::matmul_fixed(a2.cast<int64_t>(), w2.cast<int64_t>());
  const tpu::golden::MatrixI want = (p1 + p2).cwiseMax(-32768).cwiseMin(32767);
  EXPECT_EQ(load(60, kDim + 1).cast<int64_t>(), want);
}

TEST_F(Tpu, LoopsRepeatTheirBody) {
  store(0, random_rows(1, -100, 100));
  store(20, random_rows(kDim, -100, 100));
  tb_->load_program(assemble(
      "vpu mask=none\nloadw 20, rows=1\nloop 3\nloop 2\nmatmul 0, 40, rows=1, k=1, n=1\nendl\n"
      "nop\nendl\nhalt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  EXPECT_EQ(tb_->vpu_rows().size(), 6u);
}

struct BadProgram {
  const char* name;
  std::string text;
  Error err;
  uint32_t pc;  // of the faulting instruction
};

// Every error code from a real program: the TPU halts with the code, the PC of the
// faulting instruction, and the buffer holds exactly what the instructions before it wrote.
TEST_F(Tpu, EveryErrorHaltsWithItsCodeAndTouchesNothingElse) {
  const std::string n = std::to_string(kDim), over = std::to_string(kDim + 1);
  const std::string pre = "vpu mask=none\nloadw 20, rows=1\nmatmul 0, 30, rows=1, k=1, n=1\n";
  std::vector<BadProgram> cases = {
      {"illegal opcode", pre + ".word 0xA000000000000000\nhalt\n", Error::kOpcode, 3},
      {"reserved bit", pre + ".word 0x1000000000000001\nhalt\n", Error::kOpcode, 3},
      {"k past the array", pre + "matmul 0, 50, rows=1, k=" + over + ", n=1\nhalt\n",
       Error::kField, 3},
      {"sgd count 0", pre + "sgd 0, 8, count=0, lr=1.0\nhalt\n", Error::kField, 3},
      {"output past the buffer",
       pre + "matmul 0, " + std::to_string(kUbDepth - 1) + ", rows=2, k=1, n=1\nhalt\n",
       Error::kAddress, 3},
      {"transposed weights past the buffer",
       pre + "loadw " + std::to_string(kUbDepth - 1) + ", rows=1, t\nhalt\n", Error::kAddress, 3},
      {"bias row past the buffer",
       pre + "vpu mask=bias, bias=" + std::to_string(kUbDepth) + "\nmatmul 0, 50, rows=1, k=1, n=1\n",
       Error::kAddress, 4},
      {"loop 0", pre + "loop 0\nendl\nhalt\n", Error::kLoop, 3},
      {"endl without loop", pre + "endl\nhalt\n", Error::kLoop, 3},
      {"fifth nested loop", pre + "loop 1\nloop 1\nloop 1\nloop 1\nloop 1\n", Error::kLoop, 7},
      {"no halt", pre, Error::kPc, kImemDepth},
  };
  for (const BadProgram& c : cases) {
    SCOPED_TRACE(c.name);
    tb_->reset();
    const Rows before = random_rows(kUbDepth, -1000, 1000);
    store(0, before);
    // Fill the whole instruction memory so the program ends where the text ends.
    std::vector<uint64_t> words = tpu::assembler::assemble(c.text, c.name, std::nullopt).words;
    words.resize(kImemDepth, 0);
    tb_->load_program(words);
    EXPECT_EQ(tb_->run(), State::kError);
    for (int i = 0; i < 3 * kDim + 12; ++i) tb_->idle();  // let issued work finish
    EXPECT_EQ(tb_->csr(0), tpu::isa::status_word(c.pc, State::kError, c.err));
    Rows expect = before;  // the one matmul before the fault wrote row 30, lane 0
    const int64_t z = before(0, 0) * int64_t{before(20, 0)};
    const int64_t r = z >= 0 ? (z + 128) >> 8 : -((-z + 128) >> 8);
    expect(30, 0) = static_cast<int32_t>(std::clamp<int64_t>(r, -32768, 32767));
    EXPECT_EQ(snapshot(), expect);
  }
}

// The XOR network's forward pass with the predecessor's initialisation, against a float
// reference of the same (Q8.8) parameters: within one LSB per value.
TEST_F(Tpu, XorForwardMatchesFloatWithinOneLsb) {
  tpu::sim::MlpShape shape;
  shape.dim = kDim;
  shape.leak_shift = 1;  // slope 0.5
  const auto layout = tpu::sim::mlp_layout(shape);
  const tpu::golden::Mlp init = tpu::golden::xor_predecessor_init();
  auto q = [](double v) { return static_cast<int32_t>(std::lround(v * 256.0)); };
  Rows params = Rows::Zero(layout.p_rows, kDim);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) params(i, j) = q(init.w1(i, j));
  }
  for (int j = 0; j < 2; ++j) params(kDim, j) = q(init.w2(0, j));
  for (int j = 0; j < 2; ++j) params(2 * kDim, j) = q(init.b1(j));
  params(2 * kDim + 1, 0) = q(init.b2(0));
  Rows x = Rows::Zero(4, kDim);
  const Eigen::MatrixXd xr = tpu::golden::xor_inputs();
  for (int b = 0; b < 4; ++b) {
    for (int j = 0; j < 2; ++j) x(b, j) = q(xr(b, j));
  }
  store(layout.x, x);
  store(layout.p, params);
  tb_->load_program(assemble(tpu::sim::mlp_forward_asm(shape, layout) + "  halt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  // The float reference of the quantised parameters.
  tpu::golden::Mlp qm = init;
  qm.w1 = params.block(0, 0, 2, 2).cast<double>() / 256.0;
  qm.w2 = params.block(kDim, 0, 1, 2).cast<double>() / 256.0;
  qm.b1 = params.block(2 * kDim, 0, 1, 2).cast<double>() / 256.0;
  qm.b2 = params.block(2 * kDim + 1, 0, 1, 1).cast<double>() / 256.0;
  const Eigen::MatrixXd want = tpu::golden::mlp_forward(qm, xr, 0.5).h2;
  const Rows got = load(layout.h2, 4);
  for (int b = 0; b < 4; ++b) {
    EXPECT_LE(std::abs(got(b, 0) / 256.0 - want(b, 0)), 1.0 / 256.0) << "input " << b;
  }
}

}  // namespace
