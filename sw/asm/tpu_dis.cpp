// tpu-dis: prints the assembly of a TPU program image; tpu-as turns it back into the same image.
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sw/asm/assembler.hpp"
#include "sw/asm/cli.hpp"
#include "sw/asm/image.hpp"

int main(int argc, char** argv) {
  std::string input;
  std::string output;
  bool hex = false;

  CLI::App app{"Prints the assembly (docs/assembly.md) of a TPU program image; tpu-as assembles "
               "the text back to the identical image. A word that is not a legal instruction "
               "prints as '.word 0x...'.",
               "tpu-dis"};
  app.add_option("INPUT", input, "the image ('-': standard input)")->required();
  app.add_option("-o", output, "write the text to FILE instead of standard output")
      ->option_text("FILE")
      ->check(tpu::assembler::kNonEmpty);
  app.add_flag("--hex", hex,
               "INPUT holds one hex word per line ($readmemh); default: binary (little-endian "
               "64-bit words)");
  app.footer("Exit status: 0 done, 1 an unreadable or malformed image, 2 a bad command line.");
  if (const std::optional<int> rc = tpu::assembler::parse_command_line(app, argc, argv)) {
    return *rc;
  }

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
