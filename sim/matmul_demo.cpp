// `make sim`: a matrix product on the 8 x 8 systolic array, two tiles back to back
// (Y1 = A * W1, then Y2 = A * W2 with W2 loading while Y1 computes). Prints the result
// beside a double-precision reference, the cycle counts, and writes waves/matmul.vcd.
#include <Eigen/Dense>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>

#include "Vsystolic_array.h"
#include "golden/fixed_point.hpp"
#include "golden/reference.hpp"
#include "tb/array_tb.hpp"
#include "tb/tile_schedule.hpp"

namespace {

constexpr int kDim = TPU_ARRAY_DIM;

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: matmul_demo [--rows M] [--seed S] [--quiet] [--no-waves]\n"
               "  Multiplies a random M x %d matrix (default M = 16) by two random %d x %d\n"
               "  weight tiles on the %d x %d systolic array, compares every cycle with the\n"
               "  golden model and the result with a double-precision reference, and writes\n"
               "  waves/matmul.vcd (open it with: make waves) unless --no-waves.\n",
               kDim, kDim, kDim, kDim, kDim);
}

int parse_int(const std::string& flag, const char* value) {
  char* end = nullptr;
  const long v = value ? std::strtol(value, &end, 0) : 0;
  if (value == nullptr || *end != '\0' || v < 1 || v > 1000000) {
    std::fprintf(stderr, "matmul_demo: %s needs a positive whole number\n", flag.c_str());
    usage(stderr);
    std::exit(2);
  }
  return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) {
  int rows = 16;
  uint64_t seed = 2026;
  bool quiet = false;
  bool waves = true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(stdout);
      return 0;
    } else if (arg == "--rows") {
      rows = parse_int(arg, i + 1 < argc ? argv[++i] : nullptr);
    } else if (arg == "--seed") {
      seed = static_cast<uint64_t>(parse_int(arg, i + 1 < argc ? argv[++i] : nullptr));
    } else if (arg == "--quiet") {
      quiet = true;
    } else if (arg == "--no-waves") {
      waves = false;
    } else {
      std::fprintf(stderr, "matmul_demo: unknown argument '%s'\n", arg.c_str());
      usage(stderr);
      return 2;
    }
  }

  using tpu::golden::MatrixI;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> act(-2.0, 2.0), weight(-1.0, 1.0);
  const Eigen::MatrixXd a_real = Eigen::MatrixXd::NullaryExpr(rows, kDim, [&] { return act(rng); });
  const Eigen::MatrixXd w1_real = Eigen::MatrixXd::NullaryExpr(kDim, kDim, [&] { return weight(rng); });
  const Eigen::MatrixXd w2_real = Eigen::MatrixXd::NullaryExpr(kDim, kDim, [&] { return weight(rng); });
  const MatrixI a = tpu::golden::from_real(a_real);
  const MatrixI w1 = tpu::golden::from_real(w1_real);
  const MatrixI w2 = tpu::golden::from_real(w2_real);

  try {
    tpu::tb::ArrayTb<Vsystolic_array> tb(kDim, "matmul", /*force_trace=*/waves);
    tb.reset();
    const auto schedule = tpu::tb::schedule_tiles(kDim, {{a, w1}, {a, w2}});
    tb.run(schedule);

    // The reference: the same quantised inputs multiplied in double precision.
    const Eigen::MatrixXd ref1 = tpu::golden::to_real(a) * tpu::golden::to_real(w1);
    const Eigen::MatrixXd ref2 = tpu::golden::to_real(a) * tpu::golden::to_real(w2);
    double worst_lsb = 0.0;
    Eigen::MatrixXd y1(rows, kDim), y2(rows, kDim);
    for (int m = 0; m < rows; ++m) {
      for (int c = 0; c < kDim; ++c) {
        y1(m, c) = tpu::golden::to_double(tb.rows().at(m).data[c]);
        y2(m, c) = tpu::golden::to_double(tb.rows().at(rows + m).data[c]);
      }
    }
    worst_lsb = std::max((y1 - ref1).cwiseAbs().maxCoeff(), (y2 - ref2).cwiseAbs().maxCoeff()) * 256.0;

    if (!quiet) {
      const Eigen::IOFormat fmt(4, 0, "  ", "\n", "  [", "]");
      std::cout << "Y1 = A * W1 on the " << kDim << " x " << kDim << " array (Q8.8), first rows:\n"
                << y1.topRows(std::min(rows, 4)).format(fmt) << "\n"
                << "double-precision reference:\n"
                << ref1.topRows(std::min(rows, 4)).format(fmt) << "\n\n";
    }
    const uint64_t first_out = tb.rows().front().cycle;
    const uint64_t last_out = tb.rows().back().cycle;
    std::printf("matmul: A %d x %d times two %d x %d weight tiles, seed %llu\n", rows, kDim, kDim,
                kDim, static_cast<unsigned long long>(seed));
    std::printf("  first weight row in cycle 0, first activation row in cycle %llu\n",
                static_cast<unsigned long long>(schedule.tile_start[0]));
    std::printf("  first result row in cycle %llu (latency %d), last in cycle %llu\n",
                static_cast<unsigned long long>(first_out), 2 * kDim,
                static_cast<unsigned long long>(last_out));
    std::printf("  %zu result rows in %llu cycles: %s\n", tb.rows().size(),
                static_cast<unsigned long long>(last_out - first_out + 1),
                last_out - first_out + 1 == tb.rows().size() ? "no bubble" : "BUBBLES");
    std::printf("  total %llu cycles; per-cycle golden mismatches: %llu\n",
                static_cast<unsigned long long>(tb.cycle()),
                static_cast<unsigned long long>(tb.mismatch_count()));
    std::printf("  worst error against double: %.3f LSB (rounding bound 0.5)\n", worst_lsb);
    if (!tb.harness().trace_path().empty()) {
      std::printf("  waves: %s (make waves)\n", tb.harness().trace_path().c_str());
    }
    if (tb.mismatch_count() != 0 || worst_lsb > 0.5 + 1e-9) {
      std::fprintf(stderr, "matmul_demo: FAILED\n%s\n", tb.mismatch_report().c_str());
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "matmul_demo: %s\n", e.what());
    return 1;
  }
  return 0;
}
