#pragma once
// Division by a divisor fixed for a kernel launch (a map's width, a plane's run count) as a
// multiply-high, an add and a shift: in the copy kernels' index arithmetic a runtime `/` or
// `%` costs about twenty instructions, enough to bound a memory-bound kernel. The round-up
// method of Granlund and Montgomery: exact for dividends and divisors below 2^31.
#include <c10/util/Exception.h>

#include <cstdint>

namespace vss::cuda {

struct IntDivider {
  uint32_t divisor = 1, magic = 1, shift = 0;

  IntDivider() = default;
  explicit IntDivider(int64_t d) {
    TORCH_CHECK(d >= 1 && d < (int64_t{1} << 31), "IntDivider: divisor ", d, " out of range");
    divisor = static_cast<uint32_t>(d);
    while ((uint64_t{1} << shift) < divisor) ++shift;  // ceil(log2 d)
    magic = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << shift) - divisor)) / divisor + 1);
  }

  // n < 2^31.
  __device__ __forceinline__ uint32_t div(uint32_t n) const { return (__umulhi(n, magic) + n) >> shift; }
  __device__ __forceinline__ uint32_t mod(uint32_t n) const { return n - div(n) * divisor; }
};

}  // namespace vss::cuda
