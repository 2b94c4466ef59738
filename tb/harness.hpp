// The one clock loop of the project: owns a Verilated top's context, clock, reset,
// cycle count and optional VCD trace. Every testbench and the demos drive their
// RTL through it; none hand-rolls its own clock.
//
// Protocol of one cycle (step()): the inputs the caller set are evaluated with the
// clock low, then the rising edge samples them; when step() returns, the top's
// outputs show the registers as they are after that edge, which is what the golden
// models' step() returns too.
#pragma once

#include <verilated.h>
#include <verilated_vcd_c.h>
#if defined(VM_COVERAGE) && VM_COVERAGE
#include <unistd.h>
#include <verilated_cov.h>
#endif

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

namespace tpu::tb {

// Thrown when an RTL assertion ($error, assert) fires during a cycle.
class AssertionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// True when the environment asks for waveforms (TPU_TRACE=1).
inline bool trace_requested() {
  const char* v = std::getenv("TPU_TRACE");
  return v != nullptr && std::string(v) == "1";
}

// Where waveforms go: the project's waves/ folder, set by CMake.
inline std::filesystem::path waves_dir() {
#ifdef TPU_WAVES_DIR
  return std::filesystem::path(TPU_WAVES_DIR);
#else
  return std::filesystem::path("waves");
#endif
}

// X robustness (docs/testplan.md, "X robustness"): TPU_RAND_RESET=0|1|2 sets how Verilator
// initialises what the RTL leaves unknown (0: zeros, the default; 1: ones; 2: random, from
// TPU_RAND_SEED, a positive number). With models built by `cmake -DTPU_X_UNIQUE=ON`
// (--x-assign unique --x-initial unique) every register before its reset and every X the RTL
// assigns take those values, so a test that passes under several seeds does not depend on
// them. Anything else in the variables is an error.
inline void apply_rand_reset(VerilatedContext& context) {
  const auto number = [](const char* name, long lo, long hi) -> long {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return -1;
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    if (*end != '\0' || n < lo || n > hi) {
      throw std::invalid_argument(std::string(name) + "='" + v + "': want a number from " +
                                  std::to_string(lo) + " to " + std::to_string(hi));
    }
    return n;
  };
  const long mode = number("TPU_RAND_RESET", 0, 2);
  const long seed = number("TPU_RAND_SEED", 1, 2147483647);
  if (mode >= 0) context.randReset(static_cast<int>(mode));
  if (seed >= 0) context.randSeed(static_cast<int>(seed));
}

// A Verilated model with ports clk_i and rst_ni.
template <class Top>
class Harness {
 public:
  // `trace_name` names the VCD file (waves/<trace_name>.vcd). `force_trace` writes it
  // even without TPU_TRACE=1 (the demos always do).
  explicit Harness(const std::string& trace_name, bool force_trace = false)
      : context_(std::make_unique<VerilatedContext>()), coverage_name_(trace_name) {
    context_->fatalOnError(false);  // an assertion sets gotError(); we turn it into a throw
    apply_rand_reset(*context_);    // before the model exists: its initial values
    const bool trace = force_trace || trace_requested();
    if (trace) context_->traceEverOn(true);
    top_ = std::make_unique<Top>(context_.get(), "TOP");
    if (trace) {
      std::filesystem::create_directories(waves_dir());
      trace_path_ = (waves_dir() / (trace_name + ".vcd")).string();
      trace_ = std::make_unique<VerilatedVcdC>();
      top_->trace(trace_.get(), 99);
      trace_->open(trace_path_.c_str());
    }
    // A 10 ns clock in the waves, in whatever time precision the model was built with.
    half_period_ = 5;
    for (int p = context_->timeprecision(); p < -9; ++p) half_period_ *= 10;
    top_->clk_i = 0;
    top_->rst_ni = 1;
    top_->eval();
  }

  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  ~Harness() {
    top_->final();
    if (trace_) trace_->close();
    write_coverage();
  }

  Top& top() { return *top_; }
  const Top& top() const { return *top_; }

  // Rising edges since construction.
  uint64_t cycle() const { return cycle_; }

  // Closes the VCD early (long runs trace only their beginning).
  void stop_trace() {
    if (trace_) {
      trace_->close();
      trace_.reset();
    }
  }

  // Path of the VCD being written, empty when not tracing.
  const std::string& trace_path() const { return trace_path_; }

  // One clock cycle; see the protocol at the top of this file.
  void step() {
    top_->clk_i = 0;
    eval_and_dump();
    context_->timeInc(half_period_);
    top_->clk_i = 1;
    eval_and_dump();
    context_->timeInc(half_period_);
    ++cycle_;
  }

  // step() for a caller that has changed no input since its settle() in this cycle: the
  // evaluation with the clock low is the settle()'s (evaluating again would change nothing),
  // so only the waves are dumped for it. The per-cycle testbenches of whole TPUs use it.
  void step_settled() {
    if (trace_) trace_->dump(context_->time());
    context_->timeInc(half_period_);
    top_->clk_i = 1;
    eval_and_dump();
    context_->timeInc(half_period_);
    ++cycle_;
  }

  // Evaluates the combinational logic for the inputs set so far, without a clock edge:
  // outputs that depend on this cycle's inputs (a ready, say) can be read after it.
  void settle() {
    top_->clk_i = 0;
    eval_checked();
  }

  // Asserts the asynchronous reset, holds it for `cycles` rising edges, releases it.
  // The reset takes effect at once, mid-cycle, as an asynchronous reset does.
  void reset(int cycles = 2) {
    top_->rst_ni = 0;
    eval_checked();
    for (int i = 0; i < cycles; ++i) step();
    top_->rst_ni = 1;
    eval_checked();
  }

 private:
  // Models built with -DTPU_COVERAGE=ON (make coverage) write their coverage points when the
  // harness goes: TPU_COVERAGE_DIR/<trace name>-<process>-<n>.dat (TPU_COVERAGE_DIR is set by
  // scripts/coverage.sh; without it, nothing is written).
  static std::string sanitized(std::string s) {
    for (char& c : s) {
      if (c == '/' || c == ' ') c = '_';
    }
    return s;
  }
  void write_coverage() {
#if defined(VM_COVERAGE) && VM_COVERAGE
    const char* dir = std::getenv("TPU_COVERAGE_DIR");
    if (dir == nullptr || *dir == '\0') return;
    static std::atomic<int> serial{0};
    std::filesystem::create_directories(dir);
    const std::filesystem::path file =
        std::filesystem::path(dir) / (sanitized(coverage_name_) + "-" + std::to_string(::getpid()) + "-" +
                                      std::to_string(serial++) + ".dat");
    context_->coveragep()->write(file.c_str());
#endif
  }

  // Only step() dumps, at the two distinct times of each cycle: VCD times must grow.
  void eval_and_dump() {
    top_->eval();
    if (trace_) trace_->dump(context_->time());
    check_errors();
  }

  void eval_checked() {
    top_->eval();
    check_errors();
  }

  void check_errors() {
    if (context_->gotError()) {
      throw AssertionError("RTL assertion failed at cycle " + std::to_string(cycle_) +
                           " (see the $error message above)");
    }
  }

  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Top> top_;
  std::unique_ptr<VerilatedVcdC> trace_;
  std::string trace_path_;
  std::string coverage_name_;
  uint64_t cycle_ = 0;
  uint64_t half_period_ = 5;
};

}  // namespace tpu::tb
