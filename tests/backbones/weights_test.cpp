// Weight loading: round trip, strict errors that name every key with both shapes,
// non-strict loading of another classifier head or of a classifier into a dense backbone.
#include "backbones/backbone_registry.h"
#include "backbones/vssm.h"
#include "backbones/weights.h"
#include "core/config.h"
#include "core/remove_tree.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss {
namespace {

Config tiny_config() {
  return Config::load(test::source_dir() / "configs" / "backbones" / "vss_tiny_test.yaml");
}

std::shared_ptr<VSSM> build_vssm(const Config& node) { return std::dynamic_pointer_cast<VSSM>(make_backbone(node)); }

std::string load_error(torch::nn::Module& model, const std::filesystem::path& file,
                       WeightMatch match = WeightMatch::kStrict) {
  try {
    load_weights(model, file, match);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

class WeightsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("vss-weights");
    file_ = dir_ / "tiny.safetensors";
    torch::manual_seed(1);
    source_ = build_vssm(tiny_config());
    source_->eval();
    save_weights(*source_, file_);
  }
  void TearDown() override { remove_tree(dir_); }

  std::filesystem::path dir_, file_;
  std::shared_ptr<VSSM> source_;
};

TEST_F(WeightsTest, round_trip_reproduces_the_model) {
  torch::manual_seed(2);
  auto copy = build_vssm(tiny_config());
  copy->eval();
  const auto report = load_weights(*copy, file_);
  EXPECT_TRUE(report.missing.empty() && report.unexpected.empty() && report.mismatched.empty());
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({1, 3, 32, 32});
  EXPECT_EQ(test::max_abs_diff(copy->forward(x), source_->forward(x)), 0.0);
}

TEST_F(WeightsTest, another_variant_is_one_line_naming_keys_and_both_shapes) {
  auto node = tiny_config();
  node.apply_override("dims=[4, 8, 8, 24]");
  node.apply_override("depths=[1, 1, 2, 1]");
  auto other = build_vssm(node);
  const std::string what = load_error(*other, file_);
  ASSERT_FALSE(what.empty());
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  EXPECT_EQ(what.rfind(file_.string(), 0), 0u) << what;  // starts with the file
  EXPECT_NE(what.find("shape mismatch: layers.2.downsample.1.weight model [24, 8, 3, 3] vs file [16, 8, 3, 3]"),
            std::string::npos)
      << what;
  EXPECT_NE(what.find("(25 shape mismatches, 18 missing, 0 unexpected keys)"), std::string::npos) << what;
  EXPECT_NE(what.find("missing: layers.2.blocks.1.norm.weight [8]"), std::string::npos) << what;
  // Nothing is copied when the load fails.
  EXPECT_NE(test::max_abs_diff(other->named_parameters()["patch_embed.0.weight"],
                               source_->named_parameters()["patch_embed.0.weight"]),
            0.0);
}

TEST_F(WeightsTest, unexpected_keys_are_listed) {
  auto tensors = read_safetensors(file_).tensors;
  tensors.emplace_back("layers.0.blocks.0.extra", torch::zeros({3}));
  write_safetensors(file_, tensors);
  auto model = build_vssm(tiny_config());
  const std::string what = load_error(*model, file_);
  EXPECT_NE(what.find("unexpected: layers.0.blocks.0.extra [3]"), std::string::npos) << what;
  EXPECT_TRUE(load_error(*model, file_, WeightMatch::kPartial).empty());
}

TEST_F(WeightsTest, non_strict_allows_another_classifier_head) {
  auto node = tiny_config();
  node.apply_override("num_classes=7");
  auto model = build_vssm(node);
  EXPECT_NE(load_error(*model, file_).find("classifier.head.weight model [7, 16] vs file [10, 16]"),
            std::string::npos);
  const auto report = load_weights(*model, file_, WeightMatch::kOtherHead);
  EXPECT_EQ(report.mismatched, (std::vector<std::string>{"classifier.head.weight", "classifier.head.bias"}));
  EXPECT_EQ(test::max_abs_diff(model->named_parameters()["layers.3.blocks.0.op.A_logs"],
                               source_->named_parameters()["layers.3.blocks.0.op.A_logs"]),
            0.0);
  // Other shape mismatches stay errors even when not strict.
  node.apply_override("dims=[4, 8, 8, 24]");
  auto other = build_vssm(node);
  EXPECT_NE(load_error(*other, file_, WeightMatch::kOtherHead).find("shape mismatch"), std::string::npos);
}

TEST_F(WeightsTest, another_head_allows_nothing_else_to_differ) {
  // A file without the head loads (the head keeps its initial values) ...
  auto tensors = read_safetensors(file_).tensors;
  std::erase_if(tensors, [](const auto& t) { return t.first.rfind("classifier.head.", 0) == 0; });
  write_safetensors(file_, tensors);
  auto model = build_vssm(tiny_config());
  const auto report = load_weights(*model, file_, WeightMatch::kOtherHead);
  EXPECT_EQ(report.missing, (std::vector<std::string>{"classifier.head.weight", "classifier.head.bias"}));
  // ... but a missing or unexpected key outside the head is an error naming it.
  tensors.emplace_back("decoder.extra", torch::zeros({2}));
  std::erase_if(tensors, [](const auto& t) { return t.first == "classifier.norm.weight"; });
  write_safetensors(file_, tensors);
  const std::string what = load_error(*model, file_, WeightMatch::kOtherHead);
  EXPECT_NE(what.find("missing: classifier.norm.weight [16]"), std::string::npos) << what;
  EXPECT_NE(what.find("unexpected: decoder.extra [2]"), std::string::npos) << what;
  EXPECT_NE(what.find("only the classifier head may differ"), std::string::npos) << what;
  EXPECT_TRUE(load_error(*model, file_, WeightMatch::kPartial).empty());
}

TEST_F(WeightsTest, a_file_of_another_model_lists_a_few_keys_per_kind_and_the_counts) {
  // Every key renamed: all of the model's are missing, all of the file's unexpected.
  auto tensors = read_safetensors(file_).tensors;
  const size_t n = tensors.size();
  for (auto& t : tensors) t.first = "other." + t.first;
  write_safetensors(file_, tensors);
  auto model = build_vssm(tiny_config());
  const std::string what = load_error(*model, file_);
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  EXPECT_NE(what.find("(" + std::to_string(n) + " in all)"), std::string::npos) << what;
  EXPECT_NE(what.find(std::to_string(n) + " missing, " + std::to_string(n) + " unexpected"), std::string::npos) << what;
  EXPECT_NE(what.find("missing: patch_embed.0.weight [2, 3, 3, 3]"), std::string::npos) << what;
  EXPECT_NE(what.find("unexpected: other.classifier.head.bias [10]"), std::string::npos) << what;
  // A few keys of each kind, not all of them.
  EXPECT_LT(what.size(), 1500u) << what;
}

TEST_F(WeightsTest, classifier_weights_load_into_a_dense_backbone_non_strictly) {
  auto node = tiny_config();
  node.apply_override("type=vssm_backbone");
  auto dense = build_vssm(node);
  const auto report = load_weights(*dense, file_, WeightMatch::kPartial);
  EXPECT_EQ(report.missing.size(), 8u);     // outnorm{0..3}.weight/bias
  EXPECT_EQ(report.unexpected.size(), 4u);  // classifier.norm / head
  dense->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({1, 3, 32, 32});
  const auto ours = dense->trace(x).stages;
  const auto ref = source_->trace(x).stages;
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_EQ(test::max_abs_diff(ours[i], ref[i]), 0.0);
}

}  // namespace
}  // namespace vss
