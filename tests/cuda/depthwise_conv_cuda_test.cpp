// vss::depthwise_conv2d_channels_last on CUDA against its CPU kernel (at::conv2d): rows and
// columns of one pixel, ragged runs of 8 along W, 1..96 channels, k = 1, 3, 5, 7, bias and SiLU
// on and off, float32 / float16 / bfloat16. Skipped without a GPU.
#include "kernels/depthwise_conv.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <vector>

namespace {

TEST(cuda_depthwise_conv2d_channels_last, matches_cpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(7);
  for (auto [B, H, W, C, k] : std::vector<std::array<int64_t, 5>>{
           {1, 1, 1, 1, 3}, {2, 1, 17, 5, 3}, {2, 13, 1, 40, 3}, {3, 9, 10, 96, 3},
           {1, 20, 33, 7, 5}, {2, 8, 8, 3, 1}, {1, 30, 30, 16, 7}}) {
    const at::Tensor x32 = torch::randn({B, H, W, C});
    const at::Tensor w = torch::randn({C, 1, k, k}) * 0.3, b = torch::randn({C});
    for (at::ScalarType dtype : {torch::kFloat, torch::kHalf, torch::kBFloat16}) {
      const at::Tensor x = x32.to(dtype);
      for (bool with_bias : {false, true})
        for (bool silu : {false, true}) {
          std::optional<at::Tensor> bias, bias_gpu;
          if (with_bias) bias = b.to(torch::kDouble), bias_gpu = b.cuda();
          // The exact result from the same rounded inputs, rounded once to the output dtype.
          const at::Tensor want = vss::depthwise_conv2d_channels_last(x.to(torch::kDouble),
                                                                      w.to(torch::kDouble), bias, silu)
                                      .to(dtype).to(torch::kDouble);
          const at::Tensor got = vss::depthwise_conv2d_channels_last(x.cuda(), w.cuda(), bias_gpu, silu);
          ASSERT_EQ(got.scalar_type(), dtype);
          const double err = ((got.cpu().to(torch::kDouble) - want).abs() / want.abs().clamp_min(1.0))
                                 .max().item<double>();
          EXPECT_LT(err, dtype == torch::kFloat ? 1e-5 : dtype == torch::kHalf ? 2e-3 : 1.6e-2)
              << B << "x" << H << "x" << W << "x" << C << " k" << k << " " << c10::toString(dtype)
              << " bias " << with_bias << " silu " << silu;
        }
    }
  }
}

TEST(cuda_depthwise_conv2d_channels_last, bad_inputs_are_one_line_errors) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const at::Tensor x = torch::randn({1, 4, 4, 3}, torch::kCUDA);
  vss::test::expect_one_line_error(
      [&] { vss::depthwise_conv2d_channels_last(x, torch::randn({3, 1, 3, 3})); },
      "weight must be on x's device");
  vss::test::expect_one_line_error(
      [&] { vss::depthwise_conv2d_channels_last(x, torch::randn({3, 1, 9, 9}, torch::kCUDA)); },
      "k <= 7");
  vss::test::expect_one_line_error(
      [&] { vss::depthwise_conv2d_channels_last(x.to(torch::kDouble), torch::randn({3, 1, 3, 3}, torch::kCUDA).to(torch::kDouble)); },
      "float64 is CPU-only");
}

}  // namespace
