// vss::depthwise_conv2d_channels_last on the CPU: a hand-computed 3×3 case, random maps against
// at::conv2d on the NCHW layout, and bad input.
#include "kernels/depthwise_conv.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace {

using vss::test::expect_one_line_error;
using vss::test::max_abs_diff;

TEST(depthwise_conv2d_channels_last, hand_computed_3x3) {
  // One channel holding 1..9, a 3×3 kernel of ones, zero padding: each output is the sum of
  // the inputs around it, e.g. 1+2+4+5 = 12 in a corner, 45 in the middle.
  const at::Tensor x = torch::arange(1, 10, torch::kDouble).view({1, 3, 3, 1});
  const at::Tensor w = torch::ones({1, 1, 3, 3}, torch::kDouble);
  const at::Tensor y = vss::depthwise_conv2d_channels_last(x, w);
  const double want[9] = {12, 21, 16, 27, 45, 33, 24, 39, 28};
  for (int i = 0; i < 9; ++i) EXPECT_DOUBLE_EQ(y.view({9})[i].item<double>(), want[i]) << i;
  // Bias 0.5 and SiLU: v / (1 + e^-v).
  const at::Tensor ys = vss::depthwise_conv2d_channels_last(x, w, torch::full({1}, 0.5, torch::kDouble), true);
  for (int i = 0; i < 9; ++i) {
    const double v = want[i] + 0.5;
    EXPECT_NEAR(ys.view({9})[i].item<double>(), v / (1 + std::exp(-v)), 1e-12) << i;
  }
}

TEST(depthwise_conv2d_channels_last, matches_nchw_conv2d) {
  torch::manual_seed(3);
  for (auto [B, H, W, C, k] : std::vector<std::array<int64_t, 5>>{
           {2, 5, 7, 3, 3}, {1, 1, 6, 4, 3}, {1, 6, 1, 2, 5}, {2, 4, 4, 5, 1}}) {
    const at::Tensor x = torch::randn({B, H, W, C}, torch::kDouble);
    const at::Tensor w = torch::randn({C, 1, k, k}, torch::kDouble);
    const at::Tensor b = torch::randn({C}, torch::kDouble);
    const at::Tensor want = at::conv2d(x.permute({0, 3, 1, 2}).contiguous(), w, b, 1, k / 2, 1, C)
                                .permute({0, 2, 3, 1});
    const at::Tensor got = vss::depthwise_conv2d_channels_last(x, w, b);
    EXPECT_LT(max_abs_diff(got, want), 1e-12) << B << "x" << H << "x" << W << "x" << C << " k" << k;
  }
}

TEST(depthwise_conv2d_channels_last, bad_inputs_are_one_line_errors) {
  const at::Tensor x = torch::randn({1, 4, 4, 3});
  expect_one_line_error([&] { vss::depthwise_conv2d_channels_last(x, torch::randn({4, 1, 3, 3})); },
                        "weight must have shape [3, 1, k, k] with odd k");
  expect_one_line_error([&] { vss::depthwise_conv2d_channels_last(x, torch::randn({3, 1, 2, 2})); },
                        "odd k");
  expect_one_line_error([&] { vss::depthwise_conv2d_channels_last(x.view({4, 4, 3}), torch::randn({3, 1, 3, 3})); },
                        "x must have shape [B, H, W, C]");
  expect_one_line_error(
      [&] { vss::depthwise_conv2d_channels_last(x, torch::randn({3, 1, 3, 3}), torch::randn({4})); },
      "bias must have shape [3]");
}

}  // namespace
