// Seeds for random tests: fixed by default, so that a regression run is reproducible and its
// coverage stable; printed so a failure can be replayed; taken from TPU_SEED when it is set.
//
//   TPU_SEED unset      each test's own fixed seed (a hash of its name)
//   TPU_SEED=<n>        seed n for every test (decimal, or 0x... hexadecimal)
//   TPU_SEED=random     a fresh seed per test (std::random_device), for soaks
#pragma once

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>

namespace tpu::tb {

// 64-bit FNV-1a: the fixed seed of a test, from its name.
inline uint64_t name_seed(const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char c : name) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// The seed for one random test. Prints "TPU_SEED=<n>" with the test's name so the log says
// how to replay it: TPU_SEED=<n> ctest -R <name>.
inline uint64_t test_seed(const std::string& test_name) {
  uint64_t seed = name_seed(test_name);
  if (const char* env = std::getenv("TPU_SEED"); env != nullptr && *env != '\0') {
    const std::string v = env;
    if (v == "random") {
      seed = (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
    } else {
      try {
        std::size_t used = 0;
        seed = std::stoull(v, &used, 0);
        if (used != v.size()) throw std::invalid_argument(v);
      } catch (const std::exception&) {
        throw std::invalid_argument("TPU_SEED='" + v +
                                    "': want a number (decimal or 0x...) or 'random'");
      }
    }
  }
  std::cout << "[ seed     ] " << test_name << ": TPU_SEED=" << seed << std::endl;
  return seed;
}

}  // namespace tpu::tb
