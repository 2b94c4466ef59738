// `make bench`: cycle counts of the XOR network on the Verilated TPU (checked every
// cycle against the golden model): one forward pass, and one training step (forward,
// loss gradient, backward, gradients, update). Cycles are the TPU's own counter (CSR 1:
// from start to the final halt), so they are exact and repeatable.
#include <cstdio>
#include <string>

#include "Vtpu.h"
#include "sw/asm/assembler.hpp"
#include "sim/mlp_program.hpp"
#include "tb/tpu_tb.hpp"

namespace {

constexpr int kDim = TPU_ARRAY_DIM;

uint64_t cycles_of(const std::string& program, const tpu::sim::MlpLayout& layout) {
  tpu::tb::TpuTb<Vtpu> tb(kDim, 128, 128, "bench");
  tb.reset();
  tb.write_row(layout.ones, std::vector<int32_t>(kDim, 256));
  tb.load_program(tpu::assembler::assemble(program, "bench.s").words);
  if (tb.run() != tpu::isa::State::kDone) throw std::runtime_error("program did not finish");
  if (tb.log().count() != 0) throw std::runtime_error(tb.log().report());
  return tb.csr(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) {
    std::fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
    return 2;
  }
  try {
    tpu::sim::MlpShape shape;
    shape.dim = kDim;
    const auto layout = tpu::sim::mlp_layout(shape);
    const uint64_t halt = cycles_of("halt\n", layout);
    const uint64_t fwd = cycles_of(tpu::sim::mlp_forward_asm(shape, layout) + "halt\n", layout);
    const uint64_t step = cycles_of(tpu::sim::mlp_epoch_asm(shape, layout) + "halt\n", layout);
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
