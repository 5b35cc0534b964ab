// linear_summing_bias_grad and linear_gelu_summing_bias_grad (what Dense trains with on CUDA)
// against at::linear's (and at::gelu's) own autograd: the result and the gradients of x, weight
// and bias in float64 (the same products, the bias gradient summed by vss::column_sum or by
// vss::gelu_backward_with_bias_grad), and under CPU bf16 autocast the same dtypes as ATen gives
// there with values within bf16 rounding.
#include "backbones/layers.h"
#include "tests/support/test_support.h"

#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss {
namespace {

struct LinearRun {
  at::Tensor y, dx, dw, db;
};

template <typename F>
LinearRun run_linear(F&& linear, const at::Tensor& x0, const at::Tensor& w0, const at::Tensor& b0, const at::Tensor& g) {
  const auto x = x0.clone().requires_grad_(), w = w0.clone().requires_grad_(), b = b0.clone().requires_grad_();
  LinearRun r;
  r.y = linear(x, w, b);
  r.y.backward(g.to(r.y.scalar_type()));
  r.dx = x.grad();
  r.dw = w.grad();
  r.db = b.grad();
  return r;
}

TEST(LinearSummingBiasGrad, MatchesAtLinearWithItsGradients) {
  torch::manual_seed(1);
  const auto x = torch::randn({2, 5, 3, 7}, torch::kDouble), w = torch::randn({4, 7}, torch::kDouble);
  const auto b = torch::randn({4}, torch::kDouble), g = torch::randn({2, 5, 3, 4}, torch::kDouble);
  const auto plain = [](const at::Tensor& a, const at::Tensor& ww, const at::Tensor& bb) { return at::linear(a, ww, bb); };
  const LinearRun want = run_linear(plain, x, w, b, g), got = run_linear(linear_summing_bias_grad, x, w, b, g);
  EXPECT_LT(test::max_abs_diff(got.y, want.y), 1e-12);
  EXPECT_LT(test::max_abs_diff(got.dx, want.dx), 1e-12);
  EXPECT_LT(test::max_abs_diff(got.dw, want.dw), 1e-12);
  EXPECT_LT(test::max_abs_diff(got.db, want.db), 1e-12);
  EXPECT_LT(test::max_abs_diff(got.db, g.sum({0, 1, 2})), 1e-12);  // the bias gradient by its definition
}

// Under CPU bf16 autocast: ours gives the result ATen's autograd gives (bit for bit) and the
// gradients in float32 within bf16 rounding of ATen's.
template <typename F, typename G>
void expect_like_aten_under_autocast(F&& ours, G&& plain) {
  const auto x = torch::randn({3, 9, 16}), w = torch::randn({8, 16}), b = torch::randn({8}), g = torch::randn({3, 9, 8});
  at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
  at::autocast::set_autocast_enabled(at::kCPU, true);
  const LinearRun want = run_linear(plain, x, w, b, g), got = run_linear(ours, x, w, b, g);
  at::autocast::set_autocast_enabled(at::kCPU, false);
  at::autocast::clear_cache();
  EXPECT_EQ(got.y.scalar_type(), want.y.scalar_type());
  EXPECT_EQ(got.dx.scalar_type(), torch::kFloat);
  EXPECT_EQ(got.dw.scalar_type(), torch::kFloat);
  EXPECT_EQ(got.db.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(got.y, want.y));
  for (const auto& [a, c] : {std::pair{got.dx, want.dx}, {got.dw, want.dw}, {got.db, want.db}})
    EXPECT_LT(test::max_abs_diff(a, c) / c.abs().max().item().toDouble(), 1e-2);
}

TEST(LinearSummingBiasGrad, UnderAutocastRunsInTheAutocastDtype) {
  torch::manual_seed(2);
  expect_like_aten_under_autocast(linear_summing_bias_grad, [](const at::Tensor& a, const at::Tensor& ww,
                                                               const at::Tensor& bb) { return at::linear(a, ww, bb); });
}

TEST(LinearGeluSummingBiasGrad, MatchesAtGeluOfAtLinearWithItsGradients) {
  torch::manual_seed(3);
  const auto x = torch::randn({2, 5, 3, 7}, torch::kDouble), w = torch::randn({4, 7}, torch::kDouble);
  const auto b = torch::randn({4}, torch::kDouble), g = torch::randn({2, 5, 3, 4}, torch::kDouble);
  const auto plain = [](const at::Tensor& a, const at::Tensor& ww, const at::Tensor& bb) {
    return at::gelu(at::linear(a, ww, bb));
  };
  const LinearRun want = run_linear(plain, x, w, b, g), got = run_linear(linear_gelu_summing_bias_grad, x, w, b, g);
  EXPECT_LT(test::max_abs_diff(got.y, want.y), 1e-12);
  EXPECT_LT(test::max_abs_diff(got.dx, want.dx), 1e-12);
  EXPECT_LT(test::max_abs_diff(got.dw, want.dw), 1e-12);
  EXPECT_LT(test::max_abs_diff(got.db, want.db), 1e-12);
}

TEST(LinearGeluSummingBiasGrad, UnderAutocastRunsInTheAutocastDtype) {
  torch::manual_seed(4);
  expect_like_aten_under_autocast(linear_gelu_summing_bias_grad,
                                  [](const at::Tensor& a, const at::Tensor& ww, const at::Tensor& bb) {
                                    return at::gelu(at::linear(a, ww, bb));
                                  });
}

}  // namespace
}  // namespace vss
