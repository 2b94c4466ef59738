// A functional (instruction-level) model of the TPU, from docs/isa.md and docs/architecture.md.
//
// Where golden/tpu_model.hpp steps every clock cycle, this model executes each instruction
// whole, in program order, and gives the same buffer contents, the same rows written in the same
// order, and the same final PC, state and error code as the cycle-level model:
//
//   loadw   shadow weight rows 0..rows-1 <- buffer rows (or the columns of an N-row block when
//           transposed); the other shadow rows keep their values.
//   matmul  the shadow weights become active (every matmul switches), then one exact product
//           (Eigen) of the activation block (rows x k: lanes >= k are zero, which the product
//           skips) with the active N x N weights, round_sat at the array edge, the
//           four vector-unit stages per lane (bias, or with acc the output rows' previous
//           contents; activation; loss gradient against the side rows; derivative), and the
//           rows written to out (lanes < n).
//   sgd     theta <- sat(theta - round(lr * g)) row by row, nearest or stochastic rounding with
//           the per-lane 32-bit LFSRs of the spec (golden/sgd_model.hpp's step and seeding).
//
// Why program order is exact: decode makes every read wait for the matmul writes it depends on
// (the RAW rule), sgd/sync/halt wait until drained, matmul and loadw wait for the SGD unit, and
// writes never overtake earlier reads. The one place where the timing still shows is an
// instruction reading rows it writes itself. The buffer returns what is stored at the cycle a
// row is read ("a read in a cycle sees the writes of the cycles before it"), so:
//   - matmul, activation row i (read in cycle t+1+i) sees output row j (written at the end of
//     cycle t+2N+6+j) when i - j >= 2N+6, that is when out - act >= 2N+6 (not transposed: a
//     transposed block is read by cycle t+N, before any write);
//   - side row i (read in t+2N+1+i) sees output row j when i - j >= 6: out - side >= 6;
//   - the bias row b (stride 0, read once per output row in t+2N+1+i) is output row j0 = b - out
//     of this matmul for the output rows i >= j0 + 6 and its old contents before that;
//   - with acc, output row i reads its own previous contents (before its own write);
//   - sgd, gradient row i (read in u+1+i) sees theta row j (written in u+4+j) when i - j >= 4:
//     theta - grad >= 4.
// A matmul with such a recurrence is executed in chunks of output rows short enough that every
// read of a chunk sees exactly the writes the cycle timing lets it see; reads that must see old
// contents come from a snapshot of the output rows taken before the instruction. sgd goes row
// by row anyway, reading the gradient from a snapshot when 1 <= theta - grad <= 3.
//
// Decode checks, in the spec's order, the first failing one deciding: ErrPc, ErrOpcode
// (isa::decode), ErrField, ErrAddress (on the rows after the address registers are added, with
// the operation register's bias and side rows for a matmul), ErrLoop. ErrBuffer cannot arise:
// decode only issues legal buffer commands, and write_row() rejects an address out of range
// instead of leaving a sticky buffer error behind. On an error nothing of the faulting
// instruction happens, the state is Error and the PC stays at it.
//
// What survives a start(), as on the hardware (a start is not a reset): the buffer, the
// instruction memory, the weights (shadow and active), the operation register and the LFSRs.
// The constructor is the reset: all of them zero, the LFSRs seeded as if with seed 1.
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "golden/fixed_point.hpp"
#include "golden/isa.hpp"
#include "golden/sgd_model.hpp"
#include "golden/vpu_model.hpp"

namespace tpu::golden {

class FunctionalModel {
 public:
  // The spec builds ArrayDim 2 to 16 and the isa's k and n fields allow up to 63; RowWrite's
  // 32-bit lane mask is the bound here.
  static constexpr int kMinDim = 2;
  static constexpr int kMaxDim = 32;
  static constexpr int kMaxDepth = 1 << 16;  // buffer rows and instruction words: 16-bit addresses
  static constexpr int kLoopDepth = 4;       // loops nest 4 deep

  // Throws std::invalid_argument for a dim outside [2, 32] or a depth outside [1, 65536].
  FunctionalModel(int dim, int ub_depth, int imem_depth);

  int dim() const { return dim_; }
  int ub_depth() const { return ub_depth_; }
  int imem_depth() const { return imem_depth_; }

  // Host access to the buffer: one whole row of dim() values, each a signed 16-bit value.
  // std::out_of_range for an address beyond the buffer, std::invalid_argument for a row of the
  // wrong length or a value that does not fit 16 bits.
  void write_row(uint32_t addr, const std::vector<int32_t>& row);
  std::vector<int32_t> read_row(uint32_t addr) const;

  // Host access to the instruction memory. std::out_of_range beyond imem_depth(); writing while
  // Running or in Sync throws std::logic_error (the host port refuses it too).
  void write_instr(uint32_t addr, uint64_t word);
  uint64_t instr(uint32_t addr) const;

  // The host's start: PC 0, loop stack empty, a1..a3 = 0, error cleared, the counters cleared,
  // Running. std::logic_error while Running or in Sync (the host port refuses it).
  void start();
  // The host's continue: Running again from Sync; std::logic_error in any other state.
  void resume();
  // Executes instructions until the state is Sync, Done or Error, or `max_instructions` have
  // issued in this call (the state is then still Running). Returns the state. Outside Running
  // it does nothing.
  isa::State run(uint64_t max_instructions = std::numeric_limits<uint64_t>::max());

  uint32_t pc() const { return pc_; }
  isa::State state() const { return state_; }
  isa::Error err() const { return err_; }
  // Instructions issued since the last start (the faulting one is not issued; halt and sync are).
  uint64_t instructions() const { return instructions_; }
  // Useful multiply-accumulates of the matmuls issued since the last start: rows * k * n each.
  uint64_t macs() const { return macs_; }
  // Address register r (0..3; a[0] is always 0); std::out_of_range otherwise.
  uint32_t areg(int r) const;

  // Every buffer row a program writes, in order: its address, the lanes stored (bit c for lane
  // c: the lanes < n of a matmul, every lane for sgd) and the whole row presented to the write
  // port (dim() values; the lanes outside `lanes` are computed but not stored, as the hardware's
  // write data carries them). Host writes are not recorded. Recording is off unless enabled.
  struct RowWrite {
    uint32_t addr;
    uint32_t lanes;
    std::vector<int32_t> data;
  };
  void record_writes(bool on) { recording_ = on; }
  const std::vector<RowWrite>& writes() const { return writes_; }
  void clear_writes() { writes_.clear(); }

 private:
  // The product is exact in double, and Eigen's double GEMM is about twice as fast as its int64
  // one: every product of two 16-bit values is at most 2^30 in magnitude and every partial sum
  // of at most 32 of them below 2^35, all integers far inside double's 53-bit mantissa, so no
  // rounding happens in any summation order. The sums convert back to int64 exactly.
  using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Int16Block =
      Eigen::Map<const Eigen::Matrix<int16_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
                 Eigen::OuterStride<>>;
  struct LoopEntry {
    uint32_t start;
    uint32_t count;
  };

  std::string where(const char* fn) const {
    return std::string("golden::FunctionalModel::") + fn + ": ";
  }
  // Where row `row` starts in ub_ (row >= 0).
  std::size_t at(int64_t row) const { return idx(row) * idx(dim_); }
  static std::size_t idx(int64_t i) { return static_cast<std::size_t>(i); }
  void check_row_addr(uint32_t addr, const char* fn) const;
  bool uses_bias(uint32_t cfg) const { return (isa::unpack_cfg(cfg).mask & kMaskBias) != 0; }
  bool uses_side(uint32_t cfg) const {
    const isa::VpuCfgFields f = isa::unpack_cfg(cfg);
    return (f.mask & kMaskLoss) != 0 || ((f.mask & kMaskDeriv) != 0 && f.deriv_src);
  }
  // vpu_cfg_t bits (isa::pack_cfg's layout) as the vector unit's configuration.
  static VpuConfig vpu_config(uint32_t cfg) {
    const isa::VpuCfgFields f = isa::unpack_cfg(cfg);
    return VpuConfig{static_cast<uint8_t>(f.mask), static_cast<uint8_t>(f.act_fn),
                     static_cast<uint8_t>(f.leak_shift), static_cast<uint8_t>(f.batch_log2),
                     f.deriv_src};
  }
  uint32_t lane_mask(uint32_t n) const { return n >= 32 ? 0xFFFFFFFFu : (uint32_t{1} << n) - 1; }

  // One instruction in decode: issues it (true) or faults (false, state Error).
  bool step();
  isa::Instr resolve(const isa::Instr& i) const;
  isa::Error check_fields(const isa::Instr& i) const;
  isa::Error check_addresses(const isa::Instr& i) const;
  isa::Error check_loop(const isa::Instr& i) const;
  void exec_loadw(const isa::Instr& i);
  void exec_matmul(const isa::Instr& i);
  void exec_sgd(const isa::Instr& i);
  void record(uint32_t addr, uint32_t lanes, const int32_t* data);

  int dim_;
  int ub_depth_;
  int imem_depth_;
  std::vector<int16_t> ub_;  // row-major: row a, lane c at a * dim + c
  std::vector<uint64_t> imem_;
  Matrix shadow_;  // dim x dim, W[k][c]: the next tile's weights
  Matrix active_;  // the weights the last matmul used
  std::vector<uint32_t> lfsr_;
  uint32_t op_cfg_ = 0, op_bias_ = 0, op_side_ = 0;  // the operation register (rows resolved)
  std::array<uint32_t, isa::kAddrRegs> areg_{};      // a[0] stays 0

  uint32_t pc_ = 0;
  isa::State state_ = isa::State::kIdle;
  isa::Error err_ = isa::Error::kNone;
  std::vector<LoopEntry> loops_;
  uint64_t instructions_ = 0;
  uint64_t macs_ = 0;

  bool recording_ = false;
  std::vector<RowWrite> writes_;

  // Scratch space reused between instructions.
  Matrix act_;
  Matrix acc_;
  std::vector<int16_t> snapshot_;
  std::vector<int32_t> result_;
};

// ---------------------------------------------------------------------------------------------

inline FunctionalModel::FunctionalModel(int dim, int ub_depth, int imem_depth)
    : dim_(dim), ub_depth_(ub_depth), imem_depth_(imem_depth) {
  if (dim < kMinDim || dim > kMaxDim) {
    throw std::invalid_argument(where("FunctionalModel") + "dim=" + std::to_string(dim) +
                                " outside [" + std::to_string(kMinDim) + ", " +
                                std::to_string(kMaxDim) + "]");
  }
  if (ub_depth < 1 || ub_depth > kMaxDepth) {
    throw std::invalid_argument(where("FunctionalModel") + "ub_depth=" + std::to_string(ub_depth) +
                                " outside [1, " + std::to_string(kMaxDepth) + "]");
  }
  if (imem_depth < 1 || imem_depth > kMaxDepth) {
    throw std::invalid_argument(where("FunctionalModel") +
                                "imem_depth=" + std::to_string(imem_depth) + " outside [1, " +
                                std::to_string(kMaxDepth) + "]");
  }
  ub_.assign(idx(ub_depth) * idx(dim), 0);
  imem_.assign(idx(imem_depth), 0);
  shadow_ = Matrix::Zero(dim, dim);
  active_ = Matrix::Zero(dim, dim);
  lfsr_.resize(idx(dim));
  for (int c = 0; c < dim; ++c) lfsr_[idx(c)] = lfsr_seed(1, c);  // reset seeds as if seed 1
}

inline void FunctionalModel::check_row_addr(uint32_t addr, const char* fn) const {
  if (addr >= static_cast<uint32_t>(ub_depth_)) {
    throw std::out_of_range(where(fn) + "row " + std::to_string(addr) + " outside [0, " +
                            std::to_string(ub_depth_) + ")");
  }
}

inline void FunctionalModel::write_row(uint32_t addr, const std::vector<int32_t>& row) {
  check_row_addr(addr, "write_row");
  if (row.size() != idx(dim_)) {
    throw std::invalid_argument(where("write_row") + "row " + std::to_string(addr) + " has " +
                                std::to_string(row.size()) + " values, expected " +
                                std::to_string(dim_));
  }
  for (std::size_t c = 0; c < row.size(); ++c) {
    if (!fits(row[c], kQ8_8.data_width)) {
      throw std::invalid_argument(where("write_row") + "row " + std::to_string(addr) + " lane " +
                                  std::to_string(c) + ": " + std::to_string(row[c]) +
                                  " does not fit 16 bits signed");
    }
  }
  std::copy(row.begin(), row.end(), ub_.begin() + static_cast<std::ptrdiff_t>(at(addr)));
}

inline std::vector<int32_t> FunctionalModel::read_row(uint32_t addr) const {
  check_row_addr(addr, "read_row");
  const auto first = ub_.begin() + static_cast<std::ptrdiff_t>(at(addr));
  return std::vector<int32_t>(first, first + dim_);
}

inline void FunctionalModel::write_instr(uint32_t addr, uint64_t word) {
  if (addr >= static_cast<uint32_t>(imem_depth_)) {
    throw std::out_of_range(where("write_instr") + "address " + std::to_string(addr) +
                            " outside [0, " + std::to_string(imem_depth_) + ")");
  }
  if (state_ == isa::State::kRunning || state_ == isa::State::kSync) {
    throw std::logic_error(where("write_instr") + "the instruction memory is not writable while " +
                           "a program is Running or in Sync");
  }
  imem_[addr] = word;
}

inline uint64_t FunctionalModel::instr(uint32_t addr) const {
  if (addr >= static_cast<uint32_t>(imem_depth_)) {
    throw std::out_of_range(where("instr") + "address " + std::to_string(addr) + " outside [0, " +
                            std::to_string(imem_depth_) + ")");
  }
  return imem_[addr];
}

inline void FunctionalModel::start() {
  if (state_ == isa::State::kRunning || state_ == isa::State::kSync) {
    throw std::logic_error(where("start") + "a program is already Running or in Sync");
  }
  pc_ = 0;
  loops_.clear();
  areg_.fill(0);
  err_ = isa::Error::kNone;
  instructions_ = 0;
  macs_ = 0;
  state_ = isa::State::kRunning;
}

inline void FunctionalModel::resume() {
  if (state_ != isa::State::kSync) {
    throw std::logic_error(where("resume") + "continue outside Sync (state " +
                           std::to_string(static_cast<int>(state_)) + ")");
  }
  state_ = isa::State::kRunning;
}

inline uint32_t FunctionalModel::areg(int r) const {
  if (r < 0 || r >= isa::kAddrRegs) {
    throw std::out_of_range(where("areg") + "r=" + std::to_string(r) + " outside [0, " +
                            std::to_string(isa::kAddrRegs) + ")");
  }
  return areg_[idx(r)];
}

inline isa::State FunctionalModel::run(uint64_t max_instructions) {
  for (uint64_t issued = 0; state_ == isa::State::kRunning && issued < max_instructions;) {
    if (step()) ++issued;
  }
  return state_;
}

// --- Decode. ---------------------------------------------------------------------------------

inline isa::Instr FunctionalModel::resolve(const isa::Instr& i) const {
  isa::Instr r = i;
  // row = field + a[sel], exact (at most 17 bits); sel is a 2-bit field, a[0] = 0.
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

inline isa::Error FunctionalModel::check_fields(const isa::Instr& i) const {
  const auto n = static_cast<uint32_t>(dim_);
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

inline isa::Error FunctionalModel::check_addresses(const isa::Instr& i) const {
  const auto depth = static_cast<uint64_t>(ub_depth_);
  const auto n = static_cast<uint64_t>(dim_);
  // The last row of a block of `rows` rows at `a` lies outside the buffer (rows >= 1 here).
  const auto outside = [&](uint64_t a, uint64_t rows) { return a + rows - 1 >= depth; };
  switch (i.op) {
    case isa::Opcode::kLoadw:
      if (outside(i.addr, i.t ? n : i.rows)) return isa::Error::kAddress;
      break;
    case isa::Opcode::kMatmul:
      // With acc the bias rows are the output rows, already checked.
      if (outside(i.act, i.t ? n : i.rows) || outside(i.out, i.rows) ||
          (!i.acc && uses_bias(op_cfg_) && outside(op_bias_, 1)) ||
          (uses_side(op_cfg_) && outside(op_side_, i.rows))) {
        return isa::Error::kAddress;
      }
      break;
    case isa::Opcode::kSgd:
      if (outside(i.theta, i.count) || outside(i.grad, i.count)) return isa::Error::kAddress;
      break;
    default:
      break;
  }
  return isa::Error::kNone;
}

inline isa::Error FunctionalModel::check_loop(const isa::Instr& i) const {
  if (i.op == isa::Opcode::kLoop &&
      (i.count == 0 || loops_.size() >= static_cast<std::size_t>(kLoopDepth))) {
    return isa::Error::kLoop;
  }
  if (i.op == isa::Opcode::kEndl && loops_.empty()) return isa::Error::kLoop;
  return isa::Error::kNone;
}

inline bool FunctionalModel::step() {
  const auto fault = [&](isa::Error e) {
    state_ = isa::State::kError;  // the PC stays at the faulting instruction
    err_ = e;
    return false;
  };
  if (pc_ >= static_cast<uint32_t>(imem_depth_)) return fault(isa::Error::kPc);
  const std::optional<isa::Instr> d = isa::decode(imem_[pc_]);
  if (!d) return fault(isa::Error::kOpcode);
  const isa::Instr i = resolve(*d);  // rows resolved with this instruction's registers
  for (const isa::Error e : {check_fields(i), check_addresses(i), check_loop(i)}) {
    if (e != isa::Error::kNone) return fault(e);
  }

  uint32_t next_pc = pc_ + 1;
  switch (i.op) {
    case isa::Opcode::kNop:
      break;
    case isa::Opcode::kHalt:
      state_ = isa::State::kDone;
      next_pc = pc_;  // the PC stays at the halt
      break;
    case isa::Opcode::kSync:
      state_ = isa::State::kSync;
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
    case isa::Opcode::kSeed:
      for (int c = 0; c < dim_; ++c) lfsr_[idx(c)] = lfsr_seed(i.seed, c);
      break;
    case isa::Opcode::kVpu:
      op_cfg_ = i.cfg;
      op_bias_ = i.bias;
      op_side_ = i.side;
      break;
    case isa::Opcode::kLoadw:
      exec_loadw(i);
      break;
    case isa::Opcode::kMatmul:
      exec_matmul(i);
      break;
    case isa::Opcode::kSgd:
      exec_sgd(i);
      break;
    case isa::Opcode::kSeta:
      areg_[i.reg] = static_cast<uint32_t>(i.imm) & 0xFFFFu;
      break;
    case isa::Opcode::kAdda:
      areg_[i.reg] = (areg_[i.reg] + static_cast<uint32_t>(i.imm)) & 0xFFFFu;  // mod 2^16
      break;
  }
  pc_ = next_pc;
  ++instructions_;
  return true;
}

// --- Execution. ------------------------------------------------------------------------------

inline void FunctionalModel::record(uint32_t addr, uint32_t lanes, const int32_t* data) {
  if (recording_) writes_.push_back(RowWrite{addr, lanes, std::vector<int32_t>(data, data + dim_)});
}

inline void FunctionalModel::exec_loadw(const isa::Instr& i) {
  // Weight row r <- buffer row addr + r, or (transposed) column r of rows addr .. addr+N-1.
  for (uint32_t r = 0; r < i.rows; ++r) {
    for (int c = 0; c < dim_; ++c) {
      shadow_(r, c) = i.t ? ub_[at(int64_t{i.addr} + c) + r] : ub_[at(i.addr + r) + idx(c)];
    }
  }
}

inline void FunctionalModel::exec_matmul(const isa::Instr& i) {
  const int n_dim = dim_;
  const auto N = static_cast<int64_t>(dim_);
  const auto rows = static_cast<int64_t>(i.rows);
  const auto k = static_cast<int>(i.k);
  const int64_t out = i.out;

  active_ = shadow_;  // every matmul switches: its first row carries in_switch
  macs_ += uint64_t{i.rows} * i.k * i.n;

  // The vector unit's configuration: the operation register; with acc the bias stage adds the
  // output rows' previous contents (mask bit 0 taken as set).
  uint32_t cfg_bits = op_cfg_;
  if (i.acc) cfg_bits |= uint32_t{kMaskBias} << 11;
  const VpuConfig cfg = vpu_config(cfg_bits);
  const bool use_bias = (cfg.mask & kMaskBias) != 0;
  const bool bias_row = use_bias && !i.acc;  // one bias row for every output row
  const bool use_side = uses_side(cfg_bits);
  const int64_t bias = op_bias_;
  const int64_t side = op_side_;

  // Reads that see this matmul's own writes (see the top): the chunk length and where the
  // single bias row changes from its old contents to this matmul's output row.
  int64_t chunk = rows;
  bool act_sees_writes = false;
  bool side_sees_writes = false;
  int64_t bias_switch = rows;  // output rows >= bias_switch see the new bias row
  if (!i.t) {
    const int64_t lag = out - static_cast<int64_t>(i.act);
    if (lag >= 2 * N + 6 && lag < rows) {
      act_sees_writes = true;
      chunk = std::min(chunk, lag);
    }
  }
  if (use_side) {
    const int64_t lag = out - side;
    if (lag >= 6 && lag < rows) {
      side_sees_writes = true;
      chunk = std::min(chunk, lag);
    }
  }
  if (bias_row) {
    const int64_t j0 = bias - out;
    if (j0 >= 0 && j0 + 6 < rows) bias_switch = j0 + 6;
  }
  const bool chunked = chunk < rows || bias_switch < rows;
  // Old contents of the output rows, for the reads that must not see this matmul's writes.
  if (chunked) {
    snapshot_.assign(ub_.begin() + static_cast<std::ptrdiff_t>(at(out)),
                     ub_.begin() + static_cast<std::ptrdiff_t>(at(out + rows)));
  }
  const auto old_row = [&](int64_t r) -> const int16_t* {
    if (chunked && r >= out && r < out + rows) return &snapshot_[idx(r - out) * idx(N)];
    return &ub_[at(r)];
  };
  const auto live_row = [&](int64_t r) -> const int16_t* { return &ub_[at(r)]; };

  const uint32_t lanes = lane_mask(i.n);
  for (int64_t p = 0; p < rows;) {
    int64_t e = std::min(rows, p + chunk);
    if (p < bias_switch) e = std::min(e, bias_switch);
    const int64_t m = e - p;

    // The activation block (m x k): lanes >= k are zero and contribute nothing, so the product
    // takes only the first k lanes and the first k weight rows.
    act_.resize(m, k);
    if (i.t) {
      // Element j is column j of rows act .. act+N-1: lane r of it is (row act + r, lane j).
      for (int r = 0; r < k; ++r) {
        const int16_t* src = old_row(static_cast<int64_t>(i.act) + r);
        for (int64_t j = 0; j < m; ++j) act_(j, r) = src[p + j];
      }
    } else if (!chunked) {  // rows act+p .. act+e-1, lanes 0..k-1, straight from the buffer
      act_ = Int16Block(&ub_[at(int64_t{i.act} + p)], m, k, Eigen::OuterStride<>(N)).cast<double>();
    } else {
      for (int64_t j = 0; j < m; ++j) {
        const int64_t r = static_cast<int64_t>(i.act) + p + j;
        const int16_t* src = act_sees_writes ? live_row(r) : old_row(r);
        for (int c = 0; c < k; ++c) act_(j, c) = src[c];
      }
    }
    acc_.noalias() = act_ * active_.topRows(k);  // exact (see Matrix)

    const int16_t* b = nullptr;
    if (bias_row) b = p >= bias_switch ? live_row(bias) : old_row(bias);
    result_.resize(idx(m) * idx(N));
    for (int64_t j = 0; j < m; ++j) {
      const int64_t o = out + p + j;
      const int16_t* bj = i.acc ? old_row(o) : b;
      const int16_t* sj = nullptr;
      if (use_side) sj = side_sees_writes ? live_row(side + p + j) : old_row(side + p + j);
      int32_t* res = &result_[idx(j) * idx(N)];
      for (int c = 0; c < n_dim; ++c) {
        const int32_t x = round_sat(static_cast<int64_t>(acc_(j, c)));  // the array's edge
        const int32_t bv = use_bias ? bj[c] : 0;
        const int32_t sv = use_side ? sj[c] : 0;
        const int32_t x1 = vpu_detail::bias_stage(cfg, x, bv, kQ8_8);
        const int32_t x2 = vpu_detail::act_stage(cfg, x1);
        const int32_t x3 = vpu_detail::loss_stage(cfg, x2, sv, kQ8_8);
        res[c] = vpu_detail::deriv_stage(cfg, x3, x1, sv);
      }
    }
    // The chunk's rows are written after all of its reads.
    for (int64_t j = 0; j < m; ++j) {
      const int32_t* res = &result_[idx(j) * idx(N)];
      int16_t* dst = &ub_[at(out + p + j)];
      for (uint32_t c = 0; c < i.n; ++c) dst[c] = static_cast<int16_t>(res[c]);
      record(static_cast<uint32_t>(out + p + j), lanes, res);
    }
    p = e;
  }
}

inline void FunctionalModel::exec_sgd(const isa::Instr& i) {
  const auto N = static_cast<int64_t>(dim_);
  const int64_t count = i.count;
  const int64_t lag = static_cast<int64_t>(i.theta) - static_cast<int64_t>(i.grad);
  // Gradient row r is read before theta row r - lag is rewritten when lag is 1 to 3 (see top).
  const bool old_grad = lag >= 1 && lag <= 3 && lag < count;
  if (old_grad) {
    snapshot_.assign(ub_.begin() + static_cast<std::ptrdiff_t>(at(i.grad)),
                     ub_.begin() + static_cast<std::ptrdiff_t>(at(i.grad + i.count)));
  }
  result_.resize(idx(N));
  const auto f = kQ8_8;
  for (int64_t r = 0; r < count; ++r) {
    const int16_t* g = old_grad ? &snapshot_[idx(r) * idx(N)] : &ub_[at(int64_t{i.grad} + r)];
    int16_t* theta = &ub_[at(int64_t{i.theta} + r)];
    for (int c = 0; c < dim_; ++c) {
      uint32_t rnd = 0;
      if (i.stochastic) {  // r = s[F-1:0], then FracBits steps
        rnd = sgd_detail::lfsr_low_bits(lfsr_[idx(c)], f.frac_bits);
        lfsr_[idx(c)] = lfsr_advance(lfsr_[idx(c)], f.frac_bits);
      }
      result_[idx(c)] =
          sgd_detail::apply_update(theta[c], product(i.lr, g[c]), i.stochastic, rnd, f);
    }
    for (int c = 0; c < dim_; ++c) theta[c] = static_cast<int16_t>(result_[idx(c)]);
    record(i.theta + static_cast<uint32_t>(r), lane_mask(static_cast<uint32_t>(dim_)),
           result_.data());
  }
}

}  // namespace tpu::golden
