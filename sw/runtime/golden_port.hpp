// golden::TpuModel behind the host port (sw/runtime/host_port.hpp): each cycle its outputs,
// then the edge. The "golden" engine (engines.cpp) runs on it, and so does the tests' fake board.
#pragma once

#include "golden/tpu_model.hpp"
#include "sw/runtime/host_port.hpp"

namespace tpu::runtime {

class GoldenPort : public HostPort {
 public:
  GoldenPort(int dim, int ub_depth, int imem_depth, int max_in_flight)
      : HostPort(dim), model(dim, ub_depth, imem_depth, max_in_flight) {}
  golden::TpuModel model;

 protected:
  golden::TpuOutputs clock(const golden::TpuInputs& in) override {
    golden::TpuOutputs o = model.outputs(in);
    model.step(in);
    return o;
  }
};

}  // namespace tpu::runtime
