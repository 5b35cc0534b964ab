// vss::residual_add on the CPU (the reference the CUDA kernels are held to): x + branch ·
// sample_scale[b] against the sum computed in float64, the promoted result dtype, the gradients
// (x's is dout, the branch's dout · sample_scale[b] in the branch's dtype) against finite
// differences, and the bad-input messages.
#include "kernels/residual_add.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

using vss::test::expect_one_line_error;
using vss::test::max_abs_diff;

TEST(residual_add, is_the_per_sample_scaled_sum) {
  torch::manual_seed(1);
  const auto x = torch::randn({3, 4, 5}), branch = torch::randn({3, 4, 5});
  const auto scale = torch::tensor({0.f, 1.25f, 2.f});
  const auto want = x.to(torch::kDouble) + branch.to(torch::kDouble) * torch::tensor({0.0, 1.25, 2.0}).view({3, 1, 1});
  const auto got = vss::residual_add(x, branch, scale);
  ASSERT_EQ(got.scalar_type(), torch::kFloat);
  EXPECT_LE(max_abs_diff(got, want), 1e-6);
  EXPECT_TRUE(torch::equal(got[0], x[0]));  // a dropped sample is x exactly
  EXPECT_TRUE(torch::equal(vss::residual_add(x, branch), x + branch));
}

TEST(residual_add, result_has_the_promoted_dtype_and_the_branch_is_read_in_its_own) {
  torch::manual_seed(2);
  const auto x = torch::randn({2, 7}), branch = torch::randn({2, 7}).to(torch::kBFloat16);
  const auto got = vss::residual_add(x, branch, torch::tensor({0.5f, 3.f}));
  ASSERT_EQ(got.scalar_type(), torch::kFloat);
  const auto want = x.to(torch::kDouble) + branch.to(torch::kDouble) * torch::tensor({0.5, 3.0}).view({2, 1});
  EXPECT_LE(max_abs_diff(got, want), 1e-6);
  EXPECT_EQ(vss::residual_add(branch, branch).scalar_type(), torch::kBFloat16);
  EXPECT_EQ(vss::residual_add(branch, x).scalar_type(), torch::kFloat);
}

TEST(residual_add, gradients_match_finite_differences) {
  torch::manual_seed(3);
  const auto x = torch::randn({3, 2, 3}, torch::kDouble).requires_grad_();
  const auto branch = torch::randn({3, 2, 3}, torch::kDouble).requires_grad_();
  const auto scale = torch::tensor({1.5, 0.0, -0.75}, torch::kDouble);
  const auto weight = torch::randn({3, 2, 3}, torch::kDouble);  // loss = Σ weight · out
  const auto loss = [&](const at::Tensor& a, const at::Tensor& b) {
    return (vss::residual_add(a, b, scale) * weight).sum().item<double>();
  };
  (vss::residual_add(x, branch, scale) * weight).sum().backward();
  const double h = 1e-6;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const auto e = torch::zeros({x.numel()}, torch::kDouble).index_put_({i}, h).view(x.sizes());
    const auto xd = x.detach(), bd = branch.detach();
    const double dx = (loss(xd + e, bd) - loss(xd - e, bd)) / (2 * h);
    const double db = (loss(xd, bd + e) - loss(xd, bd - e)) / (2 * h);
    EXPECT_NEAR(x.grad().view(-1)[i].item<double>(), dx, 1e-8) << i;
    EXPECT_NEAR(branch.grad().view(-1)[i].item<double>(), db, 1e-8) << i;
  }
}

TEST(residual_add, gradients_come_in_each_inputs_dtype) {
  const auto x = torch::randn({2, 8}).requires_grad_();
  const auto branch = torch::randn({2, 8}).to(torch::kBFloat16).requires_grad_();
  vss::residual_add(x, branch, torch::tensor({2.f, 0.5f})).sum().backward();
  ASSERT_EQ(x.grad().scalar_type(), torch::kFloat);
  ASSERT_EQ(branch.grad().scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(x.grad(), torch::ones({2, 8})));
  EXPECT_TRUE(torch::equal(branch.grad()[0], torch::full({8}, 2.f).to(torch::kBFloat16)));
  EXPECT_TRUE(torch::equal(branch.grad()[1], torch::full({8}, 0.5f).to(torch::kBFloat16)));
}

TEST(residual_add, bad_inputs_name_the_tensor_and_shape) {
  const auto x = torch::randn({2, 3});
  expect_one_line_error([&] { vss::residual_add(x, torch::randn({2, 4})); }, "branch must have x's shape [2, 3]");
  expect_one_line_error([&] { vss::residual_add(x, torch::randn({2, 3}), torch::ones({3})); },
                        "sample_scale must have shape [2]");
  expect_one_line_error([&] { vss::residual_add(x, torch::randn({2, 3}), torch::ones({2}, torch::kInt)); },
                        "sample_scale must be float32 or float64");
  expect_one_line_error([&] { vss::residual_add(x, torch::ones({2, 3}, torch::kInt)); },
                        "x and branch must be float32, float16, bfloat16 or float64");
}

}  // namespace
