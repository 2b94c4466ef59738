// Testbench for the whole TPU: the Verilated `tpu` and the golden TpuModel get the same
// host traffic every cycle, and every output is compared during the cycle (after the
// inputs settle, before the edge): the array's and the vector unit's output rows, the
// rows the buffer stores (address and data), PC, state, error code, the host port's
// ready and responses. docs/architecture.md lists them.
//
// The host driver on top (write rows and instruction words, start, run to completion,
// read rows back, all through the host port like a real host) is the runtime's
// (sw/runtime/host_port.hpp), the one the golden-model device uses too.
//
// With `compare_golden` false the golden model is not run at all (the "rtl-only" device,
// for speed): nothing is compared and golden() stays at reset.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "golden/isa.hpp"
#include "golden/tpu_model.hpp"
#include "sw/runtime/host_port.hpp"
#include "tb/commands.hpp"
#include "tb/harness.hpp"
#include "tb/lanes.hpp"
#include "tb/mismatch_log.hpp"

namespace tpu::tb {

using Space = runtime::Space;

template <class Top>
class TpuTb : public runtime::HostPort {
 public:
  // max_in_flight: the MaxInFlight the model was Verilated with.
  TpuTb(int dim, int ub_depth, int imem_depth, const std::string& trace_name,
        bool force_trace = false, bool compare_golden = true,
        int max_in_flight = golden::TpuModel::kDefaultMaxInFlight)
      : HostPort(dim),
        dim_(dim),
        compare_(compare_golden),
        harness_(trace_name, force_trace),
        golden_(dim, ub_depth, imem_depth, max_in_flight) {
    host_words_ = golden_.host_width() / 32;
  }

  using HostPort::cycle;
  int dim() const { return dim_; }
  bool compares() const { return compare_; }
  const MismatchLog& log() const { return log_; }
  uint64_t cycle() const { return cycle_; }
  const golden::TpuModel& golden() const { return golden_; }
  Harness<Top>& harness() { return harness_; }

  void reset() {
    harness_.reset();
    golden_.reset();
    cycle_ = 0;
  }

  // Rows the vector unit produced so far (every valid output row, in order).
  const std::vector<std::vector<int32_t>>& vpu_rows() const { return vpu_rows_; }

 protected:
  // One cycle with `in`; returns what the RTL showed.
  golden::TpuOutputs clock(const golden::TpuInputs& in) override {
    Top& t = harness_.top();
    t.host_req_valid_i = in.host_req_valid;
    t.host_req_we_i = in.host_req_we;
    t.host_req_space_i = in.host_req_space;
    t.host_req_addr_i = in.host_req_addr;
    for (int w = 0; w < host_words_; ++w) {
      const uint32_t v = w < static_cast<int>(in.host_req_wdata.size()) ? in.host_req_wdata[w] : 0;
      set_bits(t.host_req_wdata_i, 32 * w, 32, v);
    }
    t.host_rsp_ready_i = in.host_rsp_ready;
    harness_.settle();
    const golden::TpuOutputs got = sample();
    if (compare_) compare(golden_.outputs_view(in), got);
    harness_.step_settled();  // no input changed since settle()
    if (compare_) golden_.step(in);
    ++cycle_;
    if (got.vpu_valid) vpu_rows_.push_back(got.vpu_data);
    return got;
  }

 private:
  golden::TpuOutputs sample() const {
    const Top& t = harness_.top();
    golden::TpuOutputs o;
    o.host_req_ready = t.host_req_ready_o != 0;
    o.host_rsp_valid = t.host_rsp_valid_o != 0;
    o.host_rsp_rdata.resize(host_words_);
    for (int w = 0; w < host_words_; ++w) {
      o.host_rsp_rdata[w] = static_cast<uint32_t>(get_bits(t.host_rsp_rdata_o, 32 * w, 32));
    }
    o.host_rsp_err = t.host_rsp_err_o != 0;
    o.array_valid = t.dbg_array_valid_o != 0;
    o.array_data = unpack_lanes(t.dbg_array_data_o, dim_, kDataWidth);
    o.vpu_valid = t.dbg_vpu_valid_o != 0;
    o.vpu_data = unpack_lanes(t.dbg_vpu_data_o, dim_, kDataWidth);
    o.wr_valid = t.dbg_wr_valid_o != 0;
    o.wr_addr = t.dbg_wr_addr_o;
    o.wr_data = unpack_lanes(t.dbg_wr_data_o, dim_, kDataWidth);
    o.pc = t.dbg_pc_o;
    o.state = static_cast<isa::State>(t.dbg_state_o);
    o.err = static_cast<isa::Error>(t.dbg_err_o);
    return o;
  }

  void compare(const golden::TpuOutputs& want, const golden::TpuOutputs& got) {
    std::string d;
    if (want.host_req_ready != got.host_req_ready) d += " host_req_ready";
    if (want.host_rsp_valid != got.host_rsp_valid) {
      d += " host_rsp_valid";
    } else if (got.host_rsp_valid &&
               (want.host_rsp_rdata != got.host_rsp_rdata || want.host_rsp_err != got.host_rsp_err)) {
      d += " host_rsp(err rtl " + std::to_string(got.host_rsp_err) + " golden " +
           std::to_string(want.host_rsp_err) + ")";
    }
    if (want.array_valid != got.array_valid) {
      d += " array_valid rtl=" + std::to_string(got.array_valid);
    } else if (got.array_valid && want.array_data != got.array_data) {
      d += " array_data rtl=" + lanes_str(got.array_data) + " golden=" + lanes_str(want.array_data);
    }
    if (want.vpu_valid != got.vpu_valid) {
      d += " vpu_valid rtl=" + std::to_string(got.vpu_valid);
    } else if (got.vpu_valid && want.vpu_data != got.vpu_data) {
      d += " vpu_data rtl=" + lanes_str(got.vpu_data) + " golden=" + lanes_str(want.vpu_data);
    }
    if (want.wr_valid != got.wr_valid) {
      d += " wr_valid rtl=" + std::to_string(got.wr_valid);
    } else if (got.wr_valid && (want.wr_addr != got.wr_addr || want.wr_data != got.wr_data)) {
      d += " wr rtl=" + std::to_string(got.wr_addr) + ":" + lanes_str(got.wr_data) +
           " golden=" + std::to_string(want.wr_addr) + ":" + lanes_str(want.wr_data);
    }
    if (want.pc != got.pc) d += " pc rtl=" + std::to_string(got.pc) + " golden=" + std::to_string(want.pc);
    if (want.state != got.state) {
      d += " state rtl=" + std::to_string(static_cast<int>(got.state)) +
           " golden=" + std::to_string(static_cast<int>(want.state));
    }
    if (want.err != got.err) {
      d += " err rtl=" + std::to_string(static_cast<int>(got.err)) +
           " golden=" + std::to_string(static_cast<int>(want.err));
    }
    if (!d.empty()) log_.add(cycle_, d);
  }

  int dim_;
  bool compare_ = true;
  int host_words_ = 2;
  Harness<Top> harness_;
  golden::TpuModel golden_;
  uint64_t cycle_ = 0;
  MismatchLog log_;
  std::vector<std::vector<int32_t>> vpu_rows_;
};

}  // namespace tpu::tb
