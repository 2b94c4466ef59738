// Small helpers every test file uses: the running test's name (for seeds and wave
// files), random fixed-point matrices, and rows of a row-major integer matrix.
#pragma once

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <random>
#include <string>
#include <vector>

#include "tb/rtl_fixture.hpp"

namespace tpu::test {

// Fixed-point values, one row per buffer row or array row.
using Rows = Eigen::Matrix<int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// "Suite.Test" of the running test.
inline std::string test_name() { return tb::running_test_name(); }

// A rows x cols matrix of values uniform in [lo, hi].
inline Rows random_rows(std::mt19937_64& rng, int rows, int cols, int32_t lo, int32_t hi) {
  std::uniform_int_distribution<int32_t> v(lo, hi);
  Rows m(rows, cols);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) m(r, c) = v(rng);
  }
  return m;
}

inline std::vector<int32_t> row_of(const Rows& m, int r) {
  return std::vector<int32_t>(m.row(r).begin(), m.row(r).end());
}

}  // namespace tpu::test
