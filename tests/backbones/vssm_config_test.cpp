// Building VSSM from YAML: the released variants' names, shapes and sizes, the test config,
// other scan strategies, and one-line errors for bad configs and inputs.
#include "backbones/backbone_registry.h"
#include "backbones/vssm.h"
#include "core/config.h"
#include "core/error.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>

namespace vss {
namespace {

std::shared_ptr<VSSM> build(const Config& node) {
  auto model = std::dynamic_pointer_cast<VSSM>(make_backbone(node));
  EXPECT_TRUE(model);
  return model;
}

Config config_file(const std::string& name) {
  return Config::load(test::source_dir() / "configs" / "backbones" / (name + ".yaml"));
}

std::map<std::string, std::vector<int64_t>> shapes(const torch::nn::Module& m) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value().sizes().vec();
  return out;
}

int64_t count(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

// The error message of `fn`, which must throw vss::Error with a single-line message.
template <class Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    return what;
  }
  ADD_FAILURE() << "no vss::Error thrown";
  return "";
}

TEST(vssm_config, released_variants_have_official_names_shapes_and_sizes) {
  // Sizes from the official model zoo table (specs/vmamba.md §1): 30M, 50M, 89M.
  const std::map<std::string, double> millions{{"vmamba_tiny", 30}, {"vmamba_small", 50}, {"vmamba_base", 89}};
  for (const auto& [name, expected] : millions) {
    auto model = build(config_file(name));
    EXPECT_NEAR(count(*model) / 1e6, expected, 0.5) << name;
    const auto s = shapes(*model);
    const int64_t C = name == "vmamba_base" ? 128 : 96;
    const int64_t Dn3 = (name == "vmamba_tiny" ? 1 : 2) * 4 * C;  // stage 2: 4C channels
    const int64_t R3 = (4 * C + 15) / 16;
    EXPECT_EQ(s.at("patch_embed.0.weight"), (std::vector<int64_t>{C / 2, 3, 3, 3})) << name;
    EXPECT_EQ(s.at("patch_embed.2.weight"), (std::vector<int64_t>{C / 2})) << name;
    EXPECT_EQ(s.at("patch_embed.5.weight"), (std::vector<int64_t>{C, C / 2, 3, 3})) << name;
    EXPECT_EQ(s.at("patch_embed.7.bias"), (std::vector<int64_t>{C})) << name;
    EXPECT_EQ(s.at("layers.2.blocks.7.op.x_proj_weight"), (std::vector<int64_t>{4, R3 + 2, Dn3})) << name;
    EXPECT_EQ(s.at("layers.2.blocks.7.op.dt_projs_weight"), (std::vector<int64_t>{4, Dn3, R3})) << name;
    EXPECT_EQ(s.at("layers.2.blocks.7.op.A_logs"), (std::vector<int64_t>{4 * Dn3, 1})) << name;
    EXPECT_EQ(s.at("layers.0.downsample.1.weight"), (std::vector<int64_t>{2 * C, C, 3, 3})) << name;
    EXPECT_EQ(s.at("layers.0.downsample.3.weight"), (std::vector<int64_t>{2 * C})) << name;
    EXPECT_EQ(s.at("classifier.head.bias"), (std::vector<int64_t>{1000})) << name;
    EXPECT_EQ(s.count("layers.3.downsample.1.weight"), 0u) << name;
    EXPECT_EQ(s.count("layers.0.blocks.0.op.conv2d.bias"), 0u) << name;  // ssm_conv_bias false
  }
}

TEST(vssm_config, dense_backbone_has_outnorms_and_no_classifier) {
  auto node = config_file("vmamba_tiny");
  node.apply_override("type=vssm_backbone");
  auto model = build(node);
  const auto s = shapes(*model);
  EXPECT_EQ(s.at("outnorm0.weight"), (std::vector<int64_t>{96}));
  EXPECT_EQ(s.at("outnorm3.bias"), (std::vector<int64_t>{768}));
  EXPECT_EQ(s.count("classifier.head.weight"), 0u);
  EXPECT_EQ(model->feature_channels(), (std::vector<int64_t>{96, 192, 384, 768}));
  EXPECT_EQ(model->feature_strides(), (std::vector<int64_t>{4, 8, 16, 32}));
}

TEST(vssm_config, tiny_test_config_runs_forward_and_backward) {
  auto model = build(config_file("vss_tiny_test"));
  EXPECT_LT(count(*model), 10000);
  EXPECT_GT(count(*model), 1000);
  model->eval();
  const auto x = torch::randn({2, 3, 36, 52});
  // v2 stem rounds odd sizes up at each stride-2 conv: 36x52 -> 18x26 -> 9x13.
  const auto feats = model->forward_features(x);
  ASSERT_EQ(feats.size(), 4u);
  EXPECT_EQ(feats[0].sizes(), (std::vector<int64_t>{2, 4, 9, 13}));
  EXPECT_EQ(feats[3].sizes(), (std::vector<int64_t>{2, 16, 2, 2}));
  model->train();
  const auto logits = model->forward(x);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 10}));
  logits.square().sum().backward();
  for (const auto& p : model->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
  }
}

TEST(vssm_config, other_scan_strategies_fused_matches_unfused) {
  for (const std::string scan : {"zigzag", "s_shaped", "hilbert"}) {
    auto node = config_file("vss_tiny_test");
    node.apply_override("scan.type=" + scan);
    torch::manual_seed(0);
    auto fused = build(node);
    node.apply_override("fused_scan=false");
    auto unfused = build(node);
    torch::NoGradGuard no_grad;
    for (const auto& p : unfused->named_parameters())
      p.value().copy_(fused->named_parameters()[p.key()]);
    fused->eval();
    unfused->eval();
    const auto x = torch::randn({1, 3, 40, 24});
    EXPECT_LE(test::max_abs_diff(fused->forward(x), unfused->forward(x)), 1e-5) << scan;
  }
}

TEST(vssm_config, bad_configs_give_one_line_errors) {
  const std::string base = "type: vssm\ndepths: [1, 1, 1, 1]\ndims: [4, 8, 8, 16]\n";
  auto bad = [&](const std::string& extra) { return Config::parse(base + extra, "bad.yaml"); };

  EXPECT_NE(error_of([&] { build(bad("scan: {type: spiral}\n")); }).find("spiral"), std::string::npos);
  const auto type_error = error_of([&] { make_backbone(Config::parse("type: resnet\n", "bad.yaml")); });
  EXPECT_NE(type_error.find("resnet"), std::string::npos) << type_error;
  EXPECT_NE(type_error.find("vssm_backbone"), std::string::npos) << type_error;  // lists the known ones
  const auto dims_error = error_of(
      [&] { build(Config::parse("type: vssm\ndepths: [2, 2, 9, 2]\ndims: [96, 192, 384]\n", "bad.yaml")); });
  EXPECT_NE(dims_error.find("dims"), std::string::npos) << dims_error;
  EXPECT_NE(dims_error.find("4 stages"), std::string::npos) << dims_error;
  EXPECT_NE(error_of([&] { build(bad("forward_type: v9\n")); }).find("forward_type"), std::string::npos);
  EXPECT_NE(error_of([&] { build(bad("norm_layer: gn\n")); }).find("norm_layer"), std::string::npos);
  EXPECT_NE(error_of([&] { build(bad("depht: 3\n")); }).find("depht"), std::string::npos);
  EXPECT_NE(error_of([&] { build(bad("out_indices: [0, 4]\n")); }).find("out_indices"), std::string::npos);
  const auto layout_error = error_of([&] { build(bad("channels_last_scan: sometimes\n")); });
  EXPECT_NE(layout_error.find("channels_last_scan"), std::string::npos) << layout_error;
  EXPECT_NE(layout_error.find("sometimes"), std::string::npos) << layout_error;
  // The size is never a silent default, and sizes out of range name their key before LibTorch
  // gets to allocate them.
  EXPECT_EQ(error_of([&] { build(Config::parse("type: vssm\n", "bare.yaml")); }),
            "bare.yaml:1: missing required key 'depths' (the network's size; VMamba-T has depths: [2, 2, 9, 2], dims: "
            "96, see configs/backbones/)");
  EXPECT_NE(error_of([&] { build(Config::parse("type: vssm\ndepths: [1]\n", "bare.yaml")); }).find("'dims'"),
            std::string::npos);
  auto sized = [&](const std::string& depths, const std::string& dims) {
    return Config::parse("type: vssm\ndepths: " + depths + "\ndims: " + dims + "\n", "big.yaml");
  };
  EXPECT_EQ(error_of([&] { build(sized("[1, 1, 1, 1]", "[4, 8, 2000000000, 16]")); }),
            "big.yaml:3: dims: entries must be in 1..65536, got 2000000000");
  EXPECT_EQ(error_of([&] { build(sized("[1, 1, 1, 1]", "2000000000")); }),
            "big.yaml:3: dims: must be in 1..8192, got 2000000000");  // C1 doubles three times
  EXPECT_EQ(error_of([&] { build(sized("[1, 100000, 1, 1]", "8")); }),
            "big.yaml:2: depths: entries must be in 0..1024, got 100000");
  EXPECT_NE(error_of([&] { build(bad("ssm_ratio: 1e9\n")); }).find("ssm_ratio: must be in"), std::string::npos);
}

// The CUDA scan kernels hold at most 16 states per channel: a larger d_state is named where the
// YAML says it, in both spellings, not at the first forward on a GPU.
TEST(vssm_config, d_state_beyond_the_cuda_kernels_is_named_in_the_yaml) {
  const std::string limit = "must be at most 16 (the CUDA scan kernels keep the state in registers), got 17";
  EXPECT_EQ(error_of([] {
              build(Config::parse("type: vssm\ndepths: [1]\ndims: [4]\nssm_d_state: 17\n", "big_state.yaml"));
            }),
            "big_state.yaml:4: ssm_d_state: " + limit);
  EXPECT_EQ(error_of([] { ss2d_options_from_config(Config::parse("d_model: 8\nd_state: 17\n", "ss2d.yaml")); }),
            "ss2d.yaml:2: d_state: " + limit);
  EXPECT_EQ(ss2d_options_from_config(Config::parse("d_model: 8\nd_state: 16\n", "ss2d.yaml")).d_state, 16);
  // One default, the official constructors': 16.
  EXPECT_EQ(ss2d_options_from_config(Config::parse("d_model: 8\n", "ss2d.yaml")).d_state, 16);
  EXPECT_EQ(SS2DOptions{}.d_state, 16);
}

TEST(vssm_config, channels_last_scan_rule) {
  SS2DOptions o;
  o.d_model = 96;
  o.ssm_ratio = 1.0;
  EXPECT_TRUE(o.channels_last_scan_for(4, 256 * 256));   // large maps
  EXPECT_TRUE(o.channels_last_scan_for(128, 7 * 7));     // batch × d_inner = 12288
  EXPECT_FALSE(o.channels_last_scan_for(4, 64 * 64));    // 4 × 96 channels, 64² tokens
  o.channels_last_scan = ScanPathChoice::kNever;
  EXPECT_FALSE(o.channels_last_scan_for(4, 256 * 256));
  o.channels_last_scan = ScanPathChoice::kAlways;
  EXPECT_TRUE(o.channels_last_scan_for(1, 1));
  EXPECT_EQ(ss2d_options_from_config(Config::parse("d_model: 8\nchannels_last_scan: never\n", "x.yaml"))
                .channels_last_scan,
            ScanPathChoice::kNever);
}

TEST(vssm_config, bad_images_give_one_line_errors) {
  // v1 stem (conv k = s = patch_size): sizes must be multiples of the patch size.
  auto v1 = build(Config::parse(
      "type: vssm\ndepths: [1, 1]\ndims: [8, 16]\npatchembed_version: v1\nnum_classes: 3\n", "v1.yaml"));
  v1->eval();
  const auto size_error = error_of([&] { v1->forward(torch::randn({1, 3, 30, 32})); });
  EXPECT_NE(size_error.find("30x32"), std::string::npos) << size_error;
  EXPECT_NE(size_error.find("patch_size 4"), std::string::npos) << size_error;
  const auto channel_error = error_of([&] { v1->forward(torch::randn({1, 1, 32, 32})); });
  EXPECT_NE(channel_error.find("[*, 3, *, *]"), std::string::npos) << channel_error;
  EXPECT_NE(channel_error.find("[1, 1, 32, 32]"), std::string::npos) << channel_error;
}

}  // namespace
}  // namespace vss

namespace vss {
namespace {

// PatchMerging2D (downsample_version v1) by hand: 1x1 identity stem, no blocks; the merged
// vector of output pixel (r, c) is the 2x2 neighbours (0,0), (1,0), (0,1), (1,1) as
// (row, col) offsets, zero-padded at odd edges, LayerNorm-ed, then `reduction`.
TEST(vssm_config, patch_merging_v1_concatenates_neighbours_in_official_order) {
  auto model = build(Config::parse(
      "type: vssm\nin_chans: 1\npatch_size: 1\nnum_classes: 1\ndepths: [0, 0]\ndims: [1, 1]\n"
      "patch_norm: false\npatchembed_version: v1\ndownsample_version: v1\n",
      "v1.yaml"));
  auto params = model->named_parameters();
  EXPECT_EQ(params["layers.0.downsample.reduction.weight"].sizes(), (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(params["layers.0.downsample.norm.weight"].sizes(), (std::vector<int64_t>{4}));
  torch::NoGradGuard no_grad;
  params["patch_embed.0.weight"].fill_(1.0);
  params["patch_embed.0.bias"].zero_();
  const auto image = torch::randn({1, 1, 5, 7});
  model->eval();
  const int64_t offsets[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
  for (int j = 0; j < 4; ++j) {
    params["layers.0.downsample.reduction.weight"].zero_();
    params["layers.0.downsample.reduction.weight"][0][j] = 1.0;
    const auto out = model->trace(image).stages[1];  // [1, 3, 4, 1]
    ASSERT_EQ(out.sizes(), (std::vector<int64_t>{1, 3, 4, 1}));
    for (int64_t r = 0; r < 3; ++r)
      for (int64_t c = 0; c < 4; ++c) {
        double v[4], mean = 0, var = 0;
        for (int k = 0; k < 4; ++k) {
          const int64_t y = 2 * r + offsets[k][0], x = 2 * c + offsets[k][1];
          v[k] = (y < 5 && x < 7) ? image[0][0][y][x].item<double>() : 0.0;
          mean += v[k] / 4;
        }
        for (double e : v) var += (e - mean) * (e - mean) / 4;
        EXPECT_NEAR(out[0][r][c][0].item<double>(), (v[j] - mean) / std::sqrt(var + 1e-5), 1e-5)
            << "neighbour " << j << " at " << r << "," << c;
      }
  }
}

TEST(vssm_config, batch_norm_variant_has_running_statistics) {
  auto node = config_file("vss_tiny_test");
  node.apply_override("norm_layer=bn");
  auto model = build(node);
  std::map<std::string, at::Tensor> buffers;
  for (const auto& b : model->named_buffers()) buffers[b.key()] = b.value();
  ASSERT_TRUE(buffers.count("layers.0.blocks.0.norm.running_mean"));
  ASSERT_TRUE(buffers.count("classifier.norm.num_batches_tracked"));
  model->train();
  model->forward(torch::randn({2, 3, 32, 32}) * 3 + 1);
  EXPECT_EQ(buffers["classifier.norm.num_batches_tracked"].item<int64_t>(), 1);
  EXPECT_GT(buffers["patch_embed.2.running_mean"].abs().sum().item<double>(), 0.0);
  model->eval();
  const auto x = torch::randn({1, 3, 32, 32});
  EXPECT_EQ(test::max_abs_diff(model->forward(x), model->forward(x)), 0.0);  // eval uses running stats
}

}  // namespace
}  // namespace vss
