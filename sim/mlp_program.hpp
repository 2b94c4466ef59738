// Builds the assembly program that trains a two-layer MLP (leaky ReLU in both layers,
// MSE loss, full batch) entirely on the TPU, and the buffer layout it uses.
// docs/training.md explains the dataflow; this file is its one implementation.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

namespace tpu::sim {

struct MlpShape {
  int dim = 2;         // ArrayDim
  int n0 = 2, n1 = 2, n2 = 1;  // inputs, hidden units, outputs (each at most dim)
  int batch = 4;       // a power of two (the loss scale 2/B is a shift)
  int leak_shift = 1;  // leaky-ReLU slope 2^-leak_shift
  double lr = 0.25;
  // Loss scaling: the loss gradient is computed 2^loss_scale_log2 times larger (the vector
  // unit's scale 2/B becomes 2^(1 + loss_scale_log2)/B) and the learning rate the same
  // factor smaller. In exact arithmetic nothing changes; in Q8.8 the small gradients of
  // late training keep their bits through every rounding instead of flushing to zero.
  // -1 picks the largest the vector unit allows: log2(batch).
  int loss_scale_log2 = -1;
  bool stochastic = false;  // stochastic rounding of the updates (default: to nearest)
  uint32_t seed = 1;
};

// Buffer rows. P (the parameters) and the gradient block G share one layout, so one
// `sgd` updates every parameter: the N-row W1 block, the N-row W2 block (rows past the
// layer's width stay zero, which transposed weight loads rely on), b1, b2.
struct MlpLayout {
  int dim = 2, chunk = 2, chunks = 1;
  int x = 0, y = 0, ones = 0, h1 = 0, d2 = 0, d1 = 0, h2 = 0;
  int p = 0, p_rows = 0;
  int g = 0;  // the gradient block G, accumulated over the batch chunks
  int rows = 0;

  int w1(int base) const { return base; }
  int w2(int base) const { return base + dim; }
  int b1(int base) const { return base + 2 * dim; }
  int b2(int base) const { return base + 2 * dim + 1; }
};

inline MlpLayout mlp_layout(const MlpShape& s) {
  if (s.n0 > s.dim || s.n1 > s.dim || s.n2 > s.dim || s.n0 < 1 || s.n1 < 1 || s.n2 < 1) {
    throw std::invalid_argument("mlp_layout: every layer must fit the array's width");
  }
  if (s.batch < 1 || (s.batch & (s.batch - 1)) != 0) {
    throw std::invalid_argument("mlp_layout: the batch must be a power of two");
  }
  MlpLayout l;
  l.dim = s.dim;
  // The batch is the contraction dimension of the gradient matmuls: it is split into
  // chunks of at most N rows, each giving a partial gradient and its own update.
  l.chunk = std::min(s.batch, s.dim);
  while (s.batch % l.chunk != 0) --l.chunk;
  l.chunks = s.batch / l.chunk;
  int next = 0;
  auto take = [&](int rows) {
    const int at = next;
    next += rows;
    return at;
  };
  // Activation blocks get N spare rows: a transposed read covers N rows.
  l.x = take(s.batch + s.dim);
  l.y = take(s.batch);
  l.ones = take(1);
  l.h1 = take(s.batch + s.dim);
  l.d2 = take(s.batch + s.dim);
  l.d1 = take(s.batch + s.dim);
  l.h2 = take(s.batch);
  l.p_rows = 2 * s.dim + 2;
  l.p = take(l.p_rows);
  l.g = take(l.p_rows);
  l.rows = next;
  return l;
}

inline int log2_exact(int v) {
  int k = 0;
  while ((1 << k) < v) ++k;
  return k;
}

inline int loss_scale_log2(const MlpShape& s) {
  const int max = log2_exact(s.batch);
  const int k = s.loss_scale_log2 < 0 ? max : s.loss_scale_log2;
  if (k > max) throw std::invalid_argument("loss scaling beyond 2/B = 2 is not available");
  return k;
}

// The learning rate as the `sgd` instruction's literal, compensating the loss scaling.
inline std::string lr_literal(const MlpShape& s) {
  std::ostringstream lr;
  lr.setf(std::ios::fixed);
  lr.precision(8);
  lr << std::ldexp(s.lr, -loss_scale_log2(s));
  return lr.str();
}

// One training epoch: forward, the fused loss gradient, backward, the gradients chunk by
// chunk (accumulated in G), and one update.
inline std::string mlp_epoch_asm(const MlpShape& s, const MlpLayout& l) {
  std::ostringstream a;
  const int leak = s.leak_shift;
  a << "  ; forward: H1 = f(X W1^T + b1)\n"
    << "  loadw " << l.w1(l.p) << ", rows=" << s.n0 << ", t\n"
    << "  vpu mask=bias+act, act=leaky, leak=" << leak << ", bias=" << l.b1(l.p) << "\n"
    << "  matmul " << l.x << ", " << l.h1 << ", rows=" << s.batch << ", k=" << s.n0
    << ", n=" << s.n1 << "\n"
    << "  ; last layer and loss: D2 = (2/B)(f(H1 W2^T + b2) - Y) .* f'(Z2)\n"
    << "  loadw " << l.w2(l.p) << ", rows=" << s.n1 << ", t\n"
    << "  vpu mask=bias+act+loss+deriv, act=leaky, leak=" << leak
    << ", batch=" << log2_exact(s.batch) - loss_scale_log2(s) << ", src=z, bias=" << l.b2(l.p)
    << ", side=" << l.y
    << "\n"
    << "  matmul " << l.h1 << ", " << l.d2 << ", rows=" << s.batch << ", k=" << s.n1
    << ", n=" << s.n2 << "\n"
    << "  ; backward: D1 = (D2 W2) .* f'(H1)\n"
    << "  loadw " << l.w2(l.p) << ", rows=" << s.n2 << "\n"
    << "  vpu mask=deriv, act=leaky, leak=" << leak << ", src=s, side=" << l.h1 << "\n"
    << "  matmul " << l.d2 << ", " << l.d1 << ", rows=" << s.batch << ", k=" << s.n2
    << ", n=" << s.n1 << "\n"
    << "  ; gradients, one batch chunk at a time: dW = D^T H, db = 1^T D; chunks after\n"
    << "  ; the first add onto G (matmul acc: out += act x W)\n"
    << "  vpu mask=none\n";
  for (int c = 0; c < l.chunks; ++c) {
    const int off = c * l.chunk;
    const std::string acc = c == 0 ? "" : ", acc";
    a << "  loadw " << l.h1 + off << ", rows=" << l.chunk << "\n"
      << "  matmul " << l.d2 + off << ", " << l.w2(l.g) << ", rows=" << s.n2 << ", k=" << l.chunk
      << ", n=" << s.n1 << ", t" << acc << "\n"
      << "  loadw " << l.x + off << ", rows=" << l.chunk << "\n"
      << "  matmul " << l.d1 + off << ", " << l.w1(l.g) << ", rows=" << s.n1 << ", k=" << l.chunk
      << ", n=" << s.n0 << ", t" << acc << "\n"
      << "  loadw " << l.d1 + off << ", rows=" << l.chunk << "\n"
      << "  matmul " << l.ones << ", " << l.b1(l.g) << ", rows=1, k=" << l.chunk << ", n=" << s.n1
      << acc << "\n"
      << "  loadw " << l.d2 + off << ", rows=" << l.chunk << "\n"
      << "  matmul " << l.ones << ", " << l.b2(l.g) << ", rows=1, k=" << l.chunk << ", n=" << s.n2
      << acc << "\n";
  }
  a << "  sgd " << l.p << ", " << l.g << ", count=" << l.p_rows << ", lr=" << lr_literal(s)
    << (s.stochastic ? ", stochastic" : "") << "\n";
  return a.str();
}

// Inference: H2 = f(f(X W1^T + b1) W2^T + b2) into the h2 rows.
inline std::string mlp_forward_asm(const MlpShape& s, const MlpLayout& l) {
  std::ostringstream a;
  a << "  loadw " << l.w1(l.p) << ", rows=" << s.n0 << ", t\n"
    << "  vpu mask=bias+act, act=leaky, leak=" << s.leak_shift << ", bias=" << l.b1(l.p) << "\n"
    << "  matmul " << l.x << ", " << l.h1 << ", rows=" << s.batch << ", k=" << s.n0
    << ", n=" << s.n1 << "\n"
    << "  loadw " << l.w2(l.p) << ", rows=" << s.n1 << ", t\n"
    << "  vpu mask=bias+act, act=leaky, leak=" << s.leak_shift << ", bias=" << l.b2(l.p) << "\n"
    << "  matmul " << l.h1 << ", " << l.h2 << ", rows=" << s.batch << ", k=" << s.n1
    << ", n=" << s.n2 << "\n";
  return a.str();
}

// The training program: `checkpoints` times { `epochs_per_checkpoint` epochs; an
// inference pass into the h2 rows; sync (the host reads them) }, then halt.
inline std::string mlp_train_program(const MlpShape& s, const MlpLayout& l, int checkpoints,
                                     int epochs_per_checkpoint) {
  std::ostringstream a;
  a << "; two-layer MLP training, generated by sim/mlp_program.hpp\n";
  if (s.stochastic) a << "  seed " << s.seed << "\n";
  a << "  loop " << checkpoints << "\n"
    << "  loop " << epochs_per_checkpoint << "\n"
    << mlp_epoch_asm(s, l) << "  endl\n"
    << mlp_forward_asm(s, l) << "  sync\n"
    << "  endl\n"
    << "  halt\n";
  return a.str();
}

}  // namespace tpu::sim
