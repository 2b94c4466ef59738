// Trains the XOR network on a TPU through the runtime's device interface: the model is
// compiled by sw/compiler (the same as models/xor.json), the inputs, targets and initial
// parameters are written where its memory map says, and the predictions are read at every
// sync. Shared by the demo, the benchmark and the tests.
#pragma once

#include <Eigen/Dense>

#include <functional>
#include <random>
#include <stdexcept>
#include <vector>

#include "golden/mlp_reference.hpp"
#include "sw/compiler/compiler.hpp"
#include "sw/compiler/dataset.hpp"
#include "sw/runner/session.hpp"
#include "sw/runtime/device.hpp"

namespace tpu::sim {

// The knobs the XOR demo and tests turn; the rest is models/xor.json's.
struct XorOptions {
  int leak_shift = 1;        // leaky-ReLU slope 2^-leak_shift, both layers
  double lr = 0.25;
  bool stochastic = false;   // stochastic rounding of the updates (default: to nearest)
  int loss_scale_log2 = -1;  // -1: the largest (log2 of the batch)
  uint32_t seed = 1;         // the update's LFSR seed
};

// The 2-2-1 network, leaky ReLU in both layers, MSE, the four inputs as one batch.
inline compiler::Model xor_model(const XorOptions& o, int epochs, int every) {
  compiler::Model m;
  m.name = "xor";
  m.inputs = 2;
  for (int units : {2, 1}) {
    compiler::LayerSpec l;
    l.units = units;
    l.activation = compiler::Activation::kLeakyRelu;
    l.leak_shift = o.leak_shift;
    m.layers.push_back(l);
  }
  m.training.batch = 4;
  m.training.learning_rate = o.lr;
  m.training.rounding = o.stochastic ? compiler::Rounding::kStochastic : compiler::Rounding::kNearest;
  m.training.loss_scale_log2 = o.loss_scale_log2;
  m.training.epochs = epochs;
  m.training.eval_every = every;
  m.training.sgd_seed = o.seed;
  m.data.targets = compiler::Targets::kValues;
  return m;
}

// A uniform(-1, 1) initialisation of the 2-2-1 network from `seed` (w1, b1, w2, b2 in
// that order from one generator), the same for the float reference and the TPU.
inline golden::Mlp xor_random_init(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  golden::Mlp m;
  m.w1 = Eigen::MatrixXd::NullaryExpr(2, 2, [&] { return u(rng); });
  m.b1 = Eigen::RowVectorXd::NullaryExpr(2, [&] { return u(rng); });
  m.w2 = Eigen::MatrixXd::NullaryExpr(1, 2, [&] { return u(rng); });
  m.b2 = Eigen::RowVectorXd::NullaryExpr(1, [&] { return u(rng); });
  return m;
}

// The parameters as the TPU holds them: each value rounded to Q8.8.
inline std::vector<compiler::LayerParams> quantised(const golden::Mlp& m) {
  auto q = [](const auto& a) {
    return a.unaryExpr([](double v) { return compiler::from_q88(compiler::to_q88(v)); }).eval();
  };
  return {{q(m.w1), q(m.b1)}, {q(m.w2), q(m.b2)}};
}

struct XorRun {
  std::vector<Eigen::MatrixXd> outputs;  // predictions after every checkpoint
  uint64_t tpu_cycles = 0;              // the TPU's counter at the end
};

// Trains `epochs` epochs, reading the predictions every `every` epochs; `on_checkpoint`
// (optional) sees the epoch count and the predictions.
inline XorRun xor_train_on_tpu(
    runtime::Device& dev, const XorOptions& o, const golden::Mlp& init, int epochs, int every,
    const std::function<void(int, const Eigen::MatrixXd&)>& on_checkpoint = {}) {
  const compiler::Compiled c = compiler::compile(
      xor_model(o, epochs, every), compiler::Target{dev.dim(), dev.ub_depth(), dev.imem_depth()},
      compiler::DataShape{4, 0});
  compiler::Dataset data;
  data.x = golden::xor_inputs();
  data.y = golden::xor_targets();
  runner::Session s(c, dev);
  s.load(quantised(init), data, nullptr);
  s.start();
  XorRun run;
  int epoch = 0;
  while (s.run_to_sync()) {
    epoch += every;
    run.outputs.push_back(s.read("pred_train"));
    if (on_checkpoint) on_checkpoint(epoch, run.outputs.back());
    s.resume();
  }
  run.tpu_cycles = dev.cycles();
  return run;
}

}  // namespace tpu::sim
