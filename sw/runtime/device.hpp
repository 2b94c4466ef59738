// The host runtime's view of a TPU: one small interface that the compiler's runner, the demos,
// the benchmarks and the tests all program against, whatever executes the program underneath:
//   "rtl"        the Verilated RTL, every cycle compared with the golden cycle model
//                (tb/tpu_device.hpp; "rtl-only" without the comparison)
//   "golden"     golden::TpuModel, the cycle-level model, driven through its host port
//   "functional" golden::FunctionalModel, instruction by instruction (no cycles)
// (sw/runtime/engines.hpp makes the last two by name), and later an FPGA over a UART.
//
// Everything goes through what a host has: rows of the unified buffer, instruction words, the
// start / continue control register and the status and cycle-counter registers (docs/isa.md,
// "Status register"; docs/architecture.md, the host port). Nothing here is Verilator's or the
// golden model's; the state and error enums are the ISA's (golden/isa.hpp, as the assembler's).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "golden/isa.hpp"

namespace tpu::runtime {

// One buffer row: ArrayDim lanes, each a signed 16-bit value (Q8.8 by default), lane 0 first.
using Row = std::vector<int32_t>;

using State = isa::State;  // Idle, Running, Sync, Done, Error
using Error = isa::Error;  // the error code beside an Error state

// The status word (CSR 0).
struct Status {
  uint32_t pc = 0;
  State state = State::kIdle;
  Error err = Error::kNone;

  bool operator==(const Status&) const = default;
};

std::string to_string(State s);          // "Idle", "Running", "Sync", "Done", "Error"
std::string to_string(Error e);          // "none", "ErrOpcode", ... (docs/isa.md, "Errors")
std::string to_string(const Status& s);  // "Done at pc 5", "Error ErrAddress at pc 2"

// Every error a device reports. what() names the operation and the address it concerns.
class DeviceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// A buffer row or instruction address outside the device.
class AddressError : public DeviceError {
 public:
  using DeviceError::DeviceError;
};
// run() reached its cycle limit with the TPU still Running.
class TimeoutError : public DeviceError {
 public:
  using DeviceError::DeviceError;
};
// Two models that must agree did not: the RTL against the golden cycle model (the mismatch
// report), or a cycle model against its functional mirror (the first differing write).
class MismatchError : public DeviceError {
 public:
  using DeviceError::DeviceError;
};

class Device {
 public:
  virtual ~Device() = default;

  // "rtl", "rtl-only", "golden", "functional", ...
  virtual std::string name() const = 0;
  virtual int dim() const = 0;         // ArrayDim: lanes per row
  virtual int ub_depth() const = 0;    // buffer rows
  virtual int imem_depth() const = 0;  // instruction words

  // Buffer rows addr, addr+1, ...; every row has dim() lanes in [-32768, 32767]. AddressError
  // when a row falls outside the buffer, DeviceError for a malformed row or a refused request.
  virtual void write_rows(uint32_t addr, const std::vector<Row>& rows) = 0;
  virtual std::vector<Row> read_rows(uint32_t addr, uint32_t count) = 0;

  // Instruction words from address 0. AddressError when they do not fit, DeviceError when the
  // TPU refuses them (it does while Running or in Sync).
  virtual void load_program(const std::vector<uint64_t>& words) = 0;

  // Start the program at pc 0 (refused while Running or in Sync), and continue after a sync
  // (refused outside Sync): DeviceError when refused. A cycle model starts running at once.
  virtual void start() = 0;
  virtual void resume() = 0;

  // Runs until the TPU is no longer Running (Sync, Done or Error) and returns the status it
  // stopped with; a TPU not Running returns at once (after the one cycle a cycle model needs to
  // see it). After an Error it returns once the instructions issued before the fault have
  // completed, so the buffer is final. TimeoutError after `max_cycles` cycles (the functional
  // model: instructions, which is never earlier) with the TPU still Running; a later run()
  // carries on.
  virtual Status run(uint64_t max_cycles) = 0;

  virtual Status status() = 0;
  // CSR 1: cycles spent Running or in Sync since the last start (32 bits, wraps). 0 where
  // cycles are not modelled (the functional model).
  virtual uint64_t cycles() = 0;
  // Instructions executed since the last start where they are counted (the functional model),
  // else 0.
  virtual uint64_t instructions() { return 0; }

 protected:
  // The checks every backend makes before touching anything (the messages name `op`).
  void check_rows(const char* op, uint32_t addr, uint64_t count) const;
  void check_row(const char* op, uint32_t addr, const Row& row) const;
  void check_program(const std::vector<uint64_t>& words) const;
};

}  // namespace tpu::runtime
