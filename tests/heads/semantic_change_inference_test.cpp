// Semantic change maps from hand-made logits: MambaCD's rule (argmax of each date's classes
// times the change mask) and the post-classification baseline (classes 1..K-1 compared
// between the dates); tiles that overlap average each output on its own.
#include "heads/change/change_inference.h"

#include "core/config.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

// Named: the unity build puts several test files in one translation unit.
namespace vss::test::scd_inference_tests {
namespace {

// One row of 3 pixels, K = 3: logits chosen so the argmaxes are written in the comments.
change::SemanticChangeLogits hand_logits() {
  change::SemanticChangeLogits l;
  // change argmax: 1, 0, 1
  l.change = torch::stack({torch::tensor({{0.f, 3.f, 0.f}}), torch::tensor({{1.f, -1.f, 5.f}})}).unsqueeze(0);
  // date 1 argmax over 0..2: 0, 1, 2; over 1..2: 2, 1, 2
  l.t1 = torch::stack({torch::tensor({{9.f, 9.f, 0.f}}), torch::tensor({{1.f, 10.f, 0.f}}), torch::tensor({{2.f, 0.f, 1.f}})})
             .unsqueeze(0);
  // date 2 argmax over 0..2: 2, 2, 1; over 1..2: 2, 2, 1
  l.t2 = torch::stack({torch::tensor({{0.f, 0.f, 0.f}}), torch::tensor({{1.f, 1.f, 3.f}}), torch::tensor({{2.f, 4.f, 2.f}})})
             .unsqueeze(0);
  return l;
}

TEST(SemanticChangeInference, MapsAreTheClassArgmaxTimesTheChangeMask) {
  const auto m = change::semantic_change_maps(hand_logits());
  EXPECT_TRUE(torch::equal(m.change, torch::tensor({1, 0, 1}, torch::kByte).view({1, 1, 3})));
  EXPECT_TRUE(torch::equal(m.label1, torch::tensor({0, 0, 2}, torch::kByte).view({1, 1, 3})));
  EXPECT_TRUE(torch::equal(m.label2, torch::tensor({2, 0, 1}, torch::kByte).view({1, 1, 3})));
}

TEST(SemanticChangeInference, PostClassificationComparesTheDatesLandCover) {
  const auto m = change::post_classification_maps(hand_logits());
  // classes 1..2: date 1 (2, 1, 2), date 2 (2, 2, 1): change at pixels 1 and 2.
  EXPECT_TRUE(torch::equal(m.change, torch::tensor({0, 1, 1}, torch::kByte).view({1, 1, 3})));
  EXPECT_TRUE(torch::equal(m.label1, torch::tensor({0, 1, 2}, torch::kByte).view({1, 1, 3})));
  EXPECT_TRUE(torch::equal(m.label2, torch::tensor({0, 2, 1}, torch::kByte).view({1, 1, 3})));
}

TEST(SemanticChangeInference, OverlappingTilesAverageEachOutput) {
  // Each output tiled through its own bitemporal_logits must equal the joint tiling.
  torch::manual_seed(0);
  auto model = change::make_mamba_scd(Config::load(source_dir() / "configs/change/mambascd_test.yaml"));
  model->eval();
  torch::NoGradGuard no_grad;
  const auto pre = torch::randint(0, 256, {1, 3, 40, 48}, torch::kByte), post = torch::randint(0, 256, {1, 3, 40, 48}, torch::kByte);
  change::ChangeInferenceOptions o;
  o.tile = 32;
  o.stride = 16;
  const auto joint = change::semantic_change_logits(*model, pre, post, o);
  const auto t2_alone = change::bitemporal_logits(
      [&](const at::Tensor& a, const at::Tensor& b) { return model->forward(a, b).t2; }, pre, post, o);
  EXPECT_TRUE(torch::allclose(joint.t2, t2_alone, 1e-5, 1e-6));
  EXPECT_EQ(joint.change.sizes().vec(), (std::vector<int64_t>{1, 2, 40, 48}));
  EXPECT_EQ(joint.t1.sizes().vec(), (std::vector<int64_t>{1, 7, 40, 48}));
}

}  // namespace
}  // namespace vss::test::scd_inference_tests
