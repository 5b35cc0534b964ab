// The whole network's gradients (every op between the image and the logits, through the
// fused scan) against central finite differences, in float64 on the tiny test config.
#include "backbones/backbone_registry.h"
#include "backbones/vssm.h"
#include "core/config.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

TEST(vssm_gradient, matches_finite_differences_in_float64) {
  auto node = vss::Config::load(vss::test::source_dir() / "configs" / "backbones" / "vss_tiny_test.yaml");
  node.apply_override("drop_path_rate=0.0");
  torch::manual_seed(3);
  auto model = std::dynamic_pointer_cast<vss::VSSM>(vss::make_backbone(node));
  ASSERT_TRUE(model);
  model->to(torch::kFloat64);
  const auto image = torch::randn({2, 3, 20, 28}, torch::kFloat64);
  const auto weight = torch::randn({2, 10}, torch::kFloat64);
  auto loss = [&] { return (model->forward(image) * weight).sum(); };

  auto params = model->named_parameters();
  std::vector<at::Tensor> tensors;
  for (const auto& p : params) tensors.push_back(p.value());
  const auto grads = torch::autograd::grad({loss()}, tensors);

  torch::NoGradGuard no_grad;
  const double eps = 1e-6;
  int checked = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    at::Tensor p = params[i].value();
    const auto grad = grads[i].contiguous().view(-1);
    // A few elements of every parameter tensor: first, last and one in between (row-major
    // order, addressed through the strides: some parameters are non-contiguous views).
    for (int64_t j : {int64_t{0}, p.numel() / 2, p.numel() - 1}) {
      int64_t offset = 0, rest = j;
      for (int64_t d = p.dim() - 1; d >= 0; --d) {
        offset += (rest % p.size(d)) * p.stride(d);
        rest /= p.size(d);
      }
      double& x = p.data_ptr<double>()[offset];
      const double saved = x;
      x = saved + eps;
      const double up = loss().item<double>();
      x = saved - eps;
      const double down = loss().item<double>();
      x = saved;
      const double numeric = (up - down) / (2 * eps);
      const double analytic = grad[j].item<double>();
      EXPECT_NEAR(analytic, numeric, 1e-6 * std::max(1.0, std::abs(numeric)))
          << params[i].key() << "[" << j << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
}

}  // namespace
