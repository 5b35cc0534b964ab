// timm's Mixup in batch mode on hand-computed cases: smoothed one-hot targets, mixup's blend of
// a batch with itself reversed, cutmix's pasted box and its area-corrected λ, and the draws'
// invariants (λ in [0, 1], the cutmix box inside the image, λ = 1 - box area / image area).
#include "core/config.h"
#include "datasets/mixup_cutmix.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss::test {
namespace {

TEST(MixupCutmix, SmoothedOneHotByHand) {
  // ε = 0.3, C = 3: off = 0.1, on = 1 - 0.3 + 0.1 = 0.8.
  const at::Tensor t = smoothed_one_hot(torch::tensor({2, 0}), 3, 0.3);
  const at::Tensor expected = torch::tensor({0.1f, 0.1f, 0.8f, 0.8f, 0.1f, 0.1f}).view({2, 3});
  EXPECT_LT(max_abs_diff(t, expected), 1e-7);
}

TEST(MixupCutmix, MixupBlendsWithTheReversedBatch) {
  const at::Tensor images = torch::tensor({1.f, 2.f, 10.f, 20.f, 100.f, 200.f}).view({3, 1, 1, 2});
  MixDraw draw;
  draw.lambda = 0.75;
  const auto [mixed, targets] = mix_batch(images, torch::tensor({0, 1, 2}), 3, 0.0, draw);
  // Sample 0 with sample 2: 0.75·(1, 2) + 0.25·(100, 200) = (25.75, 51.5); sample 1 with itself.
  const at::Tensor expected_images =
      torch::tensor({25.75f, 51.5f, 10.f, 20.f, 75.25f, 150.5f}).view({3, 1, 1, 2});
  EXPECT_LT(max_abs_diff(mixed, expected_images), 1e-5);
  const at::Tensor expected_targets =
      torch::tensor({0.75f, 0.f, 0.25f, 0.f, 1.f, 0.f, 0.25f, 0.f, 0.75f}).view({3, 3});
  EXPECT_LT(max_abs_diff(targets, expected_targets), 1e-7);
}

TEST(MixupCutmix, CutmixPastesTheBoxFromTheReversedBatch) {
  const at::Tensor images = torch::stack({torch::zeros({1, 4, 4}), torch::ones({1, 4, 4})});
  MixDraw draw;
  draw.cutmix = true;
  draw.box = {1, 2, 2, 2};  // rows 1..2, columns 2..3: 4 of 16 pixels
  draw.lambda = 0.75;
  const auto [mixed, targets] = mix_batch(images, torch::tensor({0, 1}), 2, 0.2, draw);
  EXPECT_EQ(mixed[0].sum().item<float>(), 4.0f);
  EXPECT_EQ(mixed[0][0][1][2].item<float>(), 1.0f);
  EXPECT_EQ(mixed[0][0][0][0].item<float>(), 0.0f);
  EXPECT_EQ(mixed[1].sum().item<float>(), 12.0f);
  // Smoothed rows (0.9, 0.1) and (0.1, 0.9) mixed 0.75 / 0.25: (0.7, 0.3) and (0.3, 0.7).
  EXPECT_LT(max_abs_diff(targets, torch::tensor({0.7f, 0.3f, 0.3f, 0.7f}).view({2, 2})), 1e-6);
}

TEST(MixupCutmix, DrawsStayInRangeAndCutmixLambdaIsTheBoxArea) {
  const MixupCutmix m = MixupCutmix::from_config(Config::parse("{mixup_alpha: 0.8, cutmix_alpha: 1.0, switch_prob: 0.5}"));
  AugmentRng rng(11);
  int cutmix = 0;
  for (int i = 0; i < 400; ++i) {
    const MixDraw d = m.draw(20, 30, rng);
    ASSERT_GE(d.lambda, 0.0);
    ASSERT_LE(d.lambda, 1.0);
    if (!d.cutmix) continue;
    ++cutmix;
    ASSERT_GE(d.box.top, 0);
    ASSERT_LE(d.box.top + d.box.height, 20);
    ASSERT_LE(d.box.left + d.box.width, 30);
    EXPECT_DOUBLE_EQ(d.lambda, 1.0 - static_cast<double>(d.box.height * d.box.width) / 600.0);
  }
  EXPECT_GT(cutmix, 150);  // switch_prob 0.5 of 400
  EXPECT_LT(cutmix, 250);
  // prob 0: never mixed.
  const MixupCutmix off = MixupCutmix::from_config(Config::parse("{prob: 0.0}"));
  EXPECT_EQ(off.draw(8, 8, rng).lambda, 1.0);
  EXPECT_NE(error_of([] { MixupCutmix::from_config(Config::parse("{mixup_alpha: 0, cutmix_alpha: 0}", "m.yaml")); })
                .find("both 0"),
            std::string::npos);
}

}  // namespace
}  // namespace vss::test
