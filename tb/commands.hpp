// The bit layouts of tpu_pkg's packed command and configuration structs, for driving
// Verilated ports from the golden model's C++ structs. A packed struct puts its first
// field in the most significant bits; the tests fail every cycle if this file and
// rtl/tpu_pkg.sv disagree.
#pragma once

#include <cstdint>

#include "golden/sgd_model.hpp"
#include "golden/ub_types.hpp"
#include "golden/vpu_model.hpp"
#include "tb/lanes.hpp"

namespace tpu::tb {

inline constexpr int kDataWidth = 16;
inline constexpr int kUbAddrWidth = 16;
inline constexpr int kLanesWidth = 8;
inline constexpr int kUbRdCmdWidth = 3 * kUbAddrWidth + kLanesWidth + 1;  // 57
inline constexpr int kUbWrCmdWidth = 3 * kUbAddrWidth + kLanesWidth;      // 56
inline constexpr int kSgdCmdWidth = 3 * kUbAddrWidth + kDataWidth + 1;    // 65
inline constexpr int kVpuCfgWidth = 4 + 2 + 4 + 4 + 1;                    // 15

namespace detail {
inline uint64_t field(uint64_t v, int width) { return v & ((uint64_t{1} << width) - 1); }
}  // namespace detail

// ub_rd_cmd_t: start, count, stride, lanes, transpose.
inline uint64_t pack_rd_cmd(const golden::UbReadCmd& c) {
  using detail::field;
  return field(c.start, 16) << 41 | field(c.count, 16) << 25 | field(c.stride, 16) << 9 |
         field(c.lanes, 8) << 1 | (c.transpose ? 1u : 0u);
}

// ub_wr_cmd_t: start, count, stride, lanes.
inline uint64_t pack_wr_cmd(const golden::UbWriteCmd& c) {
  using detail::field;
  return field(c.start, 16) << 40 | field(c.count, 16) << 24 | field(c.stride, 16) << 8 |
         field(c.lanes, 8);
}

// vpu_cfg_t: mask, act_fn, leak_shift, batch_log2, deriv_src.
inline uint64_t pack_vpu_cfg(const golden::VpuConfig& c) {
  using detail::field;
  return field(c.mask, 4) << 11 | field(c.act_fn, 2) << 9 | field(c.leak_shift, 4) << 5 |
         field(c.batch_log2, 4) << 1 | (c.deriv_src ? 1u : 0u);
}

// sgd_cmd_t: theta_addr, grad_addr, count, lr, stochastic (65 bits: a wide port).
template <class Port>
void pack_sgd_cmd(Port& port, const golden::SgdCommand& c) {
  set_bits(port, 49, 16, c.theta_addr);
  set_bits(port, 33, 16, c.grad_addr);
  set_bits(port, 17, 16, c.count);
  set_bits(port, 1, 16, static_cast<uint64_t>(static_cast<uint32_t>(c.lr)));
  set_bits(port, 0, 1, c.stochastic ? 1 : 0);
}

}  // namespace tpu::tb
