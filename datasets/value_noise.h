#pragma once
// Smooth value noise for the generated scenes: random values on a square lattice, blended
// with smoothstep. A pure function of its arguments, so a shifted or re-rendered date samples
// the same terrain.
#include <cstdint>

namespace vss {

double smoothstep(double edge0, double edge1, double x);

// In [0, 1): the lattice of `cell` px keyed by `key`, at the point (x, y).
double value_noise(uint64_t key, double x, double y, double cell);

}  // namespace vss
