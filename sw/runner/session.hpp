// A compiled model on a device (sw/runtime/device.hpp): loads the parameters, the datasets
// and the program into the places the memory map gives, runs from sync to sync, and reads
// tensors back. The runner (tpu-run), the demos, the benchmarks and the tests share it.
#pragma once

#include <Eigen/Dense>

#include <functional>
#include <string>
#include <vector>

#include "sw/compiler/compiler.hpp"
#include "sw/compiler/dataset.hpp"
#include "sw/runtime/device.hpp"

namespace tpu::runner {

class Session {
 public:
  Session(const compiler::Compiled& c, runtime::Device& dev);

  // Writes every tensor (parameters from `params`, datasets, the ones row; gradients and
  // scratch zeroed) and the program. `test` may be null when the model has no test set.
  void load(const std::vector<compiler::LayerParams>& params, const compiler::Dataset& train,
            const compiler::Dataset* test);

  void start();
  // Runs to the next stop; true at a Sync (one checkpoint: eval_every epochs done and the
  // predictions written), false at Done. runtime::DeviceError on an Error stop.
  bool run_to_sync(uint64_t max_cycles = 2'000'000'000ull);
  // The same, run in slices of `slice` cycles (instructions on the functional model) with
  // `on_slice` told the count run so far since the last start or continue after every slice
  // that ended with the TPU still Running: a caller's progress bar. runtime::TimeoutError
  // after `max_cycles` in all.
  bool run_to_sync(uint64_t max_cycles, uint64_t slice,
                   const std::function<void(uint64_t)>& on_slice);
  void resume();

  Eigen::MatrixXd read(const std::string& tensor);
  std::vector<compiler::LayerParams> read_params();

  const compiler::Compiled& compiled() const { return c_; }
  runtime::Device& device() { return dev_; }

 private:
  void write(const std::string& tensor, const Eigen::MatrixXd& m);
  const compiler::Compiled& c_;
  runtime::Device& dev_;
};

// Accuracy of predictions against one-hot labels (argmax), and the MSE loss of the model
// ((1/rows) sum of squared errors over every output).
double accuracy(const Eigen::MatrixXd& pred, const std::vector<int>& labels);
double mse(const Eigen::MatrixXd& pred, const Eigen::MatrixXd& y);

}  // namespace tpu::runner
