// Unit tests of the golden unified-buffer model alone. Every expected value below was worked out
// by hand from docs/architecture.md ("Unified buffer"); the working is in the comments. Cycle
// numbers are relative to the first cycle of each scenario: tick() presents one cycle's inputs,
// returns what the buffer drives during that cycle, and then closes it with the rising edge.
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "golden/ub_types.hpp"
#include "golden/unified_buffer_model.hpp"

namespace tpu::golden {
namespace {

using Row = std::vector<int32_t>;

constexpr int kN = 4;  // ArrayDim: lanes per row
constexpr int kDepth = 16;
constexpr int kPorts = 2;

// The contents host_fill() writes: row a, lane c holds 10a + c, so every value names its place.
Row pattern(uint32_t a) {
  Row r(kN);
  for (int c = 0; c < kN; ++c) r[static_cast<std::size_t>(c)] = static_cast<int32_t>(10 * a) + c;
  return r;
}

UbOutputs tick(UnifiedBufferModel& m, const UbInputs& in) {
  UbOutputs out = m.outputs(in);
  m.step(in);
  return out;
}

UbInputs idle() { return UbInputs{}; }

// A read command on `port`, no command on the others.
UbInputs read_on(int port, const UbReadCmd& c, int ports = kPorts) {
  UbInputs in;
  in.rd_cmd_valid.assign(static_cast<std::size_t>(ports), false);
  in.rd_cmd.assign(static_cast<std::size_t>(ports), UbReadCmd{});
  in.rd_cmd_valid[static_cast<std::size_t>(port)] = true;
  in.rd_cmd[static_cast<std::size_t>(port)] = c;
  return in;
}

UbInputs host_req(bool we, uint32_t addr, const Row& wdata = {}) {
  UbInputs in;
  in.host_req_valid = true;
  in.host_req_we = we;
  in.host_req_addr = addr;
  in.host_req_wdata = wdata;
  return in;
}

UbInputs data_row(const Row& d) {
  UbInputs in;
  in.wr_valid = true;
  in.wr_data = d;
  return in;
}

UbInputs write_cmd(const UbWriteCmd& c) {
  UbInputs in;
  in.wr_cmd_valid = true;
  in.wr_cmd = c;
  return in;
}

// One host write, handshake and response: accepted in cycle 0, response taken in cycle 2.
void host_write(UnifiedBufferModel& m, uint32_t addr, const Row& data) {
  ASSERT_TRUE(tick(m, host_req(true, addr, data)).host_req_ready);
  ASSERT_FALSE(tick(m, idle()).host_rsp_valid);
  UbInputs take;
  take.host_rsp_ready = true;
  const UbOutputs rsp = tick(m, take);
  ASSERT_TRUE(rsp.host_rsp_valid);
  ASSERT_FALSE(rsp.host_rsp_err);
}

void host_fill(UnifiedBufferModel& m) {
  for (uint32_t a = 0; a < static_cast<uint32_t>(m.depth()); ++a) host_write(m, a, pattern(a));
}

// ---- host port --------------------------------------------------------------------------------

TEST(UbModel, HostWriteThenRead) {
  UnifiedBufferModel m(kN, kDepth);
  const Row data = {1, -2, 300, -32768};

  // Cycle 0: idle, so ready; the write lands at the end of this cycle.
  UbOutputs o = tick(m, host_req(true, 3, data));
  EXPECT_TRUE(o.host_req_ready);
  EXPECT_FALSE(o.host_rsp_valid);
  EXPECT_EQ(m.row(3), data);
  // Cycle 1: in flight, so not ready (this request is ignored), no response yet.
  o = tick(m, host_req(false, 3));
  EXPECT_FALSE(o.host_req_ready);
  EXPECT_FALSE(o.host_rsp_valid);
  // Cycle 2 = t + 2: the write's response, zero data, no error; host_rsp_ready low holds it.
  o = tick(m, host_req(false, 3));
  EXPECT_FALSE(o.host_req_ready);
  EXPECT_TRUE(o.host_rsp_valid);
  EXPECT_EQ(o.host_rsp_rdata, Row(kN, 0));
  EXPECT_FALSE(o.host_rsp_err);
  // Cycle 3: still held; taken now. A response is still waiting this cycle: not ready.
  UbInputs in = host_req(false, 3);
  in.host_rsp_ready = true;
  o = tick(m, in);
  EXPECT_FALSE(o.host_req_ready);
  EXPECT_TRUE(o.host_rsp_valid);
  EXPECT_EQ(o.host_rsp_rdata, Row(kN, 0));
  // Cycle 4: idle again, the read is accepted.
  o = tick(m, host_req(false, 3));
  EXPECT_TRUE(o.host_req_ready);
  EXPECT_FALSE(o.host_rsp_valid);
  // Cycle 5: in flight.
  o = tick(m, idle());
  EXPECT_FALSE(o.host_req_ready);
  EXPECT_FALSE(o.host_rsp_valid);
  // Cycle 6 = 4 + 2: the row, taken at once.
  in = idle();
  in.host_rsp_ready = true;
  o = tick(m, in);
  EXPECT_TRUE(o.host_rsp_valid);
  EXPECT_EQ(o.host_rsp_rdata, data);
  EXPECT_FALSE(o.host_rsp_err);
  // Cycle 7: nothing else was accepted (the requests in cycles 1-3 were not), so no response.
  o = tick(m, idle());
  EXPECT_TRUE(o.host_req_ready);
  EXPECT_FALSE(o.host_rsp_valid);
  o = tick(m, idle());
  EXPECT_FALSE(o.host_rsp_valid);
  EXPECT_FALSE(o.err);
}

// ---- read ports -------------------------------------------------------------------------------

TEST(UbModel, RowReadWithStrideAndLanes) {
  UnifiedBufferModel m(kN, kDepth);
  host_fill(m);
  // Port 1, start 1, count 3, stride 5, lanes 2: rows 1, 6, 11 (11 < 16, legal), lanes 2..3
  // zero. Accepted in cycle 0; element i issued in 1+i, presented in 2+i.
  UbOutputs o = tick(m, read_on(1, {.start = 1, .count = 3, .stride = 5, .lanes = 2}));
  EXPECT_TRUE(o.rd_cmd_ready[1]);
  EXPECT_FALSE(o.rd_valid[1]);
  o = tick(m, idle());  // cycle 1: issuing element 0, 3 rows left: not ready
  EXPECT_FALSE(o.rd_cmd_ready[1]);
  EXPECT_FALSE(o.rd_valid[1]);
  o = tick(m, idle());  // cycle 2: 2 left
  EXPECT_FALSE(o.rd_cmd_ready[1]);
  EXPECT_TRUE(o.rd_valid[1]);
  EXPECT_EQ(o.rd_data[1], (Row{10, 11, 0, 0}));
  o = tick(m, idle());  // cycle 3: the last row is issuing: ready
  EXPECT_TRUE(o.rd_cmd_ready[1]);
  EXPECT_TRUE(o.rd_valid[1]);
  EXPECT_EQ(o.rd_data[1], (Row{60, 61, 0, 0}));
  o = tick(m, idle());  // cycle 4
  EXPECT_TRUE(o.rd_cmd_ready[1]);
  EXPECT_TRUE(o.rd_valid[1]);
  EXPECT_EQ(o.rd_data[1], (Row{110, 111, 0, 0}));
  EXPECT_FALSE(o.rd_valid[0]);
  o = tick(m, idle());  // cycle 5: done
  EXPECT_FALSE(o.rd_valid[1]);
  EXPECT_FALSE(o.rd_valid[0]);

  // A command whose stride would leave the buffer but whose count is 1 touches only `start`:
  // legal. Stride 0 repeats a row.
  EXPECT_TRUE(m.is_legal(UbReadCmd{.start = 15, .count = 1, .stride = 1000, .lanes = 4}));
  tick(m, read_on(0, {.start = 15, .count = 1, .stride = 1000, .lanes = 4}));  // cycle 0
  o = tick(m, read_on(0, {.start = 2, .count = 2, .stride = 0, .lanes = 3}));  // cycle 1
  EXPECT_TRUE(o.rd_cmd_ready[0]);                                              // 1 left
  o = tick(m, idle());                                                         // cycle 2: row 15
  EXPECT_TRUE(o.rd_valid[0]);
  EXPECT_EQ(o.rd_data[0], (Row{150, 151, 152, 153}));
  o = tick(m, idle());  // cycle 3: row 2, lanes 0..2
  EXPECT_EQ(o.rd_data[0], (Row{20, 21, 22, 0}));
  o = tick(m, idle());  // cycle 4: row 2 again
  EXPECT_TRUE(o.rd_valid[0]);
  EXPECT_EQ(o.rd_data[0], (Row{20, 21, 22, 0}));
  EXPECT_FALSE(tick(m, idle()).rd_valid[0]);
  EXPECT_FALSE(m.outputs(idle()).err);
}

TEST(UbModel, TransposedReadOfA4x4Block) {
  UnifiedBufferModel m(kN, kDepth);
  host_fill(m);
  // Block at rows 2..5. Element i, lane r = (row 2 + r, lane i) = 10(2 + r) + i.
  tick(m, read_on(0, {.start = 2, .count = 4, .stride = 1, .lanes = 4, .transpose = true}));
  EXPECT_FALSE(tick(m, idle()).rd_valid[0]);  // cycle 1: issuing column 0
  const Row expected[4] = {{20, 30, 40, 50}, {21, 31, 41, 51}, {22, 32, 42, 52}, {23, 33, 43, 53}};
  for (const Row& e : expected) {  // cycles 2..5
    const UbOutputs o = tick(m, idle());
    EXPECT_TRUE(o.rd_valid[0]);
    EXPECT_EQ(o.rd_data[0], e);
  }
  EXPECT_FALSE(tick(m, idle()).rd_valid[0]);

  // Rows 12..15 (the last block that fits), 2 columns, lanes 3: lane 3 (row 15) reads 0.
  tick(m, read_on(1, {.start = 12, .count = 2, .stride = 1, .lanes = 3, .transpose = true}));
  tick(m, idle());
  UbOutputs o = tick(m, idle());
  EXPECT_TRUE(o.rd_valid[1]);
  EXPECT_EQ(o.rd_data[1], (Row{120, 130, 140, 0}));
  o = tick(m, idle());
  EXPECT_TRUE(o.rd_valid[1]);
  EXPECT_EQ(o.rd_data[1], (Row{121, 131, 141, 0}));
  EXPECT_FALSE(tick(m, idle()).rd_valid[1]);
  EXPECT_FALSE(m.outputs(idle()).err);
}

TEST(UbModel, ChainedReadCommandsHaveNoGap) {
  UnifiedBufferModel m(kN, kDepth);
  host_fill(m);
  const UbReadCmd a{.start = 0, .count = 2, .stride = 1, .lanes = 4};
  const UbReadCmd b{.start = 7, .count = 1, .stride = 1, .lanes = 4};
  const UbReadCmd c{.start = 9, .count = 1, .stride = 0, .lanes = 4};
  const UbReadCmd d{.start = 4, .count = 1, .stride = 1, .lanes = 4};
  UbOutputs o = tick(m, read_on(0, a));  // cycle 0: A accepted
  EXPECT_TRUE(o.rd_cmd_ready[0]);
  o = tick(m, read_on(0, d));  // cycle 1: A has 2 rows left: not ready, D not accepted
  EXPECT_FALSE(o.rd_cmd_ready[0]);
  o = tick(m, read_on(0, b));  // cycle 2: A's last row issuing: B accepted
  EXPECT_TRUE(o.rd_cmd_ready[0]);
  EXPECT_TRUE(o.rd_valid[0]);
  EXPECT_EQ(o.rd_data[0], pattern(0));
  o = tick(m, read_on(0, c));  // cycle 3: B (1 row) issuing: C accepted
  EXPECT_TRUE(o.rd_cmd_ready[0]);
  EXPECT_TRUE(o.rd_valid[0]);
  EXPECT_EQ(o.rd_data[0], pattern(1));
  o = tick(m, idle());  // cycle 4 = 2 + 2: B's row, no gap
  EXPECT_TRUE(o.rd_cmd_ready[0]);
  EXPECT_TRUE(o.rd_valid[0]);
  EXPECT_EQ(o.rd_data[0], pattern(7));
  o = tick(m, idle());  // cycle 5 = 3 + 2: C's row
  EXPECT_TRUE(o.rd_valid[0]);
  EXPECT_EQ(o.rd_data[0], pattern(9));
  o = tick(m, idle());  // cycle 6: D was never accepted
  EXPECT_FALSE(o.rd_valid[0]);
  EXPECT_FALSE(tick(m, idle()).rd_valid[0]);
}

TEST(UbModel, PortsAreIndependentAndAThirdPortWorks) {
  UnifiedBufferModel m(kN, kDepth, 3);
  EXPECT_EQ(m.read_ports(), 3);
  host_fill(m);
  UbInputs in;
  in.rd_cmd_valid = {true, false, true};
  in.rd_cmd = {UbReadCmd{.start = 1, .count = 1, .stride = 1, .lanes = 4}, UbReadCmd{},
               UbReadCmd{.start = 2, .count = 1, .stride = 1, .lanes = 1}};
  tick(m, in);
  tick(m, idle());
  const UbOutputs o = tick(m, idle());
  EXPECT_EQ(o.rd_valid, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(o.rd_data[0], pattern(1));
  EXPECT_EQ(o.rd_data[2], (Row{20, 0, 0, 0}));
}

// ---- write port -------------------------------------------------------------------------------

TEST(UbModel, WriteWithStrideAndLaneMask) {
  UnifiedBufferModel m(kN, kDepth);
  host_fill(m);
  // Cycle 0: start 1, count 3, stride 4, lanes 2: rows 1, 5, 9, lanes 0..1 only.
  UbOutputs o = tick(m, write_cmd({.start = 1, .count = 3, .stride = 4, .lanes = 2}));
  EXPECT_TRUE(o.wr_cmd_ready);
  // Cycle 1: data row 0 -> row 1, at the end of this cycle. 3 rows left: not ready.
  o = tick(m, data_row({-1, -2, -3, -4}));
  EXPECT_FALSE(o.wr_cmd_ready);
  EXPECT_EQ(m.row(1), (Row{-1, -2, 12, 13}));
  EXPECT_EQ(m.row(5), pattern(5));
  // Cycle 2: no data row (a gap is allowed).
  o = tick(m, idle());
  EXPECT_FALSE(o.wr_cmd_ready);
  // Cycle 3: data row 1 -> row 5. 2 left, so this is not the last: not ready.
  o = tick(m, data_row({-5, -6, -7, -8}));
  EXPECT_FALSE(o.wr_cmd_ready);
  EXPECT_EQ(m.row(5), (Row{-5, -6, 52, 53}));
  // Cycle 4: 1 left but no data row this cycle: not ready.
  o = tick(m, idle());
  EXPECT_FALSE(o.wr_cmd_ready);
  // Cycle 5: the last data row -> row 9; ready, and the next command (row 0, all lanes) is
  // accepted in the same cycle.
  UbInputs in = data_row({-9, -10, -11, -12});
  in.wr_cmd_valid = true;
  in.wr_cmd = {.start = 0, .count = 1, .stride = 0, .lanes = 4};
  o = tick(m, in);
  EXPECT_TRUE(o.wr_cmd_ready);
  EXPECT_EQ(m.row(9), (Row{-9, -10, 92, 93}));
  // Cycle 6: the next command's only row.
  o = tick(m, data_row({7, 7, 7, 7}));
  EXPECT_TRUE(o.wr_cmd_ready);
  EXPECT_EQ(m.row(0), (Row{7, 7, 7, 7}));
  o = tick(m, idle());
  EXPECT_TRUE(o.wr_cmd_ready);
  EXPECT_FALSE(o.err);
  // Nothing else was touched.
  for (uint32_t a : {2u, 3u, 4u, 6u, 8u, 10u, 13u, 15u}) EXPECT_EQ(m.row(a), pattern(a));
}

TEST(UbModel, WriteDataStartsTheCycleAfterTheCommand) {
  UnifiedBufferModel m(kN, kDepth);
  // A data row in the command's own cycle has no active command: dropped, error 3.
  UbInputs in = write_cmd({.start = 4, .count = 1, .stride = 1, .lanes = 4});
  in.wr_valid = true;
  in.wr_data = {1, 2, 3, 4};
  tick(m, in);
  EXPECT_EQ(m.row(4), Row(kN, 0));
  UbOutputs o = tick(m, data_row({5, 6, 7, 8}));  // cycle 1: the command's row
  EXPECT_TRUE(o.err);
  EXPECT_EQ(o.err_code, UbError::kWriteNoCmd);
  EXPECT_EQ(m.row(4), (Row{5, 6, 7, 8}));
}

TEST(UbModel, IllegalWriteConsumesItsRowsWithoutWriting) {
  UnifiedBufferModel m(kN, kDepth);
  host_fill(m);
  // Cycle 0: rows 14, 15, 16: 16 >= Depth, illegal. Accepted anyway.
  UbOutputs o = tick(m, write_cmd({.start = 14, .count = 3, .stride = 1, .lanes = 4}));
  EXPECT_TRUE(o.wr_cmd_ready);
  EXPECT_FALSE(o.err);
  // Cycle 1: the error shows; clear it. The command is active with 3 rows to consume.
  UbInputs clear = idle();
  clear.err_clear = true;
  o = tick(m, clear);
  EXPECT_TRUE(o.err);
  EXPECT_EQ(o.err_code, UbError::kWriteRange);
  EXPECT_FALSE(o.wr_cmd_ready);
  // Cycles 2..4: three data rows, consumed (no "no command" error), nothing written.
  for (int k = 0; k < 3; ++k) {
    o = tick(m, data_row({-1, -1, -1, -1}));
    EXPECT_FALSE(o.err) << "row " << k;
    EXPECT_EQ(o.wr_cmd_ready, k == 2) << "row " << k;  // ready with the last row
  }
  EXPECT_EQ(m.row(14), pattern(14));
  EXPECT_EQ(m.row(15), pattern(15));
  // Cycle 5: a fourth row has no command.
  o = tick(m, data_row({-1, -1, -1, -1}));
  EXPECT_FALSE(o.err);
  o = tick(m, idle());
  EXPECT_TRUE(o.err);
  EXPECT_EQ(o.err_code, UbError::kWriteNoCmd);
  for (uint32_t a = 0; a < kDepth; ++a) EXPECT_EQ(m.row(a), pattern(a)) << "row " << a;
}

// ---- read during write ------------------------------------------------------------------------

TEST(UbModel, ReadDuringWriteReturnsOldData) {
  UnifiedBufferModel m(kN, kDepth);
  host_fill(m);
  const Row a = {-1, -1, -1, -1};
  const Row b = {-2, -2, -2, -2};
  // Cycle 0: port 1 reads rows 5, 6 (issued in cycles 1, 2); the write port writes rows 5, 6
  // with data rows in cycles 1, 2. Each row is read and written in the same cycle.
  UbInputs in = read_on(1, {.start = 5, .count = 2, .stride = 1, .lanes = 4});
  in.wr_cmd_valid = true;
  in.wr_cmd = {.start = 5, .count = 2, .stride = 1, .lanes = 4};
  tick(m, in);
  // Cycle 1: row 5 written (write port) and read by port 1 and by the host (port 0 is idle).
  in = data_row(a);
  in.host_req_valid = true;
  in.host_req_addr = 5;
  UbOutputs o = tick(m, in);
  EXPECT_TRUE(o.host_req_ready);
  // Cycle 2: row 6 written and read.
  o = tick(m, data_row(b));
  EXPECT_TRUE(o.rd_valid[1]);
  EXPECT_EQ(o.rd_data[1], pattern(5));  // old contents
  // Cycle 3: row 6 old; the host's response (accepted in cycle 1) is row 5's old contents.
  in = idle();
  in.host_rsp_ready = true;
  o = tick(m, in);
  EXPECT_TRUE(o.rd_valid[1]);
  EXPECT_EQ(o.rd_data[1], pattern(6));
  EXPECT_TRUE(o.host_rsp_valid);
  EXPECT_EQ(o.host_rsp_rdata, pattern(5));
  EXPECT_EQ(m.row(5), a);
  EXPECT_EQ(m.row(6), b);

  // A later read sees the new contents.
  tick(m, read_on(0, {.start = 5, .count = 2, .stride = 1, .lanes = 4}));
  tick(m, idle());
  EXPECT_EQ(tick(m, idle()).rd_data[0], a);
  EXPECT_EQ(tick(m, idle()).rd_data[0], b);

  // A host write and a port-0 read of row 3 in the same cycle: the read gets the old row.
  tick(m, read_on(0, {.start = 3, .count = 1, .stride = 1, .lanes = 4}));  // issues next cycle
  o = tick(m, host_req(true, 3, {9, 9, 9, 9}));  // port 0 issuing row 3; a write needs no port 0
  EXPECT_TRUE(o.host_req_ready);
  o = tick(m, idle());
  EXPECT_TRUE(o.rd_valid[0]);
  EXPECT_EQ(o.rd_data[0], pattern(3));
  EXPECT_EQ(m.row(3), (Row{9, 9, 9, 9}));
  EXPECT_FALSE(o.err);
}

// ---- host ready rules -------------------------------------------------------------------------

TEST(UbModel, HostReadyLowWhileTheWritePortIsUsed) {
  UnifiedBufferModel m(kN, kDepth);
  const auto ready = [&](bool we, bool wr_valid) {
    UbInputs in = host_req(we, 0);
    in.wr_valid = wr_valid;
    return m.outputs(in).host_req_ready;
  };
  // No active command: a data row does not use the write port (it is dropped).
  EXPECT_TRUE(ready(true, false));
  EXPECT_TRUE(ready(true, true));
  EXPECT_TRUE(ready(false, true));
  tick(m, write_cmd({.start = 0, .count = 2, .stride = 1, .lanes = 4}));  // cycle 0
  // Cycle 1: active. A data row blocks a host write, not a host read; no data row blocks none.
  EXPECT_FALSE(ready(true, true));
  EXPECT_TRUE(ready(false, true));
  EXPECT_TRUE(ready(true, false));
  // Present the data row with a host write request: not accepted.
  UbInputs in = data_row({1, 1, 1, 1});
  in.host_req_valid = true;
  in.host_req_we = true;
  in.host_req_addr = 8;
  in.host_req_wdata = {5, 5, 5, 5};
  EXPECT_FALSE(tick(m, in).host_req_ready);
  // Cycle 2: the last data row still blocks the host write.
  in.wr_data = {2, 2, 2, 2};
  EXPECT_FALSE(tick(m, in).host_req_ready);
  // Cycle 3: command done: the host write is accepted.
  EXPECT_TRUE(tick(m, host_req(true, 8, {5, 5, 5, 5})).host_req_ready);
  EXPECT_EQ(m.row(0), (Row{1, 1, 1, 1}));
  EXPECT_EQ(m.row(1), (Row{2, 2, 2, 2}));
  EXPECT_EQ(m.row(8), (Row{5, 5, 5, 5}));
  EXPECT_FALSE(m.outputs(idle()).err);

  // An illegal command's data rows are consumed through the write port too: they block.
  UnifiedBufferModel m2(kN, kDepth);
  tick(m2, write_cmd({.start = 0, .count = 1, .stride = 1, .lanes = 9}));  // lanes > N
  UbInputs probe = host_req(true, 0);
  probe.wr_valid = true;
  EXPECT_FALSE(m2.outputs(probe).host_req_ready);
}

TEST(UbModel, HostReadyLowWhilePort0Issues) {
  UnifiedBufferModel m(kN, kDepth);
  host_fill(m);
  const auto ready = [&](bool we) { return m.outputs(host_req(we, 2)).host_req_ready; };
  // Cycle 0: port 0 accepts 2 rows; it issues nothing this cycle, so a read is still ready.
  EXPECT_TRUE(ready(false));
  tick(m, read_on(0, {.start = 0, .count = 2, .stride = 1, .lanes = 4}));
  // Cycles 1, 2: port 0 issuing: a read waits, a write does not need port 0.
  EXPECT_FALSE(ready(false));
  EXPECT_TRUE(ready(true));
  EXPECT_FALSE(tick(m, host_req(false, 2)).host_req_ready);
  EXPECT_FALSE(tick(m, host_req(false, 2)).host_req_ready);
  // Cycle 3: port 0 idle: accepted; response in cycle 5.
  EXPECT_TRUE(tick(m, host_req(false, 2)).host_req_ready);
  EXPECT_FALSE(tick(m, idle()).host_rsp_valid);
  UbInputs take = idle();
  take.host_rsp_ready = true;
  UbOutputs o = tick(m, take);
  EXPECT_TRUE(o.host_rsp_valid);
  EXPECT_EQ(o.host_rsp_rdata, pattern(2));
  EXPECT_FALSE(tick(m, idle()).host_rsp_valid);  // exactly one response

  // Port 1 issuing does not block the host.
  tick(m, read_on(1, {.start = 0, .count = 3, .stride = 1, .lanes = 4}));
  EXPECT_TRUE(ready(false));
  // An illegal command on port 0 issues nothing: port 0 is idle (and ready) the next cycle.
  tick(m, read_on(0, {.start = 0, .count = 0, .stride = 1, .lanes = 4}));
  EXPECT_TRUE(ready(false));
  EXPECT_TRUE(m.outputs(idle()).rd_cmd_ready[0]);
}

// ---- errors -----------------------------------------------------------------------------------

// Presents `in` for one cycle and checks that the error shows from the next cycle with `code`,
// then clears it.
void expect_error_after(UnifiedBufferModel& m, const UbInputs& in, UbError code) {
  UbOutputs o = tick(m, in);
  EXPECT_FALSE(o.err);
  EXPECT_EQ(o.err_code, UbError::kNone);
  UbInputs clear = idle();
  clear.err_clear = true;
  clear.host_rsp_ready = true;
  o = tick(m, clear);
  EXPECT_TRUE(o.err);
  EXPECT_EQ(o.err_code, code);
  UbInputs take = idle();
  take.host_rsp_ready = true;
  o = tick(m, take);
  EXPECT_FALSE(o.err);
  EXPECT_EQ(o.err_code, UbError::kNone);
}

TEST(UbModel, IllegalReadCommandsAreAcceptedSetErrorAndProduceNothing) {
  const UbReadCmd illegal[] = {
      {.start = 0, .count = 0, .stride = 1, .lanes = 4},   // count 0
      {.start = 0, .count = 1, .stride = 1, .lanes = 0},   // lanes 0
      {.start = 0, .count = 1, .stride = 1, .lanes = 5},   // lanes > N
      {.start = 10, .count = 3, .stride = 3, .lanes = 4},  // 10 + 2*3 = 16 >= Depth
      {.start = 16, .count = 1, .stride = 0, .lanes = 4},  // start out of range
      {.start = 13, .count = 1, .stride = 1, .lanes = 4, .transpose = true},  // 13 + 3 = 16
      {.start = 0, .count = 5, .stride = 1, .lanes = 4, .transpose = true},   // count > N
      {.start = 0, .count = 2, .stride = 2, .lanes = 4, .transpose = true},   // stride != 1
      {.start = 0, .count = 2, .stride = 0, .lanes = 4, .transpose = true},   // stride != 1
      {.start = 0, .count = 2, .stride = 1, .lanes = 0, .transpose = true},   // lanes 0
  };
  UnifiedBufferModel m(kN, kDepth);
  host_fill(m);
  int port = 0;
  for (const UbReadCmd& c : illegal) {
    SCOPED_TRACE(testing::Message()
                 << "start=" << c.start << " count=" << c.count << " stride=" << c.stride
                 << " lanes=" << c.lanes << " transpose=" << c.transpose);
    EXPECT_FALSE(m.is_legal(c));
    EXPECT_TRUE(m.outputs(read_on(port, c)).rd_cmd_ready[static_cast<std::size_t>(port)]);
    expect_error_after(m, read_on(port, c), UbError::kReadRange);
    // No output at t + 2 (nor ever).
    EXPECT_EQ(m.outputs(idle()).rd_valid, (std::vector<bool>{false, false}));
    EXPECT_EQ(tick(m, idle()).rd_valid, (std::vector<bool>{false, false}));
    port = 1 - port;
  }
  // The borderline legal ones raise nothing.
  const UbReadCmd legal[] = {
      {.start = 10, .count = 3, .stride = 2, .lanes = 4},                     // 14
      {.start = 12, .count = 4, .stride = 1, .lanes = 1, .transpose = true},  // 15
      {.start = 15, .count = 1, .stride = 65535, .lanes = 4},                 // only row 15
  };
  for (const UbReadCmd& c : legal) {
    EXPECT_TRUE(m.is_legal(c));
    tick(m, read_on(0, c));
    for (int k = 0; k < 6; ++k) EXPECT_FALSE(tick(m, idle()).err);
  }
}

// ---- GeneralStride = 0 (UbStrides::kZeroOrOne) -------------------------------------------------

TEST(UbModel, ZeroOrOneStridesMakeOtherStridesAndLongCountsIllegal) {
  UnifiedBufferModel general(kN, kDepth);
  UnifiedBufferModel tpu(kN, kDepth, kPorts, kQ8_8, UbStrides::kZeroOrOne);
  EXPECT_EQ(general.strides(), UbStrides::kGeneral);
  EXPECT_EQ(tpu.strides(), UbStrides::kZeroOrOne);
  // Legal in both: every row below 16, stride 0 or 1, count at most 16.
  const UbReadCmd both[] = {
      {.start = 3, .count = 5, .stride = 1, .lanes = 4},                      // rows 3..7
      {.start = 0, .count = 16, .stride = 1, .lanes = 2},                     // rows 0..15
      {.start = 15, .count = 16, .stride = 0, .lanes = 4},                    // row 15, 16 times
      {.start = 12, .count = 4, .stride = 1, .lanes = 4, .transpose = true},  // rows 12..15
  };
  for (const UbReadCmd& c : both) {
    EXPECT_TRUE(general.is_legal(c)) << c.start << "/" << c.count << "/" << c.stride;
    EXPECT_TRUE(tpu.is_legal(c)) << c.start << "/" << c.count << "/" << c.stride;
  }
  // Legal only with general strides.
  const UbReadCmd general_only[] = {
      {.start = 0, .count = 2, .stride = 2, .lanes = 4},      // rows 0, 2
      {.start = 10, .count = 3, .stride = 2, .lanes = 4},     // rows 10, 12, 14
      {.start = 15, .count = 1, .stride = 1000, .lanes = 4},  // only row 15
      {.start = 5, .count = 17, .stride = 0, .lanes = 4},     // row 5, 17 > 16 times
      {.start = 0, .count = 65535, .stride = 0, .lanes = 1},  // row 0, 65535 times
  };
  for (const UbReadCmd& c : general_only) {
    EXPECT_TRUE(general.is_legal(c)) << c.start << "/" << c.count << "/" << c.stride;
    EXPECT_FALSE(tpu.is_legal(c)) << c.start << "/" << c.count << "/" << c.stride;
  }
  // Illegal in both: rows 1..16, and start 16.
  EXPECT_FALSE(tpu.is_legal(UbReadCmd{.start = 1, .count = 16, .stride = 1, .lanes = 4}));
  EXPECT_FALSE(tpu.is_legal(UbReadCmd{.start = 16, .count = 1, .stride = 0, .lanes = 4}));
  // The write port follows the same rule.
  EXPECT_TRUE(tpu.is_legal(UbWriteCmd{.start = 14, .count = 2, .stride = 1, .lanes = 4}));
  EXPECT_TRUE(general.is_legal(UbWriteCmd{.start = 0, .count = 3, .stride = 3, .lanes = 4}));
  EXPECT_FALSE(tpu.is_legal(UbWriteCmd{.start = 0, .count = 3, .stride = 3, .lanes = 4}));
}

TEST(UbModel, ZeroOrOneStridesStreamTheTpusCommands) {
  UnifiedBufferModel m(kN, kDepth, kPorts, kQ8_8, UbStrides::kZeroOrOne);
  host_fill(m);
  // Port 1, stride 0, count 3, lanes 2: row 9 three times, lanes 2..3 zero, in cycles 2..4.
  // Port 0, stride 1 from row 14, count 2: rows 14 and 15 in cycles 2..3.
  UbInputs in = read_on(1, {.start = 9, .count = 3, .stride = 0, .lanes = 2});
  in.rd_cmd_valid[0] = true;
  in.rd_cmd[0] = UbReadCmd{.start = 14, .count = 2, .stride = 1, .lanes = 4};
  UbOutputs o = tick(m, in);  // cycle 0
  EXPECT_EQ(o.rd_cmd_ready, (std::vector<bool>{true, true}));
  o = tick(m, idle());  // cycle 1
  EXPECT_EQ(o.rd_valid, (std::vector<bool>{false, false}));
  o = tick(m, idle());  // cycle 2
  EXPECT_EQ(o.rd_valid, (std::vector<bool>{true, true}));
  EXPECT_EQ(o.rd_data[0], (Row{140, 141, 142, 143}));
  EXPECT_EQ(o.rd_data[1], (Row{90, 91, 0, 0}));
  o = tick(m, idle());  // cycle 3
  EXPECT_EQ(o.rd_valid, (std::vector<bool>{true, true}));
  EXPECT_EQ(o.rd_data[0], (Row{150, 151, 152, 153}));
  EXPECT_EQ(o.rd_data[1], (Row{90, 91, 0, 0}));
  o = tick(m, idle());  // cycle 4
  EXPECT_EQ(o.rd_valid, (std::vector<bool>{false, true}));
  EXPECT_EQ(o.rd_data[1], (Row{90, 91, 0, 0}));
  EXPECT_FALSE(tick(m, idle()).rd_valid[1]);  // cycle 5
  EXPECT_FALSE(m.outputs(idle()).err);
}

TEST(UbModel, ZeroOrOneStridesRejectOtherStridesLikeAnyIllegalCommand) {
  UnifiedBufferModel m(kN, kDepth, kPorts, kQ8_8, UbStrides::kZeroOrOne);
  host_fill(m);
  // A stride-2 read (rows 0, 2: in range) is accepted, raises kReadRange and produces nothing;
  // the port is ready again in the next cycle.
  expect_error_after(m, read_on(0, {.start = 0, .count = 2, .stride = 2, .lanes = 4}),
                     UbError::kReadRange);
  EXPECT_EQ(m.outputs(idle()).rd_valid, (std::vector<bool>{false, false}));
  // A stride-0 read of 17 rows: the same.
  expect_error_after(m, read_on(1, {.start = 4, .count = 17, .stride = 0, .lanes = 4}),
                     UbError::kReadRange);
  EXPECT_EQ(tick(m, idle()).rd_valid, (std::vector<bool>{false, false}));
  // A stride-2 write of rows 1, 3 is accepted, raises kWriteRange and consumes its two data
  // rows (cycles 1 and 2: no kWriteNoCmd, wr_cmd_ready with the last) without writing them.
  UbOutputs o = tick(m, write_cmd({.start = 1, .count = 2, .stride = 2, .lanes = 4}));
  EXPECT_TRUE(o.wr_cmd_ready);
  UbInputs row = data_row({-5, -5, -5, -5});
  row.err_clear = true;  // cycle 1: the error shows, and is cleared
  o = tick(m, row);
  EXPECT_TRUE(o.err);
  EXPECT_EQ(o.err_code, UbError::kWriteRange);
  EXPECT_FALSE(o.wr_cmd_ready);
  o = tick(m, data_row({-5, -5, -5, -5}));  // cycle 2: the last row
  EXPECT_FALSE(o.err);
  EXPECT_TRUE(o.wr_cmd_ready);
  EXPECT_FALSE(tick(m, idle()).err);  // cycle 3: nothing raised by those rows
  for (uint32_t a = 0; a < kDepth; ++a) EXPECT_EQ(m.row(a), pattern(a)) << "row " << a;
}

TEST(UbModel, EveryErrorCode) {
  UnifiedBufferModel m(kN, kDepth);
  host_fill(m);
  // 1: an illegal read (any port).
  expect_error_after(m, read_on(1, {.start = 0, .count = 0, .stride = 1, .lanes = 4}),
                     UbError::kReadRange);
  // 2: illegal writes (same rules as a row read).
  expect_error_after(m, write_cmd({.start = 15, .count = 2, .stride = 1, .lanes = 4}),
                     UbError::kWriteRange);
  // That command still consumes its 2 data rows; the write port is busy until then.
  EXPECT_FALSE(m.outputs(idle()).wr_cmd_ready);
  EXPECT_FALSE(tick(m, data_row({})).wr_cmd_ready);
  EXPECT_TRUE(tick(m, data_row({})).wr_cmd_ready);
  EXPECT_FALSE(tick(m, idle()).err);
  expect_error_after(m, write_cmd({.start = 0, .count = 1, .stride = 1, .lanes = 5}),
                     UbError::kWriteRange);
  EXPECT_TRUE(tick(m, data_row({})).wr_cmd_ready);  // its one row, consumed
  expect_error_after(m, write_cmd({.start = 0, .count = 0, .stride = 1, .lanes = 4}),
                     UbError::kWriteRange);
  // count 0 leaves nothing to consume: the write port is free again.
  EXPECT_TRUE(m.outputs(idle()).wr_cmd_ready);
  // 3: a data row with no command: dropped.
  expect_error_after(m, data_row({-7, -7, -7, -7}), UbError::kWriteNoCmd);
  // 4: host requests out of range, write and read. Response at t + 2: err, zero data.
  UbOutputs o = tick(m, host_req(false, 1));  // first a good read, so the response register
  tick(m, idle());                            // holds non-zero data before the bad ones
  UbInputs take = idle();
  take.host_rsp_ready = true;
  EXPECT_EQ(tick(m, take).host_rsp_rdata, pattern(1));
  for (bool we : {true, false}) {
    o = tick(m, host_req(we, kDepth, {3, 3, 3, 3}));  // cycle 0: accepted
    EXPECT_TRUE(o.host_req_ready);
    o = tick(m, idle());  // cycle 1: error shows
    EXPECT_TRUE(o.err);
    EXPECT_EQ(o.err_code, UbError::kHostRange);
    EXPECT_FALSE(o.host_rsp_valid);
    UbInputs clear = take;
    clear.err_clear = true;
    o = tick(m, clear);  // cycle 2: the response
    EXPECT_TRUE(o.host_rsp_valid);
    EXPECT_TRUE(o.host_rsp_err);
    EXPECT_EQ(o.host_rsp_rdata, Row(kN, 0));
    EXPECT_FALSE(tick(m, idle()).err);
  }
  // Nothing was written (no wrap-around to row 0 either).
  for (uint32_t a = 0; a < kDepth; ++a) EXPECT_EQ(m.row(a), pattern(a)) << "row " << a;
  // A good response after a bad one has err low again.
  tick(m, host_req(false, 4));
  tick(m, idle());
  o = tick(m, take);
  EXPECT_TRUE(o.host_rsp_valid);
  EXPECT_FALSE(o.host_rsp_err);
  EXPECT_EQ(o.host_rsp_rdata, pattern(4));
}

TEST(UbModel, ErrorPriorityStickinessAndClear) {
  UnifiedBufferModel m(kN, kDepth);
  UbInputs take = idle();
  take.host_rsp_ready = true;
  // Errors 4, 3 and 2 in one cycle: a host write out of range (ready: no write command is
  // active), a data row with no command, an illegal write command. The lowest, 2, is kept.
  UbInputs three = write_cmd({.start = 0, .count = 0, .stride = 1, .lanes = 4});
  three.wr_valid = true;
  three.host_req_valid = true;
  three.host_req_we = true;
  three.host_req_addr = 100;
  three.host_rsp_ready = true;
  EXPECT_TRUE(m.outputs(three).host_req_ready);
  expect_error_after(m, three, UbError::kWriteRange);
  tick(m, take);  // let the host response go
  EXPECT_TRUE(m.outputs(idle()).host_req_ready);
  // All four in one cycle: 1 is kept.
  UbInputs four = three;
  four.rd_cmd_valid = {false, true};
  four.rd_cmd = {UbReadCmd{}, UbReadCmd{.start = 0, .count = 1, .stride = 1, .lanes = 0}};
  expect_error_after(m, four, UbError::kReadRange);
  tick(m, take);

  // Sticky, the first kept: 3 in cycle 0, then 1 in cycle 1; the code stays 3.
  UbOutputs o = tick(m, data_row({}));
  EXPECT_FALSE(o.err);
  o = tick(m, read_on(0, {.start = 0, .count = 0, .stride = 1, .lanes = 4}));
  EXPECT_TRUE(o.err);
  EXPECT_EQ(o.err_code, UbError::kWriteNoCmd);
  o = tick(m, idle());
  EXPECT_TRUE(o.err);
  EXPECT_EQ(o.err_code, UbError::kWriteNoCmd);
  // err_clear with a new error in the same cycle: both dropped.
  UbInputs clear_and_error = data_row({});
  clear_and_error.err_clear = true;
  o = tick(m, clear_and_error);
  EXPECT_TRUE(o.err);  // the clear takes effect at the end of the cycle
  o = tick(m, idle());
  EXPECT_FALSE(o.err);
  EXPECT_EQ(o.err_code, UbError::kNone);
  // err_clear with no error is harmless; a later error is recorded again.
  UbInputs clear = idle();
  clear.err_clear = true;
  EXPECT_FALSE(tick(m, clear).err);
  tick(m, read_on(1, {.start = 0, .count = 1, .stride = 1, .lanes = 17}));
  o = tick(m, idle());
  EXPECT_TRUE(o.err);
  EXPECT_EQ(o.err_code, UbError::kReadRange);
}

// ---- reset and validation ---------------------------------------------------------------------

TEST(UbModel, ResetClearsControlButNotMemory) {
  UnifiedBufferModel m(kN, kDepth);
  host_write(m, 7, {1, 2, 3, 4});
  tick(m, read_on(0, {.start = 7, .count = 3, .stride = 1, .lanes = 4}));
  tick(m, write_cmd({.start = 8, .count = 2, .stride = 1, .lanes = 4}));
  tick(m, host_req(false, 99));  // out of range: error, response pending
  m.reset();
  const UbOutputs o = m.outputs(idle());
  EXPECT_EQ(o.rd_valid, (std::vector<bool>{false, false}));
  EXPECT_EQ(o.rd_cmd_ready, (std::vector<bool>{true, true}));
  EXPECT_TRUE(o.wr_cmd_ready);
  EXPECT_TRUE(o.host_req_ready);
  EXPECT_FALSE(o.host_rsp_valid);
  EXPECT_FALSE(o.err);
  EXPECT_EQ(o.err_code, UbError::kNone);
  EXPECT_EQ(m.row(7), (Row{1, 2, 3, 4}));
  for (int k = 0; k < 4; ++k) {
    const UbOutputs after = tick(m, idle());
    EXPECT_FALSE(after.rd_valid[0]);
    EXPECT_FALSE(after.host_rsp_valid);
  }
  // The cut write command is gone: a data row now has no command.
  tick(m, data_row({}));
  EXPECT_EQ(m.outputs(idle()).err_code, UbError::kWriteNoCmd);
}

TEST(UbModel, RejectsWhatThePortsCannotCarry) {
  EXPECT_THROW(UnifiedBufferModel(1, kDepth), std::invalid_argument);
  EXPECT_THROW(UnifiedBufferModel(17, kDepth), std::invalid_argument);
  EXPECT_THROW(UnifiedBufferModel(kN, 0), std::invalid_argument);
  EXPECT_THROW(UnifiedBufferModel(kN, 65537), std::invalid_argument);
  EXPECT_THROW(UnifiedBufferModel(kN, kDepth, 0), std::invalid_argument);
  EXPECT_THROW(UnifiedBufferModel(kN, kDepth, 2, Format{33, 8}), std::invalid_argument);
  EXPECT_NO_THROW(UnifiedBufferModel(16, 65536, 1));

  UnifiedBufferModel m(kN, kDepth);
  EXPECT_EQ(m.lanes(), kN);
  EXPECT_EQ(m.depth(), kDepth);
  UbInputs in;
  in.rd_cmd_valid = {true};  // one entry, two ports
  in.rd_cmd = {UbReadCmd{}};
  EXPECT_THROW(m.outputs(in), std::invalid_argument);
  in = idle();
  in.rd_cmd_valid = {true, false};  // valid without commands
  EXPECT_THROW(m.step(in), std::invalid_argument);
  in = read_on(0, {.start = 65536, .count = 1, .stride = 1, .lanes = 4});
  EXPECT_THROW(m.step(in), std::invalid_argument);
  in = read_on(1, {.start = 0, .count = 1, .stride = 1, .lanes = 256});
  EXPECT_THROW(m.step(in), std::invalid_argument);
  in = write_cmd({.start = 0, .count = 70000, .stride = 1, .lanes = 4});
  EXPECT_THROW(m.step(in), std::invalid_argument);
  in = data_row({1, 2, 3});  // three lanes of four
  EXPECT_THROW(m.step(in), std::invalid_argument);
  in = data_row({1, 2, 3, 32768});  // does not fit 16 signed bits
  EXPECT_THROW(m.step(in), std::invalid_argument);
  in = host_req(true, 0, {-32769, 0, 0, 0});
  EXPECT_THROW(m.step(in), std::invalid_argument);
  in = host_req(false, 65536);
  EXPECT_THROW(m.step(in), std::invalid_argument);
  EXPECT_THROW(m.row(kDepth), std::out_of_range);
  // A rejected step leaves the state alone: still idle, memory zero, no error.
  const UbOutputs o = m.outputs(idle());
  EXPECT_TRUE(o.host_req_ready);
  EXPECT_FALSE(o.err);
  EXPECT_EQ(m.row(0), Row(kN, 0));
}

}  // namespace
}  // namespace tpu::golden
