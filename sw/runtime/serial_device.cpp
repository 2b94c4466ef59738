#include "sw/runtime/serial_device.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace tpu::runtime {

using serial::Op;
using serial::Reply;
using serial::ReplyStatus;

namespace {

std::string op_at(Op op, uint32_t addr, uint32_t count = 0) {
  std::string s = serial::to_string(op) + " at addr " + std::to_string(addr);
  if (count > 0) s += ", count " + std::to_string(count);
  return s;
}

}  // namespace

std::string to_string(const BoardInfo& i) {
  return "ArrayDim " + std::to_string(i.dim) + ", UbDepth " + std::to_string(i.ub_depth) +
         ", ImemDepth " + std::to_string(i.imem_depth) + ", MaxInFlight " +
         std::to_string(i.max_in_flight) + ", " + std::to_string(i.clock_mhz) +
         " MHz, protocol version " + std::to_string(i.version);
}

BoardInfo parse_board_info(const std::vector<uint8_t>& d) {
  if (d.size() != serial::kInfoBytes) {
    throw serial::ProtocolError("info: " + std::to_string(d.size()) + " data bytes, expected " +
                                std::to_string(serial::kInfoBytes));
  }
  BoardInfo i;
  i.version = d[0];
  i.dim = d[1];
  // SPEC-AMBIGUITY: depths are 2 bytes; 65536 (the largest a 16-bit address reaches) reads 0.
  i.ub_depth = d[2] | d[3] << 8;
  if (i.ub_depth == 0) i.ub_depth = 65536;
  i.imem_depth = d[4] | d[5] << 8;
  if (i.imem_depth == 0) i.imem_depth = 65536;
  i.max_in_flight = d[6];
  i.clock_mhz = d[7];
  return i;
}

std::unique_ptr<SerialDevice> SerialDevice::open_tty(const std::string& port,
                                                     const SerialOptions& o) {
  return std::make_unique<SerialDevice>(std::make_unique<TtyLink>(port, o.baud), o);
}

SerialDevice::SerialDevice(std::unique_ptr<ByteLink> link, const SerialOptions& o)
    : link_(std::move(link)), opt_(o) {
  if (opt_.baud <= 0) throw std::invalid_argument("SerialDevice: baud must be positive");
  // A partial frame left by an earlier host times out at the board and is answered: let that
  // reply come and go before the first request.
  link_->settle(opt_.quiet);
  const Reply r = exchange(serial::info_frame(), serial::kInfoBytes, "open: info (0x30)", true);
  if (r.status != ReplyStatus::kOk) {
    throw DeviceError(where("open: info (0x30)") + ": " + serial::to_string(r.status));
  }
  try {
    info_ = parse_board_info(r.data);
  } catch (const serial::ProtocolError& e) {
    throw DeviceError(where("open") + ": " + e.what());
  }
  if (info_.version != serial::kProtocolVersion) {
    throw BoardMismatchError(where("open") + ": the board speaks protocol version " +
                             std::to_string(info_.version) + ", this host version " +
                             std::to_string(serial::kProtocolVersion));
  }
  std::string diff;
  auto want = [&](const std::optional<int>& asked, int has, const char* param) {
    if (asked && *asked != has) {
      diff += std::string(diff.empty() ? "" : ", ") + param + " " + std::to_string(*asked) +
              " (the board has " + std::to_string(has) + ")";
    }
  };
  want(opt_.dim, info_.dim, "ArrayDim");
  want(opt_.ub_depth, info_.ub_depth, "UbDepth");
  want(opt_.imem_depth, info_.imem_depth, "ImemDepth");
  want(opt_.max_in_flight, info_.max_in_flight, "MaxInFlight");
  if (!diff.empty()) {
    throw BoardMismatchError(where("open") + ": asked for " + diff + "; the board is " +
                             to_string(info_));
  }
  if (info_.dim < 1) throw DeviceError(where("open") + ": the board reports ArrayDim 0");
}

std::string SerialDevice::where(const std::string& what) const {
  return "board on " + link_->name() + ": " + what;
}

Reply SerialDevice::exchange(const std::vector<uint8_t>& frame, std::size_t data_bytes,
                             const std::string& what, bool retry_lost) {
  // 10 bit times a byte (start, 8 data, stop), request and reply back to back.
  const std::size_t bytes = frame.size() + serial::reply_size(true, data_bytes);
  const Micros transfer{static_cast<int64_t>(bytes) * 10 * 1'000'000 / opt_.baud + 1};
  for (int attempt = 0;; ++attempt) {
    ++frames_;
    if (attempt > 0) ++retries_;
    link_->write(frame);
    const Micros deadline = link_->now() + transfer + opt_.reply_margin;
    serial::ReplyParser p(data_bytes);
    std::string problem;
    bool bad_op = false;
    try {
      std::vector<uint8_t> buf;
      while (!p.complete()) {
        buf.resize(p.needed());
        const Micros left = std::max(Micros{0}, deadline - link_->now());
        const std::size_t n = link_->read(buf, left);
        p.feed(std::span<const uint8_t>(buf.data(), n));
        if (n < buf.size()) break;
      }
      if (!p.complete()) {
        problem = p.bytes().empty()
                      ? "no reply within " +
                            std::to_string((transfer + opt_.reply_margin).count() / 1000) + " ms"
                      : "the reply stopped after " + std::to_string(p.bytes().size()) + " bytes (" +
                            serial::hex(p.bytes()) + ")";
      } else {
        const Reply r = p.reply();
        switch (r.status) {
          case ReplyStatus::kOk:
          case ReplyStatus::kTpuError:
            if (data_bytes > 0 && !r.has_data) {
              throw serial::ProtocolError("reply " + serial::hex(p.bytes()) + ": " +
                                          serial::to_string(r.status) + " without the data");
            }
            return r;
          case ReplyStatus::kBadOp:
            bad_op = true;
            problem = "BAD_OP (" + serial::describe(r.status) + ")";
            break;
          case ReplyStatus::kBadCrc:
          case ReplyStatus::kTimeout:
            throw DeviceError(where(what) + ": " + serial::to_string(r.status) + " (" +
                              serial::describe(r.status) + "; request " + serial::hex(frame) + ")");
        }
      }
    } catch (const serial::ProtocolError& e) {
      problem = std::string("unparsable reply: ") + e.what();
    }
    // The board ignores bytes until the line has been quiet (after BAD_OP); what is left of a
    // garbled reply must not be read as the next one.
    link_->settle(opt_.quiet);
    if (attempt == 0 && (bad_op || retry_lost)) continue;
    throw DeviceError(where(what) + ": " + problem + (attempt > 0 ? ", also when sent again" : "") +
                      (bad_op || retry_lost ? "" : "; it may or may not have taken effect"));
  }
}

std::vector<uint8_t> SerialDevice::read_items(const char* caller, Op op, uint32_t addr,
                                              uint32_t count, bool* refused) {
  const std::size_t w = static_cast<std::size_t>(serial::item_bytes(op, dim()));
  std::vector<uint8_t> out;
  out.reserve(w * count);
  *refused = false;
  for (uint32_t done = 0; done < count;) {
    const uint32_t n = std::min<uint32_t>(count - done, serial::kMaxCount);
    const uint32_t a = addr + done;
    if (a > 0xFFFF) {
      throw AddressError(where(caller) + ": address " + std::to_string(a) +
                         " does not fit the protocol's 16 bits");
    }
    const Reply r = exchange(serial::read_frame(op, static_cast<uint16_t>(a), static_cast<int>(n)),
                             w * n, std::string(caller) + ": " + op_at(op, a, n), true);
    if (r.status == ReplyStatus::kTpuError) *refused = true;
    out.insert(out.end(), r.data.begin(), r.data.end());
    done += n;
  }
  return out;
}

void SerialDevice::write_rows(uint32_t addr, const std::vector<Row>& rows) {
  check_rows("write_rows", addr, rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    check_row("write_rows", static_cast<uint32_t>(addr + i), rows[i]);
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const uint32_t a = static_cast<uint32_t>(addr + i);
    const std::string what = "write_rows: " + op_at(Op::kWriteRow, a);
    const Reply r = exchange(
        serial::write_frame(Op::kWriteRow, static_cast<uint16_t>(a), serial::row_item(rows[i])), 0,
        what, true);
    if (r.status == ReplyStatus::kTpuError) {
      throw AddressError(where(what) + ": TPU_ERROR (the TPU refused buffer row " +
                         std::to_string(a) + ")");
    }
  }
}

std::vector<Row> SerialDevice::read_rows(uint32_t addr, uint32_t count) {
  check_rows("read_rows", addr, count);
  bool refused = false;
  const std::vector<uint8_t> bytes = read_items("read_rows", Op::kReadRows, addr, count, &refused);
  if (refused) {
    throw AddressError(where("read_rows: " + op_at(Op::kReadRows, addr, count)) +
                       ": TPU_ERROR (the TPU refused at least one of the rows)");
  }
  const std::size_t w = 2 * static_cast<std::size_t>(dim());
  std::vector<Row> rows;
  rows.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    rows.push_back(serial::row_from_item(std::span<const uint8_t>(bytes).subspan(i * w, w), dim()));
  }
  return rows;
}

void SerialDevice::load_program(const std::vector<uint64_t>& words) {
  check_program(words);
  for (std::size_t i = 0; i < words.size(); ++i) {
    const uint32_t a = static_cast<uint32_t>(i);
    const std::string what = "load_program: " + op_at(Op::kWriteInstr, a);
    const Reply r = exchange(serial::write_frame(Op::kWriteInstr, static_cast<uint16_t>(a),
                                                 serial::le_bytes(words[i], serial::kInstrBytes)),
                             0, what, true);
    if (r.status == ReplyStatus::kTpuError) {
      throw DeviceError(where(what) + ": TPU_ERROR, the TPU refused it (" + to_string(status()) +
                        ")");
    }
  }
}

std::vector<uint64_t> SerialDevice::read_instructions(uint32_t addr, uint32_t count) {
  if (count > 0 && uint64_t{addr} + count > static_cast<uint64_t>(imem_depth())) {
    throw AddressError(where("read_instructions") + ": words " + std::to_string(addr) + ".." +
                       std::to_string(uint64_t{addr} + count - 1) +
                       " are outside the instruction memory (" + std::to_string(imem_depth()) +
                       " words)");
  }
  bool refused = false;
  const std::vector<uint8_t> bytes =
      read_items("read_instructions", Op::kReadInstrs, addr, count, &refused);
  if (refused) {
    throw DeviceError(where("read_instructions: " + op_at(Op::kReadInstrs, addr, count)) +
                      ": TPU_ERROR, the TPU refused it (" + to_string(status()) + ")");
  }
  std::vector<uint64_t> words(count);
  for (uint32_t i = 0; i < count; ++i) {
    words[i] = serial::le_value(std::span<const uint8_t>(bytes).subspan(8 * i, 8));
  }
  return words;
}

std::vector<uint32_t> SerialDevice::read_csrs(uint32_t addr, uint32_t count) {
  bool refused = false;
  const std::vector<uint8_t> bytes = read_items("read_csrs", Op::kReadCsrs, addr, count, &refused);
  if (refused) {
    throw DeviceError(where("read_csrs: " + op_at(Op::kReadCsrs, addr, count)) +
                      ": TPU_ERROR (no such control register)");
  }
  std::vector<uint32_t> v(count);
  for (uint32_t i = 0; i < count; ++i) {
    v[i] =
        static_cast<uint32_t>(serial::le_value(std::span<const uint8_t>(bytes).subspan(4 * i, 4)));
  }
  return v;
}

Status SerialDevice::decode_status(uint32_t w) {
  return Status{w & 0xFFFF, static_cast<State>((w >> 16) & 0x7),
                static_cast<Error>((w >> 20) & 0xF)};
}

void SerialDevice::control(uint32_t bits, const char* what) {
  const std::string op = std::string(what) + ": " + op_at(Op::kWriteCsr, 0);
  // Not sent twice when the reply is lost: the first may have started the TPU.
  const Reply r =
      exchange(serial::write_frame(Op::kWriteCsr, 0, serial::le_bytes(bits, 4)), 0, op, false);
  if (r.status == ReplyStatus::kTpuError) {
    throw DeviceError(std::string(what) + " refused (" + to_string(status()) +
                      ") by the board on " + link_->name());
  }
}

void SerialDevice::start() { control(1, "start"); }
void SerialDevice::resume() { control(2, "continue"); }

Status SerialDevice::status() { return decode_status(read_csrs(0, 1)[0]); }

uint64_t SerialDevice::cycles() { return read_csrs(1, 1)[0]; }

Status SerialDevice::run(uint64_t max_cycles) {
  std::vector<uint32_t> v = read_csrs(0, 2);
  uint64_t elapsed = 0;
  for (;;) {
    const Status s = decode_status(v[0]);
    if (s.state != State::kRunning) return s;
    if (elapsed >= max_cycles) {
      throw TimeoutError("run: the program did not stop within " + std::to_string(max_cycles) +
                         " cycles (" + to_string(s) + ", board on " + link_->name() + ")");
    }
    const uint32_t last = v[1];
    v = read_csrs(0, 2);
    elapsed += static_cast<uint32_t>(v[1] - last);  // the counter is 32 bits and wraps
  }
}

}  // namespace tpu::runtime
