// The processing element alone: MAC, switch, and loading the shadow weight while the
// active one computes; every output compared with the golden PE model every cycle,
// and the key values also checked against numbers worked out by hand.
#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "Vpe.h"
#include "golden/pe_model.hpp"
#include "tb/harness.hpp"
#include "tb/seed.hpp"

namespace {

using tpu::golden::PeInputs;
using tpu::golden::PeModel;

constexpr int kSumWidth = 33;  // the pe module's default: AccWidth + 1 guard bit

int64_t sign_extend(uint64_t v, int width) {
  if ((v >> (width - 1)) & 1) v |= ~uint64_t{0} << width;
  return static_cast<int64_t>(v);
}

class PeTb {
 public:
  explicit PeTb(const std::string& name) : harness_(name), golden_(kSumWidth) {
    harness_.reset();
    golden_.reset();
  }

  // One cycle with inputs `in` to both; returns false (and records why) on a mismatch.
  void apply(const PeInputs& in) {
    Vpe& top = harness_.top();
    top.valid_i = in.valid;
    top.switch_i = in.sw;
    top.act_i = static_cast<uint16_t>(in.act);
    top.psum_i = static_cast<uint64_t>(in.psum) & ((uint64_t{1} << kSumWidth) - 1);
    top.load_i = in.load;
    top.w_i = static_cast<uint16_t>(in.w);
    harness_.step();
    golden_.step(in);
    const auto& g = golden_.state();
    std::ostringstream diff;
    if ((top.valid_o != 0) != g.valid) diff << " valid_o";
    if ((top.switch_o != 0) != g.sw) diff << " switch_o";
    if (static_cast<int16_t>(top.act_o) != g.act) diff << " act_o";
    if (psum() != g.psum) diff << " psum_o rtl=" << psum() << " golden=" << g.psum;
    if (!diff.str().empty()) {
      ADD_FAILURE() << "cycle " << harness_.cycle() << ": mismatch in" << diff.str();
    }
  }

  int64_t psum() const { return sign_extend(harness_.top().psum_o, kSumWidth); }
  int16_t act() const { return static_cast<int16_t>(harness_.top().act_o); }
  bool valid() const { return harness_.top().valid_o != 0; }

 private:
  tpu::tb::Harness<Vpe> harness_;
  PeModel golden_;
};

PeInputs load(int32_t w) { return {.load = true, .w = w}; }
PeInputs mac(int32_t act, int64_t psum, bool sw = false) {
  return {.valid = true, .sw = sw, .act = act, .psum = psum};
}

// Q8.8 constants: 1.5 = 384, 2.0 = 512, 0.5 = 128, -1.0 = -256.
TEST(Pe, MacAddsProductToPartialSum) {
  PeTb tb("pe_mac");
  tb.apply(load(384));                  // shadow = 1.5
  tb.apply(mac(512, 16384, true));      // switch: 2.0 * 1.5 + 0.25 (Q16.16)
  EXPECT_EQ(tb.psum(), 16384 + 512 * 384);
  EXPECT_EQ(tb.act(), 512);
  tb.apply(mac(-256, 0));               // no switch: the active weight stays 1.5
  EXPECT_EQ(tb.psum(), -256 * 384);
  tb.apply(mac(-32768, -1));            // -128 * 1.5: the full product, nothing dropped
  EXPECT_EQ(tb.psum(), int64_t{-32768} * 384 - 1);
}

TEST(Pe, SwitchMakesShadowActiveForTheSwitchingActivation) {
  PeTb tb("pe_switch");
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

TEST(Pe, LoadingTheShadowWhileComputingLeavesTheActiveWeightAlone) {
  PeTb tb("pe_load_while_computing");
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

TEST(Pe, IdleCyclesHoldTheRegisters) {
  PeTb tb("pe_idle");
  tb.apply(load(384));
  tb.apply(mac(512, 5, true));
  const int64_t held = tb.psum();
  tb.apply(PeInputs{.valid = false, .act = 77, .psum = 99});
  EXPECT_FALSE(tb.valid());
  EXPECT_EQ(tb.psum(), held);
  EXPECT_EQ(tb.act(), 512);
}

TEST(Pe, RandomStreamMatchesGoldenEveryCycle) {
  const uint64_t seed = tpu::tb::test_seed("Pe.RandomStreamMatchesGoldenEveryCycle");
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> value(-32768, 32767);
  std::uniform_int_distribution<int64_t> psum(-(int64_t{1} << 31), (int64_t{1} << 31) - 1);
  std::bernoulli_distribution coin(0.5), rare(0.1);
  PeTb tb("pe_random");
  for (int i = 0; i < 5000; ++i) {
    PeInputs in{};
    in.valid = coin(rng);
    in.sw = in.valid && rare(rng);
    in.act = value(rng);
    in.psum = psum(rng);
    in.load = rare(rng);
    in.w = value(rng);
    tb.apply(in);
    if (::testing::Test::HasFailure()) break;  // the first mismatch says enough
  }
}

}  // namespace
