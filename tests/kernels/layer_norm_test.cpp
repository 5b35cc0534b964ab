// vss::layer_norm on the CPU (the reference the CUDA kernel is held to) against PyTorch's own
// at::layer_norm in float64, both layouts, every out_dtype, and its bad-input messages.
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

}  // namespace
