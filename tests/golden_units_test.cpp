// Unit tests of the golden models of the units around the array (rshift_round, the VPU, the
// gradient-descent unit). Every expected number below was worked out by hand from
// docs/architecture.md (the working is in the comments), never printed by the code under test.
// Values are in Q8.8 LSBs (units of 1/256) unless a comment says otherwise.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "golden/fixed_point.hpp"
#include "golden/sgd_model.hpp"
#include "golden/vpu_model.hpp"

namespace tpu::golden {
namespace {

// ---- rshift_round ---------------------------------------------------------------------------

TEST(RshiftRound, ZeroShiftIsIdentity) {
  EXPECT_EQ(rshift_round(-7, 0), -7);
  EXPECT_EQ(rshift_round(7, 0), 7);
  EXPECT_EQ(rshift_round(0, 0), 0);
}

TEST(RshiftRound, TiesGoAwayFromZero) {
  EXPECT_EQ(rshift_round(1, 1), 1);         // 0.5: (1 + 1) >>> 1 = 1
  EXPECT_EQ(rshift_round(-1, 1), -1);       // -0.5: (-1 + 1 - 1) >>> 1 = floor(-0.5) = -1
  EXPECT_EQ(rshift_round(3, 1), 2);         // 1.5: (3 + 1) >>> 1 = 2
  EXPECT_EQ(rshift_round(-3, 1), -2);       // -1.5: (-3 + 0) >>> 1 = floor(-1.5) = -2
  EXPECT_EQ(rshift_round(6, 2), 2);         // 1.5: (6 + 2) >>> 2 = 2
  EXPECT_EQ(rshift_round(-6, 2), -2);       // -1.5: (-6 + 1) >>> 2 = floor(-1.25) = -2
  EXPECT_EQ(rshift_round(16384, 15), 1);    // 0.5: 32768 >>> 15 = 1
  EXPECT_EQ(rshift_round(-16384, 15), -1);  // -0.5: (-16384 + 16383) >>> 15 = -1 >>> 15 = -1
}

TEST(RshiftRound, RoundsToNearestOtherwise) {
  EXPECT_EQ(rshift_round(2, 1), 1);
  EXPECT_EQ(rshift_round(5, 2), 1);        // 1.25: 7 >>> 2 = 1
  EXPECT_EQ(rshift_round(-5, 2), -1);      // -1.25: (-5 + 1) >>> 2 = -4 >>> 2 = -1
  EXPECT_EQ(rshift_round(7, 2), 2);        // 1.75: 9 >>> 2 = 2
  EXPECT_EQ(rshift_round(-7, 2), -2);      // -1.75: (-7 + 1) >>> 2 = floor(-1.5) = -2
  EXPECT_EQ(rshift_round(16383, 15), 0);   // just under 0.5: 32767 >>> 15 = 0
  EXPECT_EQ(rshift_round(-16383, 15), 0);  // (-16383 + 16383) >>> 15 = 0
  EXPECT_EQ(rshift_round(-50, 2), -13);    // -12.5: (-50 + 1) >>> 2 = floor(-12.25) = -13
}

TEST(RshiftRound, CannotOverflow) {
  // (2^63 - 1 + 2^14) >>> 15 = 2^48 + floor((2^14 - 1) / 2^15) = 2^48.
  EXPECT_EQ(rshift_round(std::numeric_limits<int64_t>::max(), 15), int64_t{1} << 48);
}

TEST(RshiftRound, RejectsShiftsOutsideTheField) {
  EXPECT_THROW(rshift_round(1, -1), std::invalid_argument);
  EXPECT_THROW(rshift_round(1, 16), std::invalid_argument);
}

// ---- vpu_lane -------------------------------------------------------------------------------

VpuConfig cfg(uint8_t mask, uint8_t act_fn = kActIdentity, uint8_t leak_shift = 0,
              uint8_t batch_log2 = 0, bool deriv_src = false) {
  return VpuConfig{mask, act_fn, leak_shift, batch_log2, deriv_src};
}

TEST(VpuLane, EmptyMaskBypassesEverything) {
  for (uint8_t act = 0; act < 4; ++act) {
    EXPECT_EQ(vpu_lane(cfg(0, act, 3, 2, true), -123, 1000, 77, -5), -123);
  }
}

TEST(VpuLane, BiasAddsAndSaturates) {
  EXPECT_EQ(vpu_lane(cfg(kMaskBias), 100, -300, 0, 0), -200);
  EXPECT_EQ(vpu_lane(cfg(kMaskBias), 32000, 1000, 0, 0), 32767);     // 33000 saturates
  EXPECT_EQ(vpu_lane(cfg(kMaskBias), -32000, -1000, 0, 0), -32768);  // -33000 saturates
  EXPECT_EQ(vpu_lane(cfg(kMaskBias), 32767, 0, 0, 0), 32767);
  EXPECT_EQ(vpu_lane(cfg(0), 100, -300, 0, 0), 100);  // bit clear: bias ignored
}

TEST(VpuLane, EveryActivation) {
  const uint8_t act = kMaskAct;
  EXPECT_EQ(vpu_lane(cfg(act, kActIdentity), -50, 0, 0, 0), -50);
  EXPECT_EQ(vpu_lane(cfg(act, kActRelu), -50, 0, 0, 0), 0);
  EXPECT_EQ(vpu_lane(cfg(act, kActRelu), 50, 0, 0, 0), 50);
  EXPECT_EQ(vpu_lane(cfg(act, kActRelu), 0, 0, 0, 0), 0);
  EXPECT_EQ(vpu_lane(cfg(act, kActRelu), -32768, 0, 0, 0), 0);
  // Leaky ReLU, slope 2^-2: -50/4 = -12.5 ties away to -13; -51/4 = -12.75 -> -13;
  // -49/4 = -12.25 -> -12: (-49 + 1) >>> 2 = -12.
  EXPECT_EQ(vpu_lane(cfg(act, kActLeakyRelu, 2), -50, 0, 0, 0), -13);
  EXPECT_EQ(vpu_lane(cfg(act, kActLeakyRelu, 2), -51, 0, 0, 0), -13);
  EXPECT_EQ(vpu_lane(cfg(act, kActLeakyRelu, 2), -49, 0, 0, 0), -12);
  EXPECT_EQ(vpu_lane(cfg(act, kActLeakyRelu, 2), 50, 0, 0, 0), 50);
  EXPECT_EQ(vpu_lane(cfg(act, kActLeakyRelu, 0), -50, 0, 0, 0), -50);     // slope 1
  EXPECT_EQ(vpu_lane(cfg(act, kActLeakyRelu, 15), -32768, 0, 0, 0), -1);  // -1.0 exactly
  EXPECT_EQ(vpu_lane(cfg(act, 3), -50, 0, 0, 0), -50);                    // reserved: identity
  EXPECT_EQ(vpu_lane(cfg(0, kActRelu), -50, 0, 0, 0), -50);               // bit clear: no ReLU
}

TEST(VpuLane, LossScaleForEachBatchSize) {
  const uint8_t loss = kMaskLoss;
  // B = 1: 2 * (300 - 100) = 400.
  EXPECT_EQ(vpu_lane(cfg(loss, 0, 0, 0), 300, 0, 100, 0), 400);
  // B = 2: 2/2 * 200 = rshift_round(200, 0) = 200.
  EXPECT_EQ(vpu_lane(cfg(loss, 0, 0, 1), 300, 0, 100, 0), 200);
  // B = 4: 201 / 2 = 100.5 -> 101; -201 / 2 = -100.5 -> -101 (ties away from zero).
  EXPECT_EQ(vpu_lane(cfg(loss, 0, 0, 2), 301, 0, 100, 0), 101);
  EXPECT_EQ(vpu_lane(cfg(loss, 0, 0, 2), -100, 0, 101, 0), -101);
  EXPECT_EQ(vpu_lane(cfg(loss, 0, 0, 2), 300, 0, 100, 0), 100);
  // B = 8: 202 / 4 = 50.5 -> 51.
  EXPECT_EQ(vpu_lane(cfg(loss, 0, 0, 3), 302, 0, 100, 0), 51);
  EXPECT_EQ(vpu_lane(cfg(0, 0, 0, 0), 300, 0, 100, 0), 300);  // bit clear: passes x2 on
}

TEST(VpuLane, LossSaturatesAtBothEnds) {
  const uint8_t loss = kMaskLoss;
  // 32767 - (-32768) = 65535 needs 17 bits: exact, then 2 * 65535 = 131070 saturates.
  EXPECT_EQ(vpu_lane(cfg(loss, 0, 0, 0), 32767, 0, -32768, 0), 32767);
  EXPECT_EQ(vpu_lane(cfg(loss, 0, 0, 0), -32768, 0, 32767, 0), -32768);
  EXPECT_EQ(vpu_lane(cfg(loss, 0, 0, 1), 32767, 0, -32768, 0), 32767);   // 65535 saturates
  EXPECT_EQ(vpu_lane(cfg(loss, 0, 0, 1), -32768, 0, 32767, 0), -32768);  // -65535 saturates
  // B = 4: 65535 / 2 = 32767.5 -> 32768 saturates; -65535 / 2 -> -32768 fits.
  EXPECT_EQ(vpu_lane(cfg(loss, 0, 0, 2), 32767, 0, -32768, 0), 32767);
  EXPECT_EQ(vpu_lane(cfg(loss, 0, 0, 2), -32768, 0, 32767, 0), -32768);
  // B = 2^15: 65535 / 2^14 = 3.99994 -> (65535 + 8192) >>> 14 = 73727 >>> 14 = 4.
  EXPECT_EQ(vpu_lane(cfg(loss, 0, 0, 15), 32767, 0, -32768, 0), 4);
}

TEST(VpuLane, DerivativeFromOwnPreActivation) {
  const uint8_t d = kMaskDeriv;
  // Identity: f' = 1 whatever z is.
  EXPECT_EQ(vpu_lane(cfg(d, kActIdentity), -40, 0, 0, 0), -40);
  EXPECT_EQ(vpu_lane(cfg(d, 3), -40, 0, 0, 0), -40);  // reserved behaves as identity
  // ReLU: z = x here (bias bypassed). z > 0 passes x3, z <= 0 gives 0 (f'(0) = 0).
  EXPECT_EQ(vpu_lane(cfg(d, kActRelu), 40, 0, 0, 0), 40);
  EXPECT_EQ(vpu_lane(cfg(d, kActRelu), -40, 0, 0, 0), 0);
  EXPECT_EQ(vpu_lane(cfg(d, kActRelu), 0, 0, 0, 0), 0);
  // Leaky, shift 1: -41 / 2 = -20.5 -> -21.
  EXPECT_EQ(vpu_lane(cfg(d, kActLeakyRelu, 1), -41, 0, 0, 0), -21);
  EXPECT_EQ(vpu_lane(cfg(d, kActLeakyRelu, 1), 41, 0, 0, 0), 41);
  // s is ignored with deriv_src = 0.
  EXPECT_EQ(vpu_lane(cfg(d, kActRelu), -40, 0, 0, 99), 0);
  // z is the post-bias value: x = -10, b = 20 gives z = 10 > 0, so x3 = x1 = 10 passes;
  // x = -30, b = 20 gives z = -10, so 0.
  EXPECT_EQ(vpu_lane(cfg(kMaskBias | d, kActRelu), -10, 20, 0, 0), 10);
  EXPECT_EQ(vpu_lane(cfg(kMaskBias | d, kActRelu), -30, 20, 0, 0), 0);
  EXPECT_EQ(vpu_lane(cfg(0, kActRelu), -40, 0, 0, 0), -40);  // bit clear
}

TEST(VpuLane, DerivativeFromStoredValue) {
  const uint8_t d = kMaskDeriv;
  EXPECT_EQ(vpu_lane(cfg(d, kActRelu, 0, 0, true), -40, 0, 0, 5), -40);  // s > 0: pass
  EXPECT_EQ(vpu_lane(cfg(d, kActRelu, 0, 0, true), -40, 0, 0, -5), 0);
  EXPECT_EQ(vpu_lane(cfg(d, kActRelu, 0, 0, true), 40, 0, 0, 0), 0);  // s = 0: f'(0) = 0
  EXPECT_EQ(vpu_lane(cfg(d, kActLeakyRelu, 1, 0, true), -41, 0, 0, -1), -21);
  EXPECT_EQ(vpu_lane(cfg(d, kActLeakyRelu, 1, 0, true), 41, 0, 0, -1), 21);  // 20.5 -> 21
  EXPECT_EQ(vpu_lane(cfg(d, kActLeakyRelu, 1, 0, true), 41, 0, 0, 1), 41);
  EXPECT_EQ(vpu_lane(cfg(d, kActIdentity, 0, 0, true), 41, 0, 0, -1), 41);
}

TEST(VpuLane, WholePipeline) {
  // ReLU output layer, B = 2. Lane a: x1 = 100 + 28 = 128 = z; ReLU 128; loss (128 - 28) = 100;
  // z > 0 passes 100.
  EXPECT_EQ(vpu_lane(cfg(15, kActRelu, 0, 1), 100, 28, 28, 0), 100);
  // Lane b: x1 = -100 + 20 = -80 = z; ReLU 0; loss 0 - 50 = -50; z <= 0: 0.
  EXPECT_EQ(vpu_lane(cfg(15, kActRelu, 0, 1), -100, 20, 50, 0), 0);
  // Leaky (shift 1), B = 1: x1 = -100 = z; leaky -50; loss 2 * (-50 - (-70)) = 40;
  // z <= 0: 40 / 2 = 20.
  EXPECT_EQ(vpu_lane(cfg(15, kActLeakyRelu, 1, 0), -100, 0, -70, 0), 20);
}

TEST(VpuLane, OtherFormat) {
  constexpr Format kQ4_4{8, 4};
  EXPECT_EQ(vpu_lane(cfg(kMaskBias), 100, 100, 0, 0, kQ4_4), 127);   // saturates at 8 bits
  EXPECT_EQ(vpu_lane(cfg(kMaskLoss), 100, 0, -100, 0, kQ4_4), 127);  // 2 * 200 saturates
  EXPECT_THROW(vpu_lane(cfg(0), 128, 0, 0, 0, kQ4_4), std::invalid_argument);
}

TEST(VpuLane, RejectsWhatThePortsCannotCarry) {
  EXPECT_THROW(vpu_lane(cfg(16), 0, 0, 0, 0), std::invalid_argument);
  EXPECT_THROW(vpu_lane(cfg(0, 4), 0, 0, 0, 0), std::invalid_argument);
  EXPECT_THROW(vpu_lane(cfg(0, 0, 16), 0, 0, 0, 0), std::invalid_argument);
  EXPECT_THROW(vpu_lane(cfg(0, 0, 0, 16), 0, 0, 0, 0), std::invalid_argument);
  EXPECT_THROW(vpu_lane(cfg(0), 32768, 0, 0, 0), std::invalid_argument);
  EXPECT_THROW(vpu_lane(cfg(0), 0, -32769, 0, 0), std::invalid_argument);
  EXPECT_THROW(vpu_lane(cfg(0), 0, 0, 32768, 0), std::invalid_argument);
  EXPECT_THROW(vpu_lane(cfg(0), 0, 0, 0, 32768), std::invalid_argument);
}

// ---- VpuModel -------------------------------------------------------------------------------

TEST(VpuModel, LatencyIsFourWithBackToBackConfigs) {
  VpuModel vpu(2);
  ASSERT_EQ(VpuModel::kLatency, 4);
  // Row A: bias + ReLU. {100 + 28, -100 + 20} = {128, -80} -> {128, 0}.
  VpuInputs a{.valid = true,
              .data = {100, -100},
              .bias = {28, 20},
              .target = {},
              .deriv = {},
              .cfg = cfg(kMaskBias | kMaskAct, kActRelu)};
  // Row B: loss, B = 4. {301 - 100, -100 - 101} = {201, -201} -> /2 -> {101, -101}.
  VpuInputs b{.valid = true,
              .data = {301, -100},
              .bias = {},
              .target = {100, 101},
              .deriv = {},
              .cfg = cfg(kMaskLoss, 0, 0, 2)};
  // A bubble with a different config and junk data: must not show.
  VpuInputs bubble{.valid = false,
                   .data = {7, 7},
                   .bias = {7, 7},
                   .target = {},
                   .deriv = {},
                   .cfg = cfg(15, kActRelu, 3, 3, true)};
  // Row C: everything, leaky shift 1, B = 1. Lane 0: z = -100, leaky -50, loss 2 * 20 = 40,
  // z <= 0: 20. Lane 1: z = 100, 100, loss 2 * (100 - 50) = 100, z > 0: 100.
  VpuInputs c{.valid = true,
              .data = {-100, 100},
              .bias = {0, 0},
              .target = {-70, 50},
              .deriv = {},
              .cfg = cfg(15, kActLeakyRelu, 1, 0)};
  // Row D: derivative from the stored value, ReLU: s = {1, 0} -> {-9, 0}.
  VpuInputs d{.valid = true,
              .data = {-9, -9},
              .bias = {},
              .target = {},
              .deriv = {1, 0},
              .cfg = cfg(kMaskDeriv, kActRelu, 0, 0, true)};
  const std::vector<VpuInputs> in = {a, b, bubble, c, d};

  // Cycle k's inputs are sampled by step k; outputs() after step k is cycle k + 1.
  std::vector<VpuOutputs> seen;  // seen[k] = outputs during cycle k + 1
  for (int k = 0; k < 10; ++k) {
    seen.push_back(
        vpu.step(k < static_cast<int>(in.size()) ? in[static_cast<std::size_t>(k)] : VpuInputs{}));
  }
  const auto during = [&](int cycle) { return seen[static_cast<std::size_t>(cycle - 1)]; };
  for (int cycle = 1; cycle <= 3; ++cycle) EXPECT_FALSE(during(cycle).valid) << cycle;
  ASSERT_TRUE(during(4).valid);
  EXPECT_EQ(during(4).data, (std::vector<int32_t>{128, 0}));
  ASSERT_TRUE(during(5).valid);
  EXPECT_EQ(during(5).data, (std::vector<int32_t>{101, -101}));
  EXPECT_FALSE(during(6).valid);
  EXPECT_EQ(during(6).data, (std::vector<int32_t>{101, -101}));  // the register holds
  ASSERT_TRUE(during(7).valid);
  EXPECT_EQ(during(7).data, (std::vector<int32_t>{20, 100}));
  ASSERT_TRUE(during(8).valid);
  EXPECT_EQ(during(8).data, (std::vector<int32_t>{-9, 0}));
  EXPECT_FALSE(during(9).valid);
  EXPECT_FALSE(during(10).valid);
  EXPECT_EQ(vpu.outputs().data, (std::vector<int32_t>{-9, 0}));
}

TEST(VpuModel, ResetDropsRowsInFlight) {
  VpuModel vpu(2);
  vpu.step({.valid = true, .data = {1, 2}, .bias = {}, .target = {}, .deriv = {}, .cfg = {}});
  vpu.step({.valid = true, .data = {3, 4}, .bias = {}, .target = {}, .deriv = {}, .cfg = {}});
  vpu.reset();
  for (int k = 0; k < 6; ++k) EXPECT_FALSE(vpu.step({}).valid);
  EXPECT_EQ(vpu.outputs().data, (std::vector<int32_t>{0, 0}));
}

TEST(VpuModel, RejectsWhatThePortsCannotCarry) {
  EXPECT_THROW(VpuModel(1), std::invalid_argument);
  EXPECT_THROW(VpuModel(17), std::invalid_argument);
  VpuModel vpu(2);
  EXPECT_THROW(vpu.step({.valid = true, .data = {1, 2, 3}}), std::invalid_argument);
  EXPECT_THROW(vpu.step({.valid = true, .data = {}, .bias = {1}}), std::invalid_argument);
  EXPECT_THROW(vpu.step({.valid = true, .data = {32768, 0}}), std::invalid_argument);
  EXPECT_THROW(
      vpu.step({.valid = false, .data = {}, .bias = {}, .target = {}, .deriv = {0, -32769}}),
      std::invalid_argument);
  EXPECT_THROW(
      vpu.step({.valid = true, .data = {}, .bias = {}, .target = {}, .deriv = {}, .cfg = cfg(16)}),
      std::invalid_argument);
  EXPECT_THROW(vpu.step({.valid = true,
                         .data = {},
                         .bias = {},
                         .target = {},
                         .deriv = {},
                         .cfg = cfg(0, 0, 0, 16)}),
               std::invalid_argument);
  EXPECT_FALSE(vpu.outputs().valid);  // nothing entered
}

// ---- LFSR -----------------------------------------------------------------------------------

TEST(Lfsr, StepByHand) {
  // fb = s[31] ^ s[21] ^ s[1] ^ s[0]; s = {s[30:0], fb}.
  EXPECT_EQ(lfsr_step(1), 3u);                     // fb = s0 = 1
  EXPECT_EQ(lfsr_step(3), 6u);                     // fb = s1 ^ s0 = 0
  EXPECT_EQ(lfsr_step(6), 13u);                    // fb = s1 = 1
  EXPECT_EQ(lfsr_step(0x80000000u), 1u);           // s31 shifts out and feeds back
  EXPECT_EQ(lfsr_step(0x00200000u), 0x00400001u);  // s21 feeds back
  EXPECT_EQ(lfsr_step(0x80200000u), 0x00400000u);  // s31 ^ s21 = 0
  EXPECT_EQ(lfsr_step(0x40000000u), 0x80000000u);  // s30 is not a tap
  EXPECT_EQ(lfsr_step(0xFFFFFFFFu), 0xFFFFFFFEu);  // four ones: fb = 0
  EXPECT_EQ(lfsr_step(0), 0u);
  // From 1, while s31 and s21 are 0, fb = s1 ^ s0: 1, 3, 6, 13, 27, 54, 109, 219, 438.
  EXPECT_EQ(lfsr_advance(1, 8), 438u);
  // 0xFF -> 0x1FE -> 0x3FD -> 0x7FB -> 0xFF6 -> 0x1FED -> 0x3FDB -> 0x7FB6 -> 0xFF6D.
  EXPECT_EQ(lfsr_advance(0xFF, 8), 0xFF6Du);
}

TEST(Lfsr, SeedFormula) {
  EXPECT_EQ(lfsr_seed(0x12345678u, 0), 0x12345678u);
  EXPECT_EQ(lfsr_seed(0, 1), 0x9E3779B9u);
  EXPECT_EQ(lfsr_seed(0, 2), 0x3C6EF372u);            // 0x13C6EF372 mod 2^32
  EXPECT_EQ(lfsr_seed(0, 3), 0xDAA66D2Bu);            // 0x13C6EF372 + 0x9E3779B9 = 0x1DAA66D2B
  EXPECT_EQ(lfsr_seed(0xFFFFFFFFu, 1), 0x61C88646u);  // ~0x9E3779B9
  EXPECT_EQ(lfsr_seed(0xFFu, 1), 0x9E377946u);        // low byte 0xB9 ^ 0xFF = 0x46
  // A zero state would lock the LFSR: it becomes 1.
  EXPECT_EQ(lfsr_seed(0, 0), 1u);
  EXPECT_EQ(lfsr_seed(0x9E3779B9u, 1), 1u);
  EXPECT_EQ(lfsr_seed(0xDAA66D2Bu, 3), 1u);
  EXPECT_THROW(lfsr_seed(0, -1), std::invalid_argument);
}

// ---- sgd_update -----------------------------------------------------------------------------

TEST(SgdUpdate, NearestRounding) {
  uint32_t lfsr = 0x1234;
  // lr = 26 (~0.1), g = 1.0: 26 * 256 = 6656 = 26 LSB exactly; 256 - 26 = 230.
  EXPECT_EQ(sgd_update(256, 256, 26, false, lfsr), 230);
  EXPECT_EQ(sgd_update(0, 128, 1, false, lfsr), -1);    // 0.5 LSB ties away: step 1
  EXPECT_EQ(sgd_update(0, -128, 1, false, lfsr), 1);    // -0.5 LSB: step -1
  EXPECT_EQ(sgd_update(0, 127, 1, false, lfsr), 0);     // just under half: vanishes
  EXPECT_EQ(sgd_update(10, -128, 3, false, lfsr), 12);  // -1.5 LSB: step -2
  EXPECT_EQ(lfsr, 0x1234u);                             // nearest leaves the LFSR alone
}

TEST(SgdUpdate, StochasticRoundingWithKnownLfsr) {
  // State 0xFF: r = 0xFF = 255. (1 + 255) >>> 8 = 1, so 1/256 LSB moves theta by one.
  uint32_t lfsr = 0xFF;
  EXPECT_EQ(sgd_update(100, 1, 1, true, lfsr), 99);
  EXPECT_EQ(lfsr, 0xFF6Du);  // advanced 8 steps
  // Now r = 0x6D = 109: (147 + 109) >>> 8 = 1; (146 + 109) >>> 8 = 0.
  uint32_t a = 0xFF6D, b = 0xFF6D;
  EXPECT_EQ(sgd_update(100, 147, 1, true, a), 99);
  EXPECT_EQ(sgd_update(100, 146, 1, true, b), 100);
  // Negative: state 438 = 0x1B6, r = 0xB6 = 182. lr * g = -128: (-128 + 182) >>> 8 = 0;
  // lr * g = -183: (-1) >>> 8 = -1, theta rises by 1.
  uint32_t c = 438, d = 438;
  EXPECT_EQ(sgd_update(0, -128, 1, true, c), 0);
  EXPECT_EQ(sgd_update(0, -183, 1, true, d), 1);
  // 438 -> 877 -> 1755 -> 3510 -> 7021 -> 14043 -> 28086 -> 56173 -> 112347 (fb = s1 ^ s0).
  EXPECT_EQ(c, 112347u);
  // A whole-LSB product is unaffected by r < 256: (512 + 182) >>> 8 = 2.
  uint32_t e = 438;
  EXPECT_EQ(sgd_update(0, 2, 256, true, e), -2);
}

TEST(SgdUpdate, Saturates) {
  uint32_t lfsr = 1;
  EXPECT_EQ(sgd_update(-32768, 256, 256, false, lfsr), -32768);  // -32768 - 256 saturates
  EXPECT_EQ(sgd_update(32767, -256, 256, false, lfsr), 32767);   // 32767 + 256 saturates
  // lr * g = 2^30: step 2^22, far out of range.
  EXPECT_EQ(sgd_update(0, -32768, -32768, false, lfsr), -32768);
  EXPECT_EQ(sgd_update(32767, -32768, -32768, true, lfsr), -32768);
  EXPECT_THROW(sgd_update(32768, 0, 0, false, lfsr), std::invalid_argument);
  EXPECT_THROW(sgd_update(0, 0, -32769, false, lfsr), std::invalid_argument);
}

TEST(SgdUpdate, StochasticMovesTinyUpdatesOnAverage) {
  // lr * g = 1 * 64 = a quarter LSB. Nearest: round(0.25) = 0, never moves. Stochastic:
  // (64 + r) >>> 8 = 1 exactly when r >= 192, probability 64/256, so theta drops by 0.25 LSB
  // per update on average; with g = -64, (-64 + r) >>> 8 = -1 when r < 64: rises by 0.25.
  constexpr int kUpdates = 10000;
  // A Bernoulli(1/4) mean over 10000 draws has a standard deviation of 0.0043; 0.02 is ~4.6
  // of them.
  constexpr double kTolerance = 0.02;
  uint32_t lfsr = lfsr_seed(0xC0FFEEu, 0);
  int32_t down = 0, up = 0, nearest = 0;
  for (int i = 0; i < kUpdates; ++i) down = sgd_update(down, 64, 1, true, lfsr);
  for (int i = 0; i < kUpdates; ++i) up = sgd_update(up, -64, 1, true, lfsr);
  const uint32_t before = lfsr;
  for (int i = 0; i < kUpdates; ++i) nearest = sgd_update(nearest, 64, 1, false, lfsr);
  EXPECT_NEAR(static_cast<double>(down) / kUpdates, -0.25, kTolerance);
  EXPECT_NEAR(static_cast<double>(up) / kUpdates, 0.25, kTolerance);
  EXPECT_EQ(nearest, 0);
  EXPECT_EQ(lfsr, before);
}

// ---- SgdModel -------------------------------------------------------------------------------

SgdInputs all_ready() {
  SgdInputs in;
  in.rd_cmd_ready[0] = in.rd_cmd_ready[1] = in.wr_cmd_ready = true;
  return in;
}

SgdInputs with_rows(SgdInputs in, std::vector<int32_t> theta, std::vector<int32_t> grad) {
  in.rd_valid[0] = in.rd_valid[1] = true;
  in.rd_data[0] = std::move(theta);
  in.rd_data[1] = std::move(grad);
  return in;
}

void expect_no_command(const SgdOutputs& o, int cycle) {
  EXPECT_FALSE(o.rd_cmd_valid[0]) << "cycle " << cycle;
  EXPECT_FALSE(o.rd_cmd_valid[1]) << "cycle " << cycle;
  EXPECT_FALSE(o.wr_cmd_valid) << "cycle " << cycle;
}

TEST(SgdModel, ThreeRowCommandWithAllReadiesHigh) {
  SgdModel sgd(2);
  const SgdCommand cmd{
      .theta_addr = 10, .grad_addr = 20, .count = 3, .lr = 128, .stochastic = false};
  // lr = 0.5. Row 0: 0.5 * {2, 3} LSB = {1, 1.5 -> 2}: {256 - 1, -256 - 2}.
  // Row 1: 0.5 * {1, -1} = {0.5 -> 1, -0.5 -> -1}: {-1, 1}.
  // Row 2: 0.5 * {-512, 512} = {-256, 256}: 32767 + 256 and -32768 - 256 saturate.
  const std::vector<std::vector<int32_t>> theta = {{256, -256}, {0, 0}, {32767, -32768}};
  const std::vector<std::vector<int32_t>> grad = {{2, 3}, {1, -1}, {-512, 512}};
  const std::vector<std::vector<int32_t>> want = {{255, -258}, {-1, 1}, {32767, -32768}};

  // Cycle 0 (t): accepted.
  SgdInputs in = all_ready();
  in.cmd_valid = true;
  in.cmd = cmd;
  SgdOutputs o = sgd.outputs(in);
  EXPECT_TRUE(o.cmd_ready);
  EXPECT_FALSE(o.busy);
  expect_no_command(o, 0);
  EXPECT_FALSE(o.wr_valid);
  sgd.step(in);
  EXPECT_TRUE(sgd.busy());

  // Cycle 1 (u = t + 1): all three commands. Another command offered now is not accepted.
  in = all_ready();
  in.cmd_valid = true;
  in.cmd = SgdCommand{.theta_addr = 99, .grad_addr = 98, .count = 1, .lr = 1, .stochastic = true};
  o = sgd.outputs(in);
  EXPECT_FALSE(o.cmd_ready);
  EXPECT_TRUE(o.busy);
  ASSERT_TRUE(o.rd_cmd_valid[0] && o.rd_cmd_valid[1] && o.wr_cmd_valid);
  EXPECT_EQ(o.rd_cmd[0].start, 10u);
  EXPECT_EQ(o.rd_cmd[0].count, 3u);
  EXPECT_EQ(o.rd_cmd[0].stride, 1u);
  EXPECT_EQ(o.rd_cmd[0].lanes, 2u);
  EXPECT_FALSE(o.rd_cmd[0].transpose);
  EXPECT_EQ(o.rd_cmd[1].start, 20u);
  EXPECT_EQ(o.rd_cmd[1].count, 3u);
  EXPECT_EQ(o.rd_cmd[1].stride, 1u);
  EXPECT_EQ(o.rd_cmd[1].lanes, 2u);
  EXPECT_FALSE(o.rd_cmd[1].transpose);
  EXPECT_EQ(o.wr_cmd.start, 10u);
  EXPECT_EQ(o.wr_cmd.count, 3u);
  EXPECT_EQ(o.wr_cmd.stride, 1u);
  EXPECT_EQ(o.wr_cmd.lanes, 2u);
  sgd.step(in);

  // Cycles 2..8: rows arrive in u + 2 + i = 3, 4, 5 and leave in u + 4 + i = 5, 6, 7.
  for (int cycle = 2; cycle <= 8; ++cycle) {
    in = all_ready();
    const int arriving = cycle - 3;
    if (arriving >= 0 && arriving < 3) {
      in = with_rows(in, theta[static_cast<std::size_t>(arriving)],
                     grad[static_cast<std::size_t>(arriving)]);
    }
    o = sgd.outputs(in);
    expect_no_command(o, cycle);
    const int leaving = cycle - 5;
    if (leaving >= 0 && leaving < 3) {
      ASSERT_TRUE(o.wr_valid) << "cycle " << cycle;
      EXPECT_EQ(o.wr_data, want[static_cast<std::size_t>(leaving)]) << "cycle " << cycle;
    } else {
      EXPECT_FALSE(o.wr_valid) << "cycle " << cycle;
    }
    // Busy through cycle 7, the last write; idle from cycle 8.
    EXPECT_EQ(o.busy, cycle <= 7) << "cycle " << cycle;
    EXPECT_EQ(o.cmd_ready, cycle >= 8) << "cycle " << cycle;
    sgd.step(in);
  }
  EXPECT_FALSE(sgd.busy());
  EXPECT_EQ(sgd.lfsr(0), 1u);  // nearest: LFSRs untouched since reset
}

TEST(SgdModel, WaitsUntilAllThreePortsAreReady) {
  SgdModel sgd(2);
  SgdInputs in = all_ready();
  in.cmd_valid = true;
  in.cmd = SgdCommand{.theta_addr = 5, .grad_addr = 6, .count = 1, .lr = 256, .stochastic = false};
  sgd.step(in);  // cycle 0: accepted

  for (int cycle = 1; cycle <= 3; ++cycle) {  // one port not ready in each
    in = all_ready();
    if (cycle == 1) in.rd_cmd_ready[0] = false;
    if (cycle == 2) in.rd_cmd_ready[1] = false;
    if (cycle == 3) in.wr_cmd_ready = false;
    const SgdOutputs o = sgd.outputs(in);
    expect_no_command(o, cycle);
    EXPECT_TRUE(o.busy);
    sgd.step(in);
  }
  // Cycle 4 = u: issued. Row at u + 2 = 6: theta 1.0 - 1.0 * 0.5 = 0.5 (128). Written at
  // u + 4 = 8; idle from 9.
  in = all_ready();
  SgdOutputs o = sgd.outputs(in);
  EXPECT_TRUE(o.rd_cmd_valid[0] && o.rd_cmd_valid[1] && o.wr_cmd_valid);
  EXPECT_EQ(o.rd_cmd[0].start, 5u);
  EXPECT_EQ(o.rd_cmd[1].start, 6u);
  sgd.step(in);
  for (int cycle = 5; cycle <= 9; ++cycle) {
    in = all_ready();
    if (cycle == 6) in = with_rows(in, {256, 0}, {128, 0});
    o = sgd.outputs(in);
    expect_no_command(o, cycle);
    EXPECT_EQ(o.wr_valid, cycle == 8) << "cycle " << cycle;
    if (cycle == 8) {
      EXPECT_EQ(o.wr_data, (std::vector<int32_t>{128, 0}));
    }
    EXPECT_EQ(o.busy, cycle <= 8) << "cycle " << cycle;
    sgd.step(in);
  }
}

TEST(SgdModel, StochasticUsesEachLanesLfsrWhenStageOneLoads) {
  SgdModel sgd(2);
  // Cycle 0: seed while idle. Lane 0: 0xFF; lane 1: 0xFF ^ 0x9E3779B9 = 0x9E377946.
  SgdInputs in;
  in.seed_valid = true;
  in.seed = 0xFF;
  sgd.step(in);
  EXPECT_EQ(sgd.lfsr(0), 0xFFu);
  EXPECT_EQ(sgd.lfsr(1), 0x9E377946u);

  // Cycle 1: accepted; u = 2; rows in cycles 4 and 5; writes in 6 and 7.
  in = all_ready();
  in.cmd_valid = true;
  in.cmd = SgdCommand{.theta_addr = 0, .grad_addr = 8, .count = 2, .lr = 1, .stochastic = true};
  sgd.step(in);
  in = all_ready();
  in.seed_valid = true;  // cycle 2: busy, so the seed is ignored
  in.seed = 5;
  sgd.step(in);
  sgd.step(all_ready());  // cycle 3
  EXPECT_EQ(sgd.lfsr(0), 0xFFu);
  EXPECT_EQ(sgd.lfsr(1), 0x9E377946u);

  // Row 0 (cycle 4): lane 0 r = 0xFF: (1 + 255) >>> 8 = 1; lane 1 r = 0x46 = 70:
  // (186 + 70) >>> 8 = 1. Both 100 -> 99.
  sgd.step(with_rows(all_ready(), {100, 100}, {1, 186}));
  EXPECT_EQ(sgd.lfsr(0), 0xFF6Du);  // 8 steps at the edge that loads stage 1
  EXPECT_EQ(sgd.lfsr(1), lfsr_advance(0x9E377946u, 8));
  // Row 1 (cycle 5): lane 0 r = 0x6D = 109: (147 + 109) >>> 8 = 1, 99; lane 1 g = 0:
  // r >>> 8 = 0, unchanged.
  SgdInputs row1 = with_rows(all_ready(), {100, 100}, {147, 0});
  SgdOutputs o = sgd.outputs(row1);
  EXPECT_FALSE(o.wr_valid);
  sgd.step(row1);
  EXPECT_EQ(sgd.lfsr(0), lfsr_advance(0xFF6Du, 8));
  EXPECT_EQ(sgd.lfsr(1), lfsr_advance(0x9E377946u, 16));

  o = sgd.outputs(all_ready());  // cycle 6
  ASSERT_TRUE(o.wr_valid);
  EXPECT_EQ(o.wr_data, (std::vector<int32_t>{99, 99}));
  sgd.step(all_ready());
  o = sgd.outputs(all_ready());  // cycle 7
  ASSERT_TRUE(o.wr_valid);
  EXPECT_EQ(o.wr_data, (std::vector<int32_t>{99, 100}));
  sgd.step(all_ready());
  EXPECT_FALSE(sgd.busy());
  const uint32_t lane0 = sgd.lfsr(0);
  sgd.step(all_ready());  // idle: the LFSRs do not run on their own
  EXPECT_EQ(sgd.lfsr(0), lane0);
}

TEST(SgdModel, SeedInTheAcceptingCycleApplies) {
  // SPEC-AMBIGUITY pinned down: the unit is idle during the accepting cycle.
  SgdModel sgd(2);
  SgdInputs in = all_ready();
  in.cmd_valid = true;
  in.cmd = SgdCommand{.theta_addr = 0, .grad_addr = 0, .count = 1, .lr = 0, .stochastic = true};
  in.seed_valid = true;
  in.seed = 0;
  sgd.step(in);
  EXPECT_EQ(sgd.lfsr(0), 1u);           // 0 ^ 0 -> 1
  EXPECT_EQ(sgd.lfsr(1), 0x9E3779B9u);  // 0 ^ 0x9E3779B9
}

TEST(SgdModel, RowBeforeUPlusTwoIsNotTaken) {
  // SPEC-AMBIGUITY pinned down: row 0 arrives in u + 2; a row in u + 1 is someone else's.
  SgdModel sgd(2);
  SgdInputs in = all_ready();
  in.cmd_valid = true;
  in.cmd = SgdCommand{.theta_addr = 0, .grad_addr = 0, .count = 1, .lr = 256, .stochastic = false};
  sgd.step(in);                                          // cycle 0: accepted
  sgd.step(all_ready());                                 // cycle 1 = u: issued
  sgd.step(with_rows(all_ready(), {500, 500}, {1, 1}));  // cycle 2: not ours
  sgd.step(with_rows(all_ready(), {10, 20}, {3, -4}));   // cycle 3: row 0
  sgd.step(all_ready());                                 // cycle 4
  const SgdOutputs o = sgd.outputs(all_ready());         // cycle 5: {10 - 3, 20 + 4}
  ASSERT_TRUE(o.wr_valid);
  EXPECT_EQ(o.wr_data, (std::vector<int32_t>{7, 24}));
}

TEST(SgdModel, ZeroCountIssuesThenIdles) {
  // SPEC-AMBIGUITY pinned down: no rows, so idle again from u + 1.
  SgdModel sgd(2);
  SgdInputs in = all_ready();
  in.cmd_valid = true;
  in.cmd = SgdCommand{};
  sgd.step(in);
  SgdOutputs o = sgd.outputs(all_ready());
  EXPECT_TRUE(o.rd_cmd_valid[0] && o.rd_cmd_valid[1] && o.wr_cmd_valid);
  EXPECT_EQ(o.rd_cmd[0].count, 0u);
  sgd.step(all_ready());
  o = sgd.outputs(all_ready());
  EXPECT_FALSE(o.busy);
  EXPECT_TRUE(o.cmd_ready);
}

TEST(SgdModel, BackToBackCommands) {
  SgdModel sgd(2);
  SgdInputs in = all_ready();
  in.cmd_valid = true;
  in.cmd = SgdCommand{.theta_addr = 1, .grad_addr = 2, .count = 1, .lr = 0, .stochastic = false};
  sgd.step(in);                                      // 0: accepted
  sgd.step(all_ready());                             // 1: issued
  sgd.step(all_ready());                             // 2
  sgd.step(with_rows(all_ready(), {3, 4}, {5, 6}));  // 3: row 0
  sgd.step(all_ready());                             // 4
  ASSERT_TRUE(sgd.outputs(all_ready()).wr_valid);    // 5: written (lr = 0: unchanged)
  EXPECT_EQ(sgd.outputs(all_ready()).wr_data, (std::vector<int32_t>{3, 4}));
  sgd.step(all_ready());
  // 6: idle, a new command is accepted at once and issued in 7.
  in = all_ready();
  in.cmd_valid = true;
  in.cmd = SgdCommand{.theta_addr = 7, .grad_addr = 8, .count = 2, .lr = 0, .stochastic = false};
  ASSERT_TRUE(sgd.outputs(in).cmd_ready);
  sgd.step(in);
  const SgdOutputs o = sgd.outputs(all_ready());
  ASSERT_TRUE(o.rd_cmd_valid[0]);
  EXPECT_EQ(o.rd_cmd[0].start, 7u);
  EXPECT_EQ(o.rd_cmd[1].start, 8u);
  EXPECT_EQ(o.wr_cmd.count, 2u);
}

TEST(SgdModel, ResetSeedsAsIfOne) {
  SgdModel sgd(3);
  SgdInputs in;
  in.seed_valid = true;
  in.seed = 0xABCDEF;
  sgd.step(in);
  sgd.reset();
  EXPECT_EQ(sgd.lfsr(0), 1u);
  EXPECT_EQ(sgd.lfsr(1), 0x9E3779B8u);  // 1 ^ 0x9E3779B9
  EXPECT_EQ(sgd.lfsr(2), 0x3C6EF373u);  // 1 ^ 0x3C6EF372
  EXPECT_FALSE(sgd.busy());
  EXPECT_THROW(sgd.lfsr(3), std::out_of_range);
}

TEST(SgdModel, RejectsWhatThePortsCannotCarry) {
  EXPECT_THROW(SgdModel(1), std::invalid_argument);
  SgdModel sgd(2);
  SgdInputs in;
  in.cmd.count = 65536;
  EXPECT_THROW(sgd.step(in), std::invalid_argument);
  in = SgdInputs{};
  in.cmd.theta_addr = 70000;
  EXPECT_THROW(sgd.outputs(in), std::invalid_argument);
  in = SgdInputs{};
  in.cmd.lr = 32768;
  EXPECT_THROW(sgd.step(in), std::invalid_argument);
  in = with_rows(SgdInputs{}, {1, 2, 3}, {});
  EXPECT_THROW(sgd.step(in), std::invalid_argument);
  in = with_rows(SgdInputs{}, {}, {0, -32769});
  EXPECT_THROW(sgd.step(in), std::invalid_argument);
  EXPECT_FALSE(sgd.busy());
}

}  // namespace
}  // namespace tpu::golden
