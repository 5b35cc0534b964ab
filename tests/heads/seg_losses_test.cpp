// Segmentation losses: cross-entropy against Python torch's F.cross_entropy(ignore_index=255),
// Dice on a hand-computed case, the weighted sum from YAML, and bad labels.
#include "core/config.h"
#include "core/error.h"
#include "core/remove_tree.h"
#include "core/safetensors.h"
#include "heads/seg/seg_losses.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>

namespace vss::seg {
namespace {

// logits [2, 5, 7, 9] and labels with about a fifth of the pixels ignored.
std::pair<at::Tensor, at::Tensor> random_case() {
  torch::manual_seed(7);
  const at::Tensor logits = torch::randn({2, 5, 7, 9}, torch::kFloat64) * 3.0;
  at::Tensor labels = torch::randint(0, 5, {2, 7, 9}, torch::kInt64);
  labels.masked_fill_(torch::rand({2, 7, 9}) < 0.2, 255);
  return {logits, labels};
}

TEST(SegLosses, cross_entropy_matches_python_torch) {
  if (!test::python_has({"torch", "safetensors"})) GTEST_SKIP() << "python torch/safetensors missing";
  const auto [logits, labels] = random_case();
  const auto dir = test::make_temp_dir("vss-seg-ce");
  write_safetensors(dir / "case.safetensors", {{"logits", logits}, {"labels", labels}});
  std::string out;
  ASSERT_EQ(test::run_python(R"(
import sys, torch
import torch.nn.functional as F
from safetensors.torch import load_file
t = load_file(sys.argv[1])
x, y = t['logits'], t['labels']
mean_non_ignored = F.cross_entropy(x, y, ignore_index=255)
mean_all = F.cross_entropy(x, y, ignore_index=255, reduction='sum') / y.numel()
print(repr(mean_non_ignored.item()), repr(mean_all.item()))
)",
                             {(dir / "case.safetensors").string()}, &out),
            0)
      << out;
  std::istringstream in(out);
  double expected_mean = 0, expected_all = 0;
  in >> expected_mean >> expected_all;
  EXPECT_NEAR(seg_cross_entropy(logits, labels, 255).item<double>(), expected_mean, 1e-12);
  EXPECT_NEAR(seg_cross_entropy(logits, labels, 255, /*avg_non_ignore=*/false).item<double>(), expected_all, 1e-12);
  remove_tree(dir);
}

TEST(SegLosses, cross_entropy_of_an_all_ignored_batch_is_zero_not_nan) {
  const at::Tensor logits = torch::randn({1, 3, 2, 2}, torch::requires_grad());
  const at::Tensor loss = seg_cross_entropy(logits, torch::full({1, 2, 2}, 255, torch::kInt64), 255);
  EXPECT_EQ(loss.item<double>(), 0.0);
  loss.backward();
  EXPECT_EQ(logits.grad().abs().sum().item<double>(), 0.0);
}

TEST(SegLosses, dice_on_a_hand_computed_case) {
  // One image, 2 classes, 3 pixels: label 0 with p = (1/2, 1/2); label 1 with p = (1/4, 3/4);
  // an ignored pixel whose confident prediction must not count.
  const at::Tensor logits = torch::tensor({0.0, 0.0, 5.0, 0.0, std::log(3.0), -5.0}, torch::kFloat64).view({1, 2, 1, 3});
  const at::Tensor labels = torch::tensor({0, 1, 255}, torch::kInt64).view({1, 1, 3});
  // Σ p·t = 1/2 + 3/4; Σ p² = (1/4 + 1/4) + (1/16 + 9/16); Σ t² = 2.
  const double eps = 1e-3;
  const double expected = 1.0 - 2.0 * 1.25 / ((1.125 + eps) + (2.0 + eps));
  EXPECT_NEAR(seg_dice_loss(logits, labels, 255, eps).item<double>(), expected, 1e-12);

  // A second image with a perfect, confident prediction: the loss is the mean of the two.
  const at::Tensor perfect = torch::tensor({20.0, -20.0, -20.0, 20.0}, torch::kFloat64).view({1, 2, 1, 2});
  const at::Tensor perfect_labels = torch::tensor({0, 1}, torch::kInt64).view({1, 1, 2});
  const double alone = seg_dice_loss(perfect, perfect_labels, 255, eps).item<double>();
  EXPECT_NEAR(alone, 1.0 - 4.0 / (2.0 + eps + 2.0 + eps), 1e-9);  // Σ p·t = Σ p² = Σ t² = 2
  const at::Tensor both_logits = torch::cat({logits.slice(3, 0, 2), perfect}, 0);
  const at::Tensor both_labels = torch::cat({labels.slice(2, 0, 2), perfect_labels}, 0);
  const double first = 1.0 - 2.0 * 1.25 / ((1.125 + eps) + (2.0 + eps));  // pixels 0, 1 of the first image
  EXPECT_NEAR(seg_dice_loss(both_logits, both_labels, 255, eps).item<double>(), (first + alone) / 2, 1e-9);
}

TEST(SegLosses, weighted_sum_from_yaml) {
  const auto [logits, labels] = random_case();
  const auto loss = SegLoss::from_config(
      Config::parse("- {type: cross_entropy, weight: 0.5}\n- {type: dice, weight: 2.0, eps: 0.01}", "loss"), 255);
  const double expected =
      0.5 * seg_cross_entropy(logits, labels, 255).item<double>() + 2.0 * seg_dice_loss(logits, labels, 255, 0.01).item<double>();
  EXPECT_NEAR(loss(logits, labels).item<double>(), expected, 1e-12);
}

TEST(SegLosses, bad_config_and_labels_are_one_line_errors) {
  EXPECT_THROW(SegLoss::from_config(Config::parse("- {type: focal}", "loss"), 255), Error);
  EXPECT_THROW(SegLoss::from_config(Config::parse("- {type: dice, gamma: 2}", "loss"), 255), Error);
  EXPECT_THROW(SegLoss::from_config(Config::parse("type: dice", "loss"), 255), Error);
  const auto loss = SegLoss::from_config(Config::parse("- {type: cross_entropy}", "loss"), 255);
  at::Tensor labels = torch::zeros({1, 2, 2}, torch::kInt64);
  labels[0][1][1] = 7;
  try {
    loss(torch::zeros({1, 3, 2, 2}), labels);
    FAIL() << "label 7 of 3 classes accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("value 7 is neither a class in [0, 3)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(loss(torch::zeros({1, 3, 2, 2}), torch::zeros({1, 2, 3}, torch::kInt64)), Error);
}

}  // namespace
}  // namespace vss::seg
