// The "rtl" device: the Verilated TPU behind the runtime's interface (sw/runtime/device.hpp),
// driven through its host port by the runtime's one host driver (TpuTb is a HostPort).
//
//   RtlMode::kLockstep  every cycle compared with the golden TpuModel (tb/tpu_tb.hpp lists
//                       what); the first operation during which a mismatch appears throws
//                       MismatchError with the mismatch report, and mismatches() counts them.
//   RtlMode::kRtlOnly   the RTL alone, for speed ("rtl-only"); no cross-check possible.
//
// With cross_check (lockstep only) the run is also checked against a FunctionalModel mirror
// (sw/runtime/cycle_device.hpp). The rows compared right after each write are the golden
// model's (equal to the RTL's as far as every write's address and data were compared); at a
// Done or Error stop the whole buffer is read from the RTL itself through the host port
// (its cycle counter is stopped then), at a Sync stop from the golden model, so that the
// cross-check never changes cycles().
//
// `Top` is the Verilated `tpu` (Vtpu) built with the ArrayDim, UbDepth and ImemDepth given in
// the options. Link tpu_runtime.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "sw/runtime/cycle_device.hpp"
#include "sw/runtime/engines.hpp"
#include "tb/tpu_tb.hpp"

namespace tpu::tb {

enum class RtlMode : uint8_t { kLockstep, kRtlOnly };

template <class Top>
class RtlDevice : public runtime::CycleDevice {
 public:
  // `trace_name` names waves/<trace_name>.vcd, written when TPU_TRACE=1 or `force_trace`.
  explicit RtlDevice(const runtime::ModelOptions& o, RtlMode mode = RtlMode::kLockstep,
                     const std::string& trace_name = "rtl_device", bool force_trace = false)
      : RtlDevice(make_tb(o, mode, trace_name, force_trace), o) {}

  std::string name() const override { return tb_->compares() ? "rtl" : "rtl-only"; }

  // Cycles in which the RTL and the golden model disagreed so far.
  uint64_t mismatches() const { return tb_->log().count(); }
  // The testbench underneath (waves, the golden model, the raw host port).
  TpuTb<Top>& tb() { return *tb_; }

 protected:
  runtime::Row model_row(uint32_t addr) override { return tb_->golden().buffer().row(addr); }

  runtime::Row stop_row(uint32_t addr, runtime::State s) override {
    if (s == runtime::State::kSync) return model_row(addr);
    return tb_->read_row(addr);
  }

  void check_model() override {
    if (tb_->log().count() > reported_) {
      reported_ = tb_->log().count();
      throw runtime::MismatchError("the RTL disagreed with the golden model: " +
                                   tb_->log().report());
    }
  }

 private:
  static std::unique_ptr<TpuTb<Top>> make_tb(const runtime::ModelOptions& o, RtlMode mode,
                                             const std::string& trace_name, bool force_trace) {
    if (o.cross_check && mode != RtlMode::kLockstep) {
      throw std::invalid_argument("RtlDevice: the cross-check needs RtlMode::kLockstep");
    }
    auto tb = std::make_unique<TpuTb<Top>>(o.dim, o.ub_depth, o.imem_depth, trace_name, force_trace,
                                           mode == RtlMode::kLockstep, o.max_in_flight);
    tb->reset();
    return tb;
  }

  RtlDevice(std::unique_ptr<TpuTb<Top>> tb, const runtime::ModelOptions& o)
      : CycleDevice(std::move(tb), o.ub_depth, o.imem_depth, o.cross_check),
        tb_(static_cast<TpuTb<Top>*>(&this->port())) {}

  TpuTb<Top>* tb_;
  uint64_t reported_ = 0;
};

}  // namespace tpu::tb
