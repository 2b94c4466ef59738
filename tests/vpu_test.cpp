// The vector unit at one size (TPU_ARRAY_DIM): every cycle against the golden model,
// and the training paths (bias + activation, MSE gradient, activation derivative)
// against a double-precision Eigen reference rounded once, as the spec rounds.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "Vvpu.h"
#include "golden/vpu_model.hpp"
#include "tb/seed.hpp"
#include "tb/vpu_tb.hpp"
#include "test_support.hpp"

#ifndef TPU_ARRAY_DIM
#error "TPU_ARRAY_DIM must name the array size the model was Verilated with"
#endif

namespace {

using tpu::golden::VpuConfig;
using tpu::golden::VpuInputs;
using Tb = tpu::tb::VpuTb<Vvpu>;
using tpu::test::row_of;
using tpu::test::Rows;
using tpu::test::test_name;

constexpr int kDim = TPU_ARRAY_DIM;
constexpr int kLatency = 4;
constexpr int32_t kMax = 32767, kMin = -32768;
constexpr uint8_t kIdentity = 0, kRelu = 1, kLeaky = 2;
constexpr uint8_t kBias = 1, kAct = 2, kLoss = 4, kDeriv = 8;

// Double-precision reference, rounded once to Q8.8 with ties away from zero (std::round).
int32_t q(double v) {
  return static_cast<int32_t>(std::clamp(std::round(v * 256.0), double{kMin}, double{kMax}));
}
double real(int32_t v) { return v / 256.0; }

// Runs `rows` rows through the unit with per-row configs, then drains; returns the rows
// that came out with the cycle of each.
struct Out {
  uint64_t cycle;
  std::vector<int32_t> data;
};

std::vector<Out> run(Tb& tb, const std::vector<VpuInputs>& ins, int bubble_every = 0) {
  std::vector<Out> out;
  auto step = [&](const VpuInputs& in) {
    const auto o = tb.apply(in);
    if (o.valid) out.push_back({tb.cycle(), o.data});
  };
  for (size_t i = 0; i < ins.size(); ++i) {
    step(ins[i]);
    if (bubble_every && i % bubble_every == 0) step(VpuInputs{});
  }
  for (int i = 0; i < kLatency + 1; ++i) step(VpuInputs{});
  return out;
}

class Vpu : public tpu::tb::RtlFixture<Tb> {
 protected:
  std::unique_ptr<Tb> make_bench(const std::string& test) override {
    return std::make_unique<Tb>(kDim, "vpu" + std::to_string(kDim) + "_" + test);
  }

  Rows random_rows(int rows, int32_t lo, int32_t hi) {
    return tpu::test::random_rows(rng_, rows, kDim, lo, hi);
  }
};

// Forward: H = f(X + b) for every activation, against double precision.
TEST_F(Vpu, BiasThenActivationMatchesReference) {
  const int rows = 12;
  for (uint8_t fn : {kIdentity, kRelu, kLeaky}) {
    for (uint8_t leak : {1, 2, 3}) {
      const Rows x = random_rows(rows, -4000, 4000), b = random_rows(1, -2000, 2000);
      std::vector<VpuInputs> ins;
      for (int r = 0; r < rows; ++r) {
        ins.push_back({.valid = true, .data = row_of(x, r), .bias = row_of(b, 0),
                       .cfg = {.mask = kBias | kAct, .act_fn = fn, .leak_shift = leak}});
      }
      const auto out = run(*tb_, ins, 5);
      ASSERT_EQ(out.size(), static_cast<size_t>(rows));
      for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < kDim; ++c) {
          const double z = real(x(r, c)) + real(b(0, c));
          const double slope = fn == kLeaky ? std::ldexp(1.0, -leak) : 0.0;
          const double h = (fn == kIdentity || z > 0) ? z : slope * z;
          EXPECT_EQ(out[r].data[c], q(h)) << "fn " << int(fn) << " row " << r << " lane " << c;
        }
      }
    }
  }
}

// Last layer: (2/B)(H - Y) .* f'(Z) in one pass, Z carried inside the unit.
TEST_F(Vpu, FusedLossGradientMatchesReference) {
  const int rows = 8;
  for (uint8_t batch_log2 : {0, 1, 2, 3}) {
    const Rows x = random_rows(rows, -1500, 1500), b = random_rows(1, -500, 500);
    const Rows y = random_rows(rows, -1500, 1500);
    std::vector<VpuInputs> ins;
    const VpuConfig cfg{.mask = kBias | kAct | kLoss | kDeriv, .act_fn = kLeaky, .leak_shift = 1,
                        .batch_log2 = batch_log2, .deriv_src = false};
    for (int r = 0; r < rows; ++r) {
      ins.push_back({.valid = true, .data = row_of(x, r), .bias = row_of(b, 0),
                     .target = row_of(y, r), .cfg = cfg});
    }
    const auto out = run(*tb_, ins);
    ASSERT_EQ(out.size(), static_cast<size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < kDim; ++c) {
        // Each stage rounds in the spec, so the reference rounds where the spec does.
        const int32_t z = std::clamp(x(r, c) + b(0, c), kMin, kMax);
        const int32_t h = z > 0 ? z : q(real(z) * 0.5);
        const int32_t g = q((2.0 / (1 << batch_log2)) * (real(h) - real(y(r, c))));
        const int32_t d = z > 0 ? g : q(real(g) * 0.5);
        EXPECT_EQ(out[r].data[c], d) << "B=2^" << int(batch_log2) << " row " << r;
      }
    }
  }
}

// Backward: delta .* f'(s) with s a stored activation (deriv_src = 1).
TEST_F(Vpu, DerivativeFromStoredActivation) {
  const int rows = 10;
  for (uint8_t fn : {kIdentity, kRelu, kLeaky}) {
    const Rows g = random_rows(rows, -3000, 3000), s = random_rows(rows, -300, 300);
    std::vector<VpuInputs> ins;
    for (int r = 0; r < rows; ++r) {
      ins.push_back({.valid = true, .data = row_of(g, r), .deriv = row_of(s, r),
                     .cfg = {.mask = kDeriv, .act_fn = fn, .leak_shift = 2, .deriv_src = true}});
    }
    const auto out = run(*tb_, ins, 3);
    ASSERT_EQ(out.size(), static_cast<size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < kDim; ++c) {
        const double fprime = (fn == kIdentity || s(r, c) > 0) ? 1.0 : (fn == kRelu ? 0.0 : 0.25);
        EXPECT_EQ(out[r].data[c], q(real(g(r, c)) * fprime)) << "fn " << int(fn);
      }
    }
  }
}

TEST_F(Vpu, SaturatesAtBothEnds) {
  const std::vector<int32_t> hi(kDim, kMax), lo(kDim, kMin);
  std::vector<VpuInputs> ins = {
      {.valid = true, .data = hi, .bias = hi, .cfg = {.mask = kBias}},
      {.valid = true, .data = lo, .bias = lo, .cfg = {.mask = kBias}},
      {.valid = true, .data = hi, .target = lo, .cfg = {.mask = kLoss, .batch_log2 = 0}},
      {.valid = true, .data = lo, .target = hi, .cfg = {.mask = kLoss, .batch_log2 = 1}},
  };
  const auto out = run(*tb_, ins);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].data, hi);
  EXPECT_EQ(out[1].data, lo);
  EXPECT_EQ(out[2].data, hi);  // 2 * (max - min) saturates high
  EXPECT_EQ(out[3].data, lo);  // (min - max) at scale 1 is below the range
}

// Every mask with every activation, back to back with changing configurations: the
// latency is exactly 4 whatever the mask, and every cycle matches the golden model.
TEST_F(Vpu, EveryMaskAndActivationBackToBack) {
  std::vector<VpuInputs> ins;
  std::uniform_int_distribution<int> shift(0, 15);
  for (uint8_t fn : {kIdentity, kRelu, kLeaky}) {
    for (uint8_t mask = 0; mask < 16; ++mask) {
      for (bool src : {false, true}) {
        ins.push_back({.valid = true, .data = row_of(random_rows(1, kMin, kMax), 0),
                       .bias = row_of(random_rows(1, kMin, kMax), 0),
                       .target = row_of(random_rows(1, kMin, kMax), 0),
                       .deriv = row_of(random_rows(1, -2, 2), 0),
                       .cfg = {.mask = mask, .act_fn = fn,
                               .leak_shift = static_cast<uint8_t>(shift(rng_)),
                               .batch_log2 = static_cast<uint8_t>(shift(rng_)),
                               .deriv_src = src}});
      }
    }
  }
  const uint64_t t0 = tb_->cycle();
  const auto out = run(*tb_, ins);
  ASSERT_EQ(out.size(), ins.size());
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i].cycle, t0 + i + kLatency);
}

TEST_F(Vpu, RandomStreamMatchesGoldenEveryCycle) {
  std::bernoulli_distribution valid(0.7);
  std::uniform_int_distribution<int> mask(0, 15), fn(0, 2), shift(0, 15), src(0, 1);
  for (int i = 0; i < 3000 && tb_->log().count() == 0; ++i) {
    VpuInputs in{.valid = valid(rng_), .data = row_of(random_rows(1, kMin, kMax), 0),
                 .bias = row_of(random_rows(1, kMin, kMax), 0),
                 .target = row_of(random_rows(1, kMin, kMax), 0),
                 .deriv = row_of(random_rows(1, -3, 3), 0),
                 .cfg = {.mask = static_cast<uint8_t>(mask(rng_)),
                         .act_fn = static_cast<uint8_t>(fn(rng_)),
                         .leak_shift = static_cast<uint8_t>(shift(rng_)),
                         .batch_log2 = static_cast<uint8_t>(shift(rng_)),
                         .deriv_src = src(rng_) == 1}};
    tb_->apply(in);
  }
}

}  // namespace
