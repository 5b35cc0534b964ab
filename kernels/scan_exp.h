#pragma once
// exp for the CPU scans' decays exp(Δ·a). std::exp is a libm call the compiler cannot
// vectorize, and at the state sizes of VMamba and Mamba it costs more than the rest of a scan
// step; this float version is plain arithmetic that GCC vectorizes (4 or 8 lanes) when the
// decays of a row are computed in one loop ahead of the recurrence.
//
// Float: e^x = 2^n · e^r with n = round(x·log2 e) and r = x − n·ln 2 (ln 2 split in a high and a
// low part, Cody–Waite, so r is exact to a float ulp), |r| ≤ ln2/2, and e^r by its Taylor series
// to degree 7 (truncation error < 6e-9 relative, below float's 6e-8 rounding): within 2 ulp
// of the correctly rounded result (tested against long double over the whole range).
// x is clamped to [−87.3, 88.7]: below, the result is about 1e-38 instead of a subnormal or 0
// (as a decay, a factor on h of 1e-38 or 0 is the same state in float32). NaN stays NaN.
// Double (the float64 path used for gradient checks) keeps std::exp.
#include <bit>
#include <cmath>
#include <cstdint>

namespace vss {

inline float scan_exp(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693145751953125f;  // 12 significant bits: n·kLn2Hi is exact
  constexpr float kLn2Lo = 1.42860682030941723212e-6f;
  constexpr float kRound = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer (SSE2-safe)
  // The clamp is done on the bit pattern with integer masks: GCC keeps float compares and
  // selects scalar under default flags (they may trap), integer ones vectorize. NaN passes.
  uint32_t bits = std::bit_cast<uint32_t>(x);
  const uint32_t mag = bits & 0x7fffffffu;
  const uint32_t negative = bits >> 31, ordered = mag <= 0x7f800000u;
  const uint32_t low = 0u - (ordered & negative & (mag > std::bit_cast<uint32_t>(87.3f)));
  const uint32_t high = 0u - (ordered & (negative ^ 1u) & (mag > std::bit_cast<uint32_t>(88.7f)));
  bits = (bits & ~(low | high)) | (std::bit_cast<uint32_t>(-87.3f) & low) | (std::bit_cast<uint32_t>(88.7f) & high);
  x = std::bit_cast<float>(bits);
  const float shifted = x * kLog2e + kRound;
  const float n = shifted - kRound;
  const int32_t ni = std::bit_cast<int32_t>(shifted) - std::bit_cast<int32_t>(kRound);
  const float r = (x - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // 2^n from its exponent bits; n in [−126, 128]: 2^128 is split so no bits overflow.
  const int32_t half = ni >> 1;
  const float scale_a = std::bit_cast<float>((half + 127) << 23);
  const float scale_b = std::bit_cast<float>((ni - half + 127) << 23);
  return p * scale_a * scale_b;
}

inline double scan_exp(double x) { return std::exp(x); }

// decay[t] = exp(dt[t]·a) for t < len: one loop, so the float version vectorizes.
template <typename acc_t>
inline void scan_decays(const acc_t* dt, acc_t a, int64_t len, acc_t* decay) {
  for (int64_t t = 0; t < len; ++t) decay[t] = scan_exp(dt[t] * a);
}

}  // namespace vss
