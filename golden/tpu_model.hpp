// The whole TPU (`tpu`), cycle for cycle, from docs/architecture.md ("The TPU (`tpu`): control
// unit and top level") and docs/isa.md. It wires the unit models written from the earlier
// sections (SystolicArrayModel, VpuModel, UnifiedBufferModel with four read ports, SgdModel)
// and adds the control unit, the instruction memory and the host port's three spaces.
//
// A clock period is two calls, as for the buffer: outputs(in) is what the TPU drives during the
// period given the host inputs presented in it, and step(in) is the rising edge that closes it.
// Both go through evaluate(), which settles every combinational signal of the cycle in
// dependency order from the registers and the inputs:
//   1. registered outputs of the units: array row, vector-unit row, the SGD unit's write row
//      and busy, the buffer's read readies, read rows and err_o;
//   2. the control unit's decode of imem[pc]: illegal, waits, or issues (it needs the port
//      readies, the SGD unit's busy and the in-flight table);
//   3. who drives buffer ports 0, 1 and the write port (the SGD unit while busy or being given
//      its command, else the control unit), and the write data row;
//   4. the buffer's combinational outputs (wr_cmd_ready, host_req_ready depend on wr_valid and
//      host_req_we); the SGD unit's command valids (they depend on those readies);
//   5. the array's and the vector unit's inputs, the debug outputs, the host response.
// step() then steps every unit with the inputs it saw and updates the control unit's registers.
//
// The control unit's in-flight work is kept as a table of issue cycles on a model-internal clock
// (`now_`, cycles since reset): every later event of a `matmul` or `loadw` is a fixed offset from
// its issue cycle t, exactly the spec's numbers (N = ArrayDim):
//   loadw  t: port 1 command; rows on port 1 in t+2 .. t+1+rows (weight row i = row t+2+i);
//          loader busy t+1 .. t+1+rows
//   matmul t: port 0 command; activation row i to the array in t+2+i (row 0 with in_switch);
//          t+2N: port 2 (bias) / port 3 (side) commands; array output row i in t+2N+2+i;
//          t+2N+5: write command; result row i written in t+2N+6+i; in flight t+1 .. t+2N+5+rows
//
// Every SPEC-AMBIGUITY choice is marked where it is made; the list:
//  - Host responses of spaces 1 and 2 carry what the memory / registers hold during the accept
//    cycle t (the status word and counter of cycle t), like the buffer's read-in-accept-cycle.
//  - Space 3 (not named by the spec) answers with the error bit and does nothing.
//  - CSR 0 write: bit 0 decides first (a start; an error while Running or in Sync), else bit 1
//    (a continue; an error outside Sync), else (neither bit) an error. Higher bits are ignored.
//    Writing CSR 1 is an error ("another CSR"); reading CSR >= 2 is an error.
//  - A start also clears the error code to kNone and pulses the buffer's err_clear in the start
//    cycle (so a buffer error from before the start, e.g. a host address out of range, does not
//    turn into ErrBuffer in the new run). It keeps the operation register and the LFSRs.
//  - The cycle counter (CSR 1) is 32 bits and wraps; it counts every cycle whose state is
//    Running or Sync, the counter clearing at the end of the start cycle.
//  - ErrBuffer: decode's own checks come first; when none fails and err_o is high in a Running
//    cycle, the error is ErrBuffer, and the instruction in decode does not issue (the PC stays
//    at it, "PC at the faulting instruction").
//  - The SGD unit is never aborted (the spec: what was issued before an error completes).
//  - The delayed port 2/3 and write commands are presented for their one cycle; the spec's
//    timing guarantees the ports are ready then for programs decode accepts.
//  - host_req_ready: "no response waits" is judged from the registers (low in the cycle a
//    response is taken), as the buffer model does; spaces 1-3 need no buffer port.
//  - reset() clears every register and the units, but not the instruction memory or the
//    buffer's contents (RAMs have no reset); both are 0 at construction.
//
// Address registers (isa.md, "Address registers"): decode resolves every buffer-row field of
// loadw (addr), matmul (act, out) and vpu (bias, side) to field + a[sel] (exact, 17 bits) with
// the registers of the decode cycle, before any check; from there on the instruction is the
// resolved one: ErrAddress, the hazard test, the in-flight table, the buffer commands and the
// operation register all see rows. seta/adda write their register at the end of the cycle they
// issue in; reset and start clear a1..a3.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "golden/fixed_point.hpp"
#include "golden/isa.hpp"
#include "golden/sgd_model.hpp"
#include "golden/systolic_array_model.hpp"
#include "golden/ub_types.hpp"
#include "golden/unified_buffer_model.hpp"
#include "golden/vpu_model.hpp"

namespace tpu::golden {

// DataWidth: a lane takes 16 bits of the host port's data.
inline constexpr int kTpuDataWidth = 16;

// HostWidth = max(ArrayDim * DataWidth, 64).
inline int tpu_host_width(int dim) { return std::max(dim * kTpuDataWidth, 64); }
// Host data is carried as 32-bit words, least significant first.
inline std::size_t host_words(int host_width) {
  return static_cast<std::size_t>((host_width + 31) / 32);
}

// A buffer row on the host port: lane c in bits [16c +: 16] (two's complement).
inline std::vector<uint32_t> pack_row(const std::vector<int32_t>& row, int host_width) {
  std::vector<uint32_t> w(host_words(host_width), 0);
  for (std::size_t c = 0; c < row.size(); ++c) {
    const uint32_t bits = static_cast<uint32_t>(row[c]) & 0xFFFFu;
    w[c / 2] |= bits << (16 * (c % 2));
  }
  return w;
}
// The inverse of pack_row for `lanes` lanes; empty `words` are zeros.
inline std::vector<int32_t> unpack_row(const std::vector<uint32_t>& words, int lanes) {
  std::vector<int32_t> row(static_cast<std::size_t>(lanes), 0);
  for (std::size_t c = 0; c < row.size() && c / 2 < words.size(); ++c) {
    row[c] = static_cast<int16_t>(static_cast<uint16_t>(words[c / 2] >> (16 * (c % 2))));
  }
  return row;
}
// A 64-bit value (instruction word, status word, counter) in the low 64 bits.
inline std::vector<uint32_t> pack_u64(uint64_t v, int host_width) {
  std::vector<uint32_t> w(host_words(host_width), 0);
  w[0] = static_cast<uint32_t>(v);
  if (w.size() > 1) w[1] = static_cast<uint32_t>(v >> 32);
  return w;
}
inline uint64_t low_u64(const std::vector<uint32_t>& words) {
  uint64_t v = words.empty() ? 0 : words[0];
  if (words.size() > 1) v |= uint64_t{words[1]} << 32;
  return v;
}

// vpu_cfg_t bits (isa::pack_cfg's layout) as the vector unit's config.
inline VpuConfig to_vpu_config(uint32_t cfg) {
  const isa::VpuCfgFields f = isa::unpack_cfg(cfg);
  return VpuConfig{static_cast<uint8_t>(f.mask), static_cast<uint8_t>(f.act_fn),
                   static_cast<uint8_t>(f.leak_shift), static_cast<uint8_t>(f.batch_log2),
                   f.deriv_src};
}

// What the TPU sees during one cycle.
struct TpuInputs {
  bool host_req_valid = false;
  bool host_req_we = false;
  uint8_t host_req_space = 0;  // 0 buffer, 1 instruction memory, 2 control registers
  uint32_t host_req_addr = 0;  // 16 bits
  // HostWidth bits as 32-bit words, least significant first; empty = zeros.
  std::vector<uint32_t> host_req_wdata{};
  bool host_rsp_ready = false;
};

// What it drives during that cycle. Data fields are defined only while their valid is high;
// the model reports its registers otherwise.
struct TpuOutputs {
  bool host_req_ready = false;
  bool host_rsp_valid = false;
  std::vector<uint32_t> host_rsp_rdata{};
  bool host_rsp_err = false;
  bool array_valid = false;
  std::vector<int32_t> array_data{};
  bool vpu_valid = false;
  std::vector<int32_t> vpu_data{};
  bool wr_valid = false;
  uint32_t wr_addr = 0;
  std::vector<int32_t> wr_data{};
  uint32_t pc = 0;
  isa::State state = isa::State::kIdle;
  isa::Error err = isa::Error::kNone;
};

class TpuModel {
 public:
  static constexpr int kReadPorts = 4;   // 0 activations/theta, 1 weights/grad, 2 bias, 3 side
  static constexpr int kDefaultMaxInFlight = 8;  // matmuls in flight (the RTL's MaxInFlight)
  static constexpr int kLoopDepth = 4;   // loops nest 4 deep
  static constexpr int kMaxImemDepth = 1 << 16;  // host_req_addr is 16 bits

  // Throws std::invalid_argument for a dim or ub_depth the units reject, an imem_depth
  // outside [1, 65536], or max_in_flight (matmuls in flight at most, the RTL's MaxInFlight)
  // below 2.
  TpuModel(int dim, int ub_depth = 256, int imem_depth = 256,
           int max_in_flight = kDefaultMaxInFlight);

  // rst_ni: every register and unit back to reset; instruction memory and buffer contents kept.
  void reset();

  // What the TPU drives during the current cycle. Throws std::invalid_argument for inputs the
  // port cannot carry (space > 3, address over 16 bits, wdata of the wrong length).
  TpuOutputs outputs(const TpuInputs& in) const { return evaluated(in).out; }
  // The same without the copy, valid until the next step() or reset() (a per-cycle comparison).
  const TpuOutputs& outputs_view(const TpuInputs& in) const { return evaluated(in).out; }

  // The rising edge closing the current cycle.
  void step(const TpuInputs& in);

  int dim() const { return dim_; }
  int host_width() const { return tpu_host_width(dim_); }
  int ub_depth() const { return ub_depth_; }
  int imem_depth() const { return imem_depth_; }
  int max_in_flight() const { return max_in_flight_; }
  const UnifiedBufferModel& buffer() const { return ub_; }
  const SgdModel& sgd() const { return sgd_; }
  uint64_t cycles() const { return counter_; }  // CSR 1
  uint32_t pc() const { return pc_; }
  isa::State state() const { return state_; }
  isa::Error err() const { return err_; }
  // Address register r (0..3; a[0] is always 0); std::out_of_range otherwise.
  uint32_t areg(int r) const;
  // The operation register (set by vpu; bias and side are resolved rows).
  uint32_t op_cfg() const { return op_cfg_; }
  uint32_t op_bias() const { return op_bias_; }
  uint32_t op_side() const { return op_side_; }
  // Instruction word `addr`; std::out_of_range beyond imem_depth.
  uint64_t imem(uint32_t addr) const;

 private:
  struct Matmul {
    uint64_t t;  // issue cycle
    uint32_t rows;
    uint32_t out;
    uint32_t n;
    uint32_t cfg;  // the operation register as it was in cycle t
    uint32_t bias;
    uint32_t side;
    bool use_bias;
    bool use_side;
    bool acc;  // one bias row per output row
  };
  struct Load {
    uint64_t t;
    uint32_t rows;
  };
  struct LoopEntry {
    uint32_t start;
    uint32_t count;
  };
  enum class HostPhase : uint8_t { kIdle, kInFlight, kResponse };

  // Everything combinational in one cycle.
  struct Comb {
    TpuOutputs out;
    UbInputs ub;
    SgdInputs sgd;
    ArrayInputs arr;
    VpuInputs vpu;
    // Control unit: the instruction in decode, its buffer rows resolved (resolve()).
    bool issue = false;
    isa::Instr ins{};
    isa::Error fault = isa::Error::kNone;
    // Host request accepted this cycle (any space) and, for spaces 1 and 2, its effect.
    bool host_accept = false;
    bool host_err = false;
    std::vector<uint32_t> host_rdata{};
    bool imem_write = false;
    bool start = false;
    bool cont = false;
  };

  Comb evaluate(const TpuInputs& in) const;
  // evaluate(in), kept until the registers change: a testbench asks for outputs(in) and then
  // steps with the same inputs, and the cycle is evaluated once.
  const Comb& evaluated(const TpuInputs& in) const;
  static bool same_inputs(const TpuInputs& a, const TpuInputs& b) {
    return a.host_req_valid == b.host_req_valid && a.host_req_we == b.host_req_we &&
           a.host_req_space == b.host_req_space && a.host_req_addr == b.host_req_addr &&
           a.host_req_wdata == b.host_req_wdata && a.host_rsp_ready == b.host_rsp_ready;
  }
  void check_inputs(const TpuInputs& in) const;
  // Decode of imem[pc] in a Running cycle: sets c.issue / c.ins / c.fault.
  void decode(Comb& c, const UbOutputs& ub_reg, bool sgd_busy) const;
  // The spec's field, address and loop checks of a decoded instruction.
  isa::Error check_fields(const isa::Instr& i) const;
  isa::Error check_addresses(const isa::Instr& i) const;
  isa::Error check_loop(const isa::Instr& i) const;
  // `i` with every buffer-row field replaced by field + a[sel] (the selectors set to 0).
  isa::Instr resolve(const isa::Instr& i) const;
  bool uses_bias(uint32_t cfg) const { return (isa::unpack_cfg(cfg).mask & kMaskBias) != 0; }
  bool uses_side(uint32_t cfg) const {
    const isa::VpuCfgFields f = isa::unpack_cfg(cfg);
    return (f.mask & kMaskLoss) != 0 || ((f.mask & kMaskDeriv) != 0 && f.deriv_src);
  }
  // In cycle now_: matmul m in flight (t+1 .. t+2N+5+rows).
  bool in_flight(const Matmul& m) const {
    return now_ >= m.t + 1 && now_ <= m.t + 2 * n64() + 5 + m.rows;
  }
  bool loader_busy() const;
  // A RAW hazard on rows [lo, hi] this cycle.
  // Rows [lo, hi] read from cycle t + d on: streamed (one row per cycle in address
  // order) or as a block (every row from the first cycle).
  bool raw_hazard(uint64_t lo, uint64_t hi, int64_t d, bool streamed) const;
  int matmuls_in_flight() const;
  uint64_t n64() const { return static_cast<uint64_t>(dim_); }
  std::string where(const char* fn) const { return std::string("golden::TpuModel::") + fn + ": "; }

  int dim_;
  int ub_depth_;
  int imem_depth_;
  int max_in_flight_;
  UnifiedBufferModel ub_;
  SystolicArrayModel array_;
  VpuModel vpu_;
  SgdModel sgd_;
  std::vector<uint64_t> imem_;

  uint64_t now_ = 0;  // model clock: cycles since reset, for the in-flight table
  uint32_t pc_ = 0;
  isa::State state_ = isa::State::kIdle;
  isa::Error err_ = isa::Error::kNone;
  std::vector<LoopEntry> loops_;
  std::array<uint32_t, isa::kAddrRegs> areg_{};      // a[0] stays 0
  uint32_t op_cfg_ = 0, op_bias_ = 0, op_side_ = 0;  // the operation register
  std::vector<Matmul> matmuls_;  // issued and still to finish (in flight or delayed commands)
  std::vector<Load> loads_;      // the loader's commands still delivering rows
  HostPhase host_phase_ = HostPhase::kIdle;
  uint8_t host_space_ = 0;  // space of the request in flight / answered
  bool host_rsp_err_ = false;
  std::vector<uint32_t> host_rsp_rdata_{};  // spaces 1, 2 (space 0: the buffer's register)
  uint32_t counter_ = 0;                    // CSR 1

  // The last evaluation and its inputs (evaluated()); cleared whenever a register changes.
  mutable std::optional<Comb> cached_;
  mutable TpuInputs cached_in_;
  // evaluate()'s buffer outputs, kept so that their rows are not allocated anew every cycle.
  mutable UbOutputs ub_reg_, ub_out_;
};

// ---------------------------------------------------------------------------------------------

inline TpuModel::TpuModel(int dim, int ub_depth, int imem_depth, int max_in_flight)
    : dim_(dim),
      ub_depth_(ub_depth),
      imem_depth_(imem_depth),
      max_in_flight_(max_in_flight),
      ub_(dim, ub_depth, kReadPorts, kQ8_8, UbStrides::kZeroOrOne),
      array_(dim),
      vpu_(dim),
      sgd_(dim) {
  if (imem_depth < 1 || imem_depth > kMaxImemDepth) {
    throw std::invalid_argument(where("TpuModel") + "imem_depth=" + std::to_string(imem_depth) +
                                " outside [1, " + std::to_string(kMaxImemDepth) + "]");
  }
  if (max_in_flight < 2) {
    throw std::invalid_argument(where("TpuModel") + "max_in_flight=" +
                                std::to_string(max_in_flight) + " below 2");
  }
  imem_.assign(static_cast<std::size_t>(imem_depth), 0);
  reset();
}

inline void TpuModel::reset() {
  cached_.reset();
  ub_.reset();
  array_.reset();
  vpu_.reset();
  sgd_.reset();
  now_ = 0;
  pc_ = 0;
  state_ = isa::State::kIdle;
  err_ = isa::Error::kNone;
  loops_.clear();
  areg_.fill(0);
  op_cfg_ = op_bias_ = op_side_ = 0;
  matmuls_.clear();
  loads_.clear();
  host_phase_ = HostPhase::kIdle;
  host_space_ = 0;
  host_rsp_err_ = false;
  host_rsp_rdata_.assign(host_words(host_width()), 0);
  counter_ = 0;
}

inline uint64_t TpuModel::imem(uint32_t addr) const {
  if (addr >= static_cast<uint32_t>(imem_depth_)) {
    throw std::out_of_range(where("imem") + "addr=" + std::to_string(addr) + " outside [0, " +
                            std::to_string(imem_depth_) + ")");
  }
  return imem_[addr];
}

inline void TpuModel::check_inputs(const TpuInputs& in) const {
  if (in.host_req_space > 3) {
    throw std::invalid_argument(where("outputs/step") + "host_req_space=" +
                                std::to_string(in.host_req_space) + " does not fit 2 bits");
  }
  if (in.host_req_addr >= (uint32_t{1} << 16)) {
    throw std::invalid_argument(where("outputs/step") + "host_req_addr=" +
                                std::to_string(in.host_req_addr) + " does not fit 16 bits");
  }
  const std::size_t words = host_words(host_width());
  if (!in.host_req_wdata.empty() && in.host_req_wdata.size() != words) {
    throw std::invalid_argument(
        where("outputs/step") + "host_req_wdata has " + std::to_string(in.host_req_wdata.size()) +
        " words, expected " + std::to_string(words) +
        " (HostWidth=" + std::to_string(host_width()) + ") or 0 (all zeros)");
  }
  if (host_width() % 32 != 0 && !in.host_req_wdata.empty() &&
      (in.host_req_wdata.back() >> (host_width() % 32)) != 0) {
    throw std::invalid_argument(where("outputs/step") + "host_req_wdata has bits set above " +
                                "HostWidth=" + std::to_string(host_width()));
  }
}

inline uint32_t TpuModel::areg(int r) const {
  if (r < 0 || r >= isa::kAddrRegs) {
    throw std::out_of_range(where("areg") + "r=" + std::to_string(r) + " outside [0, " +
                            std::to_string(isa::kAddrRegs) + ")");
  }
  return areg_[static_cast<std::size_t>(r)];
}

inline isa::Instr TpuModel::resolve(const isa::Instr& i) const {
  isa::Instr r = i;
  // Selectors are 2-bit fields, so sel indexes a[0..3]; the sum is exact (at most 17 bits).
  const auto add = [&](uint32_t& field, uint32_t& sel) {
    field += areg_[sel & 3u];
    sel = 0;
  };
  switch (i.op) {
    case isa::Opcode::kLoadw:
      add(r.addr, r.addr_reg);
      break;
    case isa::Opcode::kMatmul:
      add(r.act, r.act_reg);
      add(r.out, r.out_reg);
      break;
    case isa::Opcode::kVpu:
      add(r.bias, r.bias_reg);
      add(r.side, r.side_reg);
      break;
    default:
      break;
  }
  return r;
}

inline bool TpuModel::loader_busy() const {
  for (const Load& l : loads_) {
    if (now_ >= l.t + 1 && now_ <= l.t + 1 + l.rows) return true;
  }
  return false;
}

inline bool TpuModel::raw_hazard(uint64_t lo, uint64_t hi, int64_t d, bool streamed) const {
  // Row o+j of a matmul issued in cycle t_w is written at the end of cycle t_w + 2N + 6 + j.
  const int64_t first_write = 2 * n64() + 6;
  for (const Matmul& m : matmuls_) {
    const uint64_t m_last = uint64_t{m.out} + m.rows - 1;
    if (!in_flight(m) || lo > m_last || m.out > hi) continue;
    const int64_t age = static_cast<int64_t>(now_ - m.t);
    const int64_t out = m.out;
    // Streamed: row r is read in t + d + (r - lo), after its write iff
    // t + d - lo > t_w + first_write - out. Block: every overlapping row must be written
    // before t + d, the last of them (min(hi, m_last)) included.
    const int64_t bound =
        streamed ? first_write - d + static_cast<int64_t>(lo) - out
                 : first_write - d + static_cast<int64_t>(std::min(hi, m_last)) - out;
    if (age <= bound) return true;
  }
  return false;
}

inline int TpuModel::matmuls_in_flight() const {
  return static_cast<int>(std::count_if(matmuls_.begin(), matmuls_.end(),
                                        [&](const Matmul& m) { return in_flight(m); }));
}

inline isa::Error TpuModel::check_fields(const isa::Instr& i) const {
  const uint32_t n = static_cast<uint32_t>(dim_);
  switch (i.op) {
    case isa::Opcode::kLoadw:
      if (i.rows == 0 || i.rows > n) return isa::Error::kField;
      break;
    case isa::Opcode::kMatmul:
      if (i.rows == 0 || i.k == 0 || i.k > n || i.n == 0 || i.n > n || (i.t && i.rows > n)) {
        return isa::Error::kField;
      }
      break;
    case isa::Opcode::kSgd:
      if (i.count == 0) return isa::Error::kField;
      break;
    case isa::Opcode::kVpu:
      if (isa::unpack_cfg(i.cfg).act_fn == 3) return isa::Error::kField;
      break;
    case isa::Opcode::kSeta:
    case isa::Opcode::kAdda:
      if (i.reg == 0) return isa::Error::kField;
      break;
    default:
      break;
  }
  return isa::Error::kNone;
}

inline isa::Error TpuModel::check_addresses(const isa::Instr& i) const {
  const uint64_t depth = static_cast<uint64_t>(ub_depth_);
  const uint64_t n = n64();
  // The last row of a block of `rows` rows at `a` (rows >= 1 after the field checks).
  const auto out_of_range = [&](uint64_t a, uint64_t rows) { return a + rows - 1 >= depth; };
  switch (i.op) {
    case isa::Opcode::kLoadw:
      if (out_of_range(i.addr, i.t ? n : i.rows)) return isa::Error::kAddress;
      break;
    case isa::Opcode::kMatmul:
      if (out_of_range(i.act, i.t ? n : i.rows) || out_of_range(i.out, i.rows) ||
          (!i.acc && uses_bias(op_cfg_) && out_of_range(op_bias_, 1)) ||
          (uses_side(op_cfg_) && out_of_range(op_side_, i.rows))) {
        return isa::Error::kAddress;
      }
      break;
    case isa::Opcode::kSgd:
      if (out_of_range(i.theta, i.count) || out_of_range(i.grad, i.count)) {
        return isa::Error::kAddress;
      }
      break;
    default:
      break;
  }
  return isa::Error::kNone;
}

inline isa::Error TpuModel::check_loop(const isa::Instr& i) const {
  if (i.op == isa::Opcode::kLoop &&
      (i.count == 0 || loops_.size() >= static_cast<std::size_t>(kLoopDepth))) {
    return isa::Error::kLoop;
  }
  if (i.op == isa::Opcode::kEndl && loops_.empty()) return isa::Error::kLoop;
  return isa::Error::kNone;
}

inline void TpuModel::decode(Comb& c, const UbOutputs& ub_reg, bool sgd_busy) const {
  if (state_ != isa::State::kRunning) return;
  // Checks in the spec's order; the first that fails decides.
  if (pc_ >= static_cast<uint32_t>(imem_depth_)) {
    c.fault = isa::Error::kPc;
    return;
  }
  const std::optional<isa::Instr> d = isa::decode(imem_[pc_]);
  if (!d) {
    c.fault = isa::Error::kOpcode;
    return;
  }
  // Rows are resolved with this cycle's registers before any check (isa.md).
  const isa::Instr i = resolve(*d);
  for (const isa::Error e : {check_fields(i), check_addresses(i), check_loop(i)}) {
    if (e != isa::Error::kNone) {
      c.fault = e;
      return;
    }
  }
  // SPEC-AMBIGUITY: the buffer's err_o comes after decode's own checks, and the instruction in
  // decode does not issue in that cycle (the PC stays at it).
  if (ub_reg.err) {
    c.fault = isa::Error::kBuffer;
    return;
  }

  const bool drained = matmuls_in_flight() == 0 && !loader_busy() && !sgd_busy;
  const uint64_t n = n64();
  bool go = true;
  switch (i.op) {
    case isa::Opcode::kNop:
    case isa::Opcode::kLoop:
    case isa::Opcode::kEndl:
    case isa::Opcode::kVpu:
    case isa::Opcode::kSeta:
    case isa::Opcode::kAdda:
      break;
    case isa::Opcode::kSeed:
      go = !sgd_busy;
      break;
    case isa::Opcode::kLoadw:
      go = ub_reg.rd_cmd_ready[1] && !sgd_busy &&
           !raw_hazard(i.addr, uint64_t{i.addr} + (i.t ? n : i.rows) - 1, 1, !i.t);
      break;
    case isa::Opcode::kMatmul: {
      const int64_t side_d = 2 * static_cast<int64_t>(n) + 1;
      bool hazard = raw_hazard(i.act, uint64_t{i.act} + (i.t ? n : i.rows) - 1, 1, !i.t);
      if (i.acc) {  // the output rows, streamed as bias rows
        hazard = hazard || raw_hazard(i.out, uint64_t{i.out} + i.rows - 1, side_d, true);
      } else if (uses_bias(op_cfg_)) {
        hazard = hazard || raw_hazard(op_bias_, op_bias_, side_d, false);
      }
      if (uses_side(op_cfg_)) {
        hazard = hazard || raw_hazard(op_side_, uint64_t{op_side_} + i.rows - 1, side_d, true);
      }
      go = ub_reg.rd_cmd_ready[0] && matmuls_in_flight() < max_in_flight_ && !hazard && !sgd_busy;
      break;
    }
    case isa::Opcode::kSgd:
    case isa::Opcode::kSync:
    case isa::Opcode::kHalt:
      go = drained;
      break;
  }
  c.issue = go;
  c.ins = i;
}

inline TpuModel::Comb TpuModel::evaluate(const TpuInputs& in) const {
  check_inputs(in);
  Comb c;
  const uint64_t n = n64();
  const auto lanes = static_cast<uint32_t>(dim_);
  constexpr std::size_t kPorts = kReadPorts;

  // --- 1. Registered outputs of the units. ---------------------------------------------------
  const ArrayOutputs arr_out = array_.outputs();
  const VpuOutputs vpu_out = vpu_.outputs();
  const SgdOutputs sgd_reg = sgd_.outputs(SgdInputs{});  // cmd_ready, busy, wr_valid, wr_data
  ub_.outputs(UbInputs{}, ub_reg_);  // read readies, rows, err (registered)
  const UbOutputs& ub_reg = ub_reg_;

  // --- 2. The control unit's decode. ---------------------------------------------------------
  decode(c, ub_reg, sgd_reg.busy);
  const bool issue_op = c.issue;
  const isa::Opcode op = c.ins.op;

  // --- 3. Buffer inputs driven by the control unit, and who owns ports 0, 1 and write. -------
  UbInputs& ub = c.ub;
  ub.rd_cmd_valid.assign(kPorts, false);
  ub.rd_cmd.assign(kPorts, UbReadCmd{});
  if (issue_op && op == isa::Opcode::kLoadw) {
    ub.rd_cmd_valid[1] = true;
    ub.rd_cmd[1] = UbReadCmd{c.ins.addr, c.ins.rows, 1, lanes, c.ins.t};
  }
  if (issue_op && op == isa::Opcode::kMatmul) {
    ub.rd_cmd_valid[0] = true;
    ub.rd_cmd[0] = UbReadCmd{c.ins.act, c.ins.rows, 1, c.ins.k, c.ins.t};
  }
  // SPEC-AMBIGUITY: the delayed commands are valid for their one cycle only; were a port not
  // ready then (unreachable for programs decode accepts, see top), the command is dropped.
  for (const Matmul& m : matmuls_) {
    if (now_ == m.t + 2 * n) {  // the bias and side reads
      if (m.use_bias) {
        ub.rd_cmd_valid[2] = true;
        ub.rd_cmd[2] = UbReadCmd{m.bias, m.rows, m.acc ? 1u : 0u, lanes, false};
      }
      if (m.use_side) {
        ub.rd_cmd_valid[3] = true;
        ub.rd_cmd[3] = UbReadCmd{m.side, m.rows, 1, lanes, false};
      }
    }
    if (now_ == m.t + 2 * n + 5) {  // the write command
      ub.wr_cmd_valid = true;
      ub.wr_cmd = UbWriteCmd{m.out, m.rows, 1, m.n};
    }
  }
  const bool sgd_cmd = issue_op && op == isa::Opcode::kSgd;
  // The SGD unit drives ports 0, 1 and the write port while busy or being given its command.
  const bool sgd_drives = sgd_reg.busy || sgd_cmd;
  ub.wr_valid = sgd_drives ? sgd_reg.wr_valid : vpu_out.valid;
  ub.wr_data = sgd_drives ? sgd_reg.wr_data : vpu_out.data;

  // Host: space 0 goes to the buffer's host port, gated so that only one request of any space
  // is in flight.
  const bool host_idle = host_phase_ == HostPhase::kIdle;
  ub.host_req_valid = in.host_req_valid && in.host_req_space == 0 && host_idle;
  ub.host_req_we = in.host_req_we;
  ub.host_req_addr = in.host_req_addr;
  ub.host_req_wdata =
      in.host_req_wdata.empty() ? std::vector<int32_t>{} : unpack_row(in.host_req_wdata, dim_);
  ub.host_rsp_ready = in.host_rsp_ready;

  // SPEC-AMBIGUITY: a start clears the buffer's sticky error in its own cycle (see top).
  const bool start_candidate = in.host_req_valid && host_idle && in.host_req_space == 2 &&
                               in.host_req_we && in.host_req_addr == 0 &&
                               (low_u64(in.host_req_wdata) & 1) != 0 &&
                               state_ != isa::State::kRunning && state_ != isa::State::kSync;

  // --- 4. The buffer's combinational outputs, then the SGD unit's command valids. ------------
  ub.err_clear = start_candidate;
  UbOutputs& ub_out = ub_out_;
  ub_.outputs(ub, ub_out);
  SgdInputs& sg = c.sgd;
  sg.cmd_valid = sgd_cmd;
  sg.cmd = sgd_cmd ? SgdCommand{c.ins.theta, c.ins.grad, c.ins.count, c.ins.lr, c.ins.stochastic}
                   : SgdCommand{};
  sg.seed_valid = issue_op && op == isa::Opcode::kSeed;
  sg.seed = sg.seed_valid ? c.ins.seed : 0;
  for (int p = 0; p < 2; ++p) {
    const auto pi = static_cast<std::size_t>(p);
    sg.rd_cmd_ready[p] = ub_out.rd_cmd_ready[pi];
    sg.rd_valid[p] = ub_out.rd_valid[pi];
    sg.rd_data[p] = ub_out.rd_data[pi];
  }
  sg.wr_cmd_ready = ub_out.wr_cmd_ready;
  // The unit is never aborted: an sgd that was issued completes (docs/architecture.md).
  sg.abort = false;
  const SgdOutputs sgd_out = sgd_.outputs(sg);
  if (sgd_drives) {
    for (int p = 0; p < 2; ++p) {
      const auto pi = static_cast<std::size_t>(p);
      ub.rd_cmd_valid[pi] = sgd_out.rd_cmd_valid[p];
      ub.rd_cmd[pi] = sgd_out.rd_cmd[p];
    }
    ub.wr_cmd_valid = sgd_out.wr_cmd_valid;
    ub.wr_cmd = sgd_out.wr_cmd;
  }
  ub_.outputs(ub, ub_out);  // readies are unchanged: they do not depend on the command valids

  // --- 5. Array and vector-unit inputs. -------------------------------------------------------
  ArrayInputs& ai = c.arr;
  for (const Load& l : loads_) {
    if (now_ >= l.t + 2 && now_ <= l.t + 1 + l.rows) {  // weight row i in cycle t+2+i
      if (!ub_out.rd_valid[1]) {
        throw std::logic_error(where("evaluate") + "loadw row due but port 1 has no row");
      }
      ai.w_valid = true;
      ai.w_row = static_cast<unsigned>(now_ - (l.t + 2));
      ai.w_data = ub_out.rd_data[1];
    }
  }
  const Matmul* owner = nullptr;  // the matmul of the array's output row this cycle
  for (const Matmul& m : matmuls_) {
    if (now_ >= m.t + 2 && now_ <= m.t + 1 + m.rows) {  // activation row i in cycle t+2+i
      if (!ub_out.rd_valid[0]) {
        throw std::logic_error(where("evaluate") + "matmul row due but port 0 has no row");
      }
      ai.in_valid = true;
      ai.in_switch = now_ == m.t + 2;
      ai.in_act = ub_out.rd_data[0];
    }
    if (now_ >= m.t + 2 * n + 2 && now_ <= m.t + 2 * n + 1 + m.rows) owner = &m;
  }
  VpuInputs& vi = c.vpu;
  vi.valid = arr_out.out_valid;
  vi.data = arr_out.out_data;
  if (ub_out.rd_valid[2]) vi.bias = ub_out.rd_data[2];
  if (ub_out.rd_valid[3]) {
    vi.target = ub_out.rd_data[3];
    vi.deriv = ub_out.rd_data[3];
  }
  vi.cfg = owner != nullptr ? to_vpu_config(owner->cfg) : VpuConfig{};

  // --- Host spaces 1, 2, 3 (space 0 is the buffer's). ----------------------------------------
  // SPEC-AMBIGUITY: as in the buffer, "no response waits" is judged from the registers, so
  // ready stays low in the cycle a response is taken; spaces 1-3 need no buffer port.
  const bool ready = host_idle && (in.host_req_space == 0 ? ub_out.host_req_ready : true);
  c.host_accept = in.host_req_valid && ready;
  c.host_rdata.assign(host_words(host_width()), 0);
  // SPEC-AMBIGUITY: a read answers what the memory / registers hold in the accept cycle t.
  if (c.host_accept && in.host_req_space != 0) {
    const bool busy = state_ == isa::State::kRunning || state_ == isa::State::kSync;
    const uint32_t a = in.host_req_addr;
    if (in.host_req_space == 1) {
      c.host_err = busy || a >= static_cast<uint32_t>(imem_depth_);
      if (!c.host_err) {
        if (in.host_req_we) {
          c.imem_write = true;
        } else {
          c.host_rdata = pack_u64(imem_[a], host_width());
        }
      }
    } else if (in.host_req_space == 2) {
      if (in.host_req_we) {
        const uint64_t v = low_u64(in.host_req_wdata);
        // SPEC-AMBIGUITY: bit 0 is looked at first, then bit 1; neither set is an error.
        if (a == 0 && (v & 1) != 0) {
          c.start = !busy;
        } else if (a == 0 && (v & 2) != 0) {
          c.cont = state_ == isa::State::kSync;
        }
        c.host_err = !c.start && !c.cont;
      } else if (a == 0) {
        c.host_rdata = pack_u64(isa::status_word(pc_, state_, err_), host_width());
      } else if (a == 1) {
        c.host_rdata = pack_u64(counter_, host_width());
      } else {
        c.host_err = true;
      }
    } else {
      c.host_err = true;  // SPEC-AMBIGUITY: space 3 is not defined
    }
  }

  // --- Outputs. ------------------------------------------------------------------------------
  TpuOutputs& o = c.out;
  o.host_req_ready = ready;
  o.host_rsp_valid = host_phase_ == HostPhase::kResponse;
  if (host_space_ == 0) {
    o.host_rsp_rdata = pack_row(ub_out.host_rsp_rdata, host_width());
    o.host_rsp_err = ub_out.host_rsp_err;
    if (o.host_rsp_valid && !ub_out.host_rsp_valid) {
      throw std::logic_error(where("evaluate") + "space 0 response due but the buffer has none");
    }
  } else {
    o.host_rsp_rdata = host_rsp_rdata_;
    o.host_rsp_err = host_rsp_err_;
  }
  o.array_valid = arr_out.out_valid;
  o.array_data = arr_out.out_data;
  o.vpu_valid = vpu_out.valid;
  o.vpu_data = vpu_out.data;
  const std::optional<uint32_t> target = ub_.write_target();
  o.wr_valid = ub.wr_valid && target.has_value();
  o.wr_addr = target.value_or(0);
  o.wr_data =
      ub.wr_data.empty() ? std::vector<int32_t>(static_cast<std::size_t>(dim_), 0) : ub.wr_data;
  o.pc = pc_;
  o.state = state_;
  o.err = err_;
  return c;
}

inline const TpuModel::Comb& TpuModel::evaluated(const TpuInputs& in) const {
  if (!cached_ || !same_inputs(cached_in_, in)) {
    cached_.reset();  // evaluate() may throw: nothing stale stays behind
    cached_ = evaluate(in);
    cached_in_ = in;
  }
  return *cached_;
}

inline void TpuModel::step(const TpuInputs& in) {
  evaluated(in);
  const Comb c = std::move(*cached_);
  cached_.reset();  // every register below changes
  ub_.step(c.ub);
  sgd_.step(c.sgd);
  array_.step(c.arr);
  vpu_.step(c.vpu);

  // --- The control unit's registers. ---------------------------------------------------------
  // SPEC-AMBIGUITY: the counter is 32 bits; it counts cycles whose state is Running or Sync.
  if (state_ == isa::State::kRunning || state_ == isa::State::kSync) ++counter_;

  if (c.fault != isa::Error::kNone) {
    state_ = isa::State::kError;  // the PC stays at the faulting instruction
    err_ = c.fault;
  } else if (c.issue) {
    const isa::Instr& i = c.ins;
    uint32_t next_pc = pc_ + 1;
    switch (i.op) {
      case isa::Opcode::kNop:
      case isa::Opcode::kSeed:
      case isa::Opcode::kSgd:
        break;
      case isa::Opcode::kLoop:
        loops_.push_back(LoopEntry{pc_ + 1, i.count});
        break;
      case isa::Opcode::kEndl:
        if (loops_.back().count > 1) {
          --loops_.back().count;
          next_pc = loops_.back().start;
        } else {
          loops_.pop_back();
        }
        break;
      case isa::Opcode::kVpu:  // c.ins is resolved: bias and side are rows
        op_cfg_ = i.cfg;
        op_bias_ = i.bias;
        op_side_ = i.side;
        break;
      case isa::Opcode::kSeta:  // reg is 1..3 (reg 0 faulted in decode)
        areg_[i.reg] = static_cast<uint32_t>(i.imm) & 0xFFFFu;
        break;
      case isa::Opcode::kAdda:  // mod 2^16 with a signed step
        areg_[i.reg] = (areg_[i.reg] + static_cast<uint32_t>(i.imm)) & 0xFFFFu;
        break;
      case isa::Opcode::kLoadw:
        loads_.push_back(Load{now_, i.rows});
        break;
      case isa::Opcode::kMatmul:
        // acc: the bias stage adds the output rows themselves (mask bit 0 taken as set).
        matmuls_.push_back(Matmul{now_, i.rows, i.out, i.n,
                                  i.acc ? op_cfg_ | (uint32_t{kMaskBias} << 11) : op_cfg_,
                                  i.acc ? i.out : op_bias_, op_side_,
                                  i.acc || uses_bias(op_cfg_), uses_side(op_cfg_), i.acc});
        break;
      case isa::Opcode::kSync:
        state_ = isa::State::kSync;
        break;
      case isa::Opcode::kHalt:
        state_ = isa::State::kDone;
        next_pc = pc_;
        break;
    }
    pc_ = next_pc;
  }

  // Host requests of every space: one in flight, response from t + 2, held until taken.
  switch (host_phase_) {
    case HostPhase::kIdle:
      if (c.host_accept) {
        host_phase_ = HostPhase::kInFlight;
        host_space_ = in.host_req_space;
        host_rsp_rdata_ = c.host_rdata;
        host_rsp_err_ = c.host_err;
        if (c.imem_write) imem_[in.host_req_addr] = low_u64(in.host_req_wdata);
        if (c.start) {
          pc_ = 0;
          loops_.clear();
          areg_.fill(0);
          counter_ = 0;
          state_ = isa::State::kRunning;
          err_ = isa::Error::kNone;  // SPEC-AMBIGUITY: a start clears the error code
        }
        if (c.cont) state_ = isa::State::kRunning;
      }
      break;
    case HostPhase::kInFlight:
      host_phase_ = HostPhase::kResponse;
      break;
    case HostPhase::kResponse:
      if (in.host_rsp_ready) host_phase_ = HostPhase::kIdle;
      break;
  }

  // Retire what has nothing left to do from the next cycle on.
  const uint64_t next = now_ + 1;
  const uint64_t n = n64();
  std::erase_if(matmuls_, [&](const Matmul& m) { return m.t + 2 * n + 5 + m.rows < next; });
  std::erase_if(loads_, [&](const Load& l) { return l.t + 1 + l.rows < next; });
  now_ = next;
}

}  // namespace tpu::golden
