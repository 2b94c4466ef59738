// Bad programs and bad hosts (docs/testplan.md, "Bad programs and bad hosts"), on the whole TPU
// at every tested configuration, every cycle in lockstep with the golden model:
//
//  - a random legal program followed by one random illegal instruction of each kind isa.md
//    lists (opcode, reserved bit, field, address, loop misuse) or by nothing at all (the PC runs
//    off the end) stops in Error with that code at that PC, no later than the same program with
//    a halt in its place reaches Done, and leaves the buffer exactly as that program leaves it;
//  - a host that, while a program runs, writes and reads the instruction memory, starts,
//    continues, reads and writes control registers that do not exist, talks to space 3, reads
//    buffer rows, withdraws requests before they are taken and leaves responses untaken for
//    hundreds of cycles, changes nothing: the program ends in the same cycle with the same
//    buffer and instruction memory, every refused request answered with the error bit;
//  - a reset at a random moment (running, in Sync, stopped, in the middle of a host request)
//    leaves the TPU Idle with a cleared status, and the RTL and the golden model agree on every
//    buffer row and on the next program.
//
// The expected outcome of each case comes from docs/isa.md and docs/architecture.md (the
// error table, "Errors", the host port's spaces), not from either model. The number of
// programs per test is TPU_HOSTILE_PROGRAMS (tests/CMakeLists.txt; the environment variable of
// that name overrides it, as `make fuzz` does); TPU_SEED replays a run.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "golden/isa.hpp"
#include "tb/program_gen.hpp"
#include "tpu_fixture.hpp"

namespace {

namespace prog = tpu::tb::prog;
using tpu::isa::Error;
using tpu::isa::Opcode;
using tpu::isa::State;
using tpu::test::kDim;
using tpu::test::kImemDepth;
using tpu::test::kUbDepth;
using tpu::test::Rows;
using tpu::test::test_name;
using Space = tpu::tb::Space;

int programs_to_run() {
  return tpu::test::count_from_env("TPU_HOSTILE_PROGRAMS", TPU_HOSTILE_PROGRAMS);
}
constexpr uint64_t kMaxCycles = 1'000'000;
// Cycles after a stop by which every issued matmul, weight load and update has written its
// last row: the generator's longest block (60 rows) plus the array's and vector unit's latency.
constexpr int kDrainCycles = 60 + 3 * kDim + 40;

class TpuHostile : public tpu::test::TpuFixture {
 protected:

  // Starts the loaded program and runs it to a stop, continuing at every Sync.
  State run_through_syncs() {
    State s = tb_->run(kMaxCycles);
    while (s == State::kSync) {
      tb_->resume();
      s = tb_->run_on(kMaxCycles);
    }
    return s;
  }

  // A legal program without a halt (the caller ends it), short enough to leave `room` words.
  prog::Words legal_body(prog::ProgramOptions options, int room, uint32_t* a3 = nullptr) {
    options.bad_word = 0;
    options.run_off = 0;
    options.halt = false;
    for (;;) {
      prog::ProgramGenerator gen(rng_, kDim, kUbDepth, options);
      prog::Words p = gen.program();
      if (p.size() + static_cast<std::size_t>(room) <= static_cast<std::size_t>(kImemDepth)) {
        if (a3 != nullptr) *a3 = gen.a3();
        return p;
      }
    }
  }
};

// --- Illegal instructions ----------------------------------------------------------------------

enum class Kind { kOpcode, kReserved, kField, kAddress, kLoop, kRunOff, kCount };
const std::array<const char*, static_cast<int>(Kind::kCount)> kKindNames = {
    "opcode", "reserved bit", "field", "address", "loop", "run off the end"};

// What follows the legal program: legal words, then the faulting word (the last), or nothing
// (the PC runs off the end). `err` is isa.md's code for it.
struct Fault {
  Kind kind;
  prog::Words words;
  Error err;
};

class FaultMaker : prog::Dice {
 public:
  FaultMaker(std::mt19937_64& rng, uint32_t a3) : Dice(rng), a3_(a3) {}

  Fault make(Kind kind) {
    switch (kind) {
      case Kind::kOpcode:
        return {kind, {(uint64_t{static_cast<uint64_t>(rand(0xC, 0xF))} << 60) | low_bits()},
                Error::kOpcode};
      case Kind::kReserved:
        return {kind, {reserved_bit()}, Error::kOpcode};
      case Kind::kField:
        return {kind, {bad_field()}, Error::kField};
      case Kind::kAddress:
        return {kind, bad_address(), Error::kAddress};
      case Kind::kLoop:
        return {kind, bad_loop(), Error::kLoop};
      default:
        return {kind, {}, Error::kPc};
    }
  }

 private:
  uint64_t low_bits() { return rng_() & ((uint64_t{1} << 60) - 1); }
  uint32_t n() const { return static_cast<uint32_t>(kDim); }
  uint32_t legal_k() { return urand(1, n()); }

  // A legal opcode with random fields and one bit that its format does not name set.
  uint64_t reserved_bit() {
    for (;;) {
      const auto o = static_cast<Opcode>(rand(0x0, 0xB));
      const uint64_t used = tpu::isa::used_bits(o) | tpu::isa::kOp.mask();
      if (~used == 0) continue;  // matmul and sgd name every bit
      int bit;
      do bit = rand(0, 59);
      while ((used >> bit) & 1);
      return (uint64_t{static_cast<uint64_t>(o)} << 60) | (low_bits() & used) |
             (uint64_t{1} << bit);
    }
  }

  // isa.md's ErrField causes, every other field legal.
  uint64_t bad_field() {
    const uint32_t over_n = urand(n() + 1, 63);
    switch (rand(0, 9)) {
      case 0:
        return prog::loadw(0, rand(0, 1) ? 0 : urand(n() + 1, 255), rand(0, 1) != 0);
      case 1:
        return prog::matmul({.rows = 0, .k = legal_k(), .n = legal_k()});
      case 2:
        return prog::matmul({.rows = 1, .k = rand(0, 1) ? 0 : over_n, .n = legal_k()});
      case 3:
        return prog::matmul({.rows = 1, .k = legal_k(), .n = rand(0, 1) ? 0 : over_n});
      case 4:
        return prog::matmul({.rows = urand(n() + 1, 1023), .k = legal_k(), .n = legal_k(), .t = true});
      case 5:
        return prog::sgd(0, 0, 0, 1, rand(0, 1) != 0);
      case 6:
        return prog::vpu(prog::cfg(urand(0, 15), 3, urand(0, 15), urand(0, 15), rand(0, 1) != 0),
                         0, 0);
      case 7:
        return prog::seta(0, rand(0, 65535));
      default:
        return prog::adda(0, rand(-32768, 32767));
    }
  }

  // A first row for a block of `extent` rows that runs past the buffer: the field alone, or the
  // field plus a3 (whose value the legal program left known).
  uint32_t past_row(uint32_t extent) {
    const uint32_t depth = static_cast<uint32_t>(kUbDepth);
    return urand(depth - std::min(extent, depth) + 1, depth + 200);
  }
  std::pair<uint32_t, uint32_t> past_end(uint32_t extent) {
    const uint32_t row = past_row(extent);
    if (rand(0, 1) && a3_ <= row) return {row - a3_, 3};
    return {row, 0};
  }
  uint32_t inside(uint32_t extent) {
    return urand(0, static_cast<uint32_t>(kUbDepth) - std::min(extent, static_cast<uint32_t>(kUbDepth)));
  }

  prog::Words bad_address() {
    const uint32_t rows = urand(1, 2 * n() + 3);
    switch (rand(0, 5)) {
      case 0: {
        const bool t = rand(0, 1) != 0;
        const uint32_t lrows = urand(1, n());
        const auto [a, r] = past_end(t ? n() : lrows);
        return {prog::loadw(a, lrows, t, r)};
      }
      case 1: {  // the activations
        const auto [a, r] = past_end(rows);
        return {prog::matmul({.act = a, .act_reg = r, .out = inside(rows), .rows = rows,
                              .k = legal_k(), .n = legal_k()})};
      }
      case 2: {  // the outputs
        const auto [o, r] = past_end(rows);
        return {prog::matmul({.act = inside(rows), .out = o, .out_reg = r, .rows = rows,
                              .k = legal_k(), .n = legal_k()})};
      }
      case 3: {  // the bias row of the operation a vpu set: the matmul faults, not the vpu
        const auto [b, r] = past_end(1);
        return {prog::vpu(prog::cfg(1), b, 0, r, 0),
                prog::matmul({.act = inside(rows), .out = inside(rows), .rows = rows,
                              .k = legal_k(), .n = legal_k()})};
      }
      case 4: {  // the side rows (the loss stage)
        const auto [s, r] = past_end(rows);
        return {prog::vpu(prog::cfg(4), 0, s, 0, r),
                prog::matmul({.act = inside(rows), .out = inside(rows), .rows = rows,
                              .k = legal_k(), .n = legal_k()})};
      }
      default: {  // sgd's parameter or gradient rows (plain rows, no registers)
        const uint32_t count = urand(1, 40);
        const uint32_t past = past_row(count);
        return {rand(0, 1) ? prog::sgd(past, inside(count), count, 1, false)
                           : prog::sgd(inside(count), past, count, 1, false)};
      }
    }
  }

  prog::Words bad_loop() {
    switch (rand(0, 2)) {
      case 0:
        return {prog::loop(0)};
      case 1:
        return {prog::op(Opcode::kEndl)};  // the legal program closed every loop it opened
      default: {  // a fifth nested loop
        prog::Words w;
        for (int i = 0; i < 5; ++i) w.push_back(prog::loop(urand(1, 3)));
        return w;
      }
    }
  }

  uint32_t a3_;
};

// Each program is run twice from reset over the same buffer: with a halt after the legal part
// (the reference run), then with the fault there. The second stops in Error with the fault's
// code at its PC, within as many cycles as the first took to reach Done plus one per legal word
// of the fault (the faulting word is found illegal in its first cycle in decode, and every
// instruction before it was issued by then), and once what was issued has drained, the buffer is
// exactly what the reference run left.
TEST_F(TpuHostile, IllegalProgramsStopAtTheFaultAndTouchNothingElse) {
  std::array<int, static_cast<int>(Kind::kCount)> seen{};
  uint64_t cycles = 0;
  const int programs = programs_to_run();
  for (int i = 0; i < programs; ++i) {
    const auto kind = static_cast<Kind>(i % static_cast<int>(Kind::kCount));
    uint32_t a3 = 0;
    const prog::Words body = legal_body({}, 8, &a3);
    const Fault fault = FaultMaker(rng_, a3).make(kind);
    const std::vector<prog::Row> data = prog::random_data(rng_, kDim, kUbDepth);
    SCOPED_TRACE("program " + std::to_string(i) + " (TPU_SEED=" + std::to_string(seed_) +
                 ", fault: " + kKindNames[static_cast<int>(kind)] + ")\n" +
                 tpu::assembler::disassemble(body) + "; then\n" +
                 tpu::assembler::disassemble(fault.words));

    tb_->reset();
    fill(data);
    prog::Words with_halt = body;
    with_halt.push_back(prog::op(Opcode::kHalt));
    tb_->load_program(with_halt);
    ASSERT_EQ(run_through_syncs(), State::kDone) << "the legal part alone";
    const uint64_t reference_cycles = tb_->csr(1);
    const Rows reference = snapshot();

    tb_->reset();
    fill(data);
    prog::Words faulty = body;
    faulty.insert(faulty.end(), fault.words.begin(), fault.words.end());
    uint64_t bound = reference_cycles + fault.words.size();
    uint32_t pc = static_cast<uint32_t>(faulty.size()) - 1;
    if (kind == Kind::kRunOff) {  // nops to the end of the memory
      faulty.resize(static_cast<std::size_t>(kImemDepth), prog::op(Opcode::kNop));
      bound = reference_cycles + (kImemDepth - body.size());
      pc = static_cast<uint32_t>(kImemDepth);
    }
    tb_->load_program(faulty);
    ASSERT_EQ(run_through_syncs(), State::kError);
    EXPECT_EQ(tb_->csr(0), tpu::isa::status_word(pc, State::kError, fault.err));
    const uint64_t took = tb_->csr(1);
    EXPECT_LE(took, bound) << "cycles to the fault, against the legal part's " << reference_cycles;
    for (int c = 0; c < kDrainCycles; ++c) tb_->idle();
    EXPECT_EQ(snapshot(), reference) << "the buffer after the fault";
    ASSERT_EQ(tb_->log().count(), 0u) << tb_->log().report();
    ++seen[static_cast<int>(kind)];
    cycles += took;
  }
  std::cout << "[ illegal  ] " << programs << " programs at " << tpu::test::config_name()
            << " (TPU_SEED=" << seed_ << "):";
  for (int k = 0; k < static_cast<int>(Kind::kCount); ++k) {
    std::cout << " " << seen[static_cast<std::size_t>(k)] << " " << kKindNames[static_cast<std::size_t>(k)];
  }
  std::cout << "; " << cycles << " cycles to the faults" << std::endl;
}

// --- Hostile hosts -----------------------------------------------------------------------------

// A host that keeps the port busy while a program runs, with requests the TPU must refuse
// (architecture.md, "Host port": space 1 while Running, a start while Running, a continue
// outside Sync, CSR writes with neither bit, CSRs other than 0 and 1, space 3) and reads that
// change nothing (buffer rows, the status word, the cycle counter). It withdraws some requests
// before they are taken and leaves some responses waiting for hundreds of cycles.
class HostileHost : prog::Dice {
 public:
  // `write_rows`: buffer rows are written too (they are not refused: the reset test only).
  HostileHost(std::mt19937_64& rng, bool write_rows = false)
      : Dice(rng), write_rows_(write_rows) {}

  // The inputs of the next cycle. `may_request` false: no request is presented (one not yet
  // taken is withdrawn; a response still waiting is taken as planned).
  tpu::golden::TpuInputs next(bool may_request) {
    tpu::golden::TpuInputs in;
    if (phase_ == Phase::kRequest && !may_request) {
      ++withdrawn_;
      phase_ = Phase::kIdle;
    }
    if (phase_ == Phase::kIdle && may_request && chance(0.3)) begin();
    if (phase_ == Phase::kRequest) {
      in.host_req_valid = true;
      in.host_req_we = req_.we;
      in.host_req_space = req_.space;
      in.host_req_addr = req_.addr;
      in.host_req_wdata = req_.wdata;
    } else if (phase_ == Phase::kResponse) {
      in.host_rsp_ready = hold_ == 0;
    }
    return in;
  }

  // What the TPU drove in the cycle `in` was presented. Returns a message on a broken promise.
  std::string saw(const tpu::golden::TpuInputs& in, const tpu::golden::TpuOutputs& o) {
    std::string bad;
    if (phase_ == Phase::kRequest) {
      if (o.host_req_ready) {
        if (o.state != State::kRunning) bad = "a request was taken while the TPU was not Running";
        ++taken_;
        phase_ = Phase::kResponse;
        hold_ = chance(0.1) ? rand(1, 400) : rand(0, 2);
      } else if (--patience_ == 0) {
        ++withdrawn_;
        phase_ = Phase::kIdle;
      }
    } else if (phase_ == Phase::kResponse) {
      if (in.host_rsp_ready && o.host_rsp_valid) {
        if (o.host_rsp_err != req_.refused) {
          bad = std::string("request ") + describe() + " answered with error bit " +
                std::to_string(o.host_rsp_err);
        }
        ++(req_.refused ? refused_ : answered_);
        phase_ = Phase::kIdle;
      } else if (hold_ > 0) {
        --hold_;
        if (o.host_rsp_valid) ++held_cycles_;
      }
    }
    return bad;
  }

  bool busy() const { return phase_ != Phase::kIdle; }
  // After a reset: nothing under way.
  void forget() { phase_ = Phase::kIdle; }
  std::string stats() const {
    return std::to_string(taken_) + " requests taken (" + std::to_string(refused_) + " refused, " +
           std::to_string(answered_) + " answered), " + std::to_string(withdrawn_) +
           " withdrawn, " + std::to_string(held_cycles_) + " cycles with a response left waiting";
  }

 private:
  struct Request {
    bool we = false;
    uint8_t space = 0;
    uint32_t addr = 0;
    std::vector<uint32_t> wdata;
    bool refused = true;
  };
  enum class Phase { kIdle, kRequest, kResponse };

  std::string describe() const {
    return "space " + std::to_string(req_.space) + (req_.we ? " write " : " read ") +
           std::to_string(req_.addr);
  }

  void begin() {
    const int words = tpu::golden::host_words(tpu::golden::tpu_host_width(kDim));
    Request r;
    r.wdata.assign(static_cast<std::size_t>(words), 0);
    for (uint32_t& w : r.wdata) w = static_cast<uint32_t>(rng_());
    switch (rand(0, write_rows_ ? 9 : 8)) {
      case 0:  // an instruction word written: refused while Running
      case 1:
        r.we = true;
        r.space = 1;
        r.addr = static_cast<uint32_t>(rand(0, kImemDepth - 1));
        break;
      case 2:  // an instruction word read: refused too
        r.space = 1;
        r.addr = static_cast<uint32_t>(rand(0, kImemDepth - 1));
        break;
      case 3:  // CSR 0: start (bit 0 decides), continue outside Sync, or neither bit
        r.we = true;
        r.space = 2;
        r.wdata[0] = static_cast<uint32_t>(rand(0, 3)) | (static_cast<uint32_t>(rng_()) & ~3u);
        break;
      case 4:  // a CSR that is not there, read or written, or the cycle counter written
        r.we = rand(0, 1) != 0;
        r.space = 2;
        r.addr = static_cast<uint32_t>(rand(r.we ? 1 : 2, 65535));
        break;
      case 5:  // space 3
        r.we = rand(0, 1) != 0;
        r.space = 3;
        r.addr = static_cast<uint32_t>(rand(0, 65535));
        break;
      case 6:  // the status word or the cycle counter
        r.space = 2;
        r.addr = static_cast<uint32_t>(rand(0, 1));
        r.refused = false;
        break;
      case 7:
      case 8:  // a buffer row read
        r.space = 0;
        r.addr = static_cast<uint32_t>(rand(0, kUbDepth - 1));
        r.refused = false;
        break;
      default:  // a buffer row written
        r.we = true;
        r.space = 0;
        r.addr = static_cast<uint32_t>(rand(0, kUbDepth - 1));
        r.refused = false;
        break;
    }
    if (!r.we) r.wdata.clear();
    req_ = r;
    phase_ = Phase::kRequest;
    patience_ = chance(0.2) ? rand(1, 3) : 1'000'000;  // some are withdrawn unanswered
  }

  bool write_rows_;
  Phase phase_ = Phase::kIdle;
  Request req_;
  int patience_ = 0;
  int hold_ = 0;
  uint64_t taken_ = 0, refused_ = 0, answered_ = 0, withdrawn_ = 0, held_cycles_ = 0;
};

// Each legal program (no syncs: a host busy with its own requests cannot continue at once) is
// run from reset twice over the same buffer and instruction memory: alone, then under the
// hostile host, which starts requests only while the reference run was still some cycles from
// its end (so that every one is taken while Running). The second run ends Done in exactly the
// same cycle with the same buffer and the same instruction memory.
TEST_F(TpuHostile, RefusedHostRequestsWhileRunningChangeNothing) {
  HostileHost host(rng_);
  const int programs = programs_to_run();
  for (int i = 0; i < programs; ++i) {
    prog::Words p = legal_body({.sync = false}, 1);
    p.push_back(prog::op(Opcode::kHalt));
    const std::vector<prog::Row> data = prog::random_data(rng_, kDim, kUbDepth);
    SCOPED_TRACE("program " + std::to_string(i) + " (TPU_SEED=" + std::to_string(seed_) + ")\n" +
                 tpu::assembler::disassemble(p));

    tb_->reset();
    fill(data);
    tb_->load_program(p);
    std::vector<uint64_t> imem(static_cast<std::size_t>(kImemDepth));
    for (int a = 0; a < kImemDepth; ++a) {
      const auto w = tb_->host(Space::kImem, false, static_cast<uint32_t>(a), {});
      imem[static_cast<std::size_t>(a)] = tpu::golden::low_u64(w);
    }
    ASSERT_EQ(tb_->run(kMaxCycles), State::kDone);
    const uint64_t reference_cycles = tb_->csr(1);
    const Rows reference = snapshot();

    tb_->reset();
    fill(data);
    tb_->start();
    uint64_t t = 0;  // cycles since the start took effect
    for (bool running = true; running || host.busy(); ++t) {
      ASSERT_LT(t, kMaxCycles) << "no stop";
      const tpu::golden::TpuInputs in = host.next(t + 8 < reference_cycles);
      const tpu::golden::TpuOutputs o = tb_->cycle(in);
      const std::string broken = host.saw(in, o);
      ASSERT_TRUE(broken.empty()) << broken << " (cycle " << t << ")";
      running = o.state == State::kRunning;
    }
    EXPECT_EQ(tb_->status().state, State::kDone);
    EXPECT_EQ(tb_->csr(1), reference_cycles) << "the hostile host changed the program's timing";
    EXPECT_EQ(snapshot(), reference);
    for (int a = 0; a < kImemDepth; ++a) {
      const auto w = tb_->host(Space::kImem, false, static_cast<uint32_t>(a), {});
      ASSERT_EQ(tpu::golden::low_u64(w), imem[static_cast<std::size_t>(a)])
          << "instruction word " << a;
    }
    ASSERT_EQ(tb_->log().count(), 0u) << tb_->log().report();
  }
  std::cout << "[ hostile  ] " << programs << " programs at " << tpu::test::config_name()
            << " (TPU_SEED=" << seed_ << "): " << host.stats() << std::endl;
}

// A reset at a random cycle of a random program under the hostile host (so often in the middle
// of a request or with a response waiting): afterwards the TPU is Idle with status 0 and cycle
// counter 0, the port takes requests, every buffer row reads the same from the RTL and the
// golden model, and a fresh program runs to Done in lockstep.
TEST_F(TpuHostile, ResetInTheMiddleOfAnything) {
  HostileHost host(rng_, true);
  std::array<int, 8> cut_in{};
  int cut_with_host = 0;
  const int programs = programs_to_run();
  for (int i = 0; i < programs; ++i) {
    const prog::Words p = [&] {
      prog::Words w = legal_body({.sync = false}, 1);
      w.push_back(prog::op(Opcode::kHalt));
      return w;
    }();
    SCOPED_TRACE("program " + std::to_string(i) + " (TPU_SEED=" + std::to_string(seed_) + ")\n" +
                 tpu::assembler::disassemble(p));
    if (i % 10 == 0) fill(prog::random_data(rng_, kDim, kUbDepth));
    tb_->load_program(p);
    tb_->start();
    prog::Dice dice(rng_);
    const int cut = dice.rand(0, dice.chance(0.8) ? 150 : 1500);
    State last = State::kRunning;
    bool host_busy = false;
    for (int t = 0; t < cut; ++t) {
      const tpu::golden::TpuInputs in = host.next(true);
      const tpu::golden::TpuOutputs o = tb_->cycle(in);
      last = o.state;
      host_busy = host.busy();
      (void)host.saw(in, o);  // requests may come after the stop here: their answers vary
    }
    ++cut_in[static_cast<int>(last) & 7];
    cut_with_host += host_busy;
    tb_->reset();
    host.forget();
    SCOPED_TRACE("reset " + std::to_string(cut) + " cycles after the start, in state " +
                 std::to_string(static_cast<int>(last)) + (host_busy ? ", host busy" : ""));
    ASSERT_EQ(tb_->csr(0), tpu::isa::status_word(0, State::kIdle, Error::kNone));
    ASSERT_EQ(tb_->csr(1), 0u);
    (void)snapshot();  // every row, RTL against golden
    ASSERT_EQ(tb_->log().count(), 0u) << "the buffer after the reset\n" << tb_->log().report();
    tb_->load_program(p);
    ASSERT_EQ(tb_->run(kMaxCycles), State::kDone) << "the program after the reset";
    ASSERT_EQ(tb_->log().count(), 0u) << tb_->log().report();
  }
  (void)snapshot();
  std::cout << "[ reset    ] " << programs << " resets at " << tpu::test::config_name()
            << " (TPU_SEED=" << seed_ << "): " << cut_in[static_cast<int>(State::kRunning)]
            << " while Running, " << cut_in[static_cast<int>(State::kDone)] << " after Done, "
            << cut_in[static_cast<int>(State::kError)] << " after Error, " << cut_with_host
            << " with a host request or response under way" << std::endl;
}

}  // namespace
