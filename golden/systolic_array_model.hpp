// The systolic_array, register for register, from docs/architecture.md ("Datapath", "Skew,
// weights and de-skew", "Reset", "Assertions in the RTL").
//
// The model is cycle-exact: step() is one rising edge of clk_i, and after it outputs() shows
// what out_valid_o / out_data_o show during the next clock period. A testbench can therefore
// compare the RTL against it every cycle, not only the final result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "golden/fixed_point.hpp"
#include "golden/pe_model.hpp"

namespace tpu::golden {

// $clog2: the number of bits needed to index n things, clog2(1) == 0.
constexpr int clog2(int n) {
  int bits = 0;
  while ((int64_t{1} << bits) < n) ++bits;
  return bits;
}

// One clock period's inputs of systolic_array. A vector has ArrayDim entries (entry c is bits
// [c*DataWidth +: DataWidth] of the port); an empty vector stands for all zeros.
struct ArrayInputs {
  bool w_valid = false;
  unsigned w_row = 0;
  std::vector<int32_t> w_data{};
  bool in_valid = false;
  bool in_switch = false;
  std::vector<int32_t> in_act{};
};

// The registered outputs. out_data always has ArrayDim entries; the spec defines them only
// while out_valid is high, and the model reports whatever its registers hold otherwise.
struct ArrayOutputs {
  bool out_valid = false;
  std::vector<int32_t> out_data{};
};

class SystolicArrayModel {
 public:
  static constexpr int kMinDim = 2;  // the spec: "any value from 2 to 16 builds"
  static constexpr int kMaxDim = 16;

  explicit SystolicArrayModel(int dim, Format f = kQ8_8);

  // rst_ni: clears every register (PE state and weights, skew and de-skew lines, outputs).
  void reset();

  // One rising edge with `in` presented during the closing clock period. Returns the outputs
  // as registered by this edge. Throws std::invalid_argument where the RTL asserts (w_row out
  // of range while w_valid, in_switch without in_valid) and for inputs the ports cannot carry
  // (wrong vector length, a value outside data_width bits); the state is then unchanged.
  ArrayOutputs step(const ArrayInputs& in);

  ArrayOutputs outputs() const;

  int dim() const { return dim_; }
  Format format() const { return format_; }
  // SumWidth = AccWidth + clog2(ArrayDim), AccWidth = 2 * DataWidth.
  int sum_width() const { return sum_width_; }
  // A row presented in cycle n is on the outputs in cycle n + latency().
  int latency() const { return 2 * dim_; }

  // PE(r,c)'s registers; std::out_of_range outside the grid.
  const PeState& pe(int r, int c) const;

 private:
  // One register stage of a row-skew lane (in_valid, in_switch, in_act[r]).
  struct LaneReg {
    bool valid = false;
    bool sw = false;
    int32_t act = 0;
  };
  // One register stage of the weight bus for one column (w_valid, w_row, w_data[c]).
  struct WeightReg {
    bool valid = false;
    unsigned row = 0;
    int32_t data = 0;
  };
  // A south-edge output register or a de-skew stage (valid and data).
  struct OutReg {
    bool valid = false;
    int32_t data = 0;
  };

  // `v` after the port checks, or zeros_ for an empty one.
  const std::vector<int32_t>& checked_vector(const std::vector<int32_t>& v, const char* port) const;
  PeModel& pe_at(int r, int c) { return pes_[static_cast<std::size_t>(r * dim_ + c)]; }
  const PeModel& pe_at(int r, int c) const { return pes_[static_cast<std::size_t>(r * dim_ + c)]; }
  // The register read out as column c's output: the last de-skew stage, or for column N-1
  // (no de-skew stages) the south-edge register itself.
  const OutReg& deskewed(int c) const;

  int dim_;
  Format format_;
  int sum_width_;
  // row_skew_[r] holds lane r's r stages, [0] nearest the port; lane 0 is empty (direct).
  std::vector<std::vector<LaneReg>> row_skew_;
  // weight_skew_[c] holds column c's c stages, [0] nearest the port; column 0 is empty.
  std::vector<std::vector<WeightReg>> weight_skew_;
  std::vector<PeModel> pes_;   // row-major, PE(r,c) at r*dim + c
  std::vector<OutReg> col_q_;  // col_valid_q / col_data_q
  // deskew_[c] holds column c's N-1-c stages, [0] fed by col_q_[c].
  std::vector<std::vector<OutReg>> deskew_;

  // step()'s working storage: the PE inputs and the next values of the registers above, kept
  // between cycles so that a cycle allocates nothing (assigning a vector of the same shape
  // reuses its storage; the commit swaps them in).
  std::vector<int32_t> zeros_;
  std::vector<PeInputs> pe_in_;
  std::vector<OutReg> col_next_;
  std::vector<std::vector<OutReg>> deskew_next_;
  std::vector<std::vector<LaneReg>> row_next_;
  std::vector<std::vector<WeightReg>> weight_next_;
};

// ---------------------------------------------------------------------------------------------

inline SystolicArrayModel::SystolicArrayModel(int dim, Format f)
    : dim_(dim), format_(f), sum_width_(0) {
  check_format(f);
  if (dim < kMinDim || dim > kMaxDim) {
    throw std::invalid_argument("golden::SystolicArrayModel: dim=" + std::to_string(dim) +
                                " outside [" + std::to_string(kMinDim) + ", " +
                                std::to_string(kMaxDim) + "]");
  }
  sum_width_ = 2 * f.data_width + clog2(dim);
  const auto n = static_cast<std::size_t>(dim);
  row_skew_.resize(n);
  weight_skew_.resize(n);
  deskew_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    row_skew_[i].resize(i);
    weight_skew_[i].resize(i);
    deskew_[i].resize(n - 1 - i);
  }
  pes_.assign(n * n, PeModel(sum_width_, f));  // PeModel checks sum_width fits int64_t
  col_q_.resize(n);
  zeros_.assign(n, 0);
  pe_in_.resize(n * n);
}

inline void SystolicArrayModel::reset() {
  for (auto& lane : row_skew_) lane.assign(lane.size(), LaneReg{});
  for (auto& col : weight_skew_) col.assign(col.size(), WeightReg{});
  for (auto& pe : pes_) pe.reset();
  col_q_.assign(col_q_.size(), OutReg{});
  for (auto& col : deskew_) col.assign(col.size(), OutReg{});
}

inline const std::vector<int32_t>& SystolicArrayModel::checked_vector(
    const std::vector<int32_t>& v, const char* port) const {
  const char* const where = "golden::SystolicArrayModel::step: ";  // built only on a failure
  if (v.empty()) return zeros_;
  if (v.size() != static_cast<std::size_t>(dim_)) {
    throw std::invalid_argument(std::string(where) + port + " has " + std::to_string(v.size()) +
                                " entries, expected " + std::to_string(dim_) +
                                " (ArrayDim) or 0 (all zeros)");
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!fits(v[i], format_.data_width)) {
      throw std::invalid_argument(std::string(where) + port + "[" + std::to_string(i) +
                                  "]=" + std::to_string(v[i]) + " does not fit " +
                                  std::to_string(format_.data_width) + " signed bits");
    }
  }
  return v;
}

inline ArrayOutputs SystolicArrayModel::step(const ArrayInputs& in) {
  // --- The RTL's input assertions, and what the ports can carry. -----------------------------
  if (in.w_valid && in.w_row >= static_cast<unsigned>(dim_)) {
    throw std::invalid_argument(
        "golden::SystolicArrayModel::step: w_row=" + std::to_string(in.w_row) +
        " with w_valid, must be < ArrayDim=" + std::to_string(dim_));
  }
  if (in.in_switch && !in.in_valid) {
    throw std::invalid_argument(
        "golden::SystolicArrayModel::step: in_switch without in_valid (the switch travels with "
        "an activation row)");
  }
  const std::vector<int32_t>& w_data = checked_vector(in.w_data, "w_data");
  const std::vector<int32_t>& in_act = checked_vector(in.in_act, "in_act");

  const int n = dim_;
  const auto idx = [](int i) { return static_cast<std::size_t>(i); };

  // Every next value below is computed from the registers as they were before the edge; only
  // the commit at the end writes them, so the order of the computations does not matter.

  // --- PE inputs. ----------------------------------------------------------------------------
  std::vector<PeInputs>& pe_in = pe_in_;  // every field of every entry is set below
  for (int r = 0; r < n; ++r) {
    // Row skew: lane r reaches PE(r,0) through r registers, lane 0 directly.
    const LaneReg west0 =
        r == 0 ? LaneReg{in.in_valid, in.in_switch, in_act[0]} : row_skew_[idx(r)].back();
    for (int c = 0; c < n; ++c) {
      PeInputs& p = pe_in[idx(r * n + c)];
      if (c == 0) {
        p.valid = west0.valid;
        p.sw = west0.sw;
        p.act = west0.act;
      } else {
        const PeState& west = pe_at(r, c - 1).state();
        p.valid = west.valid;
        p.sw = west.sw;
        p.act = west.act;
      }
      p.psum = r == 0 ? 0 : pe_at(r - 1, c).state().psum;
      // Weight bus: column c's copy passes c registers, column 0 none.
      const WeightReg bus =
          c == 0 ? WeightReg{in.w_valid, in.w_row, w_data[0]} : weight_skew_[idx(c)].back();
      p.load = bus.valid && bus.row == static_cast<unsigned>(r);
      p.w = bus.data;
    }
  }

  // --- South edge: one output register per column, round_sat on the way in. ------------------
  std::vector<OutReg>& col_next = col_next_;
  col_next = col_q_;
  for (int c = 0; c < n; ++c) {
    const PeState& bottom = pe_at(n - 1, c).state();
    col_next[idx(c)].valid = bottom.valid;
    if (bottom.valid) col_next[idx(c)].data = round_sat(bottom.psum, format_);
  }

  // --- De-skew: data stages load only while their valid input is high. ----------------------
  std::vector<std::vector<OutReg>>& deskew_next = deskew_next_;
  deskew_next = deskew_;
  for (int c = 0; c < n; ++c) {
    const auto& line = deskew_[idx(c)];
    auto& next = deskew_next[idx(c)];
    for (std::size_t k = 0; k < line.size(); ++k) {
      const OutReg& src = k == 0 ? col_q_[idx(c)] : line[k - 1];
      next[k].valid = src.valid;
      if (src.valid) next[k].data = src.data;
    }
  }

  // --- Skew lines: plain shift registers. ---------------------------------------------------
  // Nothing downstream looks at act/switch without valid, or at row/data without w_valid, so
  // whether these stages are enabled is invisible; plain registers are the simplest reading.
  std::vector<std::vector<LaneReg>>& row_next = row_next_;
  row_next = row_skew_;
  for (int r = 1; r < n; ++r) {
    auto& next = row_next[idx(r)];
    const auto& line = row_skew_[idx(r)];
    next[0] = LaneReg{in.in_valid, in.in_switch, in_act[idx(r)]};
    for (std::size_t k = 1; k < line.size(); ++k) next[k] = line[k - 1];
  }
  std::vector<std::vector<WeightReg>>& weight_next = weight_next_;
  weight_next = weight_skew_;
  for (int c = 1; c < n; ++c) {
    auto& next = weight_next[idx(c)];
    const auto& line = weight_skew_[idx(c)];
    next[0] = WeightReg{in.w_valid, in.w_row, w_data[idx(c)]};
    for (std::size_t k = 1; k < line.size(); ++k) next[k] = line[k - 1];
  }

  // --- Commit: the edge. --------------------------------------------------------------------
  // The PEs' inputs fit their ports by construction (checked above, or a PE's own registers).
  for (int i = 0; i < n * n; ++i) pes_[idx(i)].advance(pe_in[idx(i)]);
  col_q_.swap(col_next);
  deskew_.swap(deskew_next);
  row_skew_.swap(row_next);
  weight_skew_.swap(weight_next);

  // The RTL asserts that all de-skewed valids agree; here a disagreement can only be a bug in
  // this model, hence logic_error rather than invalid_argument.
  for (int c = 1; c < n; ++c) {
    if (deskewed(c).valid != deskewed(0).valid) {
      throw std::logic_error("golden::SystolicArrayModel: de-skewed valid of column " +
                             std::to_string(c) + " disagrees with column 0");
    }
  }
  return outputs();
}

inline const SystolicArrayModel::OutReg& SystolicArrayModel::deskewed(int c) const {
  const auto& line = deskew_[static_cast<std::size_t>(c)];
  return line.empty() ? col_q_[static_cast<std::size_t>(c)] : line.back();
}

inline ArrayOutputs SystolicArrayModel::outputs() const {
  ArrayOutputs out;
  out.out_valid = deskewed(0).valid;
  out.out_data.resize(static_cast<std::size_t>(dim_));
  for (int c = 0; c < dim_; ++c) out.out_data[static_cast<std::size_t>(c)] = deskewed(c).data;
  return out;
}

inline const PeState& SystolicArrayModel::pe(int r, int c) const {
  if (r < 0 || r >= dim_ || c < 0 || c >= dim_) {
    throw std::out_of_range("golden::SystolicArrayModel::pe(" + std::to_string(r) + ", " +
                            std::to_string(c) + "): outside the " + std::to_string(dim_) + "x" +
                            std::to_string(dim_) + " grid");
  }
  return pe_at(r, c).state();
}

}  // namespace tpu::golden
