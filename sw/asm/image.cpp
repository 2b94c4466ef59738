#include "sw/asm/image.hpp"

#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>

namespace tpu::assembler {

std::string to_binary(const std::vector<uint64_t>& words) {
  std::string out;
  out.reserve(words.size() * 8);
  for (const uint64_t w : words) {
    for (int b = 0; b < 8; ++b) out.push_back(static_cast<char>((w >> (8 * b)) & 0xFF));
  }
  return out;
}

std::string to_hex(const std::vector<uint64_t>& words) {
  std::string out;
  char buf[24];
  for (const uint64_t w : words) {
    std::snprintf(buf, sizeof buf, "%016" PRIx64 "\n", w);
    out += buf;
  }
  return out;
}

std::vector<uint64_t> from_binary(const std::string& bytes, const std::string& name) {
  if (bytes.size() % 8 != 0) {
    throw std::runtime_error(name + ": size " + std::to_string(bytes.size()) +
                             " bytes is not a whole number of 64-bit words");
  }
  std::vector<uint64_t> words(bytes.size() / 8);
  for (size_t i = 0; i < bytes.size(); ++i) {
    words[i / 8] |= uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * (i % 8));
  }
  return words;
}

std::vector<uint64_t> from_hex(const std::string& text, const std::string& name) {
  std::vector<uint64_t> words;
  int line = 1;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else {
      const size_t start = i;
      while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
      const std::string token = text.substr(start, i - start);
      const bool hex_digits =
          token.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
      if (!hex_digits || token.size() > 16) {
        throw std::runtime_error(name + ":" + std::to_string(line) + ": '" + token +
                                 "' is not a hex word of at most 16 digits");
      }
      words.push_back(std::stoull(token, nullptr, 16));
    }
  }
  return words;
}

std::optional<std::string> read_input(const std::string& path) {
  if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace tpu::assembler
