// The disassembler of docs/assembly.md: golden/isa.hpp's decode(), then one line of text per
// instruction in the form the assembler reads back to the same word.
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "golden/fixed_point.hpp"
#include "golden/isa.hpp"
#include "golden/vpu_model.hpp"
#include "sw/asm/assembler.hpp"

namespace tpu::assembler {

namespace {

std::string hex(uint64_t v, int digits) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%0*" PRIX64, digits, v);
  return buf;
}

std::string u(uint32_t v) { return std::to_string(v); }

// A buffer-row field with its address register: "aR+FIELD", or the field alone for none.
std::string row(uint32_t field, uint32_t reg) {
  if (reg == 0) return u(field);
  std::string text = "a";
  text += u(reg);
  text += '+';
  text += u(field);
  return text;
}

std::string vpu_text(const isa::Instr& i) {
  const isa::VpuCfgFields cfg = isa::unpack_cfg(i.cfg);
  static const std::pair<const char*, uint32_t> kMaskBits[] = {
      {"bias", golden::kMaskBias},
      {"act", golden::kMaskAct},
      {"loss", golden::kMaskLoss},
      {"deriv", golden::kMaskDeriv},
  };
  std::string mask;
  for (const auto& [name, bit] : kMaskBits) {
    if ((cfg.mask & bit) != 0) mask += (mask.empty() ? "" : "+") + std::string(name);
  }
  if (mask.empty()) mask = "none";
  std::string act;
  switch (cfg.act_fn) {
    case golden::kActIdentity:
      act = "identity";
      break;
    case golden::kActRelu:
      act = "relu";
      break;
    case golden::kActLeakyRelu:
      act = "leaky";
      break;
    default:
      act = u(cfg.act_fn);  // the reserved code: decode's ErrField, but it has a word
      break;
  }
  return "vpu mask=" + mask + ", act=" + act + ", leak=" + u(cfg.leak_shift) +
         ", batch=" + u(cfg.batch_log2) + ", src=" + (cfg.deriv_src ? "s" : "z") +
         ", bias=" + row(i.bias, i.bias_reg) + ", side=" + row(i.side, i.side_reg);
}

}  // namespace

std::string fixed_to_text(int32_t raw) {
  constexpr int kFrac = golden::kQ8_8.frac_bits;
  const int64_t magnitude = raw < 0 ? -int64_t{raw} : int64_t{raw};
  const int64_t whole = magnitude >> kFrac;
  // frac / 2^F = frac * 5^F / 10^F: exactly F decimal digits.
  uint64_t five_pow = 1;
  for (int k = 0; k < kFrac; ++k) five_pow *= 5;
  const uint64_t frac = static_cast<uint64_t>(magnitude & ((int64_t{1} << kFrac) - 1)) * five_pow;
  char digits[32];
  std::snprintf(digits, sizeof digits, "%0*" PRIu64, kFrac, frac);
  std::string f = digits;
  while (f.size() > 1 && f.back() == '0') f.pop_back();
  return (raw < 0 ? "-" : "") + std::to_string(whole) + "." + f;
}

std::string disassemble_one(uint64_t word) {
  const std::optional<isa::Instr> decoded = isa::decode(word);
  if (!decoded) return ".word " + hex(word, 16);
  const isa::Instr& i = *decoded;
  switch (i.op) {
    case isa::Opcode::kNop:
      return "nop";
    case isa::Opcode::kHalt:
      return "halt";
    case isa::Opcode::kSync:
      return "sync";
    case isa::Opcode::kEndl:
      return "endl";
    case isa::Opcode::kLoop:
      return "loop " + u(i.count);
    case isa::Opcode::kSeed:
      return "seed " + hex(i.seed, 8);
    case isa::Opcode::kVpu:
      return vpu_text(i);
    case isa::Opcode::kLoadw:
      return "loadw " + row(i.addr, i.addr_reg) + ", rows=" + u(i.rows) + (i.t ? ", t" : "");
    case isa::Opcode::kMatmul:
      return "matmul " + row(i.act, i.act_reg) + ", " + row(i.out, i.out_reg) + ", rows=" + u(i.rows) + ", k=" + u(i.k) +
             ", n=" + u(i.n) + (i.t ? ", t" : "") + (i.acc ? ", acc" : "");
    case isa::Opcode::kSgd:
      return "sgd " + u(i.theta) + ", " + u(i.grad) + ", count=" + u(i.count) +
             ", lr=" + fixed_to_text(i.lr) + (i.stochastic ? ", stochastic" : "");
    case isa::Opcode::kSeta:
      return "seta a" + u(i.reg) + ", " + std::to_string(i.imm);
    case isa::Opcode::kAdda:
      return "adda a" + u(i.reg) + ", " + std::to_string(i.imm);
  }
  return ".word " + hex(word, 16);  // unreachable: decode() returns only the opcodes above
}

std::string disassemble(const std::vector<uint64_t>& words) {
  std::string out;
  int depth = 0;
  for (const uint64_t w : words) {
    const std::string line = disassemble_one(w);
    if (line == "endl" && depth > 0) --depth;
    out += std::string(2 * static_cast<size_t>(depth), ' ') + line + "\n";
    if (line.rfind("loop ", 0) == 0) ++depth;
  }
  return out;
}

}  // namespace tpu::assembler
