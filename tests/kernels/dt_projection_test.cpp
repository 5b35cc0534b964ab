// vss::dt_projection on the CPU (the reference the CUDA kernel is held to): weight[k] · x[b, k]
// against the product summed in float64 by hand, a row-strided x (a narrow of x_proj's rows,
// as SS2D passes it), the gradients against finite differences, and the bad-input messages.
#include "kernels/dt_projection.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

using vss::test::expect_one_line_error;
using vss::test::max_abs_diff;

// out[b, k, d, l] = Σ_r weight[k, d, r] · x[b, k, r, l], by loops in float64.
at::Tensor by_hand(const at::Tensor& x, const at::Tensor& weight) {
  const auto xd = x.to(torch::kDouble), wd = weight.to(torch::kDouble);
  const int64_t B = x.size(0), K = x.size(1), R = x.size(2), L = x.size(3), D = weight.size(1);
  auto out = torch::zeros({B, K, D, L}, torch::kDouble);
  auto o = out.accessor<double, 4>();
  const auto xa = xd.accessor<double, 4>();
  const auto wa = wd.accessor<double, 3>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t d = 0; d < D; ++d)
        for (int64_t l = 0; l < L; ++l)
          for (int64_t r = 0; r < R; ++r) o[b][k][d][l] += wa[k][d][r] * xa[b][k][r][l];
  return out;
}

TEST(dt_projection, is_the_per_direction_product) {
  torch::manual_seed(1);
  const auto x = torch::randn({2, 3, 4, 5}), weight = torch::randn({3, 7, 4});
  const auto got = vss::dt_projection(x, weight);
  ASSERT_EQ(got.sizes(), (std::vector<int64_t>{2, 3, 7, 5}));
  ASSERT_EQ(got.scalar_type(), torch::kFloat);
  EXPECT_LE(max_abs_diff(got, by_hand(x, weight)), 1e-5);
}

TEST(dt_projection, reads_a_narrow_of_the_projection_rows_and_writes_x_dtype) {
  torch::manual_seed(2);
  const auto x_dbl = torch::randn({2, 4, 8, 9}).to(torch::kBFloat16), weight = torch::randn({4, 5, 6});
  const auto x = x_dbl.narrow(2, 0, 6);
  const auto got = vss::dt_projection(x, weight);
  ASSERT_EQ(got.scalar_type(), torch::kBFloat16);
  // One bf16 rounding of a float32 sum: within 2^-8 of the exact value, relatively.
  const auto want = by_hand(x, weight);
  EXPECT_LE(((got.to(torch::kDouble) - want).abs() / (want.abs() + 1e-3)).max().item<double>(), 1.0 / 256);
}

TEST(dt_projection, gradients_match_finite_differences) {
  torch::manual_seed(3);
  const auto x = torch::randn({2, 2, 3, 4}, torch::kDouble).requires_grad_();
  const auto weight = torch::randn({2, 5, 3}, torch::kDouble).requires_grad_();
  const auto probe = torch::randn({2, 2, 5, 4}, torch::kDouble);  // loss = Σ probe · out
  const auto loss = [&](const at::Tensor& a, const at::Tensor& w) {
    return (vss::dt_projection(a, w) * probe).sum().item<double>();
  };
  (vss::dt_projection(x, weight) * probe).sum().backward();
  const double h = 1e-6;
  const auto xd = x.detach(), wd = weight.detach();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const auto e = torch::zeros({x.numel()}, torch::kDouble).index_put_({i}, h).view(x.sizes());
    EXPECT_NEAR(x.grad().view(-1)[i].item<double>(), (loss(xd + e, wd) - loss(xd - e, wd)) / (2 * h), 1e-7) << i;
  }
  for (int64_t i = 0; i < weight.numel(); ++i) {
    const auto e = torch::zeros({weight.numel()}, torch::kDouble).index_put_({i}, h).view(weight.sizes());
    EXPECT_NEAR(weight.grad().view(-1)[i].item<double>(), (loss(xd, wd + e) - loss(xd, wd - e)) / (2 * h), 1e-7)
        << i;
  }
}

TEST(dt_projection, bad_inputs_name_the_tensor_and_shape) {
  const auto x = torch::randn({2, 3, 4, 5});
  expect_one_line_error([&] { vss::dt_projection(x.view({6, 4, 5}), torch::randn({3, 7, 4})); },
                        "x must have shape [B, K, R, L], got [6, 4, 5]");
  expect_one_line_error([&] { vss::dt_projection(x, torch::randn({3, 7, 5})); },
                        "weight must have shape [3, D, 4] (x's directions and rank), got [3, 7, 5]");
  expect_one_line_error([&] { vss::dt_projection(x, torch::ones({3, 7, 4}, torch::kInt)); },
                        "weight must be float32, float16, bfloat16 or float64");
}

}  // namespace
