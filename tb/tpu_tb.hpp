// Testbench for the whole TPU: the Verilated `tpu` and the golden TpuModel get the same
// host traffic every cycle, and every output is compared during the cycle (after the
// inputs settle, before the edge): the array's and the vector unit's output rows, the
// rows the buffer stores (address and data), PC, state, error code, the host port's
// ready and responses. docs/architecture.md lists them.
//
// On top, a host driver: write rows and instruction words, start, run to completion,
// read rows back, all through the host port like a real host.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "golden/isa.hpp"
#include "golden/tpu_model.hpp"
#include "tb/commands.hpp"
#include "tb/harness.hpp"
#include "tb/lanes.hpp"
#include "tb/mismatch_log.hpp"

namespace tpu::tb {

enum class Space : uint8_t { kBuffer = 0, kImem = 1, kCsr = 2 };

template <class Top>
class TpuTb {
 public:
  TpuTb(int dim, int ub_depth, int imem_depth, const std::string& trace_name,
        bool force_trace = false)
      : dim_(dim), harness_(trace_name, force_trace), golden_(dim, ub_depth, imem_depth) {
    host_words_ = golden_.host_width() / 32;
  }

  int dim() const { return dim_; }
  const MismatchLog& log() const { return log_; }
  uint64_t cycle() const { return cycle_; }
  const golden::TpuModel& golden() const { return golden_; }
  Harness<Top>& harness() { return harness_; }

  void reset() {
    harness_.reset();
    golden_.reset();
    cycle_ = 0;
  }

  // One cycle with `in`; returns what the RTL showed.
  golden::TpuOutputs cycle(const golden::TpuInputs& in) {
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
    compare(golden_.outputs(in), got);
    harness_.step();
    golden_.step(in);
    ++cycle_;
    if (got.vpu_valid) vpu_rows_.push_back(got.vpu_data);
    return got;
  }

  golden::TpuOutputs idle() { return cycle(golden::TpuInputs{}); }

  // --- Host driver ---------------------------------------------------------------

  // One request; waits for the handshake and the response. Returns the response words
  // and sets `err` to the response's error bit.
  std::vector<uint32_t> host(Space space, bool we, uint32_t addr,
                             const std::vector<uint32_t>& wdata, bool* err = nullptr) {
    golden::TpuInputs req;
    req.host_req_valid = true;
    req.host_req_we = we;
    req.host_req_space = static_cast<uint8_t>(space);
    req.host_req_addr = addr;
    req.host_req_wdata = wdata;
    if (!wdata.empty()) req.host_req_wdata.resize(host_words_, 0);
    for (int g = 0; !cycle(req).host_req_ready; ++g) {
      if (g > 1000) throw std::runtime_error("host request never accepted");
    }
    golden::TpuInputs wait;
    wait.host_rsp_ready = true;
    for (int g = 0;; ++g) {
      if (g > 1000) throw std::runtime_error("host response never came");
      const golden::TpuOutputs o = cycle(wait);
      if (o.host_rsp_valid) {
        if (err) *err = o.host_rsp_err;
        return o.host_rsp_rdata;
      }
    }
  }

  void write_row(uint32_t addr, const std::vector<int32_t>& row) {
    bool err = false;
    host(Space::kBuffer, true, addr, row_words(row), &err);
    if (err) throw std::runtime_error("host write of buffer row " + std::to_string(addr) + " failed");
  }

  std::vector<int32_t> read_row(uint32_t addr) {
    bool err = false;
    const auto w = host(Space::kBuffer, false, addr, {}, &err);
    if (err) throw std::runtime_error("host read of buffer row " + std::to_string(addr) + " failed");
    std::vector<int32_t> row(dim_);
    for (int c = 0; c < dim_; ++c) {
      const uint32_t bits = (w[(16 * c) / 32] >> ((16 * c) % 32)) & 0xFFFF;
      row[c] = static_cast<int16_t>(static_cast<uint16_t>(bits));
    }
    return row;
  }

  void load_program(const std::vector<uint64_t>& words) {
    for (size_t i = 0; i < words.size(); ++i) {
      bool err = false;
      host(Space::kImem, true, static_cast<uint32_t>(i),
           {static_cast<uint32_t>(words[i]), static_cast<uint32_t>(words[i] >> 32)}, &err);
      if (err) throw std::runtime_error("instruction " + std::to_string(i) + " not accepted");
    }
  }

  uint64_t csr(uint32_t addr) {
    const auto w = host(Space::kCsr, false, addr, {});
    return w[0] | (static_cast<uint64_t>(w.size() > 1 ? w[1] : 0) << 32);
  }

  void start() {
    bool err = false;
    host(Space::kCsr, true, 0, {1}, &err);
    if (err) throw std::runtime_error("start refused");
  }

  void resume() {
    bool err = false;
    host(Space::kCsr, true, 0, {2}, &err);
    if (err) throw std::runtime_error("continue refused");
  }

  // Starts the program and clocks until the TPU leaves Running (Done, Error or Sync), or
  // `max_cycles` pass. Returns the state it stopped in.
  isa::State run(uint64_t max_cycles = 1'000'000) {
    start();
    return run_on(max_cycles);
  }

  isa::State run_on(uint64_t max_cycles = 1'000'000) {
    for (uint64_t i = 0; i < max_cycles; ++i) {
      const golden::TpuOutputs o = idle();
      if (o.state != isa::State::kRunning) return o.state;
    }
    throw std::runtime_error("the program did not stop within " + std::to_string(max_cycles) +
                             " cycles");
  }

  // Rows the vector unit produced so far (every valid output row, in order).
  const std::vector<std::vector<int32_t>>& vpu_rows() const { return vpu_rows_; }

  std::vector<uint32_t> row_words(const std::vector<int32_t>& row) const {
    std::vector<uint32_t> w(host_words_, 0);
    for (int c = 0; c < dim_ && c < static_cast<int>(row.size()); ++c) {
      w[(16 * c) / 32] |= (static_cast<uint32_t>(row[c]) & 0xFFFF) << ((16 * c) % 32);
    }
    return w;
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
  int host_words_ = 2;
  Harness<Top> harness_;
  golden::TpuModel golden_;
  uint64_t cycle_ = 0;
  MismatchLog log_;
  std::vector<std::vector<int32_t>> vpu_rows_;
};

}  // namespace tpu::tb
