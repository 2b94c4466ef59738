// The whole TPU at one configuration (tests/tpu_fixture.hpp): programs assembled from text,
// loaded and started through the host port, every cycle compared with the golden TPU model
// (tb/tpu_tb.hpp lists what), results checked against Eigen and float references, and random
// programs in lockstep. Bad programs and bad hosts: tests/tpu_hostile_test.cpp.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <random>
#include <string>
#include <vector>

#include "golden/isa.hpp"
#include "golden/mlp_reference.hpp"
#include "golden/reference.hpp"
#include "golden/vpu_model.hpp"
#include "sim/xor_runner.hpp"
#include "tb/program_gen.hpp"
#include "tpu_fixture.hpp"

namespace {

using tpu::isa::Error;
using tpu::isa::State;
using tpu::tb::Space;
using Tb = tpu::test::TpuBench;
using tpu::test::Rows;
using tpu::test::test_name;

using tpu::test::assemble;
using tpu::test::kDim;
using tpu::test::kImemDepth;
using tpu::test::kMaxInFlight;
using tpu::test::kUbDepth;

struct BadProgram {
  const char* name;
  std::string text;
  Error err;
  uint32_t pc;  // of the faulting instruction
};

const std::string kErrorPrelude =
    "vpu mask=none\nloadw 20, rows=1\nmatmul 0, 30, rows=1, k=1, n=1\n";

class Tpu : public tpu::test::TpuFixture {
 protected:
  // Runs each program from reset over a random buffer and expects it to halt with its
  // error at its PC, the buffer holding exactly what the instructions before it wrote:
  // every case starts with `kErrorPrelude`, whose one matmul writes row 30, lane 0.
  void expect_errors(const std::vector<BadProgram>& cases);
};

TEST_F(Tpu, HostReachesBufferInstructionMemoryAndRegisters) {
  const Rows m = random_rows(3, -32768, 32767);
  store(10, m);
  EXPECT_EQ(load(10, 3), m);
  bool err = true;
  tb_->host(Space::kImem, true, 5, {0x89abcdefu, 0x01234567u}, &err);
  EXPECT_FALSE(err);
  EXPECT_EQ(tb_->host(Space::kImem, false, 5, {}, &err)[0], 0x89abcdefu);
  EXPECT_FALSE(err);
  tb_->host(Space::kImem, true, kImemDepth, {1, 0}, &err);
  EXPECT_TRUE(err) << "an instruction address past the memory";
  EXPECT_EQ(tb_->csr(0), tpu::isa::status_word(0, State::kIdle, Error::kNone));
  tb_->host(Space::kCsr, true, 0, {2}, &err);
  EXPECT_TRUE(err) << "continue outside Sync";
  tb_->host(Space::kCsr, false, 7, {}, &err);
  EXPECT_TRUE(err) << "no CSR 7";
}

// Start in cycle t: Running from t+1; nop issues in t+1, halt in t+2; Done from t+3.
TEST_F(Tpu, NopHaltTakesTwoCycles) {
  tb_->load_program(assemble("nop\nhalt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  EXPECT_EQ(tb_->csr(0), tpu::isa::status_word(1, State::kDone, Error::kNone));
  EXPECT_EQ(tb_->csr(1), 2u);
}

// Single-row matmuls back to back: MaxInFlight of them issue in consecutive cycles, and the next
// waits until the first has written its row. Each is in flight from t+1 through t+2N+6 (rows = 1)
// and still counts in its last cycle, so group g of MaxInFlight issues from g * (2N+7) on, and
// halt issues once the last has retired, 2N+7 cycles after it issued (docs/architecture.md).
TEST_F(Tpu, MatmulsInFlightWaitForAFreeEntry) {
  const int m = 3 * kMaxInFlight + 1;
  ASSERT_LE(10 + m, kUbDepth);
  std::string text;
  for (int j = 0; j < m; ++j) text += "matmul 0, " + std::to_string(10 + j) + ", rows=1, k=1, n=1\n";
  tb_->load_program(assemble(text + "halt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  const uint64_t period = 2 * kDim + 7;
  const uint64_t last = (m - 1) / kMaxInFlight * period + (m - 1) % kMaxInFlight;
  EXPECT_EQ(tb_->csr(1), last + period + 1);  // counted from the first instruction's cycle, 1
}

// A x W through loadw and matmul, against the Eigen reference under the spec's rounding.
TEST_F(Tpu, MatmulProgramMatchesEigen) {
  const int m = 2 * kDim + 1;
  const Rows a = random_rows(m, -1024, 1024), w = random_rows(kDim, -512, 512);
  store(0, a);
  store(40, w);
  tb_->load_program(assemble("loadw 40, rows=" + std::to_string(kDim) +
                             "\nvpu mask=none\nmatmul 0, 60, rows=" + std::to_string(m) +
                             ", k=" + std::to_string(kDim) + ", n=" + std::to_string(kDim) +
                             "\nhalt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  const tpu::golden::MatrixI expect =
      tpu::golden::matmul_fixed(a.cast<int64_t>(), w.cast<int64_t>());
  EXPECT_EQ(load(60, m).cast<int64_t>(), expect);
}

// The second matmul reads the first's output: the control unit must wait for the last
// write (the per-cycle comparison checks when), and the chain must be right.
TEST_F(Tpu, ReadAfterWriteWaitsAndChains) {
  const Rows a = random_rows(kDim, -512, 512), w = random_rows(kDim, -300, 300);
  store(0, a);
  store(20, w);
  const std::string n = std::to_string(kDim);
  tb_->load_program(assemble("vpu mask=none\nloadw 20, rows=" + n + "\nmatmul 0, 40, rows=" + n +
                             ", k=" + n + ", n=" + n + "\nmatmul 40, 60, rows=" + n + ", k=" + n +
                             ", n=" + n + "\nhalt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  const auto first = tpu::golden::matmul_fixed(a.cast<int64_t>(), w.cast<int64_t>());
  const auto second = tpu::golden::matmul_fixed(first, w.cast<int64_t>());
  EXPECT_EQ(load(40, kDim).cast<int64_t>(), first);
  EXPECT_EQ(load(60, kDim).cast<int64_t>(), second);
}

// loadw, matmul, loadw, matmul back to back: the second loadw issues while the first's
// rows are still arriving, and each matmul must see its own weights.
TEST_F(Tpu, BackToBackWeightLoadsKeepTheirRows) {
  const std::string n = std::to_string(kDim);
  const Rows a = random_rows(kDim, -700, 700);
  const Rows w1 = random_rows(kDim, -300, 300), w2 = random_rows(kDim, -300, 300);
  store(0, a);
  store(20, w1);
  store(30, w2);
  const std::string mm = ", rows=" + n + ", k=" + n + ", n=" + n + "\n";
  tb_->load_program(assemble("vpu mask=none\nloadw 20, rows=" + n + "\nmatmul 0, 40" + mm +
                             "loadw 30, rows=" + n + "\nmatmul 0, 50" + mm + "halt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  EXPECT_EQ(load(40, kDim).cast<int64_t>(),
            tpu::golden::matmul_fixed(a.cast<int64_t>(), w1.cast<int64_t>()));
  EXPECT_EQ(load(50, kDim).cast<int64_t>(),
            tpu::golden::matmul_fixed(a.cast<int64_t>(), w2.cast<int64_t>()));
}

// A product tiled along K: out = A1 W1, then out += A2 W2 (matmul acc), each tile rounded
// at the array's edge and the sum saturated in the vector unit's bias stage.
TEST_F(Tpu, AccumulatingMatmulAddsATiledProduct) {
  const std::string n = std::to_string(kDim), m = std::to_string(kDim + 1);
  const Rows a1 = random_rows(kDim + 1, -900, 900), a2 = random_rows(kDim + 1, -900, 900);
  const Rows w1 = random_rows(kDim, -400, 400), w2 = random_rows(kDim, -400, 400);
  store(0, a1);
  store(20, a2);
  store(40, w1);
  store(50, w2);
  const std::string shape = ", rows=" + m + ", k=" + n + ", n=" + n;
  tb_->load_program(assemble("vpu mask=none\nloadw 40, rows=" + n + "\nmatmul 0, 60" + shape +
                             "\nloadw 50, rows=" + n + "\nmatmul 20, 60" + shape +
                             ", acc\nhalt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  const auto p1 = tpu::golden::matmul_fixed(a1.cast<int64_t>(), w1.cast<int64_t>());
  const auto p2 = tpu::golden::matmul_fixed(a2.cast<int64_t>(), w2.cast<int64_t>());
  const tpu::golden::MatrixI want = (p1 + p2).cwiseMax(-32768).cwiseMin(32767);
  EXPECT_EQ(load(60, kDim + 1).cast<int64_t>(), want);
}

TEST_F(Tpu, LoopsRepeatTheirBody) {
  store(0, random_rows(1, -100, 100));
  store(20, random_rows(kDim, -100, 100));
  tb_->load_program(assemble(
      "vpu mask=none\nloadw 20, rows=1\nloop 3\nloop 2\nmatmul 0, 40, rows=1, k=1, n=1\nendl\n"
      "nop\nendl\nhalt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  EXPECT_EQ(tb_->vpu_rows().size(), 6u);
}

void Tpu::expect_errors(const std::vector<BadProgram>& cases) {
  for (const BadProgram& c : cases) {
    SCOPED_TRACE(c.name);
    tb_->reset();
    const Rows before = random_rows(kUbDepth, -1000, 1000);
    store(0, before);
    // Fill the whole instruction memory so the program ends where the text ends.
    std::vector<uint64_t> words = tpu::assembler::assemble(c.text, c.name, std::nullopt).words;
    words.resize(kImemDepth, 0);
    tb_->load_program(words);
    EXPECT_EQ(tb_->run(), State::kError);
    for (int i = 0; i < 3 * kDim + 12; ++i) tb_->idle();  // let issued work finish
    EXPECT_EQ(tb_->csr(0), tpu::isa::status_word(c.pc, State::kError, c.err));
    Rows expect = before;  // the one matmul before the fault wrote row 30, lane 0
    const int64_t z = before(0, 0) * int64_t{before(20, 0)};
    const int64_t r = z >= 0 ? (z + 128) >> 8 : -((-z + 128) >> 8);
    expect(30, 0) = static_cast<int32_t>(std::clamp<int64_t>(r, -32768, 32767));
    EXPECT_EQ(snapshot(), expect);
  }
}

// Every error code from a real program: the TPU halts with the code, the PC of the
// faulting instruction, and the buffer holds exactly what the instructions before it wrote.
TEST_F(Tpu, EveryErrorHaltsWithItsCodeAndTouchesNothingElse) {
  const std::string n = std::to_string(kDim), over = std::to_string(kDim + 1);
  const std::string pre = kErrorPrelude;
  expect_errors({
      {"illegal opcode", pre + ".word 0xC000000000000000\nhalt\n", Error::kOpcode, 3},
      {"reserved bit", pre + ".word 0x1000000000000001\nhalt\n", Error::kOpcode, 3},
      {"k past the array", pre + "matmul 0, 50, rows=1, k=" + over + ", n=1\nhalt\n",
       Error::kField, 3},
      {"sgd count 0", pre + "sgd 0, 8, count=0, lr=1.0\nhalt\n", Error::kField, 3},
      {"output past the buffer",
       pre + "matmul 0, " + std::to_string(kUbDepth - 1) + ", rows=2, k=1, n=1\nhalt\n",
       Error::kAddress, 3},
      {"transposed weights past the buffer",
       pre + "loadw " + std::to_string(kUbDepth - 1) + ", rows=1, t\nhalt\n", Error::kAddress, 3},
      {"bias row past the buffer",
       pre + "vpu mask=bias, bias=" + std::to_string(kUbDepth) + "\nmatmul 0, 50, rows=1, k=1, n=1\n",
       Error::kAddress, 4},
      {"act 3", pre + "vpu act=3\nhalt\n", Error::kField, 3},
      {"n past the array", pre + "matmul 0, 50, rows=1, k=1, n=" + over + "\nhalt\n",
       Error::kField, 3},
      {"transposed block past N rows", pre + "matmul 0, 50, rows=" + over + ", k=1, n=1, t\nhalt\n",
       Error::kField, 3},
      {"sgd rows past the buffer",
       pre + "sgd " + std::to_string(kUbDepth - 1) + ", 8, count=2, lr=1.0\nhalt\n",
       Error::kAddress, 3},
      {"loop 0", pre + "loop 0\nendl\nhalt\n", Error::kLoop, 3},
      {"endl without loop", pre + "endl\nhalt\n", Error::kLoop, 3},
      {"fifth nested loop", pre + "loop 1\nloop 1\nloop 1\nloop 1\nloop 1\n", Error::kLoop, 7},
      {"no halt", pre, Error::kPc, kImemDepth},
  });
}

// --- Address registers (isa.md, "Address registers") -----------------------------------

// One loop body walks S row blocks: a1 through the inputs, a2 through the outputs (from a
// nonzero start), both stepped by adda; the result is the whole product, and no row
// outside the outputs changes.
TEST_F(Tpu, LoopWalksRowBlocksThroughAddressRegisters) {
  const int b = kDim + 1, s = 4;  // blocks of B rows, S of them
  const std::string n = std::to_string(kDim), bs = std::to_string(b);
  const Rows before = random_rows(kUbDepth, -1000, 1000);
  store(0, before);
  const Rows x = before.block(0, 0, s * b, kDim), w = before.block(24, 0, kDim, kDim);
  tb_->load_program(assemble("vpu mask=none\nloadw 24, rows=" + n +
                             "\nseta a1, 0\nseta a2, 3\nloop " + std::to_string(s) +
                             "\nmatmul a1+0, a2 + 40, rows=" + bs + ", k=" + n + ", n=" + n +
                             "\nadda a1, " + bs + "\nadda a2, " + bs + "\nendl\nhalt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  Rows expect = before;
  expect.block(43, 0, s * b, kDim) =
      tpu::golden::matmul_fixed(x.cast<int64_t>(), w.cast<int64_t>()).cast<int32_t>();
  EXPECT_EQ(snapshot(), expect);
  EXPECT_EQ(tb_->vpu_rows().size(), static_cast<size_t>(s * b));
}

// A loss-gradient pass over S minibatches whose targets advance per iteration: each
// iteration's vpu names its side rows through a1 and its bias row through a2, then moves a1
// on before its matmul issues. The operation register holds the row the vpu resolved, so
// the matmul still uses this minibatch's targets. Out = (2/B)(sat(X W + b) - Y), B = 4.
TEST_F(Tpu, VpuSideAndBiasRowsThroughAddressRegisters) {
  const int s = 3;
  const std::string n = std::to_string(kDim);
  const Rows x = random_rows(s * kDim, -600, 600), w = random_rows(kDim, -300, 300);
  const Rows y = random_rows(s * kDim, -2000, 2000), bias = random_rows(1, -2000, 2000);
  const int kW = s * kDim, kY = kW + kDim;  // X at row 0; Y ends at row 55 at ArrayDim 8
  ASSERT_LT(kY + s * kDim, 57);
  store(0, x);
  store(kW, w);
  store(kY, y);
  store(57, bias);  // row 50 + a2
  const Rows before = snapshot();
  tb_->load_program(assemble("loadw " + std::to_string(kW) + ", rows=" + n +
                             "\nseta a2, 7\nloop " + std::to_string(s) +
                             "\nvpu mask=bias+loss, batch=2, bias=a2+50, side=a1+" +
                             std::to_string(kY) + "\nadda a1, " +
                             n + "\nmatmul a3+0, a3+70, rows=" + n + ", k=" + n + ", n=" + n +
                             "\nadda a3, " + n + "\nendl\nhalt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  const tpu::golden::MatrixI z = tpu::golden::matmul_fixed(x.cast<int64_t>(), w.cast<int64_t>());
  auto sat = [](int64_t v) { return std::clamp<int64_t>(v, -32768, 32767); };
  auto half = [](int64_t d) { return d >= 0 ? (d + 1) >> 1 : -((-d + 1) >> 1); };  // ties away
  Rows expect = before;
  for (int r = 0; r < s * kDim; ++r) {
    for (int c = 0; c < kDim; ++c) {
      const int64_t h = sat(z(r, c) + bias(0, c));
      expect(70 + r, c) = static_cast<int32_t>(sat(half(h - y(r, c))));
    }
  }
  EXPECT_EQ(snapshot(), expect);
}

// loadw through a register: two weight blocks stored one after the other, one loop body
// loads each in turn (a3) and writes each product to its own block (a2); then a transposed
// loadw whose block is found through a1.
TEST_F(Tpu, LoadwAddressThroughARegister) {
  const std::string n = std::to_string(kDim);
  const std::string mm = ", rows=" + n + ", k=" + n + ", n=" + n + "\n";
  const Rows x = random_rows(kDim, -700, 700);
  const Rows w1 = random_rows(kDim, -300, 300), w2 = random_rows(kDim, -300, 300);
  store(0, x);
  store(20, w1);
  store(20 + kDim, w2);
  const Rows before = snapshot();
  tb_->load_program(assemble("vpu mask=none\nseta a3, 20\nloop 2\nloadw a3+0, rows=" + n +
                             "\nmatmul 0, a2+40" + mm + "adda a3, " + n + "\nadda a2, " + n +
                             "\nendl\nseta a1, 15\nloadw a1+5, rows=" + n + ", t\nmatmul 0, 60" +
                             mm + "halt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  const auto xi = x.cast<int64_t>();
  Rows expect = before;
  expect.block(40, 0, kDim, kDim) =
      tpu::golden::matmul_fixed(xi, w1.cast<int64_t>()).cast<int32_t>();
  expect.block(40 + kDim, 0, kDim, kDim) =
      tpu::golden::matmul_fixed(xi, w2.cast<int64_t>()).cast<int32_t>();
  const tpu::golden::MatrixI w1t = w1.cast<int64_t>().transpose();
  expect.block(60, 0, kDim, kDim) = tpu::golden::matmul_fixed(xi, w1t).cast<int32_t>();
  EXPECT_EQ(snapshot(), expect);
}

// seta and adda wait for nothing: start in t, seta issues in t+1, adda in t+2, halt in
// t+3, Done from t+4 (3 cycles Running), with the halt at PC 2.
TEST_F(Tpu, SetaAndAddaIssueAtOnce) {
  EXPECT_EQ(cycles_to_done("seta a1, 7\nadda a1, -1\nhalt\n"), 3u);
  EXPECT_EQ(tb_->csr(0), tpu::isa::status_word(2, State::kDone, Error::kNone));
}

// adda wraps modulo 2^16 both ways, and the next instruction sees the new value:
// a1 = 65535 + 3 = 2 (mod 2^16); a2 = 2 - 5 + 32767 - 32768 + 10 = 6 (through 65533 and
// 65532); a3 = 65535 + 1 = 0. The matmuls then read rows 2.. and 0.. and write 46.. and 56..
TEST_F(Tpu, SetaAddaWrapAroundModulo2To16) {
  const std::string n = std::to_string(kDim);
  const std::string mm = ", rows=" + n + ", k=" + n + ", n=" + n + "\n";
  const Rows before = random_rows(kUbDepth, -1000, 1000);
  store(0, before);
  tb_->load_program(assemble("vpu mask=none\nloadw 20, rows=" + n +
                             "\nseta a1, 65535\nadda a1, 3\n"
                             "seta a2, 2\nadda a2, -5\nadda a2, 32767\nadda a2, -32768\n"
                             "adda a2, 10\nseta a3, 65535\nadda a3, 1\n"
                             "matmul a1+0, a2+40" + mm + "matmul a3+0, a2+50" + mm + "halt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  const auto w = before.block(20, 0, kDim, kDim).cast<int64_t>();
  Rows expect = before;
  expect.block(46, 0, kDim, kDim) =
      tpu::golden::matmul_fixed(before.block(2, 0, kDim, kDim).cast<int64_t>(), w)
          .cast<int32_t>();
  expect.block(56, 0, kDim, kDim) =
      tpu::golden::matmul_fixed(before.block(0, 0, kDim, kDim).cast<int64_t>(), w)
          .cast<int32_t>();
  EXPECT_EQ(snapshot(), expect);
}

// The errors the registers bring: selector 0 in seta/adda (ErrField), and a row that is
// outside the buffer only once its register is added (ErrAddress), computed in 17 bits so
// that 65535 + 1 is row 65536, not row 0. Nothing the faulting instruction names is written.
TEST_F(Tpu, AddressRegisterErrorsHaltAndTouchNothing) {
  const std::string pre = kErrorPrelude, over = std::to_string(kDim + 1);
  const std::string depth = std::to_string(kUbDepth);
  expect_errors({
      {"seta a0", pre + "seta a0, 5\nhalt\n", Error::kField, 3},
      {"adda a0", pre + "adda a0, -1\nhalt\n", Error::kField, 3},
      {"output field + register at UbDepth",
       pre + "seta a1, 100\nmatmul 0, a1+" + std::to_string(kUbDepth - 100) +
           ", rows=1, k=1, n=1\nhalt\n",
       Error::kAddress, 4},
      {"activation row 65535 + 1 does not wrap to 0",
       pre + "seta a2, 65535\nmatmul a2+1, 50, rows=1, k=1, n=1\nhalt\n", Error::kAddress, 4},
      {"loadw row 65535 + 65535", pre + "seta a3, 65535\nloadw a3+65535, rows=1\nhalt\n",
       Error::kAddress, 4},
      {"transposed loadw block through a register",
       pre + "seta a3, " + std::to_string(kUbDepth - kDim) + "\nloadw a3+1, rows=1, t\nhalt\n",
       Error::kAddress, 4},
      {"bias row through its register",
       pre + "seta a1, 120\nvpu mask=bias, bias=a1+" + std::to_string(kUbDepth - 120) +
           "\nmatmul 0, 50, rows=1, k=1, n=1\nhalt\n",
       Error::kAddress, 5},
      {"side rows as resolved when the vpu issued",
       pre + "seta a1, " + std::to_string(kUbDepth - 1) +
           "\nvpu mask=loss, side=a1+0\nseta a1, 0\nmatmul 0, 50, rows=2, k=1, n=1\nhalt\n",
       Error::kAddress, 6},
      {"field checks before address checks",
       pre + "seta a1, 65535\nmatmul a1+65535, 50, rows=1, k=" + over + ", n=1\nhalt\n",
       Error::kField, 4},
  });
}

// A matmul reading rows another matmul in flight writes, where only the registers make the
// rows meet (fields 10 and 0, rows 40 and 40), waits exactly as long as the same program
// with the rows written plainly; with equal fields that the registers pull apart (rows 50
// and 40) it does not wait at all. The per-cycle comparison checks when each issues.
TEST_F(Tpu, RawHazardBetweenRowsThatMeetOnlyThroughRegisters) {
  const std::string n = std::to_string(kDim);
  const std::string mm = ", rows=" + n + ", k=" + n + ", n=" + n + "\n";
  auto program = [&](int a1, int f1, int a2, int f2) {
    return "vpu mask=none\nloadw 20, rows=" + n + "\nseta a1, " + std::to_string(a1) +
           "\nseta a2, " + std::to_string(a2) + "\nmatmul 0, a1+" + std::to_string(f1) + mm +
           "matmul a2+" + std::to_string(f2) + ", 80" + mm + "halt\n";
  };
  const Rows before = random_rows(kUbDepth, -600, 600);
  const auto x = before.block(0, 0, kDim, kDim).cast<int64_t>();
  const auto w = before.block(20, 0, kDim, kDim).cast<int64_t>();

  store(0, before);
  const uint64_t through_registers = cycles_to_done(program(30, 10, 40, 0));
  const tpu::golden::MatrixI first = tpu::golden::matmul_fixed(x, w);
  Rows expect = before;
  expect.block(40, 0, kDim, kDim) = first.cast<int32_t>();
  expect.block(80, 0, kDim, kDim) = tpu::golden::matmul_fixed(first, w).cast<int32_t>();
  EXPECT_EQ(snapshot(), expect);

  store(0, before);
  const uint64_t plain = cycles_to_done(program(0, 40, 0, 40));
  EXPECT_EQ(snapshot(), expect);

  store(0, before);
  const uint64_t apart = cycles_to_done(program(10, 40, 0, 40));
  expect = before;
  expect.block(50, 0, kDim, kDim) = first.cast<int32_t>();
  expect.block(80, 0, kDim, kDim) =
      tpu::golden::matmul_fixed(before.block(40, 0, kDim, kDim).cast<int64_t>(), w)
          .cast<int32_t>();
  EXPECT_EQ(snapshot(), expect);

  EXPECT_EQ(through_registers, plain);
  EXPECT_LT(apart, plain) << "rows that do not meet must not wait";
}

// Start clears a1..a3: the same program run twice (each adda adds to whatever its register
// holds) loads the same weights, reads and writes the same rows both times.
TEST_F(Tpu, StartClearsTheAddressRegisters) {
  const std::string n = std::to_string(kDim);
  const Rows before = random_rows(kUbDepth, -1000, 1000);
  store(0, before);
  tb_->load_program(assemble("vpu mask=none\nadda a1, 5\nadda a2, " + n + "\nadda a3, 1\n" +
                             "loadw a3+19, rows=" + n + "\nmatmul a2+0, a1+40, rows=" + n +
                             ", k=" + n + ", n=" + n + "\nhalt\n"));
  Rows expect = before;
  expect.block(45, 0, kDim, kDim) =
      tpu::golden::matmul_fixed(before.block(kDim, 0, kDim, kDim).cast<int64_t>(),
                                before.block(20, 0, kDim, kDim).cast<int64_t>())
          .cast<int32_t>();
  EXPECT_EQ(tb_->run(), State::kDone);
  EXPECT_EQ(snapshot(), expect);
  store(45, before.block(45, 0, kDim, kDim));  // undo the first run's writes
  EXPECT_EQ(tb_->run(), State::kDone);
  EXPECT_EQ(snapshot(), expect) << "the second run must see a1 = 5, a2 = N, a3 = 1 again";
}

// --- The fetch runs a word ahead of decode (rtl/ctrl/control_unit.sv) ---------------------
// None of this changes a cycle (docs/architecture.md, "Decode and issue"); the per-cycle
// comparison with the golden model checks that it does not.

// Presents `bits` on CSR 0 until it is accepted without an error: while the TPU still runs
// (or is not in Sync, for a continue) each try is refused, and a try every 3 cycles from an
// offset of 0, 1 or 2 cycles lands on every cycle of the stop for one of the three offsets.
void control_as_soon_as_allowed(Tb& tb, uint32_t bits) {
  bool err = true;
  for (int tries = 0; err; ++tries) {
    ASSERT_LT(tries, 10000);
    tb.host(Space::kCsr, true, 0, {bits}, &err);
  }
}

// A start in the first cycle the TPU is stopped (Done after a halt, Error after a fault, or
// right after an instruction-memory read): the first instruction is predecoded in the start
// cycle from word 0, with a1..a3 cleared (the run before left a1 = 5, which would move the
// activation row). Each run's matmul uses the weights the run before loaded.
TEST_F(Tpu, StartInTheFirstCycleAfterAStop) {
  const std::string body =
      "matmul a1+0, 40, rows=1, k=1, n=1\nloadw 20, rows=1\nvpu mask=none\nadda a1, 5\n";
  for (const bool fault : {false, true}) {
    for (int offset = 0; offset < 3; ++offset) {
      SCOPED_TRACE(std::string(fault ? "after an error" : "after a halt") + ", offset " +
                   std::to_string(offset));
      tb_->reset();
      const Rows before = random_rows(kUbDepth, -1000, 1000);
      store(0, before);
      tb_->load_program(assemble(body + (fault ? "endl\n" : "halt\n")));
      const State stop = fault ? State::kError : State::kDone;
      tb_->start();
      for (int i = 0; i < offset; ++i) tb_->idle();
      control_as_soon_as_allowed(*tb_, 1);  // the second start, as soon as the first run stops
      EXPECT_EQ(tb_->run_on(), stop);
      bool err = true;
      tb_->host(Space::kImem, false, 2, {}, &err);  // then a read of word 2, a start right after
      EXPECT_FALSE(err);
      tb_->start();
      EXPECT_EQ(tb_->run_on(), stop);
      Rows expect = before;
      const int64_t z = before(0, 0) * int64_t{before(20, 0)};
      const int64_t r = z >= 0 ? (z + 128) >> 8 : -((-z + 128) >> 8);
      expect(40, 0) = static_cast<int32_t>(std::clamp<int64_t>(r, -32768, 32767));
      for (int i = 0; i < 3 * kDim + 12; ++i) tb_->idle();
      EXPECT_EQ(snapshot(), expect) << "every run must read activation row 0 (a1 = 0)";
    }
  }
}

// Loops nested three deep with bodies of one instruction, an endl right after its loop and
// after another endl, loop 1; a register or the operation register read by the instruction
// right after the one that writes it (the fetch guesses each endl's jump and predecodes with
// the values the instruction before writes); a continue in the first cycle it is allowed.
TEST_F(Tpu, LoopsAndRegisterWritesRightBeforeTheirReaders) {
  const std::string n = std::to_string(kDim);
  store(0, random_rows(kUbDepth, -100, 100));
  const std::string text =
      "vpu mask=none\nloadw 20, rows=1\nseta a1, 0\n"
      "loop 3\n"
      "loop 2\n"
      "vpu mask=bias, bias=a1+60\n"
      "adda a1, 1\n"
      "matmul a1+0, a1+40, rows=1, k=1, n=1\n"
      "endl\n"
      "loop 2\nendl\n"
      "loop 1\nendl\n"
      "loop 2\nloop 2\nnop\nendl\nendl\n"
      "endl\n"
      "sync\n"
      "seta a2, 24\n"
      "loadw a2+0, rows=" + n + ", t\n"
      "matmul a2+4, a2+30, rows=" + n + ", k=" + n + ", n=" + n + "\n"
      "loop 2\nendl\n"
      "halt\n";
  for (int offset = 0; offset < 3; ++offset) {
    SCOPED_TRACE("offset " + std::to_string(offset));
    tb_->reset();
    tb_->load_program(assemble(text));
    const std::size_t rows = tb_->vpu_rows().size();
    tb_->start();
    for (int i = 0; i < offset; ++i) tb_->idle();
    control_as_soon_as_allowed(*tb_, 2);  // continue as soon as the TPU is in Sync
    EXPECT_EQ(tb_->run_on(), State::kDone);
    EXPECT_EQ(tb_->vpu_rows().size() - rows, 6u + kDim) << "six one-row matmuls, then N rows";
  }
}

// --- Behaviours the golden model's tests check, driven on the RTL (docs/testplan.md) -------

// A matmul whose loss stage reads, as its side rows, the rows the matmul before it writes
// waits until they are written. With m = 3 rows the second matmul could issue m cycles after
// the first (port 0); its side read of row H+j comes 2N+1+j cycles after its issue and row
// H+j is written at the end of cycle 2N+6+j after the first's, so it issues 6 cycles after
// the first (docs/architecture.md, "Read-after-write hazards"): 3 cycles later than the same
// program reading its side rows elsewhere.
TEST_F(Tpu, SideRowsWaitForTheMatmulThatWritesThem) {
  const int m = 3;
  const std::string n = std::to_string(kDim), ms = std::to_string(m);
  const Rows a = random_rows(m, -512, 512), b = random_rows(m, -512, 512);
  const Rows w = random_rows(kDim, -256, 256), other = random_rows(m, -512, 512);
  store(0, a);
  store(20, b);
  store(40, w);
  store(100, other);
  const auto program = [&](int side) {
    return "loadw 40, rows=" + n + "\nvpu mask=none\nmatmul 0, 60, rows=" + ms + ", k=" + n +
           ", n=" + n + "\nvpu mask=loss, side=" + std::to_string(side) + "\nmatmul 20, 80, rows=" +
           ms + ", k=" + n + ", n=" + n + "\nhalt\n";
  };
  const uint64_t apart = cycles_to_done(program(100));
  const auto h = tpu::golden::matmul_fixed(a.cast<int64_t>(), w.cast<int64_t>());
  const auto bw = tpu::golden::matmul_fixed(b.cast<int64_t>(), w.cast<int64_t>());
  tpu::golden::VpuConfig loss;
  loss.mask = tpu::golden::kMaskLoss;
  const auto gradient = [&](const Rows& y) {
    Rows g(m, kDim);
    for (int r = 0; r < m; ++r) {
      for (int c = 0; c < kDim; ++c) {
        g(r, c) = tpu::golden::vpu_lane(loss, static_cast<int32_t>(bw(r, c)), 0, y(r, c), 0);
      }
    }
    return g;
  };
  EXPECT_EQ(load(80, m), gradient(other));
  const uint64_t chained = cycles_to_done(program(60));
  EXPECT_EQ(load(60, m).cast<int64_t>(), h);
  EXPECT_EQ(load(80, m), gradient(h.cast<int32_t>()));
  EXPECT_EQ(chained, apart + 3) << "the second matmul issues 6 cycles after the first, not 3";
}

// The derivative stage at exactly zero, from both sources (docs/architecture.md, vector unit
// stage 4: v > 0 passes x3, v = 0 takes g(x3)): src=z with zero activations, so that z is the
// bias row, which has zero lanes; src=s with side rows that hold zeros.
TEST_F(Tpu, DerivativeAtExactlyZeroFromBothSources) {
  const int m = 3;
  const std::string n = std::to_string(kDim), ms = std::to_string(m);
  const Rows w = random_rows(kDim, -256, 256), x = random_rows(m, -512, 512);
  Rows bias = random_rows(1, -300, 300), y = random_rows(m, -300, 300);
  Rows s = random_rows(m, -300, 300);
  for (int c = 0; c < kDim; c += 2) bias(0, c) = 0;
  for (int r = 0; r < m; ++r) s(r, r % kDim) = 0;
  s(0, kDim - 1) = 0;
  store(0, Rows::Zero(m, kDim));
  store(10, x);
  store(20, w);
  store(30, bias);
  store(40, y);
  store(50, s);
  tb_->load_program(assemble(
      "loadw 20, rows=" + n + "\nvpu mask=bias+loss+deriv, act=relu, bias=30, side=40\n"
      "matmul 0, 60, rows=" + ms + ", k=" + n + ", n=" + n + "\n"
      "vpu mask=bias+loss+deriv, act=leaky, leak=1, bias=30, side=40\n"
      "matmul 0, 70, rows=" + ms + ", k=" + n + ", n=" + n + "\n"
      "vpu mask=deriv, act=relu, src=s, side=50\n"
      "matmul 10, 80, rows=" + ms + ", k=" + n + ", n=" + n + "\n"
      "vpu mask=deriv, act=leaky, leak=2, src=s, side=50\n"
      "matmul 10, 90, rows=" + ms + ", k=" + n + ", n=" + n + "\nhalt\n"));
  EXPECT_EQ(tb_->run(), State::kDone);
  namespace g = tpu::golden;
  const auto xw = g::matmul_fixed(x.cast<int64_t>(), w.cast<int64_t>());
  const auto expect = [&](uint8_t mask, uint8_t act, uint8_t leak, bool src_s, bool zero_x) {
    g::VpuConfig cfg;
    cfg.mask = mask;
    cfg.act_fn = act;
    cfg.leak_shift = leak;
    cfg.deriv_src = src_s;
    Rows out(m, kDim);
    for (int r = 0; r < m; ++r) {
      for (int c = 0; c < kDim; ++c) {
        const int32_t xv = zero_x ? 0 : static_cast<int32_t>(xw(r, c));
        out(r, c) = src_s ? g::vpu_lane(cfg, xv, 0, s(r, c), s(r, c))
                          : g::vpu_lane(cfg, xv, bias(0, c), y(r, c), y(r, c));
      }
    }
    return out;
  };
  const uint8_t bld = g::kMaskBias | g::kMaskLoss | g::kMaskDeriv;
  EXPECT_EQ(load(60, m), expect(bld, g::kActRelu, 0, false, true));
  EXPECT_EQ(load(70, m), expect(bld, g::kActLeakyRelu, 1, false, true));
  EXPECT_EQ(load(80, m), expect(g::kMaskDeriv, g::kActRelu, 0, true, false));
  EXPECT_EQ(load(90, m), expect(g::kMaskDeriv, g::kActLeakyRelu, 2, true, false));
  // The zero lanes really took g: ReLU zeroes them, whatever x3 was.
  for (int r = 0; r < m; ++r) EXPECT_EQ(load(80 + r, 1)(0, r % kDim), 0) << "row " << r;
}

// `seed` reseeds the stochastic rounding (docs/architecture.md, gradient-descent unit): the
// same stochastic update after two different seeds moves the weights differently, and the
// RTL follows the golden model's LFSRs every cycle. A seed equal to the reset seed (1)
// reproduces the update of a program without seed.
TEST_F(Tpu, SeedChangesTheStochasticUpdate) {
  const int count = 8;
  const Rows theta = random_rows(count, -4096, 4096), grad = random_rows(count, -2048, 2048);
  const auto update = [&](const std::string& seed) {
    tb_->reset();
    store(0, theta);
    store(20, grad);
    cycles_to_done(seed + "sgd 0, 20, count=" + std::to_string(count) + ", lr=3q, stochastic\nhalt\n");
    return load(0, count);
  };
  const Rows a = update("seed 0x12345678\n"), b = update("seed 0x9abcdef0\n");
  const Rows none = update(""), one = update("seed 0x00000001\n");
  EXPECT_NE(a, b) << "two seeds, the same update";
  EXPECT_EQ(none, one) << "reset seeds as if seed 1";
  EXPECT_NE(a, theta) << "the update moved nothing";
}

TEST_F(Tpu, BufferErrorHaltsOnTheFirstRunningCycle) {
  using tpu::runtime::Status;
  tb_->load_program(assemble("sync\nnop\nhalt\n"));
  const Rows before = random_rows(4, -32768, 32767);
  store(0, before);
  bool err = false;
  tb_->host(Space::kBuffer, false, kUbDepth, {}, &err);
  EXPECT_TRUE(err) << "a read past the buffer";
  EXPECT_EQ(tb_->run(), State::kSync) << "the start clears the buffer's error from before";
  EXPECT_EQ(tb_->status().err, Error::kNone);
  err = false;
  tb_->host(Space::kBuffer, true, kUbDepth + 44, tb_->row_words(std::vector<int32_t>(kDim, 7)),
            &err);
  EXPECT_TRUE(err) << "a write past the buffer";
  EXPECT_EQ(tb_->status().state, State::kSync) << "in Sync the buffer's error does not count";
  tb_->resume();
  EXPECT_EQ(tb_->run_on(), State::kError);
  EXPECT_EQ(tb_->status(), (Status{1, State::kError, Error::kBuffer}))
      << "on the nop that did not issue";
  EXPECT_EQ(load(0, 4), before);
  EXPECT_EQ(tb_->run(), State::kSync) << "a new start clears the error";
  EXPECT_EQ(tb_->status().err, Error::kNone);
}

// --- Constrained-random programs (tb/program_gen.hpp) ----------------------------------------
// Random programs of every instruction form (loadw and matmul plain and transposed, through
// address registers or not; vpu configurations with every mask; sgd plain and stochastic; seed;
// seta/adda; loops nested up to two deep that walk a register; sync), over random data with
// saturating values; about 15% carry one random word that is probably illegal, and 5% run off
// the end of the program (ErrPc). Each runs on the RTL from a start to Done or Error, every cycle
// compared with the golden model (the fixture); at each Sync the host reads a row, writes one,
// tries a start (refused while in Sync) and continues. Every 25 programs the buffer is read back
// whole and refilled with fresh data.
//
// TPU_PROGRAMS=<n> sets the number (default kDefaultPrograms; `make fuzz` sets it); a failure
// stops at the first program that differs, prints it as assembly with its index and the seed,
// and writes it to random-program-<seed>-<index>.s; TPU_SEED=<seed> (and TPU_TRACE=1 for a VCD of
// the run) with --gtest_filter replays it.
constexpr int kDefaultPrograms = TPU_RANDOM_PROGRAMS;

int programs_to_run() { return tpu::test::count_from_env("TPU_PROGRAMS", kDefaultPrograms); }

TEST_F(Tpu, RandomProgramsInLockstep) {
  namespace prog = tpu::tb::prog;
  const uint64_t seed = seed_;  // rng_ starts from it (SetUp)
  const int programs = programs_to_run();
  constexpr uint64_t kMaxCycles = 2'000'000;
  int ended[8] = {}, syncs = 0, with_bad_word = 0;
  uint64_t cycles = 0, host_rows = 0;
  std::uniform_int_distribution<int> any_row(0, kUbDepth - 1);
  const auto refill = [&] {
    for (int r = 0; r < kUbDepth; ++r) (void)tb_->read_row(r);  // compared with the golden model
    fill(prog::random_data(rng_, kDim, kUbDepth));
  };
  for (int i = 0; i < programs; ++i) {
    if (i % 25 == 0) refill();
    prog::ProgramGenerator gen(rng_, kDim, kUbDepth);
    prog::Words p = gen.program();
    while (p.size() > static_cast<std::size_t>(kImemDepth)) p = gen.program();  // fits the memory
    const std::string listing = tpu::assembler::disassemble(p);
    const auto fail = [&](const std::string& why) {
      const std::string file =
          "random-program-" + std::to_string(seed) + "-" + std::to_string(i) + ".s";
      std::ofstream(file) << "; " << test_name() << " TPU_SEED=" << seed << ", program " << i
                          << ": " << why << "\n"
                          << listing;
      ADD_FAILURE() << "program " << i << " of TPU_SEED=" << seed << ": " << why << " (written to "
                    << file << ")\n"
                    << listing << tb_->log().report();
    };
    tb_->load_program(p);
    const bool runs_off = p.back() != prog::op(tpu::isa::Opcode::kHalt);
    if (runs_off) {  // nops to the end, so that the PC runs past the memory (ErrPc)
      for (int a = static_cast<int>(p.size()); a < kImemDepth; ++a) {
        tb_->write_instr(static_cast<uint32_t>(a), prog::op(tpu::isa::Opcode::kNop));
      }
    }
    with_bad_word += std::any_of(p.begin(), p.end(), [](uint64_t w) {
      return !tpu::isa::decode(w).has_value();
    });
    State s;
    try {
      s = tb_->run(kMaxCycles);
      while (s == State::kSync) {
        ++syncs;
        bool err = false;
        (void)tb_->host(Space::kBuffer, false, static_cast<uint32_t>(any_row(rng_)), {}, &err);
        const prog::Row row = prog::random_data(rng_, kDim, 1)[0];
        tb_->host(Space::kBuffer, true, static_cast<uint32_t>(any_row(rng_)), tb_->row_words(row),
                  &err);
        host_rows += 2;
        tb_->host(Space::kCsr, true, 0, {1}, &err);
        if (!err) return fail("a start was accepted in Sync");
        tb_->resume();
        s = tb_->run_on(kMaxCycles);
      }
    } catch (const tpu::runtime::DeviceError& e) {
      return fail(e.what());
    }
    if (tb_->log().count() != 0) return fail("the RTL and the golden model differ");
    if (s != State::kDone && s != State::kError) return fail("stopped in an unexpected state");
    ++ended[static_cast<int>(s) & 7];
    cycles += tb_->csr(1);
  }
  refill();
  std::cout << "[ random   ] " << programs << " programs at ArrayDim " << kDim << ", UbDepth "
            << kUbDepth << ", MaxInFlight " << kMaxInFlight << " (TPU_SEED=" << seed << "): "
            << cycles << " cycles run, " << ended[static_cast<int>(State::kDone)] << " Done, "
            << ended[static_cast<int>(State::kError)] << " Error (" << with_bad_word
            << " programs hold a word decode rejects), " << syncs << " syncs, " << host_rows
            << " host rows at syncs" << std::endl;
}

// The XOR network's forward pass with the predecessor's initialisation, against a float
// reference of the same (Q8.8) parameters: within one LSB per value.
TEST_F(Tpu, XorForwardMatchesFloatWithinOneLsb) {
  tpu::sim::XorOptions xo;
  xo.leak_shift = 1;  // slope 0.5
  const auto c = tpu::compiler::compile(tpu::sim::xor_model(xo, 1, 1),
                                        tpu::compiler::Target{kDim, kUbDepth, kImemDepth},
                                        tpu::compiler::DataShape{4, 0},
                                        tpu::compiler::Mode::kInference);
  const tpu::golden::Mlp init = tpu::golden::xor_predecessor_init();
  const auto params = tpu::sim::quantised(init);
  const Eigen::MatrixXd xr = tpu::golden::xor_inputs();
  auto put = [&](const std::string& name, const Eigen::MatrixXd& m) {
    const auto& t = c.tensor(name);
    const auto rows = tpu::compiler::pack(m, t, kDim);
    for (size_t r = 0; r < rows.size(); ++r) tb_->write_row(t.addr + static_cast<int>(r), rows[r]);
  };
  put("W1", params[0].w);
  put("b1", params[0].b);
  put("W2", params[1].w);
  put("b2", params[1].b);
  put("x_train", xr);
  tb_->load_program(c.words);
  EXPECT_EQ(tb_->run(), State::kDone);
  // The float reference of the quantised parameters.
  tpu::golden::Mlp qm{params[0].w, params[0].b, params[1].w, params[1].b};
  const Eigen::MatrixXd want = tpu::golden::mlp_forward(qm, xr, 0.5).h2;
  const auto& out = c.tensor("pred_train");
  for (int b = 0; b < 4; ++b) {
    EXPECT_LE(std::abs(tb_->read_row(out.addr + b)[0] / 256.0 - want(b, 0)), 1.0 / 256.0)
        << "input " << b;
  }
}

}  // namespace
