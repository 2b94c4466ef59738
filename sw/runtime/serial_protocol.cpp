#include "sw/runtime/serial_protocol.hpp"

#include <cstdio>

namespace tpu::runtime::serial {

namespace {

std::string byte_str(uint8_t b) {
  char s[8];
  std::snprintf(s, sizeof s, "0x%02X", b);
  return s;
}

void check_addr_frame(Op op, const char* who, bool want_read) {
  if (!is_known_op(static_cast<uint8_t>(op)) || is_read(op) != want_read || op == Op::kInfo) {
    throw std::invalid_argument(std::string(who) + ": " + to_string(op) + " is not a " +
                                (want_read ? "read" : "write") + " op");
  }
}

// Bytes 1..last-1 of `frame` followed by their CRC.
void append_crc(std::vector<uint8_t>& frame) {
  frame.push_back(crc8(std::span<const uint8_t>(frame).subspan(1)));
}

}  // namespace

uint8_t crc8(std::span<const uint8_t> bytes) {
  uint8_t crc = 0;
  for (uint8_t b : bytes) {
    crc ^= b;
    for (int i = 0; i < 8; ++i)
      crc = static_cast<uint8_t>((crc & 0x80) ? (crc << 1) ^ 0x07 : crc << 1);
  }
  return crc;
}

bool is_known_op(uint8_t op) {
  return (op >= 0x10 && op <= 0x12) || (op >= 0x20 && op <= 0x22) || op == 0x30;
}
bool is_read(Op op) { return static_cast<uint8_t>(op) >= 0x20 && static_cast<uint8_t>(op) <= 0x22; }
bool is_write(Op op) {
  return static_cast<uint8_t>(op) >= 0x10 && static_cast<uint8_t>(op) <= 0x12;
}

int item_bytes(Op op, int dim) {
  switch (op) {
    case Op::kWriteRow:
    case Op::kReadRows:
      return 2 * dim;
    case Op::kWriteInstr:
    case Op::kReadInstrs:
      return kInstrBytes;
    case Op::kWriteCsr:
    case Op::kReadCsrs:
      return kCsrBytes;
    case Op::kInfo:
      return 0;
  }
  throw std::invalid_argument("item_bytes: unknown op " + byte_str(static_cast<uint8_t>(op)));
}

std::string to_string(Op op) {
  const std::string code = " (" + byte_str(static_cast<uint8_t>(op)) + ")";
  switch (op) {
    case Op::kWriteRow:
      return "write buffer row" + code;
    case Op::kWriteInstr:
      return "write instruction word" + code;
    case Op::kWriteCsr:
      return "write control register" + code;
    case Op::kReadRows:
      return "read buffer rows" + code;
    case Op::kReadInstrs:
      return "read instruction words" + code;
    case Op::kReadCsrs:
      return "read control registers" + code;
    case Op::kInfo:
      return "info" + code;
  }
  return "op" + code;
}

std::string to_string(ReplyStatus s) {
  switch (s) {
    case ReplyStatus::kOk:
      return "OK";
    case ReplyStatus::kBadCrc:
      return "BAD_CRC";
    case ReplyStatus::kBadOp:
      return "BAD_OP";
    case ReplyStatus::kTpuError:
      return "TPU_ERROR";
    case ReplyStatus::kTimeout:
      return "TIMEOUT";
  }
  return "status " + byte_str(static_cast<uint8_t>(s));
}

std::string describe(ReplyStatus s) {
  switch (s) {
    case ReplyStatus::kOk:
      return "every item accepted";
    case ReplyStatus::kBadCrc:
      return "the board received the request with a bad CRC: nothing was done";
    case ReplyStatus::kBadOp:
      return "the board received an unknown op byte: nothing was done";
    case ReplyStatus::kTpuError:
      return "the TPU refused at least one item";
    case ReplyStatus::kTimeout:
      return "the request stopped mid-frame at the board: nothing was done";
  }
  return "unknown status";
}

std::vector<uint8_t> write_frame(Op op, uint16_t addr, std::span<const uint8_t> item) {
  check_addr_frame(op, "write_frame", false);
  std::vector<uint8_t> f;
  f.reserve(5 + item.size());
  for (uint8_t b : {kRequestSync, static_cast<uint8_t>(op), static_cast<uint8_t>(addr),
                    static_cast<uint8_t>(addr >> 8)}) {
    f.push_back(b);
  }
  for (uint8_t b : item) f.push_back(b);  // (not insert(): GCC 12 warns falsely on it)
  append_crc(f);
  return f;
}

std::vector<uint8_t> read_frame(Op op, uint16_t addr, int count) {
  check_addr_frame(op, "read_frame", true);
  if (count < 1 || count > kMaxCount) {
    throw std::invalid_argument("read_frame: count " + std::to_string(count) + " outside 1.." +
                                std::to_string(kMaxCount));
  }
  std::vector<uint8_t> f = {kRequestSync, static_cast<uint8_t>(op), static_cast<uint8_t>(addr),
                            static_cast<uint8_t>(addr >> 8), static_cast<uint8_t>(count - 1)};
  append_crc(f);
  return f;
}

std::vector<uint8_t> info_frame() {
  std::vector<uint8_t> f = {kRequestSync, static_cast<uint8_t>(Op::kInfo)};
  append_crc(f);
  return f;
}

std::vector<uint8_t> row_item(const std::vector<int32_t>& row) {
  std::vector<uint8_t> b;
  b.reserve(2 * row.size());
  for (int32_t v : row) {
    b.push_back(static_cast<uint8_t>(v));
    b.push_back(static_cast<uint8_t>(static_cast<uint32_t>(v) >> 8));
  }
  return b;
}

std::vector<int32_t> row_from_item(std::span<const uint8_t> item, int dim) {
  if (item.size() != static_cast<std::size_t>(2 * dim)) {
    throw std::invalid_argument("row_from_item: " + std::to_string(item.size()) +
                                " bytes for a row of " + std::to_string(dim) + " lanes");
  }
  std::vector<int32_t> row(static_cast<std::size_t>(dim));
  for (int c = 0; c < dim; ++c) {
    row[c] = static_cast<int16_t>(static_cast<uint16_t>(item[2 * c] | item[2 * c + 1] << 8));
  }
  return row;
}

std::vector<uint8_t> le_bytes(uint64_t v, int bytes) {
  std::vector<uint8_t> b(static_cast<std::size_t>(bytes));
  for (int i = 0; i < bytes; ++i) b[i] = static_cast<uint8_t>(i < 8 ? v >> (8 * i) : 0);
  return b;
}

uint64_t le_value(std::span<const uint8_t> bytes) {
  uint64_t v = 0;
  for (std::size_t i = 0; i < bytes.size() && i < 8; ++i) v |= uint64_t{bytes[i]} << (8 * i);
  return v;
}

std::size_t reply_size(bool has_data, std::size_t data_bytes) {
  return 4 + (has_data ? data_bytes : 0);
}

std::size_t ReplyParser::needed() const {
  if (bytes_.size() < 2) return reply_size(false, 0) - bytes_.size();
  return reply_size(bytes_[1] == 0x01, data_bytes_) - bytes_.size();
}

void ReplyParser::feed(uint8_t byte) {
  if (complete()) throw ProtocolError("reply: byte " + byte_str(byte) + " after a whole frame");
  const std::size_t at = bytes_.size();
  if (at == 0 && byte != kReplySync) {
    throw ProtocolError("reply: byte 0 is " + byte_str(byte) + ", not the sync byte 0x5A");
  }
  if (at == 1 && byte != 0x00 && byte != 0x01) {
    throw ProtocolError("reply: kind byte " + byte_str(byte) + " is neither 0x00 nor 0x01");
  }
  if (at == 1 && byte == 0x01 && data_bytes_ == 0) {
    throw ProtocolError("reply: data (kind 0x01) in the reply to a request that reads nothing");
  }
  bytes_.push_back(byte);
}

Reply ReplyParser::reply() const {
  if (!complete()) {
    throw ProtocolError("reply: " + std::to_string(bytes_.size()) + " bytes (" + hex(bytes_) +
                        "), " + std::to_string(needed()) + " more expected");
  }
  const std::span<const uint8_t> all(bytes_);
  const uint8_t want = crc8(all.subspan(1, all.size() - 2));
  if (all.back() != want) {
    throw ProtocolError("reply " + hex(all) + ": CRC " + byte_str(all.back()) + ", expected " +
                        byte_str(want));
  }
  Reply r;
  r.has_data = bytes_[1] == 0x01;
  if (r.has_data) r.data.assign(bytes_.begin() + 2, bytes_.end() - 2);
  const uint8_t s = bytes_[bytes_.size() - 2];
  if (s > static_cast<uint8_t>(ReplyStatus::kTimeout)) {
    throw ProtocolError("reply " + hex(all) + ": unknown status " + byte_str(s));
  }
  r.status = static_cast<ReplyStatus>(s);
  if (r.has_data && r.status != ReplyStatus::kOk && r.status != ReplyStatus::kTpuError) {
    throw ProtocolError("reply " + hex(all) + ": status " + to_string(r.status) +
                        " after data (data comes only with OK or TPU_ERROR)");
  }
  return r;
}

Reply parse_reply(std::span<const uint8_t> frame, std::size_t data_bytes) {
  ReplyParser p(data_bytes);
  for (std::size_t i = 0; i < frame.size(); ++i) {
    if (p.complete()) {
      throw ProtocolError("reply " + hex(frame) + ": " + std::to_string(frame.size()) +
                          " bytes, the frame ends after " + std::to_string(i));
    }
    p.feed(frame[i]);
  }
  return p.reply();
}

std::string hex(std::span<const uint8_t> bytes) {
  std::string s;
  constexpr std::size_t kShown = 24;
  for (std::size_t i = 0; i < bytes.size() && i < kShown; ++i) {
    char b[4];
    std::snprintf(b, sizeof b, "%02X", bytes[i]);
    s += (i ? " " : "") + std::string(b);
  }
  if (bytes.size() > kShown) s += " ... (" + std::to_string(bytes.size()) + " bytes)";
  return s;
}

Decoded decode_request(std::span<const uint8_t> bytes, int dim) {
  Decoded d;
  if (bytes.empty() || bytes[0] != kRequestSync) {
    throw std::invalid_argument("decode_request: the frame does not start with 0xA5");
  }
  if (bytes.size() < 2) return d;
  if (!is_known_op(bytes[1])) {
    d.kind = Decoded::Kind::kBadOp;
    d.used = 2;
    return d;
  }
  const Op op = static_cast<Op>(bytes[1]);
  const std::size_t len = op == Op::kInfo ? 3
                          : is_read(op)   ? 6
                                          : 5 + static_cast<std::size_t>(item_bytes(op, dim));
  if (bytes.size() < len) return d;
  d.used = len;
  if (crc8(bytes.subspan(1, len - 2)) != bytes[len - 1]) {
    d.kind = Decoded::Kind::kBadCrc;
    return d;
  }
  d.kind = Decoded::Kind::kRequest;
  d.request.op = op;
  if (op != Op::kInfo) d.request.addr = static_cast<uint16_t>(bytes[2] | bytes[3] << 8);
  if (is_read(op)) d.request.count = bytes[4] + 1;
  if (is_write(op)) {
    d.request.count = 1;
    d.request.item.assign(bytes.begin() + 4, bytes.begin() + static_cast<std::ptrdiff_t>(len - 1));
  }
  return d;
}

std::vector<uint8_t> encode_reply(const Reply& r) {
  std::vector<uint8_t> f;
  f.reserve(4 + r.data.size());
  f.push_back(kReplySync);
  f.push_back(r.has_data ? 0x01 : 0x00);
  if (r.has_data) {
    for (uint8_t b : r.data) f.push_back(b);
  }
  f.push_back(static_cast<uint8_t>(r.status));
  append_crc(f);
  return f;
}

}  // namespace tpu::runtime::serial
