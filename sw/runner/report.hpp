// What a run leaves behind and shows (docs/runner.md): the metrics CSV, the confusion matrix,
// the trained parameters as JSON (and reading them back), gnuplot plots, and the text of the
// progress lines and the summary table.
#pragma once

#include <Eigen/Dense>

#include <fstream>
#include <string>
#include <vector>

#include "sw/compiler/dataset.hpp"
#include "sw/compiler/model.hpp"
#include "sw/runner/run.hpp"

namespace tpu::runner {

// metrics.csv: one row per checkpoint; a value that does not apply (NaN) is an empty field.
inline constexpr const char* kMetricsHeader =
    "epoch,loss,train_acc,test_acc,cycles,float_loss,float_train_acc,float_test_acc";
std::string metrics_row(const Checkpoint& c);

// Appends rows as checkpoints arrive (flushed, so a run that fails keeps what it had).
class MetricsWriter {
 public:
  explicit MetricsWriter(const std::string& path);  // std::runtime_error when it cannot
  void add(const Checkpoint& c);

 private:
  std::string path_;
  std::ofstream out_;
};

void write_metrics_csv(const std::string& path, const std::vector<Checkpoint>& checkpoints);

// confusion.csv: a header "true\predicted,0,1,..", then one row per true class.
void write_confusion_csv(const std::string& path, const Eigen::MatrixXi& m);

// params.json: per layer the float values of W (units x inputs, row by row) and b, and the
// same as raw Q8.8 integers (W_q88, b_q88).
void write_params_json(const std::string& path, const compiler::Model& m,
                       const std::vector<compiler::LayerParams>& params);
// Reads a params.json for model `m` (W_q88/b_q88 when present, else W/b rounded to Q8.8).
// std::runtime_error naming the file and the layer for a missing file, bad JSON or a shape the
// model does not have.
std::vector<compiler::LayerParams> read_params_json(const std::string& path,
                                                    const compiler::Model& m);

// The gnuplot plots of a run: loss.png (TPU and float), accuracy.png (classifiers),
// confusion.png (when `confusion` has rows), drawn by one script, DIR/plots.gp.
struct Plots {
  std::vector<std::string> written;  // the PNG paths
  std::string problem;               // why there are none ("" when all were drawn)
};
bool have_gnuplot();
Plots plot(const std::string& dir, const std::string& title, const std::vector<Checkpoint>& cps,
           bool classifier, const Eigen::MatrixXi& confusion, const std::string& confusion_of);

// Everything a run writes into `dir` (created): metrics.csv, params.json, and for classifiers
// confusion.csv (the test set's, else the training set's); plots when `plots` and gnuplot is
// there.
struct Outputs {
  std::string dir, metrics, params, confusion;  // confusion: "" for a non-classifier
  Plots plots;
};
Outputs write_outputs(const std::string& dir, const Problem& p, const RunResult& r,
                      const std::string& engine, bool plots);

// The text a run shows. `engine` names what ran ("functional", "rtl", ...).
std::string checkpoint_line(const Problem& p, const Checkpoint& c, bool with_float);
std::string progress_bar(double fraction, int width);
std::string with_commas(uint64_t v);  // 40658 -> "40,658"
std::string summary_table(const Problem& p, const RunResult& r, const std::string& engine,
                          bool with_float);

}  // namespace tpu::runner
