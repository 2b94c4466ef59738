// Packing lanes of signed fixed-point values into Verilated vector ports and back.
// A port of ArrayDim lanes holds lane i in bits [i*width +: width]; Verilator gives
// ports up to 64 bits as integers and wider ones as VlWide word arrays.
#pragma once

#include <verilated.h>

#include <algorithm>
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

// Bits [lsb +: width] (width at most 64, inside the port), zero-extended: whole 32-bit words
// at a time (the testbenches call this for every lane of every port every cycle).
template <class Port>
uint64_t field(const Port& port, int lsb, int width) {
  if constexpr (std::is_integral_v<Port>) {
    using U = std::make_unsigned_t<Port>;
    const uint64_t v = static_cast<uint64_t>(static_cast<U>(port)) >> lsb;
    return width >= 64 ? v : v & ((uint64_t{1} << width) - 1);
  } else {
    uint64_t v = 0;
    for (int got = 0; got < width;) {
      const int bit = lsb + got, off = bit % 32;
      const int take = std::min(32 - off, width - got);
      const uint64_t chunk = (uint64_t{port[bit / 32]} >> off) & ((uint64_t{1} << take) - 1);
      v |= chunk << got;
      got += take;
    }
    return v;
  }
}

// Writes the low `width` bits of `value` into bits [lsb +: width] (inside the port).
template <class Port>
void set_field(Port& port, int lsb, int width, uint64_t value) {
  if constexpr (std::is_integral_v<Port>) {
    using U = std::make_unsigned_t<Port>;
    const uint64_t ones = width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
    const U mask = static_cast<U>(ones << lsb);
    const U bits = static_cast<U>(value << lsb);
    port = static_cast<Port>((static_cast<U>(port) & ~mask) | (bits & mask));
  } else {
    for (int put = 0; put < width;) {
      const int bit = lsb + put, off = bit % 32;
      const int take = std::min(32 - off, width - put);
      const uint32_t mask = static_cast<uint32_t>(((uint64_t{1} << take) - 1) << off);
      const uint32_t chunk = static_cast<uint32_t>((value >> put) << off);
      port[bit / 32] = (port[bit / 32] & ~mask) | (chunk & mask);
      put += take;
    }
  }
}

}  // namespace detail

// Writes the low `width` bits (at most 64) of `value` into bits [lsb +: width] of `port`.
template <class Port>
void set_bits(Port& port, int lsb, int width, uint64_t value) {
  if (lsb + width > detail::port_bits<Port>() || width > 64) {
    throw std::invalid_argument("set_bits: field outside the port");
  }
  if (width > 0) detail::set_field(port, lsb, width, value);
}

// Reads bits [lsb +: width] (width at most 64) of `port`, zero-extended; bits past the port
// read as 0.
template <class Port>
uint64_t get_bits(const Port& port, int lsb, int width) {
  const int inside = std::min(width, detail::port_bits<Port>() - lsb);
  return inside > 0 ? detail::field(port, lsb, inside) : 0;
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
      detail::set_field(port, static_cast<int>(i) * width, width,
                        static_cast<uint64_t>(lanes[i]) & mask);
    }
  }
}

// Reads `count` signed lanes of `width` bits from `port`; lanes past the port read as 0.
template <class Port>
std::vector<int32_t> unpack_lanes(const Port& port, int count, int width) {
  std::vector<int32_t> lanes(count);
  if (width == 16 && count * 16 <= detail::port_bits<Port>()) {  // the TPU's lanes: two a word
    for (int i = 0; i < count; ++i) {
      lanes[i] = static_cast<int16_t>(detail::get_word(port, i / 2) >> (16 * (i % 2)));
    }
    return lanes;
  }
  for (int i = 0; i < count; ++i) {
    uint64_t v = get_bits(port, i * width, width);
    if (v >> (width - 1)) v |= ~uint64_t{0} << width;  // sign-extend
    lanes[i] = static_cast<int32_t>(static_cast<int64_t>(v));
  }
  return lanes;
}

}  // namespace tpu::tb
