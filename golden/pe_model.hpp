// One processing element, register for register, from docs/architecture.md
// ("The processing element").
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "golden/fixed_point.hpp"

namespace tpu::golden {

// What a PE samples at a rising edge: the west inputs (valid, switch, activation), the partial
// sum from the north (0 for row 0) and the shadow-load pair from its column's weight bus.
struct PeInputs {
  bool valid = false;
  bool sw = false;  // switch_i; `switch` is a C++ keyword
  int32_t act = 0;
  int64_t psum = 0;
  bool load = false;
  int32_t w = 0;
};

// The PE's registers, named after valid_q, switch_q, act_q, psum_q, active_q, shadow_q.
struct PeState {
  bool valid = false;
  bool sw = false;
  int32_t act = 0;
  int64_t psum = 0;  // sum_width bits, sign-extended into int64_t
  int32_t active = 0;
  int32_t shadow = 0;
};

class PeModel {
 public:
  // `sum_width` is the width of psum_q (SumWidth = 2*data_width + clog2(ArrayDim) in the
  // array). It must hold one full product and leave int64_t room for the addition, so
  // 2*data_width <= sum_width <= 62; otherwise std::invalid_argument.
  explicit PeModel(int sum_width, Format f = kQ8_8) : sum_width_(sum_width), format_(f) {
    check_format(f);
    if (sum_width < 2 * f.data_width || sum_width > 62) {
      throw std::invalid_argument("golden::PeModel: sum_width=" + std::to_string(sum_width) +
                                  " outside [2*data_width=" + std::to_string(2 * f.data_width) +
                                  ", 62]");
    }
  }

  // rst_ni: clears every register, weights included.
  void reset() { state_ = PeState{}; }

  const PeState& state() const { return state_; }
  int sum_width() const { return sum_width_; }
  Format format() const { return format_; }

  // One rising edge. Every right-hand side reads the registers as they were before the edge.
  // Values that do not fit their port widths throw std::invalid_argument: the real ports
  // cannot carry them, so such an input is a caller bug, not something to truncate quietly.
  void step(const PeInputs& in) {
    check_fits(in.act, format_.data_width, "act");
    check_fits(in.w, format_.data_width, "w");
    check_fits(in.psum, sum_width_, "psum");
    advance(in);
  }

  // step() without the port checks, for a caller whose inputs fit by construction: the array
  // (act and w come from its own checked ports, psum from the PE above, kept to sum_width).
  void advance(const PeInputs& in) {
    const PeState old = state_;
    const int32_t w_eff = in.sw ? old.shadow : old.active;

    state_.valid = in.valid;
    // Without a valid activation nothing else moves: the array is silent while idle.
    if (in.valid) {
      state_.act = in.act;
      state_.sw = in.sw;
      // Exact product and sum, then kept to sum_width bits as the register would. The spec
      // sizes SumWidth so this never actually wraps inside the array.
      state_.psum = wrap(in.psum + product(in.act, w_eff), sum_width_);
      if (in.sw) state_.active = old.shadow;
    }
    // Independent of the switch: on a same-edge load and switch, active_q takes the old shadow
    // value above and shadow_q takes the new weight here.
    if (in.load) state_.shadow = in.w;
  }

 private:
  static void check_fits(int64_t x, int width, const char* port) {
    if (!fits(x, width)) [[unlikely]] does_not_fit(x, width, port);
  }
  // Out of line, so that check_fits inlines.
  [[noreturn, gnu::cold, gnu::noinline]] static void does_not_fit(int64_t x, int width,
                                                                 const char* port) {
    throw std::invalid_argument(std::string("golden::PeModel::step: ") + port + "=" +
                                std::to_string(x) + " does not fit " + std::to_string(width) +
                                " signed bits");
  }

  int sum_width_;
  Format format_;
  PeState state_{};
};

}  // namespace tpu::golden
