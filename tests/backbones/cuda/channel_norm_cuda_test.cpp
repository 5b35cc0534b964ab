// ChannelNorm's CUDA fast path (vss::layer_norm and its backward) against at::layer_norm under
// bf16 autocast: forward, training, and the pre-norm residual unit built on its skip output.
// Skipped without a GPU (autocast on CUDA).
#include "backbones/layers.h"
#include "tests/support/test_support.h"

#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

#define REQUIRE_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device"

// A CUDA LayerNorm over 96 channels with weight and bias away from 1 and 0.
vss::ChannelNorm perturbed_cuda_norm() {
  vss::ChannelNorm norm("ln", 96);
  {
    torch::NoGradGuard no_grad;
    norm->weight.normal_(1.0, 0.2);
    norm->bias.normal_(0.0, 0.2);
  }
  norm->to(torch::kCUDA);
  return norm;
}

TEST(cuda_channel_norm, channel_norm_fast_path_matches_at_layer_norm_under_autocast) {
  REQUIRE_CUDA();
  torch::manual_seed(13);
  vss::ChannelNorm norm = perturbed_cuda_norm();
  const auto x = torch::randn({2, 6, 5, 96}).cuda();
  const auto map = torch::randn({2, 96, 6, 5}).cuda();
  at::Tensor reference, reference_cf, fast, fast_projection, fast_cf;
  {
    torch::NoGradGuard no_grad;
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    const auto xb = x.to(torch::kBFloat16);
    reference = at::layer_norm(xb, {96}, norm->weight, norm->bias, 1e-5);
    reference_cf = at::layer_norm(map.permute({0, 2, 3, 1}), {96}, norm->weight, norm->bias, 1e-5);
    fast = norm->forward(xb);
    fast_projection = norm->forward_into_projection(xb);
    fast_cf = norm->forward_into_projection(map, /*channel_first=*/true);
    at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(at::kCUDA, false);
  }
  ASSERT_EQ(reference.scalar_type(), torch::kFloat);  // autocast's float32 policy
  EXPECT_EQ(fast.scalar_type(), torch::kFloat);
  EXPECT_EQ(fast_projection.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(fast_cf.scalar_type(), torch::kBFloat16);
  EXPECT_LE((fast - reference).abs().max().item<double>(), 2e-5);
  // bf16 results: the float32 norm rounded once, so within one bf16 ulp (2^-8 relative).
  const auto within_ulp = [](const at::Tensor& bf16, const at::Tensor& ref) {
    return ((bf16.to(torch::kFloat) - ref).abs() <= ref.abs() * (1.0 / 256) + 1e-5).all().item<bool>();
  };
  EXPECT_TRUE(within_ulp(fast_projection, reference));
  EXPECT_TRUE(within_ulp(fast_cf, reference_cf));
}

// {dx, dweight, dbias} of loss(x) under bf16 autocast, x a fresh copy of x0.
template <typename Loss>
std::vector<at::Tensor> autocast_grads(vss::ChannelNorm& norm, const at::Tensor& x0, Loss&& loss) {
  norm->zero_grad();
  const auto x = x0.clone().requires_grad_(true);
  at::autocast::set_autocast_enabled(at::kCUDA, true);
  at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
  loss(x).backward();
  at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(at::kCUDA, false);
  return {x.grad().clone(), norm->weight.grad().clone(), norm->bias.grad().clone()};
}

void expect_same_grads(const std::vector<at::Tensor>& ours, const std::vector<at::Tensor>& reference,
                       const std::string& label) {
  const char* names[] = {"dx", "dweight", "dbias"};
  for (int i = 0; i < 3; ++i) {
    const double scale = std::max(1.0, reference[i].abs().max().item<double>());
    EXPECT_LE((ours[i] - reference[i]).abs().max().item<double>() / scale, 2e-5) << names[i] << label;
  }
}

// The module trains through the op: under bf16 autocast its gradients match at::layer_norm's
// (float32 under autocast) for the channel-last norm and the channel-first one fused with the
// transpose.
TEST(cuda_channel_norm, channel_norm_trains_like_at_layer_norm_under_autocast) {
  REQUIRE_CUDA();
  torch::manual_seed(24);
  vss::ChannelNorm norm = perturbed_cuda_norm();
  for (const bool channel_first : {false, true}) {
    const auto x0 = channel_first ? torch::randn({2, 96, 6, 5}).cuda() : torch::randn({2, 6, 5, 96}).cuda();
    // bf16-exact: the gradient reaching our bf16 result is r rounded to bf16, at::layer_norm's
    // float32 result gets r itself.
    const auto r = torch::randn({2, 6, 5, 96}).to(torch::kBFloat16).to(torch::kFloat).cuda();
    const auto ours = autocast_grads(norm, x0, [&](const at::Tensor& x) {
      return (norm->forward_into_projection(x, channel_first).to(torch::kFloat) * r).sum();
    });
    const auto reference = autocast_grads(norm, x0, [&](const at::Tensor& x) {
      const auto y = at::layer_norm(channel_first ? x.permute({0, 2, 3, 1}) : x, {96}, norm->weight, norm->bias, 1e-5);
      return (y * r).sum();
    });
    expect_same_grads(ours, reference, channel_first ? " channel-first" : "");
  }
}

// The pre-norm residual unit's form, x + f(norm(x)), on forward_into_projection_with_skip: the
// gradient along skip is added inside the norm's backward; x's gradient is autograd's sum of
// at::layer_norm's and skip's.
TEST(cuda_channel_norm, channel_norm_with_skip_trains_like_x_used_twice) {
  REQUIRE_CUDA();
  torch::manual_seed(25);
  vss::ChannelNorm norm = perturbed_cuda_norm();
  const auto x0 = torch::randn({2, 6, 5, 96}).cuda();
  const auto r = torch::randn({2, 6, 5, 96}).to(torch::kBFloat16).to(torch::kFloat).cuda();  // bf16-exact
  const auto s = torch::randn({2, 6, 5, 96}).cuda();
  const auto ours = autocast_grads(norm, x0, [&](const at::Tensor& x) {
    const auto [normed, skip] = norm->forward_into_projection_with_skip(x);
    return (normed.to(torch::kFloat) * r).sum() + (skip * s).sum();
  });
  const auto reference = autocast_grads(norm, x0, [&](const at::Tensor& x) {
    return (at::layer_norm(x, {96}, norm->weight, norm->bias, 1e-5) * r).sum() + (x * s).sum();
  });
  expect_same_grads(ours, reference, "");
}

}  // namespace
