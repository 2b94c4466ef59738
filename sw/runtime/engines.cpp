#include "sw/runtime/engines.hpp"

#include "golden/tpu_model.hpp"
#include "sw/runtime/cycle_device.hpp"
#include "sw/runtime/functional_device.hpp"
#include "sw/runtime/golden_port.hpp"
#include "sw/runtime/host_port.hpp"

namespace tpu::runtime {

namespace {

class GoldenDevice : public CycleDevice {
 public:
  explicit GoldenDevice(const ModelOptions& o)
      : GoldenDevice(std::make_unique<GoldenPort>(o.dim, o.ub_depth, o.imem_depth, o.max_in_flight), o) {}
  std::string name() const override { return "golden"; }

 protected:
  Row model_row(uint32_t addr) override { return model_->model.buffer().row(addr); }

 private:
  GoldenDevice(std::unique_ptr<GoldenPort> port, const ModelOptions& o)
      : CycleDevice(std::move(port), o.ub_depth, o.imem_depth, o.cross_check),
        model_(static_cast<GoldenPort*>(&this->port())) {}
  GoldenPort* model_;
};

}  // namespace

const std::vector<std::string>& engine_names() {
  static const std::vector<std::string> kNames = {"golden", "functional"};
  return kNames;
}

std::unique_ptr<Device> make_device(const std::string& engine, const ModelOptions& o) {
  if (engine == "golden") return std::make_unique<GoldenDevice>(o);
  if (engine == "functional") {
    return std::make_unique<FunctionalDevice>(o.dim, o.ub_depth, o.imem_depth);
  }
  std::string known;
  for (const std::string& n : engine_names()) known += (known.empty() ? "'" : ", '") + n + "'";
  throw DeviceError("unknown engine '" + engine + "' (known: " + known +
                    "; 'rtl' needs a Verilated model: tb/tpu_device.hpp)");
}

}  // namespace tpu::runtime
