// A model trained on a device from start to end (docs/runner.md): the model file with the
// command line's overrides, its datasets and initial parameters; then the compiled program run
// from sync to sync, the loss and accuracies at every checkpoint (and a double-precision
// reference trained beside it from the same start, golden/dense_reference.hpp), and the
// trained parameters at the end. tpu-run is this plus a command line and a device; the tests
// run it on the functional and golden engines. Engine-agnostic: it takes a runtime::Device&.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "golden/dense_reference.hpp"
#include "sw/compiler/compiler.hpp"
#include "sw/compiler/dataset.hpp"
#include "sw/runtime/device.hpp"

namespace tpu::runner {

// An override that contradicts the model (--epochs not a multiple of the evaluation period, a
// batch the loss scale does not allow): a bad command line. The message names the options.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a command line may change in a model; unset fields keep the model's values. Dataset
// paths given here are taken as they are (relative to the working folder), the model's own
// relative to the model file's folder.
struct Overrides {
  std::string train, test;
  std::optional<int> epochs, eval_every, batch;
  std::optional<double> learning_rate;
  std::optional<uint64_t> init_seed;
  std::string init_params;               // a params.json to start from instead of init.seed
  std::optional<uint64_t> shuffle_seed;  // shuffle the training set once, before loading
};

// A model ready to run: the model with the overrides applied, its datasets (the training set
// shuffled when asked) and the initial parameters (Q8.8 values, as the TPU will hold them).
struct Problem {
  compiler::Model model;
  std::string train_path, test_path;  // as messages name them ("" : no test set)
  compiler::Dataset train;
  std::optional<compiler::Dataset> test;
  std::vector<compiler::LayerParams> init;
  std::string init_from;  // "init.seed 12" or the params file
};

// Loads `model_path` and what it names. compiler::ModelError for the model file,
// std::runtime_error naming the file (and line) for a dataset or parameter file, UsageError for
// overrides the model cannot take.
Problem prepare(const std::string& model_path, const Overrides& o);

// A classifier: one_hot targets (accuracy is argmax against the label).
bool is_classifier(const compiler::Model& m);

// The program for `p` on `dev` (its ArrayDim, buffer rows and instruction words).
// compiler::CompileError when it does not fit.
compiler::Compiled compile_for(const Problem& p, const runtime::Device& dev);

// The training set's rows in a new order, the same for a seed on every platform.
void shuffle_rows(compiler::Dataset& d, uint64_t seed);

// The float network with `params` and the model's activations (slope 2^-leak_shift).
std::vector<golden::DenseLayer> dense_net(const compiler::Model& m,
                                          const std::vector<compiler::LayerParams>& params);

// Where a value does not apply (no test set, not a classifier, no float reference, no cycle
// model) it is NaN.
struct Checkpoint {
  int epoch = 0;
  double loss = 0;       // MSE of the TPU's train-set predictions (runner::mse)
  double train_acc = 0;  // fractions 0..1
  double test_acc = 0;
  double cycles = 0;          // the TPU's cycle counter since the start (wraps of CSR 1 undone)
  uint64_t instructions = 0;  // where the engine counts them (functional), else 0
  double seconds = 0;         // wall time since the start
  double float_loss = 0, float_train_acc = 0, float_test_acc = 0;
};

struct RunOptions {
  bool float_reference = false;
  uint64_t max_cycles = 2'000'000'000ull;  // between two stops (instructions: functional)
  uint64_t slice = 0;  // report progress every `slice` cycles between checkpoints (0: never)
  std::function<void(const Checkpoint&)> on_checkpoint;
  // Between checkpoints, after each slice: the fraction of the run done (0..1; within a
  // checkpoint estimated from the last one's length) and the cycles (instructions on the
  // functional engine) since the start.
  std::function<void(double, uint64_t)> on_progress;
};

struct RunResult {
  std::vector<Checkpoint> checkpoints;
  std::vector<compiler::LayerParams> initial;     // read back from the device before the start
  std::vector<golden::DenseLayer> float_initial;  // the reference's start (from `initial`)
  std::vector<compiler::LayerParams> params;      // trained, read back at the end
  std::vector<golden::DenseLayer> float_net;      // the trained reference (empty without)
  Eigen::MatrixXd pred_train, pred_test;          // at the last checkpoint
  Eigen::MatrixXd float_pred_train, float_pred_test;
  uint64_t cycles = 0;
  uint64_t instructions = 0;
  double seconds = 0;
};

// Loads `p` into `dev` with program `c` (compile_for), runs it to the end and reads back.
// runtime::DeviceError (the TPU's Error status named, a timeout, a mismatch) from the device.
RunResult run(const Problem& p, const compiler::Compiled& c, runtime::Device& dev,
              const RunOptions& o = {});

// Counts of (true class, predicted class) over the samples; classes x classes.
Eigen::MatrixXi confusion(const Eigen::MatrixXd& pred, const std::vector<int>& labels, int classes);

}  // namespace tpu::runner
