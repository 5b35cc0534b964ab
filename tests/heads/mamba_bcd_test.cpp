// MambaBCD: the reference's parameter names and shapes, the decoder against a direct NCHW
// transcription of MambaCD's ChangeDecoder.forward (the same tensor ops as the Python: an
// empty H×2W map filled with [..., ::2] = pre, [..., 1::2] = post, halves [..., :W] / [..., W:]),
// output sizes for odd inputs, gradients, the AtrousMamba config, strict weight round trips
// and config errors.
#include "heads/change/mamba_bcd.h"

#include "backbones/vss_block.h"
#include "backbones/weights.h"
#include "core/config.h"
#include "core/error.h"
#include "core/remove_tree.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>

namespace vss::test {
namespace {

using change::make_mamba_bcd;
using change::MambaBCD;

Config test_config(const std::vector<std::string>& overrides = {}) {
  auto c = Config::load(source_dir() / "configs/change/mambabcd_test.yaml");
  for (const auto& o : overrides) c.apply_override(o);
  return c;
}

std::map<std::string, at::Tensor> state_map(const torch::nn::Module& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& [k, v] : model_state(m)) out[k] = v;
  return out;
}

TEST(MambaBCD, ReferenceParameterNamesAndShapes) {
  torch::manual_seed(0);
  const MambaBCD model = make_mamba_bcd(test_config());
  const auto s = state_map(*model);
  const std::vector<int64_t> dims{8, 16, 16, 32};
  const int64_t C = 16;
  auto expect_shape = [&](const std::string& key, std::vector<int64_t> shape) {
    ASSERT_TRUE(s.count(key)) << "missing " << key;
    EXPECT_EQ(s.at(key).sizes().vec(), shape) << key;
  };
  for (int64_t scale = 1; scale <= 4; ++scale) {
    const auto st = "decoder.st_block_" + std::to_string(scale);
    const int64_t d = dims[scale - 1];
    expect_shape(st + "1.0.weight", {C, 2 * d, 1, 1});
    expect_shape(st + "2.0.weight", {C, d, 1, 1});
    expect_shape(st + "3.0.weight", {C, d, 1, 1});
    for (int k = 1; k <= 3; ++k) {
      const auto block = st + std::to_string(k) + ".2.";
      expect_shape(st + std::to_string(k) + ".0.bias", {C});
      expect_shape(block + "norm.weight", {C});
      expect_shape(block + "op.in_proj.weight", {C, C});  // ssm_ratio 1, no z
      expect_shape(block + "op.x_proj_weight", {4, 1 + 2, C});  // dt_rank ceil(16/16) = 1, d_state 1
      expect_shape(block + "op.A_logs", {4 * C, 1});
      expect_shape(block + "mlp.fc1.weight", {2 * C, C});
    }
    const auto fuse = "decoder.fuse_layer_" + std::to_string(scale);
    expect_shape(fuse + ".0.weight", {C, 5 * C, 1, 1});
    expect_shape(fuse + ".0.bias", {C});
    expect_shape(fuse + ".1.running_var", {C});
    EXPECT_TRUE(s.count(fuse + ".1.num_batches_tracked"));
    const auto smooth = "decoder.smooth_layer_" + std::to_string(scale);
    if (scale == 4) {
      EXPECT_FALSE(s.count(smooth + ".conv1.weight"));
    } else {
      expect_shape(smooth + ".conv1.weight", {C, C, 3, 3});
      expect_shape(smooth + ".bn2.running_mean", {C});
      EXPECT_FALSE(s.count(smooth + ".conv1.bias"));
    }
    expect_shape("encoder.outnorm" + std::to_string(scale - 1) + ".weight", {d});
  }
  expect_shape("main_clf.weight", {2, C, 1, 1});
  expect_shape("main_clf.bias", {2});
  expect_shape("encoder.patch_embed.0.weight", {4, 3, 3, 3});
  for (const auto& [key, value] : s) {
    EXPECT_EQ(key.rfind("encoder.classifier", 0), std::string::npos) << key;
    const bool known = key.rfind("encoder.", 0) == 0 || key.rfind("decoder.", 0) == 0 || key.rfind("main_clf.", 0) == 0;
    EXPECT_TRUE(known) << key;
  }
}

// The decoder written as MambaCD's forward, NCHW, from the model's own tensors: 1×1 convs and
// BatchNorm (eval) through ATen, each VSSBlock a fresh VSSBlock loaded with that block's weights.
struct ReferenceDecoder {
  std::map<std::string, at::Tensor> s;
  VSSMOptions options;
  int64_t C;

  at::Tensor conv(const std::string& p, const at::Tensor& x, int64_t pad) const {
    return at::conv2d(x, s.at(p + ".weight"), s.count(p + ".bias") ? s.at(p + ".bias") : at::Tensor(), 1, pad);
  }
  at::Tensor bn(const std::string& p, const at::Tensor& x) const {
    return at::batch_norm(x, s.at(p + ".weight"), s.at(p + ".bias"), s.at(p + ".running_mean"), s.at(p + ".running_var"),
                          false, 0.1, 1e-5, false);
  }
  at::Tensor st_block(const std::string& p, const at::Tensor& x) const {
    VSSBlock block(C, 0.0, options);
    NamedTensors weights;
    for (const auto& [k, v] : s)
      if (k.rfind(p + ".2.", 0) == 0) weights.emplace_back(k.substr(p.size() + 3), v);
    load_state(*block, weights, p);
    block->eval();
    const auto y = conv(p + ".0", x, 0);
    return block->forward(y.permute({0, 2, 3, 1})).permute({0, 3, 1, 2});
  }
  at::Tensor forward(const std::vector<at::Tensor>& pre, const std::vector<at::Tensor>& post) const {
    at::Tensor p;
    for (int64_t scale = 4; scale >= 1; --scale) {
      const auto& a = pre[scale - 1];
      const auto& b = post[scale - 1];
      const int64_t B = a.size(0), Cs = a.size(1), H = a.size(2), W = a.size(3);
      const auto st = "decoder.st_block_" + std::to_string(scale);
      const auto p1 = st_block(st + "1", torch::cat({a, b}, 1));
      auto ct2 = torch::empty({B, Cs, H, 2 * W});
      ct2.slice(3, 0, std::nullopt, 2).copy_(a);
      ct2.slice(3, 1, std::nullopt, 2).copy_(b);
      const auto p2 = st_block(st + "2", ct2);
      auto ct3 = torch::empty({B, Cs, H, 2 * W});
      ct3.slice(3, 0, W).copy_(a);
      ct3.slice(3, W).copy_(b);
      const auto p3 = st_block(st + "3", ct3);
      const auto fuse = "decoder.fuse_layer_" + std::to_string(scale);
      auto f = at::relu(bn(fuse + ".1",
                           conv(fuse + ".0",
                                torch::cat({p1, p2.slice(3, 0, std::nullopt, 2), p2.slice(3, 1, std::nullopt, 2),
                                            p3.slice(3, 0, W), p3.slice(3, W)},
                                           1),
                                0)));
      if (p.defined()) {
        f = at::upsample_bilinear2d(p, {f.size(2), f.size(3)}, false) + f;
        const auto sm = "decoder.smooth_layer_" + std::to_string(scale);
        const auto h = at::relu(bn(sm + ".bn1", conv(sm + ".conv1", f, 1)));
        f = at::relu(bn(sm + ".bn2", conv(sm + ".conv2", h, 1)) + f);
      }
      p = f;
    }
    return p;
  }
};

TEST(MambaBCD, MatchesTheReferenceForwardInEvalMode) {
  torch::manual_seed(1);
  const auto node = test_config();
  MambaBCD model = make_mamba_bcd(node);
  {  // non-trivial BatchNorm statistics and affine parameters
    torch::NoGradGuard no_grad;
    for (auto& item : model->named_buffers())
      if (item.key().find("running_mean") != std::string::npos) item.value().normal_(0, 0.1);
      else if (item.key().find("running_var") != std::string::npos) item.value().uniform_(0.5, 1.5);
    for (auto& item : model->named_parameters())
      if (item.key().find("fuse_layer") != std::string::npos || item.key().find("smooth_layer") != std::string::npos)
        item.value().add_(torch::randn_like(item.value()) * 0.05);
  }
  model->eval();
  torch::NoGradGuard no_grad;
  // 40×56 images: stage maps 10×14, 5×7, 3×4, 2×2 (odd sizes on the way).
  const auto pre = torch::randn({2, 3, 40, 56}), post = torch::randn({2, 3, 40, 56});
  const auto logits = model->forward(pre, post);
  ASSERT_EQ(logits.sizes().vec(), (std::vector<int64_t>{2, 2, 40, 56}));

  const auto pre_maps = model->encoder().forward_features(pre);
  const auto post_maps = model->encoder().forward_features(post);
  ReferenceDecoder ref{state_map(*model), vssm_options_from_config(node["encoder"]), 16};
  const auto decoded = ref.forward(pre_maps, post_maps);
  const auto expected = at::upsample_bilinear2d(
      at::conv2d(decoded, ref.s.at("main_clf.weight"), ref.s.at("main_clf.bias")), {40, 56}, false);
  EXPECT_LT(max_abs_diff(logits, expected), 1e-4);
}

TEST(MambaBCD, TrainsEndToEnd) {
  torch::manual_seed(2);
  MambaBCD model = make_mamba_bcd(test_config());
  model->train();
  // 48² gives a 2×2 deepest map: on a single token the state starts at 0 and A has no effect.
  const auto pre = torch::randn({2, 3, 48, 48}), post = torch::randn({2, 3, 48, 48});
  auto labels = torch::randint(0, 2, {2, 48, 48}, torch::kLong);
  labels.slice(1, 0, 4).fill_(255);
  const auto loss = change::mamba_bcd_loss(model->forward(pre, post), labels);
  ASSERT_TRUE(std::isfinite(loss.item<double>()));
  loss.backward();
  int64_t with_grad = 0, total = 0;
  for (const auto& item : model->named_parameters()) {
    ++total;
    const auto& g = item.value().grad();
    if (g.defined() && g.abs().sum().item<double>() > 0) ++with_grad;
    else ADD_FAILURE() << "no gradient reaches " << item.key();
  }
  EXPECT_EQ(with_grad, total);
}

TEST(MambaBCD, LossIsCrossEntropyPlusThreeQuartersLovasz) {
  // Two pixels, logits (0, 0) and (2, 0), labels 1 and 0: CE = (ln 2 + ln(1 + e^-2)) / 2.
  // Softmax P(1) = 0.5 and q = 1/(1+e^2). Lovász class 0 (fg: pixel 2): errors 0.5 (fg 0),
  // q (fg 1) -> Jaccard along the order 1/2, 1 -> increments 1/2, 1/2 -> 0.25 + q/2.
  // Class 1 (fg: pixel 1): errors 0.5 (fg 1), q (fg 0) -> Jaccard 1, 1 -> increments 1, 0 -> 0.5.
  const auto logits = torch::tensor({0.0, 2.0, 0.0, 0.0}, torch::kDouble).view({1, 2, 1, 2});
  const auto labels = torch::tensor({1, 0}, torch::kLong).view({1, 1, 2});
  const double ce = (std::log(2.0) + std::log(1 + std::exp(-2.0))) / 2, q = 1 / (1 + std::exp(2.0));
  EXPECT_NEAR(change::mamba_bcd_loss(logits, labels).item<double>(), ce + 0.75 * (0.25 + q / 2 + 0.5) / 2, 1e-12);
}

TEST(MambaBCD, AtrousMambaConfigUsesTheAtrousWindowScan) {
  const auto node = Config::load(source_dir() / "configs/change/awmambabcd_tiny.yaml");
  const Config model_node = node.has("model") ? node["model"] : node;
  MambaBCD model = make_mamba_bcd(model_node);
  const auto s = state_map(*model);
  // window / rates from the config: K = 2·len(rates) directions in every SS2D.
  const auto rates = model_node["encoder"]["scan"].get<std::vector<int64_t>>("rates");
  const auto K = static_cast<int64_t>(2 * rates.size());
  EXPECT_EQ(s.at("decoder.st_block_11.2.op.x_proj_weight").size(0), K);
  EXPECT_EQ(s.at("encoder.layers.0.blocks.0.op.x_proj_weight").size(0), K);
}

TEST(MambaBCD, WeightsRoundTripStrictly) {
  torch::manual_seed(3);
  MambaBCD a = make_mamba_bcd(test_config());
  torch::manual_seed(4);
  MambaBCD b = make_mamba_bcd(test_config());
  const auto dir = make_temp_dir("mamba_bcd");
  save_weights(*a, dir / "w.safetensors");
  load_weights(*b, dir / "w.safetensors");
  a->eval();
  b->eval();
  torch::NoGradGuard no_grad;
  const auto pre = torch::randn({1, 3, 32, 32}), post = torch::randn({1, 3, 32, 32});
  EXPECT_EQ(max_abs_diff(a->forward(pre, post), b->forward(pre, post)), 0.0);
  remove_tree(dir);
}

TEST(MambaBCD, ConfigErrorsNameTheKey) {
  auto expect_error = [](const std::vector<std::string>& overrides, const std::string& needle) {
    try {
      make_mamba_bcd(test_config(overrides));
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error({"encoder.type=vssm"}, "encoder.type");
  expect_error({"encoder.out_indices=[1,2,3]"}, "encoder.out_indices");
  expect_error({"decoder.channels=0"}, "decoder.channels");
  expect_error({"decoder.widht=3"}, "widht");
  expect_error({"type=unet"}, "unknown change model 'unet'");
}

TEST(MambaBCD, RejectsDatesOfDifferentSizes) {
  MambaBCD model = make_mamba_bcd(test_config());
  EXPECT_THROW(model->forward(torch::randn({1, 3, 32, 32}), torch::randn({1, 3, 32, 36})), Error);
}

}  // namespace
}  // namespace vss::test
