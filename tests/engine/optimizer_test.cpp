// Optimizers from YAML: no-decay groups by name and shape, AdamW and SGD steps against the
// update rules worked out in double precision, state round trip for checkpoints, per-group
// lr / decay multipliers and layer-wise decay against hand-assigned multipliers.
#include "backbones/backbone_registry.h"
#include "backbones/vssm.h"
#include "core/config.h"
#include "core/error.h"
#include "engine/fused_adamw.h"
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

// The fused AdamW (the default) against torch::optim::AdamW, the per-parameter reference:
// two groups, a learning rate that changes between steps, a parameter without a gradient in
// some steps (no update, no state), float and double parameters in one group.
TEST(Optimizer, FusedAdamWMatchesTorchAdamW) {
  struct Net : torch::nn::Module {
    Net() {
      torch::manual_seed(4);
      w = register_parameter("w", torch::randn({7, 5}));
      v = register_parameter("v", torch::randn({3, 2, 3}, torch::kDouble));
      b = register_parameter("b", torch::randn({5}));
      rare = register_parameter("rare", torch::randn({4, 4}));
    }
    torch::Tensor w, v, b, rare;
  };
  Net fused, plain;
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < fused.parameters().size(); ++i) plain.parameters()[i].copy_(fused.parameters()[i]);
  }
  const std::string yaml = "{type: adamw, lr: 0.01, weight_decay: 0.05, betas: [0.8, 0.99], eps: 1.0e-6";
  auto of = vss::make_optimizer(vss::Config::parse(yaml + "}"), fused);
  auto op = vss::make_optimizer(vss::Config::parse(yaml + ", fused: false}"), plain);
  EXPECT_NE(dynamic_cast<vss::FusedAdamW*>(of.optimizer.get()), nullptr);
  EXPECT_EQ(dynamic_cast<vss::FusedAdamW*>(op.optimizer.get()), nullptr);
  ASSERT_EQ(of.optimizer->param_groups().size(), 2u);
  for (int step = 1; step <= 6; ++step) {
    vss::set_learning_rate(*of.optimizer, 0.01 / step, of.lr_mults);
    vss::set_learning_rate(*op.optimizer, 0.01 / step, op.lr_mults);
    of.optimizer->zero_grad();
    op.optimizer->zero_grad();
    std::vector<torch::Tensor> grads;
    for (const auto& p : fused.parameters()) grads.push_back(torch::randn_like(p));
    for (Net* net : {&fused, &plain}) {
      const auto params = net->parameters();
      torch::Tensor loss = torch::zeros({}, torch::kDouble);
      for (size_t i = 0; i < params.size(); ++i)
        if (i != 3 || step % 3 == 0) loss = loss + (params[i] * grads[i]).sum().to(torch::kDouble);
      loss.backward();
    }
    of.optimizer->step();
    op.optimizer->step();
    for (size_t i = 0; i < fused.parameters().size(); ++i) {
      const auto a = fused.parameters()[i], b = plain.parameters()[i];
      EXPECT_LT(vss::test::max_abs_diff(a, b), a.scalar_type() == torch::kDouble ? 1e-12 : 1e-6)
          << "parameter " << i << " step " << step;
    }
  }
  // The rarely-updated parameter has taken 2 steps, the others 6; the saved state says so.
  const auto state = vss::optimizer_state(*of.optimizer, of.type, fused, "");
  for (const auto& [name, t] : state)
    if (name == "rare.step") EXPECT_EQ(t.item<int64_t>(), 2);
    else if (name.size() > 5 && name.substr(name.size() - 5) == ".step") EXPECT_EQ(t.item<int64_t>(), 6) << name;
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

namespace {

std::shared_ptr<vss::VSSM> tiny_classifier() {
  const auto file = vss::test::source_dir() / "configs/backbones/vss_tiny_test.yaml";
  return std::dynamic_pointer_cast<vss::VSSM>(vss::make_backbone(vss::Config::load(file)));
}

bool starts_with(const std::string& s, const std::string& head) { return s.rfind(head, 0) == 0; }

// The learning rate and weight decay of the group holding `p`.
std::pair<double, double> group_settings(torch::optim::Optimizer& o, const at::Tensor& p) {
  for (auto& g : o.param_groups())
    for (const auto& q : g.params())
      if (q.unsafeGetTensorImpl() == p.unsafeGetTensorImpl())
        return {g.options().get_lr(), static_cast<torch::optim::SGDOptions&>(g.options()).weight_decay()};
  ADD_FAILURE() << "parameter in no group";
  return {0, 0};
}

TEST(Optimizer, ParamGroupsScaleLearningRateAndDecayOfMatchingParameters) {
  auto model = tiny_classifier();
  auto built = vss::make_optimizer(
      vss::Config::parse("{type: sgd, lr: 0.1, momentum: 0, weight_decay: 0.01, param_groups: ["
                         "{match: 'classifier.*', lr_mult: 10, decay_mult: 0}, {match: 'layers.0.blocks.*', lr_mult: 7},"
                         "{match: 'layers.*', lr_mult: 0.5}]}"),
      *model);
  vss::set_learning_rate(*built.optimizer, 0.2, built.lr_mults);  // a schedule's lr, scaled per group
  std::vector<at::Tensor> before, grads;
  model->zero_grad();
  torch::manual_seed(3);
  model->forward(torch::randn({2, 3, 32, 32})).pow(2).sum().backward();
  for (const auto& p : model->parameters()) {
    before.push_back(p.detach().clone());
    grads.push_back(p.grad().clone());
  }
  built.optimizer->step();
  size_t i = 0, head = 0, stage0 = 0;
  for (const auto& item : model->named_parameters()) {
    const std::string& name = item.key();
    // The first matching entry wins: layers.0.blocks.* before layers.*.
    const double mult = starts_with(name, "classifier.")        ? 10
                        : starts_with(name, "layers.0.blocks.") ? 7
                        : starts_with(name, "layers.")          ? 0.5
                                                                : 1;
    const bool decays = !vss::excluded_from_weight_decay(name, item.value()) && !starts_with(name, "classifier.");
    head += starts_with(name, "classifier.");
    stage0 += starts_with(name, "layers.0.blocks.");
    const auto [lr, wd] = group_settings(*built.optimizer, item.value());
    EXPECT_DOUBLE_EQ(lr, 0.2 * mult) << name;
    EXPECT_DOUBLE_EQ(wd, decays ? 0.01 : 0.0) << name;
    // Plain SGD: w <- w - lr * (g + wd * w).
    const at::Tensor expected = before[i] - lr * (grads[i] + wd * before[i]);
    EXPECT_LT(vss::test::max_abs_diff(item.value(), expected), 1e-6) << name;
    ++i;
  }
  EXPECT_GT(head, 1u);
  EXPECT_GT(stage0, 5u);
}

TEST(Optimizer, LayerDecayScalesByVssmDepth) {
  auto model = tiny_classifier();  // depths [1, 1, 1, 1]: L = 4 blocks
  auto built = vss::make_optimizer(vss::Config::parse("{type: sgd, lr: 1.0, layer_decay: 0.5}"), *model);
  size_t checked = 0;
  for (const auto& item : model->named_parameters()) {
    const std::string& name = item.key();
    // Hand-assigned layers: stem 0, block 0 of stage i (and its downsample) 1 + i, head 5.
    int layer = 5;
    if (starts_with(name, "patch_embed.")) layer = 0;
    for (int s = 0; s < 4; ++s)
      if (starts_with(name, "layers." + std::to_string(s) + ".")) layer = 1 + s;
    const double expected = std::pow(0.5, 5 - layer);
    EXPECT_DOUBLE_EQ(group_settings(*built.optimizer, item.value()).first, expected) << name;
    ++checked;
  }
  EXPECT_EQ(checked, model->parameters().size());
}

TEST(Optimizer, ParamGroupErrorsNameTheEntry) {
  auto model = tiny_classifier();
  try {
    vss::make_optimizer(vss::Config::parse("{type: adamw, lr: 0.1, param_groups: [{match: 'decode_head.*', lr_mult: 10}]}",
                                           "opt.yaml"),
                        *model);
    FAIL() << "a pattern matching nothing was accepted";
  } catch (const vss::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("param_groups"), std::string::npos) << what;
    EXPECT_NE(what.find("decode_head.*"), std::string::npos) << what;
  }
  // An entry that only matches parameters an earlier entry took is dead, and refused too.
  EXPECT_THROW(vss::make_optimizer(vss::Config::parse("{type: sgd, lr: 0.1, param_groups: [{match: 'layers.*'},"
                                                      "{match: 'layers.0.*', lr_mult: 2}]}"),
                                   *model),
               vss::Error);
  Linear2 m;
  EXPECT_THROW(vss::make_optimizer(vss::Config::parse("{type: sgd, lr: 0.1, layer_decay: 0.9}"), m), vss::Error);
  EXPECT_THROW(vss::make_optimizer(vss::Config::parse("{type: sgd, lr: 0.1, layer_decay: 1.5}"), *model), vss::Error);
  EXPECT_THROW(vss::make_optimizer(vss::Config::parse("{type: sgd, lr: 0.1, param_groups: [{mach: 'a*'}]}"), *model),
               vss::Error);
}

}  // namespace
