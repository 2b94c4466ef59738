// The gradient-descent unit (sgd_unit), register for register, from docs/architecture.md
// ("Shared definitions for the units around the array", "Gradient-descent unit", and the
// "Unified buffer" port descriptions it drives).
//
// sgd_update() is one lane's update without timing. SgdModel is cycle-exact: outputs(in) is what
// the unit drives during the current clock period given what it sees during it (the command
// valids depend combinationally on the buffer's readies, as the spec's "issues in that cycle"
// requires), and step(in) is the rising edge that closes that period.
//
// Timeline of one command (t: accepted; u: first cycle > t with all three readies high):
//   cycle t            cmd_valid && cmd_ready (ready = idle); busy from t + 1
//   cycle u            rd_cmd_valid[0], rd_cmd_valid[1], wr_cmd_valid all high
//   cycle u + 2 + i    theta row i on port 0 and gradient row i on port 1, together;
//                      the closing edge loads stage 1 (lr * g, theta, and r from the LFSRs)
//   cycle u + 3 + i    the closing edge loads stage 2 (the updated row)
//   cycle u + 4 + i    wr_valid with row i on wr_data
//   cycle u + 4 + count   idle again (cmd_ready high, busy low)
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "golden/fixed_point.hpp"
#include "golden/ub_types.hpp"

namespace tpu::golden {

// tpu_pkg::sgd_cmd_t. Addresses and count are UbAddrWidth (16) bits, lr a data value.
struct SgdCommand {
  uint32_t theta_addr = 0;
  uint32_t grad_addr = 0;
  uint32_t count = 0;
  int32_t lr = 0;
  bool stochastic = false;
};

// The spec's UbAddrWidth: every buffer address, count and stride field is this wide.
inline constexpr int kUbAddrWidth = 16;
// The seeding constant: lane c's state is seed ^ (c * kLfsrSeedMul) (mod 2^32).
inline constexpr uint32_t kLfsrSeedMul = 0x9E3779B9u;

// One step of a lane's 32-bit Fibonacci LFSR: fb = s[31] ^ s[21] ^ s[1] ^ s[0] (taps 32, 22,
// 2, 1), s = {s[30:0], fb}. The all-zero state is a fixed point, which seeding never produces.
inline uint32_t lfsr_step(uint32_t s) {
  const uint32_t fb = ((s >> 31) ^ (s >> 21) ^ (s >> 1) ^ s) & 1u;
  return (s << 1) | fb;
}

// `n` steps of lfsr_step.
inline uint32_t lfsr_advance(uint32_t s, int n) {
  for (int i = 0; i < n; ++i) s = lfsr_step(s);
  return s;
}

// Lane `lane`'s state after seeding with `seed`: seed ^ (lane * 0x9E3779B9) mod 2^32, or 1 if
// that is 0. Reset seeds as if seed = 1. A negative lane throws std::invalid_argument.
inline uint32_t lfsr_seed(uint32_t seed, int lane) {
  if (lane < 0) {
    throw std::invalid_argument("golden::lfsr_seed: lane=" + std::to_string(lane) + " is negative");
  }
  const uint32_t s = seed ^ (static_cast<uint32_t>(lane) * kLfsrSeedMul);  // unsigned: mod 2^32
  return s == 0 ? 1u : s;
}

namespace sgd_detail {

// `what` names the value; with `port` >= 0 it is lane `lane` of rd_data[port]. Nothing is built
// unless the check fails (this runs for every lane of every cycle).
[[noreturn, gnu::cold, gnu::noinline]] inline void does_not_fit(int64_t v, int width,
                                                                const char* where,
                                                                const char* what, int port,
                                                                int lane) {
  const std::string name = port < 0 ? std::string(what)
                                    : "rd_data[" + std::to_string(port) + "][" +
                                          std::to_string(lane) + "]";
  throw std::invalid_argument(std::string(where) + ": " + name + "=" + std::to_string(v) +
                              " does not fit " + std::to_string(width) + " signed bits");
}
inline void check_value(int64_t v, int width, const char* where, const char* what, int port = -1,
                        int lane = -1) {
  if (!fits(v, width)) [[unlikely]] does_not_fit(v, width, where, what, port, lane);
}

// r = s[FracBits-1:0]: the low frac_bits bits of the state (frac_bits <= 32 by check_format).
inline uint32_t lfsr_low_bits(uint32_t s, int frac_bits) {
  const uint64_t mask = (uint64_t{1} << frac_bits) - 1;
  return static_cast<uint32_t>(s & mask);
}

// Stage 2's arithmetic: sat(theta - round(prod)), prod = lr * g exact (2F fractional bits).
// Stochastic: (prod + r) >>> F; nearest: round_shift (to nearest, ties away from zero).
inline int32_t apply_update(int32_t theta, int64_t prod, bool stochastic, uint32_t r, Format f) {
  // |prod| <= 2^62 and r < 2^32, so prod + r cannot overflow int64_t.
  const int64_t step =
      stochastic ? (prod + int64_t{r}) >> f.frac_bits : round_shift(prod, f.frac_bits);
  return static_cast<int32_t>(saturate(int64_t{theta} - step, f.data_width));
}

}  // namespace sgd_detail

// One lane's update, theta <- sat(theta - round(lr * g)), without timing. When `stochastic`,
// r is the low FracBits bits of `lfsr`, which then advances FracBits steps; nearest rounding
// leaves `lfsr` alone. Values that do not fit data_width throw std::invalid_argument.
inline int32_t sgd_update(int32_t theta, int32_t g, int32_t lr, bool stochastic, uint32_t& lfsr,
                          Format f = kQ8_8) {
  check_format(f);
  const char* const where = "golden::sgd_update";
  sgd_detail::check_value(theta, f.data_width, where, "theta");
  sgd_detail::check_value(g, f.data_width, where, "g");
  sgd_detail::check_value(lr, f.data_width, where, "lr");
  uint32_t r = 0;
  if (stochastic) {
    r = sgd_detail::lfsr_low_bits(lfsr, f.frac_bits);
    lfsr = lfsr_advance(lfsr, f.frac_bits);
  }
  return sgd_detail::apply_update(theta, product(lr, g), stochastic, r, f);
}

// What the unit sees during one cycle. rd_data vectors have `lanes` entries or are empty (all
// zeros).
struct SgdInputs {
  bool cmd_valid = false;
  SgdCommand cmd{};
  bool seed_valid = false;
  uint32_t seed = 0;
  bool rd_cmd_ready[2] = {false, false};  // from buffer read ports (0: theta, 1: grad)
  bool rd_valid[2] = {false, false};
  std::vector<int32_t> rd_data[2]{};
  bool wr_cmd_ready = false;
  bool abort = false;  // back to idle at the end of the cycle, rows in flight dropped
};

// What the unit drives during that cycle. rd_cmd, wr_cmd and wr_data are only defined while
// their valids are high (the model shows the current command and stage 2's register otherwise).
struct SgdOutputs {
  bool cmd_ready = false;
  bool busy = false;
  bool rd_cmd_valid[2] = {false, false};
  UbReadCmd rd_cmd[2]{};
  bool wr_cmd_valid = false;
  UbWriteCmd wr_cmd{};
  bool wr_valid = false;
  std::vector<int32_t> wr_data{};
};

class SgdModel {
 public:
  // The unit has ArrayDim lanes, and the spec builds ArrayDim from 2 to 16.
  static constexpr int kMinLanes = 2;
  static constexpr int kMaxLanes = 16;

  explicit SgdModel(int lanes, Format f = kQ8_8);

  // rst_ni: idle, every valid low, data registers zero, LFSRs seeded as if seed_i = 1.
  void reset();

  // What the unit drives during the current cycle, given what it sees during it. Throws
  // std::invalid_argument for inputs the ports cannot carry (see step).
  SgdOutputs outputs(const SgdInputs& in) const;

  // The rising edge closing the current cycle. Inputs the ports cannot carry (a command field
  // wider than its port, lr or a data value outside data_width bits, an rd_data vector of the
  // wrong length) throw std::invalid_argument whatever the valids say; the state is then
  // unchanged.
  void step(const SgdInputs& in);

  // Lane `lane`'s LFSR state; std::out_of_range outside [0, lanes).
  uint32_t lfsr(int lane) const;
  bool busy() const { return phase_ != Phase::kIdle; }
  int lanes() const { return lanes_; }
  Format format() const { return format_; }

 private:
  enum class Phase {
    kIdle,    // cmd_ready high
    kWait,    // accepted; waiting for a cycle with all three readies high (u)
    kGap,     // cycle u + 1: the buffer is fetching row 0; a row on rd_valid now is not ours
    kStream,  // from u + 2: taking rows, then draining the stages to the write port
  };
  // Stage 1: lr * g (exact), theta, r and the rounding mode, one entry per lane.
  struct Stage1 {
    bool valid = false;
    bool stochastic = false;
    std::vector<int64_t> prod{};
    std::vector<int32_t> theta{};
    std::vector<uint32_t> r{};
  };
  // Stage 2: the updated row, on wr_data.
  struct Stage2 {
    bool valid = false;
    std::vector<int32_t> theta{};
  };

  void check_inputs(const SgdInputs& in, const char* where) const;
  std::vector<int32_t> row(const std::vector<int32_t>& v) const {
    return v.empty() ? std::vector<int32_t>(idx(lanes_), 0) : v;
  }
  static std::size_t idx(int i) { return static_cast<std::size_t>(i); }

  int lanes_;
  Format format_;
  Phase phase_ = Phase::kIdle;
  SgdCommand cmd_{};
  uint32_t rows_in_ = 0;   // rows taken into stage 1 for the current command
  uint32_t rows_out_ = 0;  // rows presented to the write port for the current command
  std::vector<uint32_t> lfsr_{};
  Stage1 s1_{};
  Stage2 s2_{};
  // step()'s next values, kept between cycles so that a cycle allocates nothing (assigning a
  // vector of the same size reuses its storage; the commit swaps them in).
  std::vector<uint32_t> lfsr_next_{};
  Stage1 n1_{};
  Stage2 n2_{};
};

// ---------------------------------------------------------------------------------------------

inline SgdModel::SgdModel(int lanes, Format f) : lanes_(lanes), format_(f) {
  check_format(f);
  if (lanes < kMinLanes || lanes > kMaxLanes) {
    throw std::invalid_argument("golden::SgdModel: lanes=" + std::to_string(lanes) + " outside [" +
                                std::to_string(kMinLanes) + ", " + std::to_string(kMaxLanes) + "]");
  }
  reset();
}

inline void SgdModel::reset() {
  const std::size_t n = idx(lanes_);
  phase_ = Phase::kIdle;
  cmd_ = SgdCommand{};
  rows_in_ = 0;
  rows_out_ = 0;
  lfsr_.resize(n);
  for (int c = 0; c < lanes_; ++c) lfsr_[idx(c)] = lfsr_seed(1, c);
  s1_ = Stage1{false, false, std::vector<int64_t>(n, 0), std::vector<int32_t>(n, 0),
               std::vector<uint32_t>(n, 0)};
  s2_ = Stage2{false, std::vector<int32_t>(n, 0)};
}

inline uint32_t SgdModel::lfsr(int lane) const {
  if (lane < 0 || lane >= lanes_) {
    throw std::out_of_range("golden::SgdModel::lfsr(" + std::to_string(lane) + "): outside [0, " +
                            std::to_string(lanes_) + ")");
  }
  return lfsr_[idx(lane)];
}

inline void SgdModel::check_inputs(const SgdInputs& in, const char* where) const {
  const auto check_field = [&](uint32_t v, const char* name) {
    if (v >= (uint32_t{1} << kUbAddrWidth)) {
      throw std::invalid_argument(std::string(where) + ": cmd." + name + "=" + std::to_string(v) +
                                  " does not fit UbAddrWidth=" + std::to_string(kUbAddrWidth) +
                                  " bits");
    }
  };
  check_field(in.cmd.theta_addr, "theta_addr");
  check_field(in.cmd.grad_addr, "grad_addr");
  check_field(in.cmd.count, "count");
  sgd_detail::check_value(in.cmd.lr, format_.data_width, where, "cmd.lr");
  for (int p = 0; p < 2; ++p) {
    const std::vector<int32_t>& v = in.rd_data[p];
    if (!v.empty() && v.size() != idx(lanes_)) {
      const std::string port = "rd_data[" + std::to_string(p) + "]";
      throw std::invalid_argument(std::string(where) + ": " + port + " has " +
                                  std::to_string(v.size()) +
                                  " entries, expected " + std::to_string(lanes_) +
                                  " (lanes) or 0 (all zeros)");
    }
    for (std::size_t c = 0; c < v.size(); ++c) {
      sgd_detail::check_value(v[c], format_.data_width, where, "rd_data", p,
                              static_cast<int>(c));
    }
  }
}

inline SgdOutputs SgdModel::outputs(const SgdInputs& in) const {
  check_inputs(in, "golden::SgdModel::outputs");
  SgdOutputs out;
  out.cmd_ready = phase_ == Phase::kIdle;
  out.busy = phase_ != Phase::kIdle;
  // All three commands go out together, in the first waiting cycle in which all three ports
  // are ready, so no port ever holds a command while another stalls.
  const bool issue =
      phase_ == Phase::kWait && in.rd_cmd_ready[0] && in.rd_cmd_ready[1] && in.wr_cmd_ready;
  const auto lanes = static_cast<uint32_t>(lanes_);
  out.rd_cmd_valid[0] = issue;
  out.rd_cmd_valid[1] = issue;
  out.rd_cmd[0] = UbReadCmd{cmd_.theta_addr, cmd_.count, 1, lanes, false};
  out.rd_cmd[1] = UbReadCmd{cmd_.grad_addr, cmd_.count, 1, lanes, false};
  out.wr_cmd_valid = issue;
  out.wr_cmd = UbWriteCmd{cmd_.theta_addr, cmd_.count, 1, lanes};
  out.wr_valid = s2_.valid;
  out.wr_data = s2_.theta;
  return out;
}

inline void SgdModel::step(const SgdInputs& in) {
  check_inputs(in, "golden::SgdModel::step");
  const SgdOutputs out = outputs(in);

  // Next values from the registers as they were before the edge; committed together below.
  Phase phase = phase_;
  SgdCommand cmd = cmd_;
  uint32_t rows_in = rows_in_;
  uint32_t rows_out = rows_out_;
  std::vector<uint32_t>& lfsr = lfsr_next_;
  Stage1& n1 = n1_;
  Stage2& n2 = n2_;
  lfsr = lfsr_;
  n1 = s1_;
  n2 = s2_;

  switch (phase_) {
    case Phase::kIdle:
      // SPEC-AMBIGUITY: a seed presented in the same cycle as an accepted command is applied:
      // the unit is still idle during that cycle (busy_o rises only after it), and the new
      // states are the ones that command's stochastic updates use.
      if (in.seed_valid) {
        for (int c = 0; c < lanes_; ++c) lfsr[idx(c)] = lfsr_seed(in.seed, c);
      }
      if (in.cmd_valid) {  // cmd_ready is high while idle
        phase = Phase::kWait;
        cmd = in.cmd;
        rows_in = 0;
        rows_out = 0;
      }
      break;
    case Phase::kWait:
      if (out.rd_cmd_valid[0]) {
        // SPEC-AMBIGUITY: count = 0 has no "last row"; the unit still issues its three
        // commands (the buffer flags them as illegal) and is idle again from cycle u + 1.
        phase = cmd_.count == 0 ? Phase::kIdle : Phase::kGap;
      }
      break;
    case Phase::kGap:
      phase = Phase::kStream;
      break;
    case Phase::kStream:
      break;
  }

  // Stage 1. SPEC-AMBIGUITY: the unit takes a row only when theta and gradient arrive together
  // (rd_valid[0] && rd_valid[1]), from cycle u + 2 on (the spec's arrival cycle of row 0; a row
  // in cycle u + 1 finishes some earlier command on a shared port), and only its first `count`
  // rows. A row on one port alone is not taken (the spec says they arrive together; if the
  // buffer rejected one of the reads as illegal, the unit then waits until reset).
  const bool take =
      phase_ == Phase::kStream && in.rd_valid[0] && in.rd_valid[1] && rows_in_ < cmd_.count;
  n1.valid = take;
  if (take) {
    const std::vector<int32_t> theta = row(in.rd_data[0]);  // only while taking a row
    const std::vector<int32_t> grad = row(in.rd_data[1]);
    n1.stochastic = cmd_.stochastic;
    for (int c = 0; c < lanes_; ++c) {
      n1.prod[idx(c)] = product(cmd_.lr, grad[idx(c)]);
      n1.theta[idx(c)] = theta[idx(c)];
      // The LFSRs are used at the edge that loads stage 1: r is the lane's low FracBits bits
      // before the edge, registered with the product, and the lane advances FracBits steps at
      // that same edge. So lfsr(c) after the edge closing cycle u + 2 + i has advanced
      // (i + 1) * FracBits steps. Nearest updates leave the LFSRs alone.
      if (cmd_.stochastic) {
        n1.r[idx(c)] = sgd_detail::lfsr_low_bits(lfsr_[idx(c)], format_.frac_bits);
        lfsr[idx(c)] = lfsr_advance(lfsr_[idx(c)], format_.frac_bits);
      } else {
        n1.r[idx(c)] = 0;
      }
    }
    ++rows_in;
  }

  // Stage 2: the updated row.
  n2.valid = s1_.valid;
  if (s1_.valid) {
    for (int c = 0; c < lanes_; ++c) {
      n2.theta[idx(c)] = sgd_detail::apply_update(s1_.theta[idx(c)], s1_.prod[idx(c)],
                                                  s1_.stochastic, s1_.r[idx(c)], format_);
    }
  }

  // The write port: the last row presented this cycle makes the unit idle from the next one.
  if (out.wr_valid) {
    ++rows_out;
    if (rows_out == cmd_.count) phase = Phase::kIdle;
  }

  // abort_i: idle from the next cycle; the rows in the two stages are dropped, so nothing
  // more reaches the write port. (The LFSRs keep whatever this edge gave them.)
  if (in.abort) {
    phase = Phase::kIdle;
    n1.valid = false;
    n2.valid = false;
  }

  phase_ = phase;
  cmd_ = cmd;
  rows_in_ = rows_in;
  rows_out_ = rows_out;
  lfsr_.swap(lfsr);
  std::swap(s1_, n1);
  std::swap(s2_, n2);
}

}  // namespace tpu::golden
