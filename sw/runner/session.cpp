#include "sw/runner/session.hpp"

#include <algorithm>
#include <stdexcept>

namespace tpu::runner {

Session::Session(const compiler::Compiled& c, runtime::Device& dev) : c_(c), dev_(dev) {
  if (dev.dim() != c.target.dim || dev.ub_depth() < c.ub_rows ||
      dev.imem_depth() < static_cast<int>(c.words.size())) {
    throw std::invalid_argument(
        "the program was compiled for ArrayDim " + std::to_string(c.target.dim) + ", " +
        std::to_string(c.ub_rows) + " buffer rows and " + std::to_string(c.words.size()) +
        " instruction words; the " + dev.name() + " device has ArrayDim " +
        std::to_string(dev.dim()) + ", " + std::to_string(dev.ub_depth()) + " rows and " +
        std::to_string(dev.imem_depth()) + " words");
  }
}

void Session::write(const std::string& tensor, const Eigen::MatrixXd& m) {
  const compiler::Tensor& t = c_.tensor(tensor);
  dev_.write_rows(t.addr, compiler::pack(m, t, c_.target.dim));
}

void Session::load(const std::vector<compiler::LayerParams>& params,
                   const compiler::Dataset& train, const compiler::Dataset* test) {
  if (params.size() != c_.model.layers.size()) {
    throw std::invalid_argument("parameters for " + std::to_string(params.size()) +
                                " layers, the model has " +
                                std::to_string(c_.model.layers.size()));
  }
  if (train.rows() != c_.data.train || (test ? test->rows() : 0) != (c_.has("x_test") ? c_.data.test : 0)) {
    throw std::invalid_argument("the datasets do not have the row counts the program was compiled for");
  }
  for (const compiler::Tensor& t : c_.tensors) {
    if (t.role == "grad" || t.role == "scratch" || t.role == "output") {
      dev_.write_rows(t.addr, std::vector<runtime::Row>(t.size(), runtime::Row(c_.target.dim, 0)));
    }
  }
  for (size_t l = 0; l < params.size(); ++l) {
    write(compiler::weight_name(static_cast<int>(l) + 1), params[l].w);
    write(compiler::bias_name(static_cast<int>(l) + 1), params[l].b);
  }
  write("ones", Eigen::MatrixXd::Ones(1, c_.target.dim));
  write("x_train", train.x);
  if (c_.has("y_train")) write("y_train", train.y);
  if (test && c_.has("x_test")) write("x_test", test->x);
  dev_.load_program(c_.words);
}

void Session::start() { dev_.start(); }
void Session::resume() { dev_.resume(); }

namespace {

bool at_sync(const runtime::Status& s) {
  if (s.state == runtime::State::kSync) return true;
  if (s.state == runtime::State::kDone) return false;
  throw runtime::DeviceError("the TPU stopped: " + runtime::to_string(s));
}

}  // namespace

bool Session::run_to_sync(uint64_t max_cycles) { return at_sync(dev_.run(max_cycles)); }

bool Session::run_to_sync(uint64_t max_cycles, uint64_t slice,
                          const std::function<void(uint64_t)>& on_slice) {
  if (slice == 0 || slice >= max_cycles) return run_to_sync(max_cycles);
  uint64_t done = 0;
  for (;;) {
    const uint64_t n = std::min(slice, max_cycles - done);
    try {
      return at_sync(dev_.run(n));
    } catch (const runtime::TimeoutError&) {
      done += n;  // a later run() carries on where this one stopped
      if (done >= max_cycles) {
        throw runtime::TimeoutError("run: the program did not stop within " +
                                    std::to_string(max_cycles) +
                                    (dev_.name() == "functional" ? " instructions" : " cycles") +
                                    " (" + runtime::to_string(dev_.status()) + ")");
      }
      if (on_slice) on_slice(done);
    }
  }
}

Eigen::MatrixXd Session::read(const std::string& tensor) {
  const compiler::Tensor& t = c_.tensor(tensor);
  return compiler::unpack(dev_.read_rows(t.addr, t.size()), t, c_.target.dim);
}

std::vector<compiler::LayerParams> Session::read_params() {
  std::vector<compiler::LayerParams> p;
  for (size_t l = 1; l <= c_.model.layers.size(); ++l) {
    compiler::LayerParams lp;
    lp.w = read(compiler::weight_name(static_cast<int>(l)));
    lp.b = read(compiler::bias_name(static_cast<int>(l)));
    p.push_back(std::move(lp));
  }
  return p;
}

double accuracy(const Eigen::MatrixXd& pred, const std::vector<int>& labels) {
  if (labels.empty()) return 0;
  int right = 0;
  for (int r = 0; r < pred.rows(); ++r) {
    Eigen::Index c = 0;
    pred.row(r).maxCoeff(&c);
    right += static_cast<int>(c) == labels[r];
  }
  return static_cast<double>(right) / static_cast<double>(pred.rows());
}

double mse(const Eigen::MatrixXd& pred, const Eigen::MatrixXd& y) {
  return (pred - y).squaredNorm() / static_cast<double>(pred.rows());
}

}  // namespace tpu::runner
