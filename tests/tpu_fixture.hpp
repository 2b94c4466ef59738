// The fixture of the whole-TPU tests (tests/tpu_test.cpp, tests/tpu_hostile_test.cpp), built
// into one test binary per configuration (tpu_rtl_test in tests/CMakeLists.txt passes
// TPU_ARRAY_DIM, TPU_UB_DEPTH, TPU_IMEM_DEPTH and TPU_MAX_IN_FLIGHT, the parameters the model
// was Verilated with): tb/rtl_fixture.hpp's fixture over the lockstep TPU bench, and the
// buffer helpers the tests share.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <random>
#include <string>
#include <vector>

#include "Vtpu.h"
#include "golden/isa.hpp"
#include "sw/asm/assembler.hpp"
#include "tb/rtl_fixture.hpp"
#include "tb/tpu_tb.hpp"
#include "test_support.hpp"

#ifndef TPU_ARRAY_DIM
#error "TPU_ARRAY_DIM must name the array size the model was Verilated with"
#endif

namespace tpu::test {

using TpuBench = tb::TpuTb<Vtpu>;

// The Verilated model's parameters.
inline constexpr int kDim = TPU_ARRAY_DIM;
inline constexpr int kUbDepth = TPU_UB_DEPTH;
inline constexpr int kImemDepth = TPU_IMEM_DEPTH;
inline constexpr int kMaxInFlight = TPU_MAX_IN_FLIGHT;

// "ArrayDim 2, UbDepth 512, ImemDepth 512, MaxInFlight 3", for the tests' summaries.
inline std::string config_name() {
  return "ArrayDim " + std::to_string(kDim) + ", UbDepth " + std::to_string(kUbDepth) +
         ", ImemDepth " + std::to_string(kImemDepth) + ", MaxInFlight " +
         std::to_string(kMaxInFlight);
}

// Assembly text to words; errors name the running test.
inline std::vector<uint64_t> assemble(const std::string& text) {
  return assembler::assemble(text, test_name() + ".s").words;
}

// A count from the environment variable `var` (0 .. 100,000,000), else `fallback`: how many
// random programs a test runs (`make fuzz` sets them).
inline int count_from_env(const char* var, int fallback) {
  const char* env = std::getenv(var);
  if (env == nullptr || *env == '\0') return fallback;
  char* end = nullptr;
  const long n = std::strtol(env, &end, 10);
  if (*end != '\0' || n < 0 || n > 100'000'000) {
    throw std::invalid_argument(std::string(var) + "='" + env +
                                "': want a number of programs (0 .. 100000000)");
  }
  return static_cast<int>(n);
}

class TpuFixture : public tb::RtlFixture<TpuBench> {
 protected:
  std::unique_ptr<TpuBench> make_bench(const std::string& test) override {
    return std::make_unique<TpuBench>(kDim, kUbDepth, kImemDepth,
                                      "tpu" + std::to_string(kDim) + "_" + test, false, true,
                                      kMaxInFlight);
  }

  Rows random_rows(int rows, int32_t lo, int32_t hi) {
    return test::random_rows(rng_, rows, kDim, lo, hi);
  }

  void store(int at, const Rows& m) {
    for (int r = 0; r < m.rows(); ++r) {
      tb_->write_row(at + r, std::vector<int32_t>(m.row(r).begin(), m.row(r).end()));
    }
  }

  // Rows 0, 1, ... of the buffer from `rows` (the generator's random data).
  void fill(const std::vector<std::vector<int32_t>>& rows) {
    for (std::size_t r = 0; r < rows.size(); ++r) tb_->write_row(static_cast<uint32_t>(r), rows[r]);
  }

  Rows load(int at, int rows) {
    Rows m(rows, kDim);
    for (int r = 0; r < rows; ++r) {
      const auto v = tb_->read_row(at + r);
      for (int c = 0; c < kDim; ++c) m(r, c) = v[c];
    }
    return m;
  }

  // The whole buffer, read through the host port (so compared with the golden model too).
  Rows snapshot() { return load(0, kUbDepth); }

  // The cycle counter (CSR 1) after running `text` to Done.
  uint64_t cycles_to_done(const std::string& text) {
    tb_->load_program(assemble(text));
    EXPECT_EQ(tb_->run(), isa::State::kDone);
    return tb_->csr(1);
  }

};

}  // namespace tpu::test
