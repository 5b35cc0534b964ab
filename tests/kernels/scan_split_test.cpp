// The sequence-split setting (kernels/scan_split.h): kept, validated, and inert on the CPU
// (the CUDA paths it selects are tested against the CPU in tests/kernels/cuda).
#include "kernels/scan_split.h"
#include "kernels/selective_scan.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>

namespace {

TEST(ScanSplit, KeepsTheValueAndRefusesNegativeCounts) {
  EXPECT_EQ(vss::scan_split(), 0);  // automatic by default
  vss::set_scan_split(7);
  EXPECT_EQ(vss::scan_split(), 7);
  EXPECT_THROW(vss::set_scan_split(-1), std::invalid_argument);
  EXPECT_EQ(vss::scan_split(), 7);  // a refused value changes nothing
  vss::set_scan_split(0);
}

TEST(ScanSplit, DoesNotChangeCpuResults) {
  torch::manual_seed(3);
  const int64_t L = 3000;
  const at::Tensor u = torch::randn({1, 4, L}), delta = torch::randn({1, 4, L}) * 0.5 - 1.5;
  const at::Tensor A = -torch::rand({4, 2}), B = torch::randn({1, 2, 2, L}),
                   C = torch::randn({1, 2, 2, L});
  const auto [want, want_last] = vss::selective_scan(u, delta, A, B, C, std::nullopt,
                                                     std::nullopt, true, true);
  vss::set_scan_split(5);
  const auto [got, got_last] = vss::selective_scan(u, delta, A, B, C, std::nullopt,
                                                   std::nullopt, true, true);
  vss::set_scan_split(0);
  EXPECT_TRUE(torch::equal(got, want));
  EXPECT_TRUE(torch::equal(got_last, want_last));
}

}  // namespace
