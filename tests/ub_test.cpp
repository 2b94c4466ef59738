// The unified buffer at one size (TPU_ARRAY_DIM): every output compared with the golden
// model every cycle, and the data every read returns checked against what the test
// itself wrote (an Eigen matrix kept beside the buffer), so row reads, strides, lane
// masks and transposed reads are checked against plain matrix algebra too.
//
// TPU_DEPTH, TPU_NUM_READ_PORTS and TPU_GENERAL_STRIDE are the Verilated model's Depth,
// NumReadPorts and GeneralStride (tests/CMakeLists.txt passes each to both). Built with 0
// (the TPU's instance), the tests use strides 0 and 1 where they need a legal command, and
// check that every other stride, and a count above Depth, is an illegal command.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <random>
#include <string>
#include <vector>

#include "Vunified_buffer.h"
#include "golden/unified_buffer_model.hpp"
#include "sw/runtime/host_handshake.hpp"
#include "tb/seed.hpp"
#include "tb/ub_tb.hpp"
#include "test_support.hpp"

#ifndef TPU_ARRAY_DIM
#error "TPU_ARRAY_DIM must name the array size the model was Verilated with"
#endif

namespace {

using tpu::golden::UbError;
using tpu::golden::UbInputs;
using tpu::golden::UbOutputs;
using tpu::golden::UbReadCmd;
using tpu::golden::UbStrides;
using tpu::golden::UbWriteCmd;
using Tb = tpu::tb::UbTb<Vunified_buffer>;
using tpu::test::row_of;
using tpu::test::Rows;
using tpu::test::test_name;

constexpr int kDim = TPU_ARRAY_DIM;
constexpr int kDepth = TPU_DEPTH;
constexpr int kPorts = TPU_NUM_READ_PORTS;
constexpr bool kGeneralStride = TPU_GENERAL_STRIDE != 0;
constexpr UbStrides kStrides = kGeneralStride ? UbStrides::kGeneral : UbStrides::kZeroOrOne;
// The largest stride the tests use for legal commands.
constexpr int kMaxStride = kGeneralStride ? 5 : 1;

std::string trace_name(const std::string& test) {
  return "ub" + std::to_string(kDim) + (kGeneralStride ? "" : "s") + "_" + test;
}

// Drives the buffer through its host port and read/write ports, one cycle at a time,
// keeping every row the RTL presents.
class Driver {
 public:
  explicit Driver(Tb& tb) : tb_(tb) {}

  UbOutputs cycle(const UbInputs& in) { return tb_.cycle(in); }

  void idle(int n) {
    for (int i = 0; i < n; ++i) cycle(UbInputs{});
  }

  // One host request, waiting for the handshake and then the response.
  std::pair<std::vector<int32_t>, bool> host(bool we, uint32_t addr, std::vector<int32_t> data,
                                            int rsp_delay = 0) {
    UbInputs in;
    in.host_req_we = we;
    in.host_req_addr = addr;
    in.host_req_wdata = std::move(data);
    const UbOutputs o = tpu::runtime::host_handshake<std::runtime_error>(
        [this](const UbInputs& i) { return cycle(i); }, in,
        std::string("host ") + (we ? "write" : "read") + " of row " + std::to_string(addr),
        rsp_delay);
    return {o.host_rsp_rdata, o.host_rsp_err};
  }

  void fill(const Rows& m) {
    for (int r = 0; r < m.rows(); ++r) host(true, r, row_of(m, r));
  }

  // Issues `cmd` on `port` and collects the rows it returns (with their cycles).
  std::vector<std::vector<int32_t>> read(int port, const UbReadCmd& cmd,
                                         std::vector<uint64_t>* cycles = nullptr) {
    UbInputs in;
    in.rd_cmd_valid.assign(kPorts, false);
    in.rd_cmd.assign(kPorts, UbReadCmd{});
    in.rd_cmd_valid[port] = true;
    in.rd_cmd[port] = cmd;
    std::vector<std::vector<int32_t>> rows;
    UbOutputs o = cycle(in);
    EXPECT_TRUE(o.rd_cmd_ready[port]);
    for (int i = 0; i < static_cast<int>(cmd.count) + 3; ++i) {
      o = cycle(UbInputs{});
      if (o.rd_valid[port]) {
        rows.push_back(o.rd_data[port]);
        if (cycles) cycles->push_back(tb_.cycle() - 1);
      }
    }
    return rows;
  }

 private:
  Tb& tb_;
};

Rows random_rows(std::mt19937_64& rng, int rows) {
  return tpu::test::random_rows(rng, rows, kDim, -32768, 32767);
}

class Ub : public tpu::tb::RtlFixture<Tb> {
 protected:
  std::unique_ptr<Tb> make_bench(const std::string& test) override {
    return std::make_unique<Tb>(kDim, kDepth, kPorts, trace_name(test), kStrides);
  }
  void SetUp() override {
    RtlFixture::SetUp();
    drv_ = std::make_unique<Driver>(*tb_);
  }

  std::unique_ptr<Driver> drv_;
};

TEST_F(Ub, HostWritesThenReadsBackEveryRow) {
  const Rows m = random_rows(rng_, kDepth);
  drv_->fill(m);
  for (int r = 0; r < kDepth; ++r) {
    const auto [data, err] = drv_->host(false, r, {}, r % 3);  // some responses wait
    EXPECT_FALSE(err);
    EXPECT_EQ(data, row_of(m, r)) << "row " << r;
  }
}

TEST_F(Ub, RowReadsFollowStartStrideAndLanes) {
  const Rows m = random_rows(rng_, kDepth);
  drv_->fill(m);
  std::uniform_int_distribution<int> stride_d(0, kMaxStride), lanes_d(1, kDim);
  std::uniform_int_distribution<int> port_d(0, kPorts - 1);
  for (int trial = 0; trial < 20; ++trial) {
    const int stride = stride_d(rng_);
    const int count = std::uniform_int_distribution<int>(1, 9)(rng_);
    const int last_start = kDepth - 1 - (count - 1) * stride;
    const int start = std::uniform_int_distribution<int>(0, last_start)(rng_);
    const int lanes = lanes_d(rng_);
    const UbReadCmd cmd{static_cast<uint32_t>(start), static_cast<uint32_t>(count),
                        static_cast<uint32_t>(stride), static_cast<uint32_t>(lanes), false};
    const auto rows = drv_->read(port_d(rng_), cmd);
    ASSERT_EQ(rows.size(), static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) {
      for (int c = 0; c < kDim; ++c) {
        EXPECT_EQ(rows[i][c], c < lanes ? m(start + i * stride, c) : 0)
            << "element " << i << " lane " << c;
      }
    }
  }
}

TEST_F(Ub, TransposedReadIsTheBlockTranspose) {
  const Rows m = random_rows(rng_, kDepth);
  drv_->fill(m);
  for (int start : {0, 1, kDepth - kDim, 7}) {
    const int lanes = std::uniform_int_distribution<int>(1, kDim)(rng_);
    const UbReadCmd cmd{static_cast<uint32_t>(start), kDim, 1, static_cast<uint32_t>(lanes), true};
    const auto cols = drv_->read(start % kPorts, cmd);
    ASSERT_EQ(cols.size(), static_cast<size_t>(kDim));
    const Rows block_t = m.block(start, 0, kDim, kDim).transpose();
    for (int i = 0; i < kDim; ++i) {
      for (int r = 0; r < kDim; ++r) {
        EXPECT_EQ(cols[i][r], r < lanes ? block_t(i, r) : 0) << "start " << start;
      }
    }
  }
}

TEST_F(Ub, ChainedReadCommandsLeaveNoGap) {
  const Rows m = random_rows(rng_, kDepth);
  drv_->fill(m);
  UbInputs in;
  in.rd_cmd_valid = {true, false};
  in.rd_cmd = {UbReadCmd{3, 4, 1, kDim, false}, UbReadCmd{}};
  const uint64_t t0 = tb_->cycle();
  std::vector<uint64_t> valid_cycles;
  int accepted = 0;
  for (int i = 0; i < 16; ++i) {
    const UbOutputs o = drv_->cycle(accepted < 2 ? in : UbInputs{});
    if (accepted < 2 && o.rd_cmd_ready[0]) {
      ++accepted;
      in.rd_cmd[0] = UbReadCmd{20, 5, kGeneralStride ? 2u : 1u, kDim, false};  // the second
    }
    if (o.rd_valid[0]) valid_cycles.push_back(tb_->cycle() - 1 - t0);
  }
  // First command accepted in cycle 0 (rows in cycles 2..5); the second becomes ready
  // with one row left (cycle 3) and its rows follow in cycles 6..10.
  ASSERT_EQ(valid_cycles.size(), 9u);
  for (size_t i = 0; i < valid_cycles.size(); ++i) EXPECT_EQ(valid_cycles[i], 2 + i);
}

TEST_F(Ub, WriteStreamHonoursStrideAndLanes) {
  const Rows before = random_rows(rng_, kDepth);
  drv_->fill(before);
  const Rows data = random_rows(rng_, 5);
  const int lanes = std::max(1, kDim - 1);
  const int stride = kGeneralStride ? 3 : 1;
  UbInputs cmd;
  cmd.wr_cmd_valid = true;
  cmd.wr_cmd = UbWriteCmd{10, 5, static_cast<uint32_t>(stride), static_cast<uint32_t>(lanes)};
  EXPECT_TRUE(drv_->cycle(cmd).wr_cmd_ready);
  for (int k = 0; k < 5; ++k) {
    UbInputs in;
    in.wr_valid = true;
    in.wr_data = row_of(data, k);
    drv_->cycle(in);
    drv_->idle(k % 2);  // gaps between rows are allowed
  }
  Rows expect = before;
  for (int k = 0; k < 5; ++k) {
    for (int c = 0; c < lanes; ++c) expect(10 + stride * k, c) = data(k, c);
  }
  for (int r = 0; r < kDepth; ++r) {
    EXPECT_EQ(drv_->host(false, r, {}).first, row_of(expect, r)) << "row " << r;
  }
}

TEST_F(Ub, IllegalCommandsSetTheErrorAndTouchNothing) {
  const Rows m = random_rows(rng_, kDepth);
  drv_->fill(m);
  struct Case {
    const char* what;
    UbInputs in;
    UbError code;
  };
  auto rd = [](UbReadCmd c) {
    UbInputs in;
    in.rd_cmd_valid = {false, true};
    in.rd_cmd = {UbReadCmd{}, c};
    return in;
  };
  auto wr = [](UbWriteCmd c) {
    UbInputs in;
    in.wr_cmd_valid = true;
    in.wr_cmd = c;
    return in;
  };
  UbInputs stray;
  stray.wr_valid = true;
  stray.wr_data.assign(kDim, 5);
  std::vector<Case> cases = {
      {"read past the end", rd({kDepth - 2, 3, 1, kDim, false}), UbError::kReadRange},
      {"read stride past the end", rd({0, 3, kDepth / 2, kDim, false}), UbError::kReadRange},
      {"read zero lanes", rd({0, 1, 1, 0, false}), UbError::kReadRange},
      {"read count zero", rd({0, 0, 1, kDim, false}), UbError::kReadRange},
      {"transpose stride 2", rd({0, 1, 2, kDim, true}), UbError::kReadRange},
      {"transpose past the end", rd({kDepth - kDim + 1, 1, 1, kDim, true}), UbError::kReadRange},
      {"transpose count > N", rd({0, kDim + 1, 1, kDim, true}), UbError::kReadRange},
      {"write past the end", wr({kDepth - 1, 2, 1, kDim}), UbError::kWriteRange},
      {"write too many lanes", wr({0, 1, 1, kDim + 1}), UbError::kWriteRange},
      {"data with no write command", stray, UbError::kWriteNoCmd},
  };
  if (!kGeneralStride) {  // in range, but not the TPU's strides or counts
    const std::vector<Case> tpu_only = {
        {"read stride 2", rd({0, 2, 2, kDim, false}), UbError::kReadRange},
        {"read stride 2 count 1", rd({0, 1, 2, kDim, false}), UbError::kReadRange},
        {"read stride 0 count Depth+1", rd({3, kDepth + 1, 0, kDim, false}), UbError::kReadRange},
        {"write stride 3", wr({1, 2, 3, kDim}), UbError::kWriteRange},
    };
    cases.insert(cases.end(), tpu_only.begin(), tpu_only.end());
  }
  for (const Case& c : cases) {
    UbInputs clear;
    clear.err_clear = true;
    drv_->cycle(clear);
    EXPECT_FALSE(drv_->cycle(c.in).err) << c.what;
    // An illegal write consumes its rows without writing them.
    for (int k = 0; k < 2; ++k) {
      UbInputs row;
      row.wr_valid = c.code == UbError::kWriteRange;
      row.wr_data.assign(kDim, -7);
      const UbOutputs o = drv_->cycle(row);
      EXPECT_TRUE(o.err) << c.what;
      EXPECT_EQ(o.err_code, c.code) << c.what;
      EXPECT_FALSE(o.rd_valid[1]) << c.what << ": an illegal read produced a row";
    }
  }
  // Host access out of range: answered with the error bit and zero data.
  UbInputs clear;
  clear.err_clear = true;
  drv_->cycle(clear);
  const auto [data, err] = drv_->host(true, kDepth, std::vector<int32_t>(kDim, 9));
  EXPECT_TRUE(err);
  EXPECT_EQ(data, std::vector<int32_t>(kDim, 0));
  EXPECT_EQ(drv_->cycle(UbInputs{}).err_code, UbError::kHostRange);
  // Nothing was written anywhere.
  for (int r = 0; r < kDepth; ++r) EXPECT_EQ(drv_->host(false, r, {}).first, row_of(m, r));
}

TEST_F(Ub, LowestErrorCodeWinsAndTheFirstIsKept) {
  UbInputs both;
  both.rd_cmd_valid = {true, false};
  both.rd_cmd = {UbReadCmd{kDepth, 1, 1, kDim, false}, UbReadCmd{}};
  both.wr_valid = true;  // no write command: code 3 in the same cycle as code 1
  drv_->cycle(both);
  EXPECT_EQ(drv_->cycle(UbInputs{}).err_code, UbError::kReadRange);
  UbInputs later;
  later.wr_cmd_valid = true;
  later.wr_cmd = UbWriteCmd{kDepth, 1, 1, kDim};
  drv_->cycle(later);
  EXPECT_EQ(drv_->cycle(UbInputs{}).err_code, UbError::kReadRange);  // the first is kept
}

TEST_F(Ub, HostPortBackPressure) {
  const Rows m = random_rows(rng_, 8);
  drv_->fill(m);
  // A response not taken holds, and no new request is accepted meanwhile.
  UbInputs req;
  req.host_req_valid = true;
  req.host_req_addr = 5;
  EXPECT_TRUE(drv_->cycle(req).host_req_ready);
  for (int i = 0; i < 6; ++i) {
    const UbOutputs o = drv_->cycle(req);  // a second request waits
    EXPECT_FALSE(o.host_req_ready) << "cycle " << i;
    EXPECT_EQ(o.host_rsp_valid, i >= 1) << "cycle " << i;
    if (o.host_rsp_valid) EXPECT_EQ(o.host_rsp_rdata, row_of(m, 5));
  }
  // While port 0 streams, host reads wait; host writes wait for write-port rows.
  UbInputs rd;
  rd.rd_cmd_valid = {true, false};
  rd.rd_cmd = {UbReadCmd{0, 6, 1, kDim, false}, UbReadCmd{}};
  rd.host_rsp_ready = true;
  drv_->cycle(rd);
  UbInputs host_rd;
  host_rd.host_req_valid = true;
  host_rd.host_req_addr = 1;
  for (int i = 0; i < 6; ++i) EXPECT_FALSE(drv_->cycle(host_rd).host_req_ready) << i;
  EXPECT_TRUE(drv_->cycle(host_rd).host_req_ready);
}

// The old-row rule where it can bite: a data row, a host write and a host read in the same
// cycle as a read of the same row by another port (the banks' write lands half a cycle later).
TEST_F(Ub, ReadDuringWriteReturnsTheOldRow) {
  const Rows m = random_rows(rng_, kDepth);
  drv_->fill(m);
  const Rows fresh = random_rows(rng_, 2);
  const int lanes = std::max(1, kDim - 1);  // the last lane keeps its contents
  // Cycle 0: port 1 reads row 5 three times (stride 0: issued in cycles 1, 2, 3, presented in
  // 2, 3, 4); a write command for row 5.
  UbInputs in;
  in.rd_cmd_valid = {false, true};
  in.rd_cmd = {UbReadCmd{}, UbReadCmd{5, 3, 0, kDim, false}};
  in.wr_cmd_valid = true;
  in.wr_cmd = UbWriteCmd{5, 1, 1, static_cast<uint32_t>(lanes)};
  std::vector<UbOutputs> out;
  out.push_back(drv_->cycle(in));
  out.push_back(drv_->cycle(UbInputs{}));  // cycle 1: row 5 issued
  UbInputs row;                            // cycle 2: row 5 issued and written
  row.wr_valid = true;
  row.wr_data = row_of(fresh, 0);
  out.push_back(drv_->cycle(row));
  out.push_back(drv_->cycle(UbInputs{}));  // cycle 3: row 5 issued
  out.push_back(drv_->cycle(UbInputs{}));  // cycle 4
  std::vector<int32_t> updated = row_of(m, 5);
  for (int c = 0; c < lanes; ++c) updated[c] = fresh(0, c);
  ASSERT_TRUE(out[2].rd_valid[1] && out[3].rd_valid[1] && out[4].rd_valid[1]);
  EXPECT_EQ(out[2].rd_data[1], row_of(m, 5));
  EXPECT_EQ(out[3].rd_data[1], row_of(m, 5)) << "issued in the cycle of the write";
  EXPECT_EQ(out[4].rd_data[1], updated);

  // A host write of row 9 in the cycle port 1 issues row 9 (a transposed read of rows 8..8+N-1
  // issues rows 8.. in every cycle), then the read's next element sees it.
  UbInputs tr;
  tr.rd_cmd_valid = {false, true};
  tr.rd_cmd = {UbReadCmd{}, UbReadCmd{8, static_cast<uint32_t>(kDim), 1, kDim, true}};
  const UbOutputs accepted = drv_->cycle(tr);  // cycle 0
  ASSERT_TRUE(accepted.rd_cmd_ready[1]);
  UbInputs hw;  // cycle 1: column 0 issued; the host write lands at the end of the cycle
  hw.host_req_valid = true;
  hw.host_req_we = true;
  hw.host_req_addr = 9;
  hw.host_req_wdata = row_of(fresh, 1);
  ASSERT_TRUE(drv_->cycle(hw).host_req_ready);
  std::vector<std::vector<int32_t>> cols;
  UbInputs take;
  take.host_rsp_ready = true;
  for (int i = 0; i < kDim + 2; ++i) {
    const UbOutputs o = drv_->cycle(take);
    if (o.rd_valid[1]) cols.push_back(o.rd_data[1]);
  }
  ASSERT_EQ(cols.size(), static_cast<size_t>(kDim));
  for (int i = 0; i < kDim; ++i) {
    const int32_t want = i == 0 ? m(9, i) : fresh(1, i);  // lane 1 of column i is (row 9, lane i)
    EXPECT_EQ(cols[i][1], want) << "column " << i;
    EXPECT_EQ(cols[i][0], m(8, i)) << "column " << i;
  }

  // A host read of row 5 in the cycle a data row rewrites it: the old row (the write above).
  UbInputs cmd;
  cmd.wr_cmd_valid = true;
  cmd.wr_cmd = UbWriteCmd{5, 1, 1, kDim};
  drv_->cycle(cmd);
  UbInputs both;
  both.wr_valid = true;
  both.wr_data = row_of(fresh, 1);
  both.host_req_valid = true;
  both.host_req_addr = 5;
  ASSERT_TRUE(drv_->cycle(both).host_req_ready);
  UbOutputs o = drv_->cycle(UbInputs{});
  o = drv_->cycle(take);
  ASSERT_TRUE(o.host_rsp_valid);
  EXPECT_EQ(o.host_rsp_rdata, updated);
  EXPECT_EQ(drv_->host(false, 5, {}).first, row_of(fresh, 1));
}

// With GeneralStride = 0 a stride-0 read may repeat its row Depth times but no more; with
// general strides it may repeat it up to 2^16 - 1 times.
TEST_F(Ub, StrideZeroCountsUpToDepth) {
  const Rows m = random_rows(rng_, kDepth);
  drv_->fill(m);
  for (uint32_t count : {static_cast<uint32_t>(kDepth), static_cast<uint32_t>(kDepth + 1)}) {
    const auto rows = drv_->read(1, UbReadCmd{7, count, 0, kDim, false});
    const bool legal = kGeneralStride || count <= static_cast<uint32_t>(kDepth);
    ASSERT_EQ(rows.size(), legal ? count : 0u) << "count " << count;
    for (const auto& r : rows) EXPECT_EQ(r, row_of(m, 7));
    EXPECT_EQ(drv_->cycle(UbInputs{}).err, !legal) << "count " << count;
  }
}

TEST_F(Ub, RandomTrafficMatchesGoldenEveryCycle) {
  std::bernoulli_distribution often(0.3), rarely(0.05), mostly(0.8);
  std::uniform_int_distribution<int> small(0, 6), lanes_d(1, kDim), stride_d(0, kMaxStride);
  std::uniform_int_distribution<int> addr_d(0, kDepth + 2);  // a few past the end
  std::uniform_int_distribution<int32_t> v(-32768, 32767);
  // With GeneralStride = 0 mostly the TPU's strides, sometimes an illegal one.
  auto stride = [&] { return kGeneralStride || !mostly(rng_) ? small(rng_) : stride_d(rng_); };
  auto row = [&] {
    std::vector<int32_t> r(kDim);
    for (auto& x : r) x = v(rng_);
    return r;
  };
  for (int i = 0; i < 4000; ++i) {
    UbInputs in;
    in.rd_cmd_valid.assign(kPorts, false);
    in.rd_cmd.assign(kPorts, UbReadCmd{});
    for (int p = 0; p < kPorts; ++p) {
      in.rd_cmd_valid[p] = often(rng_);
      const bool transpose = rarely(rng_) || often(rng_);
      in.rd_cmd[p] = UbReadCmd{static_cast<uint32_t>(addr_d(rng_)),
                               static_cast<uint32_t>(transpose ? 1 + small(rng_) % kDim
                                                               : small(rng_) + (mostly(rng_))),
                               static_cast<uint32_t>(transpose && mostly(rng_) ? 1 : stride()),
                               static_cast<uint32_t>(lanes_d(rng_)), transpose};
    }
    in.wr_cmd_valid = often(rng_);
    in.wr_cmd = UbWriteCmd{static_cast<uint32_t>(addr_d(rng_)),
                           static_cast<uint32_t>(small(rng_) + 1),
                           static_cast<uint32_t>(stride()), static_cast<uint32_t>(lanes_d(rng_))};
    in.wr_valid = mostly(rng_) && often(rng_);
    in.wr_data = row();
    in.host_req_valid = often(rng_);
    in.host_req_we = often(rng_);
    in.host_req_addr = static_cast<uint32_t>(addr_d(rng_));
    in.host_req_wdata = row();
    in.host_rsp_ready = mostly(rng_);
    in.err_clear = rarely(rng_);
    drv_->cycle(in);
    if (tb_->log().count() > 0) break;  // the first mismatch says enough
  }
  // The memories agree at the end too. First take any response the random traffic left
  // waiting: the host port accepts nothing while one waits.
  UbInputs drain;
  drain.host_rsp_ready = true;
  for (int i = 0; i < 4; ++i) drv_->cycle(drain);
  for (int r = 0; r < kDepth; ++r) {
    const auto [data, err] = drv_->host(false, r, {});
    EXPECT_EQ(data, tb_->golden().row(r)) << "row " << r;
  }
}

}  // namespace
