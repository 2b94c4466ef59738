// `make bench`: cycle counts of the XOR network on the Verilated TPU (checked every cycle
// against the golden model), programs from the compiler (sw/compiler): one forward pass
// over the four inputs, and one training step (forward, loss gradient, backward, gradients,
// update). Cycles are the TPU's own counter (CSR 1: from start to the final halt), so they
// are exact and repeatable; an empty program's cycles are subtracted.
#include <cstdio>
#include <string>

#include "Vtpu.h"
#include "sim/xor_runner.hpp"
#include "tb/tpu_device.hpp"

namespace {

constexpr int kDim = TPU_ARRAY_DIM;

tpu::runtime::ModelOptions options() {
  tpu::runtime::ModelOptions o;
  o.dim = kDim;
  o.ub_depth = 128;
  o.imem_depth = 128;
  return o;
}

uint64_t cycles_of(tpu::compiler::Mode mode) {
  tpu::tb::RtlDevice<Vtpu> dev(options(), tpu::tb::RtlMode::kLockstep, "bench");
  const auto c = tpu::compiler::compile(tpu::sim::xor_model({}, 1, 1),
                                        tpu::compiler::Target{kDim, 128, 128},
                                        tpu::compiler::DataShape{4, 0}, mode);
  tpu::compiler::Dataset data;
  data.x = tpu::golden::xor_inputs();
  data.y = tpu::golden::xor_targets();
  tpu::runner::Session s(c, dev);
  s.load(tpu::sim::quantised(tpu::sim::xor_random_init(12)), data, nullptr);
  s.start();
  if (s.run_to_sync()) throw std::runtime_error("unexpected sync");
  return dev.cycles();
}

uint64_t empty_program() {
  tpu::tb::RtlDevice<Vtpu> dev(options(), tpu::tb::RtlMode::kLockstep, "bench");
  dev.load_program({tpu::isa::encode(tpu::isa::Instr{.op = tpu::isa::Opcode::kHalt})});
  dev.start();
  dev.run(1000);
  return dev.cycles();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) {
    std::fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
    return 2;
  }
  try {
    const uint64_t halt = empty_program();
    const uint64_t fwd = cycles_of(tpu::compiler::Mode::kInference);
    const uint64_t step = cycles_of(tpu::compiler::Mode::kEpoch);
    std::printf("| %8d | %12llu | %18llu | %6llu |\n", kDim,
                static_cast<unsigned long long>(fwd - halt),
                static_cast<unsigned long long>(step - halt),
                static_cast<unsigned long long>(halt));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
