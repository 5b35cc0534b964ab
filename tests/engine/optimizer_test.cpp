// Optimizers from YAML: no-decay groups by name and shape, AdamW and SGD steps against the
// update rules worked out in double precision, state round trip for checkpoints.
#include "backbones/backbone_registry.h"
#include "core/config.h"
#include "core/error.h"
#include "engine/optimizer.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <set>

namespace {

TEST(Optimizer, NoDecayGroupHoldsNormsBiasesAndSsmParameters) {
  auto model = vss::make_backbone(vss::Config::load(vss::test::source_dir() / "configs/backbones/vss_tiny_test.yaml"));
  auto built = vss::make_optimizer(vss::Config::parse("{type: adamw, lr: 0.001, weight_decay: 0.05}"), *model);
  auto& groups = built.optimizer->param_groups();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_DOUBLE_EQ(static_cast<torch::optim::AdamWOptions&>(groups[0].options()).weight_decay(), 0.05);
  EXPECT_DOUBLE_EQ(static_cast<torch::optim::AdamWOptions&>(groups[1].options()).weight_decay(), 0.0);
  std::set<const void*> no_decay;
  for (const auto& p : groups[1].params()) no_decay.insert(p.unsafeGetTensorImpl());
  size_t ssm = 0, convs = 0;
  for (const auto& item : model->named_parameters()) {
    const std::string& name = item.key();
    const bool excluded = no_decay.count(item.value().unsafeGetTensorImpl()) != 0;
    auto ends_with = [&](const std::string& tail) {
      return name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
    };
    if (ends_with(".A_logs") || ends_with(".Ds") || ends_with(".dt_projs_bias")) {
      EXPECT_TRUE(excluded) << name;
      ++ssm;
    }
    if (ends_with(".bias") || item.value().dim() == 1) {
      EXPECT_TRUE(excluded) << name;
    }
    if (item.value().dim() == 4) {  // convolution kernels decay
      EXPECT_FALSE(excluded) << name;
      ++convs;
    }
  }
  EXPECT_EQ(ssm, 3u * 4u);  // A_logs, Ds, dt_projs_bias in each of the 4 blocks
  EXPECT_GT(convs, 0u);
  EXPECT_EQ(groups[0].params().size() + groups[1].params().size(), model->parameters().size());
}

// loss = sum(c * w) has gradient c, so the updates can be written out by hand.
struct Linear2 : torch::nn::Module {
  Linear2() {
    weight = register_parameter("weight", torch::tensor({{1.0f, -2.0f}}));
    bias = register_parameter("bias", torch::tensor({0.5f}));
  }
  torch::Tensor weight, bias;
};

void backward_constant_gradient(Linear2& m, const torch::Tensor& gw, const torch::Tensor& gb) {
  ((m.weight * gw).sum() + (m.bias * gb).sum()).backward();
}

TEST(Optimizer, AdamWTwoStepsMatchTheUpdateRule) {
  Linear2 m;
  auto built = vss::make_optimizer(
      vss::Config::parse("{type: adamw, lr: 0.1, weight_decay: 0.01, betas: [0.9, 0.999], eps: 1.0e-8}"), m);
  const double g[3] = {0.5, 0.25, -4.0};  // weight[0], weight[1], bias
  double w[3] = {1.0, -2.0, 0.5}, mom[3] = {0, 0, 0}, var[3] = {0, 0, 0};
  const double wd[3] = {0.01, 0.01, 0.0};  // the bias is in the no-decay group
  for (int step = 1; step <= 2; ++step) {
    built.optimizer->zero_grad();
    backward_constant_gradient(m, torch::tensor({{0.5f, 0.25f}}), torch::tensor({-4.0f}));
    built.optimizer->step();
    for (int i = 0; i < 3; ++i) {
      w[i] *= 1 - 0.1 * wd[i];
      mom[i] = 0.9 * mom[i] + 0.1 * g[i];
      var[i] = 0.999 * var[i] + 0.001 * g[i] * g[i];
      const double mhat = mom[i] / (1 - std::pow(0.9, step)), vhat = var[i] / (1 - std::pow(0.999, step));
      w[i] -= 0.1 * mhat / (std::sqrt(vhat) + 1e-8);
    }
    EXPECT_NEAR(m.weight[0][0].item<double>(), w[0], 1e-6) << "step " << step;
    EXPECT_NEAR(m.weight[0][1].item<double>(), w[1], 1e-6) << "step " << step;
    EXPECT_NEAR(m.bias[0].item<double>(), w[2], 1e-6) << "step " << step;
  }
}

TEST(Optimizer, SgdMomentumTwoStepsMatchTheUpdateRule) {
  Linear2 m;
  auto built = vss::make_optimizer(vss::Config::parse("{type: sgd, lr: 0.1, momentum: 0.9, weight_decay: 0.1}"), m);
  const double g[3] = {0.5, 0.25, -4.0};
  double w[3] = {1.0, -2.0, 0.5}, buf[3] = {0, 0, 0};
  const double wd[3] = {0.1, 0.1, 0.0};
  for (int step = 1; step <= 2; ++step) {
    built.optimizer->zero_grad();
    backward_constant_gradient(m, torch::tensor({{0.5f, 0.25f}}), torch::tensor({-4.0f}));
    built.optimizer->step();
    for (int i = 0; i < 3; ++i) {
      const double d = g[i] + wd[i] * w[i];
      buf[i] = step == 1 ? d : 0.9 * buf[i] + d;
      w[i] -= 0.1 * buf[i];
    }
    EXPECT_NEAR(m.weight[0][0].item<double>(), w[0], 1e-6) << "step " << step;
    EXPECT_NEAR(m.weight[0][1].item<double>(), w[1], 1e-6) << "step " << step;
    EXPECT_NEAR(m.bias[0].item<double>(), w[2], 1e-6) << "step " << step;
  }
}

TEST(Optimizer, StateRoundTripContinuesIdentically) {
  for (const char* yaml : {"{type: adamw, lr: 0.1, weight_decay: 0.01}", "{type: sgd, lr: 0.1, momentum: 0.9}"}) {
    Linear2 a, b;
    auto oa = vss::make_optimizer(vss::Config::parse(yaml), a);
    auto ob = vss::make_optimizer(vss::Config::parse(yaml), b);
    auto step = [](Linear2& m, torch::optim::Optimizer& o, float scale) {
      o.zero_grad();
      backward_constant_gradient(m, torch::tensor({{0.5f * scale, 0.25f}}), torch::tensor({-4.0f * scale}));
      o.step();
    };
    step(a, *oa.optimizer, 1.0f);
    {
      torch::NoGradGuard no_grad;
      b.weight.copy_(a.weight);
      b.bias.copy_(a.bias);
    }
    vss::load_optimizer_state(*ob.optimizer, ob.type, b, vss::optimizer_state(*oa.optimizer, oa.type, a, "o."), "o.",
                              "test");
    step(a, *oa.optimizer, 2.0f);
    step(b, *ob.optimizer, 2.0f);
    EXPECT_TRUE(torch::equal(a.weight, b.weight)) << yaml;
    EXPECT_TRUE(torch::equal(a.bias, b.bias)) << yaml;
  }
}

TEST(Optimizer, BadConfigNamesTheKey) {
  Linear2 m;
  try {
    vss::make_optimizer(vss::Config::parse("{type: lamb, lr: 0.1}", "opt.yaml"), m);
    FAIL() << "no error";
  } catch (const vss::Error& e) {
    EXPECT_NE(std::string(e.what()).find("lamb"), std::string::npos) << e.what();
  }
  EXPECT_THROW(vss::make_optimizer(vss::Config::parse("{type: adamw, lr: -1}"), m), vss::Error);
  EXPECT_THROW(vss::make_optimizer(vss::Config::parse("{type: adamw, lr: 0.1, betas: [0.9]}"), m), vss::Error);
  EXPECT_THROW(vss::make_optimizer(vss::Config::parse("{type: sgd, lr: 0.1, momentun: 0.9}"), m), vss::Error);
}

}  // namespace
