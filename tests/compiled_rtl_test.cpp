// Compiled tiled MLPs trained on the Verilated TPU (runtime_test's model: ArrayDim 4, UbDepth
// 256, ImemDepth 256), every cycle against the golden model and every buffer write against
// the functional model (the rtl device with cross_check): minibatches with a partial last
// one, K and N tiled, 2 and 3 layers. The predictions at every sync must equal the
// functional engine's run of the same program.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <random>
#include <string>
#include <vector>

#include "Vtpu.h"
#include "sw/compiler/compiler.hpp"
#include "sw/compiler/dataset.hpp"
#include "sw/runner/session.hpp"
#include "sw/runtime/engines.hpp"
#include "tb/seed.hpp"
#include "tb/tpu_device.hpp"
#include "test_support.hpp"

namespace {

using namespace tpu::compiler;

std::vector<Eigen::MatrixXd> train(tpu::runtime::Device& dev, const Compiled& c,
                                   const std::vector<LayerParams>& p, const Dataset& d) {
  tpu::runner::Session s(c, dev);
  s.load(p, d, nullptr);
  s.start();
  std::vector<Eigen::MatrixXd> preds;
  while (s.run_to_sync()) {
    preds.push_back(s.read("pred_train"));
    s.resume();
  }
  return preds;
}

void check(const std::vector<int>& units, Rounding rounding) {
  std::mt19937_64 rng(tpu::tb::test_seed(tpu::test::test_name()));
  Model m;
  m.name = "tiled";
  m.inputs = 6;
  for (size_t i = 0; i < units.size(); ++i) {
    LayerSpec l;
    l.units = units[i];
    l.activation = i + 1 == units.size() ? Activation::kIdentity : Activation::kLeakyRelu;
    m.layers.push_back(l);
  }
  m.training.batch = 4;
  m.training.learning_rate = 0.25;
  m.training.rounding = rounding;
  m.training.epochs = 2;
  m.init.seed = rng();
  const int rows = 10;  // two minibatches of 4 and one of 2
  Dataset d;
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  d.x = Eigen::MatrixXd::NullaryExpr(rows, m.inputs, [&] { return u(rng); });
  d.y = Eigen::MatrixXd::NullaryExpr(rows, units.back(), [&] { return u(rng); });
  const Compiled c = compile(m, Target{TPU_ARRAY_DIM, TPU_UB_DEPTH, TPU_IMEM_DEPTH}, DataShape{rows, 0});
  const auto p = init_params(m);

  tpu::runtime::ModelOptions o{4, 256, 256, true};
  tpu::tb::RtlDevice<Vtpu> rtl(o, tpu::tb::RtlMode::kLockstep, "compiled_" + tpu::test::test_name());
  const auto got = train(rtl, c, p, d);
  EXPECT_EQ(rtl.mismatches(), 0u);
  auto functional = tpu::runtime::make_device("functional", o);
  const auto want = train(*functional, c, p, d);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_EQ(want.size(), 2u);
  for (size_t e = 0; e < got.size(); ++e) EXPECT_EQ(got[e], want[e]) << "epoch " << e + 1;
  // Training moved the predictions.
  EXPECT_NE(got[0], got[1]);
}

TEST(CompiledOnRtl, TwoLayersTiledNearest) { check({5, 3}, Rounding::kNearest); }
TEST(CompiledOnRtl, ThreeLayersTiledStochastic) { check({5, 4, 2}, Rounding::kStochastic); }

}  // namespace
