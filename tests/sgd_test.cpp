// The gradient-descent unit streaming from and to a unified buffer, at one size
// (TPU_ARRAY_DIM): every cycle against the golden models wired the same way, final
// parameters against an exact integer reference, exact cycle counts, and the
// statistics that make stochastic rounding worth having.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "Vsgd_system.h"
#include "golden/sgd_model.hpp"
#include "sw/runtime/host_handshake.hpp"
#include "tb/seed.hpp"
#include "tb/sgd_system_tb.hpp"
#include "test_support.hpp"

#ifndef TPU_ARRAY_DIM
#error "TPU_ARRAY_DIM must name the array size the model was Verilated with"
#endif

namespace {

using tpu::golden::SgdCommand;
using tpu::golden::UbError;
using tpu::tb::SgdSystemInputs;
using tpu::tb::SgdSystemOutputs;
using Tb = tpu::tb::SgdSystemTb<Vsgd_system>;
using tpu::test::Rows;
using tpu::test::test_name;

constexpr int kDim = TPU_ARRAY_DIM;
constexpr int kDepth = TPU_DEPTH;  // the Verilated buffer's Depth (tests/CMakeLists.txt)
constexpr int kThetaAt = 4, kGradAt = 36;

// theta - round(lr * g) with round to nearest, ties away from zero, then saturation:
// integer arithmetic, independent of the models.
int32_t nearest_update(int32_t theta, int32_t g, int32_t lr) {
  const int64_t p = int64_t{lr} * g;
  const int64_t step = p >= 0 ? (p + 128) >> 8 : -((-p + 128) >> 8);
  return static_cast<int32_t>(std::clamp<int64_t>(theta - step, -32768, 32767));
}

class Sgd : public tpu::tb::RtlFixture<Tb> {
 protected:
  std::unique_ptr<Tb> make_bench(const std::string& test) override {
    return std::make_unique<Tb>(kDim, kDepth, "sgd" + std::to_string(kDim) + "_" + test);
  }

  SgdSystemOutputs cycle(const SgdSystemInputs& in = {}) { return tb_->cycle(in); }

  std::vector<int32_t> host(bool we, uint32_t addr, std::vector<int32_t> data = {}) {
    SgdSystemInputs req;
    req.host_req_we = we;
    req.host_req_addr = addr;
    req.host_req_wdata = std::move(data);
    return tpu::runtime::host_handshake<std::runtime_error>(
               [this](const SgdSystemInputs& in) { return cycle(in); }, req,
               std::string("host ") + (we ? "write" : "read") + " of row " + std::to_string(addr))
        .host_rsp_rdata;
  }

  void store(int at, const Rows& m) {
    for (int r = 0; r < m.rows(); ++r) {
      host(true, at + r, std::vector<int32_t>(m.row(r).begin(), m.row(r).end()));
    }
  }

  Rows load(int at, int rows) {
    Rows m(rows, kDim);
    for (int r = 0; r < rows; ++r) {
      const auto v = host(false, at + r);
      for (int c = 0; c < kDim; ++c) m(r, c) = v[c];
    }
    return m;
  }

  Rows random_rows(int rows, int32_t lo, int32_t hi) {
    return tpu::test::random_rows(rng_, rows, kDim, lo, hi);
  }

  // Issues one update and runs until the unit is idle; returns the cycle it was accepted
  // in and the cycles of the rows it wrote.
  std::pair<uint64_t, std::vector<uint64_t>> update(const SgdCommand& cmd) {
    SgdSystemInputs in;
    in.cmd_valid = true;
    in.cmd = cmd;
    const uint64_t t = tb_->cycle();
    EXPECT_TRUE(cycle(in).cmd_ready);
    std::vector<uint64_t> rows;
    for (int g = 0; g < 4 * kDepth; ++g) {
      const SgdSystemOutputs o = cycle();
      if (o.upd_valid) rows.push_back(tb_->cycle() - 1 - t);
      if (!o.busy) return {t, rows};
    }
    ADD_FAILURE() << "the update never finished";
    return {t, rows};
  }
};

TEST_F(Sgd, NearestUpdateMatchesIntegerReference) {
  const int rows = 9;
  for (int32_t lr : {64, 192, 256, 23}) {  // 0.25, 0.75, 1.0 and an odd one
    const Rows theta = random_rows(rows, -20000, 20000), grad = random_rows(rows, -8000, 8000);
    store(kThetaAt, theta);
    store(kGradAt, grad);
    update({kThetaAt, kGradAt, rows, lr, false});
    const Rows got = load(kThetaAt, rows);
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < kDim; ++c) {
        EXPECT_EQ(got(r, c), nearest_update(theta(r, c), grad(r, c), lr)) << "lr " << lr;
      }
    }
    EXPECT_EQ(load(kGradAt, rows), grad) << "the gradient block must not change";
  }
}

// Accepted in cycle 0 with every port ready: the commands go out in cycle 1 (u), row i
// is written in cycle u + 4 + i, and the unit is idle the cycle after the last.
TEST_F(Sgd, CycleCountIsExact) {
  const int rows = 7;
  store(kThetaAt, random_rows(rows, -100, 100));
  store(kGradAt, random_rows(rows, -100, 100));
  const auto [t, written] = update({kThetaAt, kGradAt, rows, 128, false});
  ASSERT_EQ(written.size(), static_cast<size_t>(rows));
  for (int i = 0; i < rows; ++i) EXPECT_EQ(written[i], 5u + i) << "row " << i;
  EXPECT_EQ(tb_->cycle() - 1 - t, 5u + rows) << "first idle cycle";
}

TEST_F(Sgd, SaturatesInsteadOfWrapping) {
  Rows theta(2, kDim), grad(2, kDim);
  theta.row(0).setConstant(32000);
  grad.row(0).setConstant(-32768);  // theta - 0.75 * (-128) = 125 + 96: above the range
  theta.row(1).setConstant(-32000);
  grad.row(1).setConstant(32767);
  store(kThetaAt, theta);
  store(kGradAt, grad);
  update({kThetaAt, kGradAt, 2, 192, false});
  const Rows got = load(kThetaAt, 2);
  EXPECT_TRUE((got.row(0).array() == 32767).all());
  EXPECT_TRUE((got.row(1).array() == -32768).all());
}

// Updates of a quarter LSB: nearest rounding never moves the weights (Q8.8 SGD stalls);
// stochastic rounding moves them by a quarter LSB per step on average.
TEST_F(Sgd, StochasticRoundingMovesTinyUpdatesOnAverage) {
  const int rows = 4, steps = 64;
  Rows theta(rows, kDim), grad(rows, kDim);
  theta.setConstant(1000);
  grad.setConstant(16);  // lr 1/256 * 16/256 = 1/4096 = a quarter of an LSB (1/256)
  const int32_t lr = 4;
  store(kThetaAt, theta);
  store(kGradAt, grad);
  for (int s = 0; s < steps; ++s) update({kThetaAt, kGradAt, rows, lr, false});
  EXPECT_EQ(load(kThetaAt, rows), theta) << "nearest rounding moved a sub-LSB update";

  SgdSystemInputs seed;
  seed.seed_valid = true;
  seed.seed = static_cast<uint32_t>(rng_());
  cycle(seed);
  for (int s = 0; s < steps; ++s) update({kThetaAt, kGradAt, rows, lr, true});
  const Rows got = load(kThetaAt, rows);
  const double moved = (theta - got).cast<double>().mean();
  EXPECT_NEAR(moved, steps * 0.25, 4.0) << "mean move over " << rows * kDim << " weights";
  EXPECT_TRUE(((theta - got).array() >= 0).all()) << "a positive gradient only decreases";
}

// The same seed gives the same weights, bit for bit; another seed gives others.
TEST_F(Sgd, SeedReplaysExactly) {
  const int rows = 3;
  const Rows theta = random_rows(rows, -500, 500), grad = random_rows(rows, -300, 300);
  auto run = [&](uint32_t seed) {
    store(kThetaAt, theta);
    store(kGradAt, grad);
    SgdSystemInputs in;
    in.seed_valid = true;
    in.seed = seed;
    cycle(in);
    for (int s = 0; s < 5; ++s) update({kThetaAt, kGradAt, rows, 3, true});
    return load(kThetaAt, rows);
  };
  const Rows a = run(12345), b = run(12345), c = run(54321);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST_F(Sgd, AbortStopsTheWrites) {
  const int rows = 12;
  const Rows theta = random_rows(rows, -500, 500), grad = random_rows(rows, 100, 300);
  store(kThetaAt, theta);
  store(kGradAt, grad);
  SgdSystemInputs in;
  in.cmd_valid = true;
  in.cmd = {kThetaAt, kGradAt, rows, 256, false};
  cycle(in);
  for (int i = 0; i < 7; ++i) cycle();  // rows 0..2 written (cycles 5, 6, 7)
  SgdSystemInputs abort;
  abort.abort = true;
  EXPECT_TRUE(cycle(abort).upd_valid);  // row 3 is on the write port in the abort cycle
  EXPECT_FALSE(cycle().busy);
  for (int i = 0; i < 2 * rows; ++i) EXPECT_FALSE(cycle().upd_valid);
  const Rows got = load(kThetaAt, rows);
  for (int r = 0; r < rows; ++r) {
    EXPECT_EQ(got(r, 0) != theta(r, 0), r < 4) << "row " << r;
  }
}

// A gradient block past the end of the buffer: the buffer flags it, nothing is written,
// the unit waits for the abort the TPU would send, and then is idle.
TEST_F(Sgd, OutOfRangeBlockWritesNothing) {
  const Rows theta = random_rows(2, -500, 500);
  store(kThetaAt, theta);
  SgdSystemInputs in;
  in.cmd_valid = true;
  in.cmd = {kThetaAt, kDepth - 1, 2, 256, false};
  cycle(in);
  SgdSystemOutputs o;
  for (int i = 0; i < 12; ++i) o = cycle();
  EXPECT_TRUE(o.err);
  EXPECT_EQ(o.err_code, UbError::kReadRange);
  EXPECT_TRUE(o.busy);
  SgdSystemInputs abort;
  abort.abort = true;
  cycle(abort);
  EXPECT_FALSE(cycle().busy);
  EXPECT_EQ(load(kThetaAt, 2), theta);
}

}  // namespace
