#include "sw/runtime/functional_device.hpp"

#include <string>
#include <utility>

#include "golden/functional_model.hpp"

namespace tpu::runtime {

struct FunctionalDevice::Impl {
  Impl(int dim, int ub_depth, int imem_depth)
      : model(dim, ub_depth, imem_depth), dim(dim), ub_depth(ub_depth), imem_depth(imem_depth) {}
  golden::FunctionalModel model;
  int dim;
  int ub_depth;
  int imem_depth;
  bool recording = false;
  std::vector<RowWrite> writes;  // converted, not yet taken

  // model.run(), turning the writes it records (address, lanes kept, data) into the rows as
  // stored, replayed on a copy of the buffer as it was before.
  isa::State run(uint64_t max_instructions) {
    if (!recording) return model.run(max_instructions);
    std::vector<Row> rows;
    rows.reserve(static_cast<std::size_t>(ub_depth));
    for (int a = 0; a < ub_depth; ++a) rows.push_back(model.read_row(static_cast<uint32_t>(a)));
    model.clear_writes();
    const isa::State s = model.run(max_instructions);
    for (const auto& w : model.writes()) {
      Row& r = rows.at(w.addr);
      for (int c = 0; c < dim && c < 32; ++c) {
        if ((w.lanes >> c) & 1u)
          r[static_cast<std::size_t>(c)] = w.data.at(static_cast<std::size_t>(c));
      }
      writes.push_back(RowWrite{w.addr, r});
    }
    model.clear_writes();
    return s;
  }
};

FunctionalDevice::FunctionalDevice(int dim, int ub_depth, int imem_depth)
    : impl_(std::make_unique<Impl>(dim, ub_depth, imem_depth)) {}

FunctionalDevice::~FunctionalDevice() = default;

int FunctionalDevice::dim() const { return impl_->dim; }
int FunctionalDevice::ub_depth() const { return impl_->ub_depth; }
int FunctionalDevice::imem_depth() const { return impl_->imem_depth; }

namespace {
bool busy(State s) { return s == State::kRunning || s == State::kSync; }
}  // namespace

void FunctionalDevice::write_rows(uint32_t addr, const std::vector<Row>& rows) {
  check_rows("write_rows", addr, rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    check_row("write_rows", static_cast<uint32_t>(addr + i), rows[i]);
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    impl_->model.write_row(static_cast<uint32_t>(addr + i), rows[i]);
  }
}

std::vector<Row> FunctionalDevice::read_rows(uint32_t addr, uint32_t count) {
  check_rows("read_rows", addr, count);
  std::vector<Row> rows;
  rows.reserve(count);
  for (uint32_t i = 0; i < count; ++i) rows.push_back(impl_->model.read_row(addr + i));
  return rows;
}

void FunctionalDevice::load_program(const std::vector<uint64_t>& words) {
  check_program(words);
  if (busy(impl_->model.state())) {
    throw DeviceError("load_program refused: device '" + name() + "' is " + to_string(status()));
  }
  for (std::size_t i = 0; i < words.size(); ++i) {
    impl_->model.write_instr(static_cast<uint32_t>(i), words[i]);
  }
}

void FunctionalDevice::start() {
  if (busy(impl_->model.state())) throw DeviceError("start refused (" + to_string(status()) + ")");
  impl_->model.start();
}

void FunctionalDevice::resume() {
  if (impl_->model.state() != State::kSync) {
    throw DeviceError("continue refused (" + to_string(status()) + ")");
  }
  impl_->model.resume();
}

Status FunctionalDevice::run(uint64_t max_cycles) {
  if (impl_->model.state() == State::kRunning) {
    if (impl_->run(max_cycles) == State::kRunning) {
      throw TimeoutError("run: the program did not stop within " + std::to_string(max_cycles) +
                         " instructions (" + to_string(status()) + ")");
    }
  }
  return status();
}

Status FunctionalDevice::status() {
  return Status{impl_->model.pc(), impl_->model.state(), impl_->model.err()};
}

uint64_t FunctionalDevice::instructions() { return impl_->model.instructions(); }
uint64_t FunctionalDevice::macs() const { return impl_->model.macs(); }

void FunctionalDevice::record_writes(bool on) {
  impl_->recording = on;
  impl_->model.record_writes(on);
}

std::vector<RowWrite> FunctionalDevice::take_writes() { return std::exchange(impl_->writes, {}); }

}  // namespace tpu::runtime
