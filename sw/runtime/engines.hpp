// The devices that need no Verilated model, made by name: "golden" (golden::TpuModel, cycle
// for cycle through its host port) and "functional" (golden::FunctionalModel). The RTL device
// is tb/tpu_device.hpp's RtlDevice: its type depends on the Verilated build.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sw/runtime/device.hpp"

namespace tpu::runtime {

// The TPU's parameters, and the cross-check of a cycle model against a FunctionalModel mirror
// (sw/runtime/cycle_device.hpp). The functional model is its own reference: it ignores
// cross_check.
struct ModelOptions {
  int dim = 4;           // ArrayDim
  int ub_depth = 256;    // UbDepth
  int imem_depth = 256;  // ImemDepth
  bool cross_check = false;
  int max_in_flight = 8;  // MaxInFlight: matmuls in flight at most (cycle models only)
};

// "golden", "functional".
const std::vector<std::string>& engine_names();

// DeviceError for an unknown name (the message lists the known ones), std::invalid_argument
// for sizes the model rejects.
std::unique_ptr<Device> make_device(const std::string& engine, const ModelOptions& options);

}  // namespace tpu::runtime
