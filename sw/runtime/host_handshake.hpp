// One request on a host port with the buffer's handshake (docs/architecture.md, "Host port":
// valid/ready on the request, one request in flight, a response held until taken), written
// once for every port that has it: the TPU's (runtime::HostPort, which the runtime's engines and
// the TPU testbench drive) and the unit testbenches' buffer ports (tests/ub_test.cpp,
// tests/sgd_test.cpp). Header-only.
#pragma once

#include <string>

namespace tpu::runtime {

// Cycles a request waits for its handshake, and then for its response, before the driver gives
// up.
inline constexpr int kHandshakeLimit = 1000;

// Presents `req` (its host_req_* fields; host_req_valid is set here) until the port takes it,
// then waits for the response, offering host_rsp_ready from `rsp_delay` cycles after the request
// was taken; returns the outputs of the cycle the response was taken in. `cycle(in)` runs one
// clock cycle with `in` and returns what the port drove in it. Throws Error("<what> never
// accepted" or "<what>: no response") after kHandshakeLimit cycles.
template <class Error, class In, class Cycle>
auto host_handshake(Cycle&& cycle, In req, const std::string& what, int rsp_delay = 0) {
  req.host_req_valid = true;
  for (int g = 0; !cycle(req).host_req_ready; ++g) {
    if (g >= kHandshakeLimit) throw Error(what + " never accepted");
  }
  In wait{};
  for (int g = 0;; ++g) {
    if (g >= kHandshakeLimit) throw Error(what + ": no response");
    wait.host_rsp_ready = g >= rsp_delay;
    auto o = cycle(wait);
    if (o.host_rsp_valid && wait.host_rsp_ready) return o;
  }
}

}  // namespace tpu::runtime
