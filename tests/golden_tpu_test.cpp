// Unit tests of the whole-TPU golden model alone. Every expected value and cycle number below was
// worked out by hand from docs/architecture.md ("The TPU (`tpu`)") and docs/isa.md; the working
// is in the comments. Cycles are absolute (counted from reset by the bench); `s` is the cycle in
// which the host's start request is accepted, so the program is Running from s + 1.
//
// Fixed data of the matmul tests, ArrayDim N = 2, Q8.8 (1.0 = 256):
//   W (rows 0, 1)  = [[1.0, 2.0], [0.5, -1.0]]      = [[256, 512], [128, -256]]
//   A (rows 2, 3)  = [[1.0, 1.0], [2.0, -0.5]]      = [[256, 256], [512, -128]]
//   y = A W: y0 = [1*1 + 1*0.5, 1*2 + 1*(-1)]       = [1.5, 1.0]  = [384, 256]
//            y1 = [2*1 - 0.5*0.5, 2*2 - 0.5*(-1)]   = [1.75, 4.5] = [448, 1152]
// All products are exact in Q8.8, so no rounding is involved.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "golden/isa.hpp"
#include "golden/sgd_model.hpp"
#include "golden/tpu_model.hpp"

namespace tpu::golden {
namespace {

using isa::Error;
using isa::Instr;
using isa::Opcode;
using isa::State;
using Row = std::vector<int32_t>;
using Cycles = std::vector<uint64_t>;

// --- Instructions. ---------------------------------------------------------------------------
uint64_t op(Opcode o) { return isa::encode(Instr{.op = o}); }
uint64_t nop() { return op(Opcode::kNop); }
uint64_t halt() { return op(Opcode::kHalt); }
uint64_t sync() { return op(Opcode::kSync); }
uint64_t endl() { return op(Opcode::kEndl); }
uint64_t loop(uint32_t c) { return isa::encode(Instr{.op = Opcode::kLoop, .count = c}); }
uint64_t seed(uint32_t s) { return isa::encode(Instr{.op = Opcode::kSeed, .seed = s}); }
uint64_t vpu(uint32_t cfg, uint32_t bias, uint32_t side) {
  return isa::encode(Instr{.op = Opcode::kVpu, .side = side, .bias = bias, .cfg = cfg});
}
uint64_t loadw(uint32_t addr, uint32_t rows, bool t = false) {
  return isa::encode(Instr{.op = Opcode::kLoadw, .addr = addr, .rows = rows, .t = t});
}
uint64_t matmul(uint32_t act, uint32_t out, uint32_t rows, uint32_t k, uint32_t n, bool t = false) {
  return isa::encode(
      Instr{.op = Opcode::kMatmul, .rows = rows, .t = t, .act = act, .out = out, .k = k, .n = n});
}
// Address registers and the register-relative forms (the row is field + a[reg]).
uint64_t seta(uint32_t r, int32_t v) {
  return isa::encode(Instr{.op = Opcode::kSeta, .reg = r, .imm = v});
}
uint64_t adda(uint32_t r, int32_t step) {
  return isa::encode(Instr{.op = Opcode::kAdda, .reg = r, .imm = step});
}
uint64_t vpu_r(uint32_t cfg, uint32_t bias, uint32_t bias_reg, uint32_t side, uint32_t side_reg) {
  return isa::encode(Instr{.op = Opcode::kVpu,
                           .side = side,
                           .side_reg = side_reg,
                           .bias = bias,
                           .bias_reg = bias_reg,
                           .cfg = cfg});
}
uint64_t loadw_r(uint32_t addr, uint32_t reg, uint32_t rows) {
  return isa::encode(Instr{.op = Opcode::kLoadw, .addr = addr, .addr_reg = reg, .rows = rows});
}
uint64_t matmul_r(uint32_t act, uint32_t act_reg, uint32_t out, uint32_t out_reg, uint32_t rows,
                  uint32_t k, uint32_t n) {
  return isa::encode(Instr{.op = Opcode::kMatmul,
                           .rows = rows,
                           .act = act,
                           .act_reg = act_reg,
                           .out = out,
                           .out_reg = out_reg,
                           .k = k,
                           .n = n});
}
uint64_t sgd(uint32_t theta, uint32_t grad, uint32_t count, int32_t lr, bool stochastic = false) {
  return isa::encode(Instr{.op = Opcode::kSgd,
                           .count = count,
                           .theta = theta,
                           .grad = grad,
                           .lr = lr,
                           .stochastic = stochastic});
}

// --- The bench: one TPU, a trace of what it drove in every cycle. ------------------------------
struct Txn {
  uint64_t accept = 0;  // cycle the request was accepted
  uint64_t rsp = 0;     // cycle the response was valid (and taken)
  std::vector<uint32_t> rdata{};
  bool err = false;
};

class Bench {
 public:
  explicit Bench(int dim = 2, int ub_depth = 256, int imem_depth = 256)
      : tpu(dim, ub_depth, imem_depth) {}

  TpuOutputs tick(const TpuInputs& in = {}) {
    TpuOutputs o = tpu.outputs(in);
    tpu.step(in);
    trace.push_back(o);
    regs.push_back({tpu.areg(0), tpu.areg(1), tpu.areg(2), tpu.areg(3)});
    ++now;
    return o;
  }

  // One host transaction: the request presented until accepted, then host_rsp_ready held high
  // until the response comes. Checks the protocol on the way: the response is valid exactly
  // from accept + 2.
  Txn host(uint8_t space, bool we, uint32_t addr, std::vector<uint32_t> wdata = {}) {
    TpuInputs req;
    req.host_req_valid = true;
    req.host_req_we = we;
    req.host_req_space = space;
    req.host_req_addr = addr;
    req.host_req_wdata = std::move(wdata);
    Txn x;
    for (int guard = 0;; ++guard) {
      if (guard > 1000) throw std::runtime_error("host request never accepted");
      if (tick(req).host_req_ready) break;
    }
    x.accept = now - 1;
    TpuInputs wait;
    wait.host_rsp_ready = true;
    for (int guard = 0;; ++guard) {
      if (guard > 1000) throw std::runtime_error("host response never came");
      const TpuOutputs o = tick(wait);
      if (o.host_rsp_valid) {
        x.rsp = now - 1;
        x.rdata = o.host_rsp_rdata;
        x.err = o.host_rsp_err;
        break;
      }
    }
    EXPECT_EQ(x.rsp, x.accept + 2) << "space " << int{space} << " addr " << addr;
    return x;
  }

  void write_row(uint32_t addr, const Row& r) {
    const Txn x = host(0, true, addr, pack_row(r, tpu.host_width()));
    EXPECT_FALSE(x.err) << "row " << addr;
  }
  void load(const std::vector<uint64_t>& prog) {
    for (std::size_t i = 0; i < prog.size(); ++i) {
      const Txn x = host(1, true, static_cast<uint32_t>(i), pack_u64(prog[i], tpu.host_width()));
      EXPECT_FALSE(x.err) << "imem " << i;
    }
  }
  // Starts the program; returns s, the accept cycle. The bench is then at s + 3.
  uint64_t start() {
    const Txn x = host(2, true, 0, pack_u64(1, tpu.host_width()));
    EXPECT_FALSE(x.err);
    return x.accept;
  }
  void run_to(uint64_t cycle) {
    while (now < cycle) tick();
  }
  // Cycles in [from, now) whose outputs satisfy `pred`.
  Cycles where(uint64_t from, const std::function<bool(const TpuOutputs&)>& pred) const {
    Cycles out;
    for (uint64_t c = from; c < now; ++c) {
      if (pred(trace[c])) out.push_back(c);
    }
    return out;
  }
  const TpuOutputs& at(uint64_t cycle) const { return trace.at(cycle); }

  TpuModel tpu;
  uint64_t now = 0;
  std::vector<TpuOutputs> trace;
  // regs[c]: a[0..3] at the end of cycle c (what the instruction in decode in c+1 sees).
  std::vector<std::array<uint32_t, 4>> regs;
};
using Regs = std::array<uint32_t, 4>;

bool array_valid(const TpuOutputs& o) { return o.array_valid; }
bool vpu_valid(const TpuOutputs& o) { return o.vpu_valid; }
bool wr_valid(const TpuOutputs& o) { return o.wr_valid; }

const Row kW0{256, 512}, kW1{128, -256};
const Row kA0{256, 256}, kA1{512, -128};
const Row kY0{384, 256}, kY1{448, 1152};

void load_matrices(Bench& b) {
  b.write_row(0, kW0);
  b.write_row(1, kW1);
  b.write_row(2, kA0);
  b.write_row(3, kA1);
}

// =============================================================================================
// Host port.

TEST(GoldenTpu, HostWidthAndPacking) {
  EXPECT_EQ(TpuModel(2).host_width(), 64);  // max(2*16, 64)
  EXPECT_EQ(TpuModel(4).host_width(), 64);
  EXPECT_EQ(TpuModel(8).host_width(), 128);
  EXPECT_EQ(TpuModel(5).host_width(), 80);  // three 32-bit words
  EXPECT_EQ(pack_row({256, -1}, 64), (std::vector<uint32_t>{0xFFFF0100u, 0}));
  EXPECT_EQ(unpack_row({0xFFFF0100u, 0}, 2), (Row{256, -1}));
}

TEST(GoldenTpu, HostSpace0WriteTimingAndBackPressure) {
  Bench b;
  // Cycle 0: a write of row 5, accepted at once (nothing in flight, no write-port row).
  // Cycles 1..3: a second request held valid; host_rsp_ready low in 0..2, high in 3.
  TpuInputs w;
  w.host_req_valid = true;
  w.host_req_we = true;
  w.host_req_addr = 5;
  w.host_req_wdata = pack_row({256, -1}, 64);
  EXPECT_TRUE(b.tick(w).host_req_ready);
  EXPECT_EQ(b.tpu.buffer().row(5), (Row{256, -1}));  // written at the end of cycle 0
  TpuInputs r;
  r.host_req_valid = true;
  r.host_req_addr = 5;
  const TpuOutputs o1 = b.tick(r);  // cycle 1: in flight
  EXPECT_FALSE(o1.host_req_ready);
  EXPECT_FALSE(o1.host_rsp_valid);
  const TpuOutputs o2 = b.tick(r);  // cycle 2: response valid (t + 2), not taken
  EXPECT_FALSE(o2.host_req_ready);
  EXPECT_TRUE(o2.host_rsp_valid);
  EXPECT_FALSE(o2.host_rsp_err);
  EXPECT_EQ(o2.host_rsp_rdata, (std::vector<uint32_t>{0, 0}));  // writes answer 0
  r.host_rsp_ready = true;
  const TpuOutputs o3 = b.tick(r);  // cycle 3: held, taken now; ready still low (response waits)
  EXPECT_TRUE(o3.host_rsp_valid);
  EXPECT_FALSE(o3.host_req_ready);
  r.host_rsp_ready = false;
  const TpuOutputs o4 = b.tick(r);  // cycle 4: the read is accepted
  EXPECT_FALSE(o4.host_rsp_valid);
  EXPECT_TRUE(o4.host_req_ready);
  b.tick();                        // cycle 5: in flight
  const TpuOutputs o6 = b.tick();  // cycle 6: lane 0 = 0x0100, lane 1 = 0xFFFF
  EXPECT_TRUE(o6.host_rsp_valid);
  EXPECT_FALSE(o6.host_rsp_err);
  EXPECT_EQ(o6.host_rsp_rdata, (std::vector<uint32_t>{0xFFFF0100u, 0}));
}

TEST(GoldenTpu, HostSpaces) {
  Bench b;  // UbDepth 256, ImemDepth 256
  // Space 0: a row out of range answers the error bit with zero data.
  Txn x = b.host(0, false, 256);
  EXPECT_TRUE(x.err);
  EXPECT_EQ(x.rdata, (std::vector<uint32_t>{0, 0}));
  // Space 1: instruction words, stored at the end of the accept cycle.
  x = b.host(1, true, 3, {0x9ABCDEF0u, 0x12345678u});
  EXPECT_FALSE(x.err);
  EXPECT_EQ(b.tpu.imem(3), 0x123456789ABCDEF0ull);
  x = b.host(1, false, 3);
  EXPECT_FALSE(x.err);
  EXPECT_EQ(x.rdata, (std::vector<uint32_t>{0x9ABCDEF0u, 0x12345678u}));
  x = b.host(1, false, 4);  // initially 0
  EXPECT_EQ(x.rdata, (std::vector<uint32_t>{0, 0}));
  x = b.host(1, true, 256, {1, 0});  // >= ImemDepth
  EXPECT_TRUE(x.err);
  x = b.host(1, false, 256);
  EXPECT_TRUE(x.err);
  EXPECT_EQ(x.rdata, (std::vector<uint32_t>{0, 0}));
  // Space 2: CSR 0 is the status word (Idle, pc 0, no error), CSR 1 the counter.
  x = b.host(2, false, 0);
  EXPECT_FALSE(x.err);
  EXPECT_EQ(x.rdata, (std::vector<uint32_t>{0, 0}));
  x = b.host(2, false, 1);
  EXPECT_FALSE(x.err);
  EXPECT_EQ(x.rdata, (std::vector<uint32_t>{0, 0}));
  EXPECT_TRUE(b.host(2, false, 2).err);         // another CSR
  EXPECT_TRUE(b.host(2, true, 1, {5, 0}).err);  // CSR 1 is read-only
  EXPECT_TRUE(b.host(2, true, 0, {2, 0}).err);  // continue outside Sync
  EXPECT_TRUE(b.host(2, true, 0, {0, 0}).err);  // neither start nor continue
  EXPECT_TRUE(b.host(3, false, 0).err);         // no space 3
  EXPECT_EQ(b.tpu.state(), State::kIdle);
  EXPECT_EQ(b.tpu.imem(0), 0u);  // nothing written by the rejected requests
}

// =============================================================================================
// Start, halt, loops.

TEST(GoldenTpu, NopHalt) {
  Bench b;
  b.load({nop(), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 6);
  // s: Idle. s+1: nop in decode (pc 0), issues. s+2: halt in decode (pc 1), drained, issues.
  // s+3 on: Done, the PC stays at the halt.
  EXPECT_EQ(b.at(s).state, State::kIdle);
  EXPECT_EQ(b.at(s + 1).state, State::kRunning);
  EXPECT_EQ(b.at(s + 1).pc, 0u);
  EXPECT_EQ(b.at(s + 2).state, State::kRunning);
  EXPECT_EQ(b.at(s + 2).pc, 1u);
  for (uint64_t c = s + 3; c < s + 6; ++c) {
    EXPECT_EQ(b.at(c).state, State::kDone) << c;
    EXPECT_EQ(b.at(c).pc, 1u) << c;
    EXPECT_EQ(b.at(c).err, Error::kNone) << c;
  }
  EXPECT_EQ(b.tpu.cycles(), 2u);  // Running in s+1 and s+2
  // Status word: pc 1, state 3 (Done) in [18:16], err 0.
  EXPECT_EQ(b.host(2, false, 0).rdata, (std::vector<uint32_t>{0x30001u, 0}));
  EXPECT_EQ(b.host(2, false, 1).rdata, (std::vector<uint32_t>{2, 0}));
  // A second start from Done runs the program again from pc 0, counter cleared.
  const uint64_t s2 = b.start();
  b.run_to(s2 + 4);
  EXPECT_EQ(b.at(s2 + 1).pc, 0u);
  EXPECT_EQ(b.at(s2 + 1).state, State::kRunning);
  EXPECT_EQ(b.at(s2 + 3).state, State::kDone);
  EXPECT_EQ(b.tpu.cycles(), 2u);
}

TEST(GoldenTpu, LoopRunsBodyCountTimes) {
  Bench b;
  b.load({loop(3), nop(), endl(), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 11);
  // s+1 loop (push (1, 3)); s+2 nop; s+3 endl (3 -> 2, back to 1); s+4 nop; s+5 endl (2 -> 1);
  // s+6 nop; s+7 endl (count 1: pop, fall through); s+8 halt; Done from s+9.
  const std::vector<uint32_t> pcs{0, 1, 2, 1, 2, 1, 2, 3, 3, 3};
  for (std::size_t i = 0; i < pcs.size(); ++i) {
    EXPECT_EQ(b.at(s + 1 + i).pc, pcs[i]) << "cycle s+" << 1 + i;
  }
  EXPECT_EQ(b.at(s + 8).state, State::kRunning);
  EXPECT_EQ(b.at(s + 9).state, State::kDone);
  EXPECT_EQ(b.tpu.cycles(), 8u);
}

TEST(GoldenTpu, NestedLoops) {
  Bench b;
  b.load({loop(2), loop(3), nop(), endl(), endl(), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 25);
  // outer loop 1 cycle; each outer pass: inner loop 1 + 3 * (nop + endl) + outer endl = 8;
  // two passes 16; halt 1: Running s+1 .. s+18, Done from s+19. The nop runs 6 times.
  EXPECT_EQ(b.where(s, [](const TpuOutputs& o) { return o.pc == 2; }).size(), 6u);
  EXPECT_EQ(b.at(s + 18).state, State::kRunning);
  EXPECT_EQ(b.at(s + 18).pc, 5u);
  EXPECT_EQ(b.at(s + 19).state, State::kDone);
  EXPECT_EQ(b.tpu.cycles(), 18u);
}

// =============================================================================================
// loadw + matmul.

TEST(GoldenTpu, LoadwMatmulCycleExact) {
  Bench b;
  load_matrices(b);
  b.load({loadw(0, 2), matmul(2, 8, 2, 2, 2), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 20);
  // s+1: loadw issues (t = s+1): weight rows on port 1 in s+3, s+4; loader busy s+2 .. s+4.
  // s+2: matmul issues (t = s+2), not waiting for the loader: activation rows reach the array
  //      in s+4 (switch) and s+5; W row r is in the shadow registers in time (w_r = s+3+r <=
  //      t_next + r - 1 = s+3+r). Array outputs in t+2+2N+i = s+8, s+9; the vector unit
  //      (mask 0: pass-through) in s+12, s+13; write command at t+2N+5 = s+11, rows written in
  //      t+2N+6+i = s+12, s+13. In flight s+3 .. t+2N+5+rows = s+13.
  // s+3 .. s+13: halt waits (loader, then matmul in flight); s+14 drained, issues; Done s+15.
  EXPECT_EQ(b.where(s, array_valid), (Cycles{s + 8, s + 9}));
  EXPECT_EQ(b.at(s + 8).array_data, kY0);
  EXPECT_EQ(b.at(s + 9).array_data, kY1);
  EXPECT_EQ(b.where(s, vpu_valid), (Cycles{s + 12, s + 13}));
  EXPECT_EQ(b.at(s + 12).vpu_data, kY0);
  EXPECT_EQ(b.at(s + 13).vpu_data, kY1);
  EXPECT_EQ(b.where(s, wr_valid), (Cycles{s + 12, s + 13}));
  EXPECT_EQ(b.at(s + 12).wr_addr, 8u);
  EXPECT_EQ(b.at(s + 12).wr_data, kY0);
  EXPECT_EQ(b.at(s + 13).wr_addr, 9u);
  EXPECT_EQ(b.at(s + 13).wr_data, kY1);
  EXPECT_EQ(b.at(s + 1).pc, 0u);
  EXPECT_EQ(b.at(s + 2).pc, 1u);
  for (uint64_t c = s + 3; c <= s + 14; ++c) {
    EXPECT_EQ(b.at(c).pc, 2u) << c;
    EXPECT_EQ(b.at(c).state, State::kRunning) << c;
  }
  EXPECT_EQ(b.at(s + 15).state, State::kDone);
  EXPECT_EQ(b.tpu.cycles(), 14u);
  EXPECT_EQ(b.tpu.buffer().row(8), kY0);
  EXPECT_EQ(b.tpu.buffer().row(9), kY1);
}

TEST(GoldenTpu, TransposedLoadwAndMatmul) {
  {
    // loadw t: array row r gets column r of the block at rows 0, 1, i.e. W^T = [[256, 128],
    // [512, -256]]. y0 = a0 W^T = [1 + 2, 0.5 - 1] = [3.0, -0.5];
    // y1 = [2 - 1, 1 + 0.5] = [1.0, 1.5].
    Bench b;
    load_matrices(b);
    b.load({loadw(0, 2, true), matmul(2, 8, 2, 2, 2), halt()});
    const uint64_t s = b.start();
    b.run_to(s + 16);
    EXPECT_EQ(b.where(s, array_valid), (Cycles{s + 8, s + 9}));
    EXPECT_EQ(b.at(s + 15).state, State::kDone);
    EXPECT_EQ(b.tpu.buffer().row(8), (Row{768, -128}));
    EXPECT_EQ(b.tpu.buffer().row(9), (Row{256, 384}));
  }
  {
    // matmul t: element i is column i of the block at rows 2, 3: e0 = [256, 512],
    // e1 = [256, -128]. e0 W = [1 + 1, 2 - 2] = [2.0, 0]; e1 W = [1 - 0.25, 2 + 0.5] = [0.75, 2.5].
    Bench b;
    load_matrices(b);
    b.load({loadw(0, 2), matmul(2, 8, 2, 2, 2, true), halt()});
    const uint64_t s = b.start();
    b.run_to(s + 16);
    EXPECT_EQ(b.where(s, wr_valid), (Cycles{s + 12, s + 13}));
    EXPECT_EQ(b.at(s + 15).state, State::kDone);
    EXPECT_EQ(b.tpu.buffer().row(8), (Row{512, 0}));
    EXPECT_EQ(b.tpu.buffer().row(9), (Row{192, 640}));
  }
}

TEST(GoldenTpu, Dim4IdentityMatmul) {
  // N = 4, W = I (1.0 = 256 on the diagonal, rows 0..3), A rows 4..7: y = A.
  // loadw t = s+1 (rows in s+3 .. s+6); matmul t = s+2 (activation row i in s+4+i, W row r in
  // the shadow at s+3+r <= t_next + r - 1 = s+3+r); outputs in t+2+2N+i = s+12 .. s+15;
  // written t+2N+6+i = s+16 .. s+19; in flight through t+2N+5+rows = s+19; halt s+20.
  Bench b(4);
  for (uint32_t r = 0; r < 4; ++r) {
    Row w(4, 0);
    w[r] = 256;
    b.write_row(r, w);
  }
  const std::vector<Row> a{{1, 2, 3, 4}, {-5, 6, -7, 8}, {100, 0, -100, 0}, {32767, -32768, 0, 1}};
  for (uint32_t i = 0; i < 4; ++i) b.write_row(4 + i, a[i]);
  b.load({loadw(0, 4), matmul(4, 20, 4, 4, 4), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 22);
  EXPECT_EQ(b.where(s, array_valid), (Cycles{s + 12, s + 13, s + 14, s + 15}));
  EXPECT_EQ(b.where(s, wr_valid), (Cycles{s + 16, s + 17, s + 18, s + 19}));
  EXPECT_EQ(b.at(s + 20).state, State::kRunning);
  EXPECT_EQ(b.at(s + 21).state, State::kDone);
  for (uint32_t i = 0; i < 4; ++i) {
    EXPECT_EQ(b.at(s + 16 + i).wr_addr, 20 + i);
    EXPECT_EQ(b.tpu.buffer().row(20 + i), a[i]) << i;
  }
}

TEST(GoldenTpu, MatmulLaneMasks) {
  Bench b;
  load_matrices(b);
  b.write_row(8, {7, 7});
  b.write_row(9, {7, 7});
  // k = 1: activation lane 1 reads 0, so a0 = [1.0, 0], a1 = [2.0, 0] and y = a[0] * W row 0:
  // y0 = [256, 512], y1 = [512, 1024]. n = 1: only lane 0 is stored; dbg_wr_data shows both.
  b.load({loadw(0, 2), matmul(2, 8, 2, 1, 1), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 16);
  EXPECT_EQ(b.where(s, wr_valid), (Cycles{s + 12, s + 13}));
  EXPECT_EQ(b.at(s + 12).wr_data, (Row{256, 512}));
  EXPECT_EQ(b.at(s + 13).wr_data, (Row{512, 1024}));
  EXPECT_EQ(b.tpu.buffer().row(8), (Row{256, 7}));
  EXPECT_EQ(b.tpu.buffer().row(9), (Row{512, 7}));
}

TEST(GoldenTpu, MatmulWithBiasAndLossStage) {
  Bench b;
  load_matrices(b);
  b.write_row(4, {-512, 128});  // bias [-2.0, 0.5]
  b.write_row(12, {256, 256});  // target rows [1.0, 1.0], [0.25, -1.0]
  b.write_row(13, {64, -256});
  // cfg: mask = bias | loss (0b0101), batch_log2 = 1: scale(d) = rshift_round(d, 0) = d.
  //   x1 = y + b:   row 0 [384-512, 256+128] = [-128, 384]; row 1 [448-512, 1152+128] = [-64, 1280]
  //   x3 = x1 - y': row 0 [-128-256, 384-256] = [-384, 128];
  //                 row 1 [-64-64, 1280+256] = [-128, 1536]
  const uint32_t cfg = isa::pack_cfg({.mask = 0b0101, .batch_log2 = 1});
  b.load({vpu(cfg, 4, 12), loadw(0, 2), matmul(2, 8, 2, 2, 2), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 20);
  // vpu s+1, loadw s+2, matmul t = s+3: bias/side commands at t+2N = s+7, rows with the array
  // outputs in s+9, s+10; vector unit out s+13, s+14; written s+13, s+14; halt s+15, Done s+16.
  EXPECT_EQ(b.where(s, array_valid), (Cycles{s + 9, s + 10}));
  EXPECT_EQ(b.where(s, vpu_valid), (Cycles{s + 13, s + 14}));
  EXPECT_EQ(b.at(s + 13).vpu_data, (Row{-384, 128}));
  EXPECT_EQ(b.at(s + 14).vpu_data, (Row{-128, 1536}));
  EXPECT_EQ(b.where(s, wr_valid), (Cycles{s + 13, s + 14}));
  EXPECT_EQ(b.at(s + 15).state, State::kRunning);
  EXPECT_EQ(b.at(s + 16).state, State::kDone);
  EXPECT_EQ(b.tpu.buffer().row(8), (Row{-384, 128}));
  EXPECT_EQ(b.tpu.buffer().row(9), (Row{-128, 1536}));
}

TEST(GoldenTpu, BackToBackMatmulsNoBubble) {
  Bench b;
  load_matrices(b);
  b.load({loadw(0, 2), matmul(2, 8, 2, 2, 2), matmul(2, 10, 2, 2, 2), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 20);
  // First matmul t = s+2; its port-0 command issues rows in s+3, s+4, so port 0 is ready again
  // (one row left) in s+4: the second issues at t = s+4 (its rows reach the array right after
  // the first's, no bubble). Outputs s+8 .. s+11; writes s+12 .. s+15 (the second's write
  // command at s+13, when the first's takes its last row). In flight until s+15; halt s+16.
  EXPECT_EQ(b.at(s + 3).pc, 2u);
  EXPECT_EQ(b.at(s + 4).pc, 2u);
  EXPECT_EQ(b.at(s + 5).pc, 3u);
  EXPECT_EQ(b.where(s, array_valid), (Cycles{s + 8, s + 9, s + 10, s + 11}));
  EXPECT_EQ(b.where(s, wr_valid), (Cycles{s + 12, s + 13, s + 14, s + 15}));
  EXPECT_EQ(b.at(s + 14).wr_addr, 10u);
  EXPECT_EQ(b.at(s + 15).wr_addr, 11u);
  EXPECT_EQ(b.at(s + 16).state, State::kRunning);
  EXPECT_EQ(b.at(s + 17).state, State::kDone);
  EXPECT_EQ(b.tpu.buffer().row(10), kY0);
  EXPECT_EQ(b.tpu.buffer().row(11), kY1);
}

TEST(GoldenTpu, RawHazardWaitsForLastWrite) {
  Bench b;
  load_matrices(b);
  // The second matmul reads rows 8, 9, which the first (t_w = s+2) writes in s+12, s+13. Its
  // activations stream one row per cycle from t+1, so it may follow the writer row by row:
  // t + 1 - 8 > t_w + 2N + 6 - 8, t > s+11: it issues at s+12 and reads row 8 in s+13 and
  // row 9 in s+14, each the cycle after its write.
  //   z0 = y0 W = [1.5*1 + 1.0*0.5, 1.5*2 + 1.0*(-1)] = [2.0, 2.0] = [512, 512]
  //   z1 = y1 W = [1.75*1 + 4.5*0.5, 1.75*2 - 4.5] = [4.0, -1.0] = [1024, -256]
  // t2 = s+12: array outputs s+18, s+19; written s+22, s+23; in flight through s+23; halt s+24.
  b.load({loadw(0, 2), matmul(2, 8, 2, 2, 2), matmul(8, 10, 2, 2, 2), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 30);
  for (uint64_t c = s + 3; c <= s + 12; ++c) EXPECT_EQ(b.at(c).pc, 2u) << c;
  EXPECT_EQ(b.at(s + 13).pc, 3u);
  EXPECT_EQ(b.where(s, array_valid), (Cycles{s + 8, s + 9, s + 18, s + 19}));
  EXPECT_EQ(b.at(s + 18).array_data, (Row{512, 512}));
  EXPECT_EQ(b.at(s + 19).array_data, (Row{1024, -256}));
  EXPECT_EQ(b.where(s, wr_valid), (Cycles{s + 12, s + 13, s + 22, s + 23}));
  EXPECT_EQ(b.at(s + 22).wr_addr, 10u);
  EXPECT_EQ(b.at(s + 24).state, State::kRunning);
  EXPECT_EQ(b.at(s + 25).state, State::kDone);
  EXPECT_EQ(b.tpu.buffer().row(10), (Row{512, 512}));
  EXPECT_EQ(b.tpu.buffer().row(11), (Row{1024, -256}));
}

TEST(GoldenTpu, RawHazardOnLoadwRows) {
  Bench b;
  load_matrices(b);
  // loadw 8 streams the first matmul's output rows (written s+12, s+13) from t+1: like a
  // matmul's activations it issues at s+12; the loader is busy s+13 .. s+15; halt s+16;
  // Done s+17.
  b.load({loadw(0, 2), matmul(2, 8, 2, 2, 2), loadw(8, 2), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 21);
  for (uint64_t c = s + 3; c <= s + 12; ++c) EXPECT_EQ(b.at(c).pc, 2u) << c;
  EXPECT_EQ(b.at(s + 13).pc, 3u);
  EXPECT_EQ(b.at(s + 16).state, State::kRunning);
  EXPECT_EQ(b.at(s + 17).state, State::kDone);
}

TEST(GoldenTpu, RawHazardOnSideRows) {
  Bench b;
  load_matrices(b);
  // The second matmul's activations (rows 2, 3) are not written by the first, but its side rows
  // (8, 9: the loss stage's targets) are, in s+12 and s+13. Side rows stream from t+2N+1:
  // t + 5 - 8 > t_w + 10 - 8 with t_w = s+2, so it issues at s+8 and reads them in s+13 and
  // s+14. With target = the first's output = its own prediction, the loss gradient
  // (batch_log2 1: scale 1) is 0 in every lane. Writes s+18, s+19; halt s+20; Done s+21.
  const uint32_t loss = isa::pack_cfg({.mask = 0b0100, .batch_log2 = 1});
  b.load({loadw(0, 2), matmul(2, 8, 2, 2, 2), vpu(loss, 0, 8), matmul(2, 10, 2, 2, 2), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 30);
  for (uint64_t c = s + 4; c <= s + 8; ++c) EXPECT_EQ(b.at(c).pc, 3u) << c;
  EXPECT_EQ(b.at(s + 9).pc, 4u);
  EXPECT_EQ(b.where(s, wr_valid), (Cycles{s + 12, s + 13, s + 18, s + 19}));
  EXPECT_EQ(b.at(s + 20).state, State::kRunning);
  EXPECT_EQ(b.at(s + 21).state, State::kDone);
  EXPECT_EQ(b.tpu.buffer().row(10), (Row{0, 0}));
  EXPECT_EQ(b.tpu.buffer().row(11), (Row{0, 0}));
}

TEST(GoldenTpu, AtMostEightMatmulsInFlight) {
  Bench b;
  load_matrices(b);
  // One-row matmuls: port 0 is ready the cycle after each issue, so they issue at s+2 .. s+9.
  // The first is in flight s+3 .. s+2+2N+5+1 = s+12; the ninth (pc 9) waits until s+13.
  std::vector<uint64_t> prog = {loadw(0, 2)};
  for (uint32_t r = 8; r <= 16; ++r) prog.push_back(matmul(2, r, 1, 2, 2));
  prog.push_back(halt());
  b.load(prog);
  const uint64_t s = b.start();
  b.run_to(s + 40);
  for (uint64_t c = s + 10; c <= s + 13; ++c) EXPECT_EQ(b.at(c).pc, 9u) << c;
  EXPECT_EQ(b.at(s + 14).pc, 10u);
  // Writes: t+2N+6 for t = s+2 .. s+9 and s+13.
  EXPECT_EQ(b.where(s, wr_valid), (Cycles{s + 12, s + 13, s + 14, s + 15, s + 16, s + 17,
                                          s + 18, s + 19, s + 23}));
  // The ninth is in flight through s+13+10 = s+23; halt s+24; Done s+25.
  EXPECT_EQ(b.at(s + 24).state, State::kRunning);
  EXPECT_EQ(b.at(s + 25).state, State::kDone);
  for (uint32_t r = 8; r <= 16; ++r) EXPECT_EQ(b.tpu.buffer().row(r), kY0) << r;
}

TEST(GoldenTpu, HostPortWaitsForTheBufferWhileRunning) {
  Bench b;
  load_matrices(b);
  b.load({loadw(0, 2), matmul(2, 8, 2, 2, 2), halt()});
  const uint64_t s = b.start();  // the bench is at s+3
  // Port 0 issues the activation rows in s+3, s+4: a space-0 read waits until s+5; a space-1
  // request needs no buffer port and is accepted at once (and refused: Running).
  TpuInputs rd;
  rd.host_req_valid = true;
  rd.host_req_addr = 3;
  TpuInputs im = rd;
  im.host_req_space = 1;
  EXPECT_TRUE(b.tpu.outputs(im).host_req_ready);
  EXPECT_FALSE(b.tick(rd).host_req_ready);  // s+3
  EXPECT_FALSE(b.tick(rd).host_req_ready);  // s+4
  EXPECT_TRUE(b.tick(rd).host_req_ready);   // s+5: accepted
  TpuInputs take;
  take.host_rsp_ready = true;
  b.tick(take);
  const TpuOutputs r = b.tick(take);  // s+7
  EXPECT_TRUE(r.host_rsp_valid);
  EXPECT_EQ(r.host_rsp_rdata, pack_row(kA1, 64));
  // Result rows are written in s+12, s+13: a space-0 write waits until s+14.
  b.run_to(s + 12);
  TpuInputs wr;
  wr.host_req_valid = true;
  wr.host_req_we = true;
  wr.host_req_addr = 30;
  wr.host_req_wdata = pack_row({1, 2}, 64);
  EXPECT_FALSE(b.tick(wr).host_req_ready);  // s+12
  EXPECT_FALSE(b.tick(wr).host_req_ready);  // s+13
  EXPECT_TRUE(b.tick(wr).host_req_ready);   // s+14
  EXPECT_EQ(b.tpu.buffer().row(30), (Row{1, 2}));
}

// =============================================================================================
// Sync, continue, and host requests refused while Running or in Sync.

TEST(GoldenTpu, SyncAndContinue) {
  Bench b;
  b.load({sync(), nop(), halt()});
  const uint64_t s = b.start();
  // s+1: sync issues (drained); Sync from s+2 with the PC on the nop.
  b.run_to(s + 5);
  EXPECT_EQ(b.at(s + 1).state, State::kRunning);
  EXPECT_EQ(b.at(s + 2).state, State::kSync);
  EXPECT_EQ(b.at(s + 2).pc, 1u);
  EXPECT_TRUE(b.host(1, false, 0).err);         // instruction memory refused in Sync
  EXPECT_TRUE(b.host(1, true, 0, {0, 0}).err);  // nothing written
  EXPECT_EQ(b.tpu.imem(0), sync());
  EXPECT_TRUE(b.host(2, true, 0, {1, 0}).err);  // no start in Sync
  EXPECT_EQ(b.tpu.state(), State::kSync);
  const Txn c = b.host(2, true, 0, {2, 0});  // continue
  EXPECT_FALSE(c.err);
  // Running from c+1: nop at c+1, halt at c+2, Done from c+3 with the PC at the halt.
  b.run_to(c.accept + 5);
  EXPECT_EQ(b.at(c.accept).state, State::kSync);
  EXPECT_EQ(b.at(c.accept + 1).state, State::kRunning);
  EXPECT_EQ(b.at(c.accept + 1).pc, 1u);
  EXPECT_EQ(b.at(c.accept + 2).pc, 2u);
  EXPECT_EQ(b.at(c.accept + 3).state, State::kDone);
  EXPECT_EQ(b.at(c.accept + 3).pc, 2u);
  // Counted: s+1 .. c.accept+2 (Running, Sync, Running).
  EXPECT_EQ(b.tpu.cycles(), c.accept + 2 - s);
}

TEST(GoldenTpu, StartWhileRunningIsRefused) {
  Bench b;
  b.load({loop(20), nop(), endl(), halt()});
  const uint64_t s = b.start();
  const Txn x = b.host(2, true, 0, {1, 0});
  EXPECT_TRUE(x.err);
  EXPECT_EQ(b.at(x.accept + 1).state, State::kRunning);
  // Nothing restarted: loop + 20 * (nop + endl) + halt = 42 cycles, Done from s+43.
  b.run_to(s + 45);
  EXPECT_EQ(b.at(s + 42).state, State::kRunning);
  EXPECT_EQ(b.at(s + 43).state, State::kDone);
  EXPECT_EQ(b.tpu.cycles(), 42u);
  // Reading the status while Running is fine; instruction memory is not.
  EXPECT_FALSE(b.host(2, false, 0).err);
}

// =============================================================================================
// Address registers (isa.md, "Address registers"): seta/adda issue at once and write at the end
// of their cycle; a row field's row is field + a[reg], resolved in decode.

TEST(GoldenTpu, SetaAddaValuesAndWrapAround) {
  Bench b;
  b.load({seta(1, 5), seta(2, 65535), adda(1, -7), adda(2, 1), seta(3, 0x1234), adda(3, 32767),
          adda(3, -32768), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 11);
  // One instruction per cycle from s+1; regs[c] is the value at the end of cycle c:
  //   s+1 seta a1, 5            a1 = 5
  //   s+2 seta a2, 65535        a2 = 65535
  //   s+3 adda a1, -7           a1 = (5 - 7) mod 2^16 = 65534
  //   s+4 adda a2, 1            a2 = 65536 mod 2^16 = 0
  //   s+5 seta a3, 0x1234       a3 = 4660
  //   s+6 adda a3, 32767        a3 = 37427
  //   s+7 adda a3, -32768       a3 = 4659
  //   s+8 halt (drained); Done from s+9.
  EXPECT_EQ(b.regs[s], (Regs{0, 0, 0, 0}));
  EXPECT_EQ(b.regs[s + 1], (Regs{0, 5, 0, 0}));
  EXPECT_EQ(b.regs[s + 2], (Regs{0, 5, 65535, 0}));
  EXPECT_EQ(b.regs[s + 3], (Regs{0, 65534, 65535, 0}));
  EXPECT_EQ(b.regs[s + 4], (Regs{0, 65534, 0, 0}));
  EXPECT_EQ(b.regs[s + 5], (Regs{0, 65534, 0, 4660}));
  EXPECT_EQ(b.regs[s + 6], (Regs{0, 65534, 0, 37427}));
  EXPECT_EQ(b.regs[s + 7], (Regs{0, 65534, 0, 4659}));
  for (uint64_t c = s + 1; c <= s + 8; ++c) {
    EXPECT_EQ(b.at(c).pc, c - s - 1) << c;  // never waits
    EXPECT_EQ(b.at(c).state, State::kRunning) << c;
  }
  EXPECT_EQ(b.at(s + 9).state, State::kDone);
  EXPECT_EQ(b.tpu.cycles(), 8u);
  EXPECT_EQ(b.tpu.areg(3), 4659u);
  EXPECT_THROW(b.tpu.areg(4), std::out_of_range);
  b.tpu.reset();  // reset clears a1..a3
  EXPECT_EQ(b.tpu.areg(1), 0u);
  EXPECT_EQ(b.tpu.areg(2), 0u);
  EXPECT_EQ(b.tpu.areg(3), 0u);
}

TEST(GoldenTpu, MatmulActAndOutThroughRegisters) {
  Bench b;
  load_matrices(b);
  // matmul act = 1 + a1, out = 8 + a2. a1 = 3 - 2 = 1 (adda at s+3), a2 = 40 (seta at s+4, the
  // cycle just before the matmul is in decode: it sees the new value). act row 1 + 1 = 2 (A),
  // out row 8 + 40 = 48. Field alone would read rows 1, 2 (W1, A0) and write rows 8, 9.
  //   s+1 loadw (rows on port 1 in s+3, s+4; loader busy s+2 .. s+4)
  //   s+2 seta a1, 3;  s+3 adda a1, -2;  s+4 seta a2, 40
  //   s+5 matmul, t = s+5: activation rows to the array in s+7 (switch), s+8; array outputs in
  //       t+2N+2+i = s+11, s+12; write command t+2N+5 = s+14; rows written t+2N+6+i = s+15,
  //       s+16 at 48, 49; in flight through t+2N+5+rows = s+16.
  //   s+17 halt (drained); Done from s+18.
  b.load(
      {loadw(0, 2), seta(1, 3), adda(1, -2), seta(2, 40), matmul_r(1, 1, 8, 2, 2, 2, 2), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 20);
  EXPECT_EQ(b.regs[s + 4], (Regs{0, 1, 40, 0}));
  EXPECT_EQ(b.at(s + 5).pc, 4u);
  EXPECT_EQ(b.at(s + 6).pc, 5u);
  EXPECT_EQ(b.where(s, array_valid), (Cycles{s + 11, s + 12}));
  EXPECT_EQ(b.at(s + 11).array_data, kY0);
  EXPECT_EQ(b.at(s + 12).array_data, kY1);
  EXPECT_EQ(b.where(s, wr_valid), (Cycles{s + 15, s + 16}));
  EXPECT_EQ(b.at(s + 15).wr_addr, 48u);
  EXPECT_EQ(b.at(s + 15).wr_data, kY0);
  EXPECT_EQ(b.at(s + 16).wr_addr, 49u);
  EXPECT_EQ(b.at(s + 16).wr_data, kY1);
  EXPECT_EQ(b.at(s + 17).state, State::kRunning);
  EXPECT_EQ(b.at(s + 18).state, State::kDone);
  EXPECT_EQ(b.tpu.cycles(), 17u);
  EXPECT_EQ(b.tpu.buffer().row(48), kY0);
  EXPECT_EQ(b.tpu.buffer().row(49), kY1);
  EXPECT_EQ(b.tpu.buffer().row(8), (Row{0, 0}));  // the field alone is not the row
  EXPECT_EQ(b.tpu.buffer().row(9), (Row{0, 0}));
}

TEST(GoldenTpu, RawHazardUsesResolvedRows) {
  Bench b;
  load_matrices(b);
  // The first matmul writes out = 0 + a2 = 8 (rows 8, 9); the second reads act = 2 + a1 = 8.
  // Neither field alone overlaps (rows 0, 1 written; rows 2, 3 read), the resolved rows do.
  //   s+1 seta a2, 8;  s+2 loadw;  s+3 matmul (t_w = s+3): writes rows 8, 9 in t_w+2N+6+j =
  //   s+13, s+14;  s+4 seta a1, 6;  s+5 the second matmul in decode. Streamed activations from
  //   t+1: t + 1 - 8 > t_w + 2N + 6 - 8, t > s+12: it waits s+5 .. s+12 and issues at s+13,
  //   reading row 8 in s+14, row 9 in s+15.
  //   z0 = y0 W = [512, 512], z1 = y1 W = [1024, -256] (as RawHazardWaitsForLastWrite).
  //   t = s+13: array outputs s+19, s+20; written s+23, s+24 at rows 10, 11; in flight through
  //   s+24; halt s+25; Done s+26.
  b.load({seta(2, 8), loadw(0, 2), matmul_r(2, 0, 0, 2, 2, 2, 2), seta(1, 6),
          matmul_r(2, 1, 10, 0, 2, 2, 2), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 30);
  for (uint64_t c = s + 5; c <= s + 13; ++c) EXPECT_EQ(b.at(c).pc, 4u) << c;
  EXPECT_EQ(b.at(s + 14).pc, 5u);
  EXPECT_EQ(b.where(s, array_valid), (Cycles{s + 9, s + 10, s + 19, s + 20}));
  EXPECT_EQ(b.at(s + 19).array_data, (Row{512, 512}));
  EXPECT_EQ(b.at(s + 20).array_data, (Row{1024, -256}));
  EXPECT_EQ(b.where(s, wr_valid), (Cycles{s + 13, s + 14, s + 23, s + 24}));
  EXPECT_EQ(b.at(s + 13).wr_addr, 8u);
  EXPECT_EQ(b.at(s + 23).wr_addr, 10u);
  EXPECT_EQ(b.at(s + 25).state, State::kRunning);
  EXPECT_EQ(b.at(s + 26).state, State::kDone);
  EXPECT_EQ(b.tpu.buffer().row(8), kY0);
  EXPECT_EQ(b.tpu.buffer().row(10), (Row{512, 512}));
  EXPECT_EQ(b.tpu.buffer().row(11), (Row{1024, -256}));
}

TEST(GoldenTpu, LoopWalksARegisterThroughBlocks) {
  Bench b;
  load_matrices(b);  // W rows 0, 1; block 0 = A at rows 2, 3
  // Block 1 (rows 4, 5) = I: y = the rows of W = [256, 512], [128, -256].
  // Block 2 (rows 6, 7) = [[-1.0, 0.5], [0.25, 0]]:
  //   y0 = -1*[1, 2] + 0.5*[0.5, -1] = [-0.75, -2.5] = [-192, -640]
  //   y1 = 0.25*[1, 2]               = [0.25, 0.5]   = [64, 128]
  b.write_row(4, {256, 0});
  b.write_row(5, {0, 256});
  b.write_row(6, {-256, 128});
  b.write_row(7, {64, 0});
  // pc: 0 loadw; 1 seta a1, 0; 2 loop 3; 3 matmul act = 2 + a1, out = 16 + a1; 4 adda a1, 2;
  // 5 endl; 6 halt. One instruction per cycle (the body never waits: port 0 is free again two
  // cycles after each matmul, and rows 2..7 read are never written):
  //   s+1 loadw, s+2 seta, s+3 loop; matmuls at t = s+4 (a1 = 0), s+7 (a1 = 2), s+10 (a1 = 4),
  //   each followed by adda, endl; s+13 halt waits: the last is in flight through
  //   t+2N+5+rows = s+21; halt issues s+22, Done s+23.
  // Writes at t+2N+6+i: s+14, s+15 (rows 16, 17), s+17, s+18 (18, 19), s+20, s+21 (20, 21).
  b.load({loadw(0, 2), seta(1, 0), loop(3), matmul_r(2, 1, 16, 1, 2, 2, 2), adda(1, 2), endl(),
          halt()});
  const uint64_t s = b.start();
  b.run_to(s + 25);
  const std::vector<uint32_t> pcs{0, 1, 2, 3, 4, 5, 3, 4, 5, 3, 4, 5, 6};
  for (std::size_t i = 0; i < pcs.size(); ++i) {
    EXPECT_EQ(b.at(s + 1 + i).pc, pcs[i]) << "cycle s+" << 1 + i;
  }
  EXPECT_EQ(b.where(s, wr_valid), (Cycles{s + 14, s + 15, s + 17, s + 18, s + 20, s + 21}));
  const std::vector<uint32_t> addrs{16, 17, 18, 19, 20, 21};
  const Cycles wr = b.where(s, wr_valid);
  for (std::size_t i = 0; i < wr.size() && i < addrs.size(); ++i) {
    EXPECT_EQ(b.at(wr[i]).wr_addr, addrs[i]) << i;
  }
  EXPECT_EQ(b.at(s + 22).state, State::kRunning);
  EXPECT_EQ(b.at(s + 23).state, State::kDone);
  EXPECT_EQ(b.tpu.areg(1), 6u);  // three adda a1, 2
  EXPECT_EQ(b.tpu.buffer().row(16), kY0);
  EXPECT_EQ(b.tpu.buffer().row(17), kY1);
  EXPECT_EQ(b.tpu.buffer().row(18), kW0);
  EXPECT_EQ(b.tpu.buffer().row(19), kW1);
  EXPECT_EQ(b.tpu.buffer().row(20), (Row{-192, -640}));
  EXPECT_EQ(b.tpu.buffer().row(21), (Row{64, 128}));
}

TEST(GoldenTpu, VpuRowsThroughRegistersAreFixedWhenItIssues) {
  Bench b;
  load_matrices(b);
  // As MatmulWithBiasAndLossStage, but the bias row is 4 + a3 = 14 and the side rows
  // 2 + a3 = 12, 13 (a3 = 10 when the vpu issues). A later adda a3, 100 does not move them:
  // rows 104 (bias) and 102, 103 (side), which the moved register would name, hold decoys.
  b.write_row(14, {-512, 128});  // bias [-2.0, 0.5]
  b.write_row(12, {256, 256});   // targets [1.0, 1.0], [0.25, -1.0]
  b.write_row(13, {64, -256});
  b.write_row(104, {1000, 1000});
  b.write_row(102, {1000, 1000});
  b.write_row(103, {1000, 1000});
  // cfg: bias | loss, batch_log2 = 1 (scale 1): row 0 [-384, 128], row 1 [-128, 1536].
  //   s+1 seta a3, 10;  s+2 vpu (bias 14, side 12);  s+3 adda a3, 100 (a3 = 110);  s+4 loadw;
  //   s+5 matmul, t = s+5: bias/side commands at t+2N = s+9; array outputs s+11, s+12; vector
  //   unit out and writes at t+2N+6+i = s+15, s+16; in flight through s+16; halt s+17; Done s+18.
  const uint32_t cfg = isa::pack_cfg({.mask = 0b0101, .batch_log2 = 1});
  b.load({seta(3, 10), vpu_r(cfg, 4, 3, 2, 3), adda(3, 100), loadw(0, 2), matmul(2, 8, 2, 2, 2),
          halt()});
  const uint64_t s = b.start();
  b.run_to(s + 20);
  EXPECT_EQ(b.tpu.op_bias(), 14u);
  EXPECT_EQ(b.tpu.op_side(), 12u);
  EXPECT_EQ(b.tpu.areg(3), 110u);
  EXPECT_EQ(b.where(s, array_valid), (Cycles{s + 11, s + 12}));
  EXPECT_EQ(b.where(s, vpu_valid), (Cycles{s + 15, s + 16}));
  EXPECT_EQ(b.at(s + 15).vpu_data, (Row{-384, 128}));
  EXPECT_EQ(b.at(s + 16).vpu_data, (Row{-128, 1536}));
  EXPECT_EQ(b.where(s, wr_valid), (Cycles{s + 15, s + 16}));
  EXPECT_EQ(b.at(s + 17).state, State::kRunning);
  EXPECT_EQ(b.at(s + 18).state, State::kDone);
  EXPECT_EQ(b.tpu.buffer().row(8), (Row{-384, 128}));
  EXPECT_EQ(b.tpu.buffer().row(9), (Row{-128, 1536}));
}

TEST(GoldenTpu, RegZeroIsErrFieldAndWritesNothing) {
  Bench b;
  // s+1 seta a1, 7; s+2 adda a0, 3 is in decode: ErrField, Error from s+3 with the PC at 1.
  // Nothing written: a1 keeps 7, a0 reads 0, and the seta a2 after it never issues.
  b.load({seta(1, 7), adda(0, 3), seta(2, 9), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 6);
  EXPECT_EQ(b.at(s + 2).state, State::kRunning);
  EXPECT_EQ(b.at(s + 2).pc, 1u);
  for (uint64_t c = s + 3; c < s + 6; ++c) {
    EXPECT_EQ(b.at(c).state, State::kError) << c;
    EXPECT_EQ(b.at(c).pc, 1u) << c;
    EXPECT_EQ(b.at(c).err, Error::kField) << c;
    EXPECT_EQ(b.regs[c], (Regs{0, 7, 0, 0})) << c;
  }
  EXPECT_EQ(b.regs[s + 2], (Regs{0, 7, 0, 0}));
}

TEST(GoldenTpu, StartClearsTheRegisters) {
  Bench b;
  b.load({seta(1, 7), seta(2, 8), seta(3, 9), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 6);
  // s+1 .. s+3 the setas, s+4 halt, Done from s+5 with a = {0, 7, 8, 9}.
  EXPECT_EQ(b.at(s + 5).state, State::kDone);
  EXPECT_EQ(b.regs[s + 5], (Regs{0, 7, 8, 9}));
  // A new program reads a1 before setting it: after the start a1 is 0, so matmul act 2 + a1
  // reads A (rows 2, 3) and writes 8 + a1 = rows 8, 9, as in LoadwMatmulCycleExact (writes
  // s2+12, s2+13). Without the clear it would read rows 9, 10 and write 15, 16.
  load_matrices(b);
  b.load({loadw(0, 2), matmul_r(2, 1, 8, 1, 2, 2, 2), halt()});
  const uint64_t s2 = b.start();
  b.run_to(s2 + 16);
  EXPECT_EQ(b.regs[s2 - 1], (Regs{0, 7, 8, 9}));
  EXPECT_EQ(b.regs[s2], (Regs{0, 0, 0, 0}));  // cleared at the end of the start cycle
  EXPECT_EQ(b.where(s2, wr_valid), (Cycles{s2 + 12, s2 + 13}));
  EXPECT_EQ(b.at(s2 + 12).wr_addr, 8u);
  EXPECT_EQ(b.at(s2 + 15).state, State::kDone);
  EXPECT_EQ(b.tpu.buffer().row(8), kY0);
  EXPECT_EQ(b.tpu.buffer().row(9), kY1);
}

// =============================================================================================
// Errors: the faulting instruction is in decode in cycle f (Running); Error from f+1, the PC at
// the faulting instruction.

struct ErrorCase {
  const char* name;
  std::vector<uint64_t> prog;
  uint32_t pc;  // the faulting instruction; it is in decode in cycle s + 1 + pc
  Error err;
};

TEST(GoldenTpu, EveryErrorCode) {
  const uint32_t relu_like_bad = isa::pack_cfg({.act_fn = 3});
  const uint32_t bias_cfg = isa::pack_cfg({.mask = 1});
  const uint32_t side_cfg = isa::pack_cfg({.mask = 0b1000, .deriv_src = true});
  const std::vector<ErrorCase> cases{
      {"opcode 0xC", {nop(), uint64_t{0xC} << 60}, 1, Error::kOpcode},
      {"opcode 0xD", {uint64_t{0xD} << 60}, 0, Error::kOpcode},
      {"opcode 0xE", {uint64_t{0xE} << 60}, 0, Error::kOpcode},
      {"opcode 0xF", {uint64_t{0xF} << 60}, 0, Error::kOpcode},
      {"seta reserved bit 18", {seta(1, 0) | uint64_t{1} << 18}, 0, Error::kOpcode},
      {"adda reserved bit 59", {adda(1, 0) | uint64_t{1} << 59}, 0, Error::kOpcode},
      {"reserved bit beats reg 0", {seta(0, 0) | uint64_t{1} << 40}, 0, Error::kOpcode},
      {"nop reserved bit 0", {nop() | 1}, 0, Error::kOpcode},
      {"halt reserved bit 59", {halt() | uint64_t{1} << 59}, 0, Error::kOpcode},
      {"loadw reserved bit 27", {loadw(0, 1) | uint64_t{1} << 27}, 0, Error::kOpcode},
      {"loadw rows 0", {loadw(0, 0)}, 0, Error::kField},
      {"loadw rows > N", {loadw(0, 3)}, 0, Error::kField},
      {"loadw rows 0 beats address", {loadw(300, 0)}, 0, Error::kField},
      {"matmul rows 0", {matmul(0, 8, 0, 2, 2)}, 0, Error::kField},
      {"matmul k 0", {matmul(0, 8, 1, 0, 2)}, 0, Error::kField},
      {"matmul n > N", {matmul(0, 8, 1, 2, 3)}, 0, Error::kField},
      {"matmul transposed rows > N", {matmul(0, 8, 3, 2, 2, true)}, 0, Error::kField},
      {"sgd count 0", {sgd(0, 4, 0, 256)}, 0, Error::kField},
      {"vpu act_fn 3", {vpu(relu_like_bad, 0, 0)}, 0, Error::kField},
      {"seta reg 0", {seta(0, 5)}, 0, Error::kField},
      {"adda reg 0", {nop(), adda(0, -1)}, 1, Error::kField},
      {"loadw past the end", {loadw(255, 2)}, 0, Error::kAddress},
      {"loadw transposed past the end", {loadw(255, 1, true)}, 0, Error::kAddress},
      {"matmul act past the end", {matmul(255, 8, 2, 2, 2)}, 0, Error::kAddress},
      {"matmul transposed act past the end", {matmul(255, 8, 1, 2, 2, true)}, 0, Error::kAddress},
      {"matmul out past the end", {matmul(0, 255, 2, 2, 2)}, 0, Error::kAddress},
      {"matmul bias past the end",
       {vpu(bias_cfg, 256, 0), matmul(0, 8, 2, 2, 2)},
       1,
       Error::kAddress},
      {"matmul side past the end",
       {vpu(side_cfg, 0, 255), matmul(0, 8, 2, 2, 2)},
       1,
       Error::kAddress},
      // field + register >= UbDepth although the field alone fits:
      //   loadw 100 + a1 (200) = 300; matmul out 1 + a2 (255) = 256 (act 0 fits);
      //   matmul act 0 + a3 (255), 2 rows: last row 256; vpu bias 6 + a1 (250) = 256, checked
      //   by the matmul that uses it; side 0 + a2 (255), 2 rows: last row 256.
      {"loadw addr + register past the end",
       {seta(1, 200), loadw_r(100, 1, 1)},
       1,
       Error::kAddress},
      {"matmul out + register past the end",
       {seta(2, 255), matmul_r(0, 0, 1, 2, 1, 2, 2)},
       1,
       Error::kAddress},
      {"matmul act + register past the end",
       {seta(3, 255), matmul_r(0, 3, 8, 0, 2, 2, 2)},
       1,
       Error::kAddress},
      {"vpu bias + register past the end",
       {seta(1, 250), vpu_r(bias_cfg, 6, 1, 0, 0), matmul(0, 8, 2, 2, 2)},
       2,
       Error::kAddress},
      {"vpu side + register past the end",
       {seta(2, 255), vpu_r(side_cfg, 0, 0, 0, 2), matmul(0, 8, 2, 2, 2)},
       2,
       Error::kAddress},
      // Exact, not mod 2^16: 1 + 65535 = 65536 (a 16-bit sum would wrap to row 0, which fits).
      {"register sum does not wrap", {seta(1, 65535), loadw_r(1, 1, 1)}, 1, Error::kAddress},
      // After adda a1, -1 from 0, a1 = 65535: field 0 + 65535 is past the end.
      {"adda below 0 wraps the register", {adda(1, -1), loadw_r(0, 1, 1)}, 1, Error::kAddress},
      {"sgd grad past the end", {sgd(0, 255, 2, 256)}, 0, Error::kAddress},
      {"sgd theta past the end", {sgd(255, 0, 2, 256)}, 0, Error::kAddress},
      {"loop 0", {loop(0)}, 0, Error::kLoop},
      {"endl without loop", {nop(), endl()}, 1, Error::kLoop},
      {"fifth nested loop", {loop(1), loop(1), loop(1), loop(1), loop(1)}, 4, Error::kLoop},
  };
  for (const ErrorCase& ec : cases) {
    SCOPED_TRACE(ec.name);
    Bench b;
    b.load(ec.prog);
    const uint64_t s = b.start();
    const uint64_t f = s + 1 + ec.pc;  // every instruction before the fault issues at once
    b.run_to(f + 3);
    EXPECT_EQ(b.at(f).state, State::kRunning);
    EXPECT_EQ(b.at(f).pc, ec.pc);
    EXPECT_EQ(b.at(f).err, Error::kNone);
    for (uint64_t c = f + 1; c < f + 3; ++c) {
      EXPECT_EQ(b.at(c).state, State::kError);
      EXPECT_EQ(b.at(c).pc, ec.pc);
      EXPECT_EQ(b.at(c).err, ec.err);
    }
    EXPECT_EQ(b.tpu.cycles(), ec.pc + 1u);
    // Status word: pc, state 4, err.
    const uint64_t status =
        ec.pc | uint64_t{4} << 16 | uint64_t{static_cast<uint8_t>(ec.err)} << 20;
    EXPECT_EQ(low_u64(b.host(2, false, 0).rdata), status);
  }
}

TEST(GoldenTpu, BiasRowUnusedIsNotChecked) {
  Bench b;
  // mask 0 uses neither the bias nor the side rows, so rows out of range there are fine.
  b.load({vpu(0, 300, 300), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 4);
  EXPECT_EQ(b.at(s + 3).state, State::kDone);
  EXPECT_EQ(b.at(s + 3).err, Error::kNone);
}

TEST(GoldenTpu, PcRunsPastTheEnd) {
  Bench b(2, 256, 4);  // ImemDepth 4
  b.load({nop(), nop(), nop(), nop()});
  const uint64_t s = b.start();
  b.run_to(s + 8);
  // nops at pc 0..3 in s+1 .. s+4; s+5: pc 4 >= ImemDepth, ErrPc; Error from s+6 with pc 4.
  EXPECT_EQ(b.at(s + 5).state, State::kRunning);
  EXPECT_EQ(b.at(s + 5).pc, 4u);
  EXPECT_EQ(b.at(s + 6).state, State::kError);
  EXPECT_EQ(b.at(s + 6).pc, 4u);
  EXPECT_EQ(b.at(s + 6).err, Error::kPc);
  EXPECT_EQ(low_u64(b.host(2, false, 0).rdata), 0x540004u);
}

TEST(GoldenTpu, IssuedWorkCompletesAfterAnError) {
  Bench b;
  load_matrices(b);
  b.load({loadw(0, 2), matmul(2, 8, 2, 2, 2), uint64_t{0xC} << 60});
  const uint64_t s = b.start();
  b.run_to(s + 16);
  // The illegal word is in decode in s+3: Error from s+4, PC 2. The matmul (t = s+2) still
  // writes its rows in s+12, s+13.
  EXPECT_EQ(b.at(s + 4).state, State::kError);
  EXPECT_EQ(b.at(s + 4).pc, 2u);
  EXPECT_EQ(b.at(s + 4).err, Error::kOpcode);
  EXPECT_EQ(b.where(s, wr_valid), (Cycles{s + 12, s + 13}));
  EXPECT_EQ(b.tpu.buffer().row(8), kY0);
  EXPECT_EQ(b.tpu.buffer().row(9), kY1);
  EXPECT_EQ(b.tpu.cycles(), 3u);
}

TEST(GoldenTpu, BufferErrorStopsTheProgram) {
  Bench b;
  b.load({sync(), nop(), halt()});
  // A buffer error from before the start (host address out of range) is cleared by the start.
  EXPECT_TRUE(b.host(0, false, 256).err);
  const uint64_t s = b.start();
  b.run_to(s + 3);
  EXPECT_EQ(b.at(s + 2).state, State::kSync);
  EXPECT_EQ(b.at(s + 2).err, Error::kNone);
  // In Sync the buffer's err_o does not count; it does in the first Running cycle after the
  // continue (c+1): Error from c+2 with the PC on the nop that did not issue.
  EXPECT_TRUE(b.host(0, true, 300, {0, 0}).err);
  EXPECT_EQ(b.tpu.state(), State::kSync);
  const Txn c = b.host(2, true, 0, {2, 0});
  b.run_to(c.accept + 4);
  EXPECT_EQ(b.at(c.accept + 1).state, State::kRunning);
  EXPECT_EQ(b.at(c.accept + 1).pc, 1u);
  EXPECT_EQ(b.at(c.accept + 2).state, State::kError);
  EXPECT_EQ(b.at(c.accept + 2).pc, 1u);
  EXPECT_EQ(b.at(c.accept + 2).err, Error::kBuffer);
  // A new start clears the error code and the buffer's error: the program syncs again.
  const uint64_t s2 = b.start();
  EXPECT_EQ(b.at(s2 + 1).state, State::kRunning);
  EXPECT_EQ(b.at(s2 + 1).err, Error::kNone);
  EXPECT_EQ(b.at(s2 + 2).state, State::kSync);
}

// =============================================================================================
// The gradient-descent unit through the TPU.

TEST(GoldenTpu, SgdWaitsUntilDrained) {
  Bench b;
  load_matrices(b);
  b.write_row(22, {128, 64});  // gradient rows [0.5, 0.25], [1.0, -0.5]
  b.write_row(23, {256, -128});
  // The matmul writes rows 8, 9 (y0, y1) in s+12, s+13 and is in flight through s+13; the sgd
  // waits until drained and issues at t = s+14 (u = s+15): theta/grad rows in u+2+i, updated
  // rows written in u+4+i = s+19, s+20; idle from s+21, when the halt issues; Done s+22.
  // lr = 1.0: theta - g exactly.
  //   row 8: [384-128, 256-64] = [256, 192]; row 9: [448-256, 1152+128] = [192, 1280]
  b.load({loadw(0, 2), matmul(2, 8, 2, 2, 2), sgd(8, 22, 2, 256), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 25);
  for (uint64_t c = s + 3; c <= s + 14; ++c) EXPECT_EQ(b.at(c).pc, 2u) << c;
  for (uint64_t c = s + 15; c <= s + 21; ++c) EXPECT_EQ(b.at(c).pc, 3u) << c;
  EXPECT_EQ(b.where(s, wr_valid), (Cycles{s + 12, s + 13, s + 19, s + 20}));
  EXPECT_EQ(b.at(s + 19).wr_addr, 8u);
  EXPECT_EQ(b.at(s + 19).wr_data, (Row{256, 192}));
  EXPECT_EQ(b.at(s + 20).wr_addr, 9u);
  EXPECT_EQ(b.at(s + 20).wr_data, (Row{192, 1280}));
  EXPECT_EQ(b.at(s + 21).state, State::kRunning);
  EXPECT_EQ(b.at(s + 22).state, State::kDone);
  EXPECT_EQ(b.tpu.buffer().row(8), (Row{256, 192}));
  EXPECT_EQ(b.tpu.buffer().row(9), (Row{192, 1280}));
}

TEST(GoldenTpu, SeedAndStochasticSgd) {
  Bench b;
  b.write_row(20, {256, 512});  // theta [1.0, 2.0], [-1.0, 0.5]
  b.write_row(21, {-256, 128});
  b.write_row(22, {128, 64});  // grad [0.5, 0.25], [1.0, -0.5]
  b.write_row(23, {256, -128});
  // lr = 1.0: lr*g = 256*g, so (lr*g + r) >>> 8 = g for every r < 256: stochastic rounding
  // gives the exact update whatever the LFSRs hold. theta - g:
  //   row 20: [128, 448]; row 21: [-512, 256]
  // seed at s+1 (unit idle); sgd at t = s+2 (drained), u = s+3: written s+7, s+8; idle from
  // s+9: halt s+9, Done s+10. Each lane's LFSR: seeded, then 8 steps per row (2 rows).
  b.load({seed(0x12345678u), sgd(20, 22, 2, 256, true), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 12);
  EXPECT_EQ(b.where(s, wr_valid), (Cycles{s + 7, s + 8}));
  EXPECT_EQ(b.at(s + 7).wr_addr, 20u);
  EXPECT_EQ(b.at(s + 8).wr_addr, 21u);
  EXPECT_EQ(b.at(s + 9).state, State::kRunning);
  EXPECT_EQ(b.at(s + 10).state, State::kDone);
  EXPECT_EQ(b.tpu.buffer().row(20), (Row{128, 448}));
  EXPECT_EQ(b.tpu.buffer().row(21), (Row{-512, 256}));
  for (int c = 0; c < 2; ++c) {
    EXPECT_EQ(b.tpu.sgd().lfsr(c), lfsr_advance(lfsr_seed(0x12345678u, c), 16)) << c;
  }
}

TEST(GoldenTpu, LoadwWaitsWhileSgdBusy) {
  Bench b;
  b.write_row(20, {256, 512});
  b.write_row(22, {128, 64});
  // sgd t = s+1 (u = s+2), one row: written u+4 = s+6, idle from s+7. The loadw after it is in
  // decode from s+2 and waits for the unit: it issues at s+7; halt waits for the loader (busy
  // s+8 .. s+9) and issues at s+10; Done from s+11.
  b.load({sgd(20, 22, 1, 256), loadw(0, 1), halt()});
  const uint64_t s = b.start();
  b.run_to(s + 12);
  for (uint64_t c = s + 2; c <= s + 7; ++c) EXPECT_EQ(b.at(c).pc, 1u) << c;
  EXPECT_EQ(b.at(s + 8).pc, 2u);
  EXPECT_EQ(b.at(s + 10).state, State::kRunning);
  EXPECT_EQ(b.at(s + 11).state, State::kDone);
  EXPECT_EQ(b.tpu.buffer().row(20), (Row{128, 448}));
}

}  // namespace
}  // namespace tpu::golden
