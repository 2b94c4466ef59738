// Program images on disk: binary (64-bit words, little-endian, back to back) and hex (one
// 16-digit word per line, what $readmemh reads). Shared by tpu-as, tpu-dis and the tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tpu::assembler {

std::string to_binary(const std::vector<uint64_t>& words);
std::string to_hex(const std::vector<uint64_t>& words);

// The words of an image; `name` only names it in errors. Throws std::runtime_error with
// "name: ..." (binary: a size that is not a multiple of 8; hex: "name:line: ..." for a token
// that is not a hex word of at most 16 digits). Hex images may hold blank lines and `//`
// comments, and several words per line.
std::vector<uint64_t> from_binary(const std::string& bytes, const std::string& name);
std::vector<uint64_t> from_hex(const std::string& text, const std::string& name);

// The whole of file `path`, or of standard input when `path` is "-"; nothing when the file
// cannot be opened. Both command-line tools read their input this way.
std::optional<std::string> read_input(const std::string& path);

}  // namespace tpu::assembler
