// Fixed-point arithmetic of the design, written from docs/architecture.md ("Number format").
//
// Every function here is the C++ twin of a tpu_pkg helper and must agree with it bit for bit.
// Values are carried in wide C++ integers; the register width they stand for is a parameter,
// so one set of functions serves every Format and every array size.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace tpu::golden {

// A two's complement fixed-point format: `data_width` bits, `frac_bits` of them fractional.
struct Format {
  int data_width = 16;
  int frac_bits = 8;
};

// The design's default format, Q8.8 (DataWidth = 16, FracBits = 8).
inline constexpr Format kQ8_8{};

namespace detail {
// The error paths of the helpers below, kept out of line so that the helpers themselves inline
// into the models' per-lane loops (they run millions of times a second).
[[noreturn, gnu::cold, gnu::noinline]] inline void bad_format(const Format& f) {
  throw std::invalid_argument("golden::Format{data_width=" + std::to_string(f.data_width) +
                              ", frac_bits=" + std::to_string(f.frac_bits) +
                              "}: need 2 <= data_width <= 32 and 0 <= frac_bits <= data_width");
}
[[noreturn, gnu::cold, gnu::noinline]] inline void bad_argument(const char* fn, const char* name,
                                                               int value, const char* range) {
  throw std::invalid_argument(std::string("golden::") + fn + ": " + name + "=" +
                              std::to_string(value) + " outside " + range);
}
}  // namespace detail

// Throws std::invalid_argument unless `f` is a format this model can carry: to_fixed returns an
// int32_t, so data_width is at most 32, and frac_bits may not exceed data_width.
inline void check_format(const Format& f) {
  if (f.data_width < 2 || f.data_width > 32 || f.frac_bits < 0 || f.frac_bits > f.data_width)
      [[unlikely]] {
    detail::bad_format(f);
  }
}

// Rounds `x` (with 2F fractional bits) to F fewer fractional bits: to nearest, ties away from
// zero. This is the spec's formula verbatim,
//     round(x) = (x + 2^(F-1) - (x < 0 ? 1 : 0)) >>> F,
// with the addition done in 128 bits, the C++ stand-in for "one bit wider than x": it cannot
// overflow for any int64_t x, and the result always fits int64_t because F >= 1 halves it.
// C++20 defines >> of a negative value as the flooring shift the spec's >>> means.
// frac_bits == 0 returns x unchanged (nothing to round). Precondition: 0 <= frac_bits <= 62,
// otherwise std::invalid_argument. The design only feeds it sums of ~36 bits.
inline int64_t round_shift(int64_t x, int frac_bits) {
  if (frac_bits < 0 || frac_bits > 62) [[unlikely]] {
    detail::bad_argument("round_shift", "frac_bits", frac_bits, "[0, 62]");
  }
  if (frac_bits == 0) return x;
  __extension__ using Wide = __int128;  // __extension__: -Wpedantic would flag GNU __int128
  const Wide half = Wide{1} << (frac_bits - 1);
  const Wide sum = Wide{x} + half - (x < 0 ? 1 : 0);
  return static_cast<int64_t>(sum >> frac_bits);
}

// tpu_pkg::rshift_round ("Shared definitions for the units around the array"): v / 2^k rounded
// to nearest, ties away from zero, for a shift k known only at run time (the VPU's leak_shift
// and loss scale). k = 0 gives v; otherwise (v + 2^(k-1) - (v < 0 ? 1 : 0)) >>> k, which is
// round_shift's formula. The shift fields that feed it are 4 bits wide, so k must lie in
// [0, 15]; anything else throws std::invalid_argument.
inline int64_t rshift_round(int64_t v, int k) {
  if (k < 0 || k > 15) [[unlikely]] detail::bad_argument("rshift_round", "k", k, "[0, 15]");
  return round_shift(v, k);
}

// Clamps `x` to the range of a signed `width`-bit value, [-2^(w-1), 2^(w-1) - 1]. Never wraps.
// Precondition: 1 <= width <= 64, otherwise std::invalid_argument.
inline int64_t saturate(int64_t x, int width) {
  if (width < 1 || width > 64) [[unlikely]] {
    detail::bad_argument("saturate", "width", width, "[1, 64]");
  }
  if (width == 64) return x;  // every int64_t already fits; 1 << 63 would overflow below
  const int64_t hi = (int64_t{1} << (width - 1)) - 1;
  const int64_t lo = -hi - 1;
  return x < lo ? lo : (x > hi ? hi : x);
}

// Keeps the low `width` bits of `x` and sign-extends them: what a `width`-bit signed register
// holds after `x` is written into it (e.g. psum_q, SumWidth bits). Returns int64_t, not int32_t,
// because SumWidth is wider than 32 bits. Precondition: 1 <= width <= 64.
inline int64_t wrap(int64_t x, int width) {
  if (width < 1 || width > 64) [[unlikely]] detail::bad_argument("wrap", "width", width, "[1, 64]");
  const int shift = 64 - width;
  // Unsigned left shift drops the high bits without UB; C++20 makes the conversion back to
  // int64_t modular and >> arithmetic, which sign-extends bit width-1.
  return static_cast<int64_t>(static_cast<uint64_t>(x) << shift) >> shift;
}

// True when `x` is representable as a signed `width`-bit value.
inline bool fits(int64_t x, int width) { return saturate(x, width) == x; }

// tpu_pkg::round_sat: saturate(round(x)). The only way a wide value (2F fractional bits)
// becomes a data_width value in this design.
inline int32_t round_sat(int64_t x, Format f = kQ8_8) {
  check_format(f);
  return static_cast<int32_t>(saturate(round_shift(x, f.frac_bits), f.data_width));
}

// The exact signed product of two data values: 2*data_width bits, 2F fractional bits.
inline int64_t product(int32_t a, int32_t b) { return int64_t{a} * int64_t{b}; }

// Encodes a real number: scale by 2^F, round to nearest with ties away from zero (std::round's
// rule, the same as round_shift), then saturate. NaN has no encoding and throws
// std::invalid_argument; +-infinity saturate.
inline int32_t to_fixed(double v, Format f = kQ8_8) {
  check_format(f);
  if (std::isnan(v)) throw std::invalid_argument("golden::to_fixed: NaN has no fixed-point value");
  const double scaled = std::round(std::ldexp(v, f.frac_bits));  // ldexp is exact
  const double hi = std::ldexp(1.0, f.data_width - 1) - 1.0;
  const double lo = -std::ldexp(1.0, f.data_width - 1);
  // Clamp in double first: converting an out-of-range double to an integer is UB.
  if (scaled >= hi) return static_cast<int32_t>(hi);
  if (scaled <= lo) return static_cast<int32_t>(lo);
  return static_cast<int32_t>(scaled);
}

// Decodes a fixed-point value: v / 2^F, exact in double for every data_width <= 32.
inline double to_double(int32_t v, Format f = kQ8_8) {
  check_format(f);
  return std::ldexp(static_cast<double>(v), -f.frac_bits);
}

}  // namespace tpu::golden
