// A testbench's record of where the RTL and the golden model disagreed.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace tpu::tb {

// Keeps the first few mismatch descriptions and counts them all.
class MismatchLog {
 public:
  void add(uint64_t cycle, const std::string& what) {
    ++count_;
    if (kept_.size() < 50) kept_.push_back("cycle " + std::to_string(cycle) + ": " + what);
  }
  uint64_t count() const { return count_; }
  std::string report(size_t max_lines = 10) const {
    std::ostringstream os;
    os << count_ << " mismatching cycle(s)";
    for (size_t i = 0; i < kept_.size() && i < max_lines; ++i) os << "\n  " << kept_[i];
    return os.str();
  }

 private:
  uint64_t count_ = 0;
  std::vector<std::string> kept_;
};

inline std::string lanes_str(const std::vector<int32_t>& v) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < v.size(); ++i) os << (i ? " " : "") << v[i];
  os << "]";
  return os.str();
}

}  // namespace tpu::tb
