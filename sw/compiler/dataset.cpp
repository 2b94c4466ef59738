#include "sw/compiler/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace tpu::compiler {

Dataset load_csv(const std::string& path, int features, int outputs, Targets targets,
                 double feature_scale) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open the dataset");
  const int want = features + (targets == Targets::kOneHot ? 1 : outputs);
  std::vector<std::vector<double>> rows;
  std::string line;
  for (int ln = 1; std::getline(in, line); ++ln) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') continue;
    std::vector<double> v;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) {
      try {
        std::size_t used = 0;
        v.push_back(std::stod(cell, &used));
        if (cell.find_first_not_of(" \t", used) != std::string::npos) throw std::invalid_argument("");
      } catch (const std::exception&) {
        throw std::runtime_error(path + ":" + std::to_string(ln) + ": '" + cell +
                                 "' is not a number");
      }
    }
    if (static_cast<int>(v.size()) != want) {
      throw std::runtime_error(path + ":" + std::to_string(ln) + ": " + std::to_string(v.size()) +
                               " values, expected " + std::to_string(want) + " (" +
                               std::to_string(features) + " features and " +
                               (targets == Targets::kOneHot ? std::string("a label")
                                                            : std::to_string(outputs) + " targets") +
                               ")");
    }
    if (targets == Targets::kOneHot) {
      const double l = v.back();
      if (l != std::floor(l) || l < 0 || l >= outputs) {
        throw std::runtime_error(path + ":" + std::to_string(ln) + ": label " + std::to_string(l) +
                                 " is not a class 0.." + std::to_string(outputs - 1));
      }
    }
    rows.push_back(std::move(v));
  }
  if (rows.empty()) throw std::runtime_error(path + ": no samples");
  Dataset d;
  const int s = static_cast<int>(rows.size());
  d.x.resize(s, features);
  d.y = Eigen::MatrixXd::Zero(s, outputs);
  for (int i = 0; i < s; ++i) {
    for (int f = 0; f < features; ++f) d.x(i, f) = rows[i][f] * feature_scale;
    if (targets == Targets::kOneHot) {
      const int l = static_cast<int>(rows[i][features]);
      d.labels.push_back(l);
      d.y(i, l) = 1.0;
    } else {
      for (int o = 0; o < outputs; ++o) d.y(i, o) = rows[i][features + o];
    }
  }
  return d;
}

namespace {
// Fisher-Yates with a uniform index from the generator's raw output (no
// std::uniform_int_distribution, whose algorithm the standard leaves open).
void shuffle(std::vector<int>& v, std::mt19937_64& rng) {
  for (std::size_t i = v.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rng() % i);
    std::swap(v[i - 1], v[j]);
  }
}
}  // namespace

Split stratified_split(const std::vector<int>& labels, double test_fraction, uint64_t seed) {
  std::mt19937_64 rng(seed);
  int classes = 0;
  for (int l : labels) classes = std::max(classes, l + 1);
  Split s;
  for (int c = 0; c < classes; ++c) {
    std::vector<int> rows;
    for (int i = 0; i < static_cast<int>(labels.size()); ++i) {
      if (labels[i] == c) rows.push_back(i);
    }
    shuffle(rows, rng);
    const auto n_test = static_cast<std::size_t>(std::lround(test_fraction * rows.size()));
    s.test.insert(s.test.end(), rows.begin(), rows.begin() + n_test);
    s.train.insert(s.train.end(), rows.begin() + n_test, rows.end());
  }
  shuffle(s.train, rng);
  shuffle(s.test, rng);
  return s;
}

std::string data_path(const Model& m, const std::string& path) {
  if (path.empty() || path[0] == '/' || m.dir.empty()) return path;
  return m.dir + "/" + path;
}

int32_t to_q88(double v) {
  return static_cast<int32_t>(std::clamp(std::round(v * 256.0), -32768.0, 32767.0));
}
double from_q88(int32_t v) { return v / 256.0; }

std::vector<LayerParams> init_params(const Model& m) {
  std::mt19937_64 rng(m.init.seed);
  std::vector<LayerParams> p;
  int fan_in = m.inputs;
  for (const LayerSpec& l : m.layers) {
    const double s = m.init.scale > 0 ? m.init.scale : 1.0 / std::sqrt(static_cast<double>(fan_in));
    std::uniform_real_distribution<double> u(-s, s);
    auto q = [&] { return from_q88(to_q88(u(rng))); };
    LayerParams lp;
    lp.w = Eigen::MatrixXd::NullaryExpr(l.units, fan_in, q);
    lp.b = Eigen::RowVectorXd::NullaryExpr(l.units, q);
    p.push_back(std::move(lp));
    fan_in = l.units;
  }
  return p;
}

std::vector<Row> pack(const Eigen::MatrixXd& m, const Tensor& t, int dim) {
  if (m.rows() > t.rows_alloc || m.cols() > t.cols) {
    throw std::invalid_argument("a " + std::to_string(m.rows()) + " x " + std::to_string(m.cols()) +
                                " matrix does not fit tensor '" + t.name + "'");
  }
  std::vector<Row> rows(t.size(), Row(dim, 0));
  for (int r = 0; r < m.rows(); ++r) {
    for (int c = 0; c < m.cols(); ++c) {
      rows[(c / dim) * t.rows_alloc + r][c % dim] = to_q88(m(r, c));
    }
  }
  return rows;
}

Eigen::MatrixXd unpack(const std::vector<Row>& rows, const Tensor& t, int dim) {
  Eigen::MatrixXd m(t.rows, t.cols);
  for (int r = 0; r < t.rows; ++r) {
    for (int c = 0; c < t.cols; ++c) m(r, c) = from_q88(rows.at((c / dim) * t.rows_alloc + r).at(c % dim));
  }
  return m;
}

}  // namespace tpu::compiler
