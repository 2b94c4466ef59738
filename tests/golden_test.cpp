// Unit tests of the golden model alone. Every expected number below was worked out by hand from
// docs/architecture.md (the working is in the comments), never printed by the code under test:
// these tests are what makes the golden model worth trusting as the RTL's second opinion.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <random>
#include <stdexcept>
#include <vector>

#include "golden/fixed_point.hpp"
#include "golden/pe_model.hpp"
#include "golden/reference.hpp"
#include "golden/systolic_array_model.hpp"
#include "tb/seed.hpp"

namespace tpu::golden {
namespace {

// ---- fixed point ------------------------------------------------------------------------------

TEST(FixedPoint, RoundShiftSpecExamples) {
  // x in units of 2^-16, result in units of 2^-8 (Q8.8 LSBs).
  EXPECT_EQ(round_shift(128, 8), 1);    // +0.5 LSB: tie, away from zero
  EXPECT_EQ(round_shift(127, 8), 0);    // just below the tie
  EXPECT_EQ(round_shift(-128, 8), -1);  // -0.5 LSB: tie, away from zero
  EXPECT_EQ(round_shift(-127, 8), 0);
  EXPECT_EQ(round_shift(-384, 8), -2);  // -1.5 LSB
  EXPECT_EQ(round_shift(384, 8), 2);    // +1.5 LSB
}

TEST(FixedPoint, RoundShiftRoundsToNearest) {
  EXPECT_EQ(round_shift(0, 8), 0);
  EXPECT_EQ(round_shift(383, 8), 1);      // 1.496 LSB
  EXPECT_EQ(round_shift(385, 8), 2);      // 1.504 LSB
  EXPECT_EQ(round_shift(-383, 8), -1);    // (-383 + 127) >>> 8 = floor(-1.0) = -1
  EXPECT_EQ(round_shift(-385, 8), -2);    // (-385 + 127) >>> 8 = floor(-1.008) = -2
  EXPECT_EQ(round_shift(255, 8), 1);      // 0.996 LSB
  EXPECT_EQ(round_shift(-255, 8), -1);    // (-255 + 127) >>> 8 = -128 >>> 8 = -1
  EXPECT_EQ(round_shift(65536, 8), 256);  // exact values pass through
  EXPECT_EQ(round_shift(-65536, 8), -256);
  EXPECT_EQ(round_shift(2, 2), 1);  // F = 2: 0.5 ties away
  EXPECT_EQ(round_shift(-2, 2), -1);
}

TEST(FixedPoint, RoundShiftCannotOverflow) {
  // (2^63 - 1 + 128) >>> 8 = floor(2^55 + 127/256) = 2^55.
  EXPECT_EQ(round_shift(std::numeric_limits<int64_t>::max(), 8), int64_t{1} << 55);
  // (-2^63 + 127) >>> 8 = floor(-2^55 + 127/256) = -2^55.
  EXPECT_EQ(round_shift(std::numeric_limits<int64_t>::min(), 8), -(int64_t{1} << 55));
}

TEST(FixedPoint, RoundShiftZeroFracBitsIsIdentity) {
  EXPECT_EQ(round_shift(-7, 0), -7);
  EXPECT_EQ(round_shift(7, 0), 7);
}

TEST(FixedPoint, SaturateBothEnds) {
  EXPECT_EQ(saturate(32767, 16), 32767);
  EXPECT_EQ(saturate(32768, 16), 32767);
  EXPECT_EQ(saturate(1'000'000, 16), 32767);
  EXPECT_EQ(saturate(-32768, 16), -32768);
  EXPECT_EQ(saturate(-32769, 16), -32768);
  EXPECT_EQ(saturate(-1'000'000, 16), -32768);
  EXPECT_EQ(saturate(0, 16), 0);
  EXPECT_EQ(saturate(-1, 1), -1);  // a 1-bit signed value is -1 or 0
  EXPECT_EQ(saturate(1, 1), 0);
  EXPECT_EQ(saturate(std::numeric_limits<int64_t>::min(), 64), std::numeric_limits<int64_t>::min());
}

TEST(FixedPoint, RoundSatRoundsThenSaturates) {
  EXPECT_EQ(round_sat(65536), 256);                // 1.0 * 1.0 = 1.0
  EXPECT_EQ(round_sat(32767 * 256), 32767);        // largest value, exactly
  EXPECT_EQ(round_sat(32767 * 256 + 127), 32767);  // rounds down to it
  EXPECT_EQ(round_sat(32767 * 256 + 128), 32767);  // rounds up to 32768, saturates
  EXPECT_EQ(round_sat(-32768 * 256), -32768);
  EXPECT_EQ(round_sat(-32768 * 256 - 127), -32768);     // (-8388735 + 127) >>> 8 = -32768
  EXPECT_EQ(round_sat(-32768 * 256 - 128), -32768);     // rounds to -32769, saturates
  EXPECT_EQ(round_sat(int64_t{32767} * 32767), 32767);  // 127.99^2, far out of range
  EXPECT_EQ(round_sat(int64_t{-32768} * 32767), -32768);
}

TEST(FixedPoint, ToFixedRoundsAndSaturates) {
  EXPECT_EQ(to_fixed(1.0), 256);
  EXPECT_EQ(to_fixed(-1.0), -256);
  EXPECT_EQ(to_fixed(0.5), 128);
  EXPECT_EQ(to_fixed(1.0 / 512), 1);  // half an LSB: tie, away from zero
  EXPECT_EQ(to_fixed(-1.0 / 512), -1);
  EXPECT_EQ(to_fixed(1.0 / 1024), 0);  // a quarter LSB
  EXPECT_EQ(to_fixed(3.14159), 804);   // 3.14159 * 256 = 804.247
  EXPECT_EQ(to_fixed(127.99609375), 32767);
  EXPECT_EQ(to_fixed(128.0), 32767);  // saturates
  EXPECT_EQ(to_fixed(-128.0), -32768);
  EXPECT_EQ(to_fixed(-200.0), -32768);
  EXPECT_EQ(to_fixed(std::numeric_limits<double>::infinity()), 32767);
  EXPECT_EQ(to_fixed(-std::numeric_limits<double>::infinity()), -32768);
  EXPECT_THROW(to_fixed(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
}

TEST(FixedPoint, ToDouble) {
  EXPECT_EQ(to_double(256), 1.0);
  EXPECT_EQ(to_double(1), 0.00390625);
  EXPECT_EQ(to_double(-32768), -128.0);
  EXPECT_EQ(to_double(32767), 127.99609375);
  EXPECT_EQ(to_double(-64), -0.25);
}

TEST(FixedPoint, OtherFormats) {
  constexpr Format kQ4_4{8, 4};
  EXPECT_EQ(to_fixed(1.5, kQ4_4), 24);
  EXPECT_EQ(to_fixed(100.0, kQ4_4), 127);
  EXPECT_EQ(to_fixed(-100.0, kQ4_4), -128);
  EXPECT_EQ(to_double(24, kQ4_4), 1.5);
  EXPECT_EQ(round_sat(24 * 24, kQ4_4), 36);  // 1.5 * 1.5 = 2.25 = 36/16
  EXPECT_EQ(round_sat(8, kQ4_4), 1);         // 8/256 = half of 1/16: tie, away from zero
}

TEST(FixedPoint, ProductIsExact) {
  EXPECT_EQ(product(-32768, -32768), int64_t{1} << 30);  // the largest magnitude product
  EXPECT_EQ(product(32767, -32768), -1073709056);
  EXPECT_EQ(product(384, 512), 196608);
}

TEST(FixedPoint, WrapKeepsLowBitsSignExtended) {
  EXPECT_EQ(wrap((int64_t{1} << 32) + 5, 32), 5);
  EXPECT_EQ(wrap(int64_t{1} << 31, 32), -(int64_t{1} << 31));
  EXPECT_EQ(wrap(-1, 35), -1);
  EXPECT_EQ(wrap(int64_t{1} << 34, 35), -(int64_t{1} << 34));
  EXPECT_EQ(wrap(int64_t{1} << 35, 35), 0);
  EXPECT_EQ(wrap(0xFF, 8), -1);
  EXPECT_EQ(wrap(-5, 64), -5);
}

TEST(FixedPoint, RejectsBadArguments) {
  EXPECT_THROW(round_shift(1, -1), std::invalid_argument);
  EXPECT_THROW(round_shift(1, 63), std::invalid_argument);
  EXPECT_THROW(saturate(1, 0), std::invalid_argument);
  EXPECT_THROW(wrap(1, 65), std::invalid_argument);
  EXPECT_THROW(to_fixed(1.0, Format{33, 8}), std::invalid_argument);
  EXPECT_THROW(to_double(1, Format{16, 17}), std::invalid_argument);
}

// ---- one PE -----------------------------------------------------------------------------------

constexpr int kSumWidth8 = 35;  // 2*16 + clog2(8)

TEST(PeModel, SwitchUsesShadowAndPromotesIt) {
  PeModel pe(kSumWidth8);
  pe.step({.load = true, .w = 512});  // shadow = 2.0, nothing computed
  EXPECT_EQ(pe.state().shadow, 512);
  EXPECT_EQ(pe.state().active, 0);
  EXPECT_FALSE(pe.state().valid);

  // The first row of a tile multiplies by the shadow weight and makes it active.
  pe.step({.valid = true, .sw = true, .act = 256, .psum = 100});
  EXPECT_TRUE(pe.state().valid);
  EXPECT_TRUE(pe.state().sw);
  EXPECT_EQ(pe.state().act, 256);
  EXPECT_EQ(pe.state().psum, 100 + 256 * 512);  // 131172
  EXPECT_EQ(pe.state().active, 512);

  // Later rows use the active weight.
  pe.step({.valid = true, .act = -256, .psum = 0});
  EXPECT_FALSE(pe.state().sw);
  EXPECT_EQ(pe.state().psum, -131072);
  EXPECT_EQ(pe.state().active, 512);
}

TEST(PeModel, HoldsWhileIdle) {
  PeModel pe(kSumWidth8);
  pe.step({.load = true, .w = 768});
  pe.step({.valid = true, .sw = true, .act = -3, .psum = 7});  // psum = 7 - 3*768 = -2297
  // valid low: only valid_q (and a loaded shadow) may change.
  pe.step({.valid = false, .sw = false, .act = 999, .psum = 5, .load = true, .w = -1});
  EXPECT_FALSE(pe.state().valid);
  EXPECT_TRUE(pe.state().sw);
  EXPECT_EQ(pe.state().act, -3);
  EXPECT_EQ(pe.state().psum, -2297);
  EXPECT_EQ(pe.state().active, 768);
  EXPECT_EQ(pe.state().shadow, -1);
}

TEST(PeModel, SameEdgeLoadAndSwitch) {
  PeModel pe(kSumWidth8);
  pe.step({.load = true, .w = 10});
  // The switch takes the old shadow (10) and uses it; the load writes the new one (20).
  pe.step({.valid = true, .sw = true, .act = 3, .psum = 0, .load = true, .w = 20});
  EXPECT_EQ(pe.state().psum, 30);
  EXPECT_EQ(pe.state().active, 10);
  EXPECT_EQ(pe.state().shadow, 20);
}

TEST(PeModel, PsumWrapsLikeASumWidthRegister) {
  PeModel pe(33);
  pe.step({.load = true, .w = 1});
  // 2^32 - 1 is the largest 33-bit value; adding 1*1 wraps to -2^32.
  pe.step({.valid = true, .sw = true, .act = 1, .psum = (int64_t{1} << 32) - 1});
  EXPECT_EQ(pe.state().psum, -(int64_t{1} << 32));
}

TEST(PeModel, ResetClearsEverything) {
  PeModel pe(kSumWidth8);
  pe.step({.load = true, .w = 5});
  pe.step({.valid = true, .sw = true, .act = 2, .psum = 1, .load = true, .w = 6});
  pe.reset();
  const PeState& s = pe.state();
  EXPECT_FALSE(s.valid);
  EXPECT_FALSE(s.sw);
  EXPECT_EQ(s.act, 0);
  EXPECT_EQ(s.psum, 0);
  EXPECT_EQ(s.active, 0);
  EXPECT_EQ(s.shadow, 0);
}

TEST(PeModel, RejectsValuesThePortsCannotCarry) {
  EXPECT_THROW(PeModel(31), std::invalid_argument);  // cannot hold one 32-bit product
  PeModel pe(kSumWidth8);
  EXPECT_THROW(pe.step({.act = 32768}), std::invalid_argument);
  EXPECT_THROW(pe.step({.w = -32769}), std::invalid_argument);
  EXPECT_THROW(pe.step({.psum = int64_t{1} << 34}), std::invalid_argument);
}

// ---- the array --------------------------------------------------------------------------------

// Collects the inputs of every cycle, runs them through a model and records what the outputs
// show during each cycle: seen[n] is cycle n (seen[0] is straight after reset).
class Bench {
 public:
  explicit Bench(int dim) : model_(dim) {}

  void load(int cycle, unsigned row, std::vector<int32_t> data) {
    ArrayInputs& in = at(cycle);
    in.w_valid = true;
    in.w_row = row;
    in.w_data = std::move(data);
  }
  void present(int cycle, std::vector<int32_t> act, bool first_of_tile) {
    ArrayInputs& in = at(cycle);
    in.in_valid = true;
    in.in_switch = first_of_tile;
    in.in_act = std::move(act);
  }

  // Runs `cycles` edges; `after_edge(n)` runs after the edge that closes cycle n.
  std::vector<ArrayOutputs> run(int cycles, const std::function<void(int)>& after_edge = {}) {
    std::vector<ArrayOutputs> seen{model_.outputs()};
    for (int n = 0; n < cycles; ++n) {
      seen.push_back(
          model_.step(n < static_cast<int>(inputs_.size()) ? inputs_[n] : ArrayInputs{}));
      if (after_edge) after_edge(n);
    }
    return seen;
  }

  SystolicArrayModel& model() { return model_; }

 private:
  ArrayInputs& at(int cycle) {
    if (cycle >= static_cast<int>(inputs_.size())) inputs_.resize(cycle + 1);
    return inputs_[cycle];
  }

  SystolicArrayModel model_;
  std::vector<ArrayInputs> inputs_;
};

TEST(SystolicArray, DerivedWidths) {
  EXPECT_EQ(SystolicArrayModel(2).sum_width(), 33);
  EXPECT_EQ(SystolicArrayModel(5).sum_width(), 35);
  EXPECT_EQ(SystolicArrayModel(8).sum_width(), 35);
  EXPECT_EQ(SystolicArrayModel(16).sum_width(), 36);
  EXPECT_EQ(SystolicArrayModel(8).latency(), 16);
  EXPECT_EQ(SystolicArrayModel(3).latency(), 6);
  EXPECT_THROW(SystolicArrayModel(1), std::invalid_argument);
  EXPECT_THROW(SystolicArrayModel(17), std::invalid_argument);
}

TEST(SystolicArray, OneTileAppearsAtCycleNPlus2N) {
  // W = [[1.0, 2.0], [0.5, -1.0]] in Q8.8.
  Bench bench(2);
  bench.load(0, 0, {256, 512});
  bench.load(1, 1, {128, -256});
  constexpr int kN = 2;
  constexpr int kFirst = 2;  // cycle n of the tile's first row
  // Row 0: a = [1.5, 2.0]: y0 = 384*256 + 512*128 = 163840 -> 640 (2.5),
  //                         y1 = 384*512 - 512*256 = 65536 -> 256 (1.0).
  bench.present(kFirst, {384, 512}, true);
  // Row 1: a = [-1.5, 1 LSB]: y0 = -384*256 + 1*128 = -98176 = -383.5 LSB -> tie -> -384,
  //                            y1 = -384*512 - 1*256 = -196864 -> -769 exactly.
  bench.present(kFirst + 1, {-384, 1}, false);

  const auto seen = bench.run(kFirst + 2 * kN + 6);
  for (int n = 0; n < static_cast<int>(seen.size()); ++n) {
    const bool expect_valid = n == kFirst + 2 * kN || n == kFirst + 1 + 2 * kN;
    EXPECT_EQ(seen[n].out_valid, expect_valid) << "cycle " << n;
  }
  EXPECT_EQ(seen[kFirst + 2 * kN].out_data, (std::vector<int32_t>{640, 256}));
  EXPECT_EQ(seen[kFirst + 1 + 2 * kN].out_data, (std::vector<int32_t>{-384, -769}));
}

TEST(SystolicArray, SpecTimingExampleBackToBackTiles) {
  // The diagram in "Double buffering and the switch", N = 2. Its cycle d is our cycle d + 2:
  // cycles 0 and 1 load tile A's weights first.
  constexpr int kP = 2;
  // WA = [[1, 2], [3, 4]], WB = [[2, 1], [-1, 0.5]] in Q8.8.
  const std::vector<std::vector<int32_t>> wa = {{256, 512}, {768, 1024}};
  const std::vector<std::vector<int32_t>> wb = {{512, 256}, {-256, 128}};
  Bench bench(2);
  bench.load(0, 0, wa[0]);
  bench.load(1, 1, wa[1]);
  bench.present(kP + 0, {256, 512}, true);       // a0 = [1, 2]
  bench.load(kP + 0, 0, wb[0]);                  // WB0 with a0S, as in the diagram
  bench.present(kP + 1, {-768, 64}, false);      // a1 = [-3, 0.25]
  bench.load(kP + 1, 1, wb[1]);                  // WB1 with a1
  bench.present(kP + 2, {384, -512}, true);      // b0 = [1.5, -2]
  bench.present(kP + 3, {25600, 25600}, false);  // b1 = [100, 100]

  // The shadow writes and switches of the diagram, checked after the edges that close
  // diagram cycles 0, 1 and 2.
  const auto check_edges = [&](int n) {
    const SystolicArrayModel& m = bench.model();
    switch (n - kP) {
      case 0:  // PE(0,0): A switches in and WB0 is written at the same edge.
        EXPECT_EQ(m.pe(0, 0).active, wa[0][0]);
        EXPECT_EQ(m.pe(0, 0).shadow, wb[0][0]);
        EXPECT_EQ(m.pe(0, 1).shadow, wa[0][1]);  // column 1 sees WB0 one edge later
        EXPECT_EQ(m.pe(1, 0).shadow, wa[1][0]);
        break;
      case 1:
        EXPECT_EQ(m.pe(0, 1).active, wa[0][1]);
        EXPECT_EQ(m.pe(0, 1).shadow, wb[0][1]);
        EXPECT_EQ(m.pe(1, 0).active, wa[1][0]);
        EXPECT_EQ(m.pe(1, 0).shadow, wb[1][0]);
        EXPECT_EQ(m.pe(1, 1).active, 0);  // A's switch reaches PE(1,1) one edge later
        EXPECT_EQ(m.pe(1, 1).shadow, wa[1][1]);
        break;
      case 2:  // PE(1,1) switches to A and takes WB1 at the same edge; B reaches PE(0,0).
        EXPECT_EQ(m.pe(1, 1).active, wa[1][1]);
        EXPECT_EQ(m.pe(1, 1).shadow, wb[1][1]);
        EXPECT_EQ(m.pe(0, 0).active, wb[0][0]);
        break;
      default:
        break;
    }
  };
  const auto seen = bench.run(kP + 12, check_edges);

  // Outputs in diagram cycles 4, 5, 6, 7: no gap across the tile boundary.
  for (int n = 0; n < static_cast<int>(seen.size()); ++n) {
    EXPECT_EQ(seen[n].out_valid, n >= kP + 4 && n <= kP + 7) << "cycle " << n;
  }
  // y(a0) = [1*1 + 2*3, 1*2 + 2*4] = [7, 10]: 256*256 + 512*768 = 458752 -> 1792,
  //                                          256*512 + 512*1024 = 655360 -> 2560.
  EXPECT_EQ(seen[kP + 4].out_data, (std::vector<int32_t>{1792, 2560}));
  // y(a1) = [-3 + 0.75, -6 + 1] = [-2.25, -5]: -147456 -> -576, -327680 -> -1280.
  EXPECT_EQ(seen[kP + 5].out_data, (std::vector<int32_t>{-576, -1280}));
  // y(b0) = [3 + 2, 1.5 - 1] = [5, 0.5]: 196608 + 131072 -> 1280, 98304 - 65536 -> 128.
  EXPECT_EQ(seen[kP + 6].out_data, (std::vector<int32_t>{1280, 128}));
  // y(b1) = [200 - 100, 100 + 50] = [100, 150]: 6553600 -> 25600; 150 saturates to 32767.
  EXPECT_EQ(seen[kP + 7].out_data, (std::vector<int32_t>{25600, 32767}));
}

TEST(SystolicArray, RejectsWhatTheRtlAsserts) {
  SystolicArrayModel m(2);
  EXPECT_THROW(m.step({.w_valid = true, .w_row = 2}), std::invalid_argument);
  EXPECT_NO_THROW(m.step({.w_valid = false, .w_row = 7}));  // w_row is ignored without w_valid
  EXPECT_THROW(m.step({.in_valid = false, .in_switch = true}), std::invalid_argument);
  EXPECT_THROW(m.step({.in_valid = true, .in_act = {1, 2, 3}}), std::invalid_argument);
  EXPECT_THROW(m.step({.w_valid = true, .w_data = {1}}), std::invalid_argument);
  EXPECT_THROW(m.step({.in_valid = true, .in_act = {40000, 0}}), std::invalid_argument);
  EXPECT_THROW(m.pe(2, 0), std::out_of_range);
  // A rejected step leaves the state alone.
  EXPECT_THROW(m.step({.w_valid = true, .w_row = 0, .w_data = {5, 70000}}), std::invalid_argument);
  EXPECT_EQ(m.pe(0, 0).shadow, 0);
}

TEST(SystolicArray, ResetCancelsATileInFlight) {
  Bench bench(2);
  bench.load(0, 0, {256, 256});
  bench.load(1, 1, {256, 256});
  bench.present(2, {256, 256}, true);
  bench.present(3, {256, 256}, false);
  bench.run(4);  // both rows are inside the array, neither has come out
  bench.model().reset();
  for (int r = 0; r < 2; ++r) {
    for (int c = 0; c < 2; ++c) {
      EXPECT_EQ(bench.model().pe(r, c).active, 0);
      EXPECT_EQ(bench.model().pe(r, c).shadow, 0);
    }
  }
  for (int n = 0; n < 10; ++n) EXPECT_FALSE(bench.model().step({}).out_valid) << "cycle " << n;
}

// ---- the reference ----------------------------------------------------------------------------

TEST(Reference, MatmulFixedHandComputed) {
  MatrixI a(2, 3);
  a << 256, -128, 512,  // [1, -0.5, 2]
      64, 768, -256;    // [0.25, 3, -1]
  MatrixI w(3, 2);
  w << 128, 256,  // [0.5, 1]
      512, -384,  // [2, -1.5]
      1, 25600;   // [1 LSB, 100]
  MatrixI expected(2, 2);
  expected << -126, 32767,  // 32768 - 65536 + 512 = -32256 -> -126; 201.75 saturates
      1567, -26688;         // 8192 + 393216 - 256 = 401152 -> 1567; -104.25 -> -26688
  EXPECT_EQ(matmul_fixed(a, w), expected);
}

TEST(Reference, MatmulFixedRoundsTiesAwayFromZero) {
  MatrixI a(4, 2);
  a << 3, 1, -3, 1, -3, -1, 2, 1;
  MatrixI w(2, 1);
  w << 43, 1;
  MatrixI expected(4, 1);
  expected << 1,  // 130: above the tie
      -1,         // -128: a tie, away from zero
      -1,         // -130
      0;          // 87
  EXPECT_EQ(matmul_fixed(a, w), expected);
  EXPECT_THROW(matmul_fixed(a, MatrixI(3, 1)), std::invalid_argument);
  MatrixI too_big(1, 2);
  too_big << 32768, 0;
  EXPECT_THROW(matmul_fixed(too_big, w), std::invalid_argument);
}

TEST(Reference, RealConversions) {
  Eigen::MatrixXd real(2, 2);
  real << 1.5, -0.25, 200.0, 1.0 / 512;
  MatrixI fixed(2, 2);
  fixed << 384, -64, 32767, 1;
  EXPECT_EQ(from_real(real), fixed);
  Eigen::MatrixXd back(2, 2);
  back << 1.5, -0.25, 127.99609375, 0.00390625;
  EXPECT_EQ(to_real(fixed), back);
}

// ---- the array against the reference ----------------------------------------------------------

// Random tiles, back to back, on the tests' schedule ("in the cycle a tile starts, begin loading
// the next tile's rows 0..N-1"). Every output row must come out exactly 2N cycles after its
// input row and equal the reference product. The seed is printed; TPU_SEED replays it.
TEST(SystolicArray, MatchesReferenceOnRandomTiles) {
  const uint64_t seed = tpu::tb::test_seed("SystolicArray.MatchesReferenceOnRandomTiles");
  SCOPED_TRACE("TPU_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const auto uniform = [&rng](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };

  for (const int n : {2, 3, 8, 16}) {
    SCOPED_TRACE("dim=" + std::to_string(n));
    constexpr int kTiles = 5;
    // Small values mostly stay in range; full-range ones mostly saturate.
    const auto random_matrix = [&](int rows) {
      const int mag = uniform(0, 1) == 0 ? 400 : 32768;
      MatrixI m(rows, n);
      for (Eigen::Index i = 0; i < m.size(); ++i) m(i) = uniform(-mag, std::min(mag, 32767));
      return m;
    };
    const auto row_of = [](const MatrixI& m, Eigen::Index i) {
      std::vector<int32_t> v(static_cast<std::size_t>(m.cols()));
      for (Eigen::Index j = 0; j < m.cols(); ++j) v[j] = static_cast<int32_t>(m(i, j));
      return v;
    };

    Bench bench(n);
    std::map<int, std::vector<int32_t>> expected;  // output cycle -> row
    std::vector<MatrixI> weights;
    for (int i = 0; i < kTiles; ++i) weights.push_back(random_matrix(n));
    for (int r = 0; r < n; ++r) bench.load(r, r, row_of(weights[0], r));
    int start = n;  // the first tile may start once its last weight row is on its way
    for (int i = 0; i < kTiles; ++i) {
      // One weight row per cycle: a tile shorter than N rows waits for the next load.
      const int rows = uniform(1, n + 3);
      const int gap = std::max(0, n - rows) + uniform(0, 1);
      const MatrixI acts = random_matrix(rows);
      const MatrixI ys = matmul_fixed(acts, weights[i]);
      for (int j = 0; j < rows; ++j) {
        bench.present(start + j, row_of(acts, j), j == 0);
        expected[start + j + 2 * n] = row_of(ys, j);
      }
      if (i + 1 < kTiles) {
        for (int r = 0; r < n; ++r) bench.load(start + r, r, row_of(weights[i + 1], r));
      }
      start += rows + gap;
    }

    const auto seen = bench.run(start + 2 * n + 4);
    int valid_cycles = 0;
    for (int c = 0; c < static_cast<int>(seen.size()); ++c) {
      const auto it = expected.find(c);
      ASSERT_EQ(seen[c].out_valid, it != expected.end()) << "cycle " << c;
      if (it == expected.end()) continue;
      ++valid_cycles;
      EXPECT_EQ(seen[c].out_data, it->second) << "cycle " << c;
    }
    EXPECT_EQ(valid_cycles, static_cast<int>(expected.size()));
  }
}

}  // namespace
}  // namespace tpu::golden
