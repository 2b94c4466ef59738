// The one fixture of the RTL tests (tests/ub_test.cpp, vpu_test.cpp, sgd_test.cpp,
// tpu_fixture.hpp): a fixed seed per test (tb/seed.hpp: TPU_SEED=<n> replays, =random draws),
// the bench built for the test (its waves named after it) and reset, and at the end no cycle
// where the RTL and its golden model differed (the bench's MismatchLog).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "tb/seed.hpp"

namespace tpu::tb {

// "Suite.Test" of the running test.
inline std::string running_test_name() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

// Bench: a testbench with reset() and log() (a MismatchLog).
template <class Bench>
class RtlFixture : public ::testing::Test {
 protected:
  // The bench for the test named `test` ("Suite.Test"); its trace name is the bench's to choose
  // (by convention "<unit><size>_<test>").
  virtual std::unique_ptr<Bench> make_bench(const std::string& test) = 0;

  void SetUp() override {
    const std::string name = running_test_name();
    seed_ = test_seed(name);
    rng_.seed(seed_);
    tb_ = make_bench(name);
    tb_->reset();
  }
  void TearDown() override {
    if (tb_) EXPECT_EQ(tb_->log().count(), 0u) << tb_->log().report();  // none if SetUp threw
  }

  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
  std::unique_ptr<Bench> tb_;
};

}  // namespace tpu::tb
