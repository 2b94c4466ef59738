// Floating-point reference for the two-layer MLPs the TPU trains (docs/training.md):
// full-batch gradient descent on the MSE loss with leaky-ReLU layers, in double
// precision with Eigen. It is the yardstick for on-chip training: the same
// initialisation and hyperparameters, no fixed point anywhere.
#pragma once

#include <Eigen/Dense>
#include <cmath>
#include <vector>

namespace tpu::golden {

struct Mlp {
  Eigen::MatrixXd w1;  // hidden x inputs (row i: the weights into hidden unit i)
  Eigen::RowVectorXd b1;
  Eigen::MatrixXd w2;  // outputs x hidden
  Eigen::RowVectorXd b2;
};

struct MlpForward {
  Eigen::MatrixXd z1, h1, z2, h2;  // batch x units
};

inline Eigen::MatrixXd leaky(const Eigen::MatrixXd& z, double slope) {
  return z.unaryExpr([slope](double v) { return v > 0 ? v : slope * v; });
}

inline Eigen::MatrixXd leaky_prime(const Eigen::MatrixXd& z, double slope) {
  return z.unaryExpr([slope](double v) { return v > 0 ? 1.0 : slope; });
}

// Both layers apply leaky ReLU (the XOR network of the predecessor: the output unit too).
inline MlpForward mlp_forward(const Mlp& m, const Eigen::MatrixXd& x, double slope) {
  MlpForward f;
  f.z1 = (x * m.w1.transpose()).rowwise() + m.b1;
  f.h1 = leaky(f.z1, slope);
  f.z2 = (f.h1 * m.w2.transpose()).rowwise() + m.b2;
  f.h2 = leaky(f.z2, slope);
  return f;
}

// L = (1/B) sum (H - Y)^2 over every element.
inline double mse(const Eigen::MatrixXd& h, const Eigen::MatrixXd& y) {
  return (h - y).squaredNorm() / static_cast<double>(h.rows());
}

// One full-batch step: delta2 = (2/B)(H2 - Y) .* f'(Z2), delta1 = (delta2 W2) .* f'(Z1),
// W <- W - lr * delta^T H_prev, b <- b - lr * sum over the batch of delta.
inline void mlp_train_step(Mlp& m, const Eigen::MatrixXd& x, const Eigen::MatrixXd& y,
                           double slope, double lr) {
  const MlpForward f = mlp_forward(m, x, slope);
  const double b = static_cast<double>(x.rows());
  const Eigen::MatrixXd d2 = ((2.0 / b) * (f.h2 - y)).cwiseProduct(leaky_prime(f.z2, slope));
  const Eigen::MatrixXd d1 = (d2 * m.w2).cwiseProduct(leaky_prime(f.z1, slope));
  m.w2 -= lr * d2.transpose() * f.h1;
  m.b2 -= lr * d2.colwise().sum();
  m.w1 -= lr * d1.transpose() * x;
  m.b1 -= lr * d1.colwise().sum();
}

// Convergence as the XOR task defines it: every output within `tol` of its target.
inline bool converged(const Eigen::MatrixXd& h, const Eigen::MatrixXd& y, double tol = 0.1) {
  return ((h - y).array().abs() < tol).all();
}

// The first epoch count after which the outputs are within tolerance and stay there for
// every later epoch up to `max_epochs`; -1 if there is none. outputs[e] are the
// predictions after e epochs (outputs[0]: the initialisation).
inline int epochs_to_converge(const std::vector<Eigen::MatrixXd>& outputs,
                              const Eigen::MatrixXd& y, double tol = 0.1) {
  int first = -1;
  for (size_t e = 0; e < outputs.size(); ++e) {
    if (converged(outputs[e], y, tol)) {
      if (first < 0) first = static_cast<int>(e);
    } else {
      first = -1;
    }
  }
  return first;
}

// Trains `epochs` epochs and returns the predictions after each (index 0: before any).
inline std::vector<Eigen::MatrixXd> mlp_train(Mlp m, const Eigen::MatrixXd& x,
                                              const Eigen::MatrixXd& y, double slope, double lr,
                                              int epochs) {
  std::vector<Eigen::MatrixXd> out;
  out.push_back(mlp_forward(m, x, slope).h2);
  for (int e = 0; e < epochs; ++e) {
    mlp_train_step(m, x, y, slope, lr);
    out.push_back(mlp_forward(m, x, slope).h2);
  }
  return out;
}

inline Eigen::MatrixXd xor_inputs() {
  Eigen::MatrixXd x(4, 2);
  x << 0, 0, 0, 1, 1, 0, 1, 1;
  return x;
}

inline Eigen::MatrixXd xor_targets() {
  Eigen::MatrixXd y(4, 1);
  y << 0, 1, 1, 0;
  return y;
}

// The predecessor's example initialisation (row i of w1: the weights into hidden unit i).
inline Mlp xor_predecessor_init() {
  Mlp m;
  m.w1.resize(2, 2);
  m.w1 << 0.2985, -0.5792, 0.0913, 0.4234;
  m.b1.resize(2);
  m.b1 << -0.4939, 0.189;
  m.w2.resize(1, 2);
  m.w2 << 0.5266, 0.2958;
  m.b2.resize(1);
  m.b2 << 0.6358;
  return m;
}

}  // namespace tpu::golden
