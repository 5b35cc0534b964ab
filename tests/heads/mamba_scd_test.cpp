// MambaSCD: the reference's parameter names and shapes (STMambaSCD: decoder_bcd, decoder_T1 /
// decoder_T2, main_clf_cd, one shared aux_clf), output shapes for odd inputs, the shared
// class head (the same decoder map gives the same logits for both dates), the loss against
// its formula written out, a binary checkpoint refused with its missing keys named, the
// published configs and config errors. Agreement with the official forward is
// parity.change_semantic (head_parity_test.cpp).
#include "heads/change/mamba_scd.h"

#include "backbones/weights.h"
#include "core/config.h"
#include "core/error.h"
#include "core/remove_tree.h"
#include "heads/change/lovasz_softmax.h"
#include "heads/change/mamba_bcd.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>

// Named: the unity build puts several test files in one translation unit.
namespace vss::test::mamba_scd_tests {
namespace {

using change::make_mamba_scd;
using change::MambaSCD;

Config test_config(const std::vector<std::string>& overrides = {}) {
  auto c = Config::load(source_dir() / "configs/change/mambascd_test.yaml");
  for (const auto& o : overrides) c.apply_override(o);
  return c;
}

std::map<std::string, at::Tensor> state_map(const torch::nn::Module& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& [k, v] : model_state(m)) out[k] = v;
  return out;
}

TEST(MambaSCD, ReferenceParameterNamesAndShapes) {
  const MambaSCD model = make_mamba_scd(test_config());
  const auto s = state_map(*model);
  const std::vector<int64_t> dims{8, 16, 16, 32};
  const int64_t C = 16;
  auto expect_shape = [&](const std::string& key, std::vector<int64_t> shape) {
    ASSERT_TRUE(s.count(key)) << "missing " << key;
    EXPECT_EQ(s.at(key).sizes().vec(), shape) << key;
  };
  for (const std::string d : {"decoder_T1.", "decoder_T2."}) {
    expect_shape(d + "st_block_4_semantic.0.weight", {C, dims[3], 1, 1});
    expect_shape(d + "st_block_4_semantic.2.op.in_proj.weight", {C, C});
    for (int scale = 1; scale <= 3; ++scale) {
      const auto n = std::to_string(scale);
      expect_shape(d + "st_block_" + n + "_semantic.1.norm.weight", {C});
      expect_shape(d + "st_block_" + n + "_semantic.1.op.A_logs", {4 * C, 1});
      EXPECT_FALSE(s.count(d + "st_block_" + n + "_semantic.0.weight"));  // no conv below the top
      expect_shape(d + "trans_layer_" + n + ".0.weight", {C, dims[scale - 1], 1, 1});
      expect_shape(d + "trans_layer_" + n + ".1.running_var", {C});
    }
    for (int scale = 0; scale <= 3; ++scale) {
      expect_shape(d + "smooth_layer_" + std::to_string(scale) + "_semantic.conv1.weight", {C, C, 3, 3});
      EXPECT_FALSE(s.count(d + "smooth_layer_" + std::to_string(scale) + "_semantic.conv1.bias"));
    }
    EXPECT_FALSE(s.count(d + "trans_layer_4.0.weight"));
  }
  expect_shape("decoder_bcd.st_block_41.0.weight", {C, 2 * dims[3], 1, 1});
  expect_shape("decoder_bcd.fuse_layer_1.0.weight", {C, 5 * C, 1, 1});
  expect_shape("main_clf_cd.weight", {2, C, 1, 1});
  expect_shape("aux_clf.weight", {7, C, 1, 1});
  expect_shape("aux_clf.bias", {7});
  for (const auto& [key, value] : s) {
    const bool known = key.rfind("encoder.", 0) == 0 || key.rfind("decoder_bcd.", 0) == 0 ||
                       key.rfind("decoder_T1.", 0) == 0 || key.rfind("decoder_T2.", 0) == 0 ||
                       key.rfind("main_clf_cd.", 0) == 0 || key.rfind("aux_clf.", 0) == 0;
    EXPECT_TRUE(known) << key;
  }
}

TEST(MambaSCD, OutputsHaveTheInputSizeForOddInputs) {
  torch::manual_seed(0);
  MambaSCD model = make_mamba_scd(test_config({"semantic_classes=5"}));
  model->eval();
  torch::NoGradGuard no_grad;
  const auto out = model->forward(torch::randn({2, 3, 37, 45}), torch::randn({2, 3, 37, 45}));
  EXPECT_EQ(out.change.sizes().vec(), (std::vector<int64_t>{2, 2, 37, 45}));
  EXPECT_EQ(out.t1.sizes().vec(), (std::vector<int64_t>{2, 5, 37, 45}));
  EXPECT_EQ(out.t2.sizes().vec(), (std::vector<int64_t>{2, 5, 37, 45}));
  EXPECT_THROW(model->forward(torch::randn({1, 3, 32, 32}), torch::randn({1, 3, 32, 36})), Error);
}

TEST(MambaSCD, BothSemanticDecodersShareOneClassHead) {
  // With decoder_T2's weights copied from decoder_T1 and the same image as both dates, the
  // two semantic outputs are equal: one head (aux_clf) serves both decoders.
  torch::manual_seed(1);
  MambaSCD model = make_mamba_scd(test_config());
  model->eval();
  torch::NoGradGuard no_grad;
  auto s = state_map(*model);
  for (auto& [key, t] : s)
    if (key.rfind("decoder_T2.", 0) == 0) t.copy_(s.at("decoder_T1." + key.substr(11)));
  const auto x = torch::randn({1, 3, 32, 32});
  const auto out = model->forward(x, x);
  EXPECT_TRUE(torch::allclose(out.t1, out.t2, 0, 0));
}

TEST(MambaSCD, LossIsTheOfficialCombination) {
  torch::manual_seed(2);
  const int64_t B = 2, K = 7, H = 5, W = 6;
  change::SemanticChangeLogits logits{torch::randn({B, 2, H, W}, torch::kDouble), torch::randn({B, K, H, W}, torch::kDouble),
                                      torch::randn({B, K, H, W}, torch::kDouble)};
  auto change = torch::randint(0, 2, {B, H, W}, torch::kLong);
  auto label1 = torch::randint(1, K, {B, H, W}, torch::kLong) * change;
  auto label2 = torch::randint(1, K, {B, H, W}, torch::kLong) * change;
  change[0][0][0] = 255;  // a padded pixel
  label1[0][0][0] = 255;
  label2[0][0][0] = 255;
  // Written out: CE as the mean negative log-probability of the kept pixels.
  auto ce = [](const at::Tensor& x, const at::Tensor& y) {
    const auto keep = y.ne(255);
    const auto logp = torch::log_softmax(x, 1).gather(1, y.clamp_max(x.size(1) - 1).unsqueeze(1)).squeeze(1);
    return -(logp.masked_select(keep)).mean();
  };
  auto ignore_zero = [](const at::Tensor& y) { return torch::where(y.eq(0), torch::full_like(y, 255), y); };
  const auto t1 = ignore_zero(label1), t2 = ignore_zero(label2);
  const auto unchanged = t1.eq(255).unsqueeze(1).to(torch::kDouble);  // padding counts as unchanged, as the reference
  const auto diff = (torch::softmax(logits.t1, 1) - torch::softmax(logits.t2, 1)) * unchanged;
  const auto sim = diff.pow(2).sum() / static_cast<double>(B * K * H * W);
  auto lovasz = [](const at::Tensor& x, const at::Tensor& y) { return change::lovasz_softmax(torch::softmax(x, 1), y, 255); };
  const auto expected = ce(logits.change, change) + 0.5 * (ce(logits.t1, t1) + ce(logits.t2, t2) + 0.5 * sim) +
                        0.75 * (lovasz(logits.change, change) + 0.5 * (lovasz(logits.t1, t1) + lovasz(logits.t2, t2)));
  EXPECT_NEAR(change::mamba_scd_loss(logits, change, label1, label2).item<double>(), expected.item<double>(), 1e-12);
  EXPECT_GT(sim.item<double>(), 0.0);  // the similarity term is exercised
}

TEST(MambaSCD, ABinaryCheckpointIsRefusedNamingTheMissingKeys) {
  const auto dir = make_temp_dir("mamba_scd");
  auto bcd = change::make_mamba_bcd(Config::load(source_dir() / "configs/change/mambabcd_test.yaml"));
  save_weights(*bcd, dir / "bcd.safetensors");
  MambaSCD scd = make_mamba_scd(test_config());
  EXPECT_EQ(error_of([&] { change::load_mamba_scd_weights(*scd, dir / "bcd.safetensors"); }),
            (dir / "bcd.safetensors").string() +
                ": a binary change checkpoint (MambaBCD's decoder.*, main_clf.*), not a semantic one: missing "
                "decoder_bcd.*, decoder_T1.*, decoder_T2.*, main_clf_cd.*, aux_clf.*");
  // A semantic checkpoint loads (strictly).
  save_weights(*scd, dir / "scd.safetensors");
  MambaSCD other = make_mamba_scd(test_config());
  change::load_mamba_scd_weights(*other, dir / "scd.safetensors");
  EXPECT_TRUE(torch::equal(state_map(*other).at("aux_clf.weight"), state_map(*scd).at("aux_clf.weight")));
  remove_tree(dir);
}

TEST(MambaSCD, PublishedConfigsBuild) {
  // Tiny / Small / Base differ in the encoder only; AWMambaSCD scans atrous windows
  // everywhere (K = 2·len(rates) directions), decoders included.
  std::map<std::string, int64_t> encoder_blocks;
  for (const std::string name : {"mambascd_tiny", "mambascd_small", "mambascd_base", "awmambascd_tiny"}) {
    const Config root = Config::load(source_dir() / ("configs/change/" + name + ".yaml"));
    const Config node = root["model"];
    Config small = Config::parse(node.dump());
    // Narrow widths keep the test fast; depths, scans and names are the config's.
    small.apply_override("encoder.dims=8");
    small.apply_override("decoder.channels=8");
    const MambaSCD model = make_mamba_scd(small);
    const auto s = state_map(*model);
    int64_t blocks = 0;  // one op.A_logs per VSS block of the encoder
    for (const auto& [key, t] : s)
      if (key.rfind("encoder.layers.", 0) == 0 && key.find(".op.A_logs") != std::string::npos) ++blocks;
    encoder_blocks[name] = blocks;
    EXPECT_EQ(root["task"].get<std::string>("type"), "semantic_change") << name;
    if (name == "awmambascd_tiny") {
      const auto K = 2 * static_cast<int64_t>(node["encoder"]["scan"].get<std::vector<int64_t>>("rates").size());
      EXPECT_EQ(s.at("decoder_T1.st_block_1_semantic.1.op.x_proj_weight").size(0), K);
      EXPECT_EQ(s.at("decoder_bcd.st_block_11.2.op.x_proj_weight").size(0), K);
      EXPECT_EQ(s.at("encoder.layers.0.blocks.0.op.x_proj_weight").size(0), K);
    }
  }
  EXPECT_EQ(encoder_blocks["mambascd_tiny"], 2 + 2 + 4 + 2);
  EXPECT_EQ(encoder_blocks["mambascd_small"], 2 + 2 + 15 + 2);
  EXPECT_EQ(encoder_blocks["mambascd_base"], 2 + 2 + 15 + 2);
}

TEST(MambaSCD, ConfigErrorsNameTheKey) {
  auto expect_error = [](const std::vector<std::string>& overrides, const std::string& needle) {
    const std::string e = error_of([&] { make_mamba_scd(test_config(overrides)); });
    EXPECT_NE(e.find(needle), std::string::npos) << "'" << e << "' lacks " << needle;
  };
  expect_error({"semantic_classes=1"}, "semantic_classes");
  expect_error({"semantic_classes=256"}, "semantic_classes");
  expect_error({"encoder.out_indices=[1,2,3]"}, "encoder.out_indices");
  expect_error({"decoder.channels=0"}, "decoder.channels");
  expect_error({"classes=7"}, "classes");
  expect_error({"type=mamba_bcd"}, "unknown semantic change model 'mamba_bcd'");
}

}  // namespace
}  // namespace vss::test::mamba_scd_tests
