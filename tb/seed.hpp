// Seeds for random tests: printed so a failure can be replayed, and taken back from
// TPU_SEED when it is set.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>

namespace tpu::tb {

// The seed for one random test. Prints "TPU_SEED=<n>" with the test's name so the
// log says how to replay it: TPU_SEED=<n> ctest -R <name>.
inline uint64_t test_seed(const std::string& test_name) {
  uint64_t seed = 0;
  if (const char* env = std::getenv("TPU_SEED"); env != nullptr && *env != '\0') {
    seed = std::stoull(env, nullptr, 0);
  } else {
    seed = (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  }
  std::cout << "[ seed     ] " << test_name << ": TPU_SEED=" << seed << std::endl;
  return seed;
}

}  // namespace tpu::tb
