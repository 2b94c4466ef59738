// A byte link to the board: what the serial device (sw/runtime/serial_device.hpp) needs of a
// UART, and nothing else. TtyLink is a POSIX serial port; the board-level test's simulated tty
// (tb/board_tb.hpp) clocks the Verilated board top while the host waits, so the same device
// code runs against both.
//
// Times are the line's (now()): a real port's are wall time; the simulated one's are its clock
// cycles at the board's clock rate, so a host that waits for a reply advances the simulation.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "sw/runtime/device.hpp"

namespace tpu::runtime {

using Micros = std::chrono::microseconds;

// The link itself failed (an I/O error, the port vanished).
class LinkError : public DeviceError {
 public:
  using DeviceError::DeviceError;
};
// The port could not be opened or set up; what() names it.
class LinkOpenError : public LinkError {
 public:
  using LinkError::LinkError;
};

class ByteLink {
 public:
  virtual ~ByteLink() = default;

  // The port ("/dev/ttyUSB1") or what stands for it, for messages.
  virtual std::string name() const = 0;
  // The link's time (monotonic): every deadline the device sets is in it.
  virtual Micros now() const = 0;
  // Queues `bytes` for sending, in order, and returns (they go out at the line's pace).
  virtual void write(std::span<const uint8_t> bytes) = 0;
  // Waits until `out` is full or `timeout` has passed since the call; returns the bytes read.
  virtual std::size_t read(std::span<uint8_t> out, Micros timeout) = 0;
  // Lets the line go quiet: waits until every written byte has been sent, then `quiet` more,
  // and drops every byte received until then.
  virtual void settle(Micros quiet) = 0;
};

// A serial port, raw 8N1 at `baud`, no flow control (hardware or software), opened for
// exclusive use; pending input is flushed on open.
class TtyLink : public ByteLink {
 public:
  // LinkOpenError naming the port: it does not exist, cannot be opened, is not a serial port,
  // or does not take `baud`.
  TtyLink(std::string port, int baud);
  ~TtyLink() override;
  TtyLink(const TtyLink&) = delete;
  TtyLink& operator=(const TtyLink&) = delete;

  std::string name() const override { return port_; }
  Micros now() const override;
  void write(std::span<const uint8_t> bytes) override;
  std::size_t read(std::span<uint8_t> out, Micros timeout) override;
  void settle(Micros quiet) override;

  int baud() const { return baud_; }
  // The rates termios names (9600 .. 4000000); TtyLink takes only these.
  static bool supported_baud(int baud);

 private:
  std::string port_;
  int baud_;
  int fd_ = -1;
};

}  // namespace tpu::runtime
