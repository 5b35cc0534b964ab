// vss::gelu_backward_with_bias_grad on CUDA against its float64 CPU reference: rows that fill
// 16-byte vectors (C = 8, 384, 3072) and rows that do not (C = 1, 7), one row to many more rows
// than the grid has blocks, every dtype, a misaligned view, no rows; the bias gradient is the
// column sum of the dh the kernel wrote, and two runs give the same bits. Runs on the GPU, and
// on the CUDA emulator (tests/emulation) where there is none.
#include "kernels/gelu_backward.h"
#include "tests/support/gpu.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

namespace {

using vss::test::kGpu;

// dh: within one rounding of the dtype (float32: fast-math exp) of the float64 reference.
double dh_tolerance(at::ScalarType t) { return t == torch::kFloat ? 2e-6 : t == torch::kHalf ? 1.0 / 1024 : 1.0 / 128; }

void check_gelu_backward(const at::Tensor& h_gpu, const at::Tensor& dy_gpu, const std::string& where) {
  const auto [dh, dbias] = vss::gelu_backward_with_bias_grad(dy_gpu, h_gpu);
  const auto exact = at::gelu_backward(dy_gpu.cpu().to(torch::kDouble), h_gpu.cpu().to(torch::kDouble));
  ASSERT_EQ(dh.scalar_type(), h_gpu.scalar_type()) << where;
  ASSERT_EQ(dh.sizes(), h_gpu.sizes()) << where;
  ASSERT_EQ(dbias.scalar_type(), torch::kFloat) << where;
  const auto got = dh.cpu().to(torch::kDouble);
  const double t = dh_tolerance(h_gpu.scalar_type());
  EXPECT_TRUE(((got - exact).abs() <= exact.abs() * t + 1e-6).all().item<bool>()) << where << ": dh";
  const int64_t C = h_gpu.size(-1);
  const auto rows = got.reshape({-1, C});
  const double scale = rows.abs().sum(0).max().item<double>() + 1e-12;
  EXPECT_LE((dbias.cpu().to(torch::kDouble) - rows.sum(0)).abs().max().item<double>() / scale, 1e-6)
      << where << ": dbias";
}

TEST(cuda_gelu_backward, matches_the_float64_reference) {
  REQUIRE_GPU();
  torch::manual_seed(72);
  for (int64_t C : {1, 7, 8, 384, 3072})
    for (int64_t M : {1, 9, 1000, 12000})
      for (auto t : {torch::kFloat, torch::kBFloat16, torch::kHalf}) {
        if (vss::test::kEmulatedGpu && M * C > 300000) continue;  // the emulator is slow
        const auto h = (torch::randn({M, C}) * 3.0).to(t), dy = torch::randn({M, C}).to(t);
        check_gelu_backward(h.to(kGpu), dy.to(kGpu),
                            std::to_string(M) + "x" + std::to_string(C) + " " + c10::toString(t));
      }
  // More dimensions than two: the sum runs over all but the last.
  check_gelu_backward((torch::randn({2, 3, 5, 16}) * 2.0).to(kGpu), torch::randn({2, 3, 5, 16}).to(kGpu), "4-d");
}

TEST(cuda_gelu_backward, misaligned_rows_no_rows_and_reruns) {
  REQUIRE_GPU();
  torch::manual_seed(73);
  const auto flat = (torch::randn({2000 * 16 + 1}) * 3.0).to(torch::kBFloat16).to(kGpu);
  const auto h = flat.narrow(0, 1, 2000 * 16).view({2000, 16});  // rows one element off 16 bytes
  const auto dy = torch::randn({2000, 16}).to(torch::kBFloat16).to(kGpu);
  check_gelu_backward(h, dy, "misaligned");
  const auto first = vss::gelu_backward_with_bias_grad(dy, h), second = vss::gelu_backward_with_bias_grad(dy, h);
  EXPECT_TRUE(torch::equal(std::get<0>(first), std::get<0>(second)));
  EXPECT_TRUE(torch::equal(std::get<1>(first), std::get<1>(second)));
  const auto [dh, dbias] = vss::gelu_backward_with_bias_grad(torch::zeros({0, 8}).to(kGpu), torch::zeros({0, 8}).to(kGpu));
  EXPECT_EQ(dh.numel(), 0);
  EXPECT_TRUE(torch::equal(dbias.cpu(), torch::zeros({8})));
}

}  // namespace
