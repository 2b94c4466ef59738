// Random TPU programs for the tests that run them in lockstep: instruction builders over
// golden/isa.hpp's encoder, random buffer data, and the constrained-random program generator.
// The functional model's test (golden against functional) and tpu_test (RTL against golden,
// every cycle) draw from the same generator, so one seed names the same programs in both.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

#include "golden/isa.hpp"

namespace tpu::tb::prog {

using isa::Instr;
using isa::Opcode;
using Row = std::vector<int32_t>;
using Words = std::vector<uint64_t>;

// --- Instruction words. ----------------------------------------------------------------------

inline uint64_t word(const Instr& i) { return isa::encode(i); }
inline uint64_t op(Opcode o) { return word(Instr{.op = o}); }
inline uint64_t loop(uint32_t c) { return word(Instr{.op = Opcode::kLoop, .count = c}); }
inline uint64_t seta(uint32_t r, int32_t v) {
  return word(Instr{.op = Opcode::kSeta, .reg = r, .imm = v});
}
inline uint64_t adda(uint32_t r, int32_t v) {
  return word(Instr{.op = Opcode::kAdda, .reg = r, .imm = v});
}
inline uint64_t loadw(uint32_t addr, uint32_t rows, bool t = false, uint32_t reg = 0) {
  return word(Instr{.op = Opcode::kLoadw, .addr = addr, .addr_reg = reg, .rows = rows, .t = t});
}
struct Mm {
  uint32_t act = 0, act_reg = 0, out = 0, out_reg = 0, rows = 1, k = 1, n = 1;
  bool t = false, acc = false;
};
inline uint64_t matmul(const Mm& m) {
  return word(Instr{.op = Opcode::kMatmul,
                    .acc = m.acc,
                    .rows = m.rows,
                    .t = m.t,
                    .act = m.act,
                    .act_reg = m.act_reg,
                    .out = m.out,
                    .out_reg = m.out_reg,
                    .k = m.k,
                    .n = m.n});
}
inline uint64_t vpu(uint32_t cfg, uint32_t bias, uint32_t side, uint32_t bias_reg = 0,
             uint32_t side_reg = 0) {
  return word(Instr{.op = Opcode::kVpu,
                    .side = side,
                    .side_reg = side_reg,
                    .bias = bias,
                    .bias_reg = bias_reg,
                    .cfg = cfg});
}
inline uint64_t sgd(uint32_t theta, uint32_t grad, uint32_t count, int32_t lr, bool stochastic) {
  return word(Instr{.op = Opcode::kSgd,
                    .count = count,
                    .theta = theta,
                    .grad = grad,
                    .lr = lr,
                    .stochastic = stochastic});
}
inline uint32_t cfg(uint32_t mask, uint32_t act_fn = 0, uint32_t leak = 0, uint32_t batch = 0,
             bool src = false) {
  return isa::pack_cfg({mask, act_fn, leak, batch, src});
}

// --- Data. -----------------------------------------------------------------------------------

// `depth` random rows: mostly small values (a few units in Q8.8), some anywhere in 16 bits, some
// at the extremes, so that sums, biases, losses and updates saturate now and then.
inline std::vector<Row> random_data(std::mt19937_64& rng, int dim, int depth) {
  std::uniform_int_distribution<int> pick(0, 99);
  std::uniform_int_distribution<int32_t> small(-768, 768), any(-32768, 32767);
  std::vector<Row> rows(static_cast<std::size_t>(depth), Row(static_cast<std::size_t>(dim)));
  for (Row& r : rows) {
    for (int32_t& v : r) {
      const int p = pick(rng);
      v = p < 75 ? small(rng) : p < 90 ? any(rng) : (p < 95 ? 32767 : -32768);
    }
  }
  return rows;
}

// --- Draws. ----------------------------------------------------------------------------------

// Uniform integers and coin flips from one generator, for the program generator and the tests
// that build on it (tests/tpu_hostile_test.cpp).
class Dice {
 public:
  explicit Dice(std::mt19937_64& rng) : rng_(rng) {}
  int rand(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  uint32_t urand(uint32_t lo, uint32_t hi) {
    return std::uniform_int_distribution<uint32_t>(lo, hi)(rng_);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

 protected:
  std::mt19937_64& rng_;
};

// --- The generator. --------------------------------------------------------------------------

// What a program may hold besides legal instructions and how it ends.
struct ProgramOptions {
  double bad_word = 0.15;  // chance of one random, probably illegal, word somewhere
  double run_off = 0.05;   // chance of no halt at the end (the PC runs off: ErrPc)
  bool halt = true;        // false: never a halt (the caller appends what it wants)
  bool sync = true;        // false: a nop where a sync would be
};

// Writes legal programs (mostly; a few carry one random, probably illegal, word) of random
// loadw, matmul, vpu, sgd, seed, seta/adda, loops and syncs over random rows. The draws from
// the random generator do not depend on the options, so one seed names the same programs
// (less what the options leave out) whatever they are.
class ProgramGenerator : Dice {
 public:
  ProgramGenerator(std::mt19937_64& rng, int dim, int depth, ProgramOptions options = {})
      : Dice(rng),
        n_(static_cast<uint32_t>(dim)),
        depth_(static_cast<uint32_t>(depth)),
        options_(options) {}

  Words program() {
    words_.clear();
    areg_ = {0, 0, 0, 0};
    range_ = {};
    loop_regs_.clear();
    const int length = rand(4, 30);
    const int bad_at = chance(options_.bad_word) ? rand(0, length) : -1;
    for (int i = 0; i < length; ++i) {
      if (i == bad_at) words_.push_back(random_word());
      if (loop_regs_.empty() && chance(0.12)) {
        emit_loop(1);
      } else {
        emit_plain();
      }
    }
    if (!chance(options_.run_off) && options_.halt) words_.push_back(op(Opcode::kHalt));
    return words_;
  }

  // The value a3 holds at the end of the last program (it changes only outside loops; a1 and
  // a2 are left wherever their loops walked them).
  uint32_t a3() const { return areg_[3]; }

 private:
  // The range an address register can hold while the instruction runs: a fixed value outside
  // loops, or the values a loop's register walks through.
  struct Range {
    uint32_t lo, hi;
  };

  // A register usable here and its range: a1/a2 inside the loops that walk them, a3 anywhere
  // (it only changes outside loops).
  uint32_t pick_reg(Range& r) {
    std::vector<uint32_t> regs = {0, 3};
    for (const uint32_t l : loop_regs_) regs.push_back(l);
    const uint32_t reg = regs[static_cast<std::size_t>(rand(0, static_cast<int>(regs.size()) - 1))];
    r = reg == 0 ? Range{0, 0} : range_[reg];
    return reg;
  }
  // A field and register for a block of `extent` rows that stays inside the buffer.
  std::pair<uint32_t, uint32_t> place(uint32_t extent) {
    Range r{0, 0};
    uint32_t reg = chance(0.5) ? pick_reg(r) : 0;
    if (reg != 0 && r.hi + extent > depth_) {
      reg = 0;
      r = Range{0, 0};
    }
    const uint32_t field = static_cast<uint32_t>(rand(0, static_cast<int>(depth_ - extent - r.hi)));
    return {field, reg};
  }

  uint32_t rows_for_matmul() {
    const int p = rand(0, 99);
    return static_cast<uint32_t>(p < 60   ? rand(1, static_cast<int>(n_) + 2)
                                 : p < 95 ? rand(1, 3 * static_cast<int>(n_) + 10)
                                          : rand(1, kMaxRows));
  }

  void emit_plain() {
    const int p = rand(0, 99);
    if (p < 14) {
      const bool t = chance(0.3);
      const auto rows = static_cast<uint32_t>(rand(1, static_cast<int>(n_)));
      const auto [addr, reg] = place(t ? n_ : rows);
      words_.push_back(loadw(addr, rows, t, reg));
    } else if (p < 50) {
      Mm m;
      m.t = chance(0.2);
      m.rows = m.t ? static_cast<uint32_t>(rand(1, static_cast<int>(n_))) : rows_for_matmul();
      m.k = static_cast<uint32_t>(rand(1, static_cast<int>(n_)));
      m.n = static_cast<uint32_t>(rand(1, static_cast<int>(n_)));
      m.acc = chance(0.25);
      std::tie(m.act, m.act_reg) = place(m.t ? n_ : m.rows);
      std::tie(m.out, m.out_reg) = place(m.rows);
      words_.push_back(matmul(m));
    } else if (p < 66) {
      const uint32_t mask = static_cast<uint32_t>(rand(0, 15));
      const uint32_t c =
          cfg(mask, static_cast<uint32_t>(rand(0, 2)), static_cast<uint32_t>(rand(0, 15)),
              static_cast<uint32_t>(rand(0, 15)), chance(0.5));
      const auto [bias, bias_reg] = place(1);
      // Side rows for any matmul that follows (at most kMaxRows rows).
      const auto [side, side_reg] = place(kMaxRows);
      words_.push_back(vpu(c, bias, side, bias_reg, side_reg));
    } else if (p < 80) {
      const auto count =
          static_cast<uint32_t>(rand(1, chance(0.9) ? 3 * static_cast<int>(n_) : 60));
      const auto theta = static_cast<uint32_t>(rand(0, static_cast<int>(depth_ - count)));
      const auto grad =
          chance(0.3) ? static_cast<uint32_t>(std::clamp<int>(static_cast<int>(theta) + rand(-6, 6),
                                                              0, static_cast<int>(depth_ - count)))
                      : static_cast<uint32_t>(rand(0, static_cast<int>(depth_ - count)));
      const int32_t lr = chance(0.7) ? rand(-128, 128) : rand(-32768, 32767);
      words_.push_back(sgd(theta, grad, count, lr, chance(0.6)));
    } else if (p < 84) {
      words_.push_back(word(
          Instr{.op = Opcode::kSeed, .seed = static_cast<uint32_t>(rand(0, 3) == 0 ? 0 : rng_())}));
    } else if (p < 89) {
      if (loop_regs_.empty()) {  // a3 changes only outside loops, so its value is known
        const auto v = static_cast<uint32_t>(rand(0, static_cast<int>(depth_) / 2));
        if (chance(0.5)) {
          words_.push_back(seta(3, static_cast<int32_t>(v)));
        } else {
          const int32_t step = static_cast<int32_t>(v) - static_cast<int32_t>(areg_[3]);
          words_.push_back(adda(3, step));
        }
        areg_[3] = v;
        range_[3] = Range{v, v};
      } else {
        words_.push_back(op(Opcode::kNop));
      }
    } else if (p < 93) {
      words_.push_back(op(options_.sync ? Opcode::kSync : Opcode::kNop));
    } else {
      words_.push_back(op(Opcode::kNop));
    }
  }

  // seta aR, base; loop c; body; adda aR, step; endl. aR walks base, base + step, ...
  void emit_loop(int level) {
    const auto reg = static_cast<uint32_t>(level);  // a1 for the outer loop, a2 inside it
    const int count = rand(1, 4);
    const int step = rand(-8, 8);
    const int span = std::abs(step) * (count - 1);
    const int base = step >= 0 ? rand(0, 40) : rand(span, span + 40);
    words_.push_back(seta(reg, base));
    words_.push_back(loop(static_cast<uint32_t>(count)));
    range_[reg] = Range{static_cast<uint32_t>(std::min(base, base + step * (count - 1))),
                        static_cast<uint32_t>(std::max(base, base + step * (count - 1)))};
    loop_regs_.push_back(reg);
    const int body = rand(1, 5);
    for (int i = 0; i < body; ++i) {
      if (level < 2 && chance(0.15)) {
        emit_loop(level + 1);
      } else {
        emit_plain();
      }
    }
    loop_regs_.pop_back();
    words_.push_back(adda(reg, step));
    words_.push_back(op(Opcode::kEndl));
  }

  // A word that is probably illegal: random bits, a random opcode with random fields, or a
  // legal form with one field pushed out of range.
  uint64_t random_word() {
    switch (rand(0, 3)) {
      case 0:
        return rng_();
      case 1:
        return (uint64_t{static_cast<uint64_t>(rand(0, 15))} << 60) |
               (rng_() & ((uint64_t{1} << 60) - 1) & (rand(0, 1) ? ~0ull : 0xFFFFFFFFull));
      case 2:
        return matmul({.act = static_cast<uint32_t>(rand(0, 65535)),
                       .out = static_cast<uint32_t>(rand(0, 300)),
                       .rows = static_cast<uint32_t>(rand(0, 40)),
                       .k = static_cast<uint32_t>(rand(0, static_cast<int>(n_) + 1)),
                       .n = static_cast<uint32_t>(rand(0, static_cast<int>(n_) + 1))});
      default:
        return rand(0, 1) ? loop(static_cast<uint32_t>(rand(0, 1)))
                          : sgd(static_cast<uint32_t>(rand(0, 300)), 0,
                                static_cast<uint32_t>(rand(0, 100)), 1, false);
    }
  }

  static constexpr int kMaxRows = 60;

  uint32_t n_;
  uint32_t depth_;
  ProgramOptions options_;
  Words words_;
  std::array<uint32_t, 4> areg_{};
  std::array<Range, 4> range_{};
  std::vector<uint32_t> loop_regs_;
};

}  // namespace tpu::tb::prog
