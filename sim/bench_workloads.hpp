// The workloads of `make bench` (sim/bench.cpp), as models for the compiler (sw/compiler) with
// random data of the right shape, and the floors their cycle counts are judged against. Nothing
// here needs a Verilated model.
#pragma once

#include <Eigen/Dense>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sw/compiler/compiler.hpp"
#include "sw/compiler/dataset.hpp"

namespace tpu::sim::bench {

// A workload: the model, the data shape the program is compiled for, and how it runs.
struct Workload {
  std::string name;
  compiler::Model model;
  compiler::DataShape data;
  compiler::Mode mode = compiler::Mode::kInference;
  uint64_t useful_macs = 0;  // multiply-accumulates the math needs (no padding)
  uint64_t floor = 0;        // the fewest cycles the TPU could take (see each maker)
};

inline uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

inline compiler::LayerSpec layer(int units, compiler::Activation a) {
  compiler::LayerSpec l;
  l.units = units;
  l.activation = a;
  return l;
}

// An M x K by K x N matmul through the compiler's Linear lowering: a one-layer identity model
// with K inputs and N units, compiled for one inference pass over M rows (one bias add per
// output row comes with it). The minibatch is all M rows, so every weight tile is loaded once
// and streams all of them (the compiler cuts matmuls into pieces of at most 1016 rows, which
// chain with no gap). Floor: useful MACs / ArrayDim^2.
inline Workload matmul(int m, int k, int n, int dim) {
  Workload w;
  w.name = "matmul";
  w.model.name = "matmul";
  w.model.inputs = k;
  w.model.layers = {layer(n, compiler::Activation::kIdentity)};
  w.model.training.batch = m;
  w.model.training.learning_rate = 1;
  w.data = compiler::DataShape{m, 0};
  w.useful_macs = uint64_t(m) * k * n;
  w.floor = ceil_div(w.useful_macs, uint64_t(dim) * dim);
  return w;
}

// Weight rows the array must load for one pass of a dense model: every layer's W (units x
// inputs) in tiles of ArrayDim output columns, each tile `inputs` rows long.
inline uint64_t weight_rows(const compiler::Model& m, int dim) {
  uint64_t rows = 0;
  int in = m.inputs;
  for (const compiler::LayerSpec& l : m.layers) {
    rows += ceil_div(l.units, dim) * uint64_t(in);
    in = l.units;
  }
  return rows;
}

// Multiply-accumulates of one forward pass of one sample.
inline uint64_t forward_macs(const compiler::Model& m) {
  uint64_t macs = 0;
  int in = m.inputs;
  for (const compiler::LayerSpec& l : m.layers) {
    macs += uint64_t(in) * l.units;
    in = l.units;
  }
  return macs;
}

// The 784-64-10 MLP (leaky ReLU hidden, identity output), one inference pass over `batch` rows.
// Floor: max(useful MACs / ArrayDim^2, weight rows to load): the array takes one activation row
// and the loader one weight row per cycle.
inline Workload mlp784(int batch, int dim) {
  Workload w;
  w.name = "mlp784";
  w.model.name = "mlp784";
  w.model.inputs = 784;
  w.model.layers = {layer(64, compiler::Activation::kLeakyRelu),
                    layer(10, compiler::Activation::kIdentity)};
  w.model.training.batch = batch;
  w.model.training.learning_rate = 1;
  w.data = compiler::DataShape{batch, 0};
  w.useful_macs = uint64_t(batch) * forward_macs(w.model);
  w.floor = std::max(ceil_div(w.useful_macs, uint64_t(dim) * dim), weight_rows(w.model, dim));
  return w;
}

// One training epoch of the digits MLP: 64-32-10, leaky ReLU hidden, identity output, MSE,
// minibatch 32, 1437 training rows (the size of the digits training split). Useful MACs per
// sample: the forward pass, the backward pass below the top layer (no error is propagated into
// the inputs), the weight gradients and the bias gradients. Floor: useful MACs / ArrayDim^2.
inline Workload digits_epoch(int dim) {
  Workload w;
  w.name = "digits_epoch";
  w.model.name = "digits";
  w.model.inputs = 64;
  w.model.layers = {layer(32, compiler::Activation::kLeakyRelu),
                    layer(10, compiler::Activation::kIdentity)};
  w.model.training.batch = 32;
  w.model.training.learning_rate = 0.25;
  w.model.training.epochs = 1;
  w.data = compiler::DataShape{1437, 0};
  w.mode = compiler::Mode::kEpoch;
  const uint64_t fwd = forward_macs(w.model);
  const uint64_t first = uint64_t(w.model.inputs) * w.model.layers[0].units;
  uint64_t bias = 0;
  for (const compiler::LayerSpec& l : w.model.layers) bias += l.units;
  w.useful_macs = uint64_t(w.data.train) * (fwd + (fwd - first) + fwd + bias);
  w.floor = ceil_div(w.useful_macs, uint64_t(dim) * dim);
  return w;
}

// Random data of the workload's shape: inputs uniform in [-1, 1), one-hot targets of random
// classes (training only), from `seed`. Values do not change cycle counts.
inline compiler::Dataset random_data(const Workload& w, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  const int rows = w.data.train;
  const int outputs = w.model.layers.back().units;
  compiler::Dataset d;
  d.x = Eigen::MatrixXd::NullaryExpr(rows, w.model.inputs, [&] { return u(rng); });
  d.y = Eigen::MatrixXd::Zero(rows, outputs);
  std::uniform_int_distribution<int> cls(0, outputs - 1);
  for (int r = 0; r < rows; ++r) {
    d.labels.push_back(cls(rng));
    d.y(r, d.labels.back()) = 1.0;
  }
  return d;
}

}  // namespace tpu::sim::bench
