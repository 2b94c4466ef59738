// Testbench for the vector processing unit: the same row and configuration into the
// Verilated RTL and the golden model every cycle; out_valid_o compared every cycle and
// out_data_o every valid cycle (every output is a register, so after the edge).
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "golden/vpu_model.hpp"
#include "tb/commands.hpp"
#include "tb/harness.hpp"
#include "tb/lanes.hpp"
#include "tb/mismatch_log.hpp"

namespace tpu::tb {

template <class Top>
class VpuTb {
 public:
  VpuTb(int lanes, const std::string& trace_name)
      : lanes_(lanes), harness_(trace_name), golden_(lanes) {}

  const MismatchLog& log() const { return log_; }
  uint64_t cycle() const { return cycle_; }

  void reset() {
    harness_.reset();
    golden_.reset();
    cycle_ = 0;
  }

  // One cycle with `in`; returns what the RTL shows after the edge.
  golden::VpuOutputs apply(const golden::VpuInputs& in) {
    Top& t = harness_.top();
    t.in_valid_i = in.valid;
    pack_lanes(t.in_data_i, or_zero(in.data), kDataWidth);
    pack_lanes(t.in_bias_i, or_zero(in.bias), kDataWidth);
    pack_lanes(t.in_target_i, or_zero(in.target), kDataWidth);
    pack_lanes(t.in_deriv_i, or_zero(in.deriv), kDataWidth);
    t.in_cfg_i = static_cast<uint16_t>(pack_vpu_cfg(in.cfg));
    harness_.step();
    const golden::VpuOutputs want = golden_.step(in);
    ++cycle_;
    golden::VpuOutputs got;
    got.valid = t.out_valid_o != 0;
    got.data = unpack_lanes(t.out_data_o, lanes_, kDataWidth);
    if (got.valid != want.valid) {
      log_.add(cycle_, "out_valid rtl=" + std::to_string(got.valid));
    } else if (got.valid && got.data != want.data) {
      log_.add(cycle_, "out_data rtl=" + lanes_str(got.data) + " golden=" + lanes_str(want.data));
    }
    return got;
  }

 private:
  std::vector<int32_t> or_zero(const std::vector<int32_t>& v) const {
    return v.empty() ? std::vector<int32_t>(lanes_, 0) : v;
  }

  int lanes_;
  Harness<Top> harness_;
  golden::VpuModel golden_;
  uint64_t cycle_ = 0;
  MismatchLog log_;
};

}  // namespace tpu::tb
