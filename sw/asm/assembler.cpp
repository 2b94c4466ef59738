// The assembler of docs/assembly.md. Two passes over the source: the first splits it into
// statements, gives every label its word index and notes where each .equ/.buf name is defined;
// the second evaluates operands in order, builds a tpu::isa::Instr per instruction and lets
// golden/isa.hpp's encode() place the fields.
#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "golden/fixed_point.hpp"
#include "golden/isa.hpp"
#include "golden/vpu_model.hpp"
#include "sw/asm/assembler.hpp"

namespace tpu::assembler {

std::string Diagnostic::str() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + message;
}

AsmError::AsmError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(diagnostics.empty() ? "assembly failed" : diagnostics.front().str()),
      diagnostics_(std::move(diagnostics)) {
  if (diagnostics_.empty()) diagnostics_.push_back({"", 0, 0, "assembly failed"});
}

namespace {

// Expression values: wide enough for any 64-bit word and for sums of a few of them.
__extension__ typedef __int128 Wide;  // `using` with __int128 trips -Wpedantic

std::string wide_str(Wide v) {
  if (v == 0) return "0";
  const bool neg = v < 0;
  std::string s;
  while (v != 0) {
    const int d = static_cast<int>(v % 10);
    s.push_back(static_cast<char>('0' + (neg ? -d : d)));
    v /= 10;
  }
  if (neg) s.push_back('-');
  std::reverse(s.begin(), s.end());
  return s;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// The Q8.8 format of `lr` (DataWidth 16, FracBits 8; docs/architecture.md "Number format").
constexpr int kLrFracBits = golden::kQ8_8.frac_bits;
// docs/isa.md: "loops nest 4 deep".
constexpr int kMaxLoopDepth = 4;

// What goes wrong while reading one statement; becomes a Diagnostic on the statement's line.
struct Failure {
  int col;
  std::string message;
};
// A statement that uses a name whose own definition failed: that failure is already reported.
struct Silent {};

// ---- lexer ---------------------------------------------------------------------------------

enum class Tok {
  kName,
  kNumber,
  kDirective,
  kComma,
  kEquals,
  kPlus,
  kMinus,
  kLParen,
  kRParen,
  kColon
};

struct Token {
  Tok kind = Tok::kName;
  std::string text;       // as written
  int col = 0;            // its first column
  int end = 0;            // the column just past it
  Wide value = 0;         // a number: its value (a fixed-point number: its integer part)
  bool fraction = false;  // a decimal number with a '.': the digits after it are in `frac`
  std::string frac;
  bool raw_q = false;  // a number with the suffix q: raw Q8.8 bits
};

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The address register `t` names (a0..a3, any case), or -1: those names are reserved.
int register_of(const Token& t) {
  if (t.kind != Tok::kName || t.text.size() != 2 || (t.text[0] != 'a' && t.text[0] != 'A')) {
    return -1;
  }
  const int r = t.text[1] - '0';
  return r >= 0 && r < isa::kAddrRegs ? r : -1;
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 99;
}

// Appends the tokens of `line` to `out`; throws Failure at the first character it cannot read,
// leaving the tokens before it in `out`.
void lex(const std::string& line, std::vector<Token>& out) {
  const size_t n = line.size();
  size_t i = 0;
  const auto col_of = [](size_t k) { return static_cast<int>(k) + 1; };
  while (i < n) {
    const char c = line[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      ++i;
      continue;
    }
    if (c == ';' || c == '#') break;
    const size_t start = i;
    Token t;
    t.col = col_of(i);
    if (is_name_start(c)) {
      while (i < n && is_name_char(line[i])) ++i;
      t.kind = Tok::kName;
    } else if (c == '.' && i + 1 < n && is_name_start(line[i + 1])) {
      ++i;
      while (i < n && is_name_char(line[i])) ++i;
      t.kind = Tok::kDirective;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      t.kind = Tok::kNumber;
      int base = 10;
      if (c == '0' && i + 1 < n && (line[i + 1] == 'x' || line[i + 1] == 'X')) {
        base = 16;
        i += 2;
      } else if (c == '0' && i + 1 < n && (line[i + 1] == 'b' || line[i + 1] == 'B')) {
        base = 2;
        i += 2;
      }
      const size_t digits = i;
      bool too_big = false;
      while (i < n && digit_value(line[i]) < base) {
        t.value = t.value * base + digit_value(line[i]);
        if (t.value > Wide{std::numeric_limits<uint64_t>::max()}) {
          too_big = true;
          t.value = 0;
        }
        ++i;
      }
      bool bad = i == digits;
      if (!bad && base == 10 && i + 1 < n && line[i] == '.' &&
          std::isdigit(static_cast<unsigned char>(line[i + 1]))) {
        const size_t frac = ++i;
        while (i < n && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
        t.fraction = true;
        t.frac = line.substr(frac, i - frac);
      }
      if (!bad && i < n && (line[i] == 'q' || line[i] == 'Q')) {
        t.raw_q = true;
        ++i;
      }
      if (i < n && (is_name_char(line[i]) || line[i] == '.')) bad = true;
      if (bad) {
        while (i < n && (is_name_char(line[i]) || line[i] == '.')) ++i;
        throw Failure{t.col, "malformed number " + quoted(line.substr(start, i - start))};
      }
      if (too_big) {
        throw Failure{t.col,
                      "number " + quoted(line.substr(start, i - start)) + " does not fit 64 bits"};
      }
      if (t.fraction && t.raw_q) {
        throw Failure{t.col, "raw Q8.8 number " + quoted(line.substr(start, i - start)) +
                                 " must be a whole number"};
      }
    } else {
      static const std::string kPunct = ",=+-():";
      static const Tok kKinds[] = {Tok::kComma,  Tok::kEquals, Tok::kPlus, Tok::kMinus,
                                   Tok::kLParen, Tok::kRParen, Tok::kColon};
      const size_t k = kPunct.find(c);
      if (k == std::string::npos) {
        std::string shown(1, c);
        if (!std::isprint(static_cast<unsigned char>(c))) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(c));
          shown = buf;
        }
        throw Failure{t.col, "unexpected character " + quoted(shown)};
      }
      t.kind = kKinds[k];
      ++i;
    }
    t.text = line.substr(start, i - start);
    t.end = col_of(i);
    out.push_back(std::move(t));
  }
}

// ---- statements and instruction forms ------------------------------------------------------

struct Statement {
  int line = 0;
  std::vector<Token> toks;
  size_t start = 0;     // the first token after the labels
  int end = 1;          // the column just past the last token
  int slot = -1;        // the index of the word it emits, if it emits one
  bool broken = false;  // pass 1 already reported it
};

// One instruction form: positional operands, then `key=value` operands in any order and at most
// one flag. The operand names are the field names errors use.
struct Form {
  const char* mnemonic;
  isa::Opcode op;
  std::vector<std::string> positional;
  std::vector<std::string> keys;  // allowed keys
  bool keys_required;             // every key must be given
  std::vector<std::string> flags;  // the bare words the form accepts
};

const std::vector<Form>& forms() {
  using isa::Opcode;
  static const std::vector<Form> kForms = {
      {"nop", Opcode::kNop, {}, {}, false, {}},
      {"halt", Opcode::kHalt, {}, {}, false, {}},
      {"sync", Opcode::kSync, {}, {}, false, {}},
      {"loop", Opcode::kLoop, {"count"}, {}, false, {}},
      {"endl", Opcode::kEndl, {}, {}, false, {}},
      {"seed", Opcode::kSeed, {"seed"}, {}, false, {}},
      {"vpu", Opcode::kVpu, {}, {"mask", "act", "leak", "batch", "src", "bias", "side"}, false, {}},
      {"loadw", Opcode::kLoadw, {"addr"}, {"rows"}, true, {"t"}},
      {"matmul", Opcode::kMatmul, {"act", "out"}, {"rows", "k", "n"}, true, {"t", "acc"}},
      {"sgd", Opcode::kSgd, {"theta", "grad"}, {"count", "lr"}, true, {"stochastic"}},
      {"seta", Opcode::kSeta, {"reg", "imm"}, {}, false, {}},
      {"adda", Opcode::kAdda, {"reg", "imm"}, {}, false, {}},
  };
  return kForms;
}

const Form* find_form(const std::string& mnemonic) {
  const std::string m = lower(mnemonic);
  for (const Form& f : forms()) {
    if (m == f.mnemonic) return &f;
  }
  return nullptr;
}

// Tokens [begin, end) of one operand's value; `col` is where the value is (or should be).
struct Span {
  size_t begin = 0;
  size_t end = 0;
  int col = 0;
};

struct Operands {
  std::map<std::string, Span> values;  // positional operands and keys, by name
  std::map<std::string, int> flags;    // flag -> column
};

// The vpu_cfg_t fields' largest values, from golden/isa.hpp's packing.
const isa::VpuCfgFields kCfgMax = isa::unpack_cfg(~0u);

const std::pair<const char*, uint32_t> kMaskBits[] = {
    {"bias", golden::kMaskBias},
    {"act", golden::kMaskAct},
    {"loss", golden::kMaskLoss},
    {"deriv", golden::kMaskDeriv},
};
const std::pair<const char*, uint32_t> kActFns[] = {
    {"identity", golden::kActIdentity},
    {"relu", golden::kActRelu},
    {"leaky", golden::kActLeakyRelu},
};

enum class SymKind { kLabel, kConstant, kBuffer };

struct Symbol {
  SymKind kind = SymKind::kLabel;
  int line = 0;
  bool known = false;     // has its value (labels: after pass 1; others: once defined)
  bool poisoned = false;  // its definition failed
  Wide value = 0;
};

// The TPU's decode checks, run when Limits are given: which operand to blame, by field name.
using Columns = std::map<std::string, int>;

class Assembler {
 public:
  Assembler(std::string file, const std::optional<Limits>& limits)
      : file_(std::move(file)), limits_(limits) {}

  Program run(const std::string& source) {
    read_statements(source);
    pass1();
    program_.words.assign(static_cast<size_t>(slots_), 0);
    program_.lines.assign(static_cast<size_t>(slots_), 0);
    for (Statement& s : statements_) {
      if (s.broken || s.start >= s.toks.size()) continue;
      try {
        statement(s);
      } catch (const Failure& f) {
        error(s.line, f.col, f.message);
        poison(s);
      } catch (const Silent&) {
        poison(s);
      }
    }
    if (!diagnostics_.empty()) {
      std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                       [](const Diagnostic& a, const Diagnostic& b) {
                         return a.line != b.line ? a.line < b.line : a.col < b.col;
                       });
      throw AsmError(diagnostics_);
    }
    for (const auto& [name, sym] : symbols_) {
      if (sym.known) program_.symbols[name] = static_cast<int64_t>(sym.value);
    }
    return std::move(program_);
  }

 private:
  void error(int line, int col, std::string message) {
    diagnostics_.push_back({file_, line, col, std::move(message)});
  }

  void read_statements(const std::string& source) {
    size_t pos = 0;
    int line = 0;
    while (pos <= source.size()) {
      size_t nl = source.find('\n', pos);
      if (nl == std::string::npos) nl = source.size();
      Statement s;
      s.line = ++line;
      try {
        lex(source.substr(pos, nl - pos), s.toks);
      } catch (const Failure& f) {
        error(s.line, f.col, f.message);
        s.broken = true;
      }
      s.end = s.toks.empty() ? 1 : s.toks.back().end;
      statements_.push_back(std::move(s));
      pos = nl + 1;
    }
  }

  // Labels and the word index of every statement that emits one; where each name is defined.
  void pass1() {
    for (Statement& s : statements_) {
      const auto& t = s.toks;
      size_t i = 0;
      while (i + 1 < t.size() && t[i].kind == Tok::kName && t[i + 1].kind == Tok::kColon) {
        if (register_of(t[i]) >= 0) {
          if (!s.broken) error(s.line, t[i].col, reserved(t[i]));
        } else {
          define(t[i], s.line, SymKind::kLabel, slots_);
        }
        i += 2;
      }
      s.start = i;
      if (i >= t.size()) continue;
      if (t[i].kind == Tok::kDirective) {
        const std::string d = lower(t[i].text);
        if (d == ".word") {
          s.slot = slots_++;
        } else if (d == ".equ" || d == ".buf") {
          if (i + 1 < t.size() && register_of(t[i + 1]) >= 0) {
            if (!s.broken) error(s.line, t[i + 1].col, reserved(t[i + 1]));
            s.broken = true;
          } else if (i + 1 < t.size() && t[i + 1].kind == Tok::kName) {
            define(t[i + 1], s.line, d == ".equ" ? SymKind::kConstant : SymKind::kBuffer, 0);
          }
        } else if (d != ".org") {
          if (!s.broken) error(s.line, t[i].col, "unknown directive " + quoted(t[i].text));
          s.broken = true;
        }
      } else if (t[i].kind == Tok::kName) {
        // An unknown mnemonic still takes a word, so the labels after it keep their values.
        s.slot = slots_++;
        if (find_form(t[i].text) == nullptr && !s.broken) {
          error(s.line, t[i].col, "unknown mnemonic " + quoted(t[i].text));
          s.broken = true;
        }
      } else if (!s.broken) {
        error(s.line, t[i].col, "expected a mnemonic or directive, found " + quoted(t[i].text));
        s.broken = true;
      }
    }
  }

  static std::string reserved(const Token& name) {
    return quoted(name.text) + " is an address register and cannot be defined";
  }

  void define(const Token& name, int line, SymKind kind, Wide value) {
    const auto [it, fresh] = symbols_.try_emplace(name.text);
    if (!fresh) {
      error(line, name.col,
            std::string(kind == SymKind::kLabel ? "duplicate label " : "duplicate name ") +
                quoted(name.text) + " (first defined on line " + std::to_string(it->second.line) +
                ")");
      return;
    }
    it->second.kind = kind;
    it->second.line = line;
    it->second.known = kind == SymKind::kLabel;
    it->second.value = value;
  }

  // A failed .equ/.buf: its name must not produce a second error at every use.
  void poison(const Statement& s) {
    const auto& t = s.toks;
    if (t[s.start].kind != Tok::kDirective || s.start + 1 >= t.size()) return;
    const auto it = symbols_.find(t[s.start + 1].text);
    if (it != symbols_.end() && it->second.line == s.line && it->second.kind != SymKind::kLabel) {
      it->second.poisoned = true;
    }
  }

  // ---- expressions ----

  // A walk over the tokens [pos, end) of one statement.
  struct Cursor {
    const Statement* s;
    size_t pos;
    size_t end;
    bool at_end() const { return pos >= end; }
    const Token& tok() const { return s->toks[pos]; }
    // Where something missing should have been: the token found instead, or the line's end.
    int here() const { return pos < s->toks.size() ? s->toks[pos].col : s->end; }
  };

  Wide resolve(const Token& t) {
    const auto it = symbols_.find(t.text);
    if (it == symbols_.end()) throw Failure{t.col, "undefined name " + quoted(t.text)};
    if (it->second.poisoned) throw Silent{};
    if (!it->second.known) {
      throw Failure{t.col, "name " + quoted(t.text) + " is used before its definition on line " +
                               std::to_string(it->second.line)};
    }
    return it->second.value;
  }

  // The address register an operand's expression holds (docs/assembly.md, "Address
  // registers"): `col` 0 while it holds none.
  struct RegUse {
    int reg = 0;
    int col = 0;
    std::string text;
  };

  // `neg`: the term's value is subtracted (an odd number of minus signs apply to it).
  Wide primary(Cursor& c, bool neg) {
    if (c.at_end()) {
      throw Failure{c.here(),
                    "expected a number or name after " + quoted(c.s->toks[c.pos - 1].text)};
    }
    const Token& t = c.tok();
    switch (t.kind) {
      case Tok::kNumber:
        if (t.fraction) {
          throw Failure{t.col, "fixed-point number " + quoted(t.text) +
                                   " is allowed only as the whole value of 'lr'"};
        }
        if (t.raw_q) {
          throw Failure{t.col, "raw Q8.8 number " + quoted(t.text) +
                                   " is allowed only as the whole value of 'lr'"};
        }
        ++c.pos;
        return t.value;
      case Tok::kName: {
        ++c.pos;
        const int r = register_of(t);
        if (r < 0) return resolve(t);
        if (reg_use_ == nullptr) {
          throw Failure{t.col, "address register " + quoted(t.text) +
                                   " is allowed only in a buffer-row operand"};
        }
        if (reg_use_->col != 0) {
          throw Failure{t.col, "only one address register per operand: " + quoted(t.text) +
                                   " after " + quoted(reg_use_->text)};
        }
        if (neg) {
          throw Failure{t.col,
                        "address register " + quoted(t.text) + " must be added, not subtracted"};
        }
        *reg_use_ = {r, t.col, t.text};
        return 0;
      }
      case Tok::kLParen: {
        ++c.pos;
        const Wide v = expr(c, neg);
        if (c.at_end()) throw Failure{c.here(), "missing ')'"};
        if (c.tok().kind != Tok::kRParen) {
          throw Failure{c.tok().col, "expected ')', found " + quoted(c.tok().text)};
        }
        ++c.pos;
        return v;
      }
      default:
        throw Failure{t.col, "expected a number or name, found " + quoted(t.text)};
    }
  }

  Wide unary(Cursor& c, bool neg) {
    if (!c.at_end() && (c.tok().kind == Tok::kPlus || c.tok().kind == Tok::kMinus)) {
      const bool minus = c.tok().kind == Tok::kMinus;
      ++c.pos;
      const Wide v = unary(c, neg != minus);
      return minus ? -v : v;
    }
    return primary(c, neg);
  }

  Wide expr(Cursor& c, bool neg = false) {
    Wide v = unary(c, neg);
    while (!c.at_end() && (c.tok().kind == Tok::kPlus || c.tok().kind == Tok::kMinus)) {
      const bool minus = c.tok().kind == Tok::kMinus;
      ++c.pos;
      const Wide r = unary(c, neg != minus);
      v = minus ? v - r : v + r;
    }
    return v;
  }

  static void no_junk(const Cursor& c) {
    if (!c.at_end()) throw Failure{c.tok().col, "junk after operand: " + quoted(c.tok().text)};
  }

  // The value of a whole operand. With `use`, the operand may hold one address register,
  // which `use` receives (its value in the sum is 0); without, a register is an error.
  Wide value(const Statement& s, const Span& sp, RegUse* use = nullptr) {
    struct Restore {
      RegUse*& slot;
      ~Restore() { slot = nullptr; }
    } restore{reg_use_};
    reg_use_ = use;
    Cursor c{&s, sp.begin, sp.end};
    const Wide v = expr(c);
    no_junk(c);
    return v;
  }

  static Failure misfit(const Span& sp, Wide v, const std::string& name, int width) {
    return Failure{sp.col, "value " + wide_str(v) + " does not fit field " + quoted(name) + " (" +
                               std::to_string(width) + " bits)"};
  }

  // An unsigned field of `width` bits.
  uint32_t field(const Statement& s, const Operands& ops, const std::string& name, int width,
                 Columns& cols) {
    const Span& sp = ops.values.at(name);
    const Wide v = value(s, sp);
    if (v < 0 || v >= (Wide{1} << width)) throw misfit(sp, v, name, width);
    cols[name] = sp.col;
    return static_cast<uint32_t>(v);
  }

  // A buffer-row operand: the field (`width` bits) and the address register added to it.
  struct Row {
    uint32_t field = 0;
    uint32_t reg = 0;
  };
  Row row(const Statement& s, const Operands& ops, const std::string& name, int width,
          Columns& cols) {
    const Span& sp = ops.values.at(name);
    RegUse use;
    const Wide v = value(s, sp, &use);
    if (v < 0 || v >= (Wide{1} << width)) throw misfit(sp, v, name, width);
    cols[name] = sp.col;
    return {static_cast<uint32_t>(v), static_cast<uint32_t>(use.reg)};
  }

  // The register operand of seta/adda: one register name alone.
  static uint32_t register_operand(const Statement& s, const Span& sp, Columns& cols) {
    const Token& t = s.toks[sp.begin];
    const int r = register_of(t);
    if (r < 0) {
      throw Failure{t.col, "expected an address register (a0 to a3), found " + quoted(t.text)};
    }
    Cursor c{&s, sp.begin + 1, sp.end};
    no_junk(c);
    cols["reg"] = sp.col;
    return static_cast<uint32_t>(r);
  }

  // ---- operands ----

  Operands split(const Statement& s, const Form& form) {
    const auto& t = s.toks;
    std::vector<std::pair<size_t, size_t>> groups;
    if (s.start + 1 < t.size()) {
      size_t b = s.start + 1;
      for (size_t i = b; i <= t.size(); ++i) {
        if (i == t.size() || t[i].kind == Tok::kComma) {
          groups.emplace_back(b, i);
          b = i + 1;
        }
      }
    }
    const auto col_at = [&](size_t i) { return i < t.size() ? t[i].col : s.end; };
    const auto is_key = [&](const std::pair<size_t, size_t>& g) {
      return g.second - g.first >= 2 && t[g.first].kind == Tok::kName &&
             t[g.first + 1].kind == Tok::kEquals;
    };

    Operands ops;
    size_t g = 0;
    for (const std::string& name : form.positional) {
      if (g >= groups.size()) throw Failure{s.end, "missing operand " + quoted(name)};
      const auto [b, e] = groups[g++];
      if (b == e) throw Failure{col_at(e), "missing operand " + quoted(name)};
      if (is_key({b, e})) throw Failure{t[b].col, "missing operand " + quoted(name)};
      ops.values[name] = {b, e, t[b].col};
    }
    for (; g < groups.size(); ++g) {
      const auto [b, e] = groups[g];
      if (b == e) throw Failure{col_at(e), "missing operand after ','"};
      if (is_key(groups[g])) {
        const std::string key = lower(t[b].text);
        if (std::find(form.keys.begin(), form.keys.end(), key) == form.keys.end()) {
          throw Failure{t[b].col,
                        "unknown key " + quoted(t[b].text) + " for " + quoted(form.mnemonic)};
        }
        if (ops.values.count(key) != 0) throw Failure{t[b].col, "duplicate key " + quoted(key)};
        if (b + 2 == e) throw Failure{col_at(e), "missing value for " + quoted(key)};
        ops.values[key] = {b + 2, e, t[b + 2].col};
      } else if (e == b + 1 && t[b].kind == Tok::kName &&
                 std::find(form.flags.begin(), form.flags.end(), lower(t[b].text)) !=
                     form.flags.end()) {
        const std::string flag = lower(t[b].text);
        if (ops.flags.count(flag) != 0) throw Failure{t[b].col, "duplicate flag " + quoted(flag)};
        ops.flags[flag] = t[b].col;
      } else {
        throw Failure{t[b].col, "unexpected operand " + quoted(t[b].text)};
      }
    }
    if (form.keys_required) {
      for (const std::string& key : form.keys) {
        if (ops.values.count(key) == 0) throw Failure{s.end, "missing operand " + quoted(key)};
      }
    }
    return ops;
  }

  // mask=none | mask=bias+act+loss+deriv (any subset, any order).
  uint32_t mask(const Statement& s, const Span& sp) {
    const auto& t = s.toks;
    uint32_t m = 0;
    bool none = false;
    bool any = false;
    for (size_t i = sp.begin; i < sp.end; ++i) {
      if (i > sp.begin) {
        if (t[i].kind != Tok::kPlus)
          throw Failure{t[i].col, "junk after operand: " + quoted(t[i].text)};
        if (++i == sp.end) {
          throw Failure{Cursor{&s, i, sp.end}.here(), "expected a mask bit after '+'"};
        }
      }
      const std::string word = lower(t[i].text);
      uint32_t bit = 0;
      for (const auto& [name, value] : kMaskBits) {
        if (t[i].kind == Tok::kName && word == name) bit = value;
      }
      if (t[i].kind == Tok::kName && word == "none") {
        if (any) throw Failure{t[i].col, "'none' cannot be combined with mask bits"};
        none = true;
        continue;
      }
      if (bit == 0) {
        throw Failure{t[i].col, "unknown mask bit " + quoted(t[i].text) +
                                    " (expected bias, act, loss, deriv or none)"};
      }
      if (none) throw Failure{t[i].col, "'none' cannot be combined with mask bits"};
      if ((m & bit) != 0) throw Failure{t[i].col, "duplicate mask bit " + quoted(word)};
      m |= bit;
      any = true;
    }
    return m;
  }

  // act=identity|relu|leaky, or a number (3 is the reserved code decode rejects).
  uint32_t act_fn(const Statement& s, const Span& sp, Columns& cols) {
    const Token& t = s.toks[sp.begin];
    cols["act"] = sp.col;
    if (sp.end == sp.begin + 1 && t.kind == Tok::kName) {
      for (const auto& [name, code] : kActFns) {
        if (lower(t.text) == name) return code;
      }
      if (symbols_.count(t.text) == 0 && register_of(t) < 0) {
        throw Failure{
            t.col, "unknown activation " + quoted(t.text) + " (expected identity, relu or leaky)"};
      }
    }
    const Wide v = value(s, sp);
    const int width = std::bit_width(kCfgMax.act_fn);
    if (v < 0 || v >= (Wide{1} << width)) throw misfit(sp, v, "act", width);
    return static_cast<uint32_t>(v);
  }

  // src=z|s.
  static bool deriv_src(const Statement& s, const Span& sp) {
    const Token& t = s.toks[sp.begin];
    const std::string word = lower(t.text);
    if (t.kind != Tok::kName || (word != "z" && word != "s")) {
      throw Failure{t.col, "unknown derivative source " + quoted(t.text) + " (expected z or s)"};
    }
    Cursor c{&s, sp.begin + 1, sp.end};
    no_junk(c);
    return word == "s";
  }

  // lr: a fixed-point number (0.25, -1.5), raw Q8.8 bits with the suffix q (64q, -0x40q), or an
  // expression counted in whole units. Returns the Q8.8 value.
  int32_t learning_rate(const Statement& s, const Span& sp) {
    const auto& t = s.toks;
    const int width = isa::kSgdLr.width;
    const Wide half = Wide{1} << (width - 1);
    const auto does_not_fit = [&](const std::string& text) {
      return Failure{sp.col, "value " + text + " does not fit field 'lr' (Q8.8, " +
                                 fixed_to_text(static_cast<int32_t>(-half)) + " to " +
                                 fixed_to_text(static_cast<int32_t>(half - 1)) + ")"};
    };
    size_t p = sp.begin;
    bool neg = false;
    if (t[p].kind == Tok::kPlus || t[p].kind == Tok::kMinus) neg = t[p++].kind == Tok::kMinus;
    if (p + 1 == sp.end && t[p].kind == Tok::kNumber && (t[p].raw_q || t[p].fraction)) {
      const std::string text = (neg ? "-" : "") + t[p].text;
      if (t[p].raw_q) {
        // Raw bits: a signed value, or the 16-bit pattern of one.
        Wide v = neg ? -t[p].value : t[p].value;
        if (v < -half || v >= 2 * half) {
          throw Failure{sp.col, "value " + text + " does not fit field 'lr' (" +
                                    std::to_string(width) + " bits)"};
        }
        if (v >= half) v -= 2 * half;
        return static_cast<int32_t>(v);
      }
      // Exact decimal to Q8.8: multiply the fraction's digits by 2^F; the carry out is the
      // fraction's whole Q8.8 steps and the digits left over decide the rounding (to nearest,
      // ties away from zero: on the magnitude, ties go up).
      std::string digits = t[p].frac;
      unsigned carry = 0;
      for (size_t k = digits.size(); k-- > 0;) {
        const unsigned x = static_cast<unsigned>(digits[k] - '0') * (1u << kLrFracBits) + carry;
        digits[k] = static_cast<char>('0' + x % 10);
        carry = x / 10;
      }
      const Wide magnitude =
          (t[p].value << kLrFracBits) + carry + (!digits.empty() && digits[0] >= '5' ? 1 : 0);
      const Wide v = neg ? -magnitude : magnitude;
      if (v < -half || v >= half) throw does_not_fit(text);
      return static_cast<int32_t>(v);
    }
    const Wide v = value(s, sp);
    if (v < -(half >> kLrFracBits) || v >= (half >> kLrFracBits)) throw does_not_fit(wide_str(v));
    return static_cast<int32_t>(v * (Wide{1} << kLrFracBits));
  }

  // ---- statements ----

  void statement(Statement& s) {
    const Token& head = s.toks[s.start];
    if (head.kind == Tok::kDirective) {
      directive(s);
      return;
    }
    const Form& form = *find_form(head.text);
    const Operands ops = split(s, form);
    Columns cols;
    isa::Instr i;
    i.op = form.op;
    switch (form.op) {
      case isa::Opcode::kNop:
      case isa::Opcode::kHalt:
      case isa::Opcode::kSync:
      case isa::Opcode::kEndl:
        break;
      case isa::Opcode::kLoop:
        i.count = field(s, ops, "count", isa::kLoopCount.width, cols);
        break;
      case isa::Opcode::kSeed:
        i.seed = field(s, ops, "seed", isa::kSeed.width, cols);
        break;
      case isa::Opcode::kVpu: {
        isa::VpuCfgFields cfg;
        const auto has = [&](const char* key) { return ops.values.count(key) != 0; };
        if (has("mask")) cfg.mask = mask(s, ops.values.at("mask"));
        if (has("act")) cfg.act_fn = act_fn(s, ops.values.at("act"), cols);
        if (has("leak")) {
          cfg.leak_shift = field(s, ops, "leak", std::bit_width(kCfgMax.leak_shift), cols);
        }
        if (has("batch")) {
          cfg.batch_log2 = field(s, ops, "batch", std::bit_width(kCfgMax.batch_log2), cols);
        }
        if (has("src")) cfg.deriv_src = deriv_src(s, ops.values.at("src"));
        if (has("bias")) {
          const Row r = row(s, ops, "bias", isa::kVpuBias.width, cols);
          i.bias = r.field;
          i.bias_reg = r.reg;
        }
        if (has("side")) {
          const Row r = row(s, ops, "side", isa::kVpuSide.width, cols);
          i.side = r.field;
          i.side_reg = r.reg;
        }
        i.cfg = isa::pack_cfg(cfg);
        break;
      }
      case isa::Opcode::kLoadw: {
        const Row addr = row(s, ops, "addr", isa::kLoadwAddr.width, cols);
        i.addr = addr.field;
        i.addr_reg = addr.reg;
        i.rows = field(s, ops, "rows", isa::kLoadwRows.width, cols);
        i.t = ops.flags.count("t") != 0;
        break;
      }
      case isa::Opcode::kMatmul: {
        const Row act = row(s, ops, "act", isa::kMatmulAct.width, cols);
        const Row out = row(s, ops, "out", isa::kMatmulOut.width, cols);
        i.act = act.field;
        i.act_reg = act.reg;
        i.out = out.field;
        i.out_reg = out.reg;
        i.rows = field(s, ops, "rows", isa::kMatmulRows.width, cols);
        i.k = field(s, ops, "k", isa::kMatmulK.width, cols);
        i.n = field(s, ops, "n", isa::kMatmulN.width, cols);
        i.t = ops.flags.count("t") != 0;
        i.acc = ops.flags.count("acc") != 0;
        break;
      }
      case isa::Opcode::kSgd:
        i.theta = field(s, ops, "theta", isa::kSgdTheta.width, cols);
        i.grad = field(s, ops, "grad", isa::kSgdGrad.width, cols);
        i.count = field(s, ops, "count", isa::kSgdCount.width, cols);
        i.lr = learning_rate(s, ops.values.at("lr"));
        i.stochastic = ops.flags.count("stochastic") != 0;
        break;
      case isa::Opcode::kSeta:
      case isa::Opcode::kAdda: {
        i.reg = register_operand(s, ops.values.at("reg"), cols);
        const Span& sp = ops.values.at("imm");
        const Wide v = value(s, sp);
        const int width = isa::kAregImm.width;
        const Wide half = Wide{1} << (width - 1);
        if (form.op == isa::Opcode::kSeta && (v < 0 || v >= 2 * half)) {
          throw misfit(sp, v, "imm", width);
        }
        if (form.op == isa::Opcode::kAdda && (v < -half || v >= half)) {
          throw Failure{sp.col, "value " + wide_str(v) + " does not fit field 'imm' (" +
                                    std::to_string(width) + " bits signed, " + wide_str(-half) +
                                    " to " + wide_str(half - 1) + ")"};
        }
        i.imm = static_cast<int32_t>(v);
        cols["imm"] = sp.col;
        break;
      }
    }
    uint64_t word = 0;
    try {
      word = isa::encode(i);
    } catch (const std::invalid_argument& e) {
      throw Failure{head.col, e.what()};  // unreachable: every field was checked above
    }
    if (limits_) check_decode(i, cols, head.col, s.line);
    emit(s, word);
  }

  void emit(const Statement& s, uint64_t word) {
    program_.words[static_cast<size_t>(s.slot)] = word;
    program_.lines[static_cast<size_t>(s.slot)] = s.line;
  }

  void directive(Statement& s) {
    const auto& t = s.toks;
    const Token& head = t[s.start];
    const std::string d = lower(head.text);
    const size_t first = s.start + 1;
    if (d == ".word" || d == ".org") {
      if (first >= t.size()) throw Failure{s.end, "missing operand after " + quoted(d)};
      const Span sp{first, t.size(), t[first].col};
      const Wide v = value(s, sp);
      if (d == ".org") {
        const int width = isa::kLoadwAddr.width;
        if (v < 0 || v >= (Wide{1} << width)) {
          throw Failure{sp.col, "value " + wide_str(v) + " does not fit '.org' (" +
                                    std::to_string(width) + " bits)"};
        }
        next_row_ = v;
        return;
      }
      if (v < 0 || v > Wide{std::numeric_limits<uint64_t>::max()}) {
        throw Failure{sp.col, "value " + wide_str(v) + " does not fit a 64-bit word"};
      }
      const auto word = static_cast<uint64_t>(v);
      if (limits_) {
        const auto instr = isa::decode(word);
        if (!instr)
          throw Failure{sp.col, disassemble_one(word).substr(6) + " is not a legal instruction"};
        check_decode(*instr, {}, sp.col, s.line);
      }
      emit(s, word);
      return;
    }
    // .equ NAME, EXPR  and  .buf NAME, ROWS
    if (first >= t.size()) throw Failure{s.end, "missing name after " + quoted(d)};
    const Token& name = t[first];
    if (name.kind != Tok::kName)
      throw Failure{name.col, "expected a name, found " + quoted(name.text)};
    if (first + 1 >= t.size()) throw Failure{s.end, "expected ',' after " + quoted(name.text)};
    if (t[first + 1].kind != Tok::kComma) {
      throw Failure{t[first + 1].col, "expected ',' after " + quoted(name.text) + ", found " +
                                          quoted(t[first + 1].text)};
    }
    const size_t vb = first + 2;
    if (vb >= t.size()) throw Failure{s.end, "missing value for " + quoted(name.text)};
    const Span sp{vb, t.size(), t[vb].col};
    const Wide v = value(s, sp);
    Symbol& sym = symbols_.at(name.text);
    const SymKind kind = d == ".equ" ? SymKind::kConstant : SymKind::kBuffer;
    if (sym.line != s.line || sym.kind != kind) return;  // a duplicate, already reported
    if (d == ".equ") {
      if (v < std::numeric_limits<int64_t>::min() || v > std::numeric_limits<int64_t>::max()) {
        throw Failure{sp.col, "value " + wide_str(v) + " does not fit 64 bits signed"};
      }
      sym.value = v;
    } else {
      if (v < 1)
        throw Failure{sp.col,
                      "buffer " + quoted(name.text) + " needs at least 1 row, not " + wide_str(v)};
      const Wide last = next_row_ + v - 1;
      const Wide rows = limits_ ? Wide{limits_->depth} : Wide{1} << isa::kLoadwAddr.width;
      if (last >= rows) {
        throw Failure{sp.col, "buffer " + quoted(name.text) + " (rows " + wide_str(next_row_) +
                                  " to " + wide_str(last) + ") does not fit the buffer (" +
                                  wide_str(rows) + " rows)"};
      }
      sym.value = next_row_;
      next_row_ += v;
    }
    sym.known = true;
  }

  // What the TPU's decode would reject (docs/isa.md "Errors"), in decode's order: ErrField,
  // ErrAddress, ErrLoop. `cols` names the column of each operand; others blame `col`.
  void check_decode(const isa::Instr& i, const Columns& cols, int col, int line) {
    const Wide n = limits_->dim;
    const Wide depth = limits_->depth;
    const auto at = [&](const std::string& name) {
      const auto it = cols.find(name);
      return it != cols.end() ? it->second : col;
    };
    const auto between = [&](const std::string& name, Wide v, Wide lo, Wide hi,
                             const std::string& why) {
      if (v < lo || v > hi) {
        throw Failure{at(name), quoted(name) + " must be " + wide_str(lo) + " to " + wide_str(hi) +
                                    why + ", not " + wide_str(v)};
      }
    };
    const auto at_least_one = [&](const std::string& name, Wide v) {
      if (v < 1) throw Failure{at(name), quoted(name) + " must be at least 1"};
    };
    const std::string by_dim = " (ArrayDim " + wide_str(n) + ")";
    // A row with an address register is field + register, known only at run time: the
    // field alone (the register at 0) is its lower bound, and that is what is checked.
    const auto reg_prefix = [](uint32_t reg) {
      return reg == 0 ? std::string() : "a" + std::to_string(reg) + "+";
    };
    const auto even_with = [&](uint32_t reg) {
      return reg == 0 ? std::string() : " even with a" + std::to_string(reg) + " = 0";
    };
    const auto in_buffer = [&](const std::string& name, Wide first, uint32_t reg, Wide count,
                               int blame) {
      if (first + count > depth) {
        const std::string r = reg_prefix(reg);
        throw Failure{blame, "rows " + r + wide_str(first) + " to " + r +
                                 wide_str(first + count - 1) + " of " + quoted(name) +
                                 " lie outside the buffer (" + wide_str(depth) + " rows)" +
                                 even_with(reg)};
      }
    };
    switch (i.op) {
      case isa::Opcode::kNop:
      case isa::Opcode::kHalt:
      case isa::Opcode::kSync:
      case isa::Opcode::kSeed:
        break;
      case isa::Opcode::kLoop:
        if (i.count == 0) throw Failure{at("count"), "'loop' count must be at least 1"};
        if (loop_depth_ == kMaxLoopDepth) {
          throw Failure{col, "loops nest at most " + std::to_string(kMaxLoopDepth) + " deep"};
        }
        ++loop_depth_;
        break;
      case isa::Opcode::kEndl:
        if (loop_depth_ == 0) throw Failure{col, "'endl' without an open 'loop'"};
        --loop_depth_;
        break;
      case isa::Opcode::kVpu:
        if (isa::unpack_cfg(i.cfg).act_fn > golden::kActLeakyRelu) {
          throw Failure{at("act"), "activation " + std::to_string(isa::unpack_cfg(i.cfg).act_fn) +
                                       " is reserved"};
        }
        vpu_ = i;
        vpu_line_ = line;
        break;
      case isa::Opcode::kLoadw:
        between("rows", i.rows, 1, n, by_dim);
        in_buffer("addr", i.addr, i.addr_reg, i.t ? n : Wide{i.rows}, at("addr"));
        break;
      case isa::Opcode::kMatmul: {
        at_least_one("rows", i.rows);
        between("k", i.k, 1, n, by_dim);
        between("n", i.n, 1, n, by_dim);
        if (i.t) between("rows", i.rows, 1, n, by_dim + " when transposed");
        in_buffer("act", i.act, i.act_reg, i.t ? n : Wide{i.rows}, at("act"));
        in_buffer("out", i.out, i.out_reg, i.rows, at("out"));
        // The operation in effect is the vpu before this matmul in the text: it is the one in
        // effect on the first pass through any loop, so what is found here is a real error.
        const isa::VpuCfgFields cfg = isa::unpack_cfg(vpu_.cfg);
        const std::string from =
            vpu_line_ > 0 ? " (set by the vpu on line " + std::to_string(vpu_line_) + ")" : "";
        // With acc the bias rows are the output rows, checked above.
        if (!i.acc && (cfg.mask & golden::kMaskBias) != 0 && vpu_.bias >= depth) {
          throw Failure{col, "bias row " + reg_prefix(vpu_.bias_reg) + std::to_string(vpu_.bias) +
                                 from + " lies outside the buffer (" + wide_str(depth) +
                                 " rows)" + even_with(vpu_.bias_reg)};
        }
        const bool side = (cfg.mask & golden::kMaskLoss) != 0 ||
                          ((cfg.mask & golden::kMaskDeriv) != 0 && cfg.deriv_src);
        if (side && Wide{vpu_.side} + i.rows > depth) {
          const std::string r = reg_prefix(vpu_.side_reg);
          throw Failure{col, "side rows " + r + std::to_string(vpu_.side) + " to " + r +
                                 wide_str(Wide{vpu_.side} + i.rows - 1) + from +
                                 " lie outside the buffer (" + wide_str(depth) + " rows)" +
                                 even_with(vpu_.side_reg)};
        }
        break;
      }
      case isa::Opcode::kSgd:
        at_least_one("count", i.count);
        in_buffer("theta", i.theta, 0, i.count, at("theta"));
        in_buffer("grad", i.grad, 0, i.count, at("grad"));
        break;
      case isa::Opcode::kSeta:
      case isa::Opcode::kAdda:
        if (i.reg == 0) {
          throw Failure{at("reg"), std::string(i.op == isa::Opcode::kSeta ? "'seta'" : "'adda'") +
                                       " needs a1, a2 or a3, not a0 (register 0 is decode's "
                                       "ErrField)"};
        }
        break;
    }
  }

  std::string file_;
  std::optional<Limits> limits_;
  std::vector<Statement> statements_;
  std::map<std::string, Symbol> symbols_;
  std::vector<Diagnostic> diagnostics_;
  int slots_ = 0;       // words so far (pass 1)
  Wide next_row_ = 0;   // the .buf allocator
  int loop_depth_ = 0;  // with Limits: loops open at this point of the text
  isa::Instr vpu_{};    // with Limits: the last vpu in the text (reset: nothing used)
  int vpu_line_ = 0;
  RegUse* reg_use_ = nullptr;  // while an operand that may hold a register is evaluated
  Program program_;
};

}  // namespace

Program assemble(const std::string& source, const std::string& filename,
                 const std::optional<Limits>& limits) {
  if (limits && (limits->dim < 1 || limits->depth < 1)) {
    throw std::invalid_argument("assemble: Limits need dim >= 1 and depth >= 1");
  }
  return Assembler(filename, limits).run(source);
}

}  // namespace tpu::assembler
