// tpu-run: trains a model description (docs/compiler.md) on a TPU engine (docs/runner.md): the
// functional model, the cycle-level golden model, the Verilated RTL this program was built
// with (every cycle against the golden model, or alone), or the TPU on an FPGA board over its
// serial port (docs/fpga.md). Shows the loss, accuracies and cycles at every checkpoint, writes
// metrics.csv, the plots, the confusion matrix and params.json.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "Vtpu.h"
#include "sw/asm/cli.hpp"
#include "sw/compiler/model.hpp"
#include "sw/runner/report.hpp"
#include "sw/runner/run.hpp"
#include "sw/runtime/engines.hpp"
#include "sw/runtime/serial_device.hpp"
#include "tb/tpu_device.hpp"

namespace {

// The Verilated TPU this program was built with (CMake cache TPU_RUN_DIM, _UB_DEPTH,
// _IMEM_DEPTH).
constexpr int kRtlDim = TPU_RUN_DIM;
constexpr int kRtlUbDepth = TPU_RUN_UB_DEPTH;
constexpr int kRtlImemDepth = TPU_RUN_IMEM_DEPTH;

const std::vector<std::string> kEngines = {"functional", "golden", "rtl", "rtl-only", "board"};

std::unique_ptr<tpu::runtime::Device> open_device(const std::string& engine,
                                                  const tpu::runtime::ModelOptions& o,
                                                  const std::string& port,
                                                  const tpu::runtime::SerialOptions& so) {
  if (engine == "board") return tpu::runtime::SerialDevice::open_tty(port, so);
  if (engine == "rtl" || engine == "rtl-only") {
    return std::make_unique<tpu::tb::RtlDevice<Vtpu>>(
        o, engine == "rtl" ? tpu::tb::RtlMode::kLockstep : tpu::tb::RtlMode::kRtlOnly, "tpu_run");
  }
  return tpu::runtime::make_device(engine, o);
}

// stderr then the usage, exit status 2: the command line contradicts itself or the model.
int usage_error(const CLI::App& app, const std::string& why) {
  std::cerr << "tpu-run: " << why << "\n" << app.help();
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "tpu-run: train a model on a TPU engine; progress, metrics.csv, plots, "
      "params.json (docs/runner.md)",
      "tpu-run"};
  std::string model_path, engine = "functional", out_dir, port;
  int baud = 115200;
  tpu::runner::Overrides ov;
  tpu::runtime::ModelOptions mo;
  mo.dim = kRtlDim;
  mo.ub_depth = kRtlUbDepth;
  mo.imem_depth = kRtlImemDepth;
  int epochs = 0, eval_every = 0, batch = 0;
  double lr = 0;
  uint64_t init_seed = 0, shuffle_seed = 0, max_cycles = 2'000'000'000ull;
  bool with_float = false, quiet = false, no_plots = false;

  app.add_option("model", model_path, "the model file (JSON, docs/compiler.md)")->required();
  app.add_option("-e,--engine", engine,
                 "what runs the program: functional (instruction by instruction), golden (the "
                 "cycle-level model), rtl (the Verilated TPU, every cycle checked against the "
                 "golden model), rtl-only (the Verilated TPU alone), board (the TPU on an FPGA "
                 "board over --port)")
      ->check(CLI::IsMember(kEngines))
      ->capture_default_str();
  app.add_option("--train", ov.train, "training set CSV (default: the model's data.train)")
      ->check(tpu::assembler::kNonEmpty);
  app.add_option("--test", ov.test, "test set CSV (default: the model's data.test)")
      ->check(tpu::assembler::kNonEmpty);
  auto* o_epochs = app.add_option("--epochs", epochs, "training epochs (training.epochs)")
                       ->check(CLI::Range(1, 1 << 30));
  auto* o_every =
      app.add_option("--eval-every", eval_every, "epochs between checkpoints (training.eval_every)")
          ->check(CLI::Range(1, 65535));
  auto* o_batch = app.add_option("--batch", batch, "minibatch rows (training.batch)")
                      ->check(CLI::Range(1, 1023));
  auto* o_lr = app.add_option("--lr", lr, "learning rate (training.learning_rate)")
                   ->check(CLI::Range(0.0, 127.0));
  auto* o_seed = app.add_option("--init-seed", init_seed, "initialisation seed (init.seed)");
  app.add_option("--init", ov.init_params,
                 "start from the parameters in this params.json instead of init.seed")
      ->check(tpu::assembler::kNonEmpty);
  auto* o_shuffle = app.add_option("--shuffle", shuffle_seed,
                                   "shuffle the training set once, with this seed, before "
                                   "loading (default: the file's order)");
  auto* o_dim = app.add_option("--dim", mo.dim,
                               "ArrayDim (functional and golden engines; board: the board must "
                               "have it, default: the board's)")
                    ->check(CLI::Range(2, 63))
                    ->capture_default_str();
  auto* o_ub = app.add_option("--ub-depth", mo.ub_depth,
                              "buffer rows (functional and golden engines; board: as --dim)")
                   ->check(CLI::Range(1, 65536))
                   ->capture_default_str();
  auto* o_imem = app.add_option("--imem-depth", mo.imem_depth,
                                "instruction words (functional and golden engines; board: as "
                                "--dim)")
                     ->check(CLI::Range(1, 65536))
                     ->capture_default_str();
  auto* o_port = app.add_option("--port", port,
                                "board: the board's serial port (the iCEBreaker's is the FTDI's "
                                "second channel, /dev/ttyUSB1 on Linux)")
                     ->check(tpu::assembler::kNonEmpty);
  auto* o_baud = app.add_option("--baud", baud,
                                "board: the serial line's rate (the board top's Baud parameter)")
                     ->capture_default_str();
  app.add_flag("--cross-check", mo.cross_check,
               "golden, rtl: also check every stop against the functional model");
  app.add_option("--max-cycles", max_cycles,
                 "give up when the TPU runs this long between two checkpoints (instructions on "
                 "the functional engine)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--float", with_float,
               "also train the double-precision reference from the same start and show it "
               "beside the TPU");
  app.add_option("-o,--out", out_dir, "output folder (default: build/run/<model name>)")
      ->check(tpu::assembler::kNonEmpty);
  app.add_flag("--no-plots", no_plots, "write no PNG plots (the CSVs still)");
  app.add_flag("-q,--quiet", quiet, "no progress lines: the summary and the files only");
  if (const auto rc = tpu::assembler::parse_command_line(app, argc, argv)) return *rc;

  if (o_epochs->count() != 0) ov.epochs = epochs;
  if (o_every->count() != 0) ov.eval_every = eval_every;
  if (o_batch->count() != 0) ov.batch = batch;
  if (o_lr->count() != 0) ov.learning_rate = lr;
  if (o_seed->count() != 0) ov.init_seed = init_seed;
  if (o_shuffle->count() != 0) ov.shuffle_seed = shuffle_seed;
  const bool rtl = engine == "rtl" || engine == "rtl-only";
  if (rtl && (mo.dim != kRtlDim || mo.ub_depth != kRtlUbDepth || mo.imem_depth != kRtlImemDepth)) {
    return usage_error(app,
                       "--engine " + engine +
                           " runs the Verilated TPU tpu-run was built with "
                           "(ArrayDim " +
                           std::to_string(kRtlDim) + ", UbDepth " + std::to_string(kRtlUbDepth) +
                           ", ImemDepth " + std::to_string(kRtlImemDepth) + "), not --dim " +
                           std::to_string(mo.dim) + " --ub-depth " + std::to_string(mo.ub_depth) +
                           " --imem-depth " + std::to_string(mo.imem_depth) +
                           "; use --engine golden or functional, or rebuild with "
                           "-DTPU_RUN_DIM=... (-DTPU_RUN_UB_DEPTH, -DTPU_RUN_IMEM_DEPTH)");
  }
  const bool board = engine == "board";
  if (board && o_port->count() == 0) {
    return usage_error(app,
                       "--engine board needs --port (the board's serial port, e.g. "
                       "/dev/ttyUSB1)");
  }
  if (!board && (o_port->count() != 0 || o_baud->count() != 0)) {
    return usage_error(app, "--port and --baud are for --engine board");
  }
  if (board && !tpu::runtime::TtyLink::supported_baud(baud)) {
    return usage_error(app, "--baud " + std::to_string(baud) +
                                " is not a rate a serial port takes (9600, 19200, 38400, 57600, "
                                "115200, 230400, ... 4000000)");
  }
  tpu::runtime::SerialOptions so;
  so.baud = baud;
  if (o_dim->count() != 0) so.dim = mo.dim;
  if (o_ub->count() != 0) so.ub_depth = mo.ub_depth;
  if (o_imem->count() != 0) so.imem_depth = mo.imem_depth;
  if (mo.cross_check && (engine == "functional" || engine == "rtl-only" || board)) {
    return usage_error(app, "--cross-check needs --engine golden or rtl");
  }

  const bool tty = isatty(fileno(stdout)) != 0;
  try {
    const tpu::runner::Problem p = tpu::runner::prepare(model_path, ov);
    const tpu::compiler::Model& m = p.model;
    if (out_dir.empty()) out_dir = (std::filesystem::path("build") / "run" / m.name).string();
    const auto dev = open_device(engine, mo, port, so);
    const tpu::compiler::Compiled c = tpu::runner::compile_for(p, *dev);

    std::filesystem::create_directories(out_dir);
    tpu::runner::MetricsWriter metrics((std::filesystem::path(out_dir) / "metrics.csv").string());
    if (!quiet) {
      std::string shape = std::to_string(m.inputs);
      for (const auto& l : m.layers) shape += "-" + std::to_string(l.units);
      std::printf(
          "tpu-run: %s (%s) on the %s engine: ArrayDim %d, %d of %d buffer rows, %zu of "
          "%d instruction words\n",
          m.name.c_str(), shape.c_str(), engine.c_str(), dev->dim(), c.ub_rows, dev->ub_depth(),
          c.words.size(), dev->imem_depth());
      std::printf(
          "  %d training samples (%s%s)%s; batch %d, lr %g, %s rounding; %d epochs, a "
          "checkpoint every %d; start from %s\n",
          p.train.rows(), p.train_path.c_str(),
          ov.shuffle_seed ? (", shuffled with seed " + std::to_string(shuffle_seed)).c_str() : "",
          p.test ? (", " + std::to_string(p.test->rows()) + " test samples (" + p.test_path + ")")
                       .c_str()
                 : ", no test set",
          m.training.batch, m.training.learning_rate,
          m.training.rounding == tpu::compiler::Rounding::kNearest ? "nearest" : "stochastic",
          m.training.epochs, m.training.eval_every, p.init_from.c_str());
      if (board) {
        const auto& sd = static_cast<const tpu::runtime::SerialDevice&>(*dev);
        std::printf("  board on %s at %d baud: %s\n", port.c_str(), baud,
                    tpu::runtime::to_string(sd.info()).c_str());
      }
      std::fflush(stdout);
    }

    tpu::runner::RunOptions ro;
    ro.float_reference = with_float;
    ro.max_cycles = max_cycles;
    const bool bar = tty && !quiet;
    auto show_bar = [&](double fraction, uint64_t count) {
      std::printf("\r\033[K  %s  epoch ~%d/%d  %s %s",
                  tpu::runner::progress_bar(fraction, 30).c_str(),
                  static_cast<int>(fraction * m.training.epochs), m.training.epochs,
                  tpu::runner::with_commas(count).c_str(),
                  engine == "functional" ? "instructions" : "cycles");
      std::fflush(stdout);
    };
    ro.on_checkpoint = [&](const tpu::runner::Checkpoint& cp) {
      metrics.add(cp);
      if (quiet) return;
      if (bar) std::printf("\r\033[K");
      std::printf("%s\n", tpu::runner::checkpoint_line(p, cp, with_float).c_str());
      if (bar) {
        show_bar(static_cast<double>(cp.epoch) / m.training.epochs,
                 std::isnan(cp.cycles) ? cp.instructions : static_cast<uint64_t>(cp.cycles));
      }
      std::fflush(stdout);
    };
    if (bar) {
      ro.slice = rtl ? 20'000 : engine == "golden" ? 100'000 : board ? 3'000'000 : 1'000'000;
      ro.on_progress = show_bar;
      show_bar(0, 0);
    }
    const tpu::runner::RunResult r = tpu::runner::run(p, c, *dev, ro);
    if (bar) std::printf("\r\033[K");

    const bool plots = !no_plots;
    const tpu::runner::Outputs out = tpu::runner::write_outputs(out_dir, p, r, engine, plots);
    std::printf("%s", tpu::runner::summary_table(p, r, engine, with_float).c_str());
    std::printf("  metrics: %s\n  params:  %s\n", out.metrics.c_str(), out.params.c_str());
    if (!out.confusion.empty()) std::printf("  confusion matrix: %s\n", out.confusion.c_str());
    for (const std::string& png : out.plots.written) std::printf("  plot: %s\n", png.c_str());
    if (!out.plots.problem.empty()) std::printf("  %s\n", out.plots.problem.c_str());
    if (engine == "rtl") {
      auto& rd = static_cast<tpu::tb::RtlDevice<Vtpu>&>(*dev);
      std::printf("  per-cycle mismatches against the golden model: %llu\n",
                  static_cast<unsigned long long>(rd.mismatches()));
    }
  } catch (const tpu::runner::UsageError& e) {
    return usage_error(app, e.what());
  } catch (const tpu::runtime::LinkOpenError& e) {
    return usage_error(app, std::string("--port: ") + e.what());
  } catch (const tpu::runtime::BoardMismatchError& e) {
    return usage_error(app, e.what());
  } catch (const std::exception& e) {
    std::fflush(stdout);
    if (tty) std::printf("\n");
    std::cerr << "tpu-run: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
