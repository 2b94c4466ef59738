// The UART protocol between the host and the board (docs/fpga.md, "UART protocol"): request and
// reply frames, CRC-8/SMBUS, the items each op carries. Both directions are here: the host's
// encoder and reply parser (sw/runtime/serial_device.hpp), and the board's request decoder and
// reply encoder, which the tests' fake board and the frame tests use.
//
// Nothing here touches a link or a TPU: bytes in, bytes or values out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace tpu::runtime::serial {

inline constexpr uint8_t kRequestSync = 0xA5;
inline constexpr uint8_t kReplySync = 0x5A;
inline constexpr uint8_t kProtocolVersion = 1;
inline constexpr int kMaxCount = 256;  // items in one read
inline constexpr int kInstrBytes = 8;  // an instruction word
inline constexpr int kCsrBytes = 4;    // a control register
inline constexpr int kInfoBytes = 8;   // the info op's data

enum class Op : uint8_t {
  kWriteRow = 0x10,
  kWriteInstr = 0x11,
  kWriteCsr = 0x12,
  kReadRows = 0x20,
  kReadInstrs = 0x21,
  kReadCsrs = 0x22,
  kInfo = 0x30,
};

enum class ReplyStatus : uint8_t {
  kOk = 0x00,
  kBadCrc = 0x01,
  kBadOp = 0x02,
  kTpuError = 0x03,
  kTimeout = 0x04,
};

// A reply that does not parse: wrong sync or kind, a bad CRC, an unknown status, data where
// none may be. what() says which byte and why.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// CRC-8/SMBUS: polynomial 0x07, initial value 0, no reflection, no final XOR ("123456789" gives
// 0xF4).
uint8_t crc8(std::span<const uint8_t> bytes);

bool is_known_op(uint8_t op);
bool is_read(Op op);   // 0x20..0x22
bool is_write(Op op);  // 0x10..0x12
// The item width W of `op` on a board of ArrayDim `dim` (0 for info).
int item_bytes(Op op, int dim);

std::string to_string(Op op);          // "write buffer row (0x10)"
std::string to_string(ReplyStatus s);  // "OK", "BAD_CRC", ..., or "status 0x07"
std::string describe(ReplyStatus s);   // the meaning from the protocol's table

// --- Host side: requests out, replies in. ---------------------------------------------------

// A write of one item (W bytes) at `addr`.
std::vector<uint8_t> write_frame(Op op, uint16_t addr, std::span<const uint8_t> item);
// A read of `count` items (1..256) from `addr`.
std::vector<uint8_t> read_frame(Op op, uint16_t addr, int count);
// `A5 30 crc`.
std::vector<uint8_t> info_frame();

// Items: a buffer row is ArrayDim lanes of 16 bits, lane 0 first, each little-endian; an
// instruction word 8 bytes and a control register 4, little-endian.
std::vector<uint8_t> row_item(const std::vector<int32_t>& row);
std::vector<int32_t> row_from_item(std::span<const uint8_t> item, int dim);
std::vector<uint8_t> le_bytes(uint64_t v, int bytes);
uint64_t le_value(std::span<const uint8_t> bytes);

struct Reply {
  bool has_data = false;      // kind 0x01
  std::vector<uint8_t> data;  // kind 0x01 only
  ReplyStatus status = ReplyStatus::kOk;

  bool operator==(const Reply&) const = default;
};

// Bytes of a reply frame with `data_bytes` of data (has_data) or none.
std::size_t reply_size(bool has_data, std::size_t data_bytes);

// Reads a reply byte by byte: after the sync and kind bytes it knows the frame's length.
// `data_bytes` is what a kind-1 reply to the request carries (count * W for a read, 8 for info,
// 0 for a write: then kind 1 is an error).
class ReplyParser {
 public:
  explicit ReplyParser(std::size_t data_bytes) : data_bytes_(data_bytes) {}

  // Bytes still missing for a whole frame (at least 1 until the kind byte is known).
  std::size_t needed() const;
  bool complete() const { return needed() == 0; }
  // ProtocolError as soon as a byte is impossible (sync, kind).
  void feed(uint8_t byte);
  void feed(std::span<const uint8_t> bytes) {
    for (uint8_t b : bytes) feed(b);
  }
  // The reply once complete(): ProtocolError for a bad CRC, an unknown status, or a status
  // that cannot follow data (data comes only with OK or TPU_ERROR).
  Reply reply() const;
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::size_t data_bytes_;
  std::vector<uint8_t> bytes_;
};

// A whole reply frame; ProtocolError as ReplyParser, and for a frame of the wrong length.
Reply parse_reply(std::span<const uint8_t> frame, std::size_t data_bytes);

// A string of bytes as hex ("A5 30 0C"), for messages.
std::string hex(std::span<const uint8_t> bytes);

// --- Board side: requests in, replies out (the fake board, frame tests). ---------------------

struct Request {
  Op op = Op::kInfo;
  uint16_t addr = 0;
  int count = 0;              // reads: 1..256; writes: 1; info: 0
  std::vector<uint8_t> item;  // writes: W bytes
};

// The outcome of a frame that starts at bytes[0] == 0xA5.
struct Decoded {
  enum class Kind : uint8_t { kIncomplete, kRequest, kBadCrc, kBadOp };
  Kind kind = Kind::kIncomplete;
  Request request;       // kRequest
  std::size_t used = 0;  // bytes of the frame consumed (kBadOp: through the op byte)
};
Decoded decode_request(std::span<const uint8_t> bytes, int dim);

std::vector<uint8_t> encode_reply(const Reply& r);

}  // namespace tpu::runtime::serial
