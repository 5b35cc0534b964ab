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

// exp for decay arguments Δ·A (Δ >= 0, A < 0, so x <= 0), cheaper than scan_exp where a scan
// computes one per (step, channel, state): no upper clamp, a degree-6 polynomial for e^r
// (least-squares minimax fit on [−ln2/2, ln2/2], relative error 1.9e-9 before float rounding,
// so it ties Taylor's degree 7) and 2^n built from its exponent bits. x is clamped below at
// −86 so that n >= −124 and 2^n stays a normal float; e^−86 = 4e-38 is no decay worth telling
// from 0. Within 2 ulp of exp for x in [−86, 88]; above 88 (never a decay) it overflows to
// inf. NaN stays NaN (the scale multiplies, not adds, into the result).
// F is float or a GCC vector of floats, I the int32 type of the same shape, so vector loops
// written with vector types (their width then follows the clone being compiled) use it too;
// x is replaced in place because returning a 64-byte vector from a function compiled for a
// baseline target is an ABI the compiler warns about (hence __builtin_bit_cast, not the
// std::bit_cast function, too).
template <typename F, typename I>
inline void scan_decay_exp(F& x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693145751953125f;
  constexpr float kLn2Lo = 1.42860682030941723212e-6f;
  constexpr float kRound = 12582912.0f;
  const F low = F{} - 86.0f;
  x = x < low ? low : x;
  const F shifted = x * kLog2e + kRound;
  const F n = shifted - kRound;
  const I ni = __builtin_bit_cast(I, shifted) - __builtin_bit_cast(I, F{} + kRound);
  const F r = (x - n * kLn2Hi) - n * kLn2Lo;
  F p = F{} + 1.3836835278198123e-3f;
  p = p * r + 8.374815806746483e-3f;
  p = p * r + 4.166822507977486e-2f;
  p = p * r + 1.6666419804096222e-1f;
  p = p * r + 4.9999991059303284e-1f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  x = p * __builtin_bit_cast(F, (ni + 127) << 23);
}

// decay[t] = exp(dt[t]·a) for t < len: one loop, so the float version vectorizes.
template <typename acc_t>
inline void scan_decays(const acc_t* dt, acc_t a, int64_t len, acc_t* decay) {
  for (int64_t t = 0; t < len; ++t) decay[t] = scan_exp(dt[t] * a);
}

}  // namespace vss
