// A Device over a cycle model's host port (sw/runtime/host_port.hpp): the golden TpuModel
// ("golden", sw/runtime/engines.cpp) and the Verilated RTL ("rtl", tb/tpu_device.hpp) share
// this one implementation, so they see the same host traffic cycle for cycle and their cycle
// counters agree whenever the RTL does.
//
// Cross-check (on when constructed with cross_check): a FunctionalModel mirror is fed the same
// row writes and program, started and continued with the model, and at every stop of run() it
// runs the same program segment; then
//   - every buffer row the cycle model wrote in the segment (dbg_wr_valid/addr, taken as the row
//     the buffer holds right after the write, so only the lanes the write command keeps count)
//     must equal, in order, the mirror's writes;
//   - the status (state, error, pc) must be equal;
//   - every row of the buffer must be equal.
// The first difference throws MismatchError naming it. Write the buffer only while the TPU is
// stopped when cross-checking: the mirror cannot know when, mid-program, a host write landed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "golden/tpu_model.hpp"
#include "sw/runtime/device.hpp"
#include "sw/runtime/functional_device.hpp"
#include "sw/runtime/host_port.hpp"

namespace tpu::runtime {

class CycleDevice : public Device {
 public:
  // `port` is the model; its dim is the device's.
  CycleDevice(std::unique_ptr<HostPort> port, int ub_depth, int imem_depth, bool cross_check);
  ~CycleDevice() override;
  CycleDevice(const CycleDevice&) = delete;
  CycleDevice& operator=(const CycleDevice&) = delete;

  int dim() const override { return port_->dim(); }
  int ub_depth() const override { return ub_depth_; }
  int imem_depth() const override { return imem_depth_; }
  void write_rows(uint32_t addr, const std::vector<Row>& rows) override;
  std::vector<Row> read_rows(uint32_t addr, uint32_t count) override;
  void load_program(const std::vector<uint64_t>& words) override;
  void start() override;
  void resume() override;
  Status run(uint64_t max_cycles) override;
  Status status() override;
  uint64_t cycles() override;

  bool cross_checking() const { return mirror_ != nullptr; }

 protected:
  HostPort& port() { return *port_; }
  // The row as the model's buffer holds it now, read without a host request (no cycles).
  virtual Row model_row(uint32_t addr) = 0;
  // The row the cross-check compares at a stop in `state`.
  virtual Row stop_row(uint32_t addr, State) { return model_row(addr); }
  // Called after every operation and before an exception leaves one: throws MismatchError when
  // the model underneath disagrees with itself (the RTL with its golden model).
  virtual void check_model() {}

 private:
  template <class F>
  auto guarded(F&& f);
  // After an Error stop, what was issued before the fault still completes (docs/isa.md,
  // "Errors"): clocks until no buffer row has been written for 2 * ArrayDim + kDrainQuiet
  // cycles (the longest wait for a row of an issued matmul is 2 * ArrayDim + 6).
  static constexpr int kDrainQuiet = 64;
  static constexpr uint64_t kDrainLimit = 1'000'000;
  void drain();
  void on_cycle(const golden::TpuOutputs& o);
  // A segment started but never run() to its stop: cross-check it now if the model stopped.
  void check_pending_segment();
  void cross_check(const Status& stop);

  std::unique_ptr<HostPort> port_;
  int ub_depth_;
  int imem_depth_;
  std::unique_ptr<FunctionalDevice> mirror_;
  std::vector<RowWrite> writes_;  // the cycle model's, since the last stop compared
  uint64_t segment_cycles_ = 0;   // cycles since the last start or continue
};

}  // namespace tpu::runtime
