// Whole-matrix reference math: what the array must compute, with no notion of cycles.
//
// This is the spec's definition y[c] = round_sat(sum_r a[r] * W[r][c]) done as one Eigen
// integer product, so it shares no code with the cycle model except round_sat itself. A test
// that checks SystolicArrayModel (or the RTL) against it checks the skew, de-skew and double
// buffering, not just the arithmetic.
#pragma once

#include <Eigen/Dense>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "golden/fixed_point.hpp"

namespace tpu::golden {

// Fixed-point values, one per entry, held as int64_t so products and sums stay exact.
using MatrixI = Eigen::Matrix<int64_t, Eigen::Dynamic, Eigen::Dynamic>;

namespace detail {

inline void check_entries(const MatrixI& m, Format f, const char* what) {
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    for (Eigen::Index j = 0; j < m.cols(); ++j) {
      if (!fits(m(i, j), f.data_width)) {
        throw std::invalid_argument(std::string("golden::matmul_fixed: ") + what + "(" +
                                    std::to_string(i) + ", " + std::to_string(j) +
                                    ")=" + std::to_string(m(i, j)) + " does not fit " +
                                    std::to_string(f.data_width) + " signed bits");
      }
    }
  }
}

}  // namespace detail

// round_sat(a * w) elementwise, a: M x K and w: K x N of fixed-point integers in format f.
// The product is exact: each term fits 2*data_width bits and int64_t holds the sum of far more
// terms than any array has rows. Throws std::invalid_argument on a shape mismatch or an entry
// that is not a data_width value.
inline MatrixI matmul_fixed(const MatrixI& a, const MatrixI& w, Format f = kQ8_8) {
  check_format(f);
  if (a.cols() != w.rows()) {
    throw std::invalid_argument("golden::matmul_fixed: a is " + std::to_string(a.rows()) + "x" +
                                std::to_string(a.cols()) + " but w is " + std::to_string(w.rows()) +
                                "x" + std::to_string(w.cols()));
  }
  detail::check_entries(a, f, "a");
  detail::check_entries(w, f, "w");
  const MatrixI exact = a * w;
  return exact.unaryExpr([f](int64_t x) { return int64_t{round_sat(x, f)}; });
}

// Decodes every entry (v / 2^F). Entries are not range-checked: a wide intermediate decodes
// just as well, exactly while it stays within double's 53-bit mantissa.
inline Eigen::MatrixXd to_real(const MatrixI& m, Format f = kQ8_8) {
  check_format(f);
  return m.unaryExpr([f](int64_t v) { return std::ldexp(static_cast<double>(v), -f.frac_bits); });
}

// Encodes every entry with to_fixed: round to nearest, ties away from zero, then saturate.
inline MatrixI from_real(const Eigen::MatrixXd& m, Format f = kQ8_8) {
  return m.unaryExpr([f](double v) { return int64_t{to_fixed(v, f)}; });
}

}  // namespace tpu::golden
