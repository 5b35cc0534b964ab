// The stem's convs as they train on CUDA (Conv::forward_channel_last under bf16 autocast with
// gradients): the image's 3 channels zero-padded to 8 for cuDNN's tensor-core kernels must give
// at::conv2d's result and weight / bias gradients on the unpadded NCHW image, within bf16
// rounding; a conv whose input channels are already a multiple of 8 takes the plain path.
#include "backbones/layers.h"
#include "tests/support/gpu.h"
#include "tests/support/test_support.h"

#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss {
namespace {

struct ConvRun {
  at::Tensor y, dw, db;
};

// y = conv(image) under CUDA bf16 autocast, and the gradients of Σ y · probe.
template <typename F>
ConvRun run_conv(Conv& conv, F&& forward, const at::Tensor& probe) {
  conv->zero_grad();
  at::autocast::set_autocast_enabled(at::kCUDA, true);
  at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
  const at::Tensor y = forward();
  at::autocast::set_autocast_enabled(at::kCUDA, false);
  at::autocast::clear_cache();
  (y.to(torch::kFloat) * probe).sum().backward();
  return {y.to(torch::kFloat).cpu(), conv->weight.grad().cpu(), conv->bias.grad().cpu()};
}

double relative(const at::Tensor& a, const at::Tensor& b) {
  return test::max_abs_diff(a, b) / b.abs().max().item<double>();
}

TEST(StemConvCuda, PaddedImageChannelsGiveThePlainConvAndGradients) {
  REQUIRE_GPU();
  for (int64_t in : {3, 8}) {
    torch::manual_seed(70);
    Conv conv(in, 24, 3, 2, 1, 1, /*bias=*/true, /*float32_under_autocast=*/true);
    conv->to(torch::kCUDA);
    const at::Tensor image = torch::randn({2, in, 33, 30}).to(torch::kCUDA);  // NCHW, as images come
    const at::Tensor probe = torch::randn({2, 17, 15, 24}).to(torch::kCUDA);
    const ConvRun got = run_conv(conv, [&] { return conv->forward_channel_last(image.permute({0, 2, 3, 1})); }, probe);
    const ConvRun want = run_conv(
        conv,
        [&] { return at::conv2d(image, conv->weight, conv->bias, 2, 1).permute({0, 2, 3, 1}); }, probe);
    ASSERT_EQ(got.y.sizes(), want.y.sizes());
    EXPECT_LT(relative(got.y, want.y), 1e-2) << in << " input channels";
    EXPECT_LT(relative(got.dw, want.dw), 1e-2) << in << " input channels";
    EXPECT_LT(relative(got.db, want.db), 1e-2) << in << " input channels";
    EXPECT_EQ(got.dw.sizes(), conv->weight.sizes());
  }
}

}  // namespace
}  // namespace vss
