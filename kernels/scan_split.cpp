#include "kernels/scan_split.h"

#include <atomic>
#include <stdexcept>
#include <string>

namespace vss {
namespace {
std::atomic<int> g_segments{0};
}

void set_scan_split(int segments) {
  if (segments < 0)
    throw std::invalid_argument("vss::set_scan_split: segments must be >= 0, got " +
                                std::to_string(segments));
  g_segments.store(segments);
}

int scan_split() { return g_segments.load(); }

}  // namespace vss
