// The instruction set of docs/isa.md in C++: one struct per decoded instruction,
// encode() and decode() between it and the 64-bit word, and the error codes. The RTL's
// copy lives in rtl/tpu_pkg.sv; tests/isa_test.cpp checks the two agree.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace tpu::isa {

enum class Opcode : uint8_t {
  kNop = 0x0,
  kHalt = 0x1,
  kSync = 0x2,
  kLoop = 0x3,
  kEndl = 0x4,
  kSeed = 0x5,
  kVpu = 0x6,
  kLoadw = 0x7,
  kMatmul = 0x8,
  kSgd = 0x9,
  kSeta = 0xA,
  kAdda = 0xB,
};

// Status word states and error codes (docs/isa.md).
enum class State : uint8_t { kIdle = 0, kRunning = 1, kSync = 2, kDone = 3, kError = 4 };
enum class Error : uint8_t {
  kNone = 0,
  kOpcode = 1,
  kAddress = 2,
  kField = 3,
  kLoop = 4,
  kPc = 5,
  kBuffer = 6,
};

// A decoded instruction: every field of every format; the ones a format does not use
// are zero. Field widths are in docs/isa.md.
struct Instr {
  Opcode op = Opcode::kNop;
  uint32_t count = 0;       // loop: repetitions; sgd: rows
  uint32_t seed = 0;        // seed
  uint32_t side = 0;        // vpu: first side row (before its register is added)
  uint32_t side_reg = 0;    // vpu: address register added to side (0: none)
  uint32_t bias = 0;        // vpu: bias row
  uint32_t bias_reg = 0;    // vpu: address register added to bias
  uint32_t cfg = 0;         // vpu: vpu_cfg_t, 15 bits
  bool acc = false;         // matmul: add to the rows already at out
  uint32_t addr = 0;        // loadw
  uint32_t addr_reg = 0;    // loadw: address register added to addr
  uint32_t rows = 0;        // loadw, matmul
  bool t = false;           // loadw, matmul: transposed
  uint32_t act = 0;         // matmul
  uint32_t act_reg = 0;     // matmul: address register added to act
  uint32_t out = 0;         // matmul
  uint32_t out_reg = 0;     // matmul: address register added to out
  uint32_t k = 0;           // matmul: activation lanes
  uint32_t n = 0;           // matmul: output lanes
  uint32_t theta = 0;       // sgd
  uint32_t grad = 0;        // sgd
  int32_t lr = 0;           // sgd: Q8.8, signed 16 bits
  bool stochastic = false;  // sgd
  uint32_t reg = 0;         // seta, adda: the address register (1..3; 0 is ErrField)
  int32_t imm = 0;          // seta: 0..65535; adda: -32768..32767

  bool operator==(const Instr&) const = default;
};

// One field of the word: bits [lsb + width - 1 : lsb].
struct Field {
  int lsb;
  int width;
  uint64_t get(uint64_t w) const { return (w >> lsb) & ((uint64_t{1} << width) - 1); }
  uint64_t put(uint64_t v) const {
    if (v >> width) {
      throw std::invalid_argument("value " + std::to_string(v) + " does not fit " +
                                  std::to_string(width) + " bits");
    }
    return v << lsb;
  }
  uint64_t mask() const { return ((uint64_t{1} << width) - 1) << lsb; }
};

inline constexpr Field kOp{60, 4};
inline constexpr Field kLoopCount{0, 16};
inline constexpr Field kSeed{0, 32};
inline constexpr Field kVpuSide{0, 16};
inline constexpr Field kVpuSideReg{16, 2};
inline constexpr Field kVpuBias{18, 16};
inline constexpr Field kVpuBiasReg{34, 2};
inline constexpr Field kVpuCfg{36, 15};
inline constexpr Field kLoadwAddr{0, 16};
inline constexpr Field kLoadwAddrReg{16, 2};
inline constexpr Field kLoadwRows{18, 8};
inline constexpr Field kLoadwT{26, 1};
inline constexpr Field kMatmulAct{0, 16};
inline constexpr Field kMatmulActReg{16, 2};
inline constexpr Field kMatmulOut{18, 16};
inline constexpr Field kMatmulOutReg{34, 2};
inline constexpr Field kMatmulRows{36, 10};
inline constexpr Field kMatmulK{46, 6};
inline constexpr Field kMatmulN{52, 6};
inline constexpr Field kMatmulT{58, 1};
inline constexpr Field kMatmulAcc{59, 1};
inline constexpr Field kSgdTheta{0, 16};
inline constexpr Field kSgdGrad{16, 16};
inline constexpr Field kSgdCount{32, 11};
inline constexpr Field kSgdLr{43, 16};
inline constexpr Field kSgdStochastic{59, 1};
inline constexpr Field kAregImm{0, 16};
inline constexpr Field kAregReg{16, 2};

// Number of address registers a1..a3 (isa.md, "Address registers"); a[0] reads 0.
inline constexpr int kAddrRegs = 4;

// The bits a format uses besides the opcode; every other bit must be zero.
inline uint64_t used_bits(Opcode op) {
  switch (op) {
    case Opcode::kNop:
    case Opcode::kHalt:
    case Opcode::kSync:
    case Opcode::kEndl:
      return 0;
    case Opcode::kLoop:
      return kLoopCount.mask();
    case Opcode::kSeed:
      return kSeed.mask();
    case Opcode::kVpu:
      return kVpuSide.mask() | kVpuSideReg.mask() | kVpuBias.mask() | kVpuBiasReg.mask() |
             kVpuCfg.mask();
    case Opcode::kLoadw:
      return kLoadwAddr.mask() | kLoadwAddrReg.mask() | kLoadwRows.mask() | kLoadwT.mask();
    case Opcode::kMatmul:
      return kMatmulAct.mask() | kMatmulActReg.mask() | kMatmulOut.mask() |
             kMatmulOutReg.mask() | kMatmulRows.mask() | kMatmulK.mask() | kMatmulN.mask() |
             kMatmulT.mask() | kMatmulAcc.mask();
    case Opcode::kSeta:
    case Opcode::kAdda:
      return kAregImm.mask() | kAregReg.mask();
    case Opcode::kSgd:
      return kSgdTheta.mask() | kSgdGrad.mask() | kSgdCount.mask() | kSgdLr.mask() |
             kSgdStochastic.mask();
  }
  return 0;
}

// The word for `i`; throws std::invalid_argument when a field does not fit its width.
inline uint64_t encode(const Instr& i) {
  uint64_t w = kOp.put(static_cast<uint64_t>(i.op));
  switch (i.op) {
    case Opcode::kNop:
    case Opcode::kHalt:
    case Opcode::kSync:
    case Opcode::kEndl:
      break;
    case Opcode::kLoop:
      w |= kLoopCount.put(i.count);
      break;
    case Opcode::kSeed:
      w |= kSeed.put(i.seed);
      break;
    case Opcode::kVpu:
      w |= kVpuSide.put(i.side) | kVpuSideReg.put(i.side_reg) | kVpuBias.put(i.bias) |
           kVpuBiasReg.put(i.bias_reg) | kVpuCfg.put(i.cfg);
      break;
    case Opcode::kLoadw:
      w |= kLoadwAddr.put(i.addr) | kLoadwAddrReg.put(i.addr_reg) | kLoadwRows.put(i.rows) |
           kLoadwT.put(i.t);
      break;
    case Opcode::kMatmul:
      w |= kMatmulAct.put(i.act) | kMatmulActReg.put(i.act_reg) | kMatmulOut.put(i.out) |
           kMatmulOutReg.put(i.out_reg) | kMatmulRows.put(i.rows) | kMatmulK.put(i.k) |
           kMatmulN.put(i.n) | kMatmulT.put(i.t) | kMatmulAcc.put(i.acc);
      break;
    case Opcode::kSeta:
      if (i.imm < 0 || i.imm > 65535) {
        throw std::invalid_argument("seta value " + std::to_string(i.imm) +
                                    " does not fit 16 bits");
      }
      w |= kAregImm.put(static_cast<uint64_t>(i.imm)) | kAregReg.put(i.reg);
      break;
    case Opcode::kAdda:
      if (i.imm < -32768 || i.imm > 32767) {
        throw std::invalid_argument("adda step " + std::to_string(i.imm) +
                                    " does not fit 16 bits signed");
      }
      w |= kAregImm.put(static_cast<uint16_t>(i.imm)) | kAregReg.put(i.reg);
      break;
    case Opcode::kSgd:
      if (i.lr < -32768 || i.lr > 32767) {
        throw std::invalid_argument("lr " + std::to_string(i.lr) + " does not fit Q8.8");
      }
      w |= kSgdTheta.put(i.theta) | kSgdGrad.put(i.grad) | kSgdCount.put(i.count) |
           kSgdLr.put(static_cast<uint16_t>(i.lr)) | kSgdStochastic.put(i.stochastic);
      break;
  }
  return w;
}

// The instruction in `w`, or nothing when the opcode is illegal or a reserved bit is set
// (ErrOpcode). Field values are not range-checked here: that is decode's next step.
inline std::optional<Instr> decode(uint64_t w) {
  const auto code = static_cast<uint8_t>(kOp.get(w));
  if (code > static_cast<uint8_t>(Opcode::kAdda)) return std::nullopt;
  Instr i;
  i.op = static_cast<Opcode>(code);
  if ((w & ~kOp.mask() & ~used_bits(i.op)) != 0) return std::nullopt;
  switch (i.op) {
    case Opcode::kNop:
    case Opcode::kHalt:
    case Opcode::kSync:
    case Opcode::kEndl:
      break;
    case Opcode::kLoop:
      i.count = static_cast<uint32_t>(kLoopCount.get(w));
      break;
    case Opcode::kSeed:
      i.seed = static_cast<uint32_t>(kSeed.get(w));
      break;
    case Opcode::kVpu:
      i.side = static_cast<uint32_t>(kVpuSide.get(w));
      i.side_reg = static_cast<uint32_t>(kVpuSideReg.get(w));
      i.bias = static_cast<uint32_t>(kVpuBias.get(w));
      i.bias_reg = static_cast<uint32_t>(kVpuBiasReg.get(w));
      i.cfg = static_cast<uint32_t>(kVpuCfg.get(w));
      break;
    case Opcode::kLoadw:
      i.addr = static_cast<uint32_t>(kLoadwAddr.get(w));
      i.addr_reg = static_cast<uint32_t>(kLoadwAddrReg.get(w));
      i.rows = static_cast<uint32_t>(kLoadwRows.get(w));
      i.t = kLoadwT.get(w) != 0;
      break;
    case Opcode::kMatmul:
      i.act = static_cast<uint32_t>(kMatmulAct.get(w));
      i.act_reg = static_cast<uint32_t>(kMatmulActReg.get(w));
      i.out = static_cast<uint32_t>(kMatmulOut.get(w));
      i.out_reg = static_cast<uint32_t>(kMatmulOutReg.get(w));
      i.rows = static_cast<uint32_t>(kMatmulRows.get(w));
      i.k = static_cast<uint32_t>(kMatmulK.get(w));
      i.n = static_cast<uint32_t>(kMatmulN.get(w));
      i.t = kMatmulT.get(w) != 0;
      i.acc = kMatmulAcc.get(w) != 0;
      break;
    case Opcode::kSgd:
      i.theta = static_cast<uint32_t>(kSgdTheta.get(w));
      i.grad = static_cast<uint32_t>(kSgdGrad.get(w));
      i.count = static_cast<uint32_t>(kSgdCount.get(w));
      i.lr = static_cast<int16_t>(static_cast<uint16_t>(kSgdLr.get(w)));
      i.stochastic = kSgdStochastic.get(w) != 0;
      break;
    case Opcode::kSeta:
      i.imm = static_cast<int32_t>(kAregImm.get(w));
      i.reg = static_cast<uint32_t>(kAregReg.get(w));
      break;
    case Opcode::kAdda:
      i.imm = static_cast<int16_t>(static_cast<uint16_t>(kAregImm.get(w)));
      i.reg = static_cast<uint32_t>(kAregReg.get(w));
      break;
  }
  return i;
}

// vpu_cfg_t packing (docs/architecture.md): mask [14:11], act_fn [10:9], leak_shift [8:5],
// batch_log2 [4:1], deriv_src [0].
struct VpuCfgFields {
  uint32_t mask = 0, act_fn = 0, leak_shift = 0, batch_log2 = 0;
  bool deriv_src = false;
};
inline uint32_t pack_cfg(const VpuCfgFields& c) {
  return (c.mask & 0xF) << 11 | (c.act_fn & 0x3) << 9 | (c.leak_shift & 0xF) << 5 |
         (c.batch_log2 & 0xF) << 1 | (c.deriv_src ? 1u : 0u);
}
inline VpuCfgFields unpack_cfg(uint32_t cfg) {
  return {(cfg >> 11) & 0xF, (cfg >> 9) & 0x3, (cfg >> 5) & 0xF, (cfg >> 1) & 0xF, (cfg & 1) != 0};
}

// Status word (CSR 0): pc [15:0], state [18:16], err [23:20].
inline uint64_t status_word(uint32_t pc, State s, Error e) {
  return (pc & 0xFFFF) | static_cast<uint64_t>(s) << 16 | static_cast<uint64_t>(e) << 20;
}

}  // namespace tpu::isa
