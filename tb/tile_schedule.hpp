// Turns a list of tiles (A_i times W_i) into the cycle-by-cycle inputs of the systolic
// array, following the double-buffering rule of docs/architecture.md: the weights of
// tile i+1 load, one row per cycle, starting in the first cycle of tile i, so a tile
// of at least as many rows as the next tile's W has hides the load completely.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "golden/reference.hpp"
#include "golden/systolic_array_model.hpp"

namespace tpu::tb {

struct Tile {
  golden::MatrixI a;  // M x K activations (fixed-point integers)
  golden::MatrixI w;  // K x N' weights, K and N' at most the array's side
};

struct Schedule {
  std::vector<golden::ArrayInputs> cycles;  // the inputs of cycle 0, 1, ...
  std::vector<uint64_t> tile_start;         // the cycle each tile's first row enters
  std::vector<uint64_t> weight_start;       // the cycle each tile's first weight row loads
};

// Cycle rules (t: a tile's first cycle, L: its first weight-load cycle, M rows, K
// weight rows): L_0 = 0; L_i = max(t_{i-1}, L_{i-1} + K_{i-1}); t_i = max(L_i + 1,
// t_{i-1} + M_{i-1}). Row r of W_i loads in cycle L_i + r, which the spec allows
// because t_{i-1} + r <= L_i + r <= t_i + r - 1.
inline Schedule schedule_tiles(int dim, const std::vector<Tile>& tiles) {
  Schedule s;
  const auto zeros = std::vector<int32_t>(dim, 0);
  auto at = [&](uint64_t cycle) -> golden::ArrayInputs& {
    while (s.cycles.size() <= cycle) {
      golden::ArrayInputs in;
      in.w_data = zeros;
      in.in_act = zeros;
      s.cycles.push_back(in);
    }
    return s.cycles[cycle];
  };
  uint64_t load = 0;
  uint64_t start = 0;
  for (size_t i = 0; i < tiles.size(); ++i) {
    const Tile& t = tiles[i];
    if (t.a.cols() != t.w.rows() || t.w.rows() > dim || t.w.cols() > dim || t.a.rows() < 1) {
      throw std::invalid_argument("schedule_tiles: tile " + std::to_string(i) +
                                  " does not fit a " + std::to_string(dim) + "-wide array");
    }
    if (i == 0) {
      load = 0;
      start = 1;
    } else {
      const Tile& prev = tiles[i - 1];
      load = std::max<uint64_t>(s.tile_start[i - 1], s.weight_start[i - 1] + prev.w.rows());
      start = std::max<uint64_t>(load + 1, s.tile_start[i - 1] + prev.a.rows());
    }
    s.weight_start.push_back(load);
    s.tile_start.push_back(start);
    for (int r = 0; r < t.w.rows(); ++r) {
      auto& in = at(load + r);
      in.w_valid = true;
      in.w_row = static_cast<unsigned>(r);
      for (int c = 0; c < t.w.cols(); ++c) in.w_data[c] = static_cast<int32_t>(t.w(r, c));
    }
    for (int m = 0; m < t.a.rows(); ++m) {
      auto& in = at(start + m);
      in.in_valid = true;
      in.in_switch = (m == 0);
      for (int k = 0; k < t.a.cols(); ++k) in.in_act[k] = static_cast<int32_t>(t.a(m, k));
    }
  }
  return s;
}

}  // namespace tpu::tb
