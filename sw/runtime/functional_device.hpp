// The "functional" device: golden::FunctionalModel (golden/functional_model.hpp), one
// instruction at a time, with no cycles. It keeps the host's rules a cycle model keeps (start
// refused while Running or in Sync, continue outside Sync, instruction writes while busy), so a
// program that runs on it runs the same way on the others, only without timing.
//
// It is also the mirror the cycle devices cross-check against (sw/runtime/cycle_device.hpp):
// record_writes() and take_writes() give every row the program wrote, in order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sw/runtime/device.hpp"

namespace tpu::runtime {

// A buffer row a program wrote, as the buffer holds it right after the write (lanes the write
// did not keep show what was there before).
struct RowWrite {
  uint32_t addr = 0;
  Row row;

  bool operator==(const RowWrite&) const = default;
};

class FunctionalDevice : public Device {
 public:
  // std::invalid_argument for sizes the model rejects.
  FunctionalDevice(int dim, int ub_depth, int imem_depth);
  ~FunctionalDevice() override;

  std::string name() const override { return "functional"; }
  int dim() const override;
  int ub_depth() const override;
  int imem_depth() const override;
  void write_rows(uint32_t addr, const std::vector<Row>& rows) override;
  std::vector<Row> read_rows(uint32_t addr, uint32_t count) override;
  void load_program(const std::vector<uint64_t>& words) override;
  void start() override;
  void resume() override;
  // `max_cycles` bounds the instructions executed (each takes at least one cycle on a cycle
  // model, so this never times out before one would).
  Status run(uint64_t max_cycles) override;
  Status status() override;
  uint64_t cycles() override { return 0; }  // not modelled
  uint64_t instructions() override;
  // Multiply-accumulates the array performed since the last start (the model's count).
  uint64_t macs() const;

  // For the cross-check: while on, every row a program writes is kept; take_writes() returns
  // them in order and forgets them.
  void record_writes(bool on);
  std::vector<RowWrite> take_writes();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tpu::runtime
