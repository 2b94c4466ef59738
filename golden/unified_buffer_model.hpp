// The unified_buffer, register for register, from docs/architecture.md ("Shared definitions for
// the units around the array", "Unified buffer").
//
// The model is cycle-exact. A clock period is modelled by two calls: outputs(in) is what the
// buffer drives during the period given the inputs presented in it (the readies may depend
// combinationally on those inputs, as the spec's ready rules do), and step(in) is the rising edge
// that closes it. A testbench compares outputs(in) with the RTL every cycle, then calls step(in).
//
// Memory: the RTL stores element (row a, lane c) in bank (a + c) mod N, once per read port. That
// banking only exists so that a row and a column of N rows can both be read in one access per
// bank; what it makes observable is "one row or one column per cycle per port, every copy
// written by every write". This model keeps one logical, row-major copy of the contents and
// gives every port that same observable behaviour.
//
// Pipeline of a read port p (one bank access = one registered read):
//   cycle t      command accepted (rd_cmd_valid & rd_cmd_ready)
//   cycle t+1+i  element i issued: the banks are read; the registered read captures the row's
//                contents as they are before this cycle's write (read-old-data)
//   cycle t+2+i  element i on rd_data with rd_valid (the registered read, lanes >= `lanes`
//                zeroed; the rotation of the banked RTL is invisible here)
// The host's read is a port-0 bank access in its accept cycle t, and its response register is
// loaded from that registered read, so the response is valid from t + 2.
//
// SPEC-AMBIGUITY choices are marked in the comments where they are made; the constants and
// rules they concern:
//  - An illegal read command is accepted and leaves the port idle: it has no rows to issue, so
//    the port is ready again in the next cycle and port 0 counts as idle for the host.
//  - Every error arises in the cycle of its cause (a command or host request accepted, a data
//    row presented) and is registered at the edge closing that cycle: err / err_code show it
//    from the next cycle.
//  - err_clear clears err_code too: err_code is kNone whenever err is low.
//  - host_req_ready does not look at host_rsp_ready: in the cycle a response is taken it is
//    still waiting, so the next request is accepted from the cycle after at the earliest.
//  - The host's read is the port-0 bank access in the cycle the request is accepted.
//  - An illegal write command consuming its data rows is "an active command" for the host
//    write's ready rule and for wr_cmd_ready.
//  - Legality is judged with exact arithmetic (start + (count-1)*stride computed wide, no
//    UbAddrWidth wrap-around).
//  - Contents at construction are 0 (the RAM has no reset; the spec gives no initial value).
//
// GeneralStride (UbStrides here): kGeneral is the full command set; kZeroOrOne is the TPU's,
// where a command is also illegal when its stride is above 1 or its count above the depth.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "golden/fixed_point.hpp"
#include "golden/ub_types.hpp"

namespace tpu::golden {

// ub_err_e. The numeric order is the priority: of several errors in one cycle the lowest code
// is kept.
enum class UbError : uint8_t {
  kNone = 0,
  kReadRange = 1,   // an illegal read command (any port)
  kWriteRange = 2,  // an illegal write command
  kWriteNoCmd = 3,  // a data row with no active write command
  kHostRange = 4,   // a host request out of range
};

// The RTL's GeneralStride parameter: which commands an instance supports.
enum class UbStrides : uint8_t {
  kGeneral,    // GeneralStride = 1: any stride, any count
  kZeroOrOne,  // GeneralStride = 0: stride 0 or 1 and count <= depth, else illegal
};

// What the buffer sees during one clock period. Vectors with one entry per lane have ArrayDim
// entries, lane c first; an empty data vector stands for all zeros.
struct UbInputs {
  // One entry per read port. Both empty: no command on any port. rd_cmd may be empty while
  // every rd_cmd_valid is low.
  std::vector<bool> rd_cmd_valid{};
  std::vector<UbReadCmd> rd_cmd{};
  bool wr_cmd_valid = false;
  UbWriteCmd wr_cmd{};
  bool wr_valid = false;
  std::vector<int32_t> wr_data{};  // empty = zeros
  bool host_req_valid = false;
  bool host_req_we = false;
  uint32_t host_req_addr = 0;
  std::vector<int32_t> host_req_wdata{};  // empty = zeros
  bool host_rsp_ready = false;
  bool err_clear = false;
};

// What the buffer drives during that period. rd_data[p] and host_rsp_rdata always have ArrayDim
// entries; the spec defines them only while the matching valid is high, and the model reports
// whatever its (hold-when-not-loaded) registers contain otherwise.
struct UbOutputs {
  std::vector<bool> rd_cmd_ready{};
  std::vector<bool> rd_valid{};
  std::vector<std::vector<int32_t>> rd_data{};
  bool wr_cmd_ready = false;
  bool host_req_ready = false;
  bool host_rsp_valid = false;
  std::vector<int32_t> host_rsp_rdata{};
  bool host_rsp_err = false;
  bool err = false;
  UbError err_code = UbError::kNone;
};

class UnifiedBufferModel {
 public:
  static constexpr int kMinLanes = 2;  // ArrayDim: "any value from 2 to 16 builds"
  static constexpr int kMaxLanes = 16;
  static constexpr int kAddrWidth = 16;  // tpu_pkg UbAddrWidth: address, count, stride fields
  static constexpr int kLanesWidth = 8;  // tpu_pkg LanesWidth: the lanes field
  static constexpr int kMaxDepth = 1 << kAddrWidth;  // every row must have an address

  // `lanes` is ArrayDim (N), `depth` the number of rows, `read_ports` NumReadPorts (port 0 is
  // shared with the host, so at least 1), `strides` GeneralStride. Throws
  // std::invalid_argument outside those ranges.
  UnifiedBufferModel(int lanes, int depth, int read_ports = 2, Format f = kQ8_8,
                     UbStrides strides = UbStrides::kGeneral);

  // rst_ni: every control register back to idle, every valid low, the error cleared. The memory
  // contents are NOT cleared (the RAM has no reset).
  void reset();

  // What the buffer drives during the current cycle given this cycle's inputs. Throws
  // std::invalid_argument for inputs the ports cannot carry.
  UbOutputs outputs(const UbInputs& in) const {
    UbOutputs out;
    outputs(in, out);
    return out;
  }
  // The same into `out`, every field overwritten (reusing its storage: callers that evaluate
  // the buffer several times a cycle keep one).
  void outputs(const UbInputs& in, UbOutputs& out) const;

  // The rising edge closing the current cycle. Same validation as outputs(); on a throw the
  // state is unchanged.
  void step(const UbInputs& in);

  // Row `address` in logical lane order (lane 0 first); std::out_of_range beyond depth.
  std::vector<int32_t> row(uint32_t address) const;

  int lanes() const { return lanes_; }
  int depth() const { return depth_; }
  int read_ports() const { return read_ports_; }
  Format format() const { return format_; }
  UbStrides strides() const { return strides_; }

  // The spec's legality rule for a read command ("A command is legal when ...").
  bool is_legal(const UbReadCmd& c) const;
  // The write port's rule: the same as a row read.
  bool is_legal(const UbWriteCmd& c) const;

  // The row a data row presented on the write port this cycle is stored to: the active legal
  // command's next row, start + k*stride after k rows taken. Nothing while no command is active
  // or the active one is illegal (it consumes its rows without writing them). For the TPU's
  // dbg_wr_addr_o.
  std::optional<uint32_t> write_target() const;

 private:
  using Row = std::vector<int32_t>;

  // A read port's command register and element counter. remaining() rows are left to issue,
  // element `next` is issued in the current cycle when remaining() > 0.
  struct ReadEngine {
    UbReadCmd cmd{};
    uint32_t count = 0;  // rows to issue: cmd.count for a legal command, 0 for an illegal one
    uint32_t next = 0;
    uint32_t remaining() const { return count - next; }
  };
  // A valid bit and a data register that loads only while the valid entering it is high.
  struct Stage {
    bool valid = false;
    Row data{};
  };
  // The write engine: the active command and how many of its data rows have been taken.
  struct WriteEngine {
    UbWriteCmd cmd{};
    uint32_t count = 0;  // rows to consume (cmd.count while active)
    uint32_t taken = 0;
    bool legal = false;
    bool active() const { return taken < count; }
    uint32_t remaining() const { return count - taken; }
  };
  enum class HostState : uint8_t { kIdle, kInFlight, kResponse };

  std::string where(const char* fn) const {
    return std::string("golden::UnifiedBufferModel::") + fn + ": ";
  }
  Row zero_row() const { return Row(static_cast<std::size_t>(lanes_), 0); }
  // Validates every input. (The messages are built only when a check fails: this runs twice
  // a cycle.)
  void check_inputs(const UbInputs& in, const char* fn) const;
  void check_row(const std::vector<int32_t>& v, const char* fn, const char* port) const;
  [[noreturn, gnu::cold, gnu::noinline]] void lane_too_wide(const std::vector<int32_t>& v,
                                                          std::size_t i, const char* fn,
                                                          const char* port) const {
    throw std::invalid_argument(where(fn) + port + "[" + std::to_string(i) +
                                "]=" + std::to_string(v[i]) + " does not fit " +
                                std::to_string(format_.data_width) + " signed bits");
  }
  // `field` of read port `port`'s command (rd_cmd[port].field), or of no port when port < 0.
  void check_field(uint32_t v, int width, const char* fn, const char* field, int port = -1) const {
    if (v >= (uint32_t{1} << width)) [[unlikely]] field_too_wide(v, width, fn, field, port);
  }
  [[noreturn, gnu::cold, gnu::noinline]] void field_too_wide(uint32_t v, int width, const char* fn,
                                                           const char* field, int port) const {
    const std::string name =
        port < 0 ? std::string(field) : "rd_cmd[" + std::to_string(port) + "]." + field;
    throw std::invalid_argument(where(fn) + name + "=" + std::to_string(v) + " does not fit " +
                                std::to_string(width) + " bits");
  }
  // An input row as a full row: an empty one stands for zeros.
  Row full_row(const std::vector<int32_t>& v) const { return v.empty() ? zero_row() : v; }
  // Element `i` of a legal read command, as stored before this cycle's write.
  Row read_element(const UbReadCmd& c, uint32_t i) const;
  const Row& mem_row(uint64_t a) const { return mem_[static_cast<std::size_t>(a)]; }

  int lanes_;
  int depth_;
  int read_ports_;
  Format format_;
  UbStrides strides_;
  std::vector<Row> mem_;  // logical row-major contents; see the banking note at the top

  std::vector<ReadEngine> rd_engine_;
  std::vector<Stage> rd_out_q_;  // rd_valid_o / rd_data_o: the element issued last cycle
  WriteEngine wr_engine_;
  HostState host_state_ = HostState::kIdle;
  Row host_read_q_{};  // the registered read of the request accepted last cycle
  bool host_err_q_ = false;
  Row host_rsp_rdata_q_{};
  bool host_rsp_err_q_ = false;
  bool err_q_ = false;
  UbError err_code_q_ = UbError::kNone;

  // step()'s working storage, kept between cycles so that a cycle allocates little (assigning a
  // vector of the same shape reuses its storage; the commit swaps them in).
  struct MemWrite {
    uint32_t address;
    Row data;
    uint32_t lanes;
  };
  std::vector<MemWrite> writes_;
  UbOutputs out_scratch_;
  std::vector<ReadEngine> rd_engine_next_;
  std::vector<Stage> rd_out_next_;
};

// ---------------------------------------------------------------------------------------------

inline UnifiedBufferModel::UnifiedBufferModel(int lanes, int depth, int read_ports, Format f,
                                              UbStrides strides)
    : lanes_(lanes), depth_(depth), read_ports_(read_ports), format_(f), strides_(strides) {
  check_format(f);
  if (lanes < kMinLanes || lanes > kMaxLanes) {
    throw std::invalid_argument(where("UnifiedBufferModel") + "lanes=" + std::to_string(lanes) +
                                " outside [" + std::to_string(kMinLanes) + ", " +
                                std::to_string(kMaxLanes) + "] (ArrayDim)");
  }
  if (depth < 1 || depth > kMaxDepth) {
    throw std::invalid_argument(where("UnifiedBufferModel") + "depth=" + std::to_string(depth) +
                                " outside [1, " + std::to_string(kMaxDepth) +
                                "] (addresses are UbAddrWidth=16 bits)");
  }
  if (read_ports < 1) {
    throw std::invalid_argument(where("UnifiedBufferModel") +
                                "read_ports=" + std::to_string(read_ports) +
                                " must be at least 1 (the host reads through port 0)");
  }
  mem_.assign(static_cast<std::size_t>(depth), zero_row());
  reset();
}

inline void UnifiedBufferModel::reset() {
  const auto p = static_cast<std::size_t>(read_ports_);
  rd_engine_.assign(p, ReadEngine{});
  // Data registers: the spec leaves them undefined while their valid is low; 0 is as good as
  // any value and keeps the model deterministic.
  rd_out_q_.assign(p, Stage{false, zero_row()});
  wr_engine_ = WriteEngine{};
  host_state_ = HostState::kIdle;
  host_read_q_ = zero_row();
  host_err_q_ = false;
  host_rsp_rdata_q_ = zero_row();
  host_rsp_err_q_ = false;
  err_q_ = false;
  err_code_q_ = UbError::kNone;
}

inline void UnifiedBufferModel::check_row(const std::vector<int32_t>& v, const char* fn,
                                          const char* port) const {
  if (v.empty()) return;
  if (v.size() != static_cast<std::size_t>(lanes_)) {
    throw std::invalid_argument(where(fn) + port + " has " + std::to_string(v.size()) +
                                " entries, expected " + std::to_string(lanes_) +
                                " (ArrayDim) or 0 (all zeros)");
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!fits(v[i], format_.data_width)) [[unlikely]] lane_too_wide(v, i, fn, port);
  }
}

inline void UnifiedBufferModel::check_inputs(const UbInputs& in, const char* fn) const {
  const auto p = static_cast<std::size_t>(read_ports_);
  if (!in.rd_cmd_valid.empty() && in.rd_cmd_valid.size() != p) {
    throw std::invalid_argument(where(fn) + "rd_cmd_valid has " +
                                std::to_string(in.rd_cmd_valid.size()) + " entries, expected " +
                                std::to_string(p) + " (one per read port) or 0 (no command)");
  }
  if (!in.rd_cmd.empty() && in.rd_cmd.size() != p) {
    throw std::invalid_argument(where(fn) + "rd_cmd has " + std::to_string(in.rd_cmd.size()) +
                                " entries, expected " + std::to_string(p) +
                                " (one per read port) or 0 (no command)");
  }
  const bool any_valid =
      std::find(in.rd_cmd_valid.begin(), in.rd_cmd_valid.end(), true) != in.rd_cmd_valid.end();
  if (any_valid && in.rd_cmd.empty()) {
    throw std::invalid_argument(where(fn) + "rd_cmd_valid is high on some port but rd_cmd is " +
                                "empty: give one rd_cmd per read port");
  }
  for (std::size_t i = 0; i < in.rd_cmd.size(); ++i) {
    const UbReadCmd& c = in.rd_cmd[i];
    const int port = static_cast<int>(i);
    check_field(c.start, kAddrWidth, fn, "start", port);
    check_field(c.count, kAddrWidth, fn, "count", port);
    check_field(c.stride, kAddrWidth, fn, "stride", port);
    check_field(c.lanes, kLanesWidth, fn, "lanes", port);
  }
  check_field(in.wr_cmd.start, kAddrWidth, fn, "wr_cmd.start");
  check_field(in.wr_cmd.count, kAddrWidth, fn, "wr_cmd.count");
  check_field(in.wr_cmd.stride, kAddrWidth, fn, "wr_cmd.stride");
  check_field(in.wr_cmd.lanes, kLanesWidth, fn, "wr_cmd.lanes");
  check_field(in.host_req_addr, kAddrWidth, fn, "host_req_addr");
  check_row(in.wr_data, fn, "wr_data");
  check_row(in.host_req_wdata, fn, "host_req_wdata");
}

inline bool UnifiedBufferModel::is_legal(const UbReadCmd& c) const {
  const auto n = static_cast<uint64_t>(lanes_);
  const auto depth = static_cast<uint64_t>(depth_);
  if (c.count < 1 || c.lanes < 1 || c.lanes > n) return false;
  // GeneralStride = 0: only the TPU's strides, and a stride-0 command repeats its row at most
  // depth times.
  if (strides_ == UbStrides::kZeroOrOne && (c.stride > 1 || c.count > depth)) return false;
  if (c.transpose) {
    return c.count <= n && c.stride == 1 && uint64_t{c.start} + n - 1 < depth;
  }
  return uint64_t{c.start} + (uint64_t{c.count} - 1) * uint64_t{c.stride} < depth;
}

inline bool UnifiedBufferModel::is_legal(const UbWriteCmd& c) const {
  return is_legal(UbReadCmd{c.start, c.count, c.stride, c.lanes, false});
}

inline UnifiedBufferModel::Row UnifiedBufferModel::read_element(const UbReadCmd& c,
                                                                uint32_t i) const {
  Row out = zero_row();
  for (uint32_t lane = 0; lane < c.lanes; ++lane) {  // lanes >= c.lanes read as 0
    if (c.transpose) {
      // Lane r of element i is (row start + r, lane i): column i of the N-row block.
      out[lane] = mem_row(uint64_t{c.start} + lane)[i];
    } else {
      out[lane] = mem_row(uint64_t{c.start} + uint64_t{i} * c.stride)[lane];
    }
  }
  return out;
}

inline void UnifiedBufferModel::outputs(const UbInputs& in, UbOutputs& out) const {
  check_inputs(in, "outputs");
  const auto p = static_cast<std::size_t>(read_ports_);
  out.rd_cmd_ready.resize(p);
  out.rd_valid.resize(p);
  out.rd_data.resize(p);
  for (std::size_t i = 0; i < p; ++i) {
    // At most one row of the current command left to issue: commands chain with no gap.
    out.rd_cmd_ready[i] = rd_engine_[i].remaining() <= 1;
    out.rd_valid[i] = rd_out_q_[i].valid;
    out.rd_data[i] = rd_out_q_[i].data;
  }
  // No command active, or the active one takes its last row this cycle.
  out.wr_cmd_ready = !wr_engine_.active() || (wr_engine_.remaining() == 1 && in.wr_valid);
  // One request in flight at a time, and the memory port it needs must be free this cycle.
  // SPEC-AMBIGUITY: "no response is waiting" is judged from the registers, not from
  // host_rsp_ready: in the cycle a response is taken, host_req_ready is still low.
  // SPEC-AMBIGUITY: a data row for an illegal (consuming, non-writing) command still counts as
  // "wr_valid_i with an active command" and blocks a host write.
  const bool write_port_busy = in.wr_valid && wr_engine_.active();
  const bool port0_issuing = rd_engine_[0].remaining() > 0;
  out.host_req_ready =
      host_state_ == HostState::kIdle && (in.host_req_we ? !write_port_busy : !port0_issuing);
  out.host_rsp_valid = host_state_ == HostState::kResponse;
  out.host_rsp_rdata = host_rsp_rdata_q_;
  out.host_rsp_err = host_rsp_err_q_;
  out.err = err_q_;
  out.err_code = err_code_q_;
}

inline void UnifiedBufferModel::step(const UbInputs& in) {
  check_inputs(in, "step");
  UbOutputs& out = out_scratch_;
  outputs(in, out);
  const auto p = static_cast<std::size_t>(read_ports_);

  // Every next value is computed from the registers and the memory as they are before the
  // edge; the memory writes of this cycle are collected and applied last, which is the
  // read-old-data rule ("A read and a write of the same row in the same cycle return the row's
  // old contents").
  bool error[5] = {false, false, false, false, false};  // indexed by UbError code
  std::vector<MemWrite>& writes = writes_;
  writes.clear();

  // --- Read ports. ---------------------------------------------------------------------------
  std::vector<ReadEngine>& rd_engine_next = rd_engine_next_;
  std::vector<Stage>& rd_out_next = rd_out_next_;
  rd_engine_next = rd_engine_;
  rd_out_next = rd_out_q_;
  for (std::size_t i = 0; i < p; ++i) {
    ReadEngine& eng = rd_engine_next[i];
    // Issue: one bank access, whose registered read is the output register; the data
    // register loads only while the valid entering it is high.
    rd_out_next[i].valid = eng.remaining() > 0;
    if (eng.remaining() > 0) {
      rd_out_next[i].data = read_element(eng.cmd, eng.next);
      ++eng.next;
    }
    // Accept: ready means at most the row just issued was left, so the old command is done.
    const bool valid = !in.rd_cmd_valid.empty() && in.rd_cmd_valid[i];
    if (valid && out.rd_cmd_ready[i]) {
      const UbReadCmd& c = in.rd_cmd[i];
      const bool legal = is_legal(c);
      // SPEC-AMBIGUITY: an illegal command "produces no output" and issues nothing, so it does
      // not occupy the port: the port is ready again in the next cycle.
      eng = ReadEngine{c, legal ? c.count : 0, 0};
      if (!legal) error[static_cast<int>(UbError::kReadRange)] = true;
    }
  }

  // --- Write port. ---------------------------------------------------------------------------
  WriteEngine wr_next = wr_engine_;
  if (in.wr_valid) {
    if (wr_engine_.active()) {
      const uint64_t address =
          uint64_t{wr_engine_.cmd.start} + uint64_t{wr_engine_.taken} * wr_engine_.cmd.stride;
      if (wr_engine_.legal) {
        writes.push_back({static_cast<uint32_t>(address), full_row(in.wr_data),
                          wr_engine_.cmd.lanes});
      }
      ++wr_next.taken;  // an illegal command consumes its rows without writing them
    } else {
      // A command accepted this cycle is not active yet: it takes rows from the next cycle.
      error[static_cast<int>(UbError::kWriteNoCmd)] = true;
    }
  }
  if (in.wr_cmd_valid && out.wr_cmd_ready) {
    const bool legal = is_legal(in.wr_cmd);
    // count = 0 is illegal and has no rows to consume, so it leaves the engine idle.
    wr_next = WriteEngine{in.wr_cmd, in.wr_cmd.count, 0, legal};
    if (!legal) error[static_cast<int>(UbError::kWriteRange)] = true;
  }

  // --- Host port. ----------------------------------------------------------------------------
  HostState host_next = host_state_;
  Row host_read_next = host_read_q_;
  bool host_err_next = host_err_q_;
  Row rsp_rdata_next = host_rsp_rdata_q_;
  bool rsp_err_next = host_rsp_err_q_;
  switch (host_state_) {
    case HostState::kIdle:
      if (in.host_req_valid && out.host_req_ready) {
        host_next = HostState::kInFlight;
        host_read_next = zero_row();  // writes and out-of-range requests answer zero data
        host_err_next = in.host_req_addr >= static_cast<uint32_t>(depth_);
        if (host_err_next) {
          // SPEC-AMBIGUITY: raised in the cycle the request is accepted, not when answered.
          error[static_cast<int>(UbError::kHostRange)] = true;
        } else if (in.host_req_we) {
          writes.push_back(
              {in.host_req_addr, full_row(in.host_req_wdata), static_cast<uint32_t>(lanes_)});
        } else {
          // SPEC-AMBIGUITY: the read is port 0's bank access in the accept cycle (port 0 is
          // idle then), so it sees the row as it is before this cycle's write.
          host_read_next = mem_row(in.host_req_addr);
        }
      }
      break;
    case HostState::kInFlight:
      host_next = HostState::kResponse;
      rsp_rdata_next = host_read_q_;
      rsp_err_next = host_err_q_;
      break;
    case HostState::kResponse:
      if (in.host_rsp_ready) host_next = HostState::kIdle;  // held until taken
      break;
  }

  // --- Error register. -----------------------------------------------------------------------
  bool err_next = err_q_;
  UbError code_next = err_code_q_;
  if (in.err_clear) {
    // An error in the clearing cycle is dropped with it.
    // SPEC-AMBIGUITY: the code is cleared with the flag (kNone whenever err is low).
    err_next = false;
    code_next = UbError::kNone;
  } else if (!err_q_) {
    for (int code = 1; code <= 4; ++code) {  // lowest code first: it wins
      if (error[code]) {
        err_next = true;
        code_next = static_cast<UbError>(code);
        break;
      }
    }
  }

  // --- Commit: the edge. ---------------------------------------------------------------------
  for (const MemWrite& w : writes) {
    Row& r = mem_[w.address];
    for (uint32_t lane = 0; lane < w.lanes; ++lane) r[lane] = w.data[lane];  // others keep
  }
  rd_engine_.swap(rd_engine_next);
  rd_out_q_.swap(rd_out_next);
  wr_engine_ = wr_next;
  host_state_ = host_next;
  host_read_q_ = std::move(host_read_next);
  host_err_q_ = host_err_next;
  host_rsp_rdata_q_ = std::move(rsp_rdata_next);
  host_rsp_err_q_ = rsp_err_next;
  err_q_ = err_next;
  err_code_q_ = code_next;
}

inline std::optional<uint32_t> UnifiedBufferModel::write_target() const {
  if (!wr_engine_.active() || !wr_engine_.legal) return std::nullopt;
  return static_cast<uint32_t>(uint64_t{wr_engine_.cmd.start} +
                               uint64_t{wr_engine_.taken} * wr_engine_.cmd.stride);
}

inline std::vector<int32_t> UnifiedBufferModel::row(uint32_t address) const {
  if (address >= static_cast<uint32_t>(depth_)) {
    throw std::out_of_range(where("row") + "address=" + std::to_string(address) + " outside [0, " +
                            std::to_string(depth_) + ")");
  }
  return mem_row(address);
}

}  // namespace tpu::golden
