// digits_prepare: makes the fixed, seeded, stratified train/test split of the UCI 8x8 digits
// (scripts/fetch-digits.sh fetches them from Debian's python3-sklearn): 20% of every class
// to the test set, both sets shuffled with the seed. Writes TRAIN and TEST as CSV (64
// features 0..16, then the class), the format models/digits.json reads.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "sw/asm/cli.hpp"
#include "sw/compiler/dataset.hpp"

int main(int argc, char** argv) {
  CLI::App app{"digits_prepare: a seeded stratified split of the digits CSV", "digits_prepare"};
  std::string in, train, test;
  uint64_t seed = 2026;
  double fraction = 0.2;
  app.add_option("input", in, "digits.csv (64 features, then the class)")->required();
  app.add_option("train", train, "the training set to write")->required();
  app.add_option("test", test, "the test set to write")->required();
  app.add_option("--seed", seed, "the split's seed")->capture_default_str();
  app.add_option("--test-fraction", fraction, "share of every class in the test set")
      ->check(CLI::Range(0.0, 0.9))->capture_default_str();
  if (const auto rc = tpu::assembler::parse_command_line(app, argc, argv)) return *rc;
  try {
    const auto d = tpu::compiler::load_csv(in, 64, 10, tpu::compiler::Targets::kOneHot, 1.0);
    const auto split = tpu::compiler::stratified_split(d.labels, fraction, seed);
    for (const auto& [path, rows] : {std::pair{train, split.train}, std::pair{test, split.test}}) {
      std::ofstream out(path);
      out << "# UCI 8x8 digits (Debian python3-sklearn), stratified split, seed " << seed << "\n";
      for (int r : rows) {
        for (int f = 0; f < 64; ++f) out << d.x(r, f) << ",";
        out << d.labels[r] << "\n";
      }
      if (!out) throw std::runtime_error(path + ": cannot write");
    }
    std::printf("digits_prepare: %zu training and %zu test rows (seed %llu)\n", split.train.size(),
                split.test.size(), static_cast<unsigned long long>(seed));
  } catch (const std::exception& e) {
    std::cerr << "digits_prepare: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
