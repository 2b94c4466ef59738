// The model compiler (docs/compiler.md): a model description becomes a graph of operations
// over named tensors (matmuls with their vector-unit epilogue, weight gradients, updates),
// the tensors get buffer rows, and every operation is lowered to tiles of the array:
// batch rows, K and N, for any ArrayDim and any shape. The result is a program (readable
// assembly and its words) and a memory map saying where every tensor lives.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "sw/compiler/model.hpp"

namespace tpu::compiler {

// The TPU the program is for.
struct Target {
  int dim = 8;            // ArrayDim
  int ub_depth = 256;     // buffer rows
  int imem_depth = 256;   // instruction words
};

// A matrix in the buffer: `rows` x `cols`, stored as ceil(cols / dim) panels of `dim` lanes;
// panel p (columns p*dim ..) is `rows_alloc` consecutive rows from addr + p * rows_alloc.
// Walked tensors (datasets and their predictions) are addressed through address register a1,
// which steps one minibatch at a time.
struct Tensor {
  std::string name;
  std::string role;  // param, grad, input, target, output, scratch, const
  int rows = 0, cols = 0, rows_alloc = 0, addr = 0, panels = 0;
  bool walked = false;
  int panel(int p) const { return addr + p * rows_alloc; }
  int size() const { return panels * rows_alloc; }
};

// How big the datasets are (rows). The program's loops are sized from them.
struct DataShape {
  int train = 0;
  int test = 0;
};

// A minibatch size the program trains with, and the numerics the compiler chose for it.
struct StepInfo {
  int batch = 0;
  int batch_log2 = 0;       // the vector unit's loss scale is 2 / 2^batch_log2
  int loss_scale_log2 = 0;
  double lr_literal = 0;    // the sgd's learning rate (Q8.8), after the scale folding
  int lr_q88 = 0;
};

struct Compiled {
  Target target;
  Model model;
  DataShape data;
  std::vector<Tensor> tensors;
  std::string assembly;
  std::vector<uint64_t> words;
  int ub_rows = 0;          // rows the memory map uses
  int batches = 0;          // full minibatches per epoch
  int tail = 0;             // rows of the last, partial minibatch (0: none)
  int checkpoints = 0;      // syncs: one every training.eval_every epochs
  std::vector<StepInfo> steps;
  uint64_t macs_per_epoch = 0;  // useful multiply-accumulates of one training epoch
  uint64_t macs_per_inference = 0;

  const Tensor& tensor(const std::string& name) const;
  bool has(const std::string& name) const;
  std::string memory_map_json() const;
};

// The model does not fit the target (buffer rows, instruction words) or cannot be compiled;
// the message says what and by how much.
class CompileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a program does.
enum class Mode {
  kTrain,      // training epochs with an inference pass over train and test at every sync
  kInference,  // one inference pass over the train set (the "input" dataset), then halt
  kEpoch,      // one training epoch, then halt (no evaluation, no sync): for benchmarks
};

Compiled compile(const Model& m, const Target& t, const DataShape& d, Mode mode = Mode::kTrain);

// Layer l's tensor names (l from 1): W<l>, b<l> parameters, gW<l>, gb<l> gradients.
std::string weight_name(int l);
std::string bias_name(int l);

}  // namespace tpu::compiler
