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
};

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
      {"opcode 0xA", {nop(), uint64_t{0xA} << 60}, 1, Error::kOpcode},
      {"opcode 0xF", {uint64_t{0xF} << 60}, 0, Error::kOpcode},
      {"nop reserved bit 0", {nop() | 1}, 0, Error::kOpcode},
      {"halt reserved bit 59", {halt() | uint64_t{1} << 59}, 0, Error::kOpcode},
      {"loadw reserved bit 25", {loadw(0, 1) | uint64_t{1} << 25}, 0, Error::kOpcode},
      {"loadw rows 0", {loadw(0, 0)}, 0, Error::kField},
      {"loadw rows > N", {loadw(0, 3)}, 0, Error::kField},
      {"loadw rows 0 beats address", {loadw(300, 0)}, 0, Error::kField},
      {"matmul rows 0", {matmul(0, 8, 0, 2, 2)}, 0, Error::kField},
      {"matmul k 0", {matmul(0, 8, 1, 0, 2)}, 0, Error::kField},
      {"matmul n > N", {matmul(0, 8, 1, 2, 3)}, 0, Error::kField},
      {"matmul transposed rows > N", {matmul(0, 8, 3, 2, 2, true)}, 0, Error::kField},
      {"sgd count 0", {sgd(0, 4, 0, 256)}, 0, Error::kField},
      {"vpu act_fn 3", {vpu(relu_like_bad, 0, 0)}, 0, Error::kField},
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
  b.load({loadw(0, 2), matmul(2, 8, 2, 2, 2), uint64_t{0xB} << 60});
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
