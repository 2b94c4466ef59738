// Host-side data for compiled models: datasets read from CSV, the initial parameters drawn
// from the model's seed, and packing matrices into (and out of) the panel rows of a tensor
// (sw/compiler/compiler.hpp, Tensor).
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <string>
#include <vector>

#include "sw/compiler/compiler.hpp"
#include "sw/compiler/model.hpp"

namespace tpu::compiler {

struct Dataset {
  Eigen::MatrixXd x;        // samples x features (after feature_scale)
  Eigen::MatrixXd y;        // samples x outputs (one-hot rows for a classifier)
  std::vector<int> labels;  // class of each sample (one_hot targets only)
  int rows() const { return static_cast<int>(x.rows()); }
};

// A CSV file: one sample per line, `features` numbers then the label (one_hot: a class
// 0..outputs-1) or `outputs` target values. Blank lines and lines starting with '#' are
// skipped. Errors name the file and line (std::runtime_error).
Dataset load_csv(const std::string& path, int features, int outputs, Targets targets,
                 double feature_scale);

// A fixed, seeded, stratified split of labelled rows: every class contributes
// round(test_fraction * its count) rows to the test set; both sets are shuffled (the training
// set's order is the order every epoch visits it). Deterministic for a seed on every
// platform (its own Fisher-Yates over std::mt19937_64). Returns the row indices.
struct Split {
  std::vector<int> train, test;
};
Split stratified_split(const std::vector<int>& labels, double test_fraction, uint64_t seed);

// The dataset paths of a model, resolved against the model file's folder.
std::string data_path(const Model& m, const std::string& path);

// One layer's parameters.
struct LayerParams {
  Eigen::MatrixXd w;       // units x inputs
  Eigen::RowVectorXd b;
};

// uniform(-s, s) from the model's init seed (s = init.scale, or 1/sqrt(fan_in) when 0), per
// layer W then b, each value rounded to Q8.8 (what the TPU holds).
std::vector<LayerParams> init_params(const Model& m);

int32_t to_q88(double v);  // to nearest, ties away from zero, saturated
double from_q88(int32_t v);

using Row = std::vector<int32_t>;
// Every row of tensor `t` (t.size() rows from t.addr) holding `m` (t.rows x t.cols at most);
// lanes and rows past the matrix are zero.
std::vector<Row> pack(const Eigen::MatrixXd& m, const Tensor& t, int dim);
// The t.rows x t.cols matrix held in `rows` (t.size() rows from t.addr).
Eigen::MatrixXd unpack(const std::vector<Row>& rows, const Tensor& t, int dim);

}  // namespace tpu::compiler
