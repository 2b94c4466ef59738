// tpu-as: assembles a TPU program (docs/assembly.md) into an image of 64-bit words.
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "sw/asm/assembler.hpp"
#include "sw/asm/cli.hpp"
#include "sw/asm/image.hpp"

namespace {

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
  int dim = 0;
  int depth = 0;

  CLI::App app{"Assembles a TPU program (docs/assembly.md) into 64-bit instruction words.",
               "tpu-as"};
  app.add_option("INPUT", input, "the program ('-': standard input)")->required();
  app.add_option("-o", output,
                 "write the image to FILE ('-': standard output); default: INPUT with its "
                 "extension replaced by .bin (.hex with --hex)")
      ->option_text("FILE")
      ->check(tpu::assembler::kNonEmpty);
  app.add_flag("--hex", hex,
               "write one 16-digit hex word per line ($readmemh) instead of binary "
               "(little-endian 64-bit words)");
  CLI::Option* dim_opt =
      app.add_option("--dim", dim, "with --depth: also reject what the TPU's decode would, for "
                                   "ArrayDim N")
          ->option_text("N")
          ->check(CLI::Range(1, std::numeric_limits<int>::max()));
  CLI::Option* depth_opt =
      app.add_option("--depth", depth, "with --dim: ... and a buffer of D rows")
          ->option_text("D")
          ->check(CLI::Range(1, std::numeric_limits<int>::max()));
  dim_opt->needs(depth_opt);
  depth_opt->needs(dim_opt);
  app.add_flag("--symbols", symbols,
               "print every label, .equ and .buf name and its value on standard output");
  app.footer(
      "Exit status: 0 assembled, 1 errors in the program or its files (each printed as "
      "file:line:col: message), 2 a bad command line.");
  if (const std::optional<int> rc = tpu::assembler::parse_command_line(app, argc, argv)) {
    return *rc;
  }
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
    if (*dim_opt) limits = tpu::assembler::Limits{dim, depth};
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
