// The functional model (golden/functional_model.hpp) against the cycle-level golden model
// (golden/tpu_model.hpp): the same program and data on both, and compared
//   - every buffer row the program writes, in order: the cycle model's write port (wr_valid,
//     wr_addr, wr_data every cycle) against FunctionalModel::writes(), on the lanes the write
//     keeps and, since the spec presents all N lanes on the write port, on the others too;
//   - the whole buffer, read back through the host port, at every Sync, Done and Error (after
//     an Error, once the work issued before it has completed);
//   - the state, PC and error code at every stop, and the address registers at the end.
// The cycle model is driven through its host port like a host: rows and instruction words
// written, a start, clocked until it leaves Running, a continue at every Sync.
//
// The programs: hand-written assembly covering every instruction form, every error code and the
// address registers, with random data (saturating values included) at ArrayDim 2, 4 and 8; a
// randomized program generator; a few hand-worked values of the functional model alone; and a
// speed comparison on a big matmul (printed, not asserted).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "golden/functional_model.hpp"
#include "golden/isa.hpp"
#include "golden/sgd_model.hpp"
#include "golden/tpu_model.hpp"
#include "sw/asm/assembler.hpp"
#include "tb/program_gen.hpp"
#include "tb/seed.hpp"

namespace tpu::golden {
namespace {

using isa::Error;
using isa::Instr;
using isa::Opcode;
using isa::State;
using Row = std::vector<int32_t>;
using Words = std::vector<uint64_t>;

std::string test_name() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

// --- Programs. -------------------------------------------------------------------------------

// Assembles `source` with `.equ N, dim` in front (no decode checks: error programs assemble).
Words assemble(const std::string& source, int dim) {
  return assembler::assemble(".equ N, " + std::to_string(dim) + "\n" + source, "test.s").words;
}

using namespace tpu::tb::prog;  // instruction builders, random_data, ProgramGenerator

// --- The cycle-level model behind its host port. ---------------------------------------------

class CycleTpu {
 public:
  struct Write {
    uint32_t addr;
    Row data;
  };

  CycleTpu(int dim, int ub_depth, int imem_depth) : tpu_(dim, ub_depth, imem_depth) {}

  // One clock cycle with `in`; the buffer's write port is recorded.
  TpuOutputs tick(const TpuInputs& in = {}) {
    const TpuOutputs o = tpu_.outputs(in);
    tpu_.step(in);
    if (o.wr_valid) writes_.push_back(Write{o.wr_addr, o.wr_data});
    ++cycles_;
    return o;
  }

  // One host request: presented until accepted, then the response taken. Returns the response
  // data; `err` gets its error bit.
  std::vector<uint32_t> host(uint8_t space, bool we, uint32_t addr, std::vector<uint32_t> wdata,
                             bool& err) {
    TpuInputs req;
    req.host_req_valid = true;
    req.host_req_we = we;
    req.host_req_space = space;
    req.host_req_addr = addr;
    req.host_req_wdata = std::move(wdata);
    for (int guard = 0; !tick(req).host_req_ready; ++guard) {
      if (guard > 100000) throw std::runtime_error("host request never accepted");
    }
    TpuInputs wait;
    wait.host_rsp_ready = true;
    for (int guard = 0;; ++guard) {
      if (guard > 1000) throw std::runtime_error("host response never came");
      const TpuOutputs o = tick(wait);
      if (o.host_rsp_valid) {
        err = o.host_rsp_err;
        return o.host_rsp_rdata;
      }
    }
  }

  void write_row(uint32_t addr, const Row& row) {
    bool err = false;
    host(0, true, addr, pack_row(row, tpu_.host_width()), err);
    if (err) throw std::runtime_error("host write of row " + std::to_string(addr) + " refused");
  }
  Row read_row(uint32_t addr) {
    bool err = false;
    const std::vector<uint32_t> w = host(0, false, addr, {}, err);
    if (err) throw std::runtime_error("host read of row " + std::to_string(addr) + " refused");
    return unpack_row(w, tpu_.dim());
  }
  void write_instr(uint32_t addr, uint64_t word) {
    bool err = false;
    host(1, true, addr, pack_u64(word, tpu_.host_width()), err);
    if (err) throw std::runtime_error("instruction " + std::to_string(addr) + " refused");
  }
  void start() { csr_write(1, "start"); }
  void resume() { csr_write(2, "continue"); }

  // Clocks until the TPU leaves Running, then (`settle`) until the work issued before it has
  // completed (after an Error in-flight matmuls and an sgd still write: 64 cycles without a
  // write is more than the longest gap, 2N+6, between an issue and its first write).
  State run_to_stop(uint64_t max_cycles, bool settle = true) {
    for (uint64_t c = 0; tpu_.state() == State::kRunning; ++c) {
      if (c >= max_cycles) {
        throw std::runtime_error("the cycle model did not stop within " +
                                 std::to_string(max_cycles) + " cycles");
      }
      tick();
    }
    for (int quiet = 0; settle && quiet < 64;) quiet = tick().wr_valid ? 0 : quiet + 1;
    return tpu_.state();
  }

  const TpuModel& model() const { return tpu_; }
  const std::vector<Write>& writes() const { return writes_; }
  uint64_t cycles() const { return cycles_; }

 private:
  void csr_write(uint64_t v, const char* what) {
    bool err = false;
    host(2, true, 0, pack_u64(v, tpu_.host_width()), err);
    if (err) throw std::runtime_error(std::string(what) + " refused");
  }

  TpuModel tpu_;
  std::vector<Write> writes_;
  uint64_t cycles_ = 0;
};

std::string row_str(const Row& r) {
  std::ostringstream s;
  s << "[";
  for (std::size_t i = 0; i < r.size(); ++i) s << (i ? " " : "") << r[i];
  s << "]";
  return s.str();
}

// --- Both models, one program. ---------------------------------------------------------------

struct RunSetup {
  int dim = 2;
  int ub_depth = 256;
  int imem_depth = 256;
  int compare_rows = -1;  // buffer rows read back and compared at every stop; -1: all
};

struct Outcome {
  State state = State::kIdle;
  Error err = Error::kNone;
  uint32_t pc = 0;
  std::size_t writes = 0;  // rows written by the program
  int stops = 0;           // Sync, Done or Error
  uint64_t instructions = 0;
  uint64_t macs = 0;
  std::array<uint32_t, 4> areg{};
};

// Runs `program` over `data` on both models, continuing at every Sync, and compares them at
// every stop. Adds a failure (with `what` in it) at the first difference and stops there.
Outcome run_both(const RunSetup& s, const Words& program, const std::vector<Row>& data,
                 const std::string& what, uint64_t max_cycles = 5'000'000) {
  SCOPED_TRACE(what);
  FunctionalModel fm(s.dim, s.ub_depth, s.imem_depth);
  CycleTpu ct(s.dim, s.ub_depth, s.imem_depth);
  for (std::size_t a = 0; a < data.size(); ++a) {
    fm.write_row(static_cast<uint32_t>(a), data[a]);
    ct.write_row(static_cast<uint32_t>(a), data[a]);
  }
  for (std::size_t i = 0; i < program.size(); ++i) {
    fm.write_instr(static_cast<uint32_t>(i), program[i]);
    ct.write_instr(static_cast<uint32_t>(i), program[i]);
  }
  fm.record_writes(true);
  const std::size_t host_writes = ct.writes().size();  // host writes use no write port: 0
  EXPECT_EQ(host_writes, 0u);
  fm.start();
  ct.start();

  Outcome o;
  std::size_t compared = 0;
  for (;;) {
    const State fs = fm.run();
    const State cs = ct.run_to_stop(max_cycles);
    ++o.stops;
    const std::string at = " (stop " + std::to_string(o.stops) + ")";
    EXPECT_EQ(fs, cs) << "state" << at;
    EXPECT_EQ(fm.pc(), ct.model().pc()) << "pc" << at;
    EXPECT_EQ(fm.err(), ct.model().err()) << "error code" << at;

    // The rows written since the last stop.
    const auto& fw = fm.writes();
    const auto& cw = ct.writes();
    EXPECT_EQ(fw.size(), cw.size()) << "rows written" << at;
    for (std::size_t w = compared; w < std::min(fw.size(), cw.size()); ++w) {
      bool same = fw[w].addr == cw[w].addr && fw[w].data.size() == cw[w].data.size();
      for (std::size_t c = 0; same && c < fw[w].data.size(); ++c) {
        if ((fw[w].lanes >> c) & 1u) same = fw[w].data[c] == cw[w].data[c];
      }
      if (!same) {
        ADD_FAILURE() << "write " << w << at << ": cycle model row " << cw[w].addr << " "
                      << row_str(cw[w].data) << ", functional row " << fw[w].addr << " "
                      << row_str(fw[w].data) << " (lanes mask " << fw[w].lanes << ")";
        return o;
      }
      if (fw[w].data != cw[w].data) {
        ADD_FAILURE() << "write " << w << at << ", row " << fw[w].addr
                      << ": the lanes not stored differ: cycle model " << row_str(cw[w].data)
                      << ", functional " << row_str(fw[w].data);
        return o;
      }
    }
    if (fw.size() != cw.size()) return o;
    compared = fw.size();

    // The whole buffer.
    const int rows = s.compare_rows < 0 ? s.ub_depth : s.compare_rows;
    for (int a = 0; a < rows; ++a) {
      const Row want = ct.read_row(static_cast<uint32_t>(a));
      const Row got = fm.read_row(static_cast<uint32_t>(a));
      if (want != got) {
        ADD_FAILURE() << "buffer row " << a << at << ": cycle model " << row_str(want)
                      << ", functional " << row_str(got);
        return o;
      }
    }
    if (fs != cs || fs != State::kSync) break;
    fm.resume();
    ct.resume();
  }
  o.state = fm.state();
  o.err = fm.err();
  o.pc = fm.pc();
  o.writes = fm.writes().size();
  o.instructions = fm.instructions();
  o.macs = fm.macs();
  for (int r = 0; r < 4; ++r) {
    o.areg[static_cast<std::size_t>(r)] = fm.areg(r);
    EXPECT_EQ(fm.areg(r), ct.model().areg(r)) << "a" << r;
  }
  return o;
}

// ============================================================================================
// The functional model alone, against values worked out by hand.

TEST(Functional, Construction) {
  EXPECT_THROW(FunctionalModel(1, 256, 256), std::invalid_argument);
  EXPECT_THROW(FunctionalModel(33, 256, 256), std::invalid_argument);
  EXPECT_THROW(FunctionalModel(2, 0, 256), std::invalid_argument);
  EXPECT_THROW(FunctionalModel(2, 65537, 256), std::invalid_argument);
  EXPECT_THROW(FunctionalModel(2, 256, 0), std::invalid_argument);
  const FunctionalModel fm(4, 100, 50);
  EXPECT_EQ(fm.dim(), 4);
  EXPECT_EQ(fm.ub_depth(), 100);
  EXPECT_EQ(fm.imem_depth(), 50);
  EXPECT_EQ(fm.state(), State::kIdle);
  EXPECT_EQ(fm.read_row(99), (Row{0, 0, 0, 0}));
}

TEST(Functional, HostAccessIsChecked) {
  FunctionalModel fm(2, 8, 4);
  EXPECT_THROW(fm.write_row(8, {0, 0}), std::out_of_range);
  EXPECT_THROW(fm.read_row(8), std::out_of_range);
  EXPECT_THROW(fm.write_row(0, {0, 0, 0}), std::invalid_argument);
  EXPECT_THROW(fm.write_row(0, {32768, 0}), std::invalid_argument);
  EXPECT_THROW(fm.write_row(0, {0, -32769}), std::invalid_argument);
  fm.write_row(7, {32767, -32768});
  EXPECT_EQ(fm.read_row(7), (Row{32767, -32768}));
  EXPECT_THROW(fm.write_instr(4, 0), std::out_of_range);
  EXPECT_THROW(fm.instr(4), std::out_of_range);
  fm.write_instr(0, op(Opcode::kSync));
  fm.write_instr(1, op(Opcode::kHalt));
  EXPECT_EQ(fm.instr(1), op(Opcode::kHalt));
  EXPECT_THROW(fm.resume(), std::logic_error);  // not in Sync
  fm.start();
  EXPECT_EQ(fm.run(), State::kSync);
  EXPECT_EQ(fm.pc(), 1u);
  EXPECT_THROW(fm.start(), std::logic_error);            // refused in Sync, as on the host port
  EXPECT_THROW(fm.write_instr(2, 0), std::logic_error);  // likewise
  fm.resume();
  EXPECT_EQ(fm.run(), State::kDone);
  EXPECT_EQ(fm.pc(), 1u);  // the PC stays at the halt
  EXPECT_EQ(fm.instructions(), 2u);
}

// golden_tpu_test's worked 2 x 2 example: W = [[1, 2], [0.5, -1]], A = [[1, 1], [2, -0.5]],
// A W = [[1.5, 1.0], [1.75, 4.5]] = [[384, 256], [448, 1152]] in Q8.8, exact.
TEST(Functional, HandWorkedMatmul) {
  FunctionalModel fm(2, 16, 16);
  fm.write_row(0, {256, 512});
  fm.write_row(1, {128, -256});
  fm.write_row(2, {256, 256});
  fm.write_row(3, {512, -128});
  fm.write_row(6, {7, 7});
  const Words p = {loadw(0, 2), matmul({.act = 2, .out = 4, .rows = 2, .k = 2, .n = 2}),
                   // n = 1 keeps lane 1 of row 6; k = 1 drops lane 1 of the activations:
                   // row 6 lane 0 = 1 * 1 = 256.
                   matmul({.act = 2, .out = 6, .rows = 1, .k = 1, .n = 1}), op(Opcode::kHalt)};
  for (std::size_t i = 0; i < p.size(); ++i) fm.write_instr(static_cast<uint32_t>(i), p[i]);
  fm.record_writes(true);
  fm.start();
  EXPECT_EQ(fm.run(), State::kDone);
  EXPECT_EQ(fm.read_row(4), (Row{384, 256}));
  EXPECT_EQ(fm.read_row(5), (Row{448, 1152}));
  EXPECT_EQ(fm.read_row(6), (Row{256, 7}));
  EXPECT_EQ(fm.instructions(), 4u);
  EXPECT_EQ(fm.macs(), 2u * 2 * 2 + 1u * 1 * 1);
  ASSERT_EQ(fm.writes().size(), 3u);
  EXPECT_EQ(fm.writes()[0].addr, 4u);
  EXPECT_EQ(fm.writes()[0].lanes, 3u);
  EXPECT_EQ(fm.writes()[2].addr, 6u);
  EXPECT_EQ(fm.writes()[2].lanes, 1u);
  // The row presented: lane 1 computed with k = 1 is 1 * 2 = 2.0 = 512, but not stored.
  EXPECT_EQ(fm.writes()[2].data, (Row{256, 512}));
}

// Rounding at the array's edge (ties away from zero) and saturation, by hand. W = the identity
// scaled to 1 LSB (raw 1), so y[c] = a[c] * 1 in units of 2^-16: a = 128 is half an LSB -> 1,
// -128 -> -1, 127 -> 0, -384 -> -2. Then W = 127.99609375 everywhere: 2 * 32767^2 >> 8 saturates.
TEST(Functional, RoundingAndSaturationByHand) {
  FunctionalModel fm(2, 16, 16);
  fm.write_row(0, {1, 0});
  fm.write_row(1, {0, 1});
  fm.write_row(2, {128, -128});
  fm.write_row(3, {127, -384});
  fm.write_row(8, {32767, 32767});
  fm.write_row(9, {32767, -32768});
  fm.write_row(10, {32767, 32767});
  const Words p = {loadw(0, 2), matmul({.act = 2, .out = 4, .rows = 2, .k = 2, .n = 2}),
                   loadw(8, 2), matmul({.act = 10, .out = 6, .rows = 1, .k = 2, .n = 2}),
                   op(Opcode::kHalt)};
  for (std::size_t i = 0; i < p.size(); ++i) fm.write_instr(static_cast<uint32_t>(i), p[i]);
  fm.start();
  EXPECT_EQ(fm.run(), State::kDone);
  EXPECT_EQ(fm.read_row(4), (Row{1, -1}));
  EXPECT_EQ(fm.read_row(5), (Row{0, -2}));
  // Lane 0: 32767 * 32767 * 2 -> saturates to 32767; lane 1: 32767 * (32767 - 32768) = -32767
  // units of 2^-16 -> round(-127.99...) = -128.
  EXPECT_EQ(fm.read_row(6), (Row{32767, -128}));
}

// sgd by hand. Nearest: theta 1.0, g 1.0, lr 0.25: 0.25 * 1.0 = 16384 units of 2^-16 -> 64,
// theta 192; lane 1 g -1.0: theta 320. Stochastic after `seed 0x100`: lane 0's LFSR is 0x100
// (r = 0x00), lane 1's 0x100 ^ 0x9E3779B9 = 0x9E3778B9 (r = 0xB9 = 185). lr = 1 LSB, g = 100:
// prod = 100; lane 0 (100 + 0) >> 8 = 0, lane 1 (100 + 185) >> 8 = 1.
TEST(Functional, SgdByHand) {
  FunctionalModel fm(2, 16, 16);
  fm.write_row(0, {256, 256});
  fm.write_row(1, {256, -256});
  fm.write_row(2, {50, 50});
  fm.write_row(3, {100, 100});
  const Words p = {sgd(0, 1, 1, 64, false), word(Instr{.op = Opcode::kSeed, .seed = 0x100}),
                   sgd(2, 3, 1, 1, true), op(Opcode::kHalt)};
  for (std::size_t i = 0; i < p.size(); ++i) fm.write_instr(static_cast<uint32_t>(i), p[i]);
  fm.start();
  EXPECT_EQ(fm.run(), State::kDone);
  EXPECT_EQ(fm.read_row(0), (Row{192, 320}));
  EXPECT_EQ(fm.read_row(2), (Row{50, 49}));
  EXPECT_EQ(lfsr_seed(0x100, 1), 0x9E3778B9u);  // the value the comment above works with
}

// A loop of 3 over a matmul of 5 x 2 x 1: instructions loop + 3 * (matmul + endl) + halt = 8,
// MACs 3 * 5 * 2 * 1 = 30. run(n) stops after n instructions, still Running.
TEST(Functional, CountsAndBoundedRun) {
  FunctionalModel fm(2, 16, 16);
  const Words p = {loop(3), matmul({.act = 0, .out = 8, .rows = 5, .k = 2, .n = 1}),
                   op(Opcode::kEndl), op(Opcode::kHalt)};
  for (std::size_t i = 0; i < p.size(); ++i) fm.write_instr(static_cast<uint32_t>(i), p[i]);
  fm.start();
  EXPECT_EQ(fm.run(4), State::kRunning);  // loop, matmul, endl, matmul
  EXPECT_EQ(fm.pc(), 2u);
  EXPECT_EQ(fm.instructions(), 4u);
  EXPECT_EQ(fm.run(), State::kDone);
  EXPECT_EQ(fm.instructions(), 8u);
  EXPECT_EQ(fm.macs(), 30u);
  fm.start();  // counters restart
  EXPECT_EQ(fm.instructions(), 0u);
  EXPECT_EQ(fm.macs(), 0u);
}

// seta/adda by hand: a1 = 65535, + 3 wraps to 2; a2 = 5, - 7 wraps to 65534; a3 = 0 after a start.
TEST(Functional, AddressRegistersByHand) {
  FunctionalModel fm(2, 16, 16);
  const Words p = {seta(1, 65535), adda(1, 3),        seta(2, 5),       adda(2, -7),
                   seta(3, 9),     op(Opcode::kSync), op(Opcode::kHalt)};
  for (std::size_t i = 0; i < p.size(); ++i) fm.write_instr(static_cast<uint32_t>(i), p[i]);
  fm.start();
  EXPECT_EQ(fm.run(), State::kSync);
  EXPECT_EQ(fm.areg(0), 0u);
  EXPECT_EQ(fm.areg(1), 2u);
  EXPECT_EQ(fm.areg(2), 65534u);
  EXPECT_EQ(fm.areg(3), 9u);
  EXPECT_THROW(fm.areg(4), std::out_of_range);
  fm.resume();
  EXPECT_EQ(fm.run(), State::kDone);
  fm.start();
  EXPECT_EQ(fm.areg(1), 0u);
  EXPECT_EQ(fm.areg(3), 0u);
}

// ============================================================================================
// Hand-written programs on both models, at ArrayDim 2, 4 and 8.

class FunctionalVsCycle : public ::testing::TestWithParam<int> {
 protected:
  int dim() const { return GetParam(); }
  // Runs the program over fresh random data; returns the outcome.
  // A buffer deeper than 1024 rows gets data, and is compared, in its first 1024 rows only.
  Outcome run(const Words& program, int ub_depth = 256, int imem_depth = 256,
              const std::string& what = "") {
    if (!seeded_) {
      rng_.seed(tb::test_seed(test_name()));
      seeded_ = true;
    }
    const int rows = std::min(ub_depth, 1024);
    const std::vector<Row> data = random_data(rng_, dim(), rows);
    return run_both(RunSetup{dim(), ub_depth, imem_depth, rows}, program, data,
                    what.empty() ? test_name() : what);
  }
  Outcome run_asm(const std::string& source, int ub_depth = 256, int imem_depth = 256) {
    return run(assemble(source, dim()), ub_depth, imem_depth, test_name() + ":\n" + source);
  }

  std::mt19937_64 rng_;
  bool seeded_ = false;
};

TEST_P(FunctionalVsCycle, LoadwAndMatmulForms) {
  const Outcome o = run_asm(R"(
.buf W, N + N
.buf X, 40
.buf H, 40
.buf Y, 40
        loadw W, rows=N
        matmul X, H, rows=13, k=N, n=N
        matmul X+1, H+13, rows=3, k=N-1, n=1
        loadw W+1, rows=N-1, t
        matmul X, Y, rows=N, k=N, n=N-1, t
        matmul X+5, Y+N, rows=1, k=1, n=N, t
        loadw W+3, rows=1
        matmul X+2, Y+20, rows=N+N+7, k=2, n=N
        matmul X+2, Y+20, rows=1, k=N, n=N
        loadw W, rows=N, t
        loadw W+2, rows=N
        matmul X, H+20, rows=N, k=N, n=N
        halt
)");
  EXPECT_EQ(o.state, State::kDone);
  EXPECT_EQ(o.writes, 13u + 3 + dim() + 1 + (2 * dim() + 7) + 1 + dim());
}

TEST_P(FunctionalVsCycle, AccumulatingMatmul) {
  const Outcome o = run_asm(R"(
.buf W, N + N + N
.buf X, 40
.buf H, 40
.buf B, 1
.buf Y, 40
        vpu mask=act, act=relu
        loadw W, rows=N
        matmul X, H, rows=9, k=N, n=N
        loadw W+N, rows=N
        matmul X+9, H, rows=9, k=N, n=N, acc
        vpu mask=bias+act+loss, act=leaky, leak=2, batch=1, bias=B, side=Y
        matmul X, H, rows=5, k=N, n=N-1, acc
        loadw W+N+1, rows=N, t
        matmul X, H+20, rows=N, k=N, n=N, acc, t
        vpu mask=deriv, act=relu, src=s, side=Y
        matmul X+3, H+1, rows=7, k=1, n=N, acc
        halt
)");
  EXPECT_EQ(o.state, State::kDone);
}

// Every mask (16) with every activation (3) and both derivative sources: 96 configurations,
// leak and batch varied, each on its own output rows.
TEST_P(FunctionalVsCycle, EveryVpuMaskAndActivation) {
  std::ostringstream src;
  src << ".buf W, N\n.buf X, 4\n.buf B, 1\n.buf Y, 4\n.buf H, 192\n"
      << "        loadw W, rows=N\n";
  int j = 0;
  for (int mask = 0; mask < 16; ++mask) {
    for (const char* act : {"identity", "relu", "leaky"}) {
      for (const char* s : {"z", "s"}) {
        std::string m;
        for (const auto& [bit, name] :
             {std::pair{1, "bias"}, {2, "act"}, {4, "loss"}, {8, "deriv"}}) {
          if (mask & bit) m += (m.empty() ? "" : "+") + std::string(name);
        }
        if (m.empty()) m = "none";
        src << "        vpu mask=" << m << ", act=" << act << ", leak=" << (j % 16)
            << ", batch=" << ((j * 7) % 16) << ", src=" << s << ", bias=B, side=Y\n"
            << "        matmul X + " << (j % 3) << ", H + " << 2 * j << ", rows=2, k=N, n=N\n";
        ++j;
      }
    }
  }
  src << "        halt\n";
  const Outcome o = run_asm(src.str(), 256);
  EXPECT_EQ(o.state, State::kDone);
  EXPECT_EQ(o.writes, 192u);
}

TEST_P(FunctionalVsCycle, LossAndDerivativeWithSideRows) {
  const Outcome o = run_asm(R"(
.buf W, N
.buf X, 40
.buf B, 1
.buf Y, 40
.buf H, 40
.buf G, 40
.buf D, 40
        loadw W, rows=N
        vpu mask=bias+act+loss+deriv, act=leaky, leak=1, batch=2, src=z, bias=B, side=Y
        matmul X, H, rows=N+3, k=N, n=N
        vpu mask=bias+act, act=leaky, leak=3, bias=B
        matmul X, H, rows=N+3, k=N, n=N
        vpu mask=loss+deriv, act=leaky, leak=3, batch=0, src=s, side=H
        matmul X, G, rows=N+3, k=N, n=N
        vpu mask=deriv, act=relu, src=s, side=G
        matmul X+1, D, rows=N+3, k=N, n=N
        vpu mask=loss, batch=15, side=Y+1
        matmul X, D, rows=N, k=N, n=N
        vpu mask=loss+deriv, act=identity, batch=1, src=s, side=Y
        matmul X, D+N, rows=N, k=N, n=N
        halt
)");
  EXPECT_EQ(o.state, State::kDone);
}

TEST_P(FunctionalVsCycle, SgdNearestAndStochastic) {
  const Outcome o = run_asm(R"(
.buf W, N
.buf X, 20
.buf P, 20
.buf G, 20
        sgd P, G, count=N+3, lr=0.25
        sgd P, G, count=N+3, lr=0.01, stochastic
        seed 0xDEADBEEF
        sgd P, G, count=5, lr=-1.5, stochastic
        sgd P+5, G, count=2, lr=127.99609375
        sgd P, G+1, count=1, lr=-128.0, stochastic
        seed 0
        sgd P, G, count=20, lr=1q, stochastic
        loadw W, rows=N
        matmul X, G, rows=10, k=N, n=N
        sgd P, G, count=10, lr=0.0625, stochastic
        sgd P, G, count=10, lr=-0.0625
        halt
)");
  EXPECT_EQ(o.state, State::kDone);
}

TEST_P(FunctionalVsCycle, LoopsAndSync) {
  const Outcome o = run_asm(R"(
.buf W, N
.buf X, 20
.buf H, 20
.buf P, 20
        loadw W, rows=N
        loop 3
        matmul X, H, rows=2, k=N, n=N
        loop 2
        sgd P, H, count=2, lr=0.5, stochastic
        sync
        endl
        loadw H, rows=N
        matmul H, X, rows=3, k=N, n=N
        endl
        loop 2
        loop 2
        loop 2
        loop 2
        matmul X, H+5, rows=1, k=N, n=N
        endl
        endl
        endl
        endl
        sync
        halt
)");
  EXPECT_EQ(o.state, State::kDone);
  EXPECT_EQ(o.stops, 3 * 2 + 1 + 1);
  // Instructions issued: loadw, loop, 3 * (matmul, loop, 2 * (sgd, sync, endl), loadw, matmul,
  // endl) = 2 + 3 * 11 = 35. The four nested loops: the innermost, entered once, issues
  // loop + 2 * (matmul, endl) = 5; each level around it 1 + 2 * (inner + endl): 13, 29, 61.
  // Then sync and halt.
  EXPECT_EQ(o.instructions, 35u + 61 + 2);
}

// Reads that see the instruction's own writes (golden/functional_model.hpp, top): activation
// rows 2N+6 or more rows behind the output rows, side rows 6 or more, a bias row among the
// output rows, and sgd gradients 4 or more rows behind theta; and the lags just short of those.
TEST_P(FunctionalVsCycle, ReadsOfTheInstructionsOwnWrites) {
  const int n = dim();
  const int lag = 2 * n + 6;
  std::ostringstream src;
  src << ".buf W, N\n.buf X, 120\n.buf B, 1\n.buf S, 60\n"
      << "        loadw W, rows=N\n";
  for (const int d : {lag - 1, lag, lag + 1, 1, -3}) {
    src << "        matmul X + 10, X + " << 10 + d << ", rows=" << lag + 20 << ", k=N, n=N\n";
  }
  src << "        matmul X, X + 3, rows=N, k=N, n=N, t\n";  // transposed: reads first
  src << "        matmul X, X + " << lag << ", rows=40, k=N, n=N, acc\n";
  for (const int d : {5, 6, 7}) {
    src << "        vpu mask=loss, batch=1, side=S\n"
        << "        matmul X, S + " << d << ", rows=30, k=N, n=N-1\n";
  }
  for (const int j0 : {0, 3, 14, 20}) {
    src << "        vpu mask=bias+act, act=relu, bias=X + " << j0 << "\n"
        << "        matmul S, X, rows=20, k=N, n=N\n";
  }
  for (const int d : {-2, 0, 1, 2, 3, 4, 5, 9}) {
    src << "        sgd S + 20 + " << (d > 0 ? d : 0) << ", S + 20 + " << (d < 0 ? -d : 0)
        << ", count=12, lr=0.75, stochastic\n";
  }
  src << "        sgd S + 23, S + 20, count=12, lr=1.5\n        halt\n";
  const Outcome o = run_asm(src.str());
  EXPECT_EQ(o.state, State::kDone);
}

TEST_P(FunctionalVsCycle, EveryErrorCode) {
  struct Case {
    std::string name;
    std::string body;  // after the common buffer layout
    Error err;
    uint32_t pc;
  };
  const std::string layout = ".buf W, N\n.buf X, 40\n.buf H, 40\n.org 250\n.buf E, 6\n";
  const std::vector<Case> cases = {
      {"illegal opcode", "nop\n.word 0xC000000000000000\n", Error::kOpcode, 1},
      {"opcode 0xF", ".word 0xF000000000000001\n", Error::kOpcode, 0},
      {"reserved bit of nop", ".word 0x0000000000000001\n", Error::kOpcode, 0},
      {"reserved bit of loadw", "loadw W, rows=1\n.word 0x7000000008000000\n", Error::kOpcode, 1},
      {"reserved bit of halt", ".word 0x1000000000000100\n", Error::kOpcode, 0},
      {"loadw rows 0", "loadw W, rows=0\n", Error::kField, 0},
      {"loadw rows N+1", "loadw W, rows=N+1\n", Error::kField, 0},
      {"matmul rows 0", "matmul X, H, rows=0, k=N, n=N\n", Error::kField, 0},
      {"matmul k 0", "matmul X, H, rows=1, k=0, n=N\n", Error::kField, 0},
      {"matmul k N+1", "matmul X, H, rows=1, k=N+1, n=N\n", Error::kField, 0},
      {"matmul n 0", "matmul X, H, rows=1, k=N, n=0\n", Error::kField, 0},
      {"matmul n N+1", "matmul X, H, rows=1, k=N, n=N+1\n", Error::kField, 0},
      {"matmul t rows N+1", "matmul X, H, rows=N+1, k=N, n=N, t\n", Error::kField, 0},
      {"sgd count 0", "sgd X, H, count=0, lr=1\n", Error::kField, 0},
      {"vpu act 3", "vpu mask=act, act=3\n", Error::kField, 0},
      {"loadw addr", "loadw E+6-N+1, rows=N\n", Error::kAddress, 0},
      {"loadw t addr", "loadw E+6-N+1, rows=1, t\n", Error::kAddress, 0},
      {"matmul act", "matmul E+1, H, rows=6, k=N, n=N\n", Error::kAddress, 0},
      {"matmul t act", "matmul E+6-N+1, H, rows=1, k=N, n=N, t\n", Error::kAddress, 0},
      {"matmul out", "matmul X, E+2, rows=5, k=N, n=N\n", Error::kAddress, 0},
      {"matmul acc out", "matmul X, E+2, rows=5, k=N, n=N, acc\n", Error::kAddress, 0},
      {"matmul bias", "vpu mask=bias, bias=256\nmatmul X, H, rows=1, k=N, n=N\n", Error::kAddress,
       1},
      {"matmul side (loss)", "vpu mask=loss, side=E+3\nmatmul X, H, rows=4, k=N, n=N\n",
       Error::kAddress, 1},
      {"matmul side (deriv src s)",
       "vpu mask=deriv, src=s, side=E+5\nmatmul X, H, rows=2, k=N, n=N\n", Error::kAddress, 1},
      {"sgd theta", "sgd E+1, X, count=6, lr=1\n", Error::kAddress, 0},
      {"sgd grad", "sgd X, E+1, count=6, lr=1\n", Error::kAddress, 0},
      {"loop 0", "loop 0\n", Error::kLoop, 0},
      {"fifth loop", "loop 1\nloop 1\nloop 1\nloop 1\nloop 1\n", Error::kLoop, 4},
      {"endl alone", "nop\nendl\n", Error::kLoop, 1},
      {"endl after the loop closed", "loop 2\nendl\nendl\n", Error::kLoop, 2},
      // The first failing check decides: a field error before an address error, an address
      // error before a loop error.
      {"field before address", "loadw 300, rows=0\n", Error::kField, 0},
      // Work issued before the error completes on the cycle model; the functional model did it.
      {"error after work in flight",
       "loadw W, rows=N\nmatmul X, H, rows=30, k=N, n=N\nsgd H, X, count=1, lr=1\n"
       "matmul X, H+5, rows=20, k=N, n=N\nmatmul X, H+1, rows=3, k=N, n=N\n"
       ".word 0xD000000000000000\n",
       Error::kOpcode, 5},
      {"error inside a loop", "loop 3\nmatmul X, H, rows=2, k=N, n=N\nendl\nendl\n", Error::kLoop,
       3},
  };
  for (const Case& c : cases) {
    const std::string source = layout + c.body;
    const Outcome o = run(assemble(source, dim()), 256, 256, c.name + ":\n" + source);
    EXPECT_EQ(o.state, State::kError) << c.name;
    EXPECT_EQ(o.err, c.err) << c.name;
    EXPECT_EQ(o.pc, c.pc) << c.name;
  }
  // ErrPc: the PC runs off the end of an 8-word memory of nops, and a sync in the last word.
  Outcome o = run(Words(8, op(Opcode::kNop)), 64, 8, "PC runs past the end");
  EXPECT_EQ(o.err, Error::kPc);
  EXPECT_EQ(o.pc, 8u);
  Words p(8, op(Opcode::kNop));
  p[7] = op(Opcode::kSync);
  o = run(p, 64, 8, "sync in the last word");
  EXPECT_EQ(o.stops, 2);
  EXPECT_EQ(o.err, Error::kPc);
  EXPECT_EQ(o.pc, 8u);
  // ErrField for seta/adda a0.
  o = run({seta(1, 3), word(Instr{.op = Opcode::kSeta, .reg = 0, .imm = 1})}, 64, 64, "seta a0");
  EXPECT_EQ(o.err, Error::kField);
  EXPECT_EQ(o.pc, 1u);
  o = run({word(Instr{.op = Opcode::kAdda, .reg = 0, .imm = -1})}, 64, 64, "adda a0");
  EXPECT_EQ(o.err, Error::kField);
  EXPECT_EQ(o.pc, 0u);
}

// The address registers: a loop walking a1 through blocks of rows (inputs, outputs, targets),
// a2 walking backwards, a3 set through a wrap-around, a vpu whose rows are fixed when it issues.
TEST_P(FunctionalVsCycle, AddressRegistersWalkThroughBlocks) {
  const int n = dim();
  const uint32_t kW = 0, kX = 16, kH = 80, kY = 150, kB = 220;
  const uint32_t batch = 3;
  const auto N = static_cast<uint32_t>(n);
  const Words p = {
      loadw(kW, N),
      seta(1, 0),
      seta(2, 5 * batch),
      loop(6),
      vpu(cfg(kMaskBias | kMaskAct | kMaskLoss, kActLeakyRelu, 1, 1), kB, kY, 3, 1),
      matmul({.act = kX, .act_reg = 1, .out = kH, .out_reg = 1, .rows = batch, .k = N, .n = N}),
      matmul({.act = kX,
              .act_reg = 2,
              .out = kH + 30,
              .out_reg = 1,
              .rows = batch,
              .k = N,
              .n = N - 1,
              .acc = true}),
      loadw(kX, N, false, 1),
      adda(1, static_cast<int32_t>(batch)),
      adda(2, -static_cast<int32_t>(batch)),
      op(Opcode::kEndl),
      // a3 = 65535 + 2 wraps to 1; the vpu resolves its rows now, the adda after it does not
      // move them.
      seta(3, 65535),
      adda(3, 2),
      vpu(cfg(kMaskBias | kMaskLoss, 0, 0, 2), kB, kY, 3, 3),
      adda(3, 40),
      matmul({.act = kX, .act_reg = 3, .out = kH, .out_reg = 3, .rows = 4, .k = N, .n = N}),
      loadw(kX + 1, N, true, 3),
      matmul({.act = kX, .act_reg = 3, .out = kH + 60, .rows = N, .k = N, .n = N, .t = true}),
      op(Opcode::kSync),
      adda(1, -1),
      loop(2),
      matmul({.act = 0, .act_reg = 1, .out = 200, .out_reg = 0, .rows = 2, .k = N, .n = N}),
      adda(1, 2),
      op(Opcode::kEndl),
      op(Opcode::kHalt),
  };
  const Outcome o = run(p, 256, 256, test_name());
  EXPECT_EQ(o.state, State::kDone);
  EXPECT_EQ(o.areg[1], 6 * batch - 1 + 4);
  EXPECT_EQ(o.areg[2], 65533u);  // 5 * batch - 6 * batch = -3 mod 2^16
  EXPECT_EQ(o.areg[3], 41u);
}

// isa.md's epoch over minibatches in assembly: one loop body, a1 walking the per-sample blocks
// (inputs, targets, activations, gradients) B rows at a time, a2 walking the weight blocks.
TEST_P(FunctionalVsCycle, AddressRegistersInAssembly) {
  const Outcome o = run_asm(R"(
.equ B, 3
.buf W, N + N + N + N
.buf X, 24
.buf Y, 24
.buf H, 24
.buf G, 24
.buf D, 24
.buf Bias, 1
        seta a1, 0
        seta a2, 0
        loop 8
        loadw a2+W, rows=N
        vpu mask=bias+act+loss, act=leaky, leak=1, batch=2, bias=Bias, side=a1+Y
        matmul a1+X, a1+H, rows=B, k=N, n=N
        vpu mask=deriv, act=leaky, leak=1, src=s, side=H+a1
        matmul a1+X, G+a1, rows=B, k=N, n=N
        matmul X + a1, D + a1, rows=B, k=N, n=N, acc
        adda a1, B
        adda a2, 1
        endl
        sgd W, G, count=N, lr=0.5, stochastic
        halt
)");
  EXPECT_EQ(o.state, State::kDone);
  EXPECT_EQ(o.areg[1], 24u);
  EXPECT_EQ(o.areg[2], 8u);
  EXPECT_EQ(o.writes, 8u * 3 * 3 + dim());
}

// The rows are field + register computed exactly in 17 bits: 65535 + 1 is row 65536, outside a
// 65536-row buffer (ErrAddress), not row 0. A register that walks a block out of the buffer
// faults on the iteration that leaves it, after the earlier iterations' writes.
TEST_P(FunctionalVsCycle, AddressRegisterErrors) {
  const auto N = static_cast<uint32_t>(dim());
  Outcome o = run({seta(1, 1), loadw(65535, 1, false, 1)}, 65536, 16, "17-bit loadw row");
  EXPECT_EQ(o.err, Error::kAddress);
  EXPECT_EQ(o.pc, 1u);
  o = run({seta(2, 65535), vpu(cfg(kMaskBias), 1, 0, 2, 0),
           matmul({.act = 0, .out = 4, .rows = 1, .k = N, .n = N})},
          65536, 16, "17-bit bias row");
  EXPECT_EQ(o.err, Error::kAddress);
  EXPECT_EQ(o.pc, 2u);
  o = run({seta(1, 0), loop(10),
           matmul({.act = 8, .out = 100, .out_reg = 1, .rows = 4, .k = N, .n = N}), adda(1, 50),
           op(Opcode::kEndl), op(Opcode::kHalt)},
          256, 16, "a register walking out of the buffer");
  EXPECT_EQ(o.err, Error::kAddress);
  EXPECT_EQ(o.pc, 2u);  // a1 = 200 on the fifth pass: rows 300..303
  EXPECT_EQ(o.writes, 4u * 4);
  EXPECT_EQ(o.areg[1], 200u);
}

// --- Random programs (tb/program_gen.hpp). --------------------------------------------------

TEST_P(FunctionalVsCycle, RandomPrograms) {
  const uint64_t seed = tb::test_seed(test_name());
  std::mt19937_64 rng(seed);
  const int programs = dim() <= 4 ? 120 : 80;
  int errors = 0, syncs = 0;
  std::size_t writes = 0;
  for (int i = 0; i < programs; ++i) {
    const int depth = std::array<int, 3>{96, 128, 200}[static_cast<std::size_t>(i % 3)];
    ProgramGenerator gen(rng, dim(), depth);
    const Words p = gen.program();
    const std::vector<Row> data = random_data(rng, dim(), depth);
    const std::string what = "program " + std::to_string(i) + " of seed " + std::to_string(seed) +
                             " (depth " + std::to_string(depth) + "):\n" +
                             assembler::disassemble(p);
    const Outcome o = run_both(RunSetup{dim(), depth, 256}, p, data, what);
    if (::testing::Test::HasFailure()) return;
    errors += o.state == State::kError;
    syncs += o.stops - 1;
    writes += o.writes;
  }
  std::cout << "[ random   ] " << programs << " programs at ArrayDim " << dim() << ": " << writes
            << " rows written, " << syncs << " syncs, " << errors << " ended in an error"
            << std::endl;
}

INSTANTIATE_TEST_SUITE_P(Dim, FunctionalVsCycle, ::testing::Values(2, 4, 8),
                         [](const ::testing::TestParamInfo<int>& p) {
                           return "N" + std::to_string(p.param);
                         });

// --- Speed. ----------------------------------------------------------------------------------

// ArrayDim 8, a 1000-row matmul with bias and ReLU: the cycle model from start to Done against
// the functional model from start to Done (averaged over repeats). Printed, not asserted.
TEST(FunctionalSpeed, BigMatmulAgainstTheCycleModel) {
  const int dim = 8, rows = 1000, depth = 2 * rows + 32;
  std::mt19937_64 rng(tb::test_seed(test_name()));
  const std::vector<Row> data = random_data(rng, dim, depth);
  const uint32_t kW = 0, kB = 8, kX = 16, kH = kX + rows;
  const Words p = {loadw(kW, dim), vpu(cfg(kMaskBias | kMaskAct, kActRelu), kB, 0),
                   matmul({.act = kX, .out = kH, .rows = rows, .k = dim, .n = dim}),
                   op(Opcode::kHalt)};

  CycleTpu ct(dim, depth, 16);
  FunctionalModel fm(dim, depth, 16);
  for (int a = 0; a < depth; ++a) {
    ct.write_row(static_cast<uint32_t>(a), data[static_cast<std::size_t>(a)]);
    fm.write_row(static_cast<uint32_t>(a), data[static_cast<std::size_t>(a)]);
  }
  for (std::size_t i = 0; i < p.size(); ++i) {
    ct.write_instr(static_cast<uint32_t>(i), p[i]);
    fm.write_instr(static_cast<uint32_t>(i), p[i]);
  }
  // The best of several runs of each (the program can be rerun: it reads no row it writes),
  // so that other work on the machine disturbs the ratio less.
  using Clock = std::chrono::steady_clock;
  const auto seconds = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  double cycle_s = 1e9;
  uint64_t cycles = 0;
  for (int r = 0; r < 3; ++r) {
    const uint64_t c0 = ct.cycles();
    const auto t0 = Clock::now();
    ct.start();
    ASSERT_EQ(ct.run_to_stop(100000, false), State::kDone);
    cycle_s = std::min(cycle_s, seconds(t0));
    cycles = ct.cycles() - c0;
  }
  double functional_s = 1e9;
  constexpr int kRepeats = 20;
  for (int batch = 0; batch < 10; ++batch) {
    const auto t1 = Clock::now();
    for (int r = 0; r < kRepeats; ++r) {
      fm.start();
      ASSERT_EQ(fm.run(), State::kDone);
    }
    functional_s = std::min(functional_s, seconds(t1) / kRepeats);
  }
  // Same inputs, same outputs (the matmul only writes rows it does not read).
  for (int a = 0; a < rows; ++a) {
    const auto r = static_cast<uint32_t>(kH + static_cast<uint32_t>(a));
    ASSERT_EQ(fm.read_row(r), ct.model().buffer().row(r)) << "row " << r;
  }
  std::cout << "[ speed    ] ArrayDim " << dim << ", " << rows << "-row matmul: cycle model "
            << cycle_s * 1e3 << " ms (" << cycles << " cycles with the host's start), functional "
            << functional_s * 1e6 << " us: " << cycle_s / functional_s << "x faster" << std::endl;
}

}  // namespace
}  // namespace tpu::golden
