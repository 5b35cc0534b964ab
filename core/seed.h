#pragma once
// Seeds derived from (seed, index) pairs, so sample i of a split, or micro-batch k of a run,
// gets its own random stream that does not depend on thread or order.
#include <cstdint>

namespace vss {

// SplitMix64 finaliser: neighbouring inputs give unrelated outputs.
constexpr uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

constexpr uint64_t mix_seed(uint64_t seed, uint64_t index) { return splitmix64(splitmix64(seed) ^ index); }

}  // namespace vss
