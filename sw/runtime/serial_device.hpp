// The "board" device: the TPU on an FPGA behind its UART bridge (docs/fpga.md, "UART protocol"),
// driven over a byte link (sw/runtime/serial_link.hpp): a serial port, or the board-level
// test's simulated tty (tb/board_tb.hpp).
//
// Every Device operation becomes request frames: one frame per buffer row or instruction word
// written, reads batched up to 256 items a frame, start and continue as writes of CSR 0, the
// status and cycle counter as reads of CSR 0 and 1; run() polls both (one frame) until the TPU
// is no longer Running. On open it asks the board's parameters (the info op) and refuses a
// board that differs from what the caller asked for.
//
// Errors, each naming the port, the operation, the op and the address:
//   - TPU_ERROR: the TPU refused an item. A buffer access (the device checks addresses first,
//     so only a board smaller than it claims refuses one) is an AddressError; an instruction
//     word, start or continue is a DeviceError with the status the board reports then.
//   - BAD_CRC, TIMEOUT: the request reached the board damaged or cut short: DeviceError.
//   - BAD_OP (the op byte was damaged on the way), a reply that does not parse, or none: the
//     device lets the line go quiet for `quiet` (the board's resynchronisation, at least its
//     TimeoutClks) and sends the request once more, then gives up with a DeviceError. A start
//     or continue whose reply was lost is not sent again (it may have taken effect).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sw/runtime/device.hpp"
#include "sw/runtime/serial_link.hpp"
#include "sw/runtime/serial_protocol.hpp"

namespace tpu::runtime {

// The board's parameters, from the info op.
struct BoardInfo {
  int version = 0;
  int dim = 0;            // ArrayDim
  int ub_depth = 0;       // UbDepth
  int imem_depth = 0;     // ImemDepth
  int max_in_flight = 0;  // MaxInFlight
  int clock_mhz = 0;

  bool operator==(const BoardInfo&) const = default;
};
std::string to_string(const BoardInfo& i);  // "ArrayDim 2, UbDepth 512, ..."
// The info op's 8 data bytes. ProtocolError when there are not 8.
BoardInfo parse_board_info(const std::vector<uint8_t>& data);

struct SerialOptions {
  int baud = 115200;  // the line's rate: a reply's deadline is its transfer time + reply_margin
  Micros reply_margin{200'000};
  // The quiet period after BAD_OP or an unparsable reply, and on open: at least the board's
  // TimeoutClks (docs/fpga.md, "Resynchronisation"; the board top's default is 10 ms).
  Micros quiet{30'000};
  // What the caller needs; unset: whatever the board has.
  std::optional<int> dim, ub_depth, imem_depth, max_in_flight;
};

// The board is not the one the caller asked for (or speaks another protocol version).
class BoardMismatchError : public DeviceError {
 public:
  using DeviceError::DeviceError;
};

class SerialDevice : public Device {
 public:
  // Lets the line go quiet, then asks the board's parameters. BoardMismatchError when they
  // differ from `o`'s, DeviceError when the board does not answer.
  SerialDevice(std::unique_ptr<ByteLink> link, const SerialOptions& o);
  // A board on serial port `port` at o.baud (TtyLink): LinkOpenError naming the port.
  static std::unique_ptr<SerialDevice> open_tty(const std::string& port, const SerialOptions& o);

  std::string name() const override { return "board"; }
  int dim() const override { return info_.dim; }
  int ub_depth() const override { return info_.ub_depth; }
  int imem_depth() const override { return info_.imem_depth; }
  void write_rows(uint32_t addr, const std::vector<Row>& rows) override;
  std::vector<Row> read_rows(uint32_t addr, uint32_t count) override;
  void load_program(const std::vector<uint64_t>& words) override;
  void start() override;
  void resume() override;
  // Polls CSR 0 and 1 until the TPU is not Running. TimeoutError once the cycle counter has
  // advanced `max_cycles` since the call with the TPU still Running. After an Error stop the
  // buffer is final: the poll's reply alone outlasts the drain of what was issued before the
  // fault (2 * ArrayDim + 6 cycles; a reply's last two bytes take 20 bit times).
  Status run(uint64_t max_cycles) override;
  Status status() override;
  uint64_t cycles() override;

  // Beyond the Device interface: instruction words and control registers read back.
  std::vector<uint64_t> read_instructions(uint32_t addr, uint32_t count);
  std::vector<uint32_t> read_csrs(uint32_t addr, uint32_t count);

  const BoardInfo& info() const { return info_; }
  ByteLink& link() { return *link_; }
  uint64_t frames() const { return frames_; }    // request frames sent
  uint64_t retries() const { return retries_; }  // of them, second attempts

 private:
  // One request and its reply (OK or TPU_ERROR), with the retry above. `what` names the
  // operation for messages; `retry_lost` allows a second attempt when the reply was lost.
  serial::Reply exchange(const std::vector<uint8_t>& frame, std::size_t data_bytes,
                         const std::string& what, bool retry_lost);
  // Reads `count` items of `op` from `addr` in frames of at most 256; `*refused` tells whether
  // any frame answered TPU_ERROR.
  std::vector<uint8_t> read_items(const char* caller, serial::Op op, uint32_t addr, uint32_t count,
                                  bool* refused);
  void control(uint32_t bits, const char* what);
  std::string where(const std::string& what) const;
  static Status decode_status(uint32_t word);

  std::unique_ptr<ByteLink> link_;
  SerialOptions opt_;
  BoardInfo info_;
  uint64_t frames_ = 0;
  uint64_t retries_ = 0;
};

}  // namespace tpu::runtime
