// tpu-as: assembles a TPU program (docs/assembly.md) into an image of 64-bit words.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "sw/asm/assembler.hpp"
#include "sw/asm/image.hpp"

namespace {

constexpr const char* kUsage =
    "usage: tpu-as [options] INPUT.s\n"
    "Assembles a TPU program (docs/assembly.md) into 64-bit instruction words.\n"
    "options:\n"
    "  -o FILE     write the image to FILE ('-': standard output); default: INPUT with its\n"
    "              extension replaced by .bin (.hex with --hex)\n"
    "  --hex       write one 16-digit hex word per line ($readmemh) instead of binary\n"
    "              (little-endian 64-bit words)\n"
    "  --dim N     with --depth: also reject what the TPU's decode would, for ArrayDim N\n"
    "  --depth D   with --dim: ... and a buffer of D rows\n"
    "  --symbols   print every label, .equ and .buf name and its value on standard output\n"
    "  -h, --help  print this help and exit\n"
    "INPUT '-' reads standard input. Exit status: 0 assembled, 1 errors in the program or\n"
    "its files (each printed as file:line:col: message), 2 bad arguments.\n";

int usage_error(const std::string& why) {
  std::cerr << "tpu-as: " << why << "\n" << kUsage;
  return 2;
}

std::optional<int> positive(const std::string& s) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  const int v = std::stoi(s);
  return v >= 1 ? std::optional<int>(v) : std::nullopt;
}

std::string default_output(const std::string& input, bool hex) {
  const std::string ext = hex ? ".hex" : ".bin";
  if (input == "-") return "a" + ext;
  const size_t slash = input.find_last_of('/');
  const size_t dot = input.find_last_of('.');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash + 1);
  return (has_ext ? input.substr(0, dot) : input) + ext;
}

}  // namespace

int main(int argc, char** argv) {
  std::string input;
  std::string output;
  bool hex = false;
  bool symbols = false;
  std::optional<int> dim;
  std::optional<int> depth;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    const auto next = [&]() -> std::optional<std::string> {
      if (a + 1 >= argc) return std::nullopt;
      return std::string(argv[++a]);
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--hex") {
      hex = true;
    } else if (arg == "--symbols") {
      symbols = true;
    } else if (arg == "-o") {
      const auto v = next();
      if (!v || v->empty()) return usage_error("-o needs a file name");
      output = *v;
    } else if (arg == "--dim" || arg == "--depth") {
      const auto v = next();
      const std::optional<int> n = v ? positive(*v) : std::nullopt;
      if (!n) return usage_error(arg + " needs a positive whole number");
      (arg == "--dim" ? dim : depth) = n;
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage_error("unknown option '" + arg + "'");
    } else if (!input.empty()) {
      return usage_error("more than one input file ('" + input + "', '" + arg + "')");
    } else {
      input = arg;
    }
  }
  if (input.empty()) return usage_error("no input file");
  if (dim.has_value() != depth.has_value()) return usage_error("--dim and --depth go together");
  if (output.empty()) output = default_output(input, hex);

  const std::optional<std::string> read = tpu::assembler::read_input(input);
  if (!read) {
    std::cerr << "tpu-as: cannot open '" << input << "'\n";
    return 1;
  }
  const std::string& source = *read;

  tpu::assembler::Program program;
  try {
    std::optional<tpu::assembler::Limits> limits;
    if (dim) limits = tpu::assembler::Limits{*dim, *depth};
    program = tpu::assembler::assemble(source, input == "-" ? "<stdin>" : input, limits);
  } catch (const tpu::assembler::AsmError& e) {
    for (const auto& d : e.diagnostics()) std::cerr << d.str() << "\n";
    return 1;
  }

  const std::string image =
      hex ? tpu::assembler::to_hex(program.words) : tpu::assembler::to_binary(program.words);
  if (output == "-") {
    std::cout.write(image.data(), static_cast<std::streamsize>(image.size()));
  } else {
    std::ofstream out(output, std::ios::binary | std::ios::trunc);
    out.write(image.data(), static_cast<std::streamsize>(image.size()));
    out.close();
    if (!out) {
      std::cerr << "tpu-as: cannot write '" << output << "'\n";
      return 1;
    }
  }
  if (symbols) {
    for (const auto& [name, value] : program.symbols) std::cout << name << " = " << value << "\n";
  }
  return 0;
}
