// The depthwise convolutions on the CPU: a hand-computed 3×3 case, the channel-last op against
// at::conv2d on the NCHW layout, vss::depthwise_conv2d's gradients (through its autograd and
// its backward op) against central finite differences in float64, and bad input.
#include "kernels/depthwise_conv.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <vector>

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

TEST(depthwise_conv2d, hand_computed_3x3_and_channel_first_layout) {
  const at::Tensor x = torch::arange(1, 10, torch::kDouble).view({1, 1, 3, 3});
  const at::Tensor w = torch::ones({1, 1, 3, 3}, torch::kDouble);
  const double want[9] = {12, 21, 16, 27, 45, 33, 24, 39, 28};
  const at::Tensor y = vss::depthwise_conv2d(x, w);
  ASSERT_EQ(y.sizes(), x.sizes());
  for (int i = 0; i < 9; ++i) EXPECT_DOUBLE_EQ(y.view({9})[i].item<double>(), want[i]) << i;
  // Several channels: each its own kernel, as the channel-last op on the transposed map.
  torch::manual_seed(4);
  const at::Tensor xs = torch::randn({2, 5, 4, 6}, torch::kDouble), ws = torch::randn({5, 1, 3, 3}, torch::kDouble);
  const at::Tensor bs = torch::randn({5}, torch::kDouble);
  EXPECT_LT(max_abs_diff(vss::depthwise_conv2d(xs, ws, bs, true),
                         vss::depthwise_conv2d_channels_last(xs.permute({0, 2, 3, 1}).contiguous(), ws, bs, true)
                             .permute({0, 3, 1, 2})),
            1e-12);
}

// d(Σ dy·f(x, w, b))/dθ by central differences, one parameter entry at a time.
at::Tensor numeric_gradient(const std::function<at::Tensor()>& f, at::Tensor& theta, const at::Tensor& dy) {
  at::Tensor grad = torch::zeros_like(theta);
  const double h = 1e-6;
  auto flat = theta.view({-1});
  for (int64_t i = 0; i < flat.numel(); ++i) {
    const double v = flat[i].item<double>();
    flat[i] = v + h;
    const double up = (f() * dy).sum().item<double>();
    flat[i] = v - h;
    const double down = (f() * dy).sum().item<double>();
    flat[i] = v;
    grad.view({-1})[i] = (up - down) / (2 * h);
  }
  return grad;
}

TEST(depthwise_conv2d, gradients_match_finite_differences) {
  torch::manual_seed(5);
  // Odd sizes, a row, a column, one pixel, k = 1, 3, 5, with and without bias and SiLU.
  for (auto [B, C, H, W, k] : std::vector<std::array<int64_t, 5>>{
           {2, 3, 5, 4, 3}, {1, 2, 1, 6, 3}, {1, 2, 6, 1, 5}, {1, 1, 1, 1, 3}, {2, 2, 3, 3, 1}}) {
    for (bool with_bias : {false, true})
      for (bool silu : {false, true}) {
        at::Tensor x = torch::randn({B, C, H, W}, torch::kDouble), w = torch::randn({C, 1, k, k}, torch::kDouble);
        at::Tensor b = torch::randn({C}, torch::kDouble);
        const at::Tensor dy = torch::randn({B, C, H, W}, torch::kDouble);
        std::optional<at::Tensor> bias;
        if (with_bias) bias = b;
        const auto f = [&] { return vss::depthwise_conv2d(x, w, bias, silu); };
        const std::string where = std::to_string(B) + "x" + std::to_string(C) + "x" + std::to_string(H) + "x" +
                                  std::to_string(W) + " k" + std::to_string(k) + " bias " + std::to_string(with_bias) +
                                  " silu " + std::to_string(silu);
        const auto [dx, dw, db] = vss::depthwise_conv2d_backward(dy, x, w, bias, silu);
        EXPECT_LT(max_abs_diff(dx, numeric_gradient(f, x, dy)), 1e-7) << where << ": dx";
        EXPECT_LT(max_abs_diff(dw, numeric_gradient(f, w, dy)), 1e-7) << where << ": dweight";
        if (with_bias) {
          EXPECT_LT(max_abs_diff(db, numeric_gradient(f, b, dy)), 1e-7) << where << ": dbias";
        } else {
          EXPECT_FALSE(db.defined()) << where;
        }
        // The autograd registration hands out the same gradients.
        const at::Tensor xg = x.clone().requires_grad_(), wg = w.clone().requires_grad_();
        const at::Tensor bg = b.clone().requires_grad_();
        std::optional<at::Tensor> bias_g;
        if (with_bias) bias_g = bg;
        const auto grads = torch::autograd::grad({(vss::depthwise_conv2d(xg, wg, bias_g, silu) * dy).sum()},
                                                 {xg, wg}, {}, std::nullopt, false, /*allow_unused=*/true);
        EXPECT_LT(max_abs_diff(grads[0], dx), 1e-12) << where;
        EXPECT_LT(max_abs_diff(grads[1], dw), 1e-12) << where;
      }
  }
}

TEST(depthwise_conv2d, bad_inputs_are_one_line_errors) {
  const at::Tensor x = torch::randn({1, 3, 4, 4});
  expect_one_line_error([&] { vss::depthwise_conv2d(x, torch::randn({4, 1, 3, 3})); },
                        "vss::depthwise_conv2d: weight must have shape [3, 1, k, k] with odd k");
  expect_one_line_error([&] { vss::depthwise_conv2d(x.view({3, 4, 4}), torch::randn({3, 1, 3, 3})); },
                        "x must have shape [B, C, H, W]");
  expect_one_line_error(
      [&] { vss::depthwise_conv2d_backward(torch::randn({1, 3, 4, 5}), x, torch::randn({3, 1, 3, 3}), std::nullopt, false); },
      "vss::depthwise_conv2d_backward: dy must have x's shape [1, 3, 4, 4]");
}

}  // namespace
