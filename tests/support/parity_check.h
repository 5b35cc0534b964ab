#pragma once
// Comparing outputs with the official ones stored in ../shared/parity (README there): each
// comparison prints one line, "<label>  max abs|rel err E  PASS|FAIL", and fails the test past
// the contract's tolerance, which is never loosened.
#include <ATen/core/Tensor.h>

#include <string>

namespace vss::test {

struct ParityTolerance {
  double limit;
  bool relative;  // max |a - b| / max(1, |b|) instead of max |a - b|
};
inline constexpr ParityTolerance kCpuFloat32Parity{1e-4, false};
inline constexpr ParityTolerance kGpuFloat32Parity{1e-3, false};
inline constexpr ParityTolerance kGpuBf16Parity{3e-2, true};

// `ours` may live on any device and dtype; shapes must match.
void expect_parity(const std::string& label, const at::Tensor& ours, const at::Tensor& official,
                   ParityTolerance tolerance);

}  // namespace vss::test
