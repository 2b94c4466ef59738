// Double-precision reference for the dense networks the compiler trains (docs/compiler.md):
// any depth, identity / ReLU / leaky-ReLU layers, MSE loss L = (1/B) sum (H - Y)^2,
// minibatch SGD over the training set in its stored order, the last minibatch the remainder.
// The same initialisation, data order and hyperparameters as the TPU, no fixed point: the
// yardstick for on-chip training (BACKGROUND's math, nothing of the TPU's).
#pragma once

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <vector>

namespace tpu::golden {

enum class DenseAct { kIdentity, kRelu, kLeakyRelu };

struct DenseLayer {
  Eigen::MatrixXd w;      // units x inputs
  Eigen::RowVectorXd b;
  DenseAct act = DenseAct::kLeakyRelu;
  double slope = 0.25;    // leaky ReLU's slope for v <= 0
};

inline Eigen::MatrixXd dense_f(const Eigen::MatrixXd& z, const DenseLayer& l) {
  switch (l.act) {
    case DenseAct::kIdentity: return z;
    case DenseAct::kRelu: return z.cwiseMax(0.0);
    case DenseAct::kLeakyRelu:
      return z.unaryExpr([s = l.slope](double v) { return v > 0 ? v : s * v; });
  }
  return z;
}

inline Eigen::MatrixXd dense_f_prime(const Eigen::MatrixXd& z, const DenseLayer& l) {
  switch (l.act) {
    case DenseAct::kIdentity: return Eigen::MatrixXd::Ones(z.rows(), z.cols());
    case DenseAct::kRelu: return z.unaryExpr([](double v) { return v > 0 ? 1.0 : 0.0; });
    case DenseAct::kLeakyRelu:
      return z.unaryExpr([s = l.slope](double v) { return v > 0 ? 1.0 : s; });
  }
  return z;
}

inline Eigen::MatrixXd dense_forward(const std::vector<DenseLayer>& net, const Eigen::MatrixXd& x) {
  Eigen::MatrixXd h = x;
  for (const DenseLayer& l : net) h = dense_f((h * l.w.transpose()).rowwise() + l.b, l);
  return h;
}

// One SGD step on the rows of x, y: delta_L = (2/B)(H - Y) .* f'(Z_L),
// delta_{l-1} = (delta_l W_l) .* f'(Z_{l-1}), W -= lr delta^T H_prev, b -= lr 1^T delta.
inline void dense_step(std::vector<DenseLayer>& net, const Eigen::MatrixXd& x,
                       const Eigen::MatrixXd& y, double lr) {
  std::vector<Eigen::MatrixXd> h{x}, z;
  for (const DenseLayer& l : net) {
    z.push_back((h.back() * l.w.transpose()).rowwise() + l.b);
    h.push_back(dense_f(z.back(), l));
  }
  const double b = static_cast<double>(x.rows());
  Eigen::MatrixXd d = ((2.0 / b) * (h.back() - y)).cwiseProduct(dense_f_prime(z.back(), net.back()));
  for (int l = static_cast<int>(net.size()) - 1; l >= 0; --l) {
    Eigen::MatrixXd below;
    if (l > 0) below = (d * net[l].w).cwiseProduct(dense_f_prime(z[l - 1], net[l - 1]));
    net[l].w -= lr * d.transpose() * h[l];
    net[l].b -= lr * d.colwise().sum();
    d = below;
  }
}

// One epoch: minibatches of `batch` rows in order, the last one the remainder.
inline void dense_epoch(std::vector<DenseLayer>& net, const Eigen::MatrixXd& x,
                        const Eigen::MatrixXd& y, int batch, double lr) {
  for (Eigen::Index r = 0; r < x.rows(); r += batch) {
    const Eigen::Index n = std::min<Eigen::Index>(batch, x.rows() - r);
    dense_step(net, x.middleRows(r, n), y.middleRows(r, n), lr);
  }
}

}  // namespace tpu::golden
