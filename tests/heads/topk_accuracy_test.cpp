// Top-1 / top-5 / per-class accuracy on a hand-computed case and, on random logits, against
// numpy's argsort (an independent top-k); timm's k cap when there are fewer than 5 classes.
#include "core/error.h"
#include "heads/classify/topk_accuracy.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss::test {
namespace {

TEST(TopkAccuracy, HandComputedCase) {
  // 6 classes. Row 0: label 2 is top-1. Row 1: label 0 ranks 3rd (top-5 hit). Row 2: label 5
  // ranks last (miss). Two batches.
  TopkAccuracy acc(6);
  acc.add(torch::tensor({0.f, 1.f, 9.f, 2.f, 3.f, 4.f, 5.f, 9.f, 1.f, 8.f, 0.f, 0.5f}).view({2, 6}), torch::tensor({2, 0}));
  acc.add(torch::tensor({5.f, 4.f, 3.f, 2.f, 1.f, 0.f}).view({1, 6}), torch::tensor({5}));
  EXPECT_EQ(acc.count(), 3);
  EXPECT_DOUBLE_EQ(acc.top1(), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(acc.top5(), 2.0 / 3.0);
  EXPECT_EQ(*acc.class_top1(2), 1.0);
  EXPECT_EQ(*acc.class_top1(0), 0.0);
  EXPECT_EQ(acc.class_count(5), 1);
  EXPECT_FALSE(acc.class_top1(1).has_value());
  // Three classes: top-5 is top-3 (timm's maxk), every image counts.
  TopkAccuracy three(3);
  three.add(torch::tensor({1.f, 2.f, 3.f}).view({1, 3}), torch::tensor({0}));
  EXPECT_EQ(three.top1(), 0.0);
  EXPECT_EQ(three.top5(), 1.0);
}

TEST(TopkAccuracy, MatchesNumpyOnRandomLogits) {
  if (!python_has({"numpy"})) GTEST_SKIP() << "python numpy not available";
  torch::manual_seed(0);
  const at::Tensor logits = torch::randn({50, 12}, torch::kDouble);
  const at::Tensor labels = torch::randint(0, 12, {50}, torch::kLong);
  std::string out;
  ASSERT_EQ(run_python("import sys, numpy as np\n"
                       "x = np.array(sys.argv[1].split(), float).reshape(50, 12)\n"
                       "y = np.array(sys.argv[2].split(), float).astype(int)\n"
                       "order = np.argsort(-x, axis=1)\n"
                       "print((order[:, 0] == y).mean(), (order[:, :5] == y[:, None]).any(1).mean())",
                       {to_text(logits), to_text(labels)}, &out),
            0)
      << out;
  double top1 = 0, top5 = 0;
  ASSERT_EQ(std::sscanf(out.c_str(), "%lf %lf", &top1, &top5), 2) << out;
  TopkAccuracy acc(12);
  acc.add(logits.slice(0, 0, 20), labels.slice(0, 0, 20));
  acc.add(logits.slice(0, 20), labels.slice(0, 20));
  EXPECT_DOUBLE_EQ(acc.top1(), top1);
  EXPECT_DOUBLE_EQ(acc.top5(), top5);
}

TEST(TopkAccuracy, ShapeAndLabelErrors) {
  TopkAccuracy acc(4);
  EXPECT_EQ(error_of([&] { acc.add(torch::zeros({2, 5}), torch::zeros({2}, torch::kLong)); }),
            "top-k accuracy: expected logits [B, 4] and labels [B], got [2, 5] and [2]");
  EXPECT_EQ(error_of([&] { acc.add(torch::zeros({1, 4}), torch::tensor({4})); }),
            "top-k accuracy: label 4 is outside 0..3");
}

}  // namespace
}  // namespace vss::test
