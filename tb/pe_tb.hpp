// Testbench for one processing element: the Verilated `pe` and the golden PeModel get the same
// inputs every cycle, and every output (valid, switch, activation, partial sum) is compared after
// the edge; mismatches go to the MismatchLog, which tb/rtl_fixture.hpp checks at the end.
#pragma once

#include <cstdint>
#include <string>

#include "golden/pe_model.hpp"
#include "tb/harness.hpp"
#include "tb/mismatch_log.hpp"

namespace tpu::tb {

template <class Top>
class PeTb {
 public:
  // sum_width: the SumWidth the model was Verilated with.
  PeTb(int sum_width, const std::string& trace_name)
      : sum_width_(sum_width), harness_(trace_name), golden_(sum_width) {}

  void reset() {
    harness_.reset();
    golden_.reset();
  }

  // One cycle with `in` to both.
  void apply(const golden::PeInputs& in) {
    Top& top = harness_.top();
    top.valid_i = in.valid;
    top.switch_i = in.sw;
    top.act_i = static_cast<uint16_t>(in.act);
    top.psum_i = static_cast<uint64_t>(in.psum) & ((uint64_t{1} << sum_width_) - 1);
    top.load_i = in.load;
    top.w_i = static_cast<uint16_t>(in.w);
    harness_.step();
    golden_.step(in);
    const auto& g = golden_.state();
    std::string d;
    if ((top.valid_o != 0) != g.valid) d += " valid_o";
    if ((top.switch_o != 0) != g.sw) d += " switch_o";
    if (act() != g.act) d += " act_o rtl=" + std::to_string(act()) + " golden=" + std::to_string(g.act);
    if (psum() != g.psum) {
      d += " psum_o rtl=" + std::to_string(psum()) + " golden=" + std::to_string(g.psum);
    }
    if (!d.empty()) log_.add(harness_.cycle(), "mismatch in" + d);
  }

  int64_t psum() const {
    uint64_t v = harness_.top().psum_o;
    if ((v >> (sum_width_ - 1)) & 1) v |= ~uint64_t{0} << sum_width_;
    return static_cast<int64_t>(v);
  }
  int16_t act() const { return static_cast<int16_t>(harness_.top().act_o); }
  bool valid() const { return harness_.top().valid_o != 0; }
  const MismatchLog& log() const { return log_; }

 private:
  int sum_width_;
  Harness<Top> harness_;
  golden::PeModel golden_;
  MismatchLog log_;
};

}  // namespace tpu::tb
