// vss::layer_norm on the CPU (the reference the CUDA kernels are held to) against PyTorch's own
// at::layer_norm in float64, both layouts, every out_dtype, its backward against at::layer_norm's
// autograd and against finite differences, the residual gradient added in the backward
// (layer_norm_with_skip against at::layer_norm with x used twice), and the bad-input messages.
#include "kernels/layer_norm.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

namespace {

using vss::test::expect_one_line_error;

double max_abs(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

at::Tensor torch_layer_norm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, double eps) {
  return at::layer_norm(x.to(torch::kDouble), {x.size(-1)}, w.to(torch::kDouble), b.to(torch::kDouble), eps);
}

TEST(layer_norm, channel_last_matches_torch_in_float64) {
  torch::manual_seed(1);
  for (int64_t C : {1, 2, 5, 96, 97}) {
    // A large common offset: a one-pass E[x²] - E[x]² would lose the variance's digits.
    const auto x = torch::randn({3, 7, C}, torch::kDouble) * 0.01 + 100.0;
    const auto w = torch::randn({C}, torch::kDouble), b = torch::randn({C}, torch::kDouble);
    const auto ours = vss::layer_norm(x, w, b, 1e-5);
    ASSERT_EQ(ours.sizes(), x.sizes());
    ASSERT_EQ(ours.scalar_type(), torch::kDouble);
    EXPECT_LE(max_abs(ours, torch_layer_norm(x, w, b, 1e-5)), 1e-9) << "C=" << C;
  }
}

TEST(layer_norm, channel_first_is_the_channel_last_norm_of_the_transposed_map) {
  torch::manual_seed(2);
  const auto x = torch::randn({2, 5, 3, 4}, torch::kDouble);  // [B, C, H, W]
  const auto w = torch::randn({5}, torch::kDouble), b = torch::randn({5}, torch::kDouble);
  const auto ours = vss::layer_norm(x, w, b, 1e-6, /*channel_first=*/true);
  ASSERT_EQ(ours.sizes(), (std::vector<int64_t>{2, 3, 4, 5}));
  EXPECT_LE(max_abs(ours, torch_layer_norm(x.permute({0, 2, 3, 1}), w, b, 1e-6)), 1e-12);
  // [B, C] alone: no spatial dims, the rows are the batch.
  const auto flat = torch::randn({4, 5}, torch::kDouble);
  EXPECT_LE(max_abs(vss::layer_norm(flat, w, b, 1e-5, true), torch_layer_norm(flat, w, b, 1e-5)), 1e-12);
}

TEST(layer_norm, out_dtype_is_the_float64_result_rounded_once) {
  torch::manual_seed(3);
  const auto x = torch::randn({6, 33});
  const auto w = torch::randn({33}), b = torch::randn({33});
  const auto exact = vss::layer_norm(x.to(torch::kDouble), w, b, 1e-5);
  EXPECT_LE(max_abs(exact, torch_layer_norm(x, w, b, 1e-5)), 1e-12);
  for (auto dt : {torch::kFloat, torch::kHalf, torch::kBFloat16, torch::kDouble}) {
    const auto ours = vss::layer_norm(x, w, b, 1e-5, false, dt);
    ASSERT_EQ(ours.scalar_type(), dt);
    EXPECT_TRUE(torch::equal(ours, exact.to(dt))) << dt;
  }
  // bf16 input, float32 parameters: the statistics see the bf16 values exactly.
  const auto xb = x.to(torch::kBFloat16);
  EXPECT_LE(max_abs(vss::layer_norm(xb, w, b, 1e-5, false, torch::kFloat), torch_layer_norm(xb, w, b, 1e-5)),
            1e-6);
}

TEST(layer_norm, constant_rows_give_the_bias) {
  const auto x = torch::full({2, 8}, 3.5);
  const auto w = torch::randn({8}), b = torch::randn({8});
  EXPECT_LE(max_abs(vss::layer_norm(x, w, b, 1e-5), b.expand({2, 8})), 1e-6);
}

TEST(layer_norm, bad_arguments_name_the_tensor_and_shape) {
  const auto x = torch::randn({2, 3, 4});
  const auto w = torch::ones({4}), b = torch::zeros({4});
  expect_one_line_error([&] { vss::layer_norm(x, torch::ones({3}), b, 1e-5); },
               "vss::layer_norm: weight must have shape [4] (x's channels), got [3]");
  expect_one_line_error([&] { vss::layer_norm(x, w, torch::zeros({2, 2}), 1e-5); },
               "vss::layer_norm: bias must have shape [4] (x's channels), got [2, 2]");
  expect_one_line_error([&] { vss::layer_norm(x, w, b, 1e-5, /*channel_first=*/true); },
               "weight must have shape [3] (x's channels), got [4]");
  expect_one_line_error([&] { vss::layer_norm(torch::randn({4}), w, b, 1e-5, true); },
               "x must have shape [B, C, *spatial] (channel_first), got [4]");
  expect_one_line_error([&] { vss::layer_norm(torch::ones({2, 4}, torch::kInt), w, b, 1e-5); },
               "x must be float32, float16, bfloat16 or float64, got Int");
  expect_one_line_error([&] { vss::layer_norm(x, w, b, -1.0); }, "eps must be >= 0, got -1");
  expect_one_line_error([&] { vss::layer_norm(x, w, b, 1e-5, false, torch::kLong); },
               "out_dtype must be float32, float16, bfloat16 or float64, got Long");
}

// Gradients of Σ y·r (a fixed random r) with respect to x, weight, bias.
struct Grads {
  at::Tensor dx, dweight, dbias;
};

Grads ours_by_autograd(const at::Tensor& x0, const at::Tensor& w0, const at::Tensor& b0, const at::Tensor& r,
                       bool channel_first) {
  const auto x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true),
             b = b0.clone().requires_grad_(true);
  (vss::layer_norm(x, w, b, 1e-5, channel_first) * r).sum().backward();
  return {x.grad(), w.grad(), b.grad()};
}

TEST(layer_norm, backward_matches_torch_autograd_in_float64) {
  torch::manual_seed(4);
  for (const bool channel_first : {false, true}) {
    for (int64_t C : {1, 2, 5, 96, 97}) {
      // Channel-first [B, C, H, W] or channel-last [B, H, W, C]; the result is channel-last.
      const auto x = channel_first ? torch::randn({2, C, 3, 5}, torch::kDouble) * 2.0 + 3.0
                                   : torch::randn({2, 3, 5, C}, torch::kDouble) * 2.0 + 3.0;
      const auto w = torch::randn({C}, torch::kDouble), b = torch::randn({C}, torch::kDouble);
      const auto r = torch::randn({2, 3, 5, C}, torch::kDouble);
      const Grads ours = ours_by_autograd(x, w, b, r, channel_first);
      const auto xt = (channel_first ? x.permute({0, 2, 3, 1}) : x).clone().requires_grad_(true);
      const auto wt = w.clone().requires_grad_(true), bt = b.clone().requires_grad_(true);
      (at::layer_norm(xt, {C}, wt, bt, 1e-5) * r).sum().backward();
      const auto torch_dx = channel_first ? xt.grad().permute({0, 3, 1, 2}) : xt.grad();
      const std::string label = (channel_first ? "channel-first C=" : "C=") + std::to_string(C);
      ASSERT_EQ(ours.dx.sizes(), x.sizes()) << label;
      EXPECT_LE(max_abs(ours.dx, torch_dx), 1e-10) << label;
      EXPECT_LE(max_abs(ours.dweight, wt.grad()), 1e-10) << label;
      EXPECT_LE(max_abs(ours.dbias, bt.grad()), 1e-10) << label;
    }
  }
}

TEST(layer_norm, backward_matches_finite_differences) {
  torch::manual_seed(5);
  const auto x = torch::randn({3, 4, 2}, torch::kDouble);  // channel-first [B = 3, C = 4, S = 2]
  const auto w = torch::randn({4}, torch::kDouble), b = torch::randn({4}, torch::kDouble);
  const auto r = torch::randn({3, 2, 4}, torch::kDouble);
  const Grads ours = ours_by_autograd(x, w, b, r, /*channel_first=*/true);
  const auto loss = [&](const at::Tensor& xx, const at::Tensor& ww, const at::Tensor& bb) {
    return (vss::layer_norm(xx, ww, bb, 1e-5, true) * r).sum().item<double>();
  };
  const double h = 1e-6;
  const auto central = [&](const at::Tensor& t, int64_t i, auto&& f) {
    auto plus = t.clone(), minus = t.clone();
    plus.view(-1)[i] += h;
    minus.view(-1)[i] -= h;
    return (f(plus) - f(minus)) / (2 * h);
  };
  for (int64_t i = 0; i < x.numel(); ++i)
    EXPECT_NEAR(ours.dx.view(-1)[i].item<double>(), central(x, i, [&](const at::Tensor& t) { return loss(t, w, b); }),
                1e-7)
        << "dx[" << i << "]";
  for (int64_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(ours.dweight[i].item<double>(), central(w, i, [&](const at::Tensor& t) { return loss(x, t, b); }),
                1e-7)
        << "dweight[" << i << "]";
    EXPECT_NEAR(ours.dbias[i].item<double>(), central(b, i, [&](const at::Tensor& t) { return loss(x, w, t); }),
                1e-7)
        << "dbias[" << i << "]";
  }
}

// x + f(norm(x)) built on layer_norm_with_skip's skip: x's gradient is the norm's plus the
// one along skip, as torch's autograd sums them when x is used twice.
TEST(layer_norm, with_skip_gradient_is_torch_autograd_of_x_used_twice) {
  torch::manual_seed(6);
  for (int64_t C : {1, 5, 96}) {
    const auto x0 = torch::randn({2, 3, 4, C}, torch::kDouble) * 2.0 + 1.0;
    const auto w0 = torch::randn({C}, torch::kDouble), b0 = torch::randn({C}, torch::kDouble);
    const auto r = torch::randn({2, 3, 4, C}, torch::kDouble), s = torch::randn({2, 3, 4, C}, torch::kDouble);
    const auto x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true),
               b = b0.clone().requires_grad_(true);
    const auto [normed, skip] = vss::layer_norm_with_skip(x, w, b, 1e-5);
    ((skip * s).sum() + (normed * r).sum()).backward();
    const auto xt = x0.clone().requires_grad_(true), wt = w0.clone().requires_grad_(true),
               bt = b0.clone().requires_grad_(true);
    ((xt * s).sum() + (at::layer_norm(xt, {C}, wt, bt, 1e-5) * r).sum()).backward();
    const std::string label = "C=" + std::to_string(C);
    EXPECT_TRUE(torch::equal(skip, x0)) << label;
    EXPECT_LE(max_abs(x.grad(), xt.grad()), 1e-10) << label;
    EXPECT_LE(max_abs(w.grad(), wt.grad()), 1e-10) << label;
    EXPECT_LE(max_abs(b.grad(), bt.grad()), 1e-10) << label;
  }
}

// Only one of the two outputs used: the other's gradient is absent, not zero-filled.
TEST(layer_norm, with_skip_takes_either_output_alone) {
  torch::manual_seed(7);
  const auto x0 = torch::randn({3, 8}, torch::kDouble), w0 = torch::randn({8}, torch::kDouble);
  const auto b0 = torch::randn({8}, torch::kDouble), r = torch::randn({3, 8}, torch::kDouble);
  {
    const auto x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true);
    (std::get<1>(vss::layer_norm_with_skip(x, w, b0, 1e-5)) * r).sum().backward();
    EXPECT_TRUE(torch::equal(x.grad(), r));
    EXPECT_FALSE(w.grad().defined());
  }
  const auto x = x0.clone().requires_grad_(true);
  (std::get<0>(vss::layer_norm_with_skip(x, w0, b0, 1e-5)) * r).sum().backward();
  const auto xt = x0.clone().requires_grad_(true);
  (at::layer_norm(xt, {8}, w0, b0, 1e-5) * r).sum().backward();
  EXPECT_LE(max_abs(x.grad(), xt.grad()), 1e-10);
}

TEST(layer_norm, with_skip_without_gradients_returns_x_itself) {
  const auto x = torch::randn({2, 4}), w = torch::ones({4}), b = torch::zeros({4});
  const auto [normed, skip] = vss::layer_norm_with_skip(x, w, b, 1e-5, torch::kDouble);
  EXPECT_TRUE(skip.is_same(x));
  EXPECT_EQ(normed.scalar_type(), torch::kDouble);
  EXPECT_LE(max_abs(normed, torch_layer_norm(x, w, b, 1e-5)), 1e-6);
}

// The reference's residual_grad, in both layouts and in another dtype than x's: added to dx.
TEST(layer_norm, backward_residual_grad_is_added_to_dx) {
  torch::manual_seed(8);
  for (const bool channel_first : {false, true}) {
    const auto x = torch::randn({2, 5, 3, 4}, torch::kDouble);
    const auto w = torch::randn({channel_first ? 5 : 4}, torch::kDouble);
    const auto dy = torch::randn(channel_first ? std::vector<int64_t>{2, 3, 4, 5} : std::vector<int64_t>{2, 5, 3, 4},
                                 torch::kDouble);
    const auto residual = torch::randn({2, 5, 3, 4}).to(torch::kBFloat16);
    const auto [plain, dw0, db0] = vss::layer_norm_backward(dy, x, w, 1e-5, channel_first);
    const auto [dx, dw, db] = vss::layer_norm_backward(dy, x, w, 1e-5, channel_first, residual);
    EXPECT_LE(max_abs(dx, plain + residual.to(torch::kDouble)), 1e-12) << channel_first;
    EXPECT_TRUE(torch::equal(dw, dw0) && torch::equal(db, db0)) << channel_first;
  }
}

TEST(layer_norm, backward_dtypes_follow_x_and_weight) {
  const auto x = torch::randn({5, 8}).to(torch::kBFloat16);
  const auto w = torch::randn({8}), dy = torch::randn({5, 8}).to(torch::kBFloat16);
  const auto [dx, dweight, dbias] = vss::layer_norm_backward(dy, x, w, 1e-5);
  EXPECT_EQ(dx.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(dweight.scalar_type(), torch::kFloat);
  EXPECT_EQ(dbias.scalar_type(), torch::kFloat);
  // dbias is Σ dy over the rows, whatever x is.
  EXPECT_LE(max_abs(dbias, dy.to(torch::kDouble).sum(0)), 1e-5);
}

TEST(layer_norm, backward_bad_arguments_name_the_tensor_and_shape) {
  const auto x = torch::randn({2, 3, 4});
  const auto w = torch::ones({4});
  expect_one_line_error([&] { vss::layer_norm_backward(torch::randn({2, 4, 3}), x, w, 1e-5); },
                        "vss::layer_norm_backward: dy must have the forward result's shape [2, 3, 4], got [2, 4, 3]");
  // Channel-first x [2, 3, 4]: the result (and dy) is [2, 4, 3].
  expect_one_line_error([&] { vss::layer_norm_backward(torch::randn({2, 3, 4}), x, torch::ones({3}), 1e-5, true); },
                        "dy must have the forward result's shape [2, 4, 3], got [2, 3, 4]");
  expect_one_line_error([&] { vss::layer_norm_backward(torch::randn({2, 3, 4}).to(torch::kLong), x, w, 1e-5); },
                        "dy must be float32, float16, bfloat16 or float64, got Long");
  expect_one_line_error([&] { vss::layer_norm_backward(torch::randn({2, 3, 4}), x, torch::ones({5}), 1e-5); },
                        "weight must have shape [4] (x's channels), got [5]");
  expect_one_line_error([&] { vss::layer_norm_backward(torch::randn({2, 3, 4}), x, w, 1e-5, false, torch::randn({2, 4, 3})); },
                        "vss::layer_norm_backward: residual_grad must have x's shape [2, 3, 4], got [2, 4, 3]");
  expect_one_line_error(
      [&] { vss::layer_norm_backward(torch::randn({2, 3, 4}), x, w, 1e-5, false, torch::ones({2, 3, 4}, torch::kLong)); },
      "residual_grad must be float32, float16, bfloat16 or float64, got Long");
}

}  // namespace
