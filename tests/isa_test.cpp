// The instruction encoding is defined twice, in rtl/tpu_pkg.sv and golden/isa.hpp; this
// test decodes words with both (the RTL through the control unit's own decoder,
// rtl/ctrl/instr_decode.sv) and compares every field and the legality verdict: every
// opcode (0..15), every single reserved bit, every field alone, and random words.
#include <gtest/gtest.h>

#include <random>
#include <utility>
#include <vector>

#include "Vinstr_decode.h"
#include "golden/isa.hpp"
#include "tb/seed.hpp"

namespace {

using tpu::isa::Field;
using tpu::isa::Opcode;

constexpr uint64_t kLastOpcode = static_cast<uint64_t>(Opcode::kAdda);

// The bits opcode `op` may use below the opcode; none for the illegal opcodes.
uint64_t used_or_none(uint64_t op) {
  return op <= kLastOpcode ? tpu::isa::used_bits(static_cast<Opcode>(op)) : 0;
}

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
      EXPECT_EQ(rtl.vpu_side_reg_o, i.side_reg);
      EXPECT_EQ(rtl.vpu_bias_o, i.bias);
      EXPECT_EQ(rtl.vpu_bias_reg_o, i.bias_reg);
      EXPECT_EQ(rtl.vpu_cfg_o, i.cfg);
      break;
    case Opcode::kLoadw:
      EXPECT_EQ(rtl.loadw_addr_o, i.addr);
      EXPECT_EQ(rtl.loadw_addr_reg_o, i.addr_reg);
      EXPECT_EQ(rtl.loadw_rows_o, i.rows);
      EXPECT_EQ(rtl.loadw_t_o != 0, i.t);
      break;
    case Opcode::kMatmul:
      EXPECT_EQ(rtl.matmul_act_o, i.act);
      EXPECT_EQ(rtl.matmul_act_reg_o, i.act_reg);
      EXPECT_EQ(rtl.matmul_out_o, i.out);
      EXPECT_EQ(rtl.matmul_out_reg_o, i.out_reg);
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
    case Opcode::kSeta:
      EXPECT_EQ(rtl.areg_imm_o, static_cast<uint32_t>(i.imm));
      EXPECT_EQ(rtl.areg_reg_o, i.reg);
      break;
    case Opcode::kAdda:
      EXPECT_EQ(static_cast<int16_t>(rtl.areg_imm_o), i.imm);
      EXPECT_EQ(rtl.areg_reg_o, i.reg);
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
    const uint64_t used = used_or_none(op);
    expect_same(probe, base);
    expect_same(probe, base | used);
    for (int b = 0; b < 60; ++b) expect_same(probe, base | (uint64_t{1} << b));
  }
}

// Each field of each format alone: all ones, then each single bit of it, with every other
// bit clear. A field the RTL placed or sized differently shows up in its neighbour.
TEST(Isa, RtlAndCppAgreeOnEveryFieldAlone) {
  namespace i = tpu::isa;
  const std::vector<std::pair<Opcode, std::vector<Field>>> formats = {
      {Opcode::kLoop, {i::kLoopCount}},
      {Opcode::kSeed, {i::kSeed}},
      {Opcode::kVpu, {i::kVpuSide, i::kVpuSideReg, i::kVpuBias, i::kVpuBiasReg, i::kVpuCfg}},
      {Opcode::kLoadw, {i::kLoadwAddr, i::kLoadwAddrReg, i::kLoadwRows, i::kLoadwT}},
      {Opcode::kMatmul,
       {i::kMatmulAct, i::kMatmulActReg, i::kMatmulOut, i::kMatmulOutReg, i::kMatmulRows,
        i::kMatmulK, i::kMatmulN, i::kMatmulT, i::kMatmulAcc}},
      {Opcode::kSgd, {i::kSgdTheta, i::kSgdGrad, i::kSgdCount, i::kSgdLr, i::kSgdStochastic}},
      {Opcode::kSeta, {i::kAregImm, i::kAregReg}},
      {Opcode::kAdda, {i::kAregImm, i::kAregReg}},
  };
  Decoder probe;
  for (const auto& [op, fields] : formats) {
    const uint64_t base = i::kOp.put(static_cast<uint64_t>(op));
    uint64_t covered = 0;
    for (const Field& f : fields) {
      expect_same(probe, base | f.mask());
      for (int b = 0; b < f.width; ++b) expect_same(probe, base | (uint64_t{1} << (f.lsb + b)));
      covered |= f.mask();
    }
    EXPECT_EQ(covered, i::used_bits(op)) << "the fields listed here are the format's";
  }
}

// Every register selector value of every row field, with a field value beside it.
TEST(Isa, RtlAndCppAgreeOnEveryRegisterSelector) {
  namespace i = tpu::isa;
  Decoder probe;
  for (uint32_t r = 0; r < 4; ++r) {
    const uint32_t q = 3 - r;
    expect_same(probe, i::encode({.op = Opcode::kVpu, .side = 0xFFFF, .side_reg = r,
                                  .bias = 0x8001, .bias_reg = q, .cfg = 0x7FFF}));
    expect_same(probe, i::encode({.op = Opcode::kLoadw, .addr = 0x1234, .addr_reg = r,
                                  .rows = 255, .t = true}));
    expect_same(probe, i::encode({.op = Opcode::kMatmul, .acc = true, .rows = 1023, .t = true,
                                  .act = 0xFFFF, .act_reg = r, .out = 0xABCD, .out_reg = q,
                                  .k = 63, .n = 63}));
    expect_same(probe, i::encode({.op = Opcode::kSeta, .reg = r, .imm = 65535}));
    expect_same(probe, i::encode({.op = Opcode::kAdda, .reg = r, .imm = -32768}));
    expect_same(probe, i::encode({.op = Opcode::kAdda, .reg = r, .imm = 32767}));
  }
}

TEST(Isa, RtlAndCppAgreeOnRandomWords) {
  std::mt19937_64 rng(tpu::tb::test_seed("Isa.RtlAndCppAgreeOnRandomWords"));
  Decoder probe;
  for (int n = 0; n < 20000; ++n) {
    const uint64_t op = rng() % 16;
    const uint64_t used = used_or_none(op);
    // Mostly legal words of every format; every fourth is any 64 bits, and an illegal
    // opcode keeps random low bits too.
    const uint64_t low = (n % 4 == 0 || op > kLastOpcode) ? rng() : (rng() & used);
    const uint64_t w = (op << 60) | (low & ~tpu::isa::kOp.mask());
    expect_same(probe, w);
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace
