// tpu-dis: prints the assembly of a TPU program image; tpu-as turns it back into the same image.
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sw/asm/assembler.hpp"
#include "sw/asm/image.hpp"

namespace {

constexpr const char* kUsage =
    "usage: tpu-dis [options] INPUT\n"
    "Prints the assembly (docs/assembly.md) of a TPU program image; tpu-as assembles the\n"
    "text back to the identical image. A word that is not a legal instruction prints as\n"
    "'.word 0x...'.\n"
    "options:\n"
    "  -o FILE     write the text to FILE instead of standard output\n"
    "  --hex       INPUT holds one hex word per line ($readmemh); default: binary\n"
    "              (little-endian 64-bit words)\n"
    "  -h, --help  print this help and exit\n"
    "INPUT '-' reads standard input. Exit status: 0 done, 1 an unreadable or malformed\n"
    "image, 2 bad arguments.\n";

int usage_error(const std::string& why) {
  std::cerr << "tpu-dis: " << why << "\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string input;
  std::string output;
  bool hex = false;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--hex") {
      hex = true;
    } else if (arg == "-o") {
      if (a + 1 >= argc || std::string(argv[a + 1]).empty()) {
        return usage_error("-o needs a file name");
      }
      output = argv[++a];
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage_error("unknown option '" + arg + "'");
    } else if (!input.empty()) {
      return usage_error("more than one input file ('" + input + "', '" + arg + "')");
    } else {
      input = arg;
    }
  }
  if (input.empty()) return usage_error("no input file");

  const std::optional<std::string> read = tpu::assembler::read_input(input);
  if (!read) {
    std::cerr << "tpu-dis: cannot open '" << input << "'\n";
    return 1;
  }
  const std::string& bytes = *read;

  std::vector<uint64_t> words;
  try {
    const std::string name = input == "-" ? "<stdin>" : input;
    words = hex ? tpu::assembler::from_hex(bytes, name) : tpu::assembler::from_binary(bytes, name);
  } catch (const std::runtime_error& e) {
    std::cerr << "tpu-dis: " << e.what() << "\n";
    return 1;
  }

  const std::string text = tpu::assembler::disassemble(words);
  if (output.empty() || output == "-") {
    std::cout << text;
  } else {
    std::ofstream out(output, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      std::cerr << "tpu-dis: cannot write '" << output << "'\n";
      return 1;
    }
  }
  return 0;
}
