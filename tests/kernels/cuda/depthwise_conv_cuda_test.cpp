// The depthwise convolutions on CUDA against their CPU kernels (at::conv2d and
// at::convolution_backward in float64 on the same rounded inputs): rows and columns of one
// pixel, planes cut into several tiles (wide, tall) and into one, k = 1, 3, 5, 7, bias and SiLU
// on and off, float32 / float16 / bfloat16; the channel-first backward's dx, dweight and dbias,
// bit-identical reruns, and bad input. Runs on the GPU, and on the CUDA emulator
// (tests/emulation) where there is none.
#include "kernels/depthwise_conv.h"
#include "tests/support/gpu.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <string>
#include <vector>

namespace {

using vss::test::kGpu;

// Max |ours - exact| / max(1, |exact|) elementwise.
double conv_error(const at::Tensor& ours, const at::Tensor& exact) {
  const at::Tensor e = exact.to(torch::kCPU, torch::kDouble);
  return ((ours.to(torch::kCPU, torch::kDouble) - e).abs() / e.abs().clamp_min(1.0)).max().item<double>();
}

double conv_tolerance(at::ScalarType t) { return t == torch::kFloat ? 1e-5 : t == torch::kHalf ? 2e-3 : 1.6e-2; }

std::string case_label(const std::array<int64_t, 5>& s, at::ScalarType t, bool bias, bool silu) {
  return std::to_string(s[0]) + "x" + std::to_string(s[1]) + "x" + std::to_string(s[2]) + "x" + std::to_string(s[3]) +
         " k" + std::to_string(s[4]) + " " + c10::toString(t) + " bias " + std::to_string(bias) + " silu " +
         std::to_string(silu);
}

const std::vector<at::ScalarType> kConvTypes = {torch::kFloat, torch::kHalf, torch::kBFloat16};

TEST(cuda_depthwise_conv2d_channels_last, matches_cpu) {
  REQUIRE_GPU();
  torch::manual_seed(7);
  // B, H, W, C, k
  for (const auto& s : std::vector<std::array<int64_t, 5>>{
           {1, 1, 1, 1, 3}, {2, 1, 17, 5, 3}, {2, 13, 1, 40, 3}, {3, 9, 10, 96, 3},
           {1, 20, 33, 7, 5}, {2, 8, 8, 3, 1}, {1, 30, 30, 16, 7}}) {
    const auto [B, H, W, C, k] = s;
    const at::Tensor x32 = torch::randn({B, H, W, C});
    const at::Tensor w = torch::randn({C, 1, k, k}) * 0.3, b = torch::randn({C});
    for (at::ScalarType dtype : kConvTypes) {
      const at::Tensor x = x32.to(dtype);
      for (bool with_bias : {false, true})
        for (bool silu : {false, true}) {
          std::optional<at::Tensor> bias, bias_gpu;
          if (with_bias) bias = b.to(torch::kDouble), bias_gpu = b.to(kGpu);
          // The exact result from the same rounded inputs, rounded once to the output dtype.
          const at::Tensor want = vss::depthwise_conv2d_channels_last(x.to(torch::kDouble),
                                                                      w.to(torch::kDouble), bias, silu)
                                      .to(dtype);
          const at::Tensor got = vss::depthwise_conv2d_channels_last(x.to(kGpu), w.to(kGpu), bias_gpu, silu);
          ASSERT_EQ(got.scalar_type(), dtype);
          EXPECT_LT(conv_error(got, want), conv_tolerance(dtype)) << case_label(s, dtype, with_bias, silu);
        }
    }
  }
}

// B, C, H, W, k: one pixel, a row, a column, planes of one tile, wide rows cut into 64-column
// tiles with a ragged last one, tall planes cut into row tiles, every kernel size.
const std::vector<std::array<int64_t, 5>> kChannelFirstShapes = {
    {1, 1, 1, 1, 3}, {2, 3, 1, 17, 3}, {2, 4, 19, 1, 5}, {3, 6, 9, 10, 3}, {1, 2, 5, 150, 3},
    {1, 2, 300, 3, 7}, {2, 3, 70, 40, 3}, {1, 3, 8, 8, 1}, {1, 2, 12, 13, 7}};

TEST(cuda_depthwise_conv2d, forward_matches_cpu) {
  REQUIRE_GPU();
  torch::manual_seed(8);
  for (const auto& s : kChannelFirstShapes) {
    const auto [B, C, H, W, k] = s;
    const at::Tensor x32 = torch::randn({B, C, H, W});
    const at::Tensor w = torch::randn({C, 1, k, k}) * 0.3, b = torch::randn({C});
    for (at::ScalarType dtype : kConvTypes)
      for (bool with_bias : {false, true})
        for (bool silu : {false, true}) {
          const at::Tensor x = x32.to(dtype);
          std::optional<at::Tensor> bias, bias_gpu;
          if (with_bias) bias = b.to(torch::kDouble), bias_gpu = b.to(kGpu);
          const at::Tensor want =
              vss::depthwise_conv2d(x.to(torch::kDouble), w.to(torch::kDouble), bias, silu).to(dtype);
          const at::Tensor got = vss::depthwise_conv2d(x.to(kGpu), w.to(kGpu), bias_gpu, silu);
          ASSERT_EQ(got.sizes(), x.sizes());
          ASSERT_EQ(got.scalar_type(), dtype);
          EXPECT_LT(conv_error(got, want), conv_tolerance(dtype)) << case_label(s, dtype, with_bias, silu);
        }
  }
}

TEST(cuda_depthwise_conv2d, backward_matches_cpu) {
  REQUIRE_GPU();
  torch::manual_seed(9);
  for (const auto& s : kChannelFirstShapes) {
    const auto [B, C, H, W, k] = s;
    const at::Tensor x32 = torch::randn({B, C, H, W}), dy32 = torch::randn({B, C, H, W});
    const at::Tensor w = torch::randn({C, 1, k, k}) * 0.3, b = torch::randn({C});
    for (at::ScalarType dtype : kConvTypes)
      for (bool with_bias : {false, true})
        for (bool silu : {false, true}) {
          const at::Tensor x = x32.to(dtype), dy = dy32.to(dtype);
          std::optional<at::Tensor> bias, bias_gpu;
          if (with_bias) bias = b.to(torch::kDouble), bias_gpu = b.to(kGpu);
          const auto [ex, ew, eb] = vss::depthwise_conv2d_backward(dy.to(torch::kDouble), x.to(torch::kDouble),
                                                                   w.to(torch::kDouble), bias, silu);
          const auto [dx, dw, db] = vss::depthwise_conv2d_backward(dy.to(kGpu), x.to(kGpu), w.to(kGpu), bias_gpu, silu);
          const std::string where = case_label(s, dtype, with_bias, silu);
          ASSERT_EQ(dx.scalar_type(), dtype) << where;
          ASSERT_EQ(dw.scalar_type(), torch::kFloat) << where;
          EXPECT_LT(conv_error(dx, ex.to(dtype)), conv_tolerance(dtype)) << where << ": dx";
          // Sums over a whole batch of planes, in float32 from the same rounded inputs.
          const double sum_scale = std::max(1.0, ew.abs().max().item<double>());
          EXPECT_LT((dw.cpu().to(torch::kDouble) - ew).abs().max().item<double>() / sum_scale, 1e-4) << where;
          if (with_bias) {
            EXPECT_LT(conv_error(db, eb), 1e-4) << where << ": dbias";
          } else {
            EXPECT_FALSE(db.defined()) << where;
          }
        }
  }
}

TEST(cuda_depthwise_conv2d, backward_reruns_are_bit_identical_and_autograd_uses_it) {
  REQUIRE_GPU();
  torch::manual_seed(10);
  const at::Tensor x = torch::randn({3, 4, 21, 70}).to(kGpu, torch::kBFloat16);
  const at::Tensor dy = torch::randn({3, 4, 21, 70}).to(kGpu, torch::kBFloat16);
  const at::Tensor w = (torch::randn({4, 1, 3, 3}) * 0.3).to(kGpu), b = torch::randn({4}).to(kGpu);
  const auto [dx1, dw1, db1] = vss::depthwise_conv2d_backward(dy, x, w, b, true);
  const auto [dx2, dw2, db2] = vss::depthwise_conv2d_backward(dy, x, w, b, true);
  EXPECT_TRUE(torch::equal(dx1, dx2) && torch::equal(dw1, dw2) && torch::equal(db1, db2));
  const at::Tensor wg = w.clone().requires_grad_(), bg = b.clone().requires_grad_();
  const at::Tensor xg = x.clone().requires_grad_();
  const at::Tensor y = vss::depthwise_conv2d(xg, wg, bg, true);
  const auto grads = torch::autograd::grad({y}, {xg, wg, bg}, {dy});
  EXPECT_TRUE(torch::equal(grads[0], dx1) && torch::equal(grads[1], dw1) && torch::equal(grads[2], db1));
}

TEST(cuda_depthwise_conv2d, bad_inputs_are_one_line_errors) {
  // The emulated GPU is the CPU: no second device to mix up.
  if (vss::test::kEmulatedGpu) GTEST_SKIP() << "device checks need two devices";
  REQUIRE_GPU();
  const at::Tensor x = torch::randn({1, 4, 4, 3}, kGpu);
  vss::test::expect_one_line_error(
      [&] { vss::depthwise_conv2d_channels_last(x, torch::randn({3, 1, 3, 3})); }, "weight must be on x's device");
  vss::test::expect_one_line_error(
      [&] { vss::depthwise_conv2d_channels_last(x, torch::randn({3, 1, 9, 9}, kGpu)); }, "k <= 7");
  vss::test::expect_one_line_error(
      [&] {
        vss::depthwise_conv2d(x.permute({0, 3, 1, 2}).to(torch::kDouble), torch::randn({3, 1, 3, 3}, kGpu).to(torch::kDouble));
      },
      "vss::depthwise_conv2d: float64 is CPU-only");
  vss::test::expect_one_line_error(
      [&] { vss::depthwise_conv2d_backward(x, x, torch::randn({3, 1, 3, 3}, kGpu), std::nullopt, false); },
      "vss::depthwise_conv2d_backward: weight must have shape [4, 1, k, k]");
}

}  // namespace
