// vss::add_channel_bias on CUDA against the same sum in ATen on the CPU (float32, rounded to x's
// dtype): channel counts that do and do not fill 16-byte vectors, every dtype, a misaligned
// view; and the bias gradient through autograd against the float64 column sums. Exact forward.
// Runs on the GPU, and on the CUDA emulator (tests/emulation) where there is none.
#include "kernels/channel_bias.h"
#include "tests/support/gpu.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

namespace {

using vss::test::kGpu;

TEST(cuda_add_channel_bias, matches_the_cpu_sum_exactly) {
  REQUIRE_GPU();
  torch::manual_seed(80);
  for (int64_t C : {1, 3, 8, 48, 96, 100})
    for (auto t : {torch::kFloat, torch::kBFloat16, torch::kHalf}) {
      const auto x = torch::randn({3, 7, C}).to(t), bias = torch::randn({C});
      const auto want = (x.to(torch::kFloat) + bias).to(t);
      EXPECT_TRUE(torch::equal(vss::add_channel_bias(x.to(kGpu), bias.to(kGpu)).cpu(), want))
          << "C=" << C << " " << c10::toString(t);
    }
  const auto flat = torch::randn({8 * 16 + 1}).to(torch::kBFloat16), bias = torch::randn({16});
  const auto view = flat.narrow(0, 1, 8 * 16).view({8, 16});  // rows one element off 16 bytes
  EXPECT_TRUE(torch::equal(vss::add_channel_bias(flat.to(kGpu).narrow(0, 1, 8 * 16).view({8, 16}), bias.to(kGpu)).cpu(),
                           (view.to(torch::kFloat) + bias).to(torch::kBFloat16)));
}

TEST(cuda_add_channel_bias, bias_gradient_is_the_column_sum) {
  REQUIRE_GPU();
  torch::manual_seed(81);
  const auto x = torch::randn({4, 5, 6, 48}).to(torch::kBFloat16).to(kGpu).requires_grad_();
  const auto bias = torch::randn({48}).to(kGpu).requires_grad_();
  const auto g = torch::randn({4, 5, 6, 48}).to(torch::kBFloat16);
  vss::add_channel_bias(x, bias).backward(g.to(kGpu));
  const auto want = g.to(torch::kDouble).sum({0, 1, 2});
  EXPECT_LT((bias.grad().cpu().to(torch::kDouble) - want).abs().max().item<double>(), 1e-4);
  EXPECT_TRUE(torch::equal(x.grad().cpu(), g));
}

}  // namespace
