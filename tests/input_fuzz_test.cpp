// Mutation fuzzing of the two text readers users feed the project: the assembler
// (sw/asm/assembler.hpp) and the model-file reader (sw/compiler/model.hpp). Each mutated input
// must either be accepted or refused with the reader's own error, which names the file (and,
// for the assembler, a line of the input): never another exception, a crash or a hang. The
// seeds are the project's own inputs (sw/asm/examples, models/) and disassembled random
// programs (tb/program_gen.hpp). `make sanitize` runs this under AddressSanitizer and
// UndefinedBehaviorSanitizer, which turn a silent out-of-bounds read or overflow into a failure.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <iterator>
#include <optional>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "sw/asm/assembler.hpp"
#include "sw/compiler/model.hpp"
#include "tb/program_gen.hpp"
#include "tb/seed.hpp"

#ifndef TPU_SOURCE_DIR
#error "TPU_SOURCE_DIR must name the project's root"
#endif

namespace {

std::string test_name() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

std::string read_file(const std::string& rel) {
  std::ifstream in(std::string(TPU_SOURCE_DIR) + "/" + rel, std::ios::binary);
  EXPECT_TRUE(in.good()) << rel;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// One random edit of `text`: bytes changed, inserted or deleted, lines dropped, doubled or
// swapped, a number replaced by an edge value, a cut at a random place.
class Mutator {
 public:
  explicit Mutator(std::mt19937_64& rng) : rng_(rng) {}

  std::string mutate(std::string t) {
    const int edits = pick(1, 4);
    for (int e = 0; e < edits; ++e) t = one(std::move(t));
    return t;
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::size_t at(const std::string& t) {
    return t.empty() ? 0 : static_cast<std::size_t>(pick(0, static_cast<int>(t.size()) - 1));
  }

  std::string one(std::string t) {
    static const char* const kNumbers[] = {
        "0", "-1", "1", "65535", "65536", "-32768", "32767", "4294967296", "-2147483649",
        "18446744073709551616", "99999999999999999999999999", "0x", "0xFFFFFFFFFFFFFFFFF",
        "1e309", "-0.0", "1.5e-400", "nan", "inf", "0b102", "255.99609375", "-128.00390625"};
    static const char kBytes[] = ",+-.=:;#\"[]{}\\ \t\n\r\0\x7f\xff" "0129aAzZ_";
    const int kind = pick(0, 8);
    switch (kind) {
      case 0:  // change a byte
        if (!t.empty()) t[at(t)] = kBytes[pick(0, static_cast<int>(sizeof(kBytes)) - 2)];
        break;
      case 1:  // insert a byte
        t.insert(t.begin() + static_cast<std::ptrdiff_t>(at(t)),
                 kBytes[pick(0, static_cast<int>(sizeof(kBytes)) - 2)]);
        break;
      case 2:  // delete a run of bytes
        if (!t.empty()) {
          const std::size_t p = at(t);
          t.erase(p, static_cast<std::size_t>(pick(1, 8)));
        }
        break;
      case 3:
      case 4: {  // replace a number with an edge value
        std::vector<std::size_t> starts;
        for (std::size_t i = 0; i < t.size(); ++i) {
          if (std::isdigit(static_cast<unsigned char>(t[i])) &&
              (i == 0 || !std::isalnum(static_cast<unsigned char>(t[i - 1])))) {
            starts.push_back(i);
          }
        }
        if (starts.empty()) break;
        const std::size_t s = starts[static_cast<std::size_t>(pick(0, static_cast<int>(starts.size()) - 1))];
        std::size_t e = s;
        while (e < t.size() && (std::isalnum(static_cast<unsigned char>(t[e])) || t[e] == '.')) ++e;
        t.replace(s, e - s, kNumbers[pick(0, static_cast<int>(std::size(kNumbers)) - 1)]);
        break;
      }
      default: {  // line edits, or a cut
        std::vector<std::string> lines;
        std::istringstream in(t);
        for (std::string l; std::getline(in, l);) lines.push_back(l);
        if (lines.empty()) break;
        const auto i = static_cast<std::size_t>(pick(0, static_cast<int>(lines.size()) - 1));
        const auto j = static_cast<std::size_t>(pick(0, static_cast<int>(lines.size()) - 1));
        if (kind == 5) lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(i));
        if (kind == 6) lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(i), lines[j]);
        if (kind == 7) std::swap(lines[i], lines[j]);
        std::string out;
        for (const auto& l : lines) out += l + "\n";
        if (kind == 8) out = out.substr(0, at(out));
        t = out;
      }
    }
    return t;
  }

  std::mt19937_64& rng_;
};

constexpr int kMutations = 4000;

TEST(InputFuzz, AssemblerAcceptsOrNamesTheFileAndLine) {
  const uint64_t seed = tpu::tb::test_seed(test_name());
  std::mt19937_64 rng(seed);
  std::vector<std::string> seeds = {read_file("sw/asm/examples/all_forms.s")};
  for (int i = 0; i < 20; ++i) {
    tpu::tb::prog::ProgramGenerator gen(rng, 4, 256);
    seeds.push_back(tpu::assembler::disassemble(gen.program()));
  }
  Mutator m(rng);
  int accepted = 0, refused = 0;
  for (int i = 0; i < kMutations; ++i) {
    const std::string& base = seeds[static_cast<std::size_t>(i) % seeds.size()];
    const std::string text = m.mutate(base);
    const long lines = std::count(text.begin(), text.end(), '\n') + 1;
    const bool limits = i % 2 == 1;
    try {
      (void)tpu::assembler::assemble(text, "fuzz.s",
                                     limits ? std::optional<tpu::assembler::Limits>({4, 256})
                                            : std::nullopt);
      ++accepted;
    } catch (const tpu::assembler::AsmError& e) {
      ++refused;
      for (const auto& d : e.diagnostics()) {
        ASSERT_EQ(d.file, "fuzz.s") << "mutation " << i << " (TPU_SEED=" << seed << ")";
        ASSERT_GE(d.line, 1) << d.str();
        ASSERT_LE(d.line, lines) << d.str();
        ASSERT_FALSE(d.message.empty()) << d.str();
      }
    } catch (const std::exception& e) {
      FAIL() << "mutation " << i << " (TPU_SEED=" << seed << "): not an AsmError: " << e.what()
             << "\n--- input ---\n"
             << text;
    }
  }
  std::cout << "[ fuzz     ] assembler: " << kMutations << " mutated programs, " << accepted
            << " accepted, " << refused << " refused with a file:line error" << std::endl;
  EXPECT_GT(refused, kMutations / 10) << "the mutations hardly ever break a program";
  EXPECT_GT(accepted, 0) << "the mutations always break a program";
}

TEST(InputFuzz, ModelReaderAcceptsOrNamesTheFile) {
  const uint64_t seed = tpu::tb::test_seed(test_name());
  std::mt19937_64 rng(seed);
  const std::vector<std::string> seeds = {read_file("models/xor.json"),
                                          read_file("models/digits.json")};
  Mutator m(rng);
  int accepted = 0, refused = 0;
  for (int i = 0; i < kMutations; ++i) {
    const std::string text = m.mutate(seeds[static_cast<std::size_t>(i) % seeds.size()]);
    try {
      (void)tpu::compiler::parse_model(text, "fuzz.json");
      ++accepted;
    } catch (const tpu::compiler::ModelError& e) {
      ++refused;
      ASSERT_EQ(std::string(e.what()).rfind("fuzz.json", 0), 0u)
          << "mutation " << i << " (TPU_SEED=" << seed << "): " << e.what();
    } catch (const std::exception& e) {
      FAIL() << "mutation " << i << " (TPU_SEED=" << seed << "): not a ModelError: " << e.what()
             << "\n--- input ---\n"
             << text;
    }
  }
  std::cout << "[ fuzz     ] model reader: " << kMutations << " mutated model files, " << accepted
            << " accepted, " << refused << " refused with a file-named error" << std::endl;
  EXPECT_GT(refused, kMutations / 10);
  EXPECT_GT(accepted, 0);
}

// What the fuzzer found first: a number nlohmann-json cannot hold escaped as its own
// out_of_range exception instead of a ModelError naming the file.
TEST(InputFuzz, ModelNumberTooLargeIsAModelError) {
  std::string text = read_file("models/xor.json");
  const auto p = text.find("\"inputs\": 2");
  ASSERT_NE(p, std::string::npos);
  text.replace(p, 11, "\"inputs\": 1e309");
  try {
    (void)tpu::compiler::parse_model(text, "big.json");
    FAIL() << "accepted";
  } catch (const tpu::compiler::ModelError& e) {
    EXPECT_EQ(std::string(e.what()), "big.json: number overflow parsing '1e309'");
  }
}

}  // namespace
