// Packing lanes of signed fixed-point values into Verilated vector ports and back.
// A port of ArrayDim lanes holds lane i in bits [i*width +: width]; Verilator gives
// ports up to 64 bits as integers and wider ones as VlWide word arrays.
#pragma once

#include <verilated.h>

#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <vector>

namespace tpu::tb {

namespace detail {

template <class Port>
uint32_t get_word(const Port& port, int word) {
  if constexpr (std::is_integral_v<Port>) {
    return word < 2 ? static_cast<uint32_t>(static_cast<uint64_t>(port) >> (32 * word)) : 0;
  } else {
    return port[word];
  }
}

// Integers and VlWide (whose only member is its word array) alike.
template <class Port>
constexpr int port_bits() {
  return 8 * static_cast<int>(sizeof(Port));
}

}  // namespace detail

// Writes the low `width` bits (at most 64) of `value` into bits [lsb +: width] of `port`.
template <class Port>
void set_bits(Port& port, int lsb, int width, uint64_t value) {
  if (lsb + width > detail::port_bits<Port>() || width > 64) {
    throw std::invalid_argument("set_bits: field outside the port");
  }
  for (int b = 0; b < width; ++b) {
    const int bit = lsb + b;
    const bool one = (value >> b) & 1;
    if constexpr (std::is_integral_v<Port>) {
      using U = std::make_unsigned_t<Port>;
      const U mask = static_cast<U>(U{1} << bit);
      port = static_cast<Port>(one ? (static_cast<U>(port) | mask) : (static_cast<U>(port) & ~mask));
    } else {
      const uint32_t mask = uint32_t{1} << (bit % 32);
      port[bit / 32] = one ? (port[bit / 32] | mask) : (port[bit / 32] & ~mask);
    }
  }
}

// Reads bits [lsb +: width] (width at most 64) of `port`, zero-extended.
template <class Port>
uint64_t get_bits(const Port& port, int lsb, int width) {
  uint64_t v = 0;
  for (int b = 0; b < width; ++b) {
    const int bit = lsb + b;
    v |= static_cast<uint64_t>((detail::get_word(port, bit / 32) >> (bit % 32)) & 1) << b;
  }
  return v;
}

// Writes `lanes` (each a signed value of `width` bits) into `port`.
template <class Port>
void pack_lanes(Port& port, const std::vector<int32_t>& lanes, int width) {
  if (static_cast<int>(lanes.size()) * width > detail::port_bits<Port>()) {
    throw std::invalid_argument("pack_lanes: more lanes than the port holds");
  }
  const uint64_t mask = (uint64_t{1} << width) - 1;
  if constexpr (std::is_integral_v<Port>) {
    uint64_t v = 0;
    for (size_t i = 0; i < lanes.size(); ++i) {
      v |= (static_cast<uint64_t>(lanes[i]) & mask) << (i * width);
    }
    port = static_cast<Port>(v);
  } else {
    for (int w = 0; w < detail::port_bits<Port>() / 32; ++w) port[w] = 0;
    for (size_t i = 0; i < lanes.size(); ++i) {
      const uint64_t v = static_cast<uint64_t>(lanes[i]) & mask;
      for (int b = 0; b < width; ++b) {
        if ((v >> b) & 1) {
          const size_t bit = i * width + b;
          port[bit / 32] |= uint32_t{1} << (bit % 32);
        }
      }
    }
  }
}

// Reads `count` signed lanes of `width` bits from `port`.
template <class Port>
std::vector<int32_t> unpack_lanes(const Port& port, int count, int width) {
  std::vector<int32_t> lanes(count);
  for (int i = 0; i < count; ++i) {
    uint64_t v = 0;
    for (int b = 0; b < width; ++b) {
      const int bit = i * width + b;
      v |= static_cast<uint64_t>((detail::get_word(port, bit / 32) >> (bit % 32)) & 1) << b;
    }
    if (v >> (width - 1)) v |= ~uint64_t{0} << width;  // sign-extend
    lanes[i] = static_cast<int32_t>(static_cast<int64_t>(v));
  }
  return lanes;
}

}  // namespace tpu::tb
