// vss::dt_projection on CUDA against its CPU reference (kernels/dt_projection.h): ranks 1 to 16
// (both kernel instantiations), row counts that do and do not fill a block's 32 rows, token
// counts that do and do not fill 16-byte runs and a block (1, 7, 49, 196, 1031), a narrow of
// the projection rows as SS2D passes it, every dtype; then the gradients through autograd.
// Runs on the GPU, and on the CUDA emulator (tests/emulation) where there is none.
#include "kernels/dt_projection.h"
#include "tests/support/gpu.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace {

using vss::test::kGpu;

// The largest error relative to the values' scale.
double projection_error(const at::Tensor& got, const at::Tensor& want) {
  const auto w = want.to(torch::kDouble);
  return (got.cpu().to(torch::kDouble) - w).abs().max().item<double>() / (w.abs().max().item<double>() + 1e-12);
}

double projection_tolerance(at::ScalarType t) { return t == torch::kFloat ? 1e-5 : t == torch::kHalf ? 2e-3 : 1e-2; }

TEST(cuda_dt_projection, matches_the_cpu_product) {
  REQUIRE_GPU();
  torch::manual_seed(50);
  struct Case {
    int64_t B, K, R, D, L;
  };
  const std::vector<Case> cases{{2, 4, 6, 96, 196}, {1, 1, 1, 1, 1}, {3, 2, 8, 33, 49},
                                {1, 4, 12, 40, 1031}, {2, 1, 16, 64, 7}, {1, 2, 9, 5, 64},
                                {2, 4, 24, 48, 49}};  // rank 24: cuBLAS in x's dtype
  for (const auto& c : cases)
    for (auto t : {torch::kFloat, torch::kBFloat16, torch::kHalf}) {
      // The rank rows of a taller projection, as x_proj's output narrowed in SS2D.
      const auto x_dbl = torch::randn({c.B, c.K, c.R + 2, c.L}).to(t);
      const auto x = x_dbl.narrow(2, 0, c.R);
      const auto weight = torch::randn({c.K, c.D, c.R});
      const auto want = vss::dt_projection(x.to(torch::kDouble), weight.to(torch::kDouble));
      const auto got = vss::dt_projection(x_dbl.to(kGpu).narrow(2, 0, c.R), weight.to(kGpu));
      const std::string where = "B" + std::to_string(c.B) + " K" + std::to_string(c.K) + " R" + std::to_string(c.R) +
                                " D" + std::to_string(c.D) + " L" + std::to_string(c.L) + " " + c10::toString(t);
      ASSERT_EQ(got.scalar_type(), t) << where;
      ASSERT_EQ(got.sizes(), want.sizes()) << where;
      EXPECT_LE(projection_error(got, want), projection_tolerance(t)) << where;
    }
}

TEST(cuda_dt_projection, gradients_match_the_cpu) {
  REQUIRE_GPU();
  torch::manual_seed(51);
  const auto x = torch::randn({2, 4, 6, 49}), weight = torch::randn({4, 24, 6}), g = torch::randn({2, 4, 24, 49});
  const auto xc = x.to(torch::kDouble).requires_grad_(), wc = weight.to(torch::kDouble).requires_grad_();
  vss::dt_projection(xc, wc).backward(g.to(torch::kDouble));
  const auto xg = x.to(kGpu).requires_grad_(), wg = weight.to(kGpu).requires_grad_();
  vss::dt_projection(xg, wg).backward(g.to(kGpu));
  EXPECT_LE(projection_error(xg.grad(), xc.grad()), 1e-5);
  EXPECT_LE(projection_error(wg.grad(), wc.grad()), 1e-5);
}

}  // namespace
