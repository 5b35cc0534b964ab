#pragma once
// Wall-clock seconds on the steady clock, for the stage timings apps report.
#include <chrono>

namespace vss {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace vss
