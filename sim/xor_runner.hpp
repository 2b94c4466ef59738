// Runs the XOR network's training on a Verilated TPU through the host port: writes the
// inputs, targets and the initial parameters in Q8.8, loads the program from
// sim/mlp_program.hpp, and reads the predictions at every checkpoint. Shared by the
// demo, the benchmark and the tests.
#pragma once

#include <Eigen/Dense>

#include <cmath>
#include <functional>
#include <random>
#include <stdexcept>
#include <vector>

#include "golden/mlp_reference.hpp"
#include "sw/asm/assembler.hpp"
#include "sim/mlp_program.hpp"
#include "tb/tpu_tb.hpp"

namespace tpu::sim {

inline int32_t to_q88(double v) {
  return static_cast<int32_t>(std::clamp(std::round(v * 256.0), -32768.0, 32767.0));
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
inline golden::Mlp quantised(const golden::Mlp& m) {
  auto q = [](const auto& a) {
    return a.unaryExpr([](double v) { return to_q88(v) / 256.0; }).eval();
  };
  return {q(m.w1), q(m.b1), q(m.w2), q(m.b2)};
}

template <class Top>
void xor_load(tb::TpuTb<Top>& tb, const MlpLayout& l, const golden::Mlp& init) {
  const int n = tb.dim();
  const Eigen::MatrixXd x = golden::xor_inputs(), y = golden::xor_targets();
  auto row = [n](std::initializer_list<double> v) {
    std::vector<int32_t> r(n, 0);
    int c = 0;
    for (double e : v) r[c++] = to_q88(e);
    return r;
  };
  for (int b = 0; b < 4; ++b) {
    tb.write_row(l.x + b, row({x(b, 0), x(b, 1)}));
    tb.write_row(l.y + b, row({y(b, 0)}));
  }
  tb.write_row(l.ones, std::vector<int32_t>(n, 256));
  // Parameter and gradient blocks start at zero: padding rows and lanes must stay zero.
  for (int r = 0; r < l.p_rows; ++r) {
    tb.write_row(l.p + r, std::vector<int32_t>(n, 0));
    tb.write_row(l.g + r, std::vector<int32_t>(n, 0));
  }
  for (int i = 0; i < 2; ++i) tb.write_row(l.w1(l.p) + i, row({init.w1(i, 0), init.w1(i, 1)}));
  tb.write_row(l.w2(l.p), row({init.w2(0, 0), init.w2(0, 1)}));
  tb.write_row(l.b1(l.p), row({init.b1(0), init.b1(1)}));
  tb.write_row(l.b2(l.p), row({init.b2(0)}));
}

template <class Top>
Eigen::MatrixXd xor_predictions(tb::TpuTb<Top>& tb, const MlpLayout& l) {
  Eigen::MatrixXd h(4, 1);
  for (int b = 0; b < 4; ++b) h(b, 0) = tb.read_row(l.h2 + b)[0] / 256.0;
  return h;
}

struct XorRun {
  std::vector<Eigen::MatrixXd> outputs;  // predictions after every checkpoint
  uint64_t tpu_cycles = 0;              // the TPU's counter at the end
};

// Trains `epochs` epochs, reading the predictions every `every` epochs; `on_checkpoint`
// (optional) sees the epoch count and the predictions.
template <class Top>
XorRun xor_train_on_tpu(
    tb::TpuTb<Top>& tb, const MlpShape& shape, const golden::Mlp& init, int epochs, int every,
    const std::function<void(int, const Eigen::MatrixXd&)>& on_checkpoint = {}) {
  const MlpLayout l = mlp_layout(shape);
  xor_load(tb, l, init);
  const std::string text = mlp_train_program(shape, l, epochs / every, every);
  tb.load_program(assembler::assemble(text, "xor_train.s").words);
  XorRun run;
  isa::State st = tb.run();
  int epoch = 0;
  while (st == isa::State::kSync) {
    epoch += every;
    run.outputs.push_back(xor_predictions(tb, l));
    if (on_checkpoint) on_checkpoint(epoch, run.outputs.back());
    tb.resume();
    st = tb.run_on();
  }
  if (st != isa::State::kDone) {
    throw std::runtime_error("the TPU stopped with status " + std::to_string(tb.csr(0)));
  }
  run.tpu_cycles = tb.csr(1);
  return run;
}

}  // namespace tpu::sim
