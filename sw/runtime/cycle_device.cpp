#include "sw/runtime/cycle_device.hpp"

#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

namespace tpu::runtime {

namespace {

std::string row_str(const Row& r) {
  std::ostringstream os;
  os << "[";
  for (std::size_t i = 0; i < r.size(); ++i) os << (i ? " " : "") << r[i];
  os << "]";
  return os.str();
}

std::string write_str(const RowWrite& w) {
  return "row " + std::to_string(w.addr) + " = " + row_str(w.row);
}

}  // namespace

CycleDevice::CycleDevice(std::unique_ptr<HostPort> port, int ub_depth, int imem_depth,
                         bool cross_check)
    : port_(std::move(port)), ub_depth_(ub_depth), imem_depth_(imem_depth) {
  if (cross_check) {
    mirror_ = std::make_unique<FunctionalDevice>(port_->dim(), ub_depth, imem_depth);
    mirror_->record_writes(true);
    port_->set_observer([this](const golden::TpuOutputs& o) { on_cycle(o); });
  }
}

CycleDevice::~CycleDevice() { port_->set_observer(nullptr); }

// Runs `f`, then lets the model report a disagreement; a disagreement found while `f` throws
// replaces its exception (it is the likelier cause).
template <class F>
auto CycleDevice::guarded(F&& f) {
  try {
    if constexpr (std::is_void_v<decltype(f())>) {
      f();
      check_model();
    } else {
      auto r = f();
      check_model();
      return r;
    }
  } catch (const MismatchError&) {
    throw;
  } catch (...) {
    check_model();
    throw;
  }
}

void CycleDevice::on_cycle(const golden::TpuOutputs& o) {
  ++segment_cycles_;
  if (o.wr_valid) writes_.push_back(RowWrite{o.wr_addr, model_row(o.wr_addr)});
}

void CycleDevice::write_rows(uint32_t addr, const std::vector<Row>& rows) {
  check_rows("write_rows", addr, rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    check_row("write_rows", static_cast<uint32_t>(addr + i), rows[i]);
  }
  guarded([&] {
    for (std::size_t i = 0; i < rows.size(); ++i) {
      port_->write_row(static_cast<uint32_t>(addr + i), rows[i]);
    }
  });
  if (mirror_) mirror_->write_rows(addr, rows);
}

std::vector<Row> CycleDevice::read_rows(uint32_t addr, uint32_t count) {
  check_rows("read_rows", addr, count);
  return guarded([&] {
    std::vector<Row> rows;
    rows.reserve(count);
    for (uint32_t i = 0; i < count; ++i) rows.push_back(port_->read_row(addr + i));
    return rows;
  });
}

void CycleDevice::load_program(const std::vector<uint64_t>& words) {
  check_program(words);
  guarded([&] {
    for (std::size_t i = 0; i < words.size(); ++i) {
      try {
        port_->write_instr(static_cast<uint32_t>(i), words[i]);
      } catch (const DeviceError& e) {
        throw DeviceError("load_program: " + std::string(e.what()) + " (" +
                          to_string(port_->status()) + ")");
      }
    }
  });
  if (mirror_) mirror_->load_program(words);
}

void CycleDevice::check_pending_segment() {
  if (mirror_ && mirror_->status().state == State::kRunning) {
    const Status s = port_->status();
    if (s.state != State::kRunning) cross_check(s);
  }
}

void CycleDevice::start() {
  guarded([&] {
    check_pending_segment();
    segment_cycles_ = 0;
    port_->start();
  });
  if (mirror_) mirror_->start();
}

void CycleDevice::resume() {
  guarded([&] {
    check_pending_segment();
    segment_cycles_ = 0;
    port_->resume();
  });
  if (mirror_) mirror_->resume();
}

Status CycleDevice::run(uint64_t max_cycles) {
  return guarded([&] {
    const golden::TpuOutputs o = port_->run_until_stop(max_cycles);
    const Status s{o.pc, o.state, o.err};
    if (s.state == State::kError) drain();
    if (mirror_) cross_check(s);
    return s;
  });
}

void CycleDevice::drain() {
  const int window = 2 * dim() + kDrainQuiet;
  int quiet = 0;
  for (uint64_t c = 0; quiet < window; ++c) {
    if (c >= kDrainLimit) {
      throw DeviceError("run: the buffer was still being written " + std::to_string(c) +
                        " cycles after the TPU stopped with an error");
    }
    quiet = port_->idle().wr_valid ? 0 : quiet + 1;
  }
}

Status CycleDevice::status() {
  return guarded([&] { return port_->status(); });
}

uint64_t CycleDevice::cycles() {
  return guarded([&] { return port_->csr(1); });
}

void CycleDevice::cross_check(const Status& stop) {
  const std::string who = "cross-check of '" + name() + "' against the functional model";
  std::vector<RowWrite> mine = std::move(writes_);
  writes_.clear();
  Status theirs = mirror_->status();
  if (theirs.state == State::kRunning) {
    // Every instruction takes a cycle: the mirror needs no more than the model took.
    const uint64_t bound = segment_cycles_ + 1;
    try {
      theirs = mirror_->run(bound);
    } catch (const TimeoutError&) {
      throw MismatchError(who + ": '" + name() + "' stopped " + to_string(stop) +
                          ", the functional model was still Running after " +
                          std::to_string(bound) + " instructions (" + to_string(mirror_->status()) +
                          ")");
    }
  }
  const std::vector<RowWrite> ref = mirror_->take_writes();
  for (std::size_t i = 0; i < mine.size() || i < ref.size(); ++i) {
    if (i < mine.size() && i < ref.size() && mine[i] == ref[i]) continue;
    std::string d = who + ": buffer write " + std::to_string(i) + " of the segment ending " +
                    to_string(stop) + " differs: '" + name() + "' ";
    d += i < mine.size() ? "wrote " + write_str(mine[i]) : "wrote nothing more";
    d += ", the functional model ";
    d += i < ref.size() ? "wrote " + write_str(ref[i]) : "wrote nothing more";
    throw MismatchError(d + " (" + std::to_string(mine.size()) + " and " +
                        std::to_string(ref.size()) + " writes)");
  }
  if (theirs != stop) {
    throw MismatchError(who + ": '" + name() + "' stopped " + to_string(stop) +
                        ", the functional model " + to_string(theirs));
  }
  const std::vector<Row> rows = mirror_->read_rows(0, static_cast<uint32_t>(ub_depth_));
  for (uint32_t a = 0; a < static_cast<uint32_t>(ub_depth_); ++a) {
    const Row r = stop_row(a, stop.state);
    if (r != rows[a]) {
      throw MismatchError(who + ": at the stop (" + to_string(stop) + ") buffer row " +
                          std::to_string(a) + " holds " + row_str(r) + " on '" + name() + "', " +
                          row_str(rows[a]) + " on the functional model");
    }
  }
}

}  // namespace tpu::runtime
