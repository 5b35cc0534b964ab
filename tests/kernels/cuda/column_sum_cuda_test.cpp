// vss::column_sum on CUDA against float64 sums on the CPU: column counts that do and do not
// fill 16-byte vectors or a block's 256 vectors (1, 3, 8, 96, 384, 2051 = several column
// blocks), row counts from one to several partial-row blocks, every dtype, a misaligned view;
// and two runs give the same bits. Runs on the GPU, and on the CUDA emulator where there is none.
#include "kernels/column_sum.h"
#include "tests/support/gpu.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

namespace {

using vss::test::kGpu;

double column_sum_error(const at::Tensor& got, const at::Tensor& x) {
  const auto want = x.to(torch::kDouble).sum(0);
  return (got.cpu().to(torch::kDouble) - want).abs().max().item<double>() /
         (x.to(torch::kDouble).abs().sum(0).max().item<double>() + 1e-12);
}

TEST(cuda_column_sum, matches_float64_sums) {
  REQUIRE_GPU();
  torch::manual_seed(60);
  for (int64_t C : {1, 3, 8, 96, 384, 2051})
    for (int64_t M : {1, 7, 64, 1000, 20000})
      for (auto t : {torch::kFloat, torch::kBFloat16, torch::kHalf}) {
        if (vss::test::kEmulatedGpu && M * C > 400000) continue;  // the emulator is slow
        const auto x = torch::randn({M, C}).to(t);
        const auto got = vss::column_sum(x.to(kGpu));
        const std::string where = std::to_string(M) + "x" + std::to_string(C) + " " + c10::toString(t);
        ASSERT_EQ(got.scalar_type(), torch::kFloat) << where;
        ASSERT_EQ(got.size(0), C) << where;
        EXPECT_LE(column_sum_error(got, x), 1e-6) << where;
      }
}

TEST(cuda_column_sum, misaligned_rows_and_reruns) {
  REQUIRE_GPU();
  torch::manual_seed(61);
  const auto flat = torch::randn({3000 * 16 + 1}).to(torch::kBFloat16);
  const auto view = flat.to(kGpu).narrow(0, 1, 3000 * 16).view({3000, 16});  // rows one element off 16 bytes
  const auto got = vss::column_sum(view);
  EXPECT_LE(column_sum_error(got, flat.narrow(0, 1, 3000 * 16).view({3000, 16})), 1e-6);
  EXPECT_TRUE(torch::equal(got, vss::column_sum(view)));
}

}  // namespace
