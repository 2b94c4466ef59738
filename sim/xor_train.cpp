// `make sim`: trains the XOR network (2-2-1, leaky ReLU, MSE, the four inputs as one
// batch) entirely on the TPU from one assembled program, every cycle checked against
// the golden TPU model. Prints the loss as it goes, then the predictions and the cycle
// counts; writes waves/xor_train.vcd (the first epochs) and waves/xor_loss.png.
#include <Eigen/Dense>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "Vtpu.h"
#include "golden/mlp_reference.hpp"
#include "sim/xor_runner.hpp"
#include "tb/tpu_device.hpp"

namespace {

constexpr int kDim = TPU_ARRAY_DIM;
constexpr int kUbDepth = 128;
constexpr int kImemDepth = 128;

struct Options {
  int epochs = 600;
  int every = 25;
  uint64_t seed = 12;  // an initialisation that converges in float (see docs/training.md)
  bool predecessor = false;
  double lr = 0.25;
  int leak_shift = 1;
  bool stochastic = false;
  bool waves = true;
  bool quiet = false;
};

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: xor_train [--epochs E] [--every K] [--seed S | --predecessor] [--lr L]\n"
               "                 [--leak-shift S] [--stochastic] [--no-waves] [--quiet]\n"
               "  Trains the 2-2-1 XOR network on the Verilated %d x %d TPU, checking every\n"
               "  cycle against the golden model. --seed picks a uniform(-1, 1) initialisation,\n"
               "  --predecessor the predecessor's example one; --stochastic rounds updates\n"
               "  stochastically instead of to nearest. Defaults: 600 epochs, lr 0.25, slope 0.5.\n",
               kDim, kDim);
}

[[noreturn]] void bad(const std::string& what) {
  std::fprintf(stderr, "xor_train: %s\n", what.c_str());
  usage(stderr);
  std::exit(2);
}

double number(const std::string& flag, const char* v) {
  if (v == nullptr) bad(flag + " needs a value");
  char* end = nullptr;
  const double d = std::strtod(v, &end);
  if (*end != '\0') bad(flag + " needs a number, got '" + v + "'");
  return d;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--help" || a == "-h") {
      usage(stdout);
      std::exit(0);
    } else if (a == "--epochs") {
      o.epochs = static_cast<int>(number(a, next()));
    } else if (a == "--every") {
      o.every = static_cast<int>(number(a, next()));
    } else if (a == "--seed") {
      o.seed = static_cast<uint64_t>(number(a, next()));
    } else if (a == "--predecessor") {
      o.predecessor = true;
    } else if (a == "--lr") {
      o.lr = number(a, next());
    } else if (a == "--leak-shift") {
      o.leak_shift = static_cast<int>(number(a, next()));
    } else if (a == "--stochastic") {
      o.stochastic = true;
    } else if (a == "--no-waves") {
      o.waves = false;
    } else if (a == "--quiet") {
      o.quiet = true;
    } else {
      bad("unknown argument '" + a + "'");
    }
  }
  if (o.epochs < 1 || o.every < 1 || o.epochs % o.every != 0) {
    bad("--epochs must be a positive multiple of --every");
  }
  if (o.leak_shift < 0 || o.leak_shift > 15) bad("--leak-shift must be 0..15");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  const tpu::golden::Mlp init = opt.predecessor ? tpu::golden::xor_predecessor_init()
                                                : tpu::sim::xor_random_init(opt.seed);
  tpu::sim::XorOptions xo;
  xo.leak_shift = opt.leak_shift;
  xo.lr = opt.lr;
  xo.stochastic = opt.stochastic;
  xo.seed = static_cast<uint32_t>(opt.seed * 2654435761u + 1);
  const Eigen::MatrixXd x = tpu::golden::xor_inputs(), y = tpu::golden::xor_targets();
  const std::string dat_path = (tpu::tb::waves_dir() / "xor_loss.dat").string();
  const std::string png_path = (tpu::tb::waves_dir() / "xor_loss.png").string();

  try {
    tpu::runtime::ModelOptions mo;
    mo.dim = kDim;
    mo.ub_depth = kUbDepth;
    mo.imem_depth = kImemDepth;
    mo.cross_check = true;  // and every buffer write against the functional model
    tpu::tb::RtlDevice<Vtpu> dev(mo, tpu::tb::RtlMode::kLockstep, "xor_train", opt.waves);
    auto& tb = dev.tb();
    std::printf("XOR on the %d x %d TPU: lr %.3g, slope 2^-%d, %s rounding, %d epochs\n", kDim,
                kDim, opt.lr, opt.leak_shift, opt.stochastic ? "stochastic" : "nearest",
                opt.epochs);
    std::ofstream dat(dat_path);
    double loss = 0;
    const auto run = tpu::sim::xor_train_on_tpu(
        dev, xo, init, opt.epochs, opt.every, [&](int epoch, const Eigen::MatrixXd& h) {
          loss = tpu::golden::mse(h, y);
          dat << epoch << " " << loss << "\n";
          if (!opt.quiet) {
            std::printf("\r  epoch %5d/%d  loss %.5f  [%-30s]", epoch, opt.epochs, loss,
                        std::string(30 * epoch / opt.epochs, '#').c_str());
            if (epoch % (opt.every * 4) == 0 || epoch == opt.epochs) std::printf("\n");
            std::fflush(stdout);
          }
          if (epoch >= 2 * opt.every) tb.harness().stop_trace();  // waves: the first epochs
        });
    dat.close();
    const Eigen::MatrixXd& pred = run.outputs.back();
    std::printf("\n  input    prediction  target\n");
    for (int b = 0; b < 4; ++b) {
      std::printf("  %g %g    %8.4f    %g\n", x(b, 0), x(b, 1), pred(b, 0), y(b, 0));
    }
    const bool ok = tpu::golden::converged(pred, y);
    std::printf("  final loss %.5f: %s\n", loss,
                ok ? "converged (every output within 0.1)" : "NOT converged");
    std::printf("  %llu TPU cycles for %d epochs (%.1f per epoch, with a forward pass and a "
                "sync every %d epochs)\n  %llu cycles simulated, per-cycle golden mismatches: "
                "%llu\n",
                static_cast<unsigned long long>(run.tpu_cycles), opt.epochs,
                static_cast<double>(run.tpu_cycles) / opt.epochs, opt.every,
                static_cast<unsigned long long>(tb.cycle()),
                static_cast<unsigned long long>(tb.log().count()));
    if (std::system("command -v gnuplot >/dev/null 2>&1") == 0) {
      const std::string cmd = "gnuplot -e \"set terminal png size 800,500; set output '" +
                              png_path + "'; set xlabel 'epoch'; set ylabel 'MSE loss'; " +
                              "set logscale y; plot '" + dat_path +
                              "' with lines title 'XOR on the TPU'\" 2>/dev/null";
      if (std::system(cmd.c_str()) == 0) std::printf("  loss curve: %s\n", png_path.c_str());
    }
    if (opt.waves) std::printf("  waves: waves/xor_train.vcd (make waves)\n");
    if (tb.log().count() != 0) {
      std::fprintf(stderr, "%s\n", tb.log().report().c_str());
      return 1;
    }
    return ok || opt.predecessor ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "xor_train: %s\n", e.what());
    return 1;
  }
}
