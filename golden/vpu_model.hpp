// The vector processing unit (vpu), register for register, from docs/architecture.md ("Shared
// definitions for the units around the array", "Vector processing unit").
//
// vpu_lane() is the whole lane function without timing: what one lane computes for one element.
// VpuModel adds the four registered stages. It is cycle-exact: step() is one rising edge of
// clk_i, and after it outputs() shows what out_valid_o / out_data_o show during the next clock
// period, so a row presented in cycle n (the n-th step) is on the outputs after step n + 3,
// i.e. during cycle n + 4.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "golden/fixed_point.hpp"

namespace tpu::golden {

// tpu_pkg::vpu_cfg_t, one field per member. The RTL fields are 4, 2, 4, 4 and 1 bits wide;
// values that do not fit throw std::invalid_argument wherever a config is used.
struct VpuConfig {
  uint8_t mask = 0;        // bit 0 bias, bit 1 activation, bit 2 loss gradient, bit 3 derivative
  uint8_t act_fn = 0;      // kActIdentity, kActRelu, kActLeakyRelu; 3 is reserved (identity)
  uint8_t leak_shift = 0;  // leaky ReLU slope 2^-leak_shift
  uint8_t batch_log2 = 0;  // loss scale 2/B, B = 2^batch_log2
  bool deriv_src = false;  // derivative looks at z (false) or at in_deriv_i (true)
};

inline constexpr uint8_t kActIdentity = 0, kActRelu = 1, kActLeakyRelu = 2;
inline constexpr uint8_t kMaskBias = 1, kMaskAct = 2, kMaskLoss = 4, kMaskDeriv = 8;  // bit values

// One clock period's inputs. A vector has `lanes` entries (entry c is lane c); an empty vector
// stands for all zeros.
struct VpuInputs {
  bool valid = false;
  std::vector<int32_t> data{}, bias{}, target{}, deriv{};
  VpuConfig cfg{};
};

// The registered outputs. data always has `lanes` entries; the spec defines it only while
// valid is high, and the model reports whatever the output register holds otherwise.
struct VpuOutputs {
  bool valid = false;
  std::vector<int32_t> data{};
};

namespace vpu_detail {

// Throws std::invalid_argument unless every field of `cfg` fits its vpu_cfg_t width.
// `where` is a C string: these run for every lane of every cycle, so nothing is built
// unless a check fails.
inline void check_cfg(const VpuConfig& cfg, const char* where) {
  const auto bad = [&](const char* field, unsigned v, unsigned limit) {
    throw std::invalid_argument(std::string(where) + ": cfg." + field + "=" + std::to_string(v) +
                                " does not fit its field (must be < " + std::to_string(limit) +
                                ")");
  };
  if (cfg.mask >= 16) bad("mask", cfg.mask, 16);
  if (cfg.act_fn >= 4) bad("act_fn", cfg.act_fn, 4);
  if (cfg.leak_shift >= 16) bad("leak_shift", cfg.leak_shift, 16);
  if (cfg.batch_log2 >= 16) bad("batch_log2", cfg.batch_log2, 16);
}

// `port` names the value; `lane` >= 0 appends "[lane]" to it.
[[noreturn, gnu::cold, gnu::noinline]] inline void does_not_fit(int64_t v, int width,
                                                                const char* where,
                                                                const char* port, int lane) {
  const std::string name =
      lane < 0 ? std::string(port) : std::string(port) + "[" + std::to_string(lane) + "]";
  throw std::invalid_argument(std::string(where) + ": " + name + "=" + std::to_string(v) +
                              " does not fit " + std::to_string(width) + " signed bits");
}
inline void check_value(int64_t v, int width, const char* where, const char* port, int lane = -1) {
  if (!fits(v, width)) [[unlikely]] does_not_fit(v, width, where, port, lane);
}

// Stage 1, bias: x1 = mask[0] ? sat(x + b) : x. Also the pre-activation z.
inline int32_t bias_stage(const VpuConfig& cfg, int32_t x, int32_t b, Format f) {
  if ((cfg.mask & kMaskBias) == 0) return x;
  return static_cast<int32_t>(saturate(int64_t{x} + b, f.data_width));
}

// Stage 2, activation: x2 = mask[1] ? f(x1) : x1. act_fn 3 (reserved) is the identity.
inline int32_t act_stage(const VpuConfig& cfg, int32_t v) {
  if ((cfg.mask & kMaskAct) == 0) return v;
  switch (cfg.act_fn) {
    case kActRelu:
      return v > 0 ? v : 0;
    case kActLeakyRelu:
      // |rshift_round(v, k)| <= |v| for v <= 0, so the result still fits DataWidth.
      return v > 0 ? v : static_cast<int32_t>(rshift_round(v, cfg.leak_shift));
    default:  // kActIdentity and the reserved 3
      return v;
  }
}

// Stage 3, loss gradient: x3 = mask[2] ? sat(scale(x2 - y)) : x2, x2 - y exact.
inline int32_t loss_stage(const VpuConfig& cfg, int32_t x2, int32_t y, Format f) {
  if ((cfg.mask & kMaskLoss) == 0) return x2;
  const int64_t d = int64_t{x2} - y;
  const int64_t scaled = cfg.batch_log2 == 0 ? 2 * d : rshift_round(d, cfg.batch_log2 - 1);
  return static_cast<int32_t>(saturate(scaled, f.data_width));
}

// Stage 4, activation derivative: v = deriv_src ? s : z; x4 = mask[3] ? (v > 0 ? x3 : g(x3)) : x3,
// with g the identity (identity and the reserved 3), 0 (ReLU), or rshift_round(x3, leak_shift)
// (leaky ReLU).
inline int32_t deriv_stage(const VpuConfig& cfg, int32_t x3, int32_t z, int32_t s) {
  if ((cfg.mask & kMaskDeriv) == 0) return x3;
  const int32_t v = cfg.deriv_src ? s : z;
  if (v > 0) return x3;
  switch (cfg.act_fn) {
    case kActRelu:
      return 0;
    case kActLeakyRelu:
      return static_cast<int32_t>(rshift_round(x3, cfg.leak_shift));
    default:
      // kActIdentity: f' = 1. SPEC-AMBIGUITY: the reserved act_fn 3 "behaves as identity", so its
      // derivative g is the identity's too.
      return x3;
  }
}

}  // namespace vpu_detail

// The whole lane function for one element: x from the array, b the bias, y the target, s the
// stored (pre-)activation for the derivative stage. Throws std::invalid_argument for a config
// field or a value that the ports cannot carry.
inline int32_t vpu_lane(const VpuConfig& cfg, int32_t x, int32_t b, int32_t y, int32_t s,
                        Format f = kQ8_8) {
  check_format(f);
  const char* const where = "golden::vpu_lane";
  vpu_detail::check_cfg(cfg, where);
  vpu_detail::check_value(x, f.data_width, where, "x");
  vpu_detail::check_value(b, f.data_width, where, "b");
  vpu_detail::check_value(y, f.data_width, where, "y");
  vpu_detail::check_value(s, f.data_width, where, "s");
  const int32_t x1 = vpu_detail::bias_stage(cfg, x, b, f);
  const int32_t z = x1;
  const int32_t x2 = vpu_detail::act_stage(cfg, x1);
  const int32_t x3 = vpu_detail::loss_stage(cfg, x2, y, f);
  return vpu_detail::deriv_stage(cfg, x3, z, s);
}

class VpuModel {
 public:
  static constexpr int kLatency = 4;
  // The unit has ArrayDim lanes, and the spec builds ArrayDim from 2 to 16.
  static constexpr int kMinLanes = 2;
  static constexpr int kMaxLanes = 16;

  explicit VpuModel(int lanes, Format f = kQ8_8);

  // rst_ni: clears every register (valids low, data, carried config and operands zero).
  void reset();

  // One rising edge with `in` presented during the closing clock period; returns the outputs
  // as registered by this edge. Inputs the ports cannot carry (wrong vector length, a value
  // outside data_width bits, a config field too wide) throw std::invalid_argument, whether or
  // not `valid` is set; the state is then unchanged.
  VpuOutputs step(const VpuInputs& in);

  VpuOutputs outputs() const;

  int lanes() const { return lanes_; }
  Format format() const { return format_; }

 private:
  // The stage registers. Stage k holds its result and carries forward what later stages need:
  // the config always, y until stage 3 uses it, z and s until stage 4 uses them. (z equals x1
  // in stage 1, so stage 1 keeps it only once.)
  struct Stage1 {
    bool valid = false;
    VpuConfig cfg{};
    std::vector<int32_t> x1{}, y{}, s{};
  };
  struct Stage2 {
    bool valid = false;
    VpuConfig cfg{};
    std::vector<int32_t> x2{}, z{}, y{}, s{};
  };
  struct Stage3 {
    bool valid = false;
    VpuConfig cfg{};
    std::vector<int32_t> x3{}, z{}, s{};
  };
  struct Stage4 {
    bool valid = false;
    std::vector<int32_t> x4{};
  };

  // `v` after the port checks, or zeros_ for an empty one.
  const std::vector<int32_t>& checked_vector(const std::vector<int32_t>& v, const char* port) const;
  std::vector<int32_t> zeros() const { return std::vector<int32_t>(idx(lanes_), 0); }
  static std::size_t idx(int i) { return static_cast<std::size_t>(i); }

  int lanes_;
  Format format_;
  Stage1 s1_{};
  Stage2 s2_{};
  Stage3 s3_{};
  Stage4 s4_{};
  // step()'s next values, kept between cycles so that a cycle allocates nothing (assigning a
  // stage of the same shape reuses its storage; the commit swaps them in).
  std::vector<int32_t> zeros_;
  Stage1 n1_{};
  Stage2 n2_{};
  Stage3 n3_{};
  Stage4 n4_{};
};

// ---------------------------------------------------------------------------------------------

inline VpuModel::VpuModel(int lanes, Format f) : lanes_(lanes), format_(f) {
  check_format(f);
  if (lanes < kMinLanes || lanes > kMaxLanes) {
    throw std::invalid_argument("golden::VpuModel: lanes=" + std::to_string(lanes) + " outside [" +
                                std::to_string(kMinLanes) + ", " + std::to_string(kMaxLanes) + "]");
  }
  reset();
}

inline void VpuModel::reset() {
  zeros_ = zeros();
  s1_ = Stage1{false, VpuConfig{}, zeros(), zeros(), zeros()};
  s2_ = Stage2{false, VpuConfig{}, zeros(), zeros(), zeros(), zeros()};
  s3_ = Stage3{false, VpuConfig{}, zeros(), zeros(), zeros()};
  s4_ = Stage4{false, zeros()};
}

inline const std::vector<int32_t>& VpuModel::checked_vector(const std::vector<int32_t>& v,
                                                            const char* port) const {
  const char* const where = "golden::VpuModel::step";
  if (v.empty()) return zeros_;
  if (v.size() != idx(lanes_)) {
    throw std::invalid_argument(std::string(where) + ": " + port + " has " +
                                std::to_string(v.size()) +
                                " entries, expected " + std::to_string(lanes_) +
                                " (lanes) or 0 (all zeros)");
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    vpu_detail::check_value(v[i], format_.data_width, where, port, static_cast<int>(i));
  }
  return v;
}

inline VpuOutputs VpuModel::step(const VpuInputs& in) {
  vpu_detail::check_cfg(in.cfg, "golden::VpuModel::step");
  const std::vector<int32_t>& x = checked_vector(in.data, "data");
  const std::vector<int32_t>& b = checked_vector(in.bias, "bias");
  const std::vector<int32_t>& y = checked_vector(in.target, "target");
  const std::vector<int32_t>& s = checked_vector(in.deriv, "deriv");

  // Next values from the registers as they were before the edge; committed together below.
  // Valids always shift; a stage's data registers load only while the valid entering it is high.
  Stage1& n1 = n1_;
  Stage2& n2 = n2_;
  Stage3& n3 = n3_;
  Stage4& n4 = n4_;
  n1 = s1_;
  n2 = s2_;
  n3 = s3_;
  n4 = s4_;

  n1.valid = in.valid;
  if (in.valid) {
    n1.cfg = in.cfg;
    for (int c = 0; c < lanes_; ++c) {
      n1.x1[idx(c)] = vpu_detail::bias_stage(in.cfg, x[idx(c)], b[idx(c)], format_);
    }
    n1.y = y;
    n1.s = s;
  }

  n2.valid = s1_.valid;
  if (s1_.valid) {
    n2.cfg = s1_.cfg;
    for (int c = 0; c < lanes_; ++c) n2.x2[idx(c)] = vpu_detail::act_stage(s1_.cfg, s1_.x1[idx(c)]);
    n2.z = s1_.x1;  // the pre-activation z is x1
    n2.y = s1_.y;
    n2.s = s1_.s;
  }

  n3.valid = s2_.valid;
  if (s2_.valid) {
    n3.cfg = s2_.cfg;
    for (int c = 0; c < lanes_; ++c) {
      n3.x3[idx(c)] = vpu_detail::loss_stage(s2_.cfg, s2_.x2[idx(c)], s2_.y[idx(c)], format_);
    }
    n3.z = s2_.z;
    n3.s = s2_.s;
  }

  n4.valid = s3_.valid;
  if (s3_.valid) {
    for (int c = 0; c < lanes_; ++c) {
      n4.x4[idx(c)] =
          vpu_detail::deriv_stage(s3_.cfg, s3_.x3[idx(c)], s3_.z[idx(c)], s3_.s[idx(c)]);
    }
  }

  std::swap(s1_, n1);
  std::swap(s2_, n2);
  std::swap(s3_, n3);
  std::swap(s4_, n4);
  return outputs();
}

inline VpuOutputs VpuModel::outputs() const { return VpuOutputs{s4_.valid, s4_.x4}; }

}  // namespace tpu::golden
