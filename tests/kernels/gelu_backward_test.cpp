// vss::gelu_backward_with_bias_grad on the CPU (the reference the CUDA kernel is held to)
// against ATen's own exact-GELU backward in float64 and the bias gradient by its definition
// (Σ dh over all but the last dimension), dh rounded once to 16-bit dtypes, empty inputs, and
// the bad-input messages.
#include "kernels/gelu_backward.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

using vss::test::expect_one_line_error;
using vss::test::max_abs_diff;

TEST(gelu_backward, matches_aten_gelu_backward_and_sums_the_bias_gradient) {
  torch::manual_seed(70);
  const auto h = torch::randn({2, 3, 5, 7}, torch::kDouble) * 3.0, dy = torch::randn({2, 3, 5, 7}, torch::kDouble);
  const auto [dh, dbias] = vss::gelu_backward_with_bias_grad(dy, h);
  const auto want = at::gelu_backward(dy, h);
  EXPECT_LT(max_abs_diff(dh, want), 1e-14);
  ASSERT_EQ(dbias.scalar_type(), torch::kDouble);
  EXPECT_LT(max_abs_diff(dbias, want.sum({0, 1, 2})), 1e-12);
}

TEST(gelu_backward, sixteen_bit_dh_is_rounded_once_and_summed_as_rounded) {
  torch::manual_seed(71);
  for (auto t : {torch::kBFloat16, torch::kHalf}) {
    const auto h = (torch::randn({40, 24}) * 3.0).to(t), dy = torch::randn({40, 24}).to(t);
    const auto [dh, dbias] = vss::gelu_backward_with_bias_grad(dy, h);
    ASSERT_EQ(dh.scalar_type(), t);
    ASSERT_EQ(dbias.scalar_type(), torch::kFloat);
    const auto exact = at::gelu_backward(dy.to(torch::kDouble), h.to(torch::kDouble));
    // Rounded once: within half a unit in the last place of the 16-bit dtype (8 and 11
    // significant bits: 2^-8 and 2^-11 of the value at most).
    const double half_ulp = t == torch::kBFloat16 ? 1.0 / 256 : 1.0 / 2048;
    EXPECT_TRUE(((dh.to(torch::kDouble) - exact).abs() <= exact.abs() * half_ulp + 1e-7).all().item<bool>())
        << c10::toString(t);
    EXPECT_LT(max_abs_diff(dbias, dh.to(torch::kDouble).sum(0)), 1e-5) << c10::toString(t);
  }
}

TEST(gelu_backward, empty_rows_give_zero_bias_gradient) {
  const auto [dh, dbias] = vss::gelu_backward_with_bias_grad(torch::zeros({0, 6}), torch::zeros({0, 6}));
  EXPECT_EQ(dh.sizes(), (std::vector<int64_t>{0, 6}));
  EXPECT_TRUE(torch::equal(dbias, torch::zeros({6})));
}

TEST(gelu_backward, bad_arguments_name_the_tensor_and_shape) {
  const auto h = torch::randn({2, 3});
  expect_one_line_error([&] { vss::gelu_backward_with_bias_grad(torch::randn({3, 2}), h); },
                        "vss::gelu_backward_with_bias_grad: dy must have h's shape [2, 3], got [3, 2]");
  expect_one_line_error([&] { vss::gelu_backward_with_bias_grad(torch::randn({2, 3}).to(torch::kBFloat16), h); },
                        "dy must have h's dtype Float, got BFloat16");
  expect_one_line_error([&] { vss::gelu_backward_with_bias_grad(torch::randn({}), torch::randn({})); },
                        "h must have shape [..., C] with C >= 1, got []");
  expect_one_line_error([&] { vss::gelu_backward_with_bias_grad(h.to(torch::kLong), h.to(torch::kLong)); },
                        "h must be float32, float16, bfloat16 or float64, got Long");
}

}  // namespace
