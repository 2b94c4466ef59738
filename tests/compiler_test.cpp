// The model compiler (docs/compiler.md): model files and their errors, models that do not
// fit, and compiled programs run on the functional and the cycle-level golden model:
// inference of odd shapes (widths below, equal to and above ArrayDim, 2 to 4 layers) against
// an Eigen reference of the same quantised math (per-K-panel rounding, saturating sums,
// docs/compiler.md "Numerics"), and training over datasets larger than the minibatch, the
// cycle model cross-checked write for write against the functional model.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <random>
#include <string>
#include <vector>

#include "golden/dense_reference.hpp"
#include "golden/fixed_point.hpp"
#include "golden/mlp_reference.hpp"
#include "sw/compiler/compiler.hpp"
#include "sw/compiler/dataset.hpp"
#include "sw/runner/session.hpp"
#include "sw/runtime/engines.hpp"
#include "tb/seed.hpp"
#include "test_support.hpp"

namespace {

using namespace tpu::compiler;
using tpu::test::test_name;
using MatrixI = Eigen::Matrix<int64_t, Eigen::Dynamic, Eigen::Dynamic>;

// --- Model files. -----------------------------------------------------------------------------

const char* kGood = R"({
  "name": "m", "inputs": 3,
  "layers": [{"units": 4, "activation": "relu"}, {"units": 2, "activation": "identity"}],
  "training": {"batch": 6, "learning_rate": 0.5, "epochs": 4, "eval_every": 2}
})";

std::string error_of(const std::string& text) {
  try {
    parse_model(text, "m.json");
  } catch (const ModelError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ModelFile, ReadsEveryField) {
  const Model m = parse_model(kGood, "m.json");
  EXPECT_EQ(m.inputs, 3);
  ASSERT_EQ(m.layers.size(), 2u);
  EXPECT_EQ(m.layers[0].units, 4);
  EXPECT_EQ(m.layers[0].activation, Activation::kRelu);
  EXPECT_EQ(m.layers[1].activation, Activation::kIdentity);
  EXPECT_EQ(m.training.batch, 6);
  EXPECT_EQ(m.training.eval_every, 2);
  EXPECT_EQ(m.training.rounding, Rounding::kStochastic);
  EXPECT_EQ(m.training.loss_scale_log2, -1);
}

TEST(ModelFile, SyntaxErrorNamesLineAndColumn) {
  const std::string e = error_of("{\n  \"inputs\": 3,\n  \"layers\": [}\n}");
  EXPECT_EQ(e.rfind("m.json:3:", 0), 0u) << e;
  EXPECT_NE(e.find("syntax error"), std::string::npos) << e;
}

TEST(ModelFile, BadFieldsAreNamed) {
  auto with = [](const std::string& from, const std::string& to) {
    std::string s = kGood;
    const auto p = s.find(from);
    EXPECT_NE(p, std::string::npos) << from;
    return s.replace(p, from.size(), to);
  };
  EXPECT_EQ(error_of(with("\"inputs\": 3,", "")), "m.json: field 'inputs': is required");
  EXPECT_EQ(error_of(with("\"inputs\": 3", "\"inputs\": \"3\"")),
            "m.json: field 'inputs': must be a whole number, not \"3\"");
  EXPECT_EQ(error_of(with("\"units\": 4", "\"units\": 0")),
            "m.json: field 'layers[0].units': must be 1 to 65535, not 0");
  EXPECT_EQ(error_of(with("\"relu\"", "\"sigmoid\"")),
            "m.json: field 'layers[0].activation': must be one of identity, relu, leaky_relu, "
            "not 'sigmoid'");
  EXPECT_EQ(error_of(with("\"batch\"", "\"bach\"")),
            "m.json: field 'training.bach': is not a field of the model format (docs/compiler.md)");
  EXPECT_EQ(error_of(with("\"epochs\": 4", "\"epochs\": 5")),
            "m.json: field 'training.epochs': must be a multiple of training.eval_every (2), not 5");
  EXPECT_EQ(error_of(with("\"learning_rate\": 0.5", "\"learning_rate\": -1")),
            "m.json: field 'training.learning_rate': must be 0 to 127, not -1");
  EXPECT_EQ(error_of(with("\"epochs\": 4, \"eval_every\": 2",
                          "\"epochs\": 4, \"loss_scale_log2\": 4")),
            "m.json: field 'training.loss_scale_log2': at most 3 for batch 6 (the vector "
            "unit's loss scale 2/2^b needs b >= 0)");
  EXPECT_EQ(error_of("[1, 2]"), "m.json: field 'the model': must be an object");
}

TEST(ModelFile, MissingFileIsNamed) {
  try {
    load_model("no_such_model.json");
    FAIL() << "no error";
  } catch (const ModelError& e) {
    EXPECT_STREQ(e.what(), "no_such_model.json: cannot open the model file");
  }
}

// --- What does not fit. -----------------------------------------------------------------------

Model make_model(int inputs, std::vector<int> units, int batch, Activation act = Activation::kLeakyRelu) {
  Model m;
  m.name = "t";
  m.inputs = inputs;
  for (size_t i = 0; i < units.size(); ++i) {
    LayerSpec l;
    l.units = units[i];
    l.activation = i + 1 == units.size() ? Activation::kIdentity : act;
    l.leak_shift = 2;
    m.layers.push_back(l);
  }
  m.training.batch = batch;
  m.training.learning_rate = 0.25;
  m.training.epochs = 2;
  m.training.eval_every = 1;
  m.init.seed = 7;
  return m;
}

TEST(Compiler, SaysWhatDoesNotFitAndByHowMuch) {
  const Model m = make_model(64, {32, 10}, 32);
  try {
    compile(m, Target{8, 1024, 4096}, DataShape{1000, 200});
    FAIL() << "no error";
  } catch (const CompileError& e) {
    const std::string s = e.what();
    EXPECT_NE(s.find("needs "), std::string::npos) << s;
    EXPECT_NE(s.find("buffer has 1024"), std::string::npos) << s;
    EXPECT_NE(s.find("x_train 8000 rows"), std::string::npos) << s;  // 8 panels x 1000 rows
  }
  try {
    compile(m, Target{8, 65536, 64}, DataShape{1000, 200});
    FAIL() << "no error";
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find("instruction memory holds 64"), std::string::npos)
        << e.what();
  }
}

TEST(Compiler, TooSmallALearningRateIsAnError) {
  Model m = make_model(2, {2, 1}, 32);
  m.training.learning_rate = 0.001;
  EXPECT_THROW(compile(m, Target{4, 4096, 1024}, DataShape{64, 0}), CompileError);
}

// --- The quantised reference (docs/compiler.md, "Numerics"). ----------------------------------

int64_t sat(int64_t v) { return tpu::golden::saturate(v, 16); }

int64_t activate(int64_t v, Activation a, int leak) {
  switch (a) {
    case Activation::kIdentity: return v;
    case Activation::kRelu: return v > 0 ? v : 0;
    case Activation::kLeakyRelu: return v > 0 ? v : tpu::golden::rshift_round(v, leak);
  }
  return v;
}

// One layer: per K panel of N columns an exact product rounded once, summed with saturation
// after the bias, then the activation.
MatrixI layer_ref(const MatrixI& a, const MatrixI& w, const MatrixI& b, int n, Activation act,
                  int leak) {
  MatrixI out(a.rows(), w.rows());
  for (int r = 0; r < a.rows(); ++r) {
    for (int o = 0; o < w.rows(); ++o) {
      int64_t acc = 0;
      for (int p = 0; p * n < a.cols(); ++p) {
        int64_t s = 0;
        for (int k = p * n; k < std::min<int>((p + 1) * n, a.cols()); ++k) s += a(r, k) * w(o, k);
        const int64_t part = tpu::golden::round_sat(s);
        acc = p == 0 ? sat(part + b(0, o)) : sat(acc + part);
      }
      out(r, o) = activate(acc, act, leak);
    }
  }
  return out;
}

MatrixI to_int(const Eigen::MatrixXd& m) {
  return m.unaryExpr([](double v) { return static_cast<int64_t>(to_q88(v)); });
}

struct Case {
  int dim, inputs;
  std::vector<int> units;
  int rows, batch;
};

class CompiledInference : public ::testing::TestWithParam<std::tuple<Case, std::string>> {};

TEST_P(CompiledInference, MatchesTheQuantisedReference) {
  const auto& [k, engine] = GetParam();
  std::mt19937_64 rng(tpu::tb::test_seed(test_name()));
  Model m = make_model(k.inputs, k.units, k.batch);
  m.init.seed = rng();
  const Compiled c = compile(m, Target{k.dim, 4096, 1024}, DataShape{k.rows, 0}, Mode::kInference);
  Dataset data;
  std::uniform_real_distribution<double> u(-2.0, 2.0);
  data.x = Eigen::MatrixXd::NullaryExpr(k.rows, k.inputs, [&] { return u(rng); });
  const auto params = init_params(m);

  tpu::runtime::ModelOptions o;
  o.dim = k.dim;
  o.ub_depth = 4096;
  o.imem_depth = 1024;
  o.cross_check = engine == "golden";
  auto dev = tpu::runtime::make_device(engine, o);
  tpu::runner::Session s(c, *dev);
  s.load(params, data, nullptr);
  s.start();
  EXPECT_FALSE(s.run_to_sync());
  const MatrixI got = to_int(s.read("pred_train"));

  MatrixI h = to_int(data.x);
  for (size_t l = 0; l < m.layers.size(); ++l) {
    h = layer_ref(h, to_int(params[l].w), to_int(params[l].b), k.dim, m.layers[l].activation,
                  m.layers[l].leak_shift);
  }
  EXPECT_EQ(got, h);
}

const std::vector<Case> kShapes = {
    {4, 13, {7, 5}, 19, 8},         // 13-7-5 at ArrayDim 4: nothing a multiple of N
    {4, 4, {4, 4, 4}, 12, 4},       // every width equal to N, 3 layers
    {4, 3, {2, 3, 1}, 10, 3},       // every width below N
    {2, 5, {9, 3, 4, 2}, 11, 5},    // 4 layers, above N, odd batch and a tail
    {8, 20, {17, 9}, 40, 16},       // ArrayDim 8
};

INSTANTIATE_TEST_SUITE_P(
    Shapes, CompiledInference,
    ::testing::Combine(::testing::ValuesIn(kShapes), ::testing::Values("functional", "golden")),
    [](const auto& info) {
      const Case& c = std::get<0>(info.param);
      std::string s = "dim" + std::to_string(c.dim) + "_" + std::to_string(c.inputs);
      for (int u : c.units) s += "_" + std::to_string(u);
      return s + "_" + std::get<1>(info.param);
    });

// --- Training over a dataset larger than the minibatch. --------------------------------------

// A few epochs of a tiled 3-layer net with minibatches and a partial last one, on the cycle
// model cross-checked against the functional model after every write, and on the functional
// model alone: the same predictions, and a loss that falls.
TEST(CompiledTraining, MinibatchesAndTailCrossChecked) {
  std::mt19937_64 rng(tpu::tb::test_seed(test_name()));
  Model m = make_model(6, {5, 3}, 4);
  m.training.rounding = Rounding::kNearest;
  m.training.epochs = 3;
  m.training.learning_rate = 0.5;
  m.layers[1].activation = Activation::kLeakyRelu;
  const int rows = 14;  // 3 minibatches of 4 and one of 2
  Dataset train;
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  train.x = Eigen::MatrixXd::NullaryExpr(rows, 6, [&] { return u(rng); });
  Eigen::MatrixXd w = Eigen::MatrixXd::NullaryExpr(3, 6, [&] { return u(rng); });
  train.y = (train.x * w.transpose()).cwiseMax(0.0) * 0.5;
  const Compiled c = compile(m, Target{4, 1024, 1024}, DataShape{rows, 0});
  EXPECT_EQ(c.batches, 3);
  EXPECT_EQ(c.tail, 2);
  const auto params = init_params(m);

  std::vector<std::vector<Eigen::MatrixXd>> preds;
  for (const std::string engine : {"golden", "functional"}) {
    tpu::runtime::ModelOptions o;
    o.dim = 4;
    o.ub_depth = 1024;
    o.imem_depth = 1024;
    o.cross_check = true;
    auto dev = tpu::runtime::make_device(engine, o);
    tpu::runner::Session s(c, *dev);
    s.load(params, train, nullptr);
    s.start();
    preds.emplace_back();
    while (s.run_to_sync()) {
      preds.back().push_back(s.read("pred_train"));
      s.resume();
    }
  }
  ASSERT_EQ(preds[0].size(), 3u);
  for (size_t e = 0; e < preds[0].size(); ++e) EXPECT_EQ(preds[0][e], preds[1][e]) << "epoch " << e;
  // The loss after training is below the loss of the initial parameters (both layers are
  // leaky ReLU with slope 1/4 here).
  Eigen::MatrixXd h = train.x;
  for (const LayerParams& p : params) {
    h = ((h * p.w.transpose()).rowwise() + p.b).unaryExpr([](double v) { return v > 0 ? v : v / 4; });
  }
  EXPECT_LT(tpu::runner::mse(preds[0].back(), train.y), tpu::runner::mse(h, train.y));
}

// The N-layer float reference (golden/dense_reference.hpp) agrees with the two-layer one XOR's
// fidelity test has used since the start (golden/mlp_reference.hpp), written separately.
TEST(DenseReference, AgreesWithTheTwoLayerReference) {
  std::mt19937_64 rng(tpu::tb::test_seed(test_name()));
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  tpu::golden::Mlp m;
  m.w1 = Eigen::MatrixXd::NullaryExpr(3, 2, [&] { return u(rng); });
  m.b1 = Eigen::RowVectorXd::NullaryExpr(3, [&] { return u(rng); });
  m.w2 = Eigen::MatrixXd::NullaryExpr(2, 3, [&] { return u(rng); });
  m.b2 = Eigen::RowVectorXd::NullaryExpr(2, [&] { return u(rng); });
  const Eigen::MatrixXd x = Eigen::MatrixXd::NullaryExpr(5, 2, [&] { return u(rng); });
  const Eigen::MatrixXd y = Eigen::MatrixXd::NullaryExpr(5, 2, [&] { return u(rng); });
  std::vector<tpu::golden::DenseLayer> net(2);
  net[0] = {m.w1, m.b1, tpu::golden::DenseAct::kLeakyRelu, 0.25};
  net[1] = {m.w2, m.b2, tpu::golden::DenseAct::kLeakyRelu, 0.25};
  for (int step = 0; step < 3; ++step) {
    tpu::golden::mlp_train_step(m, x, y, 0.25, 0.3);
    tpu::golden::dense_epoch(net, x, y, 5, 0.3);
  }
  EXPECT_TRUE(net[0].w.isApprox(m.w1, 1e-12));
  EXPECT_TRUE(net[0].b.isApprox(m.b1, 1e-12));
  EXPECT_TRUE(net[1].w.isApprox(m.w2, 1e-12));
  EXPECT_TRUE(net[1].b.isApprox(m.b2, 1e-12));
  EXPECT_TRUE(tpu::golden::dense_forward(net, x).isApprox(tpu::golden::mlp_forward(m, x, 0.25).h2,
                                                          1e-12));
}

}  // namespace
