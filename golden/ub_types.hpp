// Command types of the unified buffer's read and write ports, from docs/architecture.md
// ("Unified buffer": ub_rd_cmd_t and ub_wr_cmd_t). start, count and stride are UbAddrWidth
// (16) bits wide and lanes is LanesWidth (8) bits wide in the RTL; the models that take these
// commands check that their values fit.
#pragma once

#include <cstdint>

namespace tpu::golden {
struct UbReadCmd { uint32_t start = 0; uint32_t count = 0; uint32_t stride = 0; uint32_t lanes = 0; bool transpose = false; };
struct UbWriteCmd { uint32_t start = 0; uint32_t count = 0; uint32_t stride = 0; uint32_t lanes = 0; };
}
