// tpu-cc: compiles a model description (docs/compiler.md) into a program for the TPU: the
// readable assembly (.s), the image (.bin, what tpu-as would make of it) and the buffer's
// memory map (.map.json).
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

#include "sw/asm/cli.hpp"
#include "sw/asm/image.hpp"
#include "sw/compiler/compiler.hpp"
#include "sw/compiler/dataset.hpp"

namespace {

int count_rows(const tpu::compiler::Model& m, const std::string& path) {
  const int outputs = m.layers.back().units;
  return tpu::compiler::load_csv(tpu::compiler::data_path(m, path), m.inputs, outputs,
                                 m.data.targets, m.data.feature_scale)
      .rows();
}

bool write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tpu-cc: compile a model description into a TPU program and memory map", "tpu-cc"};
  std::string model_path, prefix;
  tpu::compiler::Target target;
  int train_rows = -1, test_rows = -1;
  bool inference = false, quiet = false;
  app.add_option("model", model_path, "the model file (JSON, docs/compiler.md)")->required();
  app.add_option("-o,--output", prefix,
                 "output prefix: writes PREFIX.s, PREFIX.bin and PREFIX.map.json "
                 "(default: the model file's name without .json)");
  app.add_option("--dim", target.dim, "ArrayDim of the target TPU")->check(CLI::Range(2, 63))
      ->capture_default_str();
  app.add_option("--ub-depth", target.ub_depth, "buffer rows of the target TPU")
      ->check(CLI::Range(1, 65536))->capture_default_str();
  app.add_option("--imem-depth", target.imem_depth, "instruction words of the target TPU")
      ->check(CLI::Range(1, 65536))->capture_default_str();
  app.add_option("--train-rows", train_rows,
                 "training samples (default: counted in the model's data.train file)")
      ->check(CLI::Range(1, 65535));
  app.add_option("--test-rows", test_rows, "test samples (default: counted in data.test)")
      ->check(CLI::Range(0, 65535));
  app.add_flag("--inference", inference, "compile one inference pass instead of training");
  app.add_flag("-q,--quiet", quiet, "print nothing on success");
  if (const auto rc = tpu::assembler::parse_command_line(app, argc, argv)) return *rc;
  try {
    const tpu::compiler::Model m = tpu::compiler::load_model(model_path);
    tpu::compiler::DataShape d;
    if (train_rows < 0 && m.data.train.empty()) {
      std::cerr << "tpu-cc: " << model_path
                << ": no data.train file in the model; give --train-rows\n";
      return 1;
    }
    d.train = train_rows >= 0 ? train_rows : count_rows(m, m.data.train);
    d.test = test_rows >= 0 ? test_rows : (m.data.test.empty() ? 0 : count_rows(m, m.data.test));
    const auto c = tpu::compiler::compile(
        m, target, d,
        inference ? tpu::compiler::Mode::kInference : tpu::compiler::Mode::kTrain);
    if (prefix.empty()) {
      prefix = model_path;
      if (prefix.size() > 5 && prefix.substr(prefix.size() - 5) == ".json") {
        prefix.resize(prefix.size() - 5);
      }
    }
    if (!write_file(prefix + ".s", c.assembly) ||
        !write_file(prefix + ".bin", tpu::assembler::to_binary(c.words)) ||
        !write_file(prefix + ".map.json", c.memory_map_json())) {
      std::cerr << "tpu-cc: cannot write " << prefix << ".{s,bin,map.json}\n";
      return 1;
    }
    if (!quiet) {
      std::cout << "tpu-cc: " << m.name << " at ArrayDim " << target.dim << ": " << c.words.size()
                << " words, " << c.ub_rows << " of " << target.ub_depth << " buffer rows, "
                << c.macs_per_epoch << " MACs per epoch\n"
                << "  wrote " << prefix << ".s, " << prefix << ".bin, " << prefix
                << ".map.json\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "tpu-cc: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
