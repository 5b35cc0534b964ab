#include "core/error.h"
#include "core/remove_tree.h"
#include "heads/seg/seg_metrics.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <fstream>

namespace {

using vss::seg::SegMetric;

at::Tensor map2d(std::initializer_list<std::initializer_list<int64_t>> rows) {
  std::vector<int64_t> flat;
  int64_t h = 0, w = 0;
  for (const auto& r : rows) {
    w = static_cast<int64_t>(r.size());
    ++h;
    flat.insert(flat.end(), r.begin(), r.end());
  }
  return torch::tensor(flat, torch::kLong).reshape({h, w});
}

}  // namespace

// Hand-computed case. Kept pixels (label != 255): (label, pred) = (0,0) (0,1) (1,1) (0,7) (1,1) (1,0).
// The ignored pixels hold predictions 0 and 2, which must not count; 7 is out of range.
//   class 0: I 1, P 2, L 3 -> IoU 1/4, Acc 1/3, Dice 2/5, Prec 1/2, Rec 1/3, F 2/5
//   class 1: I 2, P 3, L 3 -> IoU 2/4, Acc 2/3, Dice 4/6, Prec 2/3, Rec 2/3, F 2/3
//   class 2: absent from both -> NaN everywhere, excluded from the means
//   aAcc = 3/6
TEST(SegMetricTest, hand_computed_confusion_case) {
  SegMetric metric(3, 255);
  metric.add(map2d({{0, 1, 1, 0}, {7, 1, 0, 2}}), map2d({{0, 0, 1, 255}, {0, 1, 1, 255}}));
  const auto s = metric.compute();
  EXPECT_EQ(s.area_intersect, (std::vector<int64_t>{1, 2, 0}));
  EXPECT_EQ(s.area_pred, (std::vector<int64_t>{2, 3, 0}));
  EXPECT_EQ(s.area_label, (std::vector<int64_t>{3, 3, 0}));
  EXPECT_EQ(s.area_union, (std::vector<int64_t>{4, 4, 0}));
  EXPECT_DOUBLE_EQ(s.iou[0], 0.25);
  EXPECT_DOUBLE_EQ(s.iou[1], 0.5);
  EXPECT_DOUBLE_EQ(s.acc[0], 1.0 / 3);
  EXPECT_DOUBLE_EQ(s.acc[1], 2.0 / 3);
  EXPECT_DOUBLE_EQ(s.dice[0], 0.4);
  EXPECT_DOUBLE_EQ(s.dice[1], 2.0 / 3);
  EXPECT_DOUBLE_EQ(s.precision[0], 0.5);
  EXPECT_DOUBLE_EQ(s.recall[0], 1.0 / 3);
  EXPECT_DOUBLE_EQ(s.fscore[0], 0.4);
  EXPECT_DOUBLE_EQ(s.fscore[1], 2.0 / 3);
  for (const auto* v : {&s.iou, &s.acc, &s.dice, &s.fscore, &s.precision, &s.recall}) EXPECT_TRUE(std::isnan((*v)[2]));
  EXPECT_DOUBLE_EQ(s.aacc, 0.5);
  EXPECT_DOUBLE_EQ(s.miou, 0.375);
  EXPECT_DOUBLE_EQ(s.macc, 0.5);
  EXPECT_DOUBLE_EQ(s.mdice, (0.4 + 2.0 / 3) / 2);
  EXPECT_DOUBLE_EQ(s.mfscore, (0.4 + 2.0 / 3) / 2);
}

// Counts are summed over images before any ratio: two images with IoU 1 and 0 for class 1
// give 1/3 (1 intersect pixel over 3 union pixels), not the mean 0.5 of the per-image IoUs.
TEST(SegMetricTest, data_set_scores_sum_counts_first) {
  SegMetric metric(2);
  metric.add(map2d({{1, 0}}), map2d({{1, 0}}));  // class 1: I 1, U 1
  metric.add(map2d({{1, 0}}), map2d({{0, 1}}));  // class 1: I 0, U 2
  EXPECT_DOUBLE_EQ(metric.compute().iou[1], 1.0 / 3);
  // A batch [B, H, W] counts as its images, and merge() adds counts.
  SegMetric batched(2), merged(2), second(2);
  batched.add(torch::stack({map2d({{1, 0}}), map2d({{1, 0}})}), torch::stack({map2d({{1, 0}}), map2d({{0, 1}})}));
  merged.add(map2d({{1, 0}}), map2d({{1, 0}}));
  second.add(map2d({{1, 0}}), map2d({{0, 1}}));
  merged.merge(second);
  EXPECT_EQ(batched.compute().area_union, metric.compute().area_union);
  EXPECT_EQ(merged.compute().area_intersect, metric.compute().area_intersect);
}

// mmseg's f_score(0, 0) is 0/0: a class predicted and present without overlap has Dice 0 but
// Fscore NaN (excluded from mFscore).
TEST(SegMetricTest, fscore_of_disjoint_class_is_nan_as_in_mmseg) {
  SegMetric metric(2);
  metric.add(map2d({{1, 0}}), map2d({{0, 1}}));
  const auto s = metric.compute();
  EXPECT_DOUBLE_EQ(s.dice[0], 0.0);
  EXPECT_DOUBLE_EQ(s.iou[1], 0.0);
  EXPECT_TRUE(std::isnan(s.fscore[0]));
  EXPECT_TRUE(std::isnan(s.mfscore));
  EXPECT_DOUBLE_EQ(s.miou, 0.0);
}

TEST(SegMetricTest, bad_input_is_an_error) {
  SegMetric metric(3);
  EXPECT_THROW(metric.add(torch::zeros({2, 3}, torch::kLong), torch::zeros({3, 2}, torch::kLong)), vss::Error);
  EXPECT_THROW(metric.add(torch::zeros({2, 3}), torch::zeros({2, 3})), vss::Error);
  EXPECT_THROW(SegMetric(0), vss::Error);
  EXPECT_THROW(metric.merge(SegMetric(4)), vss::Error);
}

TEST(SegMetricTest, json_and_table_report_nan_and_percent) {
  SegMetric metric(3);
  metric.add(map2d({{0, 1}}), map2d({{0, 0}}));
  const auto s = metric.compute();
  const auto j = vss::seg::scores_json(s, {"road", "car"});
  EXPECT_DOUBLE_EQ(j["mIoU"].get<double>(), 0.25);  // class 0: 1/2, class 1: 0/1, class 2: NaN
  EXPECT_TRUE(j["classes"][2]["IoU"].is_null());
  EXPECT_EQ(j["classes"][1]["name"], "car");
  EXPECT_EQ(j["classes"][2]["name"], "2");
  const std::string table = vss::seg::scores_table(s, {"road", "car"});
  EXPECT_NE(table.find("50.00"), std::string::npos) << table;
  EXPECT_NE(table.find("nan"), std::string::npos) << table;
}

// An independent numpy implementation written from mmseg's iou_metric.py (histc over bins
// 0..K-1, counts summed over images, nanmean) on random maps with ignore pixels,
// out-of-range predictions and a class that never occurs.
TEST(SegMetricTest, matches_numpy_implementation_of_mmseg_on_random_maps) {
  if (!vss::test::python_has({"numpy"})) GTEST_SKIP() << "no numpy";
  torch::manual_seed(7);
  const int64_t K = 6, images = 4, H = 23, W = 31;
  auto pred = torch::randint(-1, K + 2, {images, H, W}, torch::kLong);
  auto label = torch::randint(0, K - 1, {images, H, W}, torch::kLong);  // class K-1 never in gt
  label.masked_fill_(torch::rand({images, H, W}) < 0.1, 255);
  pred = torch::where(torch::rand({images, H, W}) < 0.4, label, pred);  // enough agreement to be interesting
  pred.masked_fill_(pred == K - 1, 0);                                   // ... and never predicted
  SegMetric metric(K, 255);
  for (int64_t i = 0; i < images; ++i) metric.add(pred[i], label[i]);
  const auto s = metric.compute();

  const auto dir = vss::test::make_temp_dir("vss-seg-metric");
  const auto write = [&](const std::string& name, const at::Tensor& t) {
    std::ofstream out(dir / name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(t.contiguous().data_ptr<int64_t>()), t.numel() * 8);
  };
  write("pred.bin", pred);
  write("label.bin", label);
  const std::string script = R"(
import sys, json, numpy as np
d, K, n, H, W = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
pred = np.fromfile(d + '/pred.bin', dtype=np.int64).reshape(n, H, W)
label = np.fromfile(d + '/label.bin', dtype=np.int64).reshape(n, H, W)
def histc(v):  # torch.histc(v, bins=K, min=0, max=K-1) for integer values
    v = v[(v >= 0) & (v <= K - 1)]
    return np.bincount(v, minlength=K).astype(np.float64)
I = np.zeros(K); U = np.zeros(K); P = np.zeros(K); L = np.zeros(K)
for p, l in zip(pred, label):
    keep = l != 255
    p, l = p[keep], l[keep]
    i, ap, al = histc(p[p == l]), histc(p), histc(l)
    I += i; U += ap + al - i; P += ap; L += al
with np.errstate(divide='ignore', invalid='ignore'):
    iou, acc, dice = I / U, I / L, 2 * I / (P + L)
    prec, rec = I / P, I / L
    f = 2 * prec * rec / (prec + rec)
    out = dict(aAcc=I.sum() / L.sum(), IoU=iou.tolist(), Acc=acc.tolist(), Dice=dice.tolist(), Fscore=f.tolist(),
               mIoU=np.nanmean(iou), mAcc=np.nanmean(acc), mDice=np.nanmean(dice), mFscore=np.nanmean(f))
print(json.dumps(out).replace('NaN', 'null'))
)";
  std::string out;
  ASSERT_EQ(vss::test::run_python(script, {dir.string(), std::to_string(K), std::to_string(images), std::to_string(H),
                                           std::to_string(W)},
                                  &out),
            0)
      << out;
  vss::remove_tree(dir);
  const auto ref = nlohmann::json::parse(out);
  const auto expect_same = [](double ours, const nlohmann::json& theirs, const std::string& what) {
    if (theirs.is_null()) EXPECT_TRUE(std::isnan(ours)) << what;
    else EXPECT_NEAR(ours, theirs.get<double>(), 1e-12) << what;
  };
  for (int64_t c = 0; c < K; ++c) {
    const std::string cls = " class " + std::to_string(c);
    expect_same(s.iou[c], ref["IoU"][c], "IoU" + cls);
    expect_same(s.acc[c], ref["Acc"][c], "Acc" + cls);
    expect_same(s.dice[c], ref["Dice"][c], "Dice" + cls);
    expect_same(s.fscore[c], ref["Fscore"][c], "Fscore" + cls);
  }
  EXPECT_TRUE(std::isnan(s.iou[K - 1]));  // the case the oracle must agree on is really there
  expect_same(s.aacc, ref["aAcc"], "aAcc");
  expect_same(s.miou, ref["mIoU"], "mIoU");
  expect_same(s.macc, ref["mAcc"], "mAcc");
  expect_same(s.mdice, ref["mDice"], "mDice");
  expect_same(s.mfscore, ref["mFscore"], "mFscore");
}
