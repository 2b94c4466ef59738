// The assembler and disassembler (sw/asm, docs/assembly.md): every form against golden/isa.hpp's
// encode(), address-register operands and seta/adda, round trips word -> text -> word over
// every form, edge values, every register selector, every vpu configuration, every seta/adda
// value and random words, names and directives, every error message with its place, the
// optional decode checks, and the image formats.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "golden/isa.hpp"
#include "sw/asm/assembler.hpp"
#include "sw/asm/image.hpp"
#include "tb/seed.hpp"

namespace {

namespace isa = tpu::isa;
using tpu::assembler::AsmError;
using tpu::assembler::assemble;
using tpu::assembler::Diagnostic;
using tpu::assembler::disassemble;
using tpu::assembler::disassemble_one;
using tpu::assembler::Limits;
using tpu::assembler::Program;

std::string test_name() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

// The one word `line` assembles to.
uint64_t word_of(const std::string& line) {
  const Program p = assemble(line + "\n", "t.s");
  EXPECT_EQ(p.words.size(), 1u) << line;
  return p.words.empty() ? 0 : p.words[0];
}

// The first error assembling `source` as prog.s, as "prog.s:line:col: message".
std::string error_of(const std::string& source,
                     const std::optional<Limits>& limits = std::nullopt) {
  try {
    assemble(source, "prog.s", limits);
  } catch (const AsmError& e) {
    return e.what();
  }
  return "(assembled without error)";
}

isa::Instr make(isa::Opcode op) {
  isa::Instr i;
  i.op = op;
  return i;
}

// vpu_cfg_t mask bits (docs/architecture.md): bit 0 bias, 1 activation, 2 loss, 3 derivative.
constexpr uint32_t kBias = 1, kAct = 2, kLoss = 4, kDeriv = 8;

uint32_t cfg(uint32_t mask, uint32_t act_fn, uint32_t leak, uint32_t batch, bool src) {
  return isa::pack_cfg({mask, act_fn, leak, batch, src});
}

// word -> text -> word: the word must survive, and the text must be a fixed point.
void expect_round_trip(uint64_t word) {
  const std::string text = disassemble_one(word);
  uint64_t back = 0;
  try {
    back = word_of(text);
  } catch (const AsmError& e) {
    ADD_FAILURE() << "disassembly of 0x" << std::hex << word << " '" << text
                  << "' does not assemble: " << e.what();
    return;
  }
  EXPECT_EQ(back, word) << "'" << text << "'";
  EXPECT_EQ(disassemble_one(back), text);
}

// ---- each form against encode() ------------------------------------------------------------

TEST(AsmForms, NoOperandInstructions) {
  EXPECT_EQ(word_of("nop"), isa::encode(make(isa::Opcode::kNop)));
  EXPECT_EQ(word_of("halt"), isa::encode(make(isa::Opcode::kHalt)));
  EXPECT_EQ(word_of("sync"), isa::encode(make(isa::Opcode::kSync)));
  EXPECT_EQ(word_of("endl"), isa::encode(make(isa::Opcode::kEndl)));
  EXPECT_EQ(word_of("HaLt"), isa::encode(make(isa::Opcode::kHalt)));
}

TEST(AsmForms, LoopAndSeed) {
  isa::Instr loop = make(isa::Opcode::kLoop);
  loop.count = 65535;
  EXPECT_EQ(word_of("loop 65535"), isa::encode(loop));
  loop.count = 0;
  EXPECT_EQ(word_of("loop 0"), isa::encode(loop));
  isa::Instr seed = make(isa::Opcode::kSeed);
  seed.seed = 0xDEADBEEF;
  EXPECT_EQ(word_of("seed 0xdeadBEEF"), isa::encode(seed));
  seed.seed = 0xFFFFFFFF;
  EXPECT_EQ(word_of("seed 4294967295"), isa::encode(seed));
}

TEST(AsmForms, VpuKeysDefaultsAndOrder) {
  isa::Instr v = make(isa::Opcode::kVpu);
  EXPECT_EQ(word_of("vpu"), isa::encode(v));
  EXPECT_EQ(word_of("vpu mask=none, act=identity, leak=0, batch=0, src=z, bias=0, side=0"),
            isa::encode(v));
  v.cfg = cfg(kBias | kAct | kLoss | kDeriv, 2, 15, 15, true);
  v.bias = 65535;
  v.side = 65535;
  EXPECT_EQ(word_of("vpu mask=bias+act+loss+deriv, act=leaky, leak=15, batch=15, src=s, "
                    "bias=65535, side=65535"),
            isa::encode(v));
  EXPECT_EQ(word_of("vpu side=65535, src=S, batch=15, leak=15, act=LEAKY, "
                    "mask=deriv+loss+act+bias, bias=0xFFFF"),
            isa::encode(v));
  v = make(isa::Opcode::kVpu);
  v.cfg = cfg(kBias | kDeriv, 1, 0, 0, false);
  EXPECT_EQ(word_of("VPU Mask=Deriv+Bias, Act=ReLU"), isa::encode(v));
  v.cfg = cfg(kLoss, 0, 3, 2, false);
  v.bias = 7;
  v.side = 9;
  EXPECT_EQ(word_of("vpu mask=loss, leak=3, batch=2, bias=7, side=9"), isa::encode(v));
  v = make(isa::Opcode::kVpu);
  v.cfg = cfg(0, 3, 0, 0, false);
  EXPECT_EQ(word_of("vpu act=3"), isa::encode(v));  // reserved: decode's business, not ours
}

TEST(AsmForms, LoadwAndMatmul) {
  isa::Instr l = make(isa::Opcode::kLoadw);
  l.addr = 65535;
  l.rows = 255;
  EXPECT_EQ(word_of("loadw 65535, rows=255"), isa::encode(l));
  l.t = true;
  EXPECT_EQ(word_of("loadw 65535, rows=255, t"), isa::encode(l));
  EXPECT_EQ(word_of("LOADW 0xFFFF, ROWS=0xFF, T"), isa::encode(l));

  isa::Instr m = make(isa::Opcode::kMatmul);
  m.act = 65535;
  m.out = 65534;
  m.rows = 1023;
  m.k = 63;
  m.n = 62;
  EXPECT_EQ(word_of("matmul 65535, 65534, rows=1023, k=63, n=62"), isa::encode(m));
  m.t = true;
  EXPECT_EQ(word_of("matmul 65535, 65534, n=62, t, k=63, rows=1023"), isa::encode(m));
  EXPECT_EQ(word_of("matmul 0, 0, rows=0, k=0, n=0"), isa::encode(make(isa::Opcode::kMatmul)));
}

// seta aR, 0..65535 and adda aR, -32768..32767; a0 assembles (decode's ErrField).
TEST(AsmForms, SetaAdda) {
  isa::Instr a = make(isa::Opcode::kSeta);
  a.reg = 1;
  a.imm = 0;
  EXPECT_EQ(word_of("seta a1, 0"), isa::encode(a));
  a.reg = 2;
  a.imm = 65535;
  EXPECT_EQ(word_of("seta a2, 65535"), isa::encode(a));
  EXPECT_EQ(word_of("SETA A2, 0xFFFF"), isa::encode(a));
  a.reg = 3;
  a.imm = 12;
  EXPECT_EQ(word_of(".equ N, 4\nseta a3, N + N + N"), isa::encode(a));
  a.reg = 0;
  a.imm = 1;
  EXPECT_EQ(word_of("seta a0, 1"), isa::encode(a));
  // The bits by hand (isa.md: imm [15:0], reg [17:16], opcode 0xA / 0xB).
  EXPECT_EQ(word_of("seta a3, 0x1234"), 0xA000000000031234ull);
  EXPECT_EQ(word_of("adda a2, -1"), 0xB00000000002FFFFull);
  EXPECT_EQ(word_of("adda a1, -32768"), 0xB000000000018000ull);

  isa::Instr d = make(isa::Opcode::kAdda);
  d.reg = 1;
  d.imm = -32768;
  EXPECT_EQ(word_of("adda a1, -32768"), isa::encode(d));
  d.reg = 3;
  d.imm = 32767;
  EXPECT_EQ(word_of("adda a3, 32767"), isa::encode(d));
  d.reg = 2;
  d.imm = -8;
  EXPECT_EQ(word_of(".equ B, 8\nadda A2, -B"), isa::encode(d));
  d.reg = 0;
  d.imm = 0;
  EXPECT_EQ(word_of("adda a0, 0"), isa::encode(d));
}

// One address register in a buffer-row operand: anywhere in the sum, any case, alone.
TEST(AsmForms, RegisterOperands) {
  const auto loadw = [](uint32_t addr, uint32_t reg) {
    isa::Instr l = make(isa::Opcode::kLoadw);
    l.addr = addr;
    l.addr_reg = reg;
    l.rows = 1;
    return isa::encode(l);
  };
  EXPECT_EQ(word_of("loadw a1+16, rows=1"), loadw(16, 1));
  EXPECT_EQ(word_of("loadw a2 + 16, rows=1"), loadw(16, 2));
  EXPECT_EQ(word_of("loadw 16+a3, rows=1"), loadw(16, 3));
  EXPECT_EQ(word_of("loadw A1, rows=1"), loadw(0, 1));
  EXPECT_EQ(word_of("loadw (a1), rows=1"), loadw(0, 1));
  EXPECT_EQ(word_of("loadw 10 + a2 - 3, rows=1"), loadw(7, 2));
  EXPECT_EQ(word_of("loadw 10 - (3 - a2), rows=1"), loadw(7, 2));  // added after all
  EXPECT_EQ(word_of("loadw -(-a3) + 2, rows=1"), loadw(2, 3));
  EXPECT_EQ(word_of("loadw +a1 + 65535, rows=1"), loadw(65535, 1));
  EXPECT_EQ(word_of(".equ W, 40\nloadw W + a1 + 1, rows=1"), loadw(41, 1));
  EXPECT_EQ(word_of("loadw a0 + 5, rows=1"), loadw(5, 0));  // a0: no register
  EXPECT_EQ(word_of("loadw a0 + 5, rows=1"), word_of("loadw 5, rows=1"));

  isa::Instr m = make(isa::Opcode::kMatmul);
  m.act = 3;
  m.act_reg = 1;
  m.out = 64;
  m.out_reg = 3;
  m.rows = 4;
  m.k = 8;
  m.n = 8;
  m.acc = true;
  EXPECT_EQ(word_of("matmul a1+3, 64 + a3, rows=4, k=8, n=8, acc"), isa::encode(m));
  m.act = 0;
  m.act_reg = 2;
  m.out_reg = 2;  // the same register in both operands: one each is allowed
  EXPECT_EQ(word_of("matmul a2, a2+64, rows=4, k=8, n=8, acc"), isa::encode(m));

  isa::Instr v = make(isa::Opcode::kVpu);
  v.cfg = cfg(kBias | kLoss, 0, 0, 0, false);
  v.bias = 24;
  v.bias_reg = 2;
  v.side = 0;
  v.side_reg = 1;
  EXPECT_EQ(word_of("vpu mask=bias+loss, bias=a2+24, side=a1"), isa::encode(v));
  EXPECT_EQ(word_of("vpu side=a1+0, bias=24+A2, mask=loss+bias"), isa::encode(v));
  // The bits by hand: side [15:0], side_reg [17:16], bias [33:18], bias_reg [35:34].
  EXPECT_EQ(word_of("vpu bias=a3+1, side=a2+2"),
            (uint64_t{6} << 60) | (uint64_t{3} << 34) | (uint64_t{1} << 18) |
                (uint64_t{2} << 16) | 2u);
  EXPECT_EQ(word_of("loadw a3+7, rows=1"), (uint64_t{7} << 60) | (uint64_t{1} << 18) |
                                               (uint64_t{3} << 16) | 7u);
  EXPECT_EQ(word_of("matmul a1+1, a2+2, rows=1, k=1, n=1"),
            (uint64_t{8} << 60) | (uint64_t{1} << 52) | (uint64_t{1} << 46) |
                (uint64_t{1} << 36) | (uint64_t{2} << 34) | (uint64_t{2} << 18) |
                (uint64_t{1} << 16) | 1u);
  // Not registers: a4, a10, ax are ordinary names.
  const Program p = assemble(".equ a4, 3\n.equ a10, 4\nax: loadw a4 + a10 + a1, rows=1\n", "t.s");
  EXPECT_EQ(p.words[0], loadw(7, 1));
  EXPECT_EQ(p.symbols.count("a4"), 1u);
  EXPECT_EQ(p.symbols.count("ax"), 1u);
}

TEST(AsmForms, Sgd) {
  isa::Instr s = make(isa::Opcode::kSgd);
  s.theta = 65535;
  s.grad = 1;
  s.count = 2047;
  s.lr = 64;
  EXPECT_EQ(word_of("sgd 65535, 1, count=2047, lr=0.25"), isa::encode(s));
  s.lr = -384;
  s.stochastic = true;
  EXPECT_EQ(word_of("sgd 65535, 1, count=2047, lr=-1.5, stochastic"), isa::encode(s));
  EXPECT_EQ(word_of("sgd 65535, 1, lr=-1.5, Stochastic, count=2047"), isa::encode(s));
}

// lr text -> Q8.8: exact decimals, rounded to nearest with ties away from zero.
TEST(AsmForms, LearningRateConversion) {
  const struct {
    const char* text;
    int32_t raw;
  } kCases[] = {
      {"0.25", 64},         {"-1.5", -384},
      {"1", 256},           {"-2", -512},
      {"1.0", 256},         {"0", 0},
      {"0.00390625", 1},    {"0.001953125", 1},
      {"-0.001953125", -1}, {"0.0019531249", 0},
      {"0.0019531251", 1},  {"0.005859375", 2},  // 1.5 steps: tie
      {"-0.005859375", -2}, {"0.1", 26},
      {"-0.1", -26},        {"127.99609375", 32767},
      {"-128.0", -32768},   {"-128", -32768},
      {"+0.5", 128},        {"64q", 64},
      {"-64q", -64},        {"0xFFC0q", -64},
      {"0x8000q", -32768},  {"0x7FFFq", 32767},
      {"-32768q", -32768},  {"0b11q", 3},
      {"65535Q", -1},       {"(1 + 1)", 512},
      {"-(3 - 1)", -512},
  };
  for (const auto& c : kCases) {
    isa::Instr s = make(isa::Opcode::kSgd);
    s.count = 1;
    s.lr = c.raw;
    EXPECT_EQ(word_of(std::string("sgd 0, 0, count=1, lr=") + c.text), isa::encode(s)) << c.text;
  }
}

// ---- round trips ----------------------------------------------------------------------------

TEST(AsmRoundTrip, EveryFormAtEdgeValues) {
  std::vector<isa::Instr> instrs;
  for (const auto op :
       {isa::Opcode::kNop, isa::Opcode::kHalt, isa::Opcode::kSync, isa::Opcode::kEndl}) {
    instrs.push_back(make(op));
  }
  for (const uint32_t c : {0u, 1u, 4u, 65535u}) {
    isa::Instr i = make(isa::Opcode::kLoop);
    i.count = c;
    instrs.push_back(i);
  }
  for (const uint32_t v : {0u, 1u, 0x80000000u, 0xFFFFFFFFu}) {
    isa::Instr i = make(isa::Opcode::kSeed);
    i.seed = v;
    instrs.push_back(i);
  }
  for (const uint32_t a : {0u, 65535u}) {
    for (const uint32_t r : {0u, 1u, 255u}) {
      for (const bool t : {false, true}) {
        for (uint32_t reg = 0; reg < isa::kAddrRegs; ++reg) {
          isa::Instr i = make(isa::Opcode::kLoadw);
          i.addr = a;
          i.addr_reg = reg;
          i.rows = r;
          i.t = t;
          instrs.push_back(i);
        }
      }
    }
  }
  for (const uint32_t a : {0u, 65535u}) {
    for (const uint32_t r : {0u, 1023u}) {
      for (const uint32_t kn : {0u, 1u, 63u}) {
        for (const bool t : {false, true}) {
          for (uint32_t reg = 0; reg < isa::kAddrRegs * isa::kAddrRegs; ++reg) {
            isa::Instr i = make(isa::Opcode::kMatmul);
            i.act = a;
            i.act_reg = reg % isa::kAddrRegs;
            i.out = 65535 - a;
            i.out_reg = reg / isa::kAddrRegs;
            i.rows = r;
            i.k = kn;
            i.n = 63 - kn;
            i.t = t;
            i.acc = (reg & 1) != 0;
            instrs.push_back(i);
          }
        }
      }
    }
  }
  for (uint32_t reg = 0; reg < isa::kAddrRegs; ++reg) {
    for (const int32_t imm : {0, 1, 32767, 32768, 65535}) {
      isa::Instr i = make(isa::Opcode::kSeta);
      i.reg = reg;
      i.imm = imm;
      instrs.push_back(i);
    }
    for (const int32_t imm : {0, 1, -1, 32767, -32768}) {
      isa::Instr i = make(isa::Opcode::kAdda);
      i.reg = reg;
      i.imm = imm;
      instrs.push_back(i);
    }
  }
  for (const int32_t lr : {0, 1, -1, 64, -384, 256, 32767, -32768, 12345, -12345}) {
    for (const bool st : {false, true}) {
      isa::Instr i = make(isa::Opcode::kSgd);
      i.theta = 65535;
      i.grad = 0;
      i.count = 2047;
      i.lr = lr;
      i.stochastic = st;
      instrs.push_back(i);
    }
  }
  for (const isa::Instr& i : instrs) {
    const uint64_t w = isa::encode(i);
    SCOPED_TRACE(disassemble_one(w));
    expect_round_trip(w);
    EXPECT_EQ(isa::decode(word_of(disassemble_one(w))), i);
  }
}

// All 2^15 configurations, with the bias and side rows at their extremes and every pair of
// register selectors.
TEST(AsmRoundTrip, EveryVpuConfiguration) {
  const uint32_t cfg_values = uint32_t{1} << isa::kVpuCfg.width;
  for (uint32_t c = 0; c < cfg_values; ++c) {
    isa::Instr i = make(isa::Opcode::kVpu);
    i.cfg = c;
    i.bias = (c & 1) != 0 ? 65535 : c;
    i.side = (c & 2) != 0 ? 0 : 65535 - c;
    i.bias_reg = (c >> 2) % isa::kAddrRegs;
    i.side_reg = (c >> 4) % isa::kAddrRegs;
    expect_round_trip(isa::encode(i));
    if (HasFailure()) {
      ADD_FAILURE() << "cfg " << c;
      return;
    }
  }
}

TEST(AsmRoundTrip, EveryLearningRate) {
  for (int32_t lr = -32768; lr <= 32767; ++lr) {
    isa::Instr i = make(isa::Opcode::kSgd);
    i.count = 1;
    i.lr = lr;
    expect_round_trip(isa::encode(i));
    if (HasFailure()) {
      ADD_FAILURE() << "lr " << lr;
      return;
    }
  }
}

// Every seta and adda word there is (each value, the register cycling through a0..a3).
TEST(AsmRoundTrip, EverySetaAddaValue) {
  for (uint32_t v = 0; v <= 0xFFFF; ++v) {
    for (const isa::Opcode op : {isa::Opcode::kSeta, isa::Opcode::kAdda}) {
      isa::Instr i = make(op);
      i.reg = v % isa::kAddrRegs;
      i.imm = op == isa::Opcode::kSeta ? static_cast<int32_t>(v)
                                       : static_cast<int16_t>(static_cast<uint16_t>(v));
      expect_round_trip(isa::encode(i));
    }
    if (HasFailure()) {
      ADD_FAILURE() << "value " << v;
      return;
    }
  }
}

TEST(AsmRoundTrip, IllegalWordsBecomeDotWord) {
  const uint64_t words[] = {
      0xC000000000000000ull, 0xD000000000000000ull, 0xE00000000001FFFFull,
      0xFFFFFFFFFFFFFFFFull, 0x0000000000000001ull, 0x1800000000000000ull,
      0x3000000000010000ull, 0x6008000000000000ull,  // vpu with bit 51 set
      0xA000000000040000ull,  // seta with bit 18 set
      0xB800000000000000ull,  // adda with bit 59 set
      0x7000000004000000ull | (1ull << 27),  // loadw with bit 27 set
  };
  for (const uint64_t w : words) {
    ASSERT_FALSE(isa::decode(w).has_value()) << std::hex << w;
    EXPECT_EQ(disassemble_one(w).substr(0, 8), ".word 0x");
    expect_round_trip(w);
  }
  EXPECT_EQ(disassemble_one(0xF000000000000000ull), ".word 0xF000000000000000");
  EXPECT_EQ(disassemble_one(0x0000000000000001ull), ".word 0x0000000000000001");
}

// Random legal instructions (every field random within its width) and random raw words,
// one by one and as one listing. The seed is printed; TPU_SEED replays it.
TEST(AsmRoundTrip, RandomWords) {
  std::mt19937_64 rng(tpu::tb::test_seed(test_name()));
  const auto bits = [&rng](const isa::Field& f) {
    return static_cast<uint32_t>(rng() & ((uint64_t{1} << f.width) - 1));
  };
  std::vector<uint64_t> words;
  const int opcodes = static_cast<int>(isa::Opcode::kAdda) + 1;
  for (int n = 0; n < 20000; ++n) {
    isa::Instr i = make(static_cast<isa::Opcode>(rng() % opcodes));
    i.count = bits(i.op == isa::Opcode::kLoop ? isa::kLoopCount : isa::kSgdCount);
    i.seed = bits(isa::kSeed);
    i.side = bits(isa::kVpuSide);
    i.bias = bits(isa::kVpuBias);
    i.cfg = bits(isa::kVpuCfg);
    i.addr = bits(isa::kLoadwAddr);
    i.rows = bits(i.op == isa::Opcode::kLoadw ? isa::kLoadwRows : isa::kMatmulRows);
    i.t = (rng() & 1) != 0;
    i.act = bits(isa::kMatmulAct);
    i.out = bits(isa::kMatmulOut);
    i.k = bits(isa::kMatmulK);
    i.n = bits(isa::kMatmulN);
    i.theta = bits(isa::kSgdTheta);
    i.grad = bits(isa::kSgdGrad);
    i.lr = static_cast<int16_t>(bits(isa::kSgdLr));
    i.stochastic = (rng() & 1) != 0;
    i.side_reg = bits(isa::kVpuSideReg);
    i.bias_reg = bits(isa::kVpuBiasReg);
    i.addr_reg = bits(isa::kLoadwAddrReg);
    i.act_reg = bits(isa::kMatmulActReg);
    i.out_reg = bits(isa::kMatmulOutReg);
    i.acc = (rng() & 1) != 0;
    i.reg = bits(isa::kAregReg);
    i.imm = i.op == isa::Opcode::kAdda ? static_cast<int16_t>(bits(isa::kAregImm))
                                       : static_cast<int32_t>(bits(isa::kAregImm));
    // encode() ignores the fields a format does not use.
    const uint64_t w = isa::encode(i);
    words.push_back(w);
    words.push_back(rng());  // almost always illegal
  }
  int opcode_seen[16] = {};
  for (const uint64_t w : words) {
    ++opcode_seen[isa::kOp.get(w)];
    expect_round_trip(w);
    if (HasFailure()) return;
  }
  for (int op = 0; op < opcodes; ++op) EXPECT_GT(opcode_seen[op], 1000) << "opcode " << op;
  const Program p = assemble(disassemble(words), "listing.s");
  EXPECT_EQ(p.words, words);
}

// ---- disassembly text -----------------------------------------------------------------------

TEST(AsmDisassembly, Text) {
  isa::Instr m = make(isa::Opcode::kMatmul);
  m.out = 16;
  m.rows = 4;
  m.k = 8;
  m.n = 8;
  m.t = true;
  EXPECT_EQ(disassemble_one(isa::encode(m)), "matmul 0, 16, rows=4, k=8, n=8, t");
  isa::Instr v = make(isa::Opcode::kVpu);
  EXPECT_EQ(disassemble_one(isa::encode(v)),
            "vpu mask=none, act=identity, leak=0, batch=0, src=z, bias=0, side=0");
  v.cfg = cfg(kDeriv | kLoss | kBias, 2, 1, 2, true);
  v.bias = 3;
  v.side = 4;
  EXPECT_EQ(disassemble_one(isa::encode(v)),
            "vpu mask=bias+loss+deriv, act=leaky, leak=1, batch=2, src=s, bias=3, side=4");
  v.cfg = cfg(kAct, 3, 0, 0, false);
  EXPECT_EQ(disassemble_one(isa::encode(v)).substr(0, 22), "vpu mask=act, act=3, l");
  isa::Instr s = make(isa::Opcode::kSgd);
  s.theta = 1;
  s.grad = 2;
  s.count = 3;
  s.lr = -384;
  s.stochastic = true;
  EXPECT_EQ(disassemble_one(isa::encode(s)), "sgd 1, 2, count=3, lr=-1.5, stochastic");
  s.lr = 1;
  s.stochastic = false;
  EXPECT_EQ(disassemble_one(isa::encode(s)), "sgd 1, 2, count=3, lr=0.00390625");
  s.lr = 512;
  EXPECT_EQ(disassemble_one(isa::encode(s)), "sgd 1, 2, count=3, lr=2.0");
  isa::Instr seed = make(isa::Opcode::kSeed);
  seed.seed = 0xBEEF;
  EXPECT_EQ(disassemble_one(isa::encode(seed)), "seed 0x0000BEEF");
  isa::Instr l = make(isa::Opcode::kLoadw);
  l.addr = 20;
  l.rows = 2;
  EXPECT_EQ(disassemble_one(isa::encode(l)), "loadw 20, rows=2");
  l.addr_reg = 3;
  l.t = true;
  EXPECT_EQ(disassemble_one(isa::encode(l)), "loadw a3+20, rows=2, t");
  m.act_reg = 1;
  m.act = 16;
  m.out_reg = 2;
  m.out = 0;
  m.t = false;
  m.acc = true;
  EXPECT_EQ(disassemble_one(isa::encode(m)), "matmul a1+16, a2+0, rows=4, k=8, n=8, acc");
  v = make(isa::Opcode::kVpu);
  v.cfg = cfg(kBias | kLoss, 0, 0, 0, false);
  v.bias = 3;
  v.bias_reg = 2;
  v.side_reg = 1;
  EXPECT_EQ(disassemble_one(isa::encode(v)),
            "vpu mask=bias+loss, act=identity, leak=0, batch=0, src=z, bias=a2+3, side=a1+0");
  isa::Instr a = make(isa::Opcode::kSeta);
  a.reg = 1;
  a.imm = 5;
  EXPECT_EQ(disassemble_one(isa::encode(a)), "seta a1, 5");
  a.reg = 0;
  a.imm = 65535;
  EXPECT_EQ(disassemble_one(isa::encode(a)), "seta a0, 65535");
  a.op = isa::Opcode::kAdda;
  a.reg = 3;
  a.imm = -3;
  EXPECT_EQ(disassemble_one(isa::encode(a)), "adda a3, -3");
  a.imm = -32768;
  EXPECT_EQ(disassemble_one(isa::encode(a)), "adda a3, -32768");
  EXPECT_EQ(tpu::assembler::fixed_to_text(-32768), "-128.0");
  EXPECT_EQ(tpu::assembler::fixed_to_text(32767), "127.99609375");
  EXPECT_EQ(tpu::assembler::fixed_to_text(0), "0.0");
}

TEST(AsmDisassembly, ListingIndentsLoopBodies) {
  const Program p = assemble("loop 2\nloop 3\nnop\nendl\nendl\nendl\nhalt\n", "t.s");
  EXPECT_EQ(disassemble(p.words),
            "loop 2\n"
            "  loop 3\n"
            "    nop\n"
            "  endl\n"
            "endl\n"
            "endl\n"  // unmatched: the listing does not go below column 1
            "halt\n");
  EXPECT_EQ(disassemble({}), "");
}

// ---- names, directives, expressions, layout -------------------------------------------------

TEST(AsmSymbols, LabelsEquBufOrg) {
  const Program p = assemble(
      "; a program\n"
      ".equ N, 8\n"
      ".equ TWICE, N + N   # another comment style\n"
      ".buf X, N + N\n"
      ".buf W, N\n"
      ".org 0x40\n"
      ".buf H, 0b100\n"
      ".buf G, 2\n"
      "\n"
      "start:  loop (end - body)\n"
      "body:\n"
      "        matmul X, H, rows=4, k=N, n=N\n"
      "a: b:   loadw W + 1, rows=N - 1, t\n"
      "        endl\n"
      "end:    halt\n"
      "after:\n",
      "t.s");
  EXPECT_EQ(p.symbols.at("N"), 8);
  EXPECT_EQ(p.symbols.at("TWICE"), 16);
  EXPECT_EQ(p.symbols.at("X"), 0);
  EXPECT_EQ(p.symbols.at("W"), 16);
  EXPECT_EQ(p.symbols.at("H"), 64);
  EXPECT_EQ(p.symbols.at("G"), 68);
  EXPECT_EQ(p.symbols.at("start"), 0);
  EXPECT_EQ(p.symbols.at("body"), 1);
  EXPECT_EQ(p.symbols.at("a"), 2);
  EXPECT_EQ(p.symbols.at("b"), 2);
  EXPECT_EQ(p.symbols.at("end"), 4);
  EXPECT_EQ(p.symbols.at("after"), 5);
  EXPECT_EQ(p.symbols.size(), 12u);
  ASSERT_EQ(p.words.size(), 5u);
  EXPECT_EQ(p.words[0], word_of("loop 3"));
  EXPECT_EQ(p.words[1], word_of("matmul 0, 64, rows=4, k=8, n=8"));
  EXPECT_EQ(p.words[2], word_of("loadw 17, rows=7, t"));
  EXPECT_EQ(p.lines, (std::vector<int>{10, 12, 13, 14, 15}));
}

TEST(AsmSymbols, ExpressionsNumbersAndCase) {
  EXPECT_EQ(word_of("loop 10 - 3 - 2"), word_of("loop 5"));  // left to right
  EXPECT_EQ(word_of("loop 10 - (3 - 2)"), word_of("loop 9"));
  EXPECT_EQ(word_of("loop -(-7)"), word_of("loop 7"));
  EXPECT_EQ(word_of("loop - - 7 + +1"), word_of("loop 8"));
  EXPECT_EQ(word_of("loop 0x1F + 0B11 + 010"), word_of("loop 44"));  // 010 is decimal
  EXPECT_EQ(word_of("\tLoOp\t3\t; tabs"), word_of("loop 3"));
  EXPECT_EQ(word_of(".word 0xFFFFFFFFFFFFFFFF"), 0xFFFFFFFFFFFFFFFFull);
  EXPECT_EQ(word_of(".WORD 18446744073709551615"), 0xFFFFFFFFFFFFFFFFull);
  EXPECT_EQ(word_of("nop\r"), word_of("nop"));  // CRLF line ends
  // Names are case-sensitive; keywords are not.
  const Program p = assemble(".equ n, 1\n.equ N, 2\nmatmul n, N, rows=n, K=N, N=n\n", "t.s");
  EXPECT_EQ(p.words[0], word_of("matmul 1, 2, rows=1, k=2, n=1"));
  // A name may look like a keyword where a keyword is not expected.
  const Program q =
      assemble(".equ relu, 5\n.equ t, 6\nloadw t, rows=relu, t\nvpu act=relu\n", "t.s");
  EXPECT_EQ(q.words[0], word_of("loadw 6, rows=5, t"));
  EXPECT_EQ(q.words[1], word_of("vpu act=relu"));
  EXPECT_EQ(word_of(".equ ACT, 2\nvpu act=ACT"), word_of("vpu act=leaky"));
  // .org may move the allocator back: buffers may then overlap, on purpose.
  const Program r = assemble(".buf A, 4\n.org 2\n.buf B, 1\n", "t.s");
  EXPECT_EQ(r.symbols.at("B"), 2);
  EXPECT_TRUE(r.words.empty());
}

TEST(AsmSymbols, EmptyAndCommentOnlySources) {
  EXPECT_TRUE(assemble("", "t.s").words.empty());
  EXPECT_TRUE(assemble("\n\n; nothing\n# nothing\n   \n", "t.s").words.empty());
}

// ---- errors: the exact text, place included -------------------------------------------------

TEST(AsmErrors, Messages) {
  const struct {
    const char* source;
    const char* error;
  } kCases[] = {
      {"nop\n  matmlu 0, 16, rows=4, k=8, n=8\n", "prog.s:2:3: unknown mnemonic 'matmlu'"},
      {"matmul 0, 16, rows=4, k=8, n=70", "prog.s:1:30: value 70 does not fit field 'n' (6 bits)"},
      {"matmul 0, 16, rows=4, k=64, n=8", "prog.s:1:25: value 64 does not fit field 'k' (6 bits)"},
      {"loadw 0, rows=256", "prog.s:1:15: value 256 does not fit field 'rows' (8 bits)"},
      {"loop 65536", "prog.s:1:6: value 65536 does not fit field 'count' (16 bits)"},
      {"loop -1", "prog.s:1:6: value -1 does not fit field 'count' (16 bits)"},
      {"seed 0x100000000", "prog.s:1:6: value 4294967296 does not fit field 'seed' (32 bits)"},
      {"vpu leak=16", "prog.s:1:10: value 16 does not fit field 'leak' (4 bits)"},
      {"vpu batch=16", "prog.s:1:11: value 16 does not fit field 'batch' (4 bits)"},
      {"vpu act=4", "prog.s:1:9: value 4 does not fit field 'act' (2 bits)"},
      {"vpu bias=65536", "prog.s:1:10: value 65536 does not fit field 'bias' (16 bits)"},
      {"sgd 0, 0, count=2048, lr=1",
       "prog.s:1:17: value 2048 does not fit field 'count' (11 bits)"},
      {"matmul 0, 0, rows=1024, k=1, n=1",
       "prog.s:1:19: value 1024 does not fit field 'rows' (10 bits)"},
      {"loadw W3, rows=8", "prog.s:1:7: undefined name 'W3'"},
      {"loadw 1 + W3, rows=8", "prog.s:1:11: undefined name 'W3'"},
      {"loop N\n.equ N, 3\n", "prog.s:1:6: name 'N' is used before its definition on line 2"},
      {"x: nop\nx: halt\n", "prog.s:2:1: duplicate label 'x' (first defined on line 1)"},
      {".equ x, 1\n.buf x, 1\n", "prog.s:2:6: duplicate name 'x' (first defined on line 1)"},
      {"x:\n.equ x, 1\n", "prog.s:2:6: duplicate name 'x' (first defined on line 1)"},
      {"loop", "prog.s:1:5: missing operand 'count'"},
      {"loop   ; none", "prog.s:1:5: missing operand 'count'"},
      {"matmul 1", "prog.s:1:9: missing operand 'out'"},
      {"matmul 1, rows=4, k=1, n=1", "prog.s:1:11: missing operand 'out'"},
      {"matmul 1,, rows=4", "prog.s:1:10: missing operand 'out'"},
      {"matmul 1, 2, rows=4, n=1", "prog.s:1:25: missing operand 'k'"},
      {"loadw 5", "prog.s:1:8: missing operand 'rows'"},
      {"sgd 0, 1, count=2", "prog.s:1:18: missing operand 'lr'"},
      {"loadw 5, rows=", "prog.s:1:15: missing value for 'rows'"},
      {"loadw 5, rows=, t", "prog.s:1:15: missing value for 'rows'"},
      {"loadw 5, rows=1,", "prog.s:1:17: missing operand after ','"},
      {"loadw 5, cols=1", "prog.s:1:10: unknown key 'cols' for 'loadw'"},
      {"nop k=1", "prog.s:1:5: unknown key 'k' for 'nop'"},
      {"vpu Act=relu, act=leaky", "prog.s:1:15: duplicate key 'act'"},
      {"loadw 5, rows=1, t, T", "prog.s:1:21: duplicate flag 't'"},
      {"loop 3 4", "prog.s:1:8: junk after operand: '4'"},
      {"loadw 5, rows=1 t", "prog.s:1:17: junk after operand: 't'"},
      {"loop (3", "prog.s:1:8: missing ')'"},
      {"loop (3 4)", "prog.s:1:9: expected ')', found '4'"},
      {"loop 3 +", "prog.s:1:9: expected a number or name after '+'"},
      {"loop )", "prog.s:1:6: expected a number or name, found ')'"},
      {"loop 3, 4", "prog.s:1:9: unexpected operand '4'"},
      {"nop 3", "prog.s:1:5: unexpected operand '3'"},
      {"loadw 5, rows=1, x", "prog.s:1:18: unexpected operand 'x'"},
      {"sgd 0, 1, count=2, lr=1, t", "prog.s:1:26: unexpected operand 't'"},
      {"loop 3 @", "prog.s:1:8: unexpected character '@'"},
      {"loop 3\x01", "prog.s:1:7: unexpected character '\\x01'"},
      {"loop 12ab", "prog.s:1:6: malformed number '12ab'"},
      {"loop 0x", "prog.s:1:6: malformed number '0x'"},
      {"loop 0b102", "prog.s:1:6: malformed number '0b102'"},
      {"loop 5.", "prog.s:1:6: malformed number '5.'"},
      {"loop 1.5.5", "prog.s:1:6: malformed number '1.5.5'"},
      {".word 0x10000000000000000",
       "prog.s:1:7: number '0x10000000000000000' does not fit 64 bits"},
      {"loop 1.5",
       "prog.s:1:6: fixed-point number '1.5' is allowed only as the whole value of 'lr'"},
      {"loop 64q", "prog.s:1:6: raw Q8.8 number '64q' is allowed only as the whole value of 'lr'"},
      {"sgd 0, 0, count=1, lr=0.5 + 1",
       "prog.s:1:23: fixed-point number '0.5' is allowed only as the whole value of 'lr'"},
      {"sgd 0, 0, count=1, lr=1.5q", "prog.s:1:23: raw Q8.8 number '1.5q' must be a whole number"},
      {".foo 3", "prog.s:1:1: unknown directive '.foo'"},
      {"  5: nop", "prog.s:1:3: expected a mnemonic or directive, found '5'"},
      {"lbl: , nop", "prog.s:1:6: expected a mnemonic or directive, found ','"},
      {"vpu mask=bias+foo",
       "prog.s:1:15: unknown mask bit 'foo' (expected bias, act, loss, deriv or none)"},
      {"vpu mask=3", "prog.s:1:10: unknown mask bit '3' (expected bias, act, loss, deriv or none)"},
      {"vpu mask=none+act", "prog.s:1:15: 'none' cannot be combined with mask bits"},
      {"vpu mask=act+none", "prog.s:1:14: 'none' cannot be combined with mask bits"},
      {"vpu mask=act+Act", "prog.s:1:14: duplicate mask bit 'act'"},
      {"vpu mask=act+", "prog.s:1:14: expected a mask bit after '+'"},
      {"vpu mask=act bias", "prog.s:1:14: junk after operand: 'bias'"},
      {"vpu act=sigmoid",
       "prog.s:1:9: unknown activation 'sigmoid' (expected identity, relu or leaky)"},
      {"vpu src=x", "prog.s:1:9: unknown derivative source 'x' (expected z or s)"},
      {"vpu src=s z", "prog.s:1:11: junk after operand: 'z'"},
      {"sgd 0, 0, count=1, lr=128",
       "prog.s:1:23: value 128 does not fit field 'lr' (Q8.8, -128.0 to 127.99609375)"},
      {"sgd 0, 0, count=1, lr=-129",
       "prog.s:1:23: value -129 does not fit field 'lr' (Q8.8, -128.0 to 127.99609375)"},
      {"sgd 0, 0, count=1, lr=127.998046875",
       "prog.s:1:23: value 127.998046875 does not fit field 'lr' (Q8.8, -128.0 to 127.99609375)"},
      {"sgd 0, 0, count=1, lr=-128.001953125",
       "prog.s:1:23: value -128.001953125 does not fit field 'lr' (Q8.8, -128.0 to 127.99609375)"},
      {"sgd 0, 0, count=1, lr=0x10000q",
       "prog.s:1:23: value 0x10000q does not fit field 'lr' (16 bits)"},
      {"sgd 0, 0, count=1, lr=-32769q",
       "prog.s:1:23: value -32769q does not fit field 'lr' (16 bits)"},
      {".word -1", "prog.s:1:7: value -1 does not fit a 64-bit word"},
      {".word", "prog.s:1:6: missing operand after '.word'"},
      {".org 65536", "prog.s:1:6: value 65536 does not fit '.org' (16 bits)"},
      {".org -1", "prog.s:1:6: value -1 does not fit '.org' (16 bits)"},
      {".buf X, 0", "prog.s:1:9: buffer 'X' needs at least 1 row, not 0"},
      {".org 65530\n.buf X, 10\n",
       "prog.s:2:9: buffer 'X' (rows 65530 to 65539) does not fit the buffer (65536 rows)"},
      {".equ", "prog.s:1:5: missing name after '.equ'"},
      {".equ 5, 3", "prog.s:1:6: expected a name, found '5'"},
      {".equ X", "prog.s:1:7: expected ',' after 'X'"},
      {".equ X 3", "prog.s:1:8: expected ',' after 'X', found '3'"},
      {".equ X,", "prog.s:1:8: missing value for 'X'"},
      {".equ X, 0x8000000000000000",
       "prog.s:1:9: value 9223372036854775808 does not fit 64 bits signed"},
      {".buf X, Y", "prog.s:1:9: undefined name 'Y'"},
      // Address registers: reserved names.
      {"a1: nop", "prog.s:1:1: 'a1' is an address register and cannot be defined"},
      {"x: A0: nop", "prog.s:1:4: 'A0' is an address register and cannot be defined"},
      {".equ A2, 3", "prog.s:1:6: 'A2' is an address register and cannot be defined"},
      {".buf a3, 1", "prog.s:1:6: 'a3' is an address register and cannot be defined"},
      // ... in an operand that is not a buffer row.
      {"loop a1", "prog.s:1:6: address register 'a1' is allowed only in a buffer-row operand"},
      {"seed 1 + A2", "prog.s:1:10: address register 'A2' is allowed only in a buffer-row operand"},
      {"loadw 0, rows=a1",
       "prog.s:1:15: address register 'a1' is allowed only in a buffer-row operand"},
      {"matmul 0, 0, rows=1, k=a2, n=1",
       "prog.s:1:24: address register 'a2' is allowed only in a buffer-row operand"},
      {"sgd a1, 0, count=1, lr=1",
       "prog.s:1:5: address register 'a1' is allowed only in a buffer-row operand"},
      {"sgd 0, a3+1, count=1, lr=1",
       "prog.s:1:8: address register 'a3' is allowed only in a buffer-row operand"},
      {"sgd 0, 0, count=1, lr=a1",
       "prog.s:1:23: address register 'a1' is allowed only in a buffer-row operand"},
      {"vpu leak=a1", "prog.s:1:10: address register 'a1' is allowed only in a buffer-row operand"},
      {"vpu act=a2", "prog.s:1:9: address register 'a2' is allowed only in a buffer-row operand"},
      {"seta a1, a2", "prog.s:1:10: address register 'a2' is allowed only in a buffer-row operand"},
      {"adda a1, 1 - a3",
       "prog.s:1:14: address register 'a3' is allowed only in a buffer-row operand"},
      {".word a1", "prog.s:1:7: address register 'a1' is allowed only in a buffer-row operand"},
      {".org a1", "prog.s:1:6: address register 'a1' is allowed only in a buffer-row operand"},
      {".equ X, a0", "prog.s:1:9: address register 'a0' is allowed only in a buffer-row operand"},
      {".buf X, 1 + a1",
       "prog.s:1:13: address register 'a1' is allowed only in a buffer-row operand"},
      // ... two in one operand, or subtracted.
      {"loadw a1+a2, rows=1", "prog.s:1:10: only one address register per operand: 'a2' after 'a1'"},
      {"loadw a1 + 3 + A1, rows=1",
       "prog.s:1:16: only one address register per operand: 'A1' after 'a1'"},
      {"matmul 0, a0 + a3, rows=1, k=1, n=1",
       "prog.s:1:16: only one address register per operand: 'a3' after 'a0'"},
      {"vpu bias=a1-a2", "prog.s:1:13: only one address register per operand: 'a2' after 'a1'"},
      {"loadw 8-a1, rows=1", "prog.s:1:9: address register 'a1' must be added, not subtracted"},
      {"loadw -a1 + 8, rows=1", "prog.s:1:8: address register 'a1' must be added, not subtracted"},
      {"matmul 9 - (a2 + 1), 0, rows=1, k=1, n=1",
       "prog.s:1:13: address register 'a2' must be added, not subtracted"},
      {"vpu side=-(+a3)", "prog.s:1:13: address register 'a3' must be added, not subtracted"},
      // ... the field still fits its 16 bits on its own.
      {"loadw a1 - 1, rows=1", "prog.s:1:7: value -1 does not fit field 'addr' (16 bits)"},
      {"matmul 0, a2 + 65536, rows=1, k=1, n=1",
       "prog.s:1:11: value 65536 does not fit field 'out' (16 bits)"},
      {"vpu side=a1+65536", "prog.s:1:10: value 65536 does not fit field 'side' (16 bits)"},
      // seta/adda.
      {"seta 1, 5", "prog.s:1:6: expected an address register (a0 to a3), found '1'"},
      {"adda a4, 1", "prog.s:1:6: expected an address register (a0 to a3), found 'a4'"},
      {"seta a1 + 1, 5", "prog.s:1:9: junk after operand: '+'"},
      {"seta a1", "prog.s:1:8: missing operand 'imm'"},
      {"seta", "prog.s:1:5: missing operand 'reg'"},
      {"adda a1, 2, 3", "prog.s:1:13: unexpected operand '3'"},
      {"seta a1, 65536", "prog.s:1:10: value 65536 does not fit field 'imm' (16 bits)"},
      {"seta a1, -1", "prog.s:1:10: value -1 does not fit field 'imm' (16 bits)"},
      {"adda a1, 32768",
       "prog.s:1:10: value 32768 does not fit field 'imm' (16 bits signed, -32768 to 32767)"},
      {"adda a1, -32769",
       "prog.s:1:10: value -32769 does not fit field 'imm' (16 bits signed, -32768 to 32767)"},
      {"adda a1, 0.5",
       "prog.s:1:10: fixed-point number '0.5' is allowed only as the whole value of 'lr'"},
  };
  for (const auto& c : kCases) EXPECT_EQ(error_of(c.source), c.error) << c.source;
}

TEST(AsmErrors, AccessorsAndEveryErrorInSourceOrder) {
  const std::string source =
      ".equ BAD, UNKNOWN\n"  // 1: reported once ...
      "loop BAD\n"           // 2: ... and not again where BAD is used
      "  matmlu 0\n"         // 3
      "x: nop\n"             // 4
      "x: loop 1 2\n"        // 5: two errors on one line: the duplicate and the junk
      "halt\n";
  try {
    assemble(source, "p.s");
    FAIL() << "no error";
  } catch (const AsmError& e) {
    EXPECT_EQ(e.file(), "p.s");
    EXPECT_EQ(e.line(), 1);
    EXPECT_EQ(e.col(), 11);
    EXPECT_EQ(e.message(), "undefined name 'UNKNOWN'");
    EXPECT_STREQ(e.what(), "p.s:1:11: undefined name 'UNKNOWN'");
    const std::vector<Diagnostic> expected = {
        {"p.s", 1, 11, "undefined name 'UNKNOWN'"},
        {"p.s", 3, 3, "unknown mnemonic 'matmlu'"},
        {"p.s", 5, 1, "duplicate label 'x' (first defined on line 4)"},
        {"p.s", 5, 11, "junk after operand: '2'"},
    };
    EXPECT_EQ(e.diagnostics(), expected);
    const std::runtime_error& base = e;
    EXPECT_STREQ(base.what(), "p.s:1:11: undefined name 'UNKNOWN'");
  }
}

// A duplicate definition is reported and leaves the first one in force.
TEST(AsmErrors, DuplicateKeepsTheFirstDefinition) {
  try {
    assemble("nop\nx: .equ x, 5\nloop x\n", "p.s");
    FAIL() << "no error";
  } catch (const AsmError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(e.diagnostics()[0].str(), "p.s:2:9: duplicate name 'x' (first defined on line 2)");
  }
  EXPECT_EQ(error_of(".equ A, 1\n.equ A, 2\n.word A - 1\n"),
            "prog.s:2:6: duplicate name 'A' (first defined on line 1)");
}

// An unknown mnemonic still takes its word, so the labels after it keep their values: no
// second error from a label's value being off.
TEST(AsmErrors, LabelsAfterABadLineKeepTheirPlaces) {
  try {
    assemble("bogus 1\n.equ E, end\nloop E - 2\nend:\n", "p.s");
    FAIL() << "no error";
  } catch (const AsmError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(e.diagnostics()[0].str(), "p.s:1:1: unknown mnemonic 'bogus'");
  }
}

// ---- the optional decode checks -------------------------------------------------------------

TEST(AsmLimits, WithoutLimitsDecodeErrorsAssemble) {
  for (const char* s :
       {"loadw 0, rows=0", "loadw 0, rows=9", "loadw 250, rows=8", "matmul 0, 0, rows=0, k=1, n=1",
        "matmul 0, 0, rows=4, k=0, n=1", "matmul 0, 0, rows=9, k=1, n=1, t",
        "sgd 0, 0, count=0, lr=1", "loop 0", "endl", "vpu act=3", ".word 0xF000000000000000",
        "seta a0, 1", "adda a0, -1", "loadw a1+250, rows=8", ".word 0xA000000000000000"}) {
    EXPECT_NO_THROW(assemble(s, "t.s")) << s;
  }
}

TEST(AsmLimits, DecodeChecks) {
  const Limits lim{8, 256};
  const struct {
    const char* source;
    const char* error;
  } kCases[] = {
      {"loadw 0, rows=0", "prog.s:1:15: 'rows' must be 1 to 8 (ArrayDim 8), not 0"},
      {"loadw 0, rows=9", "prog.s:1:15: 'rows' must be 1 to 8 (ArrayDim 8), not 9"},
      {"loadw 250, rows=7",
       "prog.s:1:7: rows 250 to 256 of 'addr' lie outside the buffer (256 rows)"},
      {"loadw 250, rows=2, t",
       "prog.s:1:7: rows 250 to 257 of 'addr' lie outside the buffer (256 rows)"},
      {"matmul 0, 0, rows=0, k=1, n=1", "prog.s:1:19: 'rows' must be at least 1"},
      {"matmul 0, 0, rows=4, k=0, n=1", "prog.s:1:24: 'k' must be 1 to 8 (ArrayDim 8), not 0"},
      {"matmul 0, 0, rows=4, k=1, n=9", "prog.s:1:29: 'n' must be 1 to 8 (ArrayDim 8), not 9"},
      {"matmul 0, 0, rows=9, k=1, n=1, t",
       "prog.s:1:19: 'rows' must be 1 to 8 (ArrayDim 8) when transposed, not 9"},
      {"matmul 250, 0, rows=7, k=1, n=1",
       "prog.s:1:8: rows 250 to 256 of 'act' lie outside the buffer (256 rows)"},
      {"matmul 250, 0, rows=1, k=1, n=1, t",
       "prog.s:1:8: rows 250 to 257 of 'act' lie outside the buffer (256 rows)"},
      {"matmul 0, 255, rows=2, k=1, n=1",
       "prog.s:1:11: rows 255 to 256 of 'out' lie outside the buffer (256 rows)"},
      {"vpu mask=bias, bias=256\nmatmul 0, 0, rows=1, k=1, n=1",
       "prog.s:2:1: bias row 256 (set by the vpu on line 1) lies outside the buffer (256 rows)"},
      {"vpu mask=loss, side=255\nmatmul 0, 0, rows=2, k=1, n=1",
       "prog.s:2:1: side rows 255 to 256 (set by the vpu on line 1) lie outside the buffer (256 "
       "rows)"},
      {"vpu mask=deriv, src=s, side=255\nnop\nmatmul 0, 0, rows=2, k=1, n=1",
       "prog.s:3:1: side rows 255 to 256 (set by the vpu on line 1) lie outside the buffer (256 "
       "rows)"},
      {"vpu act=3", "prog.s:1:9: activation 3 is reserved"},
      {"sgd 0, 0, count=0, lr=1", "prog.s:1:17: 'count' must be at least 1"},
      {"sgd 250, 0, count=7, lr=1",
       "prog.s:1:5: rows 250 to 256 of 'theta' lie outside the buffer (256 rows)"},
      {"sgd 0, 250, count=7, lr=1",
       "prog.s:1:8: rows 250 to 256 of 'grad' lie outside the buffer (256 rows)"},
      {"loop 0", "prog.s:1:6: 'loop' count must be at least 1"},
      {"endl", "prog.s:1:1: 'endl' without an open 'loop'"},
      {"loop 1\nendl\nendl", "prog.s:3:1: 'endl' without an open 'loop'"},
      {"loop 1\nloop 1\nloop 1\nloop 1\n  loop 1", "prog.s:5:3: loops nest at most 4 deep"},
      {".word 0xF000000000000000", "prog.s:1:7: 0xF000000000000000 is not a legal instruction"},
      {".word 0x3000000000000000", "prog.s:1:7: 'loop' count must be at least 1"},
      {".buf A, 200\n.buf B, 57\n",
       "prog.s:2:9: buffer 'B' (rows 200 to 256) does not fit the buffer (256 rows)"},
      // seta/adda a0: decode's ErrField, at the register.
      {"seta a0, 1", "prog.s:1:6: 'seta' needs a1, a2 or a3, not a0 (register 0 is decode's "
                     "ErrField)"},
      {"nop\n  adda A0, -1", "prog.s:2:8: 'adda' needs a1, a2 or a3, not a0 (register 0 is "
                            "decode's ErrField)"},
      {".word 0xA000000000000005", "prog.s:1:7: 'seta' needs a1, a2 or a3, not a0 (register 0 is "
                                   "decode's ErrField)"},
      // With a register the row is known only at run time: the field alone (the register at
      // 0) is the lower bound that is checked.
      {"loadw a1+250, rows=7",
       "prog.s:1:7: rows a1+250 to a1+256 of 'addr' lie outside the buffer (256 rows) even with "
       "a1 = 0"},
      {"loadw 250 + a3, rows=2, t",
       "prog.s:1:7: rows a3+250 to a3+257 of 'addr' lie outside the buffer (256 rows) even with "
       "a3 = 0"},
      {"matmul a2+250, 0, rows=7, k=1, n=1",
       "prog.s:1:8: rows a2+250 to a2+256 of 'act' lie outside the buffer (256 rows) even with "
       "a2 = 0"},
      {"matmul 0, a1+255, rows=2, k=1, n=1",
       "prog.s:1:11: rows a1+255 to a1+256 of 'out' lie outside the buffer (256 rows) even with "
       "a1 = 0"},
      {"matmul a0+250, 0, rows=7, k=1, n=1",  // a0: no register, a plain row
       "prog.s:1:8: rows 250 to 256 of 'act' lie outside the buffer (256 rows)"},
      {"vpu mask=bias, bias=a2+256\nmatmul 0, 0, rows=1, k=1, n=1",
       "prog.s:2:1: bias row a2+256 (set by the vpu on line 1) lies outside the buffer (256 rows) "
       "even with a2 = 0"},
      {"vpu mask=loss, side=a3+255\nmatmul 0, 0, rows=2, k=1, n=1",
       "prog.s:2:1: side rows a3+255 to a3+256 (set by the vpu on line 1) lie outside the buffer "
       "(256 rows) even with a3 = 0"},
      {".word 0x70000000002300FA",  // loadw a3+250, rows=8
       "prog.s:1:7: rows a3+250 to a3+257 of 'addr' lie outside the buffer (256 rows) even with "
       "a3 = 0"},
  };
  for (const auto& c : kCases) EXPECT_EQ(error_of(c.source, lim), c.error) << c.source;
}

TEST(AsmLimits, LegalProgramsPass) {
  const Limits lim{8, 256};
  const std::string program =
      ".buf X, 16\n.buf W, 8\n.buf B, 1\n.buf Y, 8\n.buf H, 8\n"
      "loop 4\n loop 1\n  loop 1\n   loop 1\n   endl\n  endl\n endl\nendl\n"
      "loadw W, rows=8\nloadw 248, rows=8\nloadw 248, rows=1, t\n"
      "vpu mask=bias+act+loss+deriv, act=leaky, src=s, bias=255, side=Y\n"
      "matmul X, H, rows=8, k=8, n=8\nmatmul 248, 248, rows=8, k=1, n=1, t\n"
      "vpu mask=loss, side=255\nmatmul 0, 0, rows=1, k=1, n=1\n"
      "vpu mask=deriv, src=z, side=255\nmatmul 0, 0, rows=100, k=1, n=1\n"  // side unused
      "vpu mask=act, bias=9999\nmatmul 0, 0, rows=1, k=1, n=1\n"            // bias unused
      "sgd 0, 255, count=1, lr=0.5\nseed 3\nsync\n.word 0x1000000000000000\n"
      // Registers: the field alone is in range; what the register adds is not known here.
      "seta a1, 60000\nseta a2, 0\nseta a3, 65535\nadda a1, -32768\nadda a2, 32767\n"
      "loadw a1+248, rows=8\nloadw a2+248, rows=1, t\nmatmul a3+248, a1+248, rows=8, k=8, n=8\n"
      "vpu mask=bias+loss, bias=a1+255, side=a2+254\nmatmul a1, a2, rows=2, k=8, n=8\n"
      ".word 0xA000000000030000\n";
  EXPECT_EQ(error_of(program + "halt\n", lim), "(assembled without error)");
  EXPECT_THROW(assemble("nop", "t.s", Limits{0, 256}), std::invalid_argument);
  EXPECT_THROW(assemble("nop", "t.s", Limits{8, 0}), std::invalid_argument);
}

// ---- images ---------------------------------------------------------------------------------

TEST(AsmImage, BinaryIsLittleEndianWords) {
  const std::vector<uint64_t> words = {0x0123456789ABCDEFull, 0xF000000000000001ull};
  const std::string bytes = tpu::assembler::to_binary(words);
  ASSERT_EQ(bytes.size(), 16u);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0xEF);
  EXPECT_EQ(static_cast<unsigned char>(bytes[7]), 0x01);
  EXPECT_EQ(static_cast<unsigned char>(bytes[8]), 0x01);
  EXPECT_EQ(static_cast<unsigned char>(bytes[15]), 0xF0);
  EXPECT_EQ(tpu::assembler::from_binary(bytes, "x.bin"), words);
  try {
    tpu::assembler::from_binary(bytes.substr(0, 13), "x.bin");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "x.bin: size 13 bytes is not a whole number of 64-bit words");
  }
}

TEST(AsmImage, HexIsOneWordPerLine) {
  const std::vector<uint64_t> words = {0x0123456789ABCDEFull, 0x1ull};
  EXPECT_EQ(tpu::assembler::to_hex(words), "0123456789abcdef\n0000000000000001\n");
  EXPECT_EQ(tpu::assembler::from_hex("// a comment\n0123456789ABCDEF  1 // two\n\n", "x.hex"),
            words);
  try {
    tpu::assembler::from_hex("1\n\n0x12\n", "x.hex");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "x.hex:3: '0x12' is not a hex word of at most 16 digits");
  }
  EXPECT_THROW(tpu::assembler::from_hex("00000000000000000\n", "x.hex"), std::runtime_error);
}

}  // namespace
