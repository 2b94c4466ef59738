// `make bench`: the performance table. Every program comes from the compiler (sw/compiler) and
// runs through the runtime's device interface on a Verilated TPU built at each ArrayDim (2, 4,
// 8, 16; sim/CMakeLists.txt gives their UbDepth and ImemDepth). Cycles are the TPU's own counter
// (CSR 1, from start to halt), so they are exact and repeatable. Six sections:
//   - utilization (useful MACs / (ArrayDim^2 x cycles)) of tiled matmuls, M in {64, 256, 1024,
//     4096}, K and N in {ArrayDim, 4 x ArrayDim, 2.5 x ArrayDim} (the RTL alone: its cycles are
//     the lockstep run's, which the runtime tests show);
//   - the 784-64-10 inference at ArrayDim 2, batch 1 and 64, beside the predecessor's cycles and
//     the floor max(MACs / ArrayDim^2, weight rows to load);
//   - one digits training epoch at ArrayDim 8 (64-32-10, minibatch 32, 1437 random rows) beside
//     its useful-MAC floor;
//   - the XOR network's forward pass and training step at each ArrayDim (the first benchmark);
//   - what MaxInFlight (matmuls in flight at most) costs: XOR, 784-64-10 and digits cycles on the
//     golden cycle model at MaxInFlight 2, 3, 4 and 8;
//   - simulated cycles per second (of CPU time) of every engine at each ArrayDim: the RTL alone,
//     the RTL in lockstep with the golden model, the golden model alone, and the functional
//     model's equivalent (the cycle engines' cycle count of the same program over its time).
// Prints markdown on standard output, progress on standard error, and writes every number to a
// CSV file. Benchmarks measure: a missed target is reported, never an error.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/bench_workloads.hpp"
#include "sim/xor_runner.hpp"
#include "sw/runner/session.hpp"
#include "sw/runtime/engines.hpp"
#include "tb/tpu_device.hpp"

// The Verilated TPUs this build holds (sim/CMakeLists.txt, TPU_BENCH_DIMS).
#if __has_include("Vtpu2.h")
#include "Vtpu2.h"
#define TPU_BENCH_HAS_2 1
#endif
#if __has_include("Vtpu4.h")
#include "Vtpu4.h"
#define TPU_BENCH_HAS_4 1
#endif
#if __has_include("Vtpu8.h")
#include "Vtpu8.h"
#define TPU_BENCH_HAS_8 1
#endif
#if __has_include("Vtpu16.h")
#include "Vtpu16.h"
#define TPU_BENCH_HAS_16 1
#endif

namespace {

using namespace tpu;
namespace wl = tpu::sim::bench;
using Clock = std::chrono::steady_clock;

constexpr int kUbDepth = TPU_BENCH_UB_DEPTH;
constexpr int kImemDepth = TPU_BENCH_IMEM_DEPTH;
const std::vector<int> kDims = {
// the Verilated models built in
#ifdef TPU_BENCH_HAS_2
    2,
#endif
#ifdef TPU_BENCH_HAS_4
    4,
#endif
#ifdef TPU_BENCH_HAS_8
    8,
#endif
#ifdef TPU_BENCH_HAS_16
    16,
#endif
};
constexpr int kPredecessorMlp784Batch1 = 304983;

// One measurement: a CSV row.
struct Record {
  std::string section;   // utilization, mlp784, digits, speed
  std::string workload;  // matmul, mlp784, digits_epoch
  int dim = 0;
  int m = 0, k = 0, n = 0;  // matmul shape, or the batch (m) of a model
  std::string kn;           // K and N as multiples of ArrayDim ("4D", "2.5D")
  std::string engine;
  uint64_t macs = 0;    // useful multiply-accumulates of one run
  uint64_t cycles = 0;  // of one run, start to halt
  uint64_t floor = 0;
  uint64_t runs = 1;
  double wall_s = 0;          // of all runs
  double cpu_s = 0;           // of all runs, this process's CPU time
  double cycles_per_s = 0;    // speed section: cycles of all runs / cpu_s
  uint64_t program_macs = 0;  // the compiler's count of the MACs its program issues
  int max_in_flight = 8;      // the TPU's MaxInFlight

  double utilization() const { return double(macs) / (double(dim) * dim * double(cycles)); }
  double over_floor() const { return double(cycles) / double(floor); }
};

template <class Top>
std::unique_ptr<runtime::Device> rtl_device(const runtime::ModelOptions& o, bool lockstep) {
  return std::make_unique<tb::RtlDevice<Top>>(
      o, lockstep ? tb::RtlMode::kLockstep : tb::RtlMode::kRtlOnly, "bench");
}

// "rtl-only", "rtl" (lockstep with the golden model), "golden", "functional".
std::unique_ptr<runtime::Device> make_engine(const std::string& engine, int dim) {
  runtime::ModelOptions o;
  o.dim = dim;
  o.ub_depth = kUbDepth;
  o.imem_depth = kImemDepth;
  if (engine == "rtl" || engine == "rtl-only") {
    const bool lockstep = engine == "rtl";
    switch (dim) {
#ifdef TPU_BENCH_HAS_2
      case 2:
        return rtl_device<Vtpu2>(o, lockstep);
#endif
#ifdef TPU_BENCH_HAS_4
      case 4:
        return rtl_device<Vtpu4>(o, lockstep);
#endif
#ifdef TPU_BENCH_HAS_8
      case 8:
        return rtl_device<Vtpu8>(o, lockstep);
#endif
#ifdef TPU_BENCH_HAS_16
      case 16:
        return rtl_device<Vtpu16>(o, lockstep);
#endif
      default:
        break;
    }
    throw std::invalid_argument("no Verilated TPU at ArrayDim " + std::to_string(dim) +
                                " in this build (TPU_BENCH_DIMS)");
  }
  return runtime::make_device(engine, o);
}

compiler::Compiled compile(const wl::Workload& w, int dim) {
  return compiler::compile(w.model, compiler::Target{dim, kUbDepth, kImemDepth}, w.data, w.mode);
}

// Writes the program, random parameters (the model's initialisation) and random data.
void load(runner::Session& s, const wl::Workload& w) {
  s.load(compiler::init_params(w.model), wl::random_data(w, 1), nullptr);
}

// CPU time of this process: the machines the bench runs on are often shared, and the
// simulation is one thread, so CPU seconds measure the engines where wall seconds would
// measure the neighbours too. Both are in the CSV.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Runs the loaded program from start to halt, again and again until `min_s` CPU seconds of
// running have passed (once at least). Only start() and run() are timed.
struct Timed {
  uint64_t cycles = 0;  // of one run (every run takes the same)
  uint64_t runs = 0;
  double wall_s = 0, cpu_s = 0;
};
Timed run(runner::Session& s, double min_s) {
  Timed t;
  do {
    const auto w0 = Clock::now();
    const double c0 = cpu_seconds();
    s.start();
    if (s.run_to_sync()) throw std::runtime_error("the program stopped at a sync");
    t.cpu_s += cpu_seconds() - c0;
    t.wall_s += std::chrono::duration<double>(Clock::now() - w0).count();
    const uint64_t c = s.device().cycles();
    if (t.runs > 0 && c != t.cycles) {
      throw std::runtime_error("run " + std::to_string(t.runs + 1) + " took " + std::to_string(c) +
                               " cycles, the first " + std::to_string(t.cycles));
    }
    t.cycles = c;
    ++t.runs;
  } while (t.cpu_s < min_s);
  return t;
}

// K and N of the sweep, as multiples of ArrayDim: D, 4D, and 2.5D (not a multiple).
struct Size {
  const char* name;
  int num, den;  // size = dim * num / den
  bool multiple;
};
const Size kSizes[] = {{"D", 1, 1, true}, {"4D", 4, 1, true}, {"2.5D", 5, 2, false}};
const int kRows[] = {64, 256, 1024, 4096};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void utilization(int dim, std::vector<Record>& out) {
  const auto t0 = Clock::now();
  auto dev = make_engine("rtl-only", dim);
  for (const int m : kRows) {
    for (const Size& ks : kSizes) {
      for (const Size& ns : kSizes) {
        const int k = dim * ks.num / ks.den, n = dim * ns.num / ns.den;
        const wl::Workload w = wl::matmul(m, k, n, dim);
        const compiler::Compiled c = compile(w, dim);
        runner::Session s(c, *dev);
        load(s, w);
        const Timed t = run(s, 0);
        Record r{"utilization",
                 w.name,
                 dim,
                 m,
                 k,
                 n,
                 std::string(ks.name) + " " + ns.name,
                 dev->name(),
                 w.useful_macs,
                 t.cycles,
                 w.floor,
                 t.runs,
                 t.wall_s};
        r.cpu_s = t.cpu_s;
        r.program_macs = c.macs_per_inference;
        out.push_back(r);
      }
    }
  }
  std::fprintf(stderr, "bench: utilization at ArrayDim %d: %zu matmuls (%.1f s)\n", dim,
               std::size(kRows) * std::size(kSizes) * std::size(kSizes), seconds_since(t0));
}

void model_run(const std::string& section, const wl::Workload& w, int dim,
               std::vector<Record>& out) {
  const auto t0 = Clock::now();
  auto dev = make_engine("rtl-only", dim);
  const compiler::Compiled c = compile(w, dim);
  runner::Session s(c, *dev);
  load(s, w);
  const Timed t = run(s, 0);
  Record r{section,     w.name,        dim,      w.data.train, 0,      0,       "",
           dev->name(), w.useful_macs, t.cycles, w.floor,      t.runs, t.wall_s};
  r.cpu_s = t.cpu_s;
  r.program_macs = w.mode == compiler::Mode::kEpoch ? c.macs_per_epoch : c.macs_per_inference;
  out.push_back(r);
  std::fprintf(stderr, "bench: %s at ArrayDim %d, %d rows: %llu cycles (%.1f s)\n", w.name.c_str(),
               dim, w.data.train, static_cast<unsigned long long>(t.cycles), seconds_since(t0));
}

// The XOR network (models/xor.json, 2-2-1) at every ArrayDim: one forward pass over its four
// inputs and one training step, each less the cycles of a program that only halts.
void xor_cycles(int dim, std::vector<Record>& out) {
  auto dev = make_engine("rtl-only", dim);
  dev->load_program({isa::encode(isa::Instr{.op = isa::Opcode::kHalt})});
  dev->start();
  dev->run(1000);
  const uint64_t halt = dev->cycles();
  compiler::Dataset data;
  data.x = golden::xor_inputs();
  data.y = golden::xor_targets();
  for (const compiler::Mode mode : {compiler::Mode::kInference, compiler::Mode::kEpoch}) {
    const compiler::Model m = sim::xor_model({}, 1, 1);
    const compiler::Compiled c = compiler::compile(m, compiler::Target{dim, kUbDepth, kImemDepth},
                                                   compiler::DataShape{4, 0}, mode);
    runner::Session s(c, *dev);
    s.load(sim::quantised(sim::xor_random_init(12)), data, nullptr);
    const Timed t = run(s, 0);
    Record r{"xor",   mode == compiler::Mode::kEpoch ? "xor_step" : "xor_forward",
             dim,     4,
             2,       1,
             "",      dev->name(),
             0,       t.cycles - halt,
             0,       t.runs,
             t.wall_s};
    r.cpu_s = t.cpu_s;
    r.program_macs = mode == compiler::Mode::kEpoch ? c.macs_per_epoch : c.macs_per_inference;
    out.push_back(r);
  }
}

// What MaxInFlight (matmuls in flight at most, a parameter of the RTL) costs in cycles: the
// same programs on the golden cycle model (exact, and built for any MaxInFlight) with 2, 3, 4
// and 8. The FPGA build takes fewer than the simulator's 8 to save logic (docs/fpga.md).
const int kInFlight[] = {2, 3, 4, 8};
void in_flight(std::vector<Record>& out) {
  struct Case {
    std::string name;
    int dim;
    compiler::Model model;
    compiler::DataShape shape;
    compiler::Dataset data;
    compiler::Mode mode;
    bool xor_init;  // the XOR benchmark's initialisation, else the model's own
  };
  std::vector<Case> cases;
  {
    compiler::Dataset xor_data;
    xor_data.x = golden::xor_inputs();
    xor_data.y = golden::xor_targets();
    cases.push_back({"xor_step", 2, sim::xor_model({}, 1, 1), compiler::DataShape{4, 0}, xor_data,
                     compiler::Mode::kEpoch, true});
  }
  for (const wl::Workload& w : {wl::mlp784(1, 2), wl::mlp784(64, 2), wl::digits_epoch(8)}) {
    const int dim = w.name == "digits_epoch" ? 8 : 2;
    cases.push_back({w.name + "_" + std::to_string(w.data.train), dim, w.model, w.data,
                     wl::random_data(w, 1), w.mode, false});
  }
  for (const Case& c : cases) {
    for (const int k : kInFlight) {
      runtime::ModelOptions o;
      o.dim = c.dim;
      o.ub_depth = kUbDepth;
      o.imem_depth = kImemDepth;
      o.max_in_flight = k;
      auto dev = runtime::make_device("golden", o);
      const compiler::Compiled compiled =
          compiler::compile(c.model, compiler::Target{c.dim, kUbDepth, kImemDepth}, c.shape, c.mode);
      runner::Session s(compiled, *dev);
      s.load(c.xor_init ? sim::quantised(sim::xor_random_init(12)) : compiler::init_params(c.model),
             c.data, nullptr);
      const Timed t = run(s, 0);
      Record r{"inflight", c.name,  c.dim,   c.shape.train, 0, 0, "",
               dev->name(), 0,      t.cycles, 0,       t.runs, t.wall_s};
      r.cpu_s = t.cpu_s;
      r.max_in_flight = k;
      out.push_back(r);
    }
    std::fprintf(stderr, "bench: %s at MaxInFlight 2, 3, 4, 8\n", c.name.c_str());
  }
}

const char* const kEngines[] = {"rtl-only", "rtl", "golden", "functional"};

// Every engine on the same program: a 1024 x 4D by 4D x 4D matmul (16 tiles, the array busy
// nearly every cycle, the vector unit and the buffer's write port too). The cycle count of one
// run comes from the RTL alone; every cycle engine must take exactly as many. Each engine is
// measured in kWindows windows of at least `min_s` CPU seconds and the fastest window counts:
// on a shared machine the slower ones measure the neighbours.
constexpr int kWindows = 3;
void speed(int dim, double min_s, const std::vector<std::string>& engines,
           std::vector<Record>& out) {
  const wl::Workload w = wl::matmul(1024, 4 * dim, 4 * dim, dim);
  const compiler::Compiled c = compile(w, dim);
  uint64_t cycles = 0;
  {
    // Verilator 5.006 needs Verilated models destroyed in the reverse order of their
    // construction (a scope's destructor uses the thread's last context): one at a time here.
    auto ref = make_engine("rtl-only", dim);
    runner::Session rs(c, *ref);
    load(rs, w);
    cycles = run(rs, 0).cycles;
  }
  for (const std::string& engine : engines) {
    auto dev = make_engine(engine, dim);
    runner::Session s(c, *dev);
    load(s, w);
    Timed t = run(s, min_s);
    for (int window = 1; window < kWindows; ++window) {
      const Timed next = run(s, min_s);
      if (next.cpu_s / double(next.runs) < t.cpu_s / double(t.runs)) t = next;
    }
    if (engine != "functional" && t.cycles != cycles) {
      throw std::runtime_error(engine + " took " + std::to_string(t.cycles) + " cycles, the RTL " +
                               std::to_string(cycles));
    }
    Record r{"speed",
             w.name,
             dim,
             w.model.training.batch,
             w.model.inputs,
             w.model.layers[0].units,
             "4D 4D",
             dev->name(),
             w.useful_macs,
             cycles,
             w.floor,
             t.runs,
             t.wall_s};
    r.cpu_s = t.cpu_s;
    r.cycles_per_s = double(cycles) * double(t.runs) / t.cpu_s;
    out.push_back(r);
    std::fprintf(stderr,
                 "bench: %-10s ArrayDim %2d: %llu runs of %llu cycles in %.2f s CPU (%.2f s wall): "
                 "%.0f cycles/s\n",
                 engine.c_str(), dim, static_cast<unsigned long long>(t.runs),
                 static_cast<unsigned long long>(cycles), t.cpu_s, t.wall_s, r.cycles_per_s);
  }
}

// --- Output. -----------------------------------------------------------------------------------

// The processor the speeds were measured on (/proc/cpuinfo's model name), "" where unknown.
std::string cpu_name() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "";
}

std::string commas(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string fixed(double v, int digits) {
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(digits);
  os << v;
  return os.str();
}

std::string rate(double v) {
  if (v >= 1e6) return fixed(v / 1e6, 2) + " M";
  if (v >= 1e3) return fixed(v / 1e3, 1) + " k";
  return fixed(v, 0);
}

const char* verdict(bool met) { return met ? "met" : "**not met**"; }

void write_csv(const std::string& path, const std::vector<Record>& rs) {
  const std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  std::ofstream f(path);
  if (!f) throw std::runtime_error(path + ": cannot write");
  f << "section,workload,array_dim,m,k,n,kn,engine,useful_macs,program_macs,cycles,floor_cycles,"
       "utilization,cycles_over_floor,runs,wall_s,cpu_s,cycles_per_s,max_in_flight\n";
  for (const Record& r : rs) {
    f << r.section << "," << r.workload << "," << r.dim << "," << r.m << "," << r.k << "," << r.n
      << "," << r.kn << "," << r.engine << "," << r.macs << "," << r.program_macs << "," << r.cycles
      << "," << (r.floor ? std::to_string(r.floor) : "") << ","
      << (r.macs ? fixed(r.utilization(), 4) : "") << ","
      << (r.floor ? fixed(r.over_floor(), 4) : "") << "," << r.runs << "," << fixed(r.wall_s, 4)
      << "," << fixed(r.cpu_s, 4) << "," << fixed(r.cycles_per_s, 0) << "," << r.max_in_flight
      << "\n";
  }
  if (!f) throw std::runtime_error(path + ": write failed");
}

const Record* find(const std::vector<Record>& rs, const std::string& section, int dim, int m,
                   const std::string& kn = "", const std::string& engine = "") {
  for (const Record& r : rs) {
    if (r.section == section && r.dim == dim && r.m == m && (kn.empty() || r.kn == kn) &&
        (engine.empty() || r.engine == engine)) {
      return &r;
    }
  }
  return nullptr;
}

void print_utilization(const std::vector<Record>& rs, const std::vector<int>& dims) {
  if (!find(rs, "utilization", dims.front(), kRows[0])) return;
  std::printf("### Utilization of tiled matmuls\n\n");
  std::printf(
      "Useful MACs (M K N) / (ArrayDim^2 x cycles), cycles from start to halt on the Verilated\n"
      "TPU; M x K activations times a K x N weight matrix (plus a bias row), compiled as a\n"
      "one-layer model. K and N in units of D = ArrayDim; 2.5D is not a multiple of it.\n\n");
  std::printf("| M | K | N |");
  for (const int d : dims) std::printf(" D = %d |", d);
  std::printf("\n|---|---|---|");
  for (size_t i = 0; i < dims.size(); ++i) std::printf("------:|");
  std::printf("\n");
  const Record* worst = nullptr;
  for (const int m : kRows) {
    for (const Size& ks : kSizes) {
      for (const Size& ns : kSizes) {
        const std::string kn = std::string(ks.name) + " " + ns.name;
        std::printf("| %d | %s | %s |", m, ks.name, ns.name);
        for (const int d : dims) {
          const Record* r = find(rs, "utilization", d, m, kn);
          std::printf(" %s |", r ? (fixed(100 * r->utilization(), 1) + "%").c_str() : "");
          if (r && m >= 1024 && ks.multiple && ns.multiple &&
              (!worst || r->utilization() < worst->utilization())) {
            worst = r;
          }
        }
        std::printf("\n");
      }
    }
  }
  if (worst) {
    std::printf(
        "\nM >= 1024 with K and N multiples of ArrayDim: lowest %s%% (D = %d, M = %d, K = %d, "
        "N = %d: %s cycles for %s MACs); target at least 95%%: %s.\n",
        fixed(100 * worst->utilization(), 1).c_str(), worst->dim, worst->m, worst->k, worst->n,
        commas(worst->cycles).c_str(), commas(worst->macs).c_str(),
        verdict(worst->utilization() >= 0.95));
  }
  std::printf("\n");
}

void print_models(const std::vector<Record>& rs) {
  if (find(rs, "xor", 2, 4) || find(rs, "xor", 4, 4)) {
    std::printf("### XOR 2-2-1, batch 4\n\n");
    std::printf("Cycles from start to halt less a program that only halts.\n\n");
    std::printf("| ArrayDim | forward pass | training step |\n");
    std::printf("|---------:|-------------:|--------------:|\n");
    for (const Record& r : rs) {
      if (r.section != "xor" || r.workload != "xor_forward") continue;
      const Record* step = nullptr;
      for (const Record& x : rs) {
        if (x.section == "xor" && x.workload == "xor_step" && x.dim == r.dim) step = &x;
      }
      std::printf("| %d | %llu | %s |\n", r.dim, static_cast<unsigned long long>(r.cycles),
                  step ? std::to_string(step->cycles).c_str() : "");
    }
    std::printf("\n");
  }
  const Record* b1 = find(rs, "mlp784", 2, 1);
  const Record* b64 = find(rs, "mlp784", 2, 64);
  if (b1 || b64) {
    std::printf("### 784-64-10 inference at ArrayDim 2\n\n");
    std::printf(
        "Floor: max(useful MACs / ArrayDim^2, weight rows to load); target: within 1.15x of "
        "it.\n\n");
    std::printf(
        "| batch | useful MACs | cycles | predecessor | floor | cycles / floor | target |\n");
    std::printf(
        "|------:|------------:|-------:|------------:|------:|---------------:|--------|\n");
    for (const Record* r : {b1, b64}) {
      if (!r) continue;
      std::printf("| %d | %s | %s | %s | %s | %sx | %s |\n", r->m, commas(r->macs).c_str(),
                  commas(r->cycles).c_str(),
                  r->m == 1 ? commas(kPredecessorMlp784Batch1).c_str() : "",
                  commas(r->floor).c_str(), fixed(r->over_floor(), 2).c_str(),
                  verdict(r->over_floor() <= 1.15));
    }
    std::printf("\n");
  }
  if (const Record* r = find(rs, "digits", 8, 1437)) {
    std::printf("### Digits training epoch at ArrayDim 8\n\n");
    std::printf(
        "64-32-10 MLP (leaky ReLU hidden, identity output), MSE, minibatch 32, 1437 random\n"
        "training rows (44 minibatches and one of 29), one epoch from start to halt. Useful MACs:\n"
        "forward, backward below the top layer, weight and bias gradients (the program issues\n"
        "%s). Floor: useful MACs / ArrayDim^2; target: within 1.5x of it.\n\n",
        commas(r->program_macs).c_str());
    std::printf("| useful MACs | cycles | floor | cycles / floor | target |\n");
    std::printf("|------------:|-------:|------:|---------------:|--------|\n");
    std::printf("| %s | %s | %s | %sx | %s |\n\n", commas(r->macs).c_str(),
                commas(r->cycles).c_str(), commas(r->floor).c_str(),
                fixed(r->over_floor(), 2).c_str(), verdict(r->over_floor() <= 1.5));
  }
}

void print_in_flight(const std::vector<Record>& rs) {
  std::vector<std::string> names;
  for (const Record& r : rs) {
    if (r.section == "inflight" &&
        std::find(names.begin(), names.end(), r.workload) == names.end()) {
      names.push_back(r.workload);
    }
  }
  if (names.empty()) return;
  std::printf("### Matmuls in flight (MaxInFlight)\n\n");
  std::printf(
      "Cycles from start to halt on the golden cycle model for each MaxInFlight (the simulator\n"
      "builds use 8; the FPGA build fewer).\n\n");
  std::printf("| workload | ArrayDim |");
  for (const int k : kInFlight) std::printf(" %d |", k);
  std::printf("\n|---|---:|");
  for (std::size_t i = 0; i < std::size(kInFlight); ++i) std::printf("---:|");
  std::printf("\n");
  for (const std::string& name : names) {
    int dim = 0;
    std::string cells;
    uint64_t base = 0;
    for (const Record& r : rs) {
      if (r.section == "inflight" && r.workload == name && r.max_in_flight == 8) base = r.cycles;
    }
    for (const int k : kInFlight) {
      for (const Record& r : rs) {
        if (r.section != "inflight" || r.workload != name || r.max_in_flight != k) continue;
        dim = r.dim;
        cells += " " + commas(r.cycles);
        if (base && k != 8) cells += " (" + fixed(double(r.cycles) / double(base), 3) + "x)";
        cells += " |";
      }
    }
    std::printf("| %s | %d |%s\n", name.c_str(), dim, cells.c_str());
  }
  std::printf("\n");
}

void print_speed(const std::vector<Record>& rs, const std::vector<int>& dims) {
  if (!find(rs, "speed", dims.front(), 1024)) return;
  std::printf("### Simulation speed\n\n");
  std::printf(
      "Simulated TPU cycles per second of CPU time running the 1024 x 4D by 4D x 4D matmul\n"
      "program (start to halt, repeated; the fastest of %d windows)%s. Functional: the cycle\n"
      "engines' cycle count of the same program over the functional model's time.\n\n",
      kWindows, cpu_name().empty() ? "" : (", on " + cpu_name()).c_str());
  std::printf(
      "| ArrayDim | program cycles | RTL alone | RTL + golden lockstep | golden alone | "
      "functional (equivalent) |\n");
  std::printf(
      "|---------:|---------------:|----------:|----------------------:|-------------:|"
      "------------------------:|\n");
  for (const int d : dims) {
    const Record* r = find(rs, "speed", d, 1024, "", "rtl-only");
    if (!r) continue;
    std::printf("| %d | %s |", d, commas(r->cycles).c_str());
    for (const char* e : kEngines) {
      const Record* x = find(rs, "speed", d, 1024, "", e);
      std::printf(" %s |", x ? rate(x->cycles_per_s).c_str() : "");
    }
    std::printf("\n");
  }
  const Record* alone = find(rs, "speed", 8, 1024, "", "rtl-only");
  const Record* lock = find(rs, "speed", 8, 1024, "", "rtl");
  if (alone && lock) {
    std::printf(
        "\nTargets at ArrayDim 8: RTL alone at least 1M cycles/s: %s; lockstep at least 250k: "
        "%s.\n",
        verdict(alone->cycles_per_s >= 1e6), verdict(lock->cycles_per_s >= 2.5e5));
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tpu_bench: the TPU's performance table (make bench)", "tpu_bench"};
  std::vector<int> dims = kDims;
  std::vector<std::string> sections = {"utilization", "mlp784", "digits", "xor", "inflight",
                                      "speed"};
  std::vector<std::string> engines(std::begin(kEngines), std::end(kEngines));
  std::string csv = "bench.csv";
  double min_s = 0.3;
  app.add_option("--dims", dims, "ArrayDims to measure (of 2, 4, 8, 16)")
      ->check(CLI::IsMember(kDims))
      ->capture_default_str();
  app.add_option("--sections", sections, "sections to run")
      ->check(CLI::IsMember({"utilization", "mlp784", "digits", "xor", "inflight", "speed"}))
      ->capture_default_str();
  app.add_option("--engines", engines, "engines of the speed section")
      ->check(CLI::IsMember(engines))
      ->capture_default_str();
  app.add_option("--csv", csv, "where the CSV goes")->capture_default_str();
  app.add_option("--speed-seconds", min_s,
                 "CPU seconds of each of the 3 measuring windows per engine (the fastest counts)")
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  auto has = [&](const char* s) {
    return std::find(sections.begin(), sections.end(), s) != sections.end();
  };
  auto has_dim = [&](int d) { return std::find(dims.begin(), dims.end(), d) != dims.end(); };
  std::sort(dims.begin(), dims.end());

  std::vector<Record> rs;
  try {
    if (has("utilization")) {
      for (const int d : dims) utilization(d, rs);
    }
    if (has("mlp784") && has_dim(2)) {
      model_run("mlp784", wl::mlp784(1, 2), 2, rs);
      model_run("mlp784", wl::mlp784(64, 2), 2, rs);
    }
    if (has("digits") && has_dim(8)) model_run("digits", wl::digits_epoch(8), 8, rs);
    if (has("xor")) {
      for (const int d : dims) xor_cycles(d, rs);
    }
    if (has("inflight")) in_flight(rs);
    if (has("speed")) {
      for (const int d : dims) speed(d, min_s, engines, rs);
    }
    write_csv(csv, rs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tpu_bench: %s\n", e.what());
    return 1;
  }
  print_utilization(rs, dims);
  print_models(rs);
  print_in_flight(rs);
  print_speed(rs, dims);
  std::printf("Every number is in %s.\n", csv.c_str());
  return 0;
}
