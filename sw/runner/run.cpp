#include "sw/runner/run.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <utility>

#include "sw/runner/report.hpp"
#include "sw/runner/session.hpp"

namespace tpu::runner {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

compiler::Dataset load(const compiler::Model& m, const std::string& path) {
  return compiler::load_csv(path, m.inputs, m.layers.back().units, m.data.targets,
                            m.data.feature_scale);
}

double accuracy_or_nan(bool classifier, const Eigen::MatrixXd& pred, const compiler::Dataset* d) {
  if (!classifier || d == nullptr) return kNaN;
  return accuracy(pred, d->labels);
}

}  // namespace

bool is_classifier(const compiler::Model& m) {
  return m.data.targets == compiler::Targets::kOneHot;
}

Problem prepare(const std::string& model_path, const Overrides& o) {
  Problem p;
  p.model = compiler::load_model(model_path);
  compiler::Model& m = p.model;
  compiler::TrainingSpec& t = m.training;
  if (o.batch) t.batch = *o.batch;
  if (o.learning_rate) t.learning_rate = *o.learning_rate;
  if (o.eval_every) t.eval_every = *o.eval_every;
  if (o.epochs) t.epochs = *o.epochs;
  if (o.init_seed) m.init.seed = *o.init_seed;
  if (t.epochs % t.eval_every != 0) {
    throw UsageError((o.epochs ? "--epochs " : "training.epochs ") + std::to_string(t.epochs) +
                     " is not a multiple of " +
                     (o.eval_every ? "--eval-every " : "training.eval_every ") +
                     std::to_string(t.eval_every) + (o.eval_every ? "" : " (give --eval-every)"));
  }
  if (o.epochs || o.eval_every || o.batch || o.learning_rate) {
    try {
      compiler::validate(m, model_path);
    } catch (const compiler::ModelError& e) {
      throw UsageError(std::string(e.what()) + " (after the command line's changes)");
    }
  }

  if (!o.train.empty()) {
    p.train_path = o.train;
  } else if (!m.data.train.empty()) {
    p.train_path = compiler::data_path(m, m.data.train);
  } else {
    throw std::runtime_error(model_path + ": the model names no data.train file; give --train");
  }
  if (!o.test.empty()) {
    p.test_path = o.test;
  } else if (!m.data.test.empty()) {
    p.test_path = compiler::data_path(m, m.data.test);
  }
  p.train = load(m, p.train_path);
  if (!p.test_path.empty()) p.test = load(m, p.test_path);
  if (o.shuffle_seed) shuffle_rows(p.train, *o.shuffle_seed);

  if (!o.init_params.empty()) {
    p.init = read_params_json(o.init_params, m);
    p.init_from = o.init_params;
  } else {
    p.init = compiler::init_params(m);
    p.init_from = "init.seed " + std::to_string(m.init.seed);
  }
  return p;
}

compiler::Compiled compile_for(const Problem& p, const runtime::Device& dev) {
  return compiler::compile(p.model, compiler::Target{dev.dim(), dev.ub_depth(), dev.imem_depth()},
                           compiler::DataShape{p.train.rows(), p.test ? p.test->rows() : 0});
}

void shuffle_rows(compiler::Dataset& d, uint64_t seed) {
  // Fisher-Yates with a plain modulo: std::shuffle's draws differ between libraries.
  std::mt19937_64 rng(seed);
  std::vector<int> order(static_cast<std::size_t>(d.rows()));
  for (int i = 0; i < d.rows(); ++i) order[static_cast<std::size_t>(i)] = i;
  for (int i = d.rows() - 1; i > 0; --i) {
    std::swap(order[static_cast<std::size_t>(i)],
              order[static_cast<std::size_t>(rng() % static_cast<uint64_t>(i + 1))]);
  }
  compiler::Dataset s;
  s.x.resize(d.x.rows(), d.x.cols());
  s.y.resize(d.y.rows(), d.y.cols());
  for (int i = 0; i < d.rows(); ++i) {
    const int from = order[static_cast<std::size_t>(i)];
    s.x.row(i) = d.x.row(from);
    s.y.row(i) = d.y.row(from);
    if (!d.labels.empty()) s.labels.push_back(d.labels[static_cast<std::size_t>(from)]);
  }
  d = std::move(s);
}

std::vector<golden::DenseLayer> dense_net(const compiler::Model& m,
                                          const std::vector<compiler::LayerParams>& params) {
  std::vector<golden::DenseLayer> net;
  for (std::size_t l = 0; l < params.size(); ++l) {
    golden::DenseLayer d;
    d.w = params[l].w;
    d.b = params[l].b;
    const compiler::LayerSpec& s = m.layers.at(l);
    switch (s.activation) {
      case compiler::Activation::kIdentity:
        d.act = golden::DenseAct::kIdentity;
        break;
      case compiler::Activation::kRelu:
        d.act = golden::DenseAct::kRelu;
        break;
      case compiler::Activation::kLeakyRelu:
        d.act = golden::DenseAct::kLeakyRelu;
        break;
    }
    d.slope = std::ldexp(1.0, -s.leak_shift);
    net.push_back(std::move(d));
  }
  return net;
}

RunResult run(const Problem& p, const compiler::Compiled& c, runtime::Device& dev,
              const RunOptions& o) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  const compiler::Model& m = p.model;
  const bool classifier = is_classifier(m);
  const compiler::Dataset* test = p.test ? &*p.test : nullptr;
  const int every = m.training.eval_every;
  const int checkpoints = m.training.epochs / every;

  Session s(c, dev);
  s.load(p.init, p.train, test);
  RunResult r;
  // The reference starts from what the TPU holds, read back, not from what was meant to go in.
  r.initial = s.read_params();
  r.float_initial = dense_net(m, r.initial);
  std::vector<golden::DenseLayer> net = r.float_initial;

  uint64_t wraps = 0, last_raw = 0;  // CSR 1 is 32 bits: count its wraps between reads
  auto cycles = [&] {
    const uint64_t raw = dev.cycles();
    if (raw < last_raw) ++wraps;
    last_raw = raw;
    return (wraps << 32) + raw;
  };
  double per_checkpoint = 0;  // cycles of the last checkpoint: the progress bar's yardstick
  uint64_t at_last = 0;
  const auto on_slice = [&](uint64_t done) {
    if (!o.on_progress) return;
    const double within = per_checkpoint > 0 ? std::min(0.99, done / per_checkpoint) : 0.0;
    o.on_progress((static_cast<double>(r.checkpoints.size()) + within) / checkpoints,
                  at_last + done);
  };
  // The functional engine counts instructions; cycle engines count cycles.
  const auto progress_count = [&](uint64_t cyc) { return cyc != 0 ? cyc : dev.instructions(); };

  s.start();
  while (s.run_to_sync(o.max_cycles, o.on_progress ? o.slice : 0, on_slice)) {
    Checkpoint cp;
    cp.epoch = every * (static_cast<int>(r.checkpoints.size()) + 1);
    r.pred_train = s.read("pred_train");
    if (test) r.pred_test = s.read("pred_test");
    const uint64_t cyc = cycles();
    cp.loss = mse(r.pred_train, p.train.y);
    cp.train_acc = accuracy_or_nan(classifier, r.pred_train, &p.train);
    cp.test_acc = accuracy_or_nan(classifier, r.pred_test, test);
    cp.cycles = cyc != 0 ? static_cast<double>(cyc) : kNaN;
    cp.instructions = dev.instructions();
    cp.float_loss = cp.float_train_acc = cp.float_test_acc = kNaN;
    if (o.float_reference) {
      for (int e = 0; e < every; ++e) {
        golden::dense_epoch(net, p.train.x, p.train.y, m.training.batch, m.training.learning_rate);
      }
      r.float_pred_train = golden::dense_forward(net, p.train.x);
      cp.float_loss = mse(r.float_pred_train, p.train.y);
      cp.float_train_acc = accuracy_or_nan(classifier, r.float_pred_train, &p.train);
      if (test) {
        r.float_pred_test = golden::dense_forward(net, test->x);
        cp.float_test_acc = accuracy_or_nan(classifier, r.float_pred_test, test);
      }
    }
    const uint64_t count = progress_count(cyc);
    per_checkpoint = static_cast<double>(count - at_last);
    at_last = count;
    cp.seconds = seconds();
    r.checkpoints.push_back(cp);
    if (o.on_checkpoint) o.on_checkpoint(cp);
    s.resume();
  }
  if (static_cast<int>(r.checkpoints.size()) != checkpoints) {
    throw runtime::DeviceError("the program ended after " + std::to_string(r.checkpoints.size()) +
                               " checkpoints, " + std::to_string(checkpoints) + " expected");
  }
  r.params = s.read_params();
  if (o.float_reference) r.float_net = std::move(net);
  r.cycles = cycles();
  r.instructions = dev.instructions();
  r.seconds = seconds();
  return r;
}

Eigen::MatrixXi confusion(const Eigen::MatrixXd& pred, const std::vector<int>& labels,
                          int classes) {
  Eigen::MatrixXi m = Eigen::MatrixXi::Zero(classes, classes);
  for (Eigen::Index r = 0; r < pred.rows() && r < static_cast<Eigen::Index>(labels.size()); ++r) {
    Eigen::Index c = 0;
    pred.row(r).maxCoeff(&c);
    ++m(labels[static_cast<std::size_t>(r)], c);
  }
  return m;
}

}  // namespace tpu::runner
