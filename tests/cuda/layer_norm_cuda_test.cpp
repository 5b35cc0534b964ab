// vss::layer_norm on CUDA against its CPU reference: both layouts, every input / output
// dtype pair, every kernel variant (register-held rows of each width, the streaming rows for
// long, odd or misaligned rows, the channel-first tile and its transpose-first fallback), and
// ChannelNorm's fast path against at::layer_norm under autocast, forward and training (its
// backward kernels: layer_norm_backward_cuda_test.cpp). Skipped without a GPU.
#include "backbones/layers.h"
#include "kernels/layer_norm.h"
#include "tests/support/test_support.h"

#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <tuple>

namespace {

#define REQUIRE_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device"

// Max |ours - reference| relative to max(1, |reference|), after rounding the exact reference to
// the output dtype: what is left is the kernel's float32 arithmetic plus one rounding step.
double error(const at::Tensor& ours, const at::Tensor& exact) {
  const auto o = ours.to(torch::kCPU, torch::kDouble);
  const auto e = exact.to(ours.scalar_type()).to(torch::kDouble);
  return ((o - e).abs() / e.abs().clamp_min(1.0)).max().item<double>();
}

double layer_norm_tolerance(at::ScalarType out) {
  return out == torch::kFloat ? 2e-5 : out == torch::kHalf ? 2e-3 : 1.6e-2;
}

const at::ScalarType kTypes[] = {torch::kFloat, torch::kHalf, torch::kBFloat16};

void check(const at::Tensor& x_cpu, bool channel_first, const std::string& label) {
  const int64_t C = channel_first ? x_cpu.size(1) : x_cpu.size(-1);
  const auto w = torch::randn({C}) * 0.5 + 1.0, b = torch::randn({C}) * 0.1;
  for (auto in : kTypes) {
    const auto x = x_cpu.to(in);
    const auto exact = vss::layer_norm(x.to(torch::kDouble), w, b, 1e-5, channel_first);
    const auto xg = x.cuda();
    for (auto out : kTypes) {
      const auto ours = vss::layer_norm(xg, w.cuda(), b.cuda(), 1e-5, channel_first, out);
      ASSERT_EQ(ours.sizes(), exact.sizes()) << label;
      ASSERT_EQ(ours.scalar_type(), out);
      EXPECT_LE(error(ours, exact), layer_norm_tolerance(out)) << label << " in " << in << " out " << out;
    }
  }
}

TEST(cuda_layer_norm, channel_last_rows_match_the_cpu_reference) {
  REQUIRE_CUDA();
  torch::manual_seed(10);
  // 4..2048 in steps of the register-held widths (1, 2, 4, 8, 16 vectors a lane); 2052 and
  // 4100 past them, 1, 3 and 97 not multiples of 4: the streaming kernel.
  for (int64_t C : {1, 3, 4, 48, 96, 97, 128, 192, 384, 768, 1536, 2048, 2052, 4100}) {
    check(torch::randn({3, 5, C}) * 2.0 + 0.5, false, "C=" + std::to_string(C));
  }
  // One row, and more rows than one block's 8 warps with a partial last block.
  check(torch::randn({1, 96}), false, "1 row");
  check(torch::randn({1001, 64}), false, "1001 rows");
}

TEST(cuda_layer_norm, misaligned_rows_take_the_streaming_kernel) {
  REQUIRE_CUDA();
  const auto big = torch::randn({4 * 96 + 1}).cuda();
  const auto x = big.narrow(0, 1, 4 * 96).view({4, 96});  // contiguous, 4 bytes off alignment
  const auto w = torch::randn({96}).cuda(), b = torch::randn({96}).cuda();
  const auto exact = vss::layer_norm(x.cpu().to(torch::kDouble), w.cpu(), b.cpu(), 1e-5);
  EXPECT_LE(error(vss::layer_norm(x, w, b, 1e-5), exact), layer_norm_tolerance(torch::kFloat));
}

TEST(cuda_layer_norm, channel_first_maps_match_the_cpu_reference) {
  REQUIRE_CUDA();
  torch::manual_seed(11);
  // Tiles of 32 tokens: S = 1, 7 (one partial tile), 32, 49, 3136 + 5; C up to the tile's
  // 1024 channels, and 1536 (transposed first, then the row kernel).
  for (auto shape : std::vector<std::vector<int64_t>>{
           {2, 96, 1, 1}, {1, 5, 7, 1}, {3, 64, 4, 8}, {2, 384, 7, 7}, {1, 96, 3141, 1},
           {2, 1024, 3, 11}, {1, 1536, 5, 5}, {3, 3}}) {
    std::string label = "shape";
    for (auto d : shape) label += " " + std::to_string(d);
    check(torch::randn(shape) * 3.0 - 1.0, true, label);
  }
}

TEST(cuda_layer_norm, non_contiguous_input_and_large_offsets) {
  REQUIRE_CUDA();
  torch::manual_seed(12);
  // A permuted view (made contiguous inside) and values far from zero (a one-pass variance
  // would cancel): the two-pass statistics keep them.
  const auto x = (torch::randn({2, 9, 9, 96}) * 0.05 + 50.0).permute({0, 2, 1, 3});
  check(x, false, "permuted, offset 50");
}

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

TEST(cuda_layer_norm, channel_norm_fast_path_matches_at_layer_norm_under_autocast) {
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

// The module trains through the op: under bf16 autocast its gradients match at::layer_norm's
// (float32 under autocast) for the channel-last norm and the channel-first one fused with the
// transpose.
TEST(cuda_layer_norm, channel_norm_trains_like_at_layer_norm_under_autocast) {
  REQUIRE_CUDA();
  torch::manual_seed(24);
  vss::ChannelNorm norm = perturbed_cuda_norm();
  for (const bool channel_first : {false, true}) {
    const auto x0 = channel_first ? torch::randn({2, 96, 6, 5}).cuda() : torch::randn({2, 6, 5, 96}).cuda();
    // bf16-exact: the gradient reaching our bf16 result is r rounded to bf16, at::layer_norm's
    // float32 result gets r itself.
    const auto r = torch::randn({2, 6, 5, 96}).to(torch::kBFloat16).to(torch::kFloat).cuda();
    const auto grads = [&](bool ours) {
      norm->zero_grad();
      const auto x = x0.clone().requires_grad_(true);
      at::autocast::set_autocast_enabled(at::kCUDA, true);
      at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
      const auto y = ours ? norm->forward_into_projection(x, channel_first)
                          : at::layer_norm(channel_first ? x.permute({0, 2, 3, 1}) : x, {96}, norm->weight,
                                           norm->bias, 1e-5);
      (y.to(torch::kFloat) * r).sum().backward();
      at::autocast::clear_cache();
      at::autocast::set_autocast_enabled(at::kCUDA, false);
      return std::vector<at::Tensor>{x.grad().clone(), norm->weight.grad().clone(), norm->bias.grad().clone()};
    };
    const auto ours = grads(true), reference = grads(false);
    const char* names[] = {"dx", "dweight", "dbias"};
    for (int i = 0; i < 3; ++i) {
      const double scale = std::max(1.0, reference[i].abs().max().item<double>());
      EXPECT_LE((ours[i] - reference[i]).abs().max().item<double>() / scale, 2e-5)
          << names[i] << (channel_first ? " channel-first" : "");
    }
  }
}

// The pre-norm residual unit's form, x + f(norm(x)), on forward_into_projection_with_skip: the
// gradient along skip is added inside the norm's backward; x's gradient is autograd's sum of
// at::layer_norm's and skip's.
TEST(cuda_layer_norm, channel_norm_with_skip_trains_like_x_used_twice) {
  REQUIRE_CUDA();
  torch::manual_seed(25);
  vss::ChannelNorm norm = perturbed_cuda_norm();
  const auto x0 = torch::randn({2, 6, 5, 96}).cuda();
  const auto r = torch::randn({2, 6, 5, 96}).to(torch::kBFloat16).to(torch::kFloat).cuda();  // bf16-exact
  const auto s = torch::randn({2, 6, 5, 96}).cuda();
  const auto grads = [&](bool ours) {
    norm->zero_grad();
    const auto x = x0.clone().requires_grad_(true);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::Tensor normed, skip = x;
    if (ours) std::tie(normed, skip) = norm->forward_into_projection_with_skip(x);
    else normed = at::layer_norm(x, {96}, norm->weight, norm->bias, 1e-5);
    ((normed.to(torch::kFloat) * r).sum() + (skip * s).sum()).backward();
    at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(at::kCUDA, false);
    return std::vector<at::Tensor>{x.grad().clone(), norm->weight.grad().clone(), norm->bias.grad().clone()};
  };
  const auto ours = grads(true), reference = grads(false);
  const char* names[] = {"dx", "dweight", "dbias"};
  for (int i = 0; i < 3; ++i) {
    const double scale = std::max(1.0, reference[i].abs().max().item<double>());
    EXPECT_LE((ours[i] - reference[i]).abs().max().item<double>() / scale, 2e-5) << names[i];
  }
}

TEST(cuda_layer_norm, float64_and_device_mixes_are_one_line_errors) {
  REQUIRE_CUDA();
  const auto w = torch::ones({4}), b = torch::zeros({4});
  vss::test::expect_one_line_error(
      [&] { vss::layer_norm(torch::randn({2, 4}, torch::kDouble).cuda(), w.cuda(), b.cuda(), 1e-5); },
      "x must be float32, float16 or bfloat16 (float64 is CPU-only), got Double");
  vss::test::expect_one_line_error([&] { vss::layer_norm(torch::randn({2, 4}).cuda(), w, b.cuda(), 1e-5); },
                                   "weight must be on x's device cuda:0, got cpu");
}

}  // namespace
