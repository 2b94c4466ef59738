// Testbench for the gradient-descent unit wired to a unified buffer (tb/rtl/sgd_system.sv).
// The golden side wires the golden SGD model to the golden buffer model the same way.
//
// Compared every cycle, during the cycle: cmd_ready_o, busy_o, upd_valid_o (upd_data_o
// while valid: the updated rows), host_req_ready_o, host_rsp_valid_o (data and error
// while valid), err_o and err_code_o.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "golden/sgd_model.hpp"
#include "golden/unified_buffer_model.hpp"
#include "tb/commands.hpp"
#include "tb/harness.hpp"
#include "tb/lanes.hpp"
#include "tb/mismatch_log.hpp"

namespace tpu::tb {

struct SgdSystemInputs {
  bool cmd_valid = false;
  golden::SgdCommand cmd{};
  bool abort = false;
  bool seed_valid = false;
  uint32_t seed = 0;
  bool host_req_valid = false;
  bool host_req_we = false;
  uint32_t host_req_addr = 0;
  std::vector<int32_t> host_req_wdata{};
  bool host_rsp_ready = false;
  bool err_clear = false;
};

struct SgdSystemOutputs {
  bool cmd_ready = false;
  bool busy = false;
  bool upd_valid = false;
  std::vector<int32_t> upd_data{};
  bool host_req_ready = false;
  bool host_rsp_valid = false;
  std::vector<int32_t> host_rsp_rdata{};
  bool host_rsp_err = false;
  bool err = false;
  golden::UbError err_code = golden::UbError::kNone;
};

// The golden models wired as the RTL wrapper wires the units.
class SgdSystemModel {
 public:
  SgdSystemModel(int lanes, int depth) : lanes_(lanes), sgd_(lanes), ub_(lanes, depth, 2) {}

  void reset() {
    sgd_.reset();
    ub_.reset();
  }

  const golden::SgdModel& sgd() const { return sgd_; }
  const golden::UnifiedBufferModel& buffer() const { return ub_; }

  SgdSystemOutputs outputs(const SgdSystemInputs& in) const {
    Wires w = wire(in);
    SgdSystemOutputs o;
    o.cmd_ready = w.sgd_out.cmd_ready;
    o.busy = w.sgd_out.busy;
    o.upd_valid = w.sgd_out.wr_valid;
    o.upd_data = w.sgd_out.wr_data;
    o.host_req_ready = w.ub_out.host_req_ready;
    o.host_rsp_valid = w.ub_out.host_rsp_valid;
    o.host_rsp_rdata = w.ub_out.host_rsp_rdata;
    o.host_rsp_err = w.ub_out.host_rsp_err;
    o.err = w.ub_out.err;
    o.err_code = w.ub_out.err_code;
    return o;
  }

  void step(const SgdSystemInputs& in) {
    Wires w = wire(in);
    sgd_.step(w.sgd_in);
    ub_.step(w.ub_in);
  }

 private:
  struct Wires {
    golden::SgdInputs sgd_in;
    golden::SgdOutputs sgd_out;
    golden::UbInputs ub_in;
    golden::UbOutputs ub_out;
  };

  // Settles the combinational paths between the two models. The unit's write rows and
  // the buffer's readies depend only on registers (the buffer's write-command ready also
  // on the unit's registered write row), so two passes reach the fixed point.
  Wires wire(const SgdSystemInputs& in) const {
    Wires w;
    w.sgd_in.cmd_valid = in.cmd_valid;
    w.sgd_in.cmd = in.cmd;
    w.sgd_in.abort = in.abort;
    w.sgd_in.seed_valid = in.seed_valid;
    w.sgd_in.seed = in.seed;
    w.ub_in.host_req_valid = in.host_req_valid;
    w.ub_in.host_req_we = in.host_req_we;
    w.ub_in.host_req_addr = in.host_req_addr;
    w.ub_in.host_req_wdata = in.host_req_wdata;
    w.ub_in.host_rsp_ready = in.host_rsp_ready;
    w.ub_in.err_clear = in.err_clear;
    for (int pass = 0; pass < 2; ++pass) {
      w.sgd_out = sgd_.outputs(w.sgd_in);
      w.ub_in.rd_cmd_valid = {w.sgd_out.rd_cmd_valid[0], w.sgd_out.rd_cmd_valid[1]};
      w.ub_in.rd_cmd = {w.sgd_out.rd_cmd[0], w.sgd_out.rd_cmd[1]};
      w.ub_in.wr_cmd_valid = w.sgd_out.wr_cmd_valid;
      w.ub_in.wr_cmd = w.sgd_out.wr_cmd;
      w.ub_in.wr_valid = w.sgd_out.wr_valid;
      w.ub_in.wr_data = w.sgd_out.wr_data;
      w.ub_out = ub_.outputs(w.ub_in);
      for (int p = 0; p < 2; ++p) {
        w.sgd_in.rd_cmd_ready[p] = w.ub_out.rd_cmd_ready[p];
        w.sgd_in.rd_valid[p] = w.ub_out.rd_valid[p];
        w.sgd_in.rd_data[p] = w.ub_out.rd_data[p];
      }
      w.sgd_in.wr_cmd_ready = w.ub_out.wr_cmd_ready;
    }
    w.sgd_out = sgd_.outputs(w.sgd_in);
    return w;
  }

  int lanes_;
  golden::SgdModel sgd_;
  golden::UnifiedBufferModel ub_;
};

template <class Top>
class SgdSystemTb {
 public:
  SgdSystemTb(int lanes, int depth, const std::string& trace_name)
      : lanes_(lanes), harness_(trace_name), golden_(lanes, depth) {}

  const MismatchLog& log() const { return log_; }
  uint64_t cycle() const { return cycle_; }
  const SgdSystemModel& golden() const { return golden_; }

  void reset() {
    harness_.reset();
    golden_.reset();
    cycle_ = 0;
  }

  SgdSystemOutputs cycle(const SgdSystemInputs& in) {
    Top& t = harness_.top();
    t.cmd_valid_i = in.cmd_valid;
    pack_sgd_cmd(t.cmd_i, in.cmd);
    t.abort_i = in.abort;
    t.seed_valid_i = in.seed_valid;
    t.seed_i = in.seed;
    t.host_req_valid_i = in.host_req_valid;
    t.host_req_we_i = in.host_req_we;
    t.host_req_addr_i = in.host_req_addr;
    pack_lanes(t.host_req_wdata_i,
               in.host_req_wdata.empty() ? std::vector<int32_t>(lanes_, 0) : in.host_req_wdata,
               kDataWidth);
    t.host_rsp_ready_i = in.host_rsp_ready;
    t.err_clear_i = in.err_clear;
    harness_.settle();

    SgdSystemOutputs got;
    got.cmd_ready = t.cmd_ready_o != 0;
    got.busy = t.busy_o != 0;
    got.upd_valid = t.upd_valid_o != 0;
    got.upd_data = unpack_lanes(t.upd_data_o, lanes_, kDataWidth);
    got.host_req_ready = t.host_req_ready_o != 0;
    got.host_rsp_valid = t.host_rsp_valid_o != 0;
    got.host_rsp_rdata = unpack_lanes(t.host_rsp_rdata_o, lanes_, kDataWidth);
    got.host_rsp_err = t.host_rsp_err_o != 0;
    got.err = t.err_o != 0;
    got.err_code = static_cast<golden::UbError>(t.err_code_o);
    compare(golden_.outputs(in), got);

    harness_.step();
    golden_.step(in);
    ++cycle_;
    return got;
  }

 private:
  void compare(const SgdSystemOutputs& want, const SgdSystemOutputs& got) {
    std::string d;
    if (want.cmd_ready != got.cmd_ready) d += " cmd_ready";
    if (want.busy != got.busy) d += " busy rtl=" + std::to_string(got.busy);
    if (want.upd_valid != got.upd_valid) {
      d += " upd_valid rtl=" + std::to_string(got.upd_valid);
    } else if (got.upd_valid && want.upd_data != got.upd_data) {
      d += " upd_data rtl=" + lanes_str(got.upd_data) + " golden=" + lanes_str(want.upd_data);
    }
    if (want.host_req_ready != got.host_req_ready) d += " host_req_ready";
    if (want.host_rsp_valid != got.host_rsp_valid) {
      d += " host_rsp_valid";
    } else if (got.host_rsp_valid && (want.host_rsp_rdata != got.host_rsp_rdata ||
                                      want.host_rsp_err != got.host_rsp_err)) {
      d += " host_rsp rtl=" + lanes_str(got.host_rsp_rdata) +
           " golden=" + lanes_str(want.host_rsp_rdata);
    }
    if (want.err != got.err || want.err_code != got.err_code) d += " err";
    if (!d.empty()) log_.add(cycle_, d);
  }

  int lanes_;
  Harness<Top> harness_;
  SgdSystemModel golden_;
  uint64_t cycle_ = 0;
  MismatchLog log_;
};

}  // namespace tpu::tb
