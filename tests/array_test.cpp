// The systolic array at one size (TPU_ARRAY_DIM, one Verilated model per size):
// every cycle compared with the golden model, every final matrix compared with the
// Eigen reference under the documented rounding, and exact cycle counts from the spec.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "Vsystolic_array.h"
#include "golden/fixed_point.hpp"
#include "golden/reference.hpp"
#include "tb/array_tb.hpp"
#include "tb/seed.hpp"
#include "tb/tile_schedule.hpp"
#include "test_support.hpp"

#ifndef TPU_ARRAY_DIM
#error "TPU_ARRAY_DIM must name the array size the model was Verilated with"
#endif

namespace {

using tpu::golden::MatrixI;
using tpu::tb::ArrayTb;
using tpu::tb::Schedule;
using tpu::tb::Tile;

constexpr int kDim = TPU_ARRAY_DIM;
constexpr int kLatency = 2 * kDim;  // docs/architecture.md, "Latency"
constexpr int32_t kDataMax = 32767;
constexpr int32_t kDataMin = -32768;

using Tb = ArrayTb<Vsystolic_array>;

using tpu::test::test_name;

// A VCD name unique per size and test: waves/array<N>_<Suite>_<Test>.vcd.
std::string trace_name() {
  std::string name = "array" + std::to_string(kDim) + "_" + test_name();
  for (char& ch : name) {
    if (ch == '.' || ch == '/') ch = '_';
  }
  return name;
}

MatrixI random_matrix(std::mt19937_64& rng, int rows, int cols, int32_t lo, int32_t hi) {
  std::uniform_int_distribution<int32_t> dist(lo, hi);
  MatrixI m(rows, cols);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) m(r, c) = dist(rng);
  }
  return m;
}

// The RTL's output rows of tile `t` (rows are consecutive in the output stream).
MatrixI rows_of(const Tb& tb, size_t first_row, const Tile& t) {
  MatrixI y(t.a.rows(), t.w.cols());
  for (int m = 0; m < t.a.rows(); ++m) {
    const auto& row = tb.rows().at(first_row + m).data;
    for (int c = 0; c < t.w.cols(); ++c) y(m, c) = row[c];
  }
  return y;
}

// Runs `tiles` back to back and checks everything the spec promises: no per-cycle
// mismatch with the golden model, each result row in exactly the cycle
// tile_start + m + 2N, and each tile's product equal to the Eigen reference.
void run_and_check(Tb& tb, const std::vector<Tile>& tiles) {
  const Schedule s = tpu::tb::schedule_tiles(kDim, tiles);
  tb.run(s);
  ASSERT_EQ(tb.mismatch_count(), 0u) << tb.mismatch_report();
  size_t total_rows = 0;
  for (const auto& t : tiles) total_rows += t.a.rows();
  ASSERT_EQ(tb.rows().size(), total_rows);
  size_t row = 0;
  for (size_t i = 0; i < tiles.size(); ++i) {
    for (int m = 0; m < tiles[i].a.rows(); ++m) {
      EXPECT_EQ(tb.rows()[row + m].cycle, s.tile_start[i] + m + kLatency)
          << "tile " << i << " row " << m;
    }
    const MatrixI expected = tpu::golden::matmul_fixed(tiles[i].a, tiles[i].w);
    EXPECT_EQ(rows_of(tb, row, tiles[i]), expected) << "tile " << i;
    row += tiles[i].a.rows();
  }
}

class ArrayRandom : public ::testing::TestWithParam<int> {};

// Random A (M x N) times W (N x N) in the full Q8.8 range of small values, where
// rounding is exercised on every result and saturation on some.
TEST_P(ArrayRandom, MatmulMatchesGoldenEveryCycleAndEigen) {
  const int m = GetParam();
  const uint64_t seed = tpu::tb::test_seed(test_name());
  std::mt19937_64 rng(seed);
  Tb tb(kDim, trace_name());
  tb.reset();
  const Tile t{random_matrix(rng, m, kDim, -1024, 1024), random_matrix(rng, kDim, kDim, -512, 512)};
  run_and_check(tb, {t});
}

// Narrower operands: K < N activation lanes and N' < N outputs, zero-padded.
TEST_P(ArrayRandom, PartialTileMatchesEigen) {
  const int m = GetParam();
  const uint64_t seed = tpu::tb::test_seed(test_name());
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> side(1, kDim);
  Tb tb(kDim, trace_name());
  tb.reset();
  const int k = side(rng);
  const int n = side(rng);
  const Tile t{random_matrix(rng, m, k, -2048, 2048), random_matrix(rng, k, n, -2048, 2048)};
  run_and_check(tb, {t});
}

// Weights that are multiples of 1/2 make about half of all results exact ties (a
// fractional part of exactly 1/2 LSB), so any other rounding rule fails here at once.
TEST_P(ArrayRandom, TieHeavyMatmulRoundsLikeTheSpec) {
  const int m = GetParam();
  const uint64_t seed = tpu::tb::test_seed(test_name());
  std::mt19937_64 rng(seed);
  Tb tb(kDim, trace_name());
  tb.reset();
  MatrixI w = random_matrix(rng, kDim, kDim, -8, 8) * 128;  // k/2 for k in [-8, 8]
  const Tile t{random_matrix(rng, m, kDim, -1024, 1024), w};
  run_and_check(tb, {t});
}

INSTANTIATE_TEST_SUITE_P(Rows, ArrayRandom, ::testing::Values(1, kDim, 3 * kDim + 1),
                         [](const auto& info) { return "M" + std::to_string(info.param); });

// Tiles of N rows back to back: result rows leave on consecutive cycles across
// every tile boundary, and the whole run takes an exact number of cycles.
TEST(ArrayTiles, BackToBackTilesHaveNoBubble) {
  const uint64_t seed = tpu::tb::test_seed(test_name());
  std::mt19937_64 rng(seed);
  constexpr int kTiles = 4;
  std::vector<Tile> tiles;
  for (int i = 0; i < kTiles; ++i) {
    tiles.push_back({random_matrix(rng, kDim, kDim, -600, 600),
                     random_matrix(rng, kDim, kDim, -600, 600)});
  }
  Tb tb(kDim, trace_name());
  tb.reset();
  run_and_check(tb, tiles);
  // First weight row in cycle 0, first activation row in cycle 1, one row per cycle
  // after that: the last of kTiles*N rows enters in cycle kTiles*N and leaves 2N later.
  const Schedule s = tpu::tb::schedule_tiles(kDim, tiles);
  for (int i = 0; i < kTiles; ++i) EXPECT_EQ(s.tile_start[i], 1u + i * kDim);
  ASSERT_EQ(tb.rows().size(), static_cast<size_t>(kTiles * kDim));
  for (size_t j = 0; j < tb.rows().size(); ++j) {
    EXPECT_EQ(tb.rows()[j].cycle, 1u + kLatency + j) << "a bubble before output row " << j;
  }
  EXPECT_EQ(tb.rows().back().cycle, static_cast<uint64_t>(kTiles * kDim + 2 * kDim));
}

// A tile shorter than the next tile's weight load must wait for it: one weight row per
// cycle is the bandwidth, so the next tile starts K cycles after this one.
TEST(ArrayTiles, ShortTileWaitsForTheNextWeights) {
  const uint64_t seed = tpu::tb::test_seed(test_name());
  std::mt19937_64 rng(seed);
  const int short_rows = 1;
  std::vector<Tile> tiles = {
      {random_matrix(rng, short_rows, kDim, -600, 600), random_matrix(rng, kDim, kDim, -600, 600)},
      {random_matrix(rng, kDim, kDim, -600, 600), random_matrix(rng, kDim, kDim, -600, 600)},
      {random_matrix(rng, 2, kDim, -600, 600), random_matrix(rng, kDim, kDim, -600, 600)},
  };
  Tb tb(kDim, trace_name());
  tb.reset();
  run_and_check(tb, tiles);
  const Schedule s = tpu::tb::schedule_tiles(kDim, tiles);
  EXPECT_EQ(s.tile_start[0], 1u);
  EXPECT_EQ(s.tile_start[1], 1u + kDim);   // waited for tile 1's N weight rows
  EXPECT_EQ(s.tile_start[2], 1u + 2 * kDim);
}

// Saturation at both ends: N products of the largest magnitudes.
TEST(ArrayNumerics, SaturatesAtBothEnds) {
  Tb tb(kDim, trace_name());
  tb.reset();
  MatrixI a(4, kDim), w(kDim, kDim);
  a.row(0).setConstant(kDataMax);  // 127.996 * 127.996 * N: far above the range
  a.row(1).setConstant(kDataMin);  // -128 * 127.996 * N: far below
  a.row(2).setConstant(kDataMin);  // -128 * -128 * N: the largest product, still saturates
  a.row(3).setConstant(0);
  w.setConstant(kDataMax);
  w.col(kDim - 1).setConstant(kDataMin);
  const Schedule s = tpu::tb::schedule_tiles(kDim, {{a, w}});
  tb.run(s);
  ASSERT_EQ(tb.mismatch_count(), 0u) << tb.mismatch_report();
  ASSERT_EQ(tb.rows().size(), 4u);
  for (int c = 0; c < kDim; ++c) {
    const bool neg_w = (c == kDim - 1);
    EXPECT_EQ(tb.rows()[0].data[c], neg_w ? kDataMin : kDataMax) << "column " << c;
    EXPECT_EQ(tb.rows()[1].data[c], neg_w ? kDataMax : kDataMin) << "column " << c;
    EXPECT_EQ(tb.rows()[2].data[c], neg_w ? kDataMax : kDataMin) << "column " << c;
    EXPECT_EQ(tb.rows()[3].data[c], 0) << "column " << c;
  }
}

// Ties round away from zero, at the south edge, on the exact sum (worked by hand).
TEST(ArrayNumerics, RoundsTiesAwayFromZero) {
  Tb tb(kDim, trace_name());
  tb.reset();
  MatrixI a = MatrixI::Zero(5, kDim), w = MatrixI::Zero(kDim, 1);
  w(0, 0) = 128;   // 0.5
  a(0, 0) = 1;     // 1/256 * 0.5 = 0.5 LSB -> 1 LSB
  a(1, 0) = -1;    // -0.5 LSB -> -1 LSB
  a(2, 0) = 3;     // 1.5 LSB -> 2 LSB
  a(3, 0) = -3;    // -1.5 LSB -> -2 LSB
  if (kDim > 1) {  // 0.5 LSB - 1/256 LSB: just under the tie -> 0
    w(1, 0) = -1;
    a(4, 0) = 1;
    a(4, 1) = 1;
  }
  tb.run(tpu::tb::schedule_tiles(kDim, {{a, w}}));
  ASSERT_EQ(tb.mismatch_count(), 0u) << tb.mismatch_report();
  ASSERT_EQ(tb.rows().size(), 5u);
  EXPECT_EQ(tb.rows()[0].data[0], 1);
  EXPECT_EQ(tb.rows()[1].data[0], -1);
  EXPECT_EQ(tb.rows()[2].data[0], 2);
  EXPECT_EQ(tb.rows()[3].data[0], -2);
  EXPECT_EQ(tb.rows()[4].data[0], 0);
}

// Reset in the middle of a tile: nothing of the cut tile comes out afterwards, the
// weights are cleared, and the next tile computes correctly.
TEST(ArrayReset, ResetMidTileDropsTheTileAndClearsWeights) {
  const uint64_t seed = tpu::tb::test_seed(test_name());
  std::mt19937_64 rng(seed);
  Tb tb(kDim, trace_name());
  tb.reset();
  const Tile cut{random_matrix(rng, 2 * kDim, kDim, -600, 600),
                 random_matrix(rng, kDim, kDim, -600, 600)};
  const Schedule s = tpu::tb::schedule_tiles(kDim, {cut});
  // Stop half-way through feeding the tile, with rows in flight inside the array.
  for (size_t i = 0; i < s.tile_start[0] + kDim; ++i) tb.apply(s.cycles[i]);
  tb.reset(1);
  tb.idle(3 * kDim);
  EXPECT_TRUE(tb.rows().empty()) << "a row of the cut tile came out after reset";

  // Weights are zero after reset: a tile that switches without loading gives zeros.
  MatrixI a = random_matrix(rng, 2, kDim, -600, 600);
  tpu::golden::ArrayInputs in;
  for (int m = 0; m < 2; ++m) {
    in.in_valid = true;
    in.in_switch = (m == 0);
    in.in_act.assign(a.row(m).begin(), a.row(m).end());
    tb.apply(in);
  }
  tb.idle(kLatency + 1);
  ASSERT_EQ(tb.rows().size(), 2u);
  for (const auto& row : tb.rows()) {
    for (int c = 0; c < kDim; ++c) EXPECT_EQ(row.data[c], 0);
  }
  ASSERT_EQ(tb.mismatch_count(), 0u) << tb.mismatch_report();

  tb.reset();
  run_and_check(tb, {cut});
}

}  // namespace
