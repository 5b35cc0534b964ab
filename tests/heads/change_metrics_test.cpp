// Change detection metrics: a hand-computed confusion matrix, the 0/0 conventions, and an
// independent numpy implementation (the conventions.md §3.4 formulas and BIT_CD's cm2score
// with its float32 eps) on random predictions of several images of different sizes.
#include "heads/change/change_metrics.h"

#include "core/error.h"
#include "core/remove_tree.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

namespace vss::test {
namespace {

using change::change_metrics;
using change::confusion_matrix;

TEST(ChangeMetrics, HandComputedConfusionMatrix) {
  // label / prediction, 2x5 pixels: TP at (0,0), (0,1); FN at (0,2); FP at (1,0); TN at (0,3),
  // (1,1), (1,2); (0,4) and (1,4) are ignored (255) whatever the prediction.
  const auto label = torch::tensor({1, 1, 1, 0, 255, 0, 0, 0, 1, 255}, torch::kUInt8).view({2, 5});
  const auto pred = torch::tensor({1, 1, 0, 0, 1, 1, 0, 0, 0, 0}, torch::kUInt8).view({2, 5});
  const auto cm = confusion_matrix(pred, label);
  EXPECT_EQ(cm.tp, 2);
  EXPECT_EQ(cm.fn, 2);  // (0,2) and (1,3)
  EXPECT_EQ(cm.fp, 1);
  EXPECT_EQ(cm.tn, 3);
  const auto m = change_metrics(cm);
  // P = 2/3, R = 2/4, F1 = 2PR/(P+R) = 4/7, IoU = 2/5, OA = 5/8,
  // PE = ((TP+FP)(TP+FN) + (FN+TN)(FP+TN)) / N² = (3·4 + 5·4) / 64 = 1/2, kappa = (5/8 − 1/2)/(1/2) = 1/4.
  EXPECT_DOUBLE_EQ(m.precision, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.recall, 0.5);
  EXPECT_DOUBLE_EQ(m.f1, 4.0 / 7.0);
  EXPECT_DOUBLE_EQ(m.iou, 0.4);
  EXPECT_DOUBLE_EQ(m.oa, 0.625);
  EXPECT_DOUBLE_EQ(m.kappa, 0.25);
  // Class 0: P = TN/(TN+FN) = 3/5, R = TN/(TN+FP) = 3/4, IoU = 3/6.
  EXPECT_DOUBLE_EQ(m.precision_k[0], 0.6);
  EXPECT_DOUBLE_EQ(m.recall_k[0], 0.75);
  EXPECT_DOUBLE_EQ(m.iou_k[0], 0.5);
  EXPECT_DOUBLE_EQ(m.miou, (0.5 + 0.4) / 2);
  EXPECT_DOUBLE_EQ(m.mf1, (2 * 0.6 * 0.75 / 1.35 + 4.0 / 7.0) / 2);
}

TEST(ChangeMetrics, AccumulatesOverImagesNotAveraged) {
  // Image 1: one TP pixel of 1 (F1 1); image 2: one FN of 3 pixels (F1 0). Per-image mean
  // F1 would be 0.5; the accumulated matrix gives TP 1, FN 1: F1 = 2/3.
  auto cm = confusion_matrix(torch::ones({1, 1}, torch::kUInt8), torch::ones({1, 1}, torch::kUInt8));
  cm += confusion_matrix(torch::zeros({1, 3}, torch::kInt64), torch::tensor({{1, 0, 0}}));
  EXPECT_EQ(cm.total(), 4);
  EXPECT_DOUBLE_EQ(change_metrics(cm).f1, 2.0 / 3.0);
}

TEST(ChangeMetrics, ZeroDenominatorsGiveZero) {
  // No change anywhere and none predicted: P, R, F1, IoU of class 1 are 0/0 -> 0; OA 1;
  // PE = 1 so kappa is 0/0 -> 0.
  const auto m = change_metrics(confusion_matrix(torch::zeros({4, 4}, torch::kUInt8), torch::zeros({4, 4}, torch::kUInt8)));
  EXPECT_EQ(m.precision, 0.0);
  EXPECT_EQ(m.recall, 0.0);
  EXPECT_EQ(m.f1, 0.0);
  EXPECT_EQ(m.iou, 0.0);
  EXPECT_EQ(m.oa, 1.0);
  EXPECT_EQ(m.kappa, 0.0);
  EXPECT_EQ(m.iou_k[0], 1.0);
  // Nothing counted at all.
  const auto empty = change_metrics({});
  EXPECT_EQ(empty.oa, 0.0);
  EXPECT_EQ(empty.kappa, 0.0);
}

TEST(ChangeMetrics, RejectsBadValuesAndShapes) {
  const auto ok = torch::zeros({2, 2}, torch::kUInt8);
  try {
    confusion_matrix(ok, torch::tensor({0, 1, 128, 0}, torch::kUInt8).view({2, 2}), "gt/x.png");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gt/x.png: label holds value 128"), std::string::npos) << e.what();
  }
  EXPECT_THROW(confusion_matrix(torch::full({2, 2}, 2, torch::kUInt8), ok), Error);
  try {
    confusion_matrix(ok, torch::zeros({2, 3}, torch::kUInt8), "pair 7");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pair 7: prediction shape [2, 2] differs from label shape [2, 3]"),
              std::string::npos)
        << e.what();
  }
}

// numpy: counts from the flattened arrays, the conventions.md formulas (eps-free, 0/0 -> 0),
// and BIT's cm2score (eps = float32 eps in every denominator) for the per-class values.
constexpr const char* kChangeMetricsOracle = R"PY(
import sys, numpy as np
pred = np.fromfile(sys.argv[1], dtype=np.uint8); lab = np.fromfile(sys.argv[2], dtype=np.uint8)
keep = lab != 255
p, l = pred[keep].astype(np.int64), lab[keep].astype(np.int64)
tp = int(np.sum((p == 1) & (l == 1))); tn = int(np.sum((p == 0) & (l == 0)))
fp = int(np.sum((p == 1) & (l == 0))); fn = int(np.sum((p == 0) & (l == 1)))
print("tp", tp); print("tn", tn); print("fp", fp); print("fn", fn)
div = lambda a, b: a / b if b else 0.0
P = div(tp, tp + fp); R = div(tp, tp + fn); N = tp + tn + fp + fn
print("precision", P); print("recall", R); print("f1", div(2 * P * R, P + R))
print("iou", div(tp, tp + fp + fn)); oa = div(tp + tn, N); print("oa", oa)
pe = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / N ** 2
print("kappa", div(oa - pe, 1 - pe))
hist = np.array([[tn, fp], [fn, tp]], dtype=np.float64)
eps = np.finfo(np.float32).eps
d = np.diag(hist); rec = d / (hist.sum(1) + eps); pre = d / (hist.sum(0) + eps)
f1 = 2 * rec * pre / (rec + pre + eps); iu = d / (hist.sum(1) + hist.sum(0) - d + eps)
for k in range(2):
    print(f"precision_{k}", pre[k]); print(f"recall_{k}", rec[k]); print(f"F1_{k}", f1[k]); print(f"iou_{k}", iu[k])
print("miou", np.nanmean(iu)); print("mf1", np.nanmean(f1))
)PY";

void write_bytes(const std::filesystem::path& path, const at::Tensor& t) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(t.data_ptr()), t.numel());
}

TEST(ChangeMetrics, MatchesNumpyOnRandomImages) {
  if (!python_has({"numpy"})) GTEST_SKIP() << "numpy not available";
  torch::manual_seed(5);
  change::ConfusionMatrix cm;
  std::vector<at::Tensor> preds, labels;
  for (auto [h, w] : std::vector<std::pair<int64_t, int64_t>>{{16, 16}, {7, 31}, {64, 3}}) {
    // About 20% changed pixels, 5% ignored, predictions right 80% of the time.
    auto label = (torch::rand({h, w}) < 0.2).to(torch::kUInt8);
    label.masked_fill_(torch::rand({h, w}) < 0.05, 255);
    auto pred = torch::where(torch::rand({h, w}) < 0.8, label.clamp_max(1), 1 - label.clamp_max(1)).to(torch::kUInt8);
    cm += confusion_matrix(pred, label);
    preds.push_back(pred.flatten());
    labels.push_back(label.flatten());
  }
  const auto dir = make_temp_dir("change_metrics");
  write_bytes(dir / "pred.bin", torch::cat(preds));
  write_bytes(dir / "label.bin", torch::cat(labels));
  std::string out;
  ASSERT_EQ(run_python(kChangeMetricsOracle, {(dir / "pred.bin").string(), (dir / "label.bin").string()}, &out), 0) << out;
  std::map<std::string, double> ref;
  std::istringstream lines(out);
  for (std::string key; lines >> key;) lines >> ref[key];
  ASSERT_EQ(ref.size(), 20u) << out;

  EXPECT_EQ(cm.tp, static_cast<int64_t>(ref["tp"]));
  EXPECT_EQ(cm.tn, static_cast<int64_t>(ref["tn"]));
  EXPECT_EQ(cm.fp, static_cast<int64_t>(ref["fp"]));
  EXPECT_EQ(cm.fn, static_cast<int64_t>(ref["fn"]));
  const auto m = change_metrics(cm);
  EXPECT_NEAR(m.precision, ref["precision"], 1e-15);
  EXPECT_NEAR(m.recall, ref["recall"], 1e-15);
  EXPECT_NEAR(m.f1, ref["f1"], 1e-15);
  EXPECT_NEAR(m.iou, ref["iou"], 1e-15);
  EXPECT_NEAR(m.oa, ref["oa"], 1e-15);
  EXPECT_NEAR(m.kappa, ref["kappa"], 1e-14);
  // BIT's eps shifts its values by about eps relative.
  for (int k = 0; k < 2; ++k) {
    const auto s = std::to_string(k);
    EXPECT_NEAR(m.precision_k[k], ref["precision_" + s], 1e-6);
    EXPECT_NEAR(m.recall_k[k], ref["recall_" + s], 1e-6);
    EXPECT_NEAR(m.f1_k[k], ref["F1_" + s], 1e-6);
    EXPECT_NEAR(m.iou_k[k], ref["iou_" + s], 1e-6);
  }
  EXPECT_NEAR(m.miou, ref["miou"], 1e-6);
  EXPECT_NEAR(m.mf1, ref["mf1"], 1e-6);
  remove_tree(dir);
}

}  // namespace
}  // namespace vss::test
