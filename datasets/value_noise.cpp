#include "datasets/value_noise.h"

#include "core/seed.h"

#include <algorithm>
#include <cmath>

namespace vss {

double smoothstep(double e0, double e1, double x) {
  const double t = std::clamp((x - e0) / (e1 - e0), 0.0, 1.0);
  return t * t * (3 - 2 * t);
}

double value_noise(uint64_t key, double x, double y, double cell) {
  const double gx = x / cell, gy = y / cell;
  const double fx0 = std::floor(gx), fy0 = std::floor(gy);
  const auto ix = static_cast<int64_t>(fx0), iy = static_cast<int64_t>(fy0);
  auto lattice = [key](int64_t i, int64_t j) {
    const uint64_t h = mix_seed(key, static_cast<uint64_t>(i) * 0x9E3779B1ull ^ static_cast<uint64_t>(j) * 0x85EBCA77ull);
    return static_cast<double>(h >> 11) * 0x1.0p-53;
  };
  const double tx = smoothstep(0, 1, gx - fx0), ty = smoothstep(0, 1, gy - fy0);
  const double top = lattice(ix, iy) + (lattice(ix + 1, iy) - lattice(ix, iy)) * tx;
  const double bottom = lattice(ix, iy + 1) + (lattice(ix + 1, iy + 1) - lattice(ix, iy + 1)) * tx;
  return top + (bottom - top) * ty;
}

}  // namespace vss
