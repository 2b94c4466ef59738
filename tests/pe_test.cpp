// The processing element alone: MAC, switch, and loading the shadow weight while the
// active one computes; every output compared with the golden PE model every cycle,
// and the key values also checked against numbers worked out by hand.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>

#include "Vpe.h"
#include "golden/pe_model.hpp"
#include "tb/pe_tb.hpp"
#include "tb/rtl_fixture.hpp"

namespace {

using tpu::golden::PeInputs;
using Tb = tpu::tb::PeTb<Vpe>;

constexpr int kSumWidth = 33;  // the pe module's default: AccWidth + 1 guard bit

class Pe : public tpu::tb::RtlFixture<Tb> {
 protected:
  std::unique_ptr<Tb> make_bench(const std::string& test) override {
    return std::make_unique<Tb>(kSumWidth, "pe_" + test);
  }
};

PeInputs load(int32_t w) { return {.load = true, .w = w}; }
PeInputs mac(int32_t act, int64_t psum, bool sw = false) {
  return {.valid = true, .sw = sw, .act = act, .psum = psum};
}

// Q8.8 constants: 1.5 = 384, 2.0 = 512, 0.5 = 128, -1.0 = -256.
TEST_F(Pe, MacAddsProductToPartialSum) {
  Tb& tb = *tb_;
  tb.apply(load(384));                  // shadow = 1.5
  tb.apply(mac(512, 16384, true));      // switch: 2.0 * 1.5 + 0.25 (Q16.16)
  EXPECT_EQ(tb.psum(), 16384 + 512 * 384);
  EXPECT_EQ(tb.act(), 512);
  tb.apply(mac(-256, 0));               // no switch: the active weight stays 1.5
  EXPECT_EQ(tb.psum(), -256 * 384);
  tb.apply(mac(-32768, -1));            // -128 * 1.5: the full product, nothing dropped
  EXPECT_EQ(tb.psum(), int64_t{-32768} * 384 - 1);
}

TEST_F(Pe, SwitchMakesShadowActiveForTheSwitchingActivation) {
  Tb& tb = *tb_;
  tb.apply(load(384));
  tb.apply(mac(256, 0, true));   // tile 1: weight 1.5
  EXPECT_EQ(tb.psum(), 256 * 384);
  tb.apply(load(128));           // next tile's weight 0.5 into the shadow
  tb.apply(mac(256, 0));         // still tile 1
  EXPECT_EQ(tb.psum(), 256 * 384);
  tb.apply(mac(256, 0, true));   // tile 2's first activation already uses 0.5
  EXPECT_EQ(tb.psum(), 256 * 128);
  tb.apply(mac(256, 0));
  EXPECT_EQ(tb.psum(), 256 * 128);
}

TEST_F(Pe, LoadingTheShadowWhileComputingLeavesTheActiveWeightAlone) {
  Tb& tb = *tb_;
  tb.apply(load(384));
  tb.apply(mac(256, 0, true));
  for (int i = 0; i < 4; ++i) {
    PeInputs in = mac(256, i);
    in.load = true;
    in.w = 100 + i;  // rewrite the shadow every cycle
    tb.apply(in);
    EXPECT_EQ(tb.psum(), 256 * 384 + i);
  }
  // Load and switch in the same cycle: the switch takes the old shadow (103).
  PeInputs both = mac(256, 0, true);
  both.load = true;
  both.w = 7;
  tb.apply(both);
  EXPECT_EQ(tb.psum(), 256 * 103);
  tb.apply(mac(256, 0, true));  // and the new shadow (7) is there for the next switch
  EXPECT_EQ(tb.psum(), 256 * 7);
}

TEST_F(Pe, IdleCyclesHoldTheRegisters) {
  Tb& tb = *tb_;
  tb.apply(load(384));
  tb.apply(mac(512, 5, true));
  const int64_t held = tb.psum();
  tb.apply(PeInputs{.valid = false, .act = 77, .psum = 99});
  EXPECT_FALSE(tb.valid());
  EXPECT_EQ(tb.psum(), held);
  EXPECT_EQ(tb.act(), 512);
}

TEST_F(Pe, RandomStreamMatchesGoldenEveryCycle) {
  std::mt19937_64& rng = rng_;
  std::uniform_int_distribution<int32_t> value(-32768, 32767);
  std::uniform_int_distribution<int64_t> psum(-(int64_t{1} << 31), (int64_t{1} << 31) - 1);
  std::bernoulli_distribution coin(0.5), rare(0.1);
  Tb& tb = *tb_;
  for (int i = 0; i < 5000; ++i) {
    PeInputs in{};
    in.valid = coin(rng);
    in.sw = in.valid && rare(rng);
    in.act = value(rng);
    in.psum = psum(rng);
    in.load = rare(rng);
    in.w = value(rng);
    tb.apply(in);
    if (tb.log().count() > 0) break;  // the first mismatch says enough
  }
}

}  // namespace
