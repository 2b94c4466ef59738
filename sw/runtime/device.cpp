#include "sw/runtime/device.hpp"

#include <string>

namespace tpu::runtime {

std::string to_string(State s) {
  switch (s) {
    case State::kIdle:
      return "Idle";
    case State::kRunning:
      return "Running";
    case State::kSync:
      return "Sync";
    case State::kDone:
      return "Done";
    case State::kError:
      return "Error";
  }
  return "state " + std::to_string(static_cast<int>(s));
}

std::string to_string(Error e) {
  switch (e) {
    case Error::kNone:
      return "none";
    case Error::kOpcode:
      return "ErrOpcode";
    case Error::kAddress:
      return "ErrAddress";
    case Error::kField:
      return "ErrField";
    case Error::kLoop:
      return "ErrLoop";
    case Error::kPc:
      return "ErrPc";
    case Error::kBuffer:
      return "ErrBuffer";
  }
  return "error " + std::to_string(static_cast<int>(e));
}

std::string to_string(const Status& s) {
  std::string t = to_string(s.state);
  if (s.state == State::kError || s.err != Error::kNone) t += " " + to_string(s.err);
  return t + " at pc " + std::to_string(s.pc);
}

void Device::check_rows(const char* op, uint32_t addr, uint64_t count) const {
  const uint64_t depth = static_cast<uint64_t>(ub_depth());
  if (count > 0 && uint64_t{addr} + count > depth) {
    const uint64_t bad = addr >= depth ? addr : depth;
    throw AddressError(std::string(op) + " of buffer rows " + std::to_string(addr) + ".." +
                       std::to_string(uint64_t{addr} + count - 1) + ": row " + std::to_string(bad) +
                       " is outside the buffer (" + std::to_string(depth) + " rows) of device '" +
                       name() + "'");
  }
}

void Device::check_row(const char* op, uint32_t addr, const Row& row) const {
  if (row.size() != static_cast<std::size_t>(dim())) {
    throw DeviceError(std::string(op) + " of buffer row " + std::to_string(addr) +
                      ": the row has " + std::to_string(row.size()) + " lanes, device '" + name() +
                      "' has " + std::to_string(dim()));
  }
  for (std::size_t c = 0; c < row.size(); ++c) {
    if (row[c] < -32768 || row[c] > 32767) {
      throw DeviceError(std::string(op) + " of buffer row " + std::to_string(addr) + ": lane " +
                        std::to_string(c) + " holds " + std::to_string(row[c]) +
                        ", outside the 16-bit range [-32768, 32767]");
    }
  }
}

void Device::check_program(const std::vector<uint64_t>& words) const {
  if (words.size() > static_cast<std::size_t>(imem_depth())) {
    throw AddressError("load_program of " + std::to_string(words.size()) +
                       " words: instruction address " + std::to_string(imem_depth()) +
                       " is outside the instruction memory (" + std::to_string(imem_depth()) +
                       " words) of device '" + name() + "'");
  }
}

}  // namespace tpu::runtime
