// vss::residual_add on CUDA against the same sum in ATen on the CPU (float32, the product
// rounded before the sum as the kernel does): every pair of x and branch dtypes, with and
// without per-sample factors, samples whose length is or is not a multiple of the 4-element
// runs, one sample, one element, a misaligned input; then the branch's gradient. Exact.
// Runs on the GPU, and on the CUDA emulator (tests/emulation) where there is none.
#include "kernels/residual_add.h"
#include "tests/support/gpu.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace {

using vss::test::kGpu;

const std::vector<std::vector<int64_t>> kResidualShapes{{4, 14, 14, 8}, {3, 5, 7}, {1, 1}, {5, 1}, {1, 4099}, {2, 6}};
const std::vector<at::ScalarType> kResidualTypes{torch::kFloat, torch::kBFloat16, torch::kHalf};

at::Tensor residual_scale_for(int64_t B) { return torch::rand({B}) * 2; }

// The sum as ATen forms it on the CPU in float32, in the result dtype.
at::Tensor expected_residual(const at::Tensor& x, const at::Tensor& branch, const at::Tensor& scale) {
  at::Tensor b = branch.to(torch::kFloat);
  if (scale.defined()) {
    std::vector<int64_t> shape(static_cast<size_t>(b.dim()), 1);
    shape[0] = b.size(0);
    b = b * scale.view(shape);
  }
  return (x.to(torch::kFloat) + b).to(c10::promoteTypes(x.scalar_type(), branch.scalar_type()));
}

std::string residual_label(const std::vector<int64_t>& shape, at::ScalarType tx, at::ScalarType tb, bool scaled) {
  std::string s;
  for (int64_t d : shape) s += std::to_string(d) + "x";
  return s + " x " + c10::toString(tx) + " branch " + c10::toString(tb) + (scaled ? " scaled" : "");
}

TEST(cuda_residual_add, matches_the_cpu_sum_exactly) {
  REQUIRE_GPU();
  torch::manual_seed(40);
  for (const auto& shape : kResidualShapes)
    for (auto tx : kResidualTypes)
      for (auto tb : kResidualTypes)
        for (bool scaled : {false, true}) {
          const auto x = torch::randn(shape).to(tx), branch = torch::randn(shape).to(tb);
          const at::Tensor scale = scaled ? residual_scale_for(shape[0]) : at::Tensor();
          std::optional<at::Tensor> s;
          if (scaled) s = scale.to(kGpu);
          const auto got = vss::residual_add(x.to(kGpu), branch.to(kGpu), s);
          const auto want = expected_residual(x, branch, scale);
          ASSERT_EQ(got.scalar_type(), want.scalar_type()) << residual_label(shape, tx, tb, scaled);
          EXPECT_TRUE(torch::equal(got.cpu(), want)) << residual_label(shape, tx, tb, scaled);
        }
}

TEST(cuda_residual_add, misaligned_inputs_take_the_element_path) {
  REQUIRE_GPU();
  torch::manual_seed(41);
  // Contiguous views one element past the allocation's start: no 16-byte runs.
  const auto x = torch::randn({4 * 16 + 1}), branch = torch::randn({4 * 16 + 1}).to(torch::kBFloat16);
  const auto scale = residual_scale_for(4);
  const auto xs = x.narrow(0, 1, 64).view({4, 16}), bs = branch.narrow(0, 1, 64).view({4, 16});
  const auto got = vss::residual_add(x.to(kGpu).narrow(0, 1, 64).view({4, 16}),
                                     branch.to(kGpu).narrow(0, 1, 64).view({4, 16}), scale.to(kGpu));
  EXPECT_TRUE(torch::equal(got.cpu(), expected_residual(xs, bs, scale)));
}

TEST(cuda_residual_add, branch_gradient_is_dout_times_the_factor_in_its_dtype) {
  REQUIRE_GPU();
  torch::manual_seed(42);
  for (const auto& shape : kResidualShapes)
    for (auto tg : kResidualTypes)
      for (auto tb : kResidualTypes) {
        const auto dout = torch::randn(shape).to(tg);
        const auto scale = residual_scale_for(shape[0]);
        const auto got = vss::residual_add_backward(dout.to(kGpu), scale.to(kGpu), tb);
        const auto want = expected_residual(torch::zeros(shape), dout, scale).to(tb);
        ASSERT_EQ(got.scalar_type(), tb);
        EXPECT_TRUE(torch::equal(got.cpu(), want)) << residual_label(shape, tg, tb, true);
      }
}

TEST(cuda_residual_add, autograd_gives_x_dout_and_the_branch_its_scaled_gradient) {
  REQUIRE_GPU();
  const auto x = torch::randn({2, 3, 4}).to(kGpu).requires_grad_();
  const auto branch = torch::randn({2, 3, 4}).to(torch::kBFloat16).to(kGpu).requires_grad_();
  const auto dout = torch::randn({2, 3, 4});
  vss::residual_add(x, branch, torch::tensor({0.f, 1.25f}).to(kGpu)).backward(dout.to(kGpu));
  EXPECT_TRUE(torch::equal(x.grad().cpu(), dout));
  EXPECT_TRUE(torch::equal(branch.grad().cpu()[0], torch::zeros({3, 4}, torch::kBFloat16)));
  EXPECT_TRUE(torch::equal(branch.grad().cpu()[1], (dout[1] * 1.25f).to(torch::kBFloat16)));
}

}  // namespace
