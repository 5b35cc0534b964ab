// Restoration networks: the published parameter counts of every config in configs/restore,
// the official state_dict names and shapes, the sequence shuffle attention against its
// formula (specs/scans.md §8), MaIR's layer against SS2D when the attention weights are all
// one, float64 finite-difference gradients of MaIR's layer, and output shapes.
#include "backbones/weights.h"
#include "core/config.h"
#include "core/error.h"
#include "core/remove_tree.h"
#include "heads/restore/mair_ss2d.h"
#include "heads/restore/restoration_net.h"
#include "scans/s_shaped_scan.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <map>

namespace vss::test {
namespace {

restore::RestorationNet load_net(const std::string& name) {
  return restore::make_restoration_net(Config::load(source_dir() / "configs/restore" / name)["model"]);
}

int64_t count_parameters(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

// specs/heads.md §1 table (MambaIR / MaIR papers), to the precision published.
TEST(RestoreNet, PublishedParameterCounts) {
  struct Case {
    const char* config;
    double published, unit;
  };
  const Case cases[] = {
      {"mambair_light_x2.yaml", 905, 1e3},   {"mambair_light_x4.yaml", 924, 1e3},
      {"mambair_classic_x4.yaml", 20.57, 1e6}, {"mambair_denoise_color_s15.yaml", 15.78, 1e6},
      {"mambair_denoise_color_s25.yaml", 15.78, 1e6}, {"mambair_denoise_color_s50.yaml", 15.78, 1e6},
      {"mair_t_light_x2.yaml", 0.88, 1e6},
  };
  for (const auto& c : cases) {
    auto net = load_net(c.config);
    EXPECT_NEAR(static_cast<double>(count_parameters(*net)) / c.unit, c.published, 0.5 * (c.unit == 1e3 ? 1 : 0.01))
        << c.config;
  }
  // MaIR-T x4 = x2 + the larger one-step upsampler: 3x3 conv 60 -> 48 instead of 60 -> 12.
  auto x2 = load_net("mair_t_light_x2.yaml"), x4 = load_net("mair_t_light_x4.yaml");
  EXPECT_EQ(count_parameters(*x4) - count_parameters(*x2), (48 - 12) * (60 * 9 + 1));
}

TEST(RestoreNet, OfficialKeyNamesAndShapes) {
  auto net = load_net("mambair_light_x2.yaml");
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& [name, t] : model_state(*net)) shapes[name] = t.sizes().vec();
  const std::string b = "layers.3.residual_group.blocks.5.";
  const std::map<std::string, std::vector<int64_t>> expected{
      {"conv_first.weight", {60, 3, 3, 3}},
      {"patch_embed.norm.weight", {60}},
      {b + "ln_1.weight", {60}},
      {b + "skip_scale", {60}},
      {b + "self_attention.in_proj.weight", {144, 60}},
      {b + "self_attention.conv2d.bias", {72}},
      {b + "self_attention.x_proj_weight", {4, 4 + 2 * 10, 72}},
      {b + "self_attention.dt_projs_weight", {4, 72, 4}},
      {b + "self_attention.A_logs", {4 * 72, 10}},
      {b + "self_attention.out_norm.weight", {72}},
      {b + "self_attention.out_proj.weight", {60, 72}},
      {b + "conv_blk.cab.0.weight", {30, 60, 1, 1}},
      {b + "conv_blk.cab.1.weight", {30, 1, 3, 3}},
      {b + "conv_blk.cab.3.weight", {60, 30, 1, 1}},
      {b + "conv_blk.cab.4.weight", {60, 1, 3, 3}},
      {b + "conv_blk.cab.5.attention.1.weight", {2, 60, 1, 1}},
      {b + "conv_blk.cab.5.attention.3.bias", {60}},
      {b + "skip_scale2", {60}},
      {"layers.3.conv.weight", {60, 60, 3, 3}},
      {"norm.bias", {60}},
      {"conv_after_body.weight", {60, 60, 3, 3}},
      {"upsample.0.weight", {12, 60, 3, 3}},
  };
  for (const auto& [name, shape] : expected) {
    ASSERT_TRUE(shapes.count(name)) << name;
    EXPECT_EQ(shapes[name], shape) << name;
  }
  auto classic = load_net("mambair_classic_x4.yaml");
  std::map<std::string, std::vector<int64_t>> cs;
  for (const auto& [name, t] : model_state(*classic)) cs[name] = t.sizes().vec();
  EXPECT_EQ(cs["conv_before_upsample.0.weight"], (std::vector<int64_t>{64, 180, 3, 3}));
  EXPECT_EQ(cs["upsample.2.weight"], (std::vector<int64_t>{256, 64, 3, 3}));
  EXPECT_EQ(cs["conv_last.weight"], (std::vector<int64_t>{3, 64, 3, 3}));
  EXPECT_EQ(cs["layers.0.residual_group.blocks.0.conv_blk.cab.3.attention.1.weight"], (std::vector<int64_t>{6, 180, 1, 1}));
  EXPECT_EQ(cs["layers.0.residual_group.blocks.0.conv_blk.cab.2.weight"], (std::vector<int64_t>{180, 60, 3, 3}));
  auto mair = load_net("mair_t_light_x4.yaml");
  std::map<std::string, std::vector<int64_t>> ms;
  for (const auto& [name, t] : model_state(*mair)) ms[name] = t.sizes().vec();
  EXPECT_EQ(ms["layers.0.residual_group.blocks.1.self_attention.gating.gating.1.weight"],
            (std::vector<int64_t>{4 * 66, 4, 1, 1}));
  EXPECT_EQ(ms["layers.0.residual_group.blocks.1.self_attention.x_proj_weight"], (std::vector<int64_t>{4, 4 + 2, 66}));
  EXPECT_EQ(ms["layers.0.residual_group.blocks.1.conv_blk.fc1.weight"], (std::vector<int64_t>{96, 60}));
  EXPECT_EQ(ms["upsample.0.weight"], (std::vector<int64_t>{48, 60, 3, 3}));
}

TEST(RestoreNet, OutputShapesForEveryUpsampler) {
  torch::NoGradGuard no_grad;
  for (const char* upsampler : {"pixelshuffledirect", "pixelshuffle", "none"}) {
    for (int64_t scale : {2, 3}) {
      Config c = Config::load(source_dir() / "configs/restore/mambair_tiny_test.yaml");
      c.apply_override(std::string("model.upsampler=") + upsampler);
      const int64_t s = std::string(upsampler) == "none" ? 1 : scale;
      c.apply_override("model.upscale=" + std::to_string(s));
      auto net = restore::make_restoration_net(c["model"]);
      const at::Tensor y = net->forward(torch::rand({2, 3, 7, 5}));
      EXPECT_EQ(y.sizes().vec(), (std::vector<int64_t>{2, 3, 7 * s, 5 * s})) << upsampler << " x" << s;
      EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    }
  }
  auto mair = load_net("mair_tiny_test.yaml");
  EXPECT_EQ(mair->forward(torch::rand({1, 3, 9, 6})).sizes().vec(), (std::vector<int64_t>{1, 3, 18, 12}));
}

TEST(RestoreNet, ConfigErrorsNameTheKey) {
  Config c = Config::load(source_dir() / "configs/restore/mambair_tiny_test.yaml");
  c.apply_override("model.upsampler=pixelshufle");
  try {
    restore::make_restoration_net(c["model"]);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.upsampler"), std::string::npos) << e.what();
  }
  Config d = Config::load(source_dir() / "configs/restore/mambair_tiny_test.yaml");
  d.apply_override("model.scan_len=4");  // a MaIR key on a MambaIR model
  EXPECT_THROW(restore::make_restoration_net(d["model"]), Error);
  // d_state beyond the CUDA scan kernels' 16 is named in the YAML, as the backbones' is.
  try {
    restore::make_restoration_net(Config::parse("type: mair\nd_state: 32\n", "mair.yaml"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "mair.yaml:2: d_state: must be at most 16 (the CUDA scan kernels keep the state in registers), got 32");
  }
}

// out[b, d] = Σ_k sigmoid(Σ_k' G[d, k, k']·mean(Y_k'[d]) + g[d, k]) · Y_k[d], written as loops.
TEST(RestoreNet, SequenceShuffleAttentionMatchesItsFormula) {
  torch::manual_seed(0);
  const int64_t B = 2, K = 4, D = 3, H = 3, W = 5;
  restore::SequenceShuffleAttention ssa(D, K);
  const at::Tensor y = torch::randn({B, K, D, H, W}, torch::kDouble);
  ssa->to(torch::kDouble);
  const at::Tensor weight = ssa->gating[1]->as<torch::nn::Conv2d>()->weight;  // [K·D, K, 1, 1]
  const at::Tensor bias = ssa->gating[1]->as<torch::nn::Conv2d>()->bias;     // [K·D]
  at::Tensor expected = torch::zeros({B, D, H, W}, torch::kDouble);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t d = 0; d < D; ++d)
      for (int64_t k = 0; k < K; ++k) {
        double a = bias[d * K + k].item<double>();
        for (int64_t k2 = 0; k2 < K; ++k2) a += weight[d * K + k][k2][0][0].item<double>() * y[b][k2][d].mean().item<double>();
        expected[b][d] += y[b][k][d] / (1 + std::exp(-a));
      }
  EXPECT_LT(max_abs_diff(ssa->forward(y), expected), 1e-12);
}

SS2DOptions tiny_mair_options(int64_t shift) {
  SS2DOptions o;
  o.d_model = 6;
  o.d_state = 3;
  o.ssm_ratio = 1.5;
  o.forward_type = "v2";
  o.gated = true;
  o.scan = std::make_shared<SShapedScan>(4, shift);
  return o;
}

// With a zero gating weight and a large bias every direction's weight is sigmoid(40) = 1 in
// float64, so MaIR's layer must equal SS2D (sum merge, fused plan scan) with the same weights.
TEST(RestoreNet, MaIRLayerEqualsSS2DWhenTheAttentionPassesEverything) {
  torch::manual_seed(1);
  for (int64_t shift : {0, 2}) {
    restore::MaIRSS2D mair(tiny_mair_options(shift));
    SS2D ss2d(tiny_mair_options(shift));
    mair->to(torch::kDouble);
    ss2d->to(torch::kDouble);
    {
      torch::NoGradGuard no_grad;
      const auto source = mair->named_parameters();
      for (auto& item : ss2d->named_parameters()) item.value().copy_(source[item.key()]);
      auto conv = mair->gating->gating[1]->as<torch::nn::Conv2d>();
      conv->weight.zero_();
      conv->bias.fill_(40.0);
    }
    const at::Tensor x = torch::randn({2, 7, 6, 6}, torch::kDouble);
    EXPECT_LT(max_abs_diff(mair->forward(x), ss2d->forward(x)), 1e-10) << "shift " << shift;
  }
}

TEST(RestoreNet, MaIRLayerGradientsMatchFiniteDifferences) {
  torch::manual_seed(2);
  restore::MaIRSS2D layer(tiny_mair_options(2));
  layer->to(torch::kDouble);
  const at::Tensor x = torch::randn({1, 5, 6, 6}, torch::kDouble).requires_grad_(true);
  const at::Tensor probe = torch::randn({1, 5, 6, 6}, torch::kDouble);
  const auto loss = [&] { return (layer->forward(x) * probe).sum(); };
  loss().backward();
  std::vector<std::pair<std::string, at::Tensor>> checked{{"x", x}};
  for (const char* name : {"gating.gating.1.weight", "gating.gating.1.bias", "x_proj_weight", "dt_projs_bias", "A_logs"})
    checked.emplace_back(name, layer->named_parameters()[name]);
  constexpr double eps = 1e-6;
  for (auto& [name, t] : checked) {
    const at::Tensor flat = t.view({-1});
    const at::Tensor grad = t.grad().view({-1});
    for (int64_t i = 0; i < flat.numel(); i += std::max<int64_t>(1, flat.numel() / 7)) {
      torch::NoGradGuard no_grad;
      const double v = flat[i].item<double>();
      flat[i] = v + eps;
      const double up = loss().item<double>();
      flat[i] = v - eps;
      const double down = loss().item<double>();
      flat[i] = v;
      const double numeric = (up - down) / (2 * eps);
      EXPECT_NEAR(grad[i].item<double>(), numeric, 1e-6 * std::max(1.0, std::abs(numeric))) << name << "[" << i << "]";
    }
  }
}

TEST(RestoreNet, WeightsRoundTripThroughSafetensors) {
  auto a = load_net("mair_tiny_test.yaml"), b = load_net("mair_tiny_test.yaml");
  const auto dir = make_temp_dir("vss-restore-net");
  save_weights(*a, dir / "w.safetensors");
  load_weights(*b, dir / "w.safetensors");
  torch::NoGradGuard no_grad;
  const at::Tensor x = torch::rand({1, 3, 8, 8});
  EXPECT_EQ(max_abs_diff(a->forward(x), b->forward(x)), 0.0);
  remove_tree(dir);
}

// A BasicSR checkpoint ({'params_ema': ..., 'params': ...}) written by Python torch converts
// with tools/convert_pth.py and loads strictly: `norm.*` and `patch_embed.norm.*` must keep
// their names (VMamba's old-key renames do not apply to restoration nets).
TEST(RestoreNet, BasicSrCheckpointConvertsAndLoads) {
  if (!python_has({"torch", "safetensors"})) GTEST_SKIP() << "python torch / safetensors not available";
  const auto dir = make_temp_dir("vss-restore-convert");
  torch::manual_seed(5);
  auto source = load_net("mambair_tiny_test.yaml");
  save_weights(*source, dir / "ours.safetensors");
  constexpr const char* kWrite = R"PY(
import runpy, sys, torch
from safetensors.torch import load_file
tool, src, out_dir = sys.argv[1:4]
state = load_file(src)
torch.save({"params_ema": {"module." + k: v for k, v in state.items()}, "params": {k: v * 0 for k, v in state.items()}},
           out_dir + "/net_x2.pth")
sys.argv = [tool, out_dir + "/net_x2.pth", out_dir + "/net_x2.safetensors"]
runpy.run_path(tool, run_name="__main__")
)PY";
  std::string log;
  ASSERT_EQ(run_python(kWrite, {(source_dir() / "tools/convert_pth.py").string(), (dir / "ours.safetensors").string(),
                                dir.string()},
                       &log),
            0)
      << log;
  auto loaded = load_net("mambair_tiny_test.yaml");
  load_weights(*loaded, dir / "net_x2.safetensors");  // strict
  torch::NoGradGuard no_grad;
  const at::Tensor x = torch::rand({1, 3, 6, 6});
  EXPECT_EQ(max_abs_diff(loaded->forward(x), source->forward(x)), 0.0);
  remove_tree(dir);
}

}  // namespace
}  // namespace vss::test
