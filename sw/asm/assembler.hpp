// The TPU's assembler and disassembler (docs/assembly.md). The bit layout is golden/isa.hpp's:
// this layer only turns text into tpu::isa::Instr values and back, and encode()/decode() do the
// rest, so the two cannot disagree about where a field lives.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tpu::assembler {

// One error, at `file:line:col` (1-based; col counts bytes, a tab is one column).
struct Diagnostic {
  std::string file;
  int line = 0;
  int col = 0;
  std::string message;

  // "file:line:col: message".
  std::string str() const;
  bool operator==(const Diagnostic&) const = default;
};

// What assemble() throws: every error it found, in source order. The accessors and what()
// describe the first one; diagnostics() lists them all.
class AsmError : public std::runtime_error {
 public:
  explicit AsmError(std::vector<Diagnostic> diagnostics);

  const std::string& file() const { return diagnostics_.front().file; }
  int line() const { return diagnostics_.front().line; }
  int col() const { return diagnostics_.front().col; }
  const std::string& message() const { return diagnostics_.front().message; }
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// An assembled program: the instruction words in order (word i is loaded at imem[i]), every
// label, .equ and .buf name with its value, and the source line each word came from.
struct Program {
  std::vector<uint64_t> words;
  std::map<std::string, int64_t> symbols;
  std::vector<int> lines;
};

// The hardware's sizes. Given them, assemble() also rejects what the TPU's decode would
// (docs/isa.md, "Errors"): fields against ArrayDim, rows outside a buffer of `depth` rows, and
// the loop structure.
struct Limits {
  int dim = 0;    // ArrayDim, >= 1
  int depth = 0;  // buffer rows, >= 1
};

// Assembles `source`; `filename` only names it in errors. Throws AsmError.
Program assemble(const std::string& source, const std::string& filename,
                 const std::optional<Limits>& limits = std::nullopt);

// One word as one line of assembly (no newline): an instruction, or `.word 0x...` when decode()
// rejects the word. assemble() of the result gives the word back, bit for bit.
std::string disassemble_one(uint64_t word);

// The exact decimal of the Q8.8 value `raw` ("0.25", "-1.5", "3.0"; never rounded): how the
// disassembler prints `lr`.
std::string fixed_to_text(int32_t raw);

// A listing: one line per word, loop bodies indented by two spaces per level. It re-assembles
// to `words` exactly.
std::string disassemble(const std::vector<uint64_t>& words);

}  // namespace tpu::assembler
