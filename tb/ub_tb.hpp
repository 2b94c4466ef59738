// Testbench for the unified buffer: drives the Verilated RTL and the golden model with
// the same inputs every cycle and compares every output during that cycle (after the
// inputs settle, before the clock edge), since the readies depend on this cycle's
// inputs.
//
// Compared each cycle: every ready, rd_valid_o per port (rd_data_o while valid),
// host_rsp_valid_o (host_rsp_rdata_o and host_rsp_err_o while valid), err_o,
// err_code_o.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "golden/unified_buffer_model.hpp"
#include "tb/commands.hpp"
#include "tb/harness.hpp"
#include "tb/lanes.hpp"
#include "tb/mismatch_log.hpp"

namespace tpu::tb {

template <class Top>
class UbTb {
 public:
  // `strides` is the Verilated model's GeneralStride (kGeneral for 1).
  UbTb(int lanes, int depth, int read_ports, const std::string& trace_name,
       golden::UbStrides strides = golden::UbStrides::kGeneral)
      : lanes_(lanes), read_ports_(read_ports), harness_(trace_name),
        golden_(lanes, depth, read_ports, golden::kQ8_8, strides) {}

  golden::UnifiedBufferModel& golden() { return golden_; }
  uint64_t cycle() const { return cycle_; }
  const MismatchLog& log() const { return log_; }

  void reset() {
    harness_.reset();
    golden_.reset();
    cycle_ = 0;
  }

  // One cycle: drive `in`, compare every output, clock both. Returns what the RTL
  // showed during the cycle (data fields as the RTL had them).
  golden::UbOutputs cycle(const golden::UbInputs& in) {
    drive(in);
    harness_.settle();
    const golden::UbOutputs want = golden_.outputs(in);
    const golden::UbOutputs got = sample();
    compare(want, got);
    harness_.step();
    golden_.step(in);
    ++cycle_;
    return got;
  }

 private:
  void drive(const golden::UbInputs& in) {
    Top& t = harness_.top();
    t.rd_cmd_valid_i = 0;
    for (int p = 0; p < read_ports_; ++p) {
      const bool valid = p < static_cast<int>(in.rd_cmd_valid.size()) && in.rd_cmd_valid[p];
      set_bits(t.rd_cmd_valid_i, p, 1, valid ? 1 : 0);
      const golden::UbReadCmd cmd =
          p < static_cast<int>(in.rd_cmd.size()) ? in.rd_cmd[p] : golden::UbReadCmd{};
      set_bits(t.rd_cmd_i, p * kUbRdCmdWidth, kUbRdCmdWidth, pack_rd_cmd(cmd));
    }
    t.wr_cmd_valid_i = in.wr_cmd_valid;
    t.wr_cmd_i = pack_wr_cmd(in.wr_cmd);
    t.wr_valid_i = in.wr_valid;
    pack_lanes(t.wr_data_i, row_or_zero(in.wr_data), kDataWidth);
    t.host_req_valid_i = in.host_req_valid;
    t.host_req_we_i = in.host_req_we;
    t.host_req_addr_i = in.host_req_addr;
    pack_lanes(t.host_req_wdata_i, row_or_zero(in.host_req_wdata), kDataWidth);
    t.host_rsp_ready_i = in.host_rsp_ready;
    t.err_clear_i = in.err_clear;
  }

  golden::UbOutputs sample() const {
    const Top& t = harness_.top();
    golden::UbOutputs o;
    const auto rd = unpack_lanes(t.rd_data_o, lanes_ * read_ports_, kDataWidth);
    for (int p = 0; p < read_ports_; ++p) {
      o.rd_cmd_ready.push_back(get_bits(t.rd_cmd_ready_o, p, 1) != 0);
      o.rd_valid.push_back(get_bits(t.rd_valid_o, p, 1) != 0);
      o.rd_data.emplace_back(rd.begin() + p * lanes_, rd.begin() + (p + 1) * lanes_);
    }
    o.wr_cmd_ready = t.wr_cmd_ready_o != 0;
    o.host_req_ready = t.host_req_ready_o != 0;
    o.host_rsp_valid = t.host_rsp_valid_o != 0;
    o.host_rsp_rdata = unpack_lanes(t.host_rsp_rdata_o, lanes_, kDataWidth);
    o.host_rsp_err = t.host_rsp_err_o != 0;
    o.err = t.err_o != 0;
    o.err_code = static_cast<golden::UbError>(t.err_code_o);
    return o;
  }

  void compare(const golden::UbOutputs& want, const golden::UbOutputs& got) {
    std::ostringstream d;
    for (int p = 0; p < read_ports_; ++p) {
      if (want.rd_cmd_ready[p] != got.rd_cmd_ready[p]) d << " rd_cmd_ready[" << p << "]";
      if (want.rd_valid[p] != got.rd_valid[p]) {
        d << " rd_valid[" << p << "] rtl=" << got.rd_valid[p];
      } else if (got.rd_valid[p] && want.rd_data[p] != got.rd_data[p]) {
        d << " rd_data[" << p << "] rtl=" << lanes_str(got.rd_data[p])
          << " golden=" << lanes_str(want.rd_data[p]);
      }
    }
    if (want.wr_cmd_ready != got.wr_cmd_ready) d << " wr_cmd_ready rtl=" << got.wr_cmd_ready;
    if (want.host_req_ready != got.host_req_ready) {
      d << " host_req_ready rtl=" << got.host_req_ready;
    }
    if (want.host_rsp_valid != got.host_rsp_valid) {
      d << " host_rsp_valid rtl=" << got.host_rsp_valid;
    } else if (got.host_rsp_valid && (want.host_rsp_rdata != got.host_rsp_rdata ||
                                      want.host_rsp_err != got.host_rsp_err)) {
      d << " host_rsp rtl=" << lanes_str(got.host_rsp_rdata) << "/err" << got.host_rsp_err
        << " golden=" << lanes_str(want.host_rsp_rdata) << "/err" << want.host_rsp_err;
    }
    if (want.err != got.err || want.err_code != got.err_code) {
      d << " err rtl=" << got.err << "/" << static_cast<int>(got.err_code)
        << " golden=" << want.err << "/" << static_cast<int>(want.err_code);
    }
    if (!d.str().empty()) log_.add(cycle_, d.str());
  }

  std::vector<int32_t> row_or_zero(const std::vector<int32_t>& v) const {
    return v.empty() ? std::vector<int32_t>(lanes_, 0) : v;
  }

  int lanes_;
  int read_ports_;
  Harness<Top> harness_;
  golden::UnifiedBufferModel golden_;
  uint64_t cycle_ = 0;
  MismatchLog log_;
};

}  // namespace tpu::tb
