#include "sw/compiler/compiler.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sw/asm/assembler.hpp"

namespace tpu::compiler {

std::string weight_name(int l) { return "W" + std::to_string(l); }
std::string bias_name(int l) { return "b" + std::to_string(l); }

const Tensor& Compiled::tensor(const std::string& name) const {
  for (const Tensor& t : tensors) {
    if (t.name == name) return t;
  }
  throw std::out_of_range("no tensor '" + name + "' in the memory map");
}

bool Compiled::has(const std::string& name) const {
  return std::any_of(tensors.begin(), tensors.end(), [&](const Tensor& t) { return t.name == name; });
}

std::string Compiled::memory_map_json() const {
  nlohmann::ordered_json j;
  j["model"] = model.name;
  j["target"] = {{"array_dim", target.dim},
                 {"ub_depth", target.ub_depth},
                 {"imem_depth", target.imem_depth}};
  j["rows_used"] = ub_rows;
  j["words"] = words.size();
  j["data"] = {{"train", data.train}, {"test", data.test}};
  j["batches_per_epoch"] = batches;
  j["tail_batch"] = tail;
  j["checkpoints"] = checkpoints;
  j["epochs_per_checkpoint"] = model.training.eval_every;
  j["macs_per_epoch"] = macs_per_epoch;
  for (const StepInfo& s : steps) {
    j["steps"].push_back({{"batch", s.batch},
                          {"batch_log2", s.batch_log2},
                          {"loss_scale_log2", s.loss_scale_log2},
                          {"lr_q88", s.lr_q88},
                          {"lr", s.lr_literal}});
  }
  for (const Tensor& t : tensors) {
    j["tensors"].push_back({{"name", t.name},
                            {"role", t.role},
                            {"addr", t.addr},
                            {"rows", t.rows},
                            {"cols", t.cols},
                            {"panels", t.panels},
                            {"rows_alloc", t.rows_alloc},
                            {"walked", t.walked}});
  }
  return j.dump(2) + "\n";
}

namespace {

int ceil_div(int a, int b) { return (a + b - 1) / b; }
int ceil_log2(int v) {
  int k = 0;
  while ((1 << k) < v) ++k;
  return k;
}

// --- The graph: operations over named tensors. ----------------------------------------------
//
// Every operation is a matmul on the array with the vector unit fused behind it, because that
// is the datapath: a vector-unit operation never stands alone.

struct Epilogue {
  std::string bias;           // "" none: the bias row per output tile
  bool act = false;
  Activation fn = Activation::kIdentity;
  int leak = 0;
  std::string loss_target;    // "" none: the loss gradient against this tensor
  int batch_log2 = 0;
  bool deriv = false;
  std::string deriv_side;     // "" derivative of this row's own pre-activation, else a tensor
};

enum class OpKind {
  kLinear,      // out = epi(concat(in) W^T): the forward pass of a dense layer
  kLinearBack,  // out = epi(in[0] W): the error propagated to the layer's input
  kWeightGrad,  // out = in[0]^T concat(in[1..]) (W's layout), out_bias = 1^T in[0]
  kUpdate,      // sgd: params -= lr * grads
};

struct Op {
  OpKind kind = OpKind::kLinear;
  std::string out, out_bias, weight;
  std::vector<std::string> in;
  Epilogue epi;
  int rows = 0;       // batch rows this op covers
  int lr_q88 = 0;     // update
  std::string comment;
};

// --- Lowering: operations to instructions. ---------------------------------------------------

class Emitter {
 public:
  Emitter(const Compiled& c, bool stochastic) : c_(c), n_(c.target.dim), stochastic_(stochastic) {}

  std::string text() const { return out_.str(); }
  uint64_t macs() const { return macs_; }
  void reset_macs() { macs_ = 0; }

  void line(const std::string& s) { out_ << std::string(2 * (depth_ + 1), ' ') << s << "\n"; }
  void comment(const std::string& s) { out_ << std::string(2 * (depth_ + 1), ' ') << "; " << s << "\n"; }
  void raw(const std::string& s) { out_ << s << "\n"; }

  // `loop count` ... `endl`; a count of 1 needs no loop. The vector unit's setting is
  // unknown at a loop's top (the back edge comes from the end of the body).
  void loop_begin(int count) {
    if (count > 1) {
      line("loop " + std::to_string(count));
      ++depth_;
    }
    loops_.push_back(count > 1);
    vpu_.reset();
  }
  void loop_end() {
    if (loops_.back()) {
      --depth_;
      line("endl");
    }
    loops_.pop_back();
    vpu_.reset();
  }

  // A row of a tensor: panel p, row r (through a1 when the tensor is walked).
  std::string row(const std::string& name, int p, int r) const {
    const Tensor& t = c_.tensor(name);
    const int a = t.panel(p) + r;
    return t.walked ? "a1+" + std::to_string(a) : std::to_string(a);
  }

  void vpu(const std::string& mask, const Epilogue& e, bool with_act_fields, const std::string& bias,
           const std::string& side, bool src_s) {
    std::ostringstream v;
    v << "vpu mask=" << (mask.empty() ? "none" : mask);
    if (with_act_fields) {
      v << ", act=" << (e.fn == Activation::kIdentity ? "identity"
                        : e.fn == Activation::kRelu   ? "relu"
                                                      : "leaky")
        << ", leak=" << e.leak;
    }
    if (mask.find("loss") != std::string::npos) v << ", batch=" << e.batch_log2;
    if (src_s) v << ", src=s";
    if (!bias.empty()) v << ", bias=" << bias;
    if (!side.empty()) v << ", side=" << side;
    const std::string s = v.str();
    if (vpu_ && *vpu_ == s) return;
    line(s);
    vpu_ = s;
  }

  void matmul(const std::string& act, const std::string& out, int rows, int k, int n, bool t,
              bool acc) {
    std::ostringstream m;
    m << "matmul " << act << ", " << out << ", rows=" << rows << ", k=" << k << ", n=" << n
      << (t ? ", t" : "") << (acc ? ", acc" : "");
    line(m.str());
    macs_ += static_cast<uint64_t>(rows) * k * n;
  }

  void loadw(const std::string& addr, int rows, bool t) {
    line("loadw " + addr + ", rows=" + std::to_string(rows) + (t ? ", t" : ""));
  }

  // Width of panel p of a tensor with `cols` columns.
  int width(int cols, int p) const { return std::min(n_, cols - p * n_); }

  // The K panels of a concatenation of tensors: (tensor, panel within it, width).
  struct KPanel {
    std::string tensor;
    int panel, width;
  };
  std::vector<KPanel> k_panels(const std::vector<std::string>& ins) const {
    std::vector<KPanel> v;
    for (const auto& name : ins) {
      const Tensor& t = c_.tensor(name);
      for (int p = 0; p < t.panels; ++p) v.push_back({name, p, width(t.cols, p)});
    }
    return v;
  }

  void lower(const Op& op) {
    if (!op.comment.empty()) comment(op.comment);
    switch (op.kind) {
      case OpKind::kLinear: return linear(op);
      case OpKind::kLinearBack: return linear_back(op);
      case OpKind::kWeightGrad: return weight_grad(op);
      case OpKind::kUpdate: return update(op);
    }
  }

 private:
  // Row pieces of at most 1023 rows (the matmul's rows field).
  static std::vector<std::pair<int, int>> row_pieces(int rows) {
    std::vector<std::pair<int, int>> v;
    for (int r = 0; r < rows; r += 1016) v.push_back({r, std::min(1016, rows - r)});
    return v;
  }

  // out = epi(concat(in) W^T): the K panels accumulate into the output rows (matmul acc); the
  // bias enters with the first panel, the activation, loss and derivative with the last, so
  // the pre-activation z the last stage sees is the whole sum. Panels outer, output tiles
  // inner: consecutive matmuls write different tiles, so an accumulating matmul never waits
  // for the one before it (its rows were written a whole sweep of tiles earlier).
  void linear(const Op& op) {
    const Tensor& o = c_.tensor(op.out);
    const auto ks = k_panels(op.in);
    for (size_t p = 0; p < ks.size(); ++p) {
      const bool first = p == 0, last = p + 1 == ks.size();
      std::string mask;
      auto add = [&](const char* b) { mask += (mask.empty() ? "" : "+") + std::string(b); };
      const bool bias = first && !op.epi.bias.empty();
      if (bias) add("bias");
      if (last && op.epi.act) add("act");
      const bool loss = last && !op.epi.loss_target.empty();
      if (loss) add("loss");
      const bool deriv = last && op.epi.deriv;
      if (deriv) add("deriv");
      for (int j = 0; j < o.panels; ++j) {
        const int nj = width(o.cols, j);
        loadw(row(op.weight, static_cast<int>(p), j * n_), ks[p].width, true);
        for (const auto& [r0, rows] : row_pieces(op.rows)) {
          vpu(mask, op.epi, last && (op.epi.act || deriv), bias ? row(op.epi.bias, j, 0) : "",
              loss ? row(op.epi.loss_target, j, r0) : "", false);
          matmul(row(ks[p].tensor, ks[p].panel, r0), row(op.out, j, r0), rows, ks[p].width, nj,
                 false, !first);
        }
      }
    }
  }

  // out = epi(dZ W): every output panel p accumulates over the tiles j of dZ; tiles of dZ
  // outer, output panels inner, for the same reason as above.
  void linear_back(const Op& op) {
    const Tensor& d = c_.tensor(op.in[0]);
    const Tensor& o = c_.tensor(op.out);
    for (int j = 0; j < d.panels; ++j) {
      const int nj = width(d.cols, j);
      const bool first = j == 0, last = j + 1 == d.panels;
      const bool deriv = last && op.epi.deriv;
      for (int p = 0; p < o.panels; ++p) {
        const int kp = width(o.cols, p);
        loadw(row(op.weight, p, j * n_), nj, false);
        for (const auto& [r0, rows] : row_pieces(op.rows)) {
          vpu(deriv ? "deriv" : "", op.epi, deriv, "",
              deriv ? row(op.epi.deriv_side, p, r0) : "", deriv);
          matmul(row(op.in[0], j, r0), row(op.out, p, r0), rows, nj, kp, false, !first);
        }
      }
    }
  }

  // gW = dZ^T A and gb = 1^T dZ, contracting over the batch in chunks of at most N rows
  // (the array's K): dZ's chunk read transposed, A's chunk loaded as weights. Chunks after
  // the first add onto the gradient (acc). Each A chunk is loaded once for every output tile.
  void weight_grad(const Op& op) {
    const Tensor& d = c_.tensor(op.in[0]);
    const std::vector<std::string> as(op.in.begin() + 1, op.in.end());
    const auto ks = k_panels(as);
    vpu("", op.epi, false, "", "", false);
    for (int c0 = 0; c0 < op.rows; c0 += n_) {
      const int bc = std::min(n_, op.rows - c0);
      const bool acc = c0 > 0;
      for (size_t p = 0; p < ks.size(); ++p) {
        loadw(row(ks[p].tensor, ks[p].panel, c0), bc, false);
        for (int j = 0; j < d.panels; ++j) {
          matmul(row(op.in[0], j, c0), row(op.out, static_cast<int>(p), j * n_),
                 width(d.cols, j), bc, ks[p].width, true, acc);
        }
      }
      for (int j = 0; j < d.panels; ++j) {
        loadw(row(op.in[0], j, c0), bc, false);
        matmul(row("ones", 0, 0), row(op.out_bias, j, 0), 1, bc, width(d.cols, j), false, acc);
      }
    }
  }

  void update(const Op& op) {
    const Tensor& p = c_.tensor(op.out);
    const Tensor& g = c_.tensor(op.in[0]);
    for (int r = 0; r < op.rows; r += 2047) {
      const int count = std::min(2047, op.rows - r);
      line("sgd " + std::to_string(p.addr + r) + ", " + std::to_string(g.addr + r) +
           ", count=" + std::to_string(count) + ", lr=" + std::to_string(op.lr_q88) + "q" +
           (stochastic_ ? ", stochastic" : ""));
    }
  }

  const Compiled& c_;
  int n_;
  bool stochastic_;
  std::ostringstream out_;
  int depth_ = 0;
  std::vector<bool> loops_;
  std::optional<std::string> vpu_;
  uint64_t macs_ = 0;
};

// --- Allocation. -----------------------------------------------------------------------------

class Allocator {
 public:
  Allocator(Compiled& c) : c_(c), n_(c.target.dim) {}
  // rows_alloc: rows per panel (at least `rows`).
  void add(const std::string& name, const std::string& role, int rows, int cols, int rows_alloc,
           bool walked = false) {
    Tensor t;
    t.name = name;
    t.role = role;
    t.rows = rows;
    t.cols = cols;
    t.rows_alloc = rows_alloc;
    t.panels = ceil_div(cols, n_);
    t.addr = next_;
    t.walked = walked;
    next_ += t.size();
    c_.tensors.push_back(t);
  }
  int next() const { return next_; }

 private:
  Compiled& c_;
  int n_;
  int next_ = 0;
};

StepInfo step_info(const Model& m, int batch) {
  StepInfo s;
  s.batch = batch;
  const int full = ceil_log2(batch);
  s.loss_scale_log2 = m.training.loss_scale_log2 < 0 ? full
                                                     : std::min(m.training.loss_scale_log2, full);
  s.batch_log2 = full - s.loss_scale_log2;
  // The vector unit computes 2^(1 - batch_log2) (H - Y); the math asks for 2/B: the learning
  // rate carries the rest.
  s.lr_literal = m.training.learning_rate * std::ldexp(1.0, s.batch_log2) / batch;
  const double q = std::round(s.lr_literal * 256.0);
  if (q < 1) {
    std::ostringstream e;
    e << "the learning rate " << m.training.learning_rate << " at minibatch " << batch
      << " with loss scale 2^" << s.loss_scale_log2 << " is " << s.lr_literal
      << " per update, below the sgd's Q8.8 resolution (1/256): lower "
         "training.loss_scale_log2 or raise the learning rate";
    throw CompileError(e.str());
  }
  if (q > 32767) throw CompileError("the learning rate does not fit the sgd's Q8.8 field");
  s.lr_q88 = static_cast<int>(q);
  return s;
}

}  // namespace

Compiled compile(const Model& m, const Target& t, const DataShape& d, Mode mode) {
  if (t.dim < 2 || t.dim > 63) throw CompileError("ArrayDim must be 2 to 63");
  validate(m, m.source.empty() ? "model" : m.source);
  if (d.train < 1) throw CompileError("the training set is empty");
  Compiled c;
  c.target = t;
  c.model = m;
  c.data = d;
  const int n = t.dim;
  const int layers = static_cast<int>(m.layers.size());
  const int batch = std::min(m.training.batch, d.train);
  const bool train = mode != Mode::kInference;
  c.batches = d.train / batch;
  c.tail = d.train % batch;
  c.checkpoints = mode == Mode::kTrain ? m.training.epochs / m.training.eval_every : 1;

  auto width_of = [&](int l) { return l == 0 ? m.inputs : m.layers[l - 1].units; };

  // Parameters, then gradients in the same layout, so one sgd covers them all. Weight panels
  // have whole N-row blocks: the rows past a layer's width stay zero, which transposed weight
  // loads rely on.
  Allocator a(c);
  auto params = [&](const std::string& prefix, const std::string& role) {
    for (int l = 1; l <= layers; ++l) {
      a.add(prefix + weight_name(l), role, width_of(l), width_of(l - 1),
            ceil_div(width_of(l), n) * n);
    }
    for (int l = 1; l <= layers; ++l) {
      // One row per output tile: panel j of the bias is row j.
      a.add(prefix + bias_name(l), role, 1, width_of(l), 1);
    }
  };
  const int p_start = a.next();
  params("", "param");
  const int p_rows = a.next() - p_start;
  if (train) params("g", "grad");
  a.add("ones", "const", 1, n, 1);
  // Scratch: per layer the activations H<l> (minibatch rows) and, for training, the error
  // D<l> with N spare rows (its chunks are read transposed, N rows at a time).
  for (int l = 1; l < layers; ++l) a.add("H" + std::to_string(l), "scratch", batch, width_of(l), batch);
  if (train) {
    for (int l = 1; l <= layers; ++l) {
      a.add("D" + std::to_string(l), "scratch", batch, width_of(l), batch + n);
    }
  }
  // Datasets, walked by a1 one minibatch at a time.
  a.add("x_train", "input", d.train, m.inputs, d.train, true);
  if (train) a.add("y_train", "target", d.train, width_of(layers), d.train, true);
  a.add("pred_train", "output", d.train, width_of(layers), d.train, true);
  if (train && d.test > 0) {
    a.add("x_test", "input", d.test, m.inputs, d.test, true);
    a.add("pred_test", "output", d.test, width_of(layers), d.test, true);
  }
  c.ub_rows = a.next();
  if (c.ub_rows > t.ub_depth) {
    std::ostringstream e;
    e << "the model needs " << c.ub_rows << " buffer rows but the buffer has " << t.ub_depth
      << " (" << c.ub_rows - t.ub_depth << " too many at ArrayDim " << n << "); the largest:";
    std::vector<Tensor> by_size = c.tensors;
    std::sort(by_size.begin(), by_size.end(),
              [](const Tensor& x, const Tensor& y) { return x.size() > y.size(); });
    for (size_t i = 0; i < by_size.size() && i < 3; ++i) {
      e << (i ? ", " : " ") << by_size[i].name << " " << by_size[i].size() << " rows";
    }
    throw CompileError(e.str());
  }

  // The graph of one forward pass over `rows` rows of dataset `x` into `out` (the last layer's
  // output), or, with `targets`, of one training step.
  auto forward = [&](int rows, const std::string& x, const std::string& out,
                     const std::string& targets, int batch_log2) {
    std::vector<Op> ops;
    for (int l = 1; l <= layers; ++l) {
      const LayerSpec& ls = m.layers[l - 1];
      Op op;
      op.kind = OpKind::kLinear;
      op.rows = rows;
      op.in = {l == 1 ? x : "H" + std::to_string(l - 1)};
      op.weight = weight_name(l);
      op.epi.bias = bias_name(l);
      op.epi.act = ls.activation != Activation::kIdentity;
      op.epi.fn = ls.activation;
      op.epi.leak = ls.leak_shift;
      const bool top = l == layers;
      if (top && !targets.empty()) {
        // The last layer and the loss gradient in one pass: D = (2/B)(f(Z) - Y) .* f'(Z).
        op.out = "D" + std::to_string(l);
        op.epi.loss_target = targets;
        op.epi.batch_log2 = batch_log2;
        op.epi.deriv = ls.activation != Activation::kIdentity;
        op.comment = "layer " + std::to_string(l) + " and the loss gradient: D" +
                     std::to_string(l) + " = (2/B)(f(H W^T + b) - Y) .* f'(Z)";
      } else {
        op.out = top ? out : "H" + std::to_string(l);
        op.comment = "layer " + std::to_string(l) + ": " + op.out + " = f(" + op.in[0] + " " +
                     op.weight + "^T + " + op.epi.bias + ")";
      }
      ops.push_back(op);
    }
    return ops;
  };
  auto train_step = [&](int rows, const StepInfo& s) {
    std::vector<Op> ops = forward(rows, "x_train", "", "y_train", s.batch_log2);
    for (int l = layers; l >= 2; --l) {
      const LayerSpec& below = m.layers[l - 2];
      Op op;
      op.kind = OpKind::kLinearBack;
      op.rows = rows;
      op.in = {"D" + std::to_string(l)};
      op.weight = weight_name(l);
      op.out = "D" + std::to_string(l - 1);
      op.epi.fn = below.activation;
      op.epi.leak = below.leak_shift;
      op.epi.deriv = below.activation != Activation::kIdentity;
      op.epi.deriv_side = "H" + std::to_string(l - 1);
      op.comment = "backward: D" + std::to_string(l - 1) + " = (D" + std::to_string(l) + " " +
                   op.weight + ") .* f'(H" + std::to_string(l - 1) + ")";
      ops.push_back(op);
    }
    for (int l = layers; l >= 1; --l) {
      Op op;
      op.kind = OpKind::kWeightGrad;
      op.rows = rows;
      op.in = {"D" + std::to_string(l), l == 1 ? "x_train" : "H" + std::to_string(l - 1)};
      op.out = "g" + weight_name(l);
      op.out_bias = "g" + bias_name(l);
      op.comment = "gradients: g" + weight_name(l) + " = D" + std::to_string(l) + "^T " +
                   op.in[1] + ", g" + bias_name(l) + " = 1^T D" + std::to_string(l);
      ops.push_back(op);
    }
    Op up;
    up.kind = OpKind::kUpdate;
    up.out = weight_name(1);  // the parameter block starts at W1
    up.in = {"g" + weight_name(1)};
    up.rows = p_rows;
    up.lr_q88 = s.lr_q88;
    up.comment = "update every parameter: P -= " + std::to_string(s.lr_q88) + "/256 * G";
    ops.push_back(up);
    return ops;
  };

  Emitter e(c, m.training.rounding == Rounding::kStochastic);
  {
    std::string shape;
    for (const auto& l : m.layers) shape += "-" + std::to_string(l.units);
    e.raw("; " + m.name + ": model " + std::to_string(m.inputs) + shape + " at ArrayDim " +
          std::to_string(n) + ", compiled by tpu-cc (sw/compiler, docs/compiler.md)");
  }

  auto inference_pass = [&](const std::string& x, const std::string& out, int rows_total) {
    const int full = rows_total / batch, rest = rows_total % batch;
    e.comment("inference over " + x + " (" + std::to_string(rows_total) + " rows) into " + out);
    e.line("seta a1, 0");
    if (full > 0) {
      e.loop_begin(full);
      for (const Op& op : forward(batch, x, out, "", 0)) e.lower(op);
      e.line("adda a1, " + std::to_string(batch));
      e.loop_end();
    }
    if (rest > 0) {
      for (const Op& op : forward(rest, x, out, "", 0)) e.lower(op);
    }
  };

  if (train) {
    // The per-minibatch numerics, and a separate step for a last partial minibatch.
    c.steps.push_back(step_info(m, batch));
    if (c.tail > 0) c.steps.push_back(step_info(m, c.tail));
    // The actual pointer to the parameter block for the update is its first tensor.
    if (c.tensor(weight_name(1)).addr != p_start) throw CompileError("internal: parameter block");
    if (m.training.rounding == Rounding::kStochastic) {
      e.line("seed " + std::to_string(m.training.sgd_seed));
    }
    const bool eval = mode == Mode::kTrain;
    e.loop_begin(c.checkpoints);
    e.loop_begin(eval ? m.training.eval_every : 1);
    e.comment("one epoch: " + std::to_string(c.batches) + " minibatches of " +
              std::to_string(batch) + (c.tail ? " and one of " + std::to_string(c.tail) : ""));
    e.line("seta a1, 0");
    e.reset_macs();
    e.loop_begin(c.batches);
    for (const Op& op : train_step(batch, c.steps[0])) e.lower(op);
    e.line("adda a1, " + std::to_string(batch));
    e.loop_end();
    c.macs_per_epoch = e.macs() * c.batches;
    if (c.tail > 0) {
      e.reset_macs();
      for (const Op& op : train_step(c.tail, c.steps[1])) e.lower(op);
      c.macs_per_epoch += e.macs();
    }
    e.loop_end();
    if (eval) {
      e.reset_macs();
      inference_pass("x_train", "pred_train", d.train);
      c.macs_per_inference = e.macs();
      if (d.test > 0) inference_pass("x_test", "pred_test", d.test);
      e.line("sync");
    }
    e.loop_end();
    e.line("halt");
  } else {
    e.reset_macs();
    inference_pass("x_train", "pred_train", d.train);
    c.macs_per_inference = e.macs();
    e.line("halt");
  }
  c.assembly = e.text();
  try {
    c.words = assembler::assemble(c.assembly, m.name + ".s").words;
  } catch (const std::exception& ex) {
    throw CompileError(std::string("internal: the generated program does not assemble: ") +
                       ex.what());
  }
  if (static_cast<int>(c.words.size()) > t.imem_depth) {
    throw CompileError("the program is " + std::to_string(c.words.size()) +
                       " words but instruction memory holds " + std::to_string(t.imem_depth) +
                       " (" + std::to_string(c.words.size() - t.imem_depth) + " too many)");
  }
  return c;
}

}  // namespace tpu::compiler
