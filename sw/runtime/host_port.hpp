// The host side of the TPU's host port (docs/architecture.md, "The TPU (`tpu`)": one request
// in flight, valid/ready on the request, valid/ready on the response), written once for every
// cycle model: the golden TpuModel (sw/runtime/engines.cpp) and the Verilated RTL in lockstep
// with it (tb/tpu_tb.hpp) derive from HostPort and supply one clock cycle; everything above
// that (row and instruction writes, reads, CSRs, start, continue, running to a stop) is here.
//
// Header-only: tb/tpu_tb.hpp is header-only too.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "golden/isa.hpp"
#include "golden/tpu_model.hpp"
#include "sw/runtime/device.hpp"
#include "sw/runtime/host_handshake.hpp"

namespace tpu::runtime {

// host_req_space_i.
enum class Space : uint8_t { kBuffer = 0, kImem = 1, kCsr = 2 };

class HostPort {
 public:
  explicit HostPort(int dim)
      : dim_(dim), host_words_(golden::host_words(golden::tpu_host_width(dim))) {}
  virtual ~HostPort() = default;
  HostPort(const HostPort&) = delete;
  HostPort& operator=(const HostPort&) = delete;

  int dim() const { return dim_; }

  // One clock cycle with `in` on the port; returns what the TPU drove during the cycle (before
  // its closing edge). The observer, if any, sees every cycle's outputs after the edge.
  golden::TpuOutputs cycle(const golden::TpuInputs& in) {
    golden::TpuOutputs o = clock(in);
    if (observer_) observer_(o);
    return o;
  }
  golden::TpuOutputs idle() { return cycle(golden::TpuInputs{}); }

  void set_observer(std::function<void(const golden::TpuOutputs&)> f) { observer_ = std::move(f); }

  // One request: presents it until accepted, then takes the response. Returns the response
  // words and sets `*err` to its error bit. DeviceError when a handshake never completes.
  std::vector<uint32_t> host(Space space, bool we, uint32_t addr,
                             const std::vector<uint32_t>& wdata, bool* err = nullptr) {
    golden::TpuInputs req;
    req.host_req_we = we;
    req.host_req_space = static_cast<uint8_t>(space);
    req.host_req_addr = addr;
    req.host_req_wdata = wdata;
    if (!wdata.empty()) req.host_req_wdata.resize(host_words_, 0);
    const golden::TpuOutputs o = host_handshake<DeviceError>(
        [this](const golden::TpuInputs& in) { return cycle(in); }, req,
        request_name(space, we, addr));
    if (err) *err = o.host_rsp_err;
    return o.host_rsp_rdata;
  }

  // Lanes beyond the row's size are written as 0 (the testbenches' short rows).
  void write_row(uint32_t addr, const Row& row) {
    bool err = false;
    host(Space::kBuffer, true, addr, row_words(row), &err);
    if (err) throw DeviceError(request_name(Space::kBuffer, true, addr) + " refused");
  }

  Row read_row(uint32_t addr) {
    bool err = false;
    const auto w = host(Space::kBuffer, false, addr, {}, &err);
    if (err) throw DeviceError(request_name(Space::kBuffer, false, addr) + " refused");
    return golden::unpack_row(w, dim_);
  }

  void write_instr(uint32_t addr, uint64_t word) {
    bool err = false;
    host(Space::kImem, true, addr, {static_cast<uint32_t>(word), static_cast<uint32_t>(word >> 32)},
         &err);
    if (err) throw DeviceError(request_name(Space::kImem, true, addr) + " refused");
  }

  void load_program(const std::vector<uint64_t>& words) {
    for (std::size_t i = 0; i < words.size(); ++i) write_instr(static_cast<uint32_t>(i), words[i]);
  }

  uint64_t csr(uint32_t addr) {
    bool err = false;
    const auto w = host(Space::kCsr, false, addr, {}, &err);
    if (err) throw DeviceError(request_name(Space::kCsr, false, addr) + " refused");
    return golden::low_u64(w);
  }

  Status status() {
    const uint64_t w = csr(0);
    return Status{static_cast<uint32_t>(w & 0xFFFF), static_cast<State>((w >> 16) & 0x7),
                  static_cast<Error>((w >> 20) & 0xF)};
  }

  // CSR 0 bit 0 and bit 1. DeviceError when refused (the message gives the status then).
  void start() { control(1, "start"); }
  void resume() { control(2, "continue"); }

  // Clocks until the TPU is seen not Running (Sync, Done, Error), at least one cycle; returns
  // that cycle's outputs. TimeoutError after `max_cycles` cycles.
  golden::TpuOutputs run_until_stop(uint64_t max_cycles) {
    for (uint64_t i = 0; i < max_cycles; ++i) {
      golden::TpuOutputs o = idle();
      if (o.state != State::kRunning) return o;
    }
    throw TimeoutError("run: the program did not stop within " + std::to_string(max_cycles) +
                       " cycles (" + to_string(status()) + ")");
  }

  // Starts the program and clocks until it stops; returns the state it stopped in.
  State run(uint64_t max_cycles = 1'000'000) {
    start();
    return run_on(max_cycles);
  }
  // Clocks a program already started or continued until it stops.
  State run_on(uint64_t max_cycles = 1'000'000) { return run_until_stop(max_cycles).state; }

  // A row as host data: lane c in bits [16c +: 16].
  std::vector<uint32_t> row_words(const Row& row) const {
    Row r(row);
    r.resize(static_cast<std::size_t>(dim_), 0);
    return golden::pack_row(r, golden::tpu_host_width(dim_));
  }

 protected:
  // One clock cycle of the model underneath: see cycle().
  virtual golden::TpuOutputs clock(const golden::TpuInputs& in) = 0;

 private:
  static std::string request_name(Space space, bool we, uint32_t addr) {
    static const char* const kNames[] = {"buffer row", "instruction", "CSR", "space 3 address"};
    return std::string("host ") + (we ? "write of " : "read of ") +
           kNames[static_cast<int>(space) & 3] + " " + std::to_string(addr);
  }

  void control(uint32_t bits, const char* what) {
    bool err = false;
    host(Space::kCsr, true, 0, {bits}, &err);
    if (err) throw DeviceError(std::string(what) + " refused (" + to_string(status()) + ")");
  }

  int dim_;
  int host_words_;
  std::function<void(const golden::TpuOutputs&)> observer_;
};

}  // namespace tpu::runtime
