// vss::layer_norm on CUDA against its CPU reference: both layouts, every input / output
// dtype pair, every kernel variant (register-held rows of each width, the streaming rows for
// long, odd or misaligned rows, the channel-first tile and its transpose-first fallback)
// (its backward kernels: layer_norm_backward_cuda_test.cpp; ChannelNorm on them:
// tests/backbones/cuda/channel_norm_cuda_test.cpp). Runs on the GPU, and on the CUDA emulator
// (tests/emulation) where there is none.
#include "kernels/layer_norm.h"
#include "tests/support/gpu.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <string>

namespace {

using vss::test::kGpu;

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
    const auto xg = x.to(kGpu);
    for (auto out : kTypes) {
      const auto ours = vss::layer_norm(xg, w.to(kGpu), b.to(kGpu), 1e-5, channel_first, out);
      ASSERT_EQ(ours.sizes(), exact.sizes()) << label;
      ASSERT_EQ(ours.scalar_type(), out);
      EXPECT_LE(error(ours, exact), layer_norm_tolerance(out)) << label << " in " << in << " out " << out;
    }
  }
}

TEST(cuda_layer_norm, channel_last_rows_match_the_cpu_reference) {
  REQUIRE_GPU();
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
  REQUIRE_GPU();
  const auto big = torch::randn({4 * 96 + 1}).to(kGpu);
  const auto x = big.narrow(0, 1, 4 * 96).view({4, 96});  // contiguous, 4 bytes off alignment
  const auto w = torch::randn({96}).to(kGpu), b = torch::randn({96}).to(kGpu);
  const auto exact = vss::layer_norm(x.cpu().to(torch::kDouble), w.cpu(), b.cpu(), 1e-5);
  EXPECT_LE(error(vss::layer_norm(x, w, b, 1e-5), exact), layer_norm_tolerance(torch::kFloat));
}

TEST(cuda_layer_norm, channel_first_maps_match_the_cpu_reference) {
  REQUIRE_GPU();
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
  REQUIRE_GPU();
  torch::manual_seed(12);
  // A permuted view (made contiguous inside) and values far from zero (a one-pass variance
  // would cancel): the two-pass statistics keep them.
  const auto x = (torch::randn({2, 9, 9, 96}) * 0.05 + 50.0).permute({0, 2, 1, 3});
  check(x, false, "permuted, offset 50");
}

TEST(cuda_layer_norm, float64_and_device_mixes_are_one_line_errors) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device (the CPU kernels take float64)";
  const auto w = torch::ones({4}), b = torch::zeros({4});
  vss::test::expect_one_line_error(
      [&] { vss::layer_norm(torch::randn({2, 4}, torch::kDouble).cuda(), w.cuda(), b.cuda(), 1e-5); },
      "x must be float32, float16 or bfloat16 (float64 is CPU-only), got Double");
  vss::test::expect_one_line_error([&] { vss::layer_norm(torch::randn({2, 4}).cuda(), w, b.cuda(), 1e-5); },
                                   "weight must be on x's device cuda:0, got cpu");
}

}  // namespace
