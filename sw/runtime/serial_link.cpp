#include "sw/runtime/serial_link.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace tpu::runtime {

namespace {

using Clock = std::chrono::steady_clock;

speed_t speed_of(int baud) {
  switch (baud) {
    case 9600:
      return B9600;
    case 19200:
      return B19200;
    case 38400:
      return B38400;
    case 57600:
      return B57600;
    case 115200:
      return B115200;
    case 230400:
      return B230400;
    case 460800:
      return B460800;
    case 500000:
      return B500000;
    case 576000:
      return B576000;
    case 921600:
      return B921600;
    case 1000000:
      return B1000000;
    case 1152000:
      return B1152000;
    case 1500000:
      return B1500000;
    case 2000000:
      return B2000000;
    case 2500000:
      return B2500000;
    case 3000000:
      return B3000000;
    case 3500000:
      return B3500000;
    case 4000000:
      return B4000000;
    default:
      return B0;
  }
}

std::string errno_str() { return std::strerror(errno); }

}  // namespace

bool TtyLink::supported_baud(int baud) { return speed_of(baud) != B0; }

TtyLink::TtyLink(std::string port, int baud) : port_(std::move(port)), baud_(baud) {
  const std::string who = "serial port " + port_;
  if (!supported_baud(baud)) {
    throw LinkOpenError(who + ": baud rate " + std::to_string(baud) +
                        " is not one termios offers (9600, 19200, ..., 115200, ..., 4000000)");
  }
  fd_ = ::open(port_.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) throw LinkOpenError(who + ": cannot open: " + errno_str());
  auto fail = [&](const std::string& what) {
    const std::string why = errno_str();
    ::close(fd_);
    fd_ = -1;
    throw LinkOpenError(who + ": " + what + ": " + why);
  };
  termios t{};
  if (::tcgetattr(fd_, &t) != 0) fail("not a serial port (tcgetattr)");
  if (::ioctl(fd_, TIOCEXCL) != 0) fail("cannot take it for exclusive use");
  ::cfmakeraw(&t);
  t.c_cflag &= ~(PARENB | CSTOPB | CSIZE | CRTSCTS);
  t.c_cflag |= CS8 | CLOCAL | CREAD;
  t.c_iflag &= ~(IXON | IXOFF | IXANY);
  t.c_cc[VMIN] = 0;
  t.c_cc[VTIME] = 0;
  if (::cfsetispeed(&t, speed_of(baud)) != 0 || ::cfsetospeed(&t, speed_of(baud)) != 0) {
    fail("cannot set " + std::to_string(baud) + " baud");
  }
  if (::tcsetattr(fd_, TCSANOW, &t) != 0) fail("cannot set raw 8N1 at " + std::to_string(baud));
  ::tcflush(fd_, TCIOFLUSH);
}

Micros TtyLink::now() const {
  return std::chrono::duration_cast<Micros>(Clock::now().time_since_epoch());
}

TtyLink::~TtyLink() {
  if (fd_ >= 0) ::close(fd_);
}

void TtyLink::write(std::span<const uint8_t> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      throw LinkError("serial port " + port_ + ": write failed: " + errno_str());
    }
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, 1000) < 0 && errno != EINTR) {
      throw LinkError("serial port " + port_ + ": poll failed: " + errno_str());
    }
  }
}

std::size_t TtyLink::read(std::span<uint8_t> out, Micros timeout) {
  const auto deadline = Clock::now() + timeout;
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd_, out.data() + got, out.size() - got);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      throw LinkError("serial port " + port_ + ": read failed: " + errno_str());
    }
    const auto left = std::chrono::duration_cast<Micros>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>((left + 999) / 1000));
    if (r < 0 && errno != EINTR) {
      throw LinkError("serial port " + port_ + ": poll failed: " + errno_str());
    }
    if (r > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0 && (p.revents & POLLIN) == 0) {
      throw LinkError("serial port " + port_ + ": the port reported an error or hung up");
    }
  }
  return got;
}

void TtyLink::settle(Micros quiet) {
  ::tcdrain(fd_);
  std::this_thread::sleep_for(quiet);
  ::tcflush(fd_, TCIFLUSH);
}

}  // namespace tpu::runtime
