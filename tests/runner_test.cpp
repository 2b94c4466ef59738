// The runner library (sw/runner/run.hpp, report.hpp; docs/runner.md) on the functional and the
// cycle-level golden engines: a 2-8-3 classifier of three separable clusters, written to files
// by the test, trained at ArrayDim 4 to full accuracy; the same run on both engines; the float
// reference starting from the very parameters the TPU holds; metrics.csv, confusion.csv and
// params.json checked field by field (params.json against Session::read_params); errors that
// name their file; a device Error named.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "golden/dense_reference.hpp"
#include "golden/isa.hpp"
#include "sw/compiler/dataset.hpp"
#include "sw/runner/report.hpp"
#include "sw/runner/run.hpp"
#include "sw/runner/session.hpp"
#include "sw/runtime/engines.hpp"
#include "tb/seed.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using tpu::runner::Checkpoint;
using tpu::runner::Problem;
using tpu::runner::RunResult;
using tpu::test::test_name;

constexpr int kEpochs = 40;
constexpr int kEvery = 10;

const char* kModel = R"({
  "name": "blobs", "inputs": 2,
  "layers": [{"units": 8, "activation": "leaky_relu", "leak_shift": 2},
             {"units": 3, "activation": "identity"}],
  "training": {"batch": 8, "learning_rate": 0.5, "epochs": 40, "eval_every": 10},
  "init": {"seed": 3},
  "data": {"train": "train.csv", "test": "test.csv", "targets": "one_hot"}
})";

// A fresh folder for one test, under the test's working folder.
fs::path work_dir() {
  const fs::path d = fs::current_path() / "runner_test.out" / test_name();
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p);
  out << text;
}

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> v;
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> v;
  std::stringstream s(line);
  for (std::string f; std::getline(s, f, ',');) v.push_back(f);
  if (!line.empty() && line.back() == ',') v.emplace_back();
  return v;
}

// Three clusters 1.6 apart with points at most 0.25 from their centre, classes interleaved so
// that every minibatch sees all three.
std::string blobs(std::mt19937_64& rng, int rows) {
  const double cx[] = {-0.8, 0.8, 0.0}, cy[] = {-0.5, -0.5, 0.8};
  std::uniform_real_distribution<double> u(-0.25, 0.25);
  std::ostringstream s;
  s << "# x, y, class\n";
  for (int r = 0; r < rows; ++r) {
    const int k = r % 3;
    s << cx[k] + u(rng) << "," << cy[k] + u(rng) << "," << k << "\n";
  }
  return s.str();
}

// The model and its data in `dir`; returns the model file.
fs::path write_problem(const fs::path& dir, uint64_t seed) {
  std::mt19937_64 rng(seed);
  write(dir / "blobs.json", kModel);
  write(dir / "train.csv", blobs(rng, 48));
  write(dir / "test.csv", blobs(rng, 24));
  return dir / "blobs.json";
}

std::unique_ptr<tpu::runtime::Device> device(const std::string& engine) {
  tpu::runtime::ModelOptions o;
  o.dim = 4;
  o.ub_depth = 1024;
  o.imem_depth = 1024;
  return tpu::runtime::make_device(engine, o);
}

void expect_same(const std::vector<tpu::compiler::LayerParams>& a,
                 const std::vector<tpu::compiler::LayerParams>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t l = 0; l < a.size(); ++l) {
    EXPECT_EQ(a[l].w, b[l].w) << "layer " << l + 1;
    EXPECT_EQ(a[l].b, b[l].b) << "layer " << l + 1;
  }
}

// --- Training runs. -----------------------------------------------------------------------

class RunnerEngine : public ::testing::TestWithParam<std::string> {};

TEST_P(RunnerEngine, ClassifierLearnsEveryClass) {
  const fs::path dir = work_dir();
  const Problem p =
      tpu::runner::prepare(write_problem(dir, tpu::tb::test_seed(test_name())).string(), {});
  auto dev = device(GetParam());
  const auto c = tpu::runner::compile_for(p, *dev);
  tpu::runner::RunOptions o;
  o.float_reference = true;
  std::vector<int> seen;
  o.on_checkpoint = [&](const Checkpoint& cp) { seen.push_back(cp.epoch); };
  const RunResult r = tpu::runner::run(p, c, *dev, o);

  EXPECT_EQ(seen, (std::vector<int>{10, 20, 30, 40}));
  ASSERT_EQ(r.checkpoints.size(), 4u);
  const Checkpoint& last = r.checkpoints.back();
  EXPECT_EQ(last.train_acc, 1.0);
  EXPECT_EQ(last.test_acc, 1.0);
  EXPECT_EQ(last.float_train_acc, 1.0);
  EXPECT_EQ(last.float_test_acc, 1.0);
  // The loss the TPU reaches is far below that of its starting point (computed here in float).
  const double start = tpu::runner::mse(
      tpu::golden::dense_forward(tpu::runner::dense_net(p.model, p.init), p.train.x), p.train.y);
  EXPECT_LT(last.loss, start / 4) << "start " << start;
  EXPECT_EQ(last.loss, tpu::runner::mse(r.pred_train, p.train.y));
  if (GetParam() == "functional") {
    EXPECT_TRUE(std::isnan(last.cycles));
    EXPECT_GT(last.instructions, 0u);
  } else {
    double before = 0;
    for (const Checkpoint& cp : r.checkpoints) {
      EXPECT_GT(cp.cycles, before) << "epoch " << cp.epoch;
      before = cp.cycles;
    }
    EXPECT_GE(static_cast<double>(r.cycles), before);
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, RunnerEngine, ::testing::Values("functional", "golden"),
                         [](const auto& info) { return info.param; });

// The same program and data give the same predictions and parameters on both engines.
TEST(Runner, FunctionalAndGoldenAgree) {
  const fs::path dir = work_dir();
  const Problem p =
      tpu::runner::prepare(write_problem(dir, tpu::tb::test_seed(test_name())).string(), {});
  std::vector<RunResult> runs;
  for (const char* engine : {"functional", "golden"}) {
    auto dev = device(engine);
    const auto c = tpu::runner::compile_for(p, *dev);
    runs.push_back(tpu::runner::run(p, c, *dev));
  }
  ASSERT_EQ(runs[0].checkpoints.size(), runs[1].checkpoints.size());
  for (size_t i = 0; i < runs[0].checkpoints.size(); ++i) {
    EXPECT_EQ(runs[0].checkpoints[i].loss, runs[1].checkpoints[i].loss) << i;
    EXPECT_EQ(runs[0].checkpoints[i].test_acc, runs[1].checkpoints[i].test_acc) << i;
  }
  EXPECT_EQ(runs[0].pred_test, runs[1].pred_test);
  expect_same(runs[0].params, runs[1].params);
}

// The float reference starts from the parameters the TPU holds (read back before the start),
// which are the model's initialisation, and trains over the same data, batch, lr and epochs.
TEST(Runner, FloatReferenceStartsWhereTheTpuStarts) {
  const fs::path dir = work_dir();
  const Problem p = tpu::runner::prepare(write_problem(dir, 7).string(), {});
  auto dev = device("functional");
  const auto c = tpu::runner::compile_for(p, *dev);
  tpu::runner::RunOptions o;
  o.float_reference = true;
  const RunResult r = tpu::runner::run(p, c, *dev, o);

  expect_same(r.initial, tpu::compiler::init_params(p.model));
  ASSERT_EQ(r.float_initial.size(), 2u);
  for (size_t l = 0; l < 2; ++l) {
    EXPECT_EQ(r.float_initial[l].w, r.initial[l].w);
    EXPECT_EQ(r.float_initial[l].b, r.initial[l].b);
    // Every starting value is a Q8.8 number.
    EXPECT_EQ(r.initial[l].w, (r.initial[l].w * 256).array().round().matrix() / 256);
  }
  EXPECT_EQ(r.float_initial[0].act, tpu::golden::DenseAct::kLeakyRelu);
  EXPECT_EQ(r.float_initial[0].slope, 0.25);
  EXPECT_EQ(r.float_initial[1].act, tpu::golden::DenseAct::kIdentity);

  // Ten epochs of minibatches of 8 in the file's order, lr 0.5: the first checkpoint.
  auto net = tpu::runner::dense_net(p.model, tpu::compiler::init_params(p.model));
  for (int e = 0; e < kEvery; ++e) tpu::golden::dense_epoch(net, p.train.x, p.train.y, 8, 0.5);
  EXPECT_DOUBLE_EQ(r.checkpoints.front().float_loss,
                   tpu::runner::mse(tpu::golden::dense_forward(net, p.train.x), p.train.y));
  for (int e = kEvery; e < kEpochs; ++e)
    tpu::golden::dense_epoch(net, p.train.x, p.train.y, 8, 0.5);
  EXPECT_EQ(r.float_net[1].w, net[1].w);
}

// --- Outputs. -----------------------------------------------------------------------------

TEST(Runner, WritesMetricsConfusionAndParams) {
  const fs::path dir = work_dir();
  const Problem p =
      tpu::runner::prepare(write_problem(dir, tpu::tb::test_seed(test_name())).string(), {});
  auto dev = device("functional");
  const auto c = tpu::runner::compile_for(p, *dev);
  const RunResult r = tpu::runner::run(p, c, *dev);
  const fs::path out = dir / "out";
  const tpu::runner::Outputs o =
      tpu::runner::write_outputs(out.string(), p, r, "functional", tpu::runner::have_gnuplot());

  // metrics.csv: the header, then one row per checkpoint; no cycles on the functional engine
  // and no float columns without the reference.
  const auto m = lines_of(o.metrics);
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0], "epoch,loss,train_acc,test_acc,cycles,float_loss,float_train_acc,float_test_acc");
  for (size_t i = 0; i < 4; ++i) {
    const auto f = fields_of(m[i + 1]);
    ASSERT_EQ(f.size(), 8u) << m[i + 1];
    const Checkpoint& cp = r.checkpoints[i];
    EXPECT_EQ(std::stoi(f[0]), 10 * static_cast<int>(i + 1));
    EXPECT_NEAR(std::stod(f[1]), cp.loss, 1e-8 * cp.loss);
    EXPECT_NEAR(std::stod(f[2]), cp.train_acc, 1e-8);
    EXPECT_NEAR(std::stod(f[3]), cp.test_acc, 1e-8);
    for (size_t k = 4; k < 8; ++k) EXPECT_EQ(f[k], "") << "column " << k;
  }

  // confusion.csv of the test set: 8 samples per class, all on the diagonal at 100%.
  ASSERT_EQ(r.checkpoints.back().test_acc, 1.0);
  EXPECT_EQ(lines_of(o.confusion),
            (std::vector<std::string>{"true\\predicted,0,1,2", "0,8,0,0", "1,0,8,0", "2,0,0,8"}));

  // params.json holds what the TPU holds: read back through a Session on the same device.
  tpu::runner::Session s(c, *dev);
  const auto held = s.read_params();
  expect_same(tpu::runner::read_params_json(o.params, p.model), held);
  expect_same(r.params, held);
  std::ifstream in(o.params);
  const auto j = nlohmann::json::parse(in);
  ASSERT_EQ(j["layers"].size(), 2u);
  for (int l = 0; l < 2; ++l) {
    const auto& layer = j["layers"][l];
    for (int u = 0; u < held[l].w.rows(); ++u) {
      for (int i = 0; i < held[l].w.cols(); ++i) {
        EXPECT_EQ(layer["W"][u][i].get<double>(), held[l].w(u, i));
        EXPECT_EQ(layer["W_q88"][u][i].get<int>(), static_cast<int>(held[l].w(u, i) * 256));
      }
      EXPECT_EQ(layer["b_q88"][u].get<int>(), static_cast<int>(held[l].b(u) * 256));
    }
  }

  if (tpu::runner::have_gnuplot()) {
    EXPECT_EQ(o.plots.problem, "");
    ASSERT_EQ(o.plots.written.size(), 3u);
    for (const std::string& png : o.plots.written) {
      std::ifstream f(png, std::ios::binary);
      char magic[4] = {};
      f.read(magic, 4);
      EXPECT_EQ(std::string(magic + 1, 3), "PNG") << png;
    }
  }
}

TEST(Runner, ConfusionCountsTrueAgainstPredicted) {
  Eigen::MatrixXd pred(5, 3);
  pred << 0.9, 0.1, 0.0,  // class 0, right
      0.2, 0.7, 0.1,      // class 1, right
      0.6, 0.3, 0.1,      // class 1, taken for 0
      0.0, 0.1, 0.8,      // class 2, right
      0.1, 0.5, 0.4;      // class 2, taken for 1
  const Eigen::MatrixXi m = tpu::runner::confusion(pred, {0, 1, 1, 2, 2}, 3);
  Eigen::MatrixXi want(3, 3);
  want << 1, 0, 0, 1, 1, 0, 0, 1, 1;
  EXPECT_EQ(m, want);
}

TEST(Runner, MetricsRowLeavesWhatDoesNotApplyEmpty) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Checkpoint c;
  c.epoch = 25;
  c.loss = 0.125;
  c.train_acc = c.test_acc = nan;
  c.cycles = 40658;
  c.float_loss = 0.0625;
  c.float_train_acc = c.float_test_acc = nan;
  EXPECT_EQ(tpu::runner::metrics_row(c), "25,0.125,,,40658,0.0625,,");
}

TEST(Runner, ParamsJsonAcceptsFloatsAndRejectsWrongShapes) {
  const fs::path dir = work_dir();
  const Problem p = tpu::runner::prepare(write_problem(dir, 1).string(), {});
  // Only W and b (no raw values): rounded to Q8.8 on reading.
  std::string layers = R"({"layers": [{"W": [)";
  for (int u = 0; u < 8; ++u) layers += std::string(u ? "," : "") + "[0.5, -0.3]";
  layers += R"(], "b": [0,0,0,0,0,0,0,0.1]}, {"W": [)";
  for (int u = 0; u < 3; ++u) {
    layers += std::string(u ? "," : "") + "[1,1,1,1,1,1,1,1]";
  }
  layers += R"(], "b": [0,0,0]}]})";
  write(dir / "floats.json", layers);
  const auto q = tpu::runner::read_params_json((dir / "floats.json").string(), p.model);
  EXPECT_EQ(q[0].w(3, 1), -77.0 / 256);  // -0.3 * 256 = -76.8 -> -77
  EXPECT_EQ(q[0].b(7), 26.0 / 256);      // 25.6 -> 26

  write(dir / "short.json", R"({"layers": [{"W": [[1, 2]], "b": [0]}, {"W": [], "b": []}]})");
  try {
    tpu::runner::read_params_json((dir / "short.json").string(), p.model);
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("short.json: layer 1: the model needs W of 8 x 2"),
              std::string::npos)
        << e.what();
  }
}

// --- Errors. ------------------------------------------------------------------------------

std::string error_of(const std::string& model, const tpu::runner::Overrides& o) {
  try {
    tpu::runner::prepare(model, o);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

TEST(Runner, PrepareNamesWhatIsWrong) {
  const fs::path dir = work_dir();
  const std::string model = write_problem(dir, 1).string();
  tpu::runner::Overrides o;
  o.train = (dir / "no_such.csv").string();
  EXPECT_EQ(error_of(model, o), o.train + ": cannot open the dataset");

  o = {};
  o.epochs = 45;
  EXPECT_EQ(error_of(model, o),
            "--epochs 45 is not a multiple of training.eval_every 10 "
            "(give --eval-every)");
  EXPECT_THROW(tpu::runner::prepare(model, o), tpu::runner::UsageError);

  write(dir / "nodata.json", R"({"inputs": 2, "layers": [{"units": 3}],
    "training": {"batch": 4, "learning_rate": 0.5, "epochs": 1}})");
  EXPECT_EQ(error_of((dir / "nodata.json").string(), {}),
            (dir / "nodata.json").string() + ": the model names no data.train file; give --train");

  write(dir / "bad.csv", "0.1,0.2,0\n0.1,zero,1\n");
  o = {};
  o.train = (dir / "bad.csv").string();
  EXPECT_EQ(error_of(model, o), o.train + ":2: 'zero' is not a number");
  EXPECT_EQ(error_of((dir / "none.json").string(), {}),
            (dir / "none.json").string() + ": cannot open the model file");
}

// A program that faults stops the run with the TPU's status named.
TEST(Runner, DeviceErrorIsNamed) {
  const fs::path dir = work_dir();
  const Problem p = tpu::runner::prepare(write_problem(dir, 1).string(), {});
  auto dev = device("golden");
  auto c = tpu::runner::compile_for(p, *dev);
  c.words[1] = tpu::isa::kOp.put(0xC);  // an illegal opcode
  try {
    tpu::runner::run(p, c, *dev);
    ADD_FAILURE() << "no error";
  } catch (const tpu::runtime::DeviceError& e) {
    EXPECT_EQ(std::string(e.what()), "the TPU stopped: Error ErrOpcode at pc 1");
  }
}

}  // namespace
