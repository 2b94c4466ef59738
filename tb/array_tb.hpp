// Testbench for the systolic array: drives the Verilated RTL and the golden model
// with the same inputs every cycle and compares their outputs every cycle.
//
// Compared each cycle: out_valid_o always; out_data_o (every lane) while valid.
// The spec leaves out_data_o undefined while out_valid_o is low.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "golden/systolic_array_model.hpp"
#include "tb/harness.hpp"
#include "tb/lanes.hpp"
#include "tb/mismatch_log.hpp"
#include "tb/tile_schedule.hpp"

namespace tpu::tb {

struct OutputRow {
  uint64_t cycle;              // the cycle (spec numbering) in which the row is presented
  std::vector<int32_t> data;  // one value per column
};

template <class Top>
class ArrayTb {
 public:
  ArrayTb(int dim, const std::string& trace_name, bool force_trace = false)
      : dim_(dim), harness_(trace_name, force_trace), golden_(dim) {}

  int dim() const { return dim_; }
  Harness<Top>& harness() { return harness_; }
  const golden::SystolicArrayModel& golden() const { return golden_; }

  // Resets both (asynchronously, in the current cycle, held `cycles` edges); cycle
  // numbering and the list of output rows restart. Mismatches are kept.
  void reset(int cycles = 2) {
    harness_.reset(cycles);
    golden_.reset();
    cycle_ = 0;
    rows_.clear();
    compare();
  }

  // Presents `in` during the current cycle and clocks both models once.
  void apply(const golden::ArrayInputs& in) {
    Top& top = harness_.top();
    top.w_valid_i = in.w_valid;
    top.w_row_i = in.w_row;
    pack_lanes(top.w_data_i, lanes_or_zero(in.w_data), kDataWidth);
    top.in_valid_i = in.in_valid;
    top.in_switch_i = in.in_switch;
    pack_lanes(top.in_act_i, lanes_or_zero(in.in_act), kDataWidth);
    harness_.step();
    golden_.step(in);
    ++cycle_;
    compare();
  }

  void idle(int cycles) {
    for (int i = 0; i < cycles; ++i) apply(golden::ArrayInputs{});
  }

  // Applies a whole schedule, then idles until every row has left the array.
  void run(const Schedule& s) {
    for (const auto& in : s.cycles) apply(in);
    idle(2 * dim_ + 1);
  }

  // Rows the RTL presented, in order, with the cycle of each.
  const std::vector<OutputRow>& rows() const { return rows_; }
  uint64_t mismatch_count() const { return log_.count(); }
  uint64_t cycle() const { return cycle_; }

  // The first few mismatches, for a failure message.
  std::string mismatch_report(size_t max_lines = 10) const { return log_.report(max_lines); }

 private:
  static constexpr int kDataWidth = 16;

  std::vector<int32_t> lanes_or_zero(const std::vector<int32_t>& v) const {
    return v.empty() ? std::vector<int32_t>(dim_, 0) : v;
  }

  // Outputs now visible belong to cycle `cycle_` (the step just closed cycle_-1).
  void compare() {
    const Top& top = harness_.top();
    const bool rtl_valid = top.out_valid_o != 0;
    const auto rtl_data = unpack_lanes(top.out_data_o, dim_, kDataWidth);
    const golden::ArrayOutputs g = golden_.outputs();
    std::ostringstream diff;
    if (rtl_valid != g.out_valid) {
      diff << "out_valid rtl=" << rtl_valid << " golden=" << g.out_valid;
    } else if (rtl_valid) {
      for (int c = 0; c < dim_; ++c) {
        if (rtl_data[c] != g.out_data[c]) {
          diff << " out_data[" << c << "] rtl=" << rtl_data[c] << " golden=" << g.out_data[c];
        }
      }
    }
    if (!diff.str().empty()) log_.add(cycle_, diff.str());
    if (rtl_valid) rows_.push_back({cycle_, rtl_data});
  }

  int dim_;
  Harness<Top> harness_;
  golden::SystolicArrayModel golden_;
  uint64_t cycle_ = 0;
  std::vector<OutputRow> rows_;
  MismatchLog log_;
};

}  // namespace tpu::tb
