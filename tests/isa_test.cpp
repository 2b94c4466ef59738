// The instruction encoding is defined twice, in rtl/tpu_pkg.sv and golden/isa.hpp; this
// test decodes words with both (the RTL through the control unit's own decoder,
// rtl/ctrl/instr_decode.sv) and compares every field and the legality verdict: every
// opcode, every single reserved bit, and random words.
#include <gtest/gtest.h>

#include <random>

#include "Vinstr_decode.h"
#include "golden/isa.hpp"
#include "tb/seed.hpp"

namespace {

using tpu::isa::Opcode;

class Decoder {
 public:
  Decoder() : ctx_(std::make_unique<VerilatedContext>()), top_(ctx_.get()) {}
  Vinstr_decode& decode(uint64_t word) {
    top_.instr_i = word;
    top_.eval();
    return top_;
  }

 private:
  std::unique_ptr<VerilatedContext> ctx_;
  Vinstr_decode top_;
};

void expect_same(Decoder& probe, uint64_t w) {
  SCOPED_TRACE(::testing::Message() << "word 0x" << std::hex << w);
  const auto golden = tpu::isa::decode(w);
  Vinstr_decode& rtl = probe.decode(w);
  ASSERT_EQ(rtl.legal_o != 0, golden.has_value());
  if (!golden) return;
  const tpu::isa::Instr& i = *golden;
  EXPECT_EQ(rtl.op_o, static_cast<uint8_t>(i.op));
  switch (i.op) {
    case Opcode::kLoop:
      EXPECT_EQ(rtl.loop_count_o, i.count);
      break;
    case Opcode::kSeed:
      EXPECT_EQ(rtl.seed_o, i.seed);
      break;
    case Opcode::kVpu:
      EXPECT_EQ(rtl.vpu_side_o, i.side);
      EXPECT_EQ(rtl.vpu_bias_o, i.bias);
      EXPECT_EQ(rtl.vpu_cfg_o, i.cfg);
      break;
    case Opcode::kLoadw:
      EXPECT_EQ(rtl.loadw_addr_o, i.addr);
      EXPECT_EQ(rtl.loadw_rows_o, i.rows);
      EXPECT_EQ(rtl.loadw_t_o != 0, i.t);
      break;
    case Opcode::kMatmul:
      EXPECT_EQ(rtl.matmul_act_o, i.act);
      EXPECT_EQ(rtl.matmul_out_o, i.out);
      EXPECT_EQ(rtl.matmul_rows_o, i.rows);
      EXPECT_EQ(rtl.matmul_k_o, i.k);
      EXPECT_EQ(rtl.matmul_n_o, i.n);
      EXPECT_EQ(rtl.matmul_t_o != 0, i.t);
      EXPECT_EQ(rtl.matmul_acc_o != 0, i.acc);
      break;
    case Opcode::kSgd:
      EXPECT_EQ(rtl.sgd_theta_o, i.theta);
      EXPECT_EQ(rtl.sgd_grad_o, i.grad);
      EXPECT_EQ(rtl.sgd_count_o, i.count);
      EXPECT_EQ(static_cast<int16_t>(rtl.sgd_lr_o), i.lr);
      EXPECT_EQ(rtl.sgd_stochastic_o != 0, i.stochastic);
      break;
    default:
      break;
  }
}

// Every opcode with all its fields set, and then with each single other bit set.
TEST(Isa, RtlAndCppAgreeOnEveryFieldAndReservedBit) {
  Decoder probe;
  for (uint64_t op = 0; op < 16; ++op) {
    const uint64_t base = op << 60;
    const uint64_t used = op <= 9 ? tpu::isa::used_bits(static_cast<Opcode>(op)) : 0;
    expect_same(probe, base);
    expect_same(probe, base | used);
    for (int b = 0; b < 60; ++b) expect_same(probe, base | (uint64_t{1} << b));
  }
}

TEST(Isa, RtlAndCppAgreeOnRandomWords) {
  std::mt19937_64 rng(tpu::tb::test_seed("Isa.RtlAndCppAgreeOnRandomWords"));
  Decoder probe;
  for (int n = 0; n < 20000; ++n) {
    const uint64_t op = rng() % 10;
    const uint64_t used = tpu::isa::used_bits(static_cast<Opcode>(op));
    const uint64_t w = (n % 4 == 0) ? rng() : ((op << 60) | (rng() & used));
    expect_same(probe, w);
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace
