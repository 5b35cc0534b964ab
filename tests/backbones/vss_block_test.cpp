// The residual add with stochastic depth (add_residual): a plain sum in eval mode; in
// training each sample's branch is dropped or scaled by 1 / (1 - rate), about 1 - rate of
// them kept, and the branch's gradient is that same per-sample factor.
#include "backbones/vss_block.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss {
namespace {

TEST(AddResidual, SumInEvalDropOrRescaleInTraining) {
  torch::manual_seed(2);
  const at::Tensor x = torch::randn({4000, 3, 5}), branch = torch::randn({4000, 3, 5}).requires_grad_();
  EXPECT_TRUE(torch::equal(add_residual(x, branch, 0.25, /*training=*/false), x + branch));
  EXPECT_TRUE(torch::equal(add_residual(x, branch, 0.0, /*training=*/true), x + branch));

  const at::Tensor out = add_residual(x, branch, 0.25, /*training=*/true);
  out.sum().backward();
  int64_t kept = 0;
  for (int64_t i = 0; i < x.size(0); ++i) {
    const at::Tensor added = out[i] - x[i];
    const bool dropped = added.abs().max().item<float>() == 0.f;
    const float factor = dropped ? 0.f : 1.f / 0.75f;
    if (!dropped) ++kept;
    ASSERT_LT((added - branch[i].detach() * factor).abs().max().item<float>(), 1e-5) << i;
    ASSERT_TRUE(torch::allclose(branch.grad()[i], torch::full({3, 5}, factor))) << i;
  }
  EXPECT_NEAR(static_cast<double>(kept) / x.size(0), 0.75, 0.03);  // 4000 samples: sd 0.007
}

}  // namespace
}  // namespace vss
