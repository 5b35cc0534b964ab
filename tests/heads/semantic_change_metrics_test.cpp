// The 7-class SCD protocol on hand-worked cases (3 classes, values derived in the comments),
// OA as the mean of per-map accuracies (maps of different sizes), the eps-free edge cases,
// and bad values named. The numpy transcription of the official formula checks `vss-change
// eval --semantic` (tests/apps/semantic_change_app_test.cpp).
#include "heads/change/semantic_change_metrics.h"

#include "core/error.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

// Named: the unity build puts several test files in one translation unit.
namespace vss::test::scd_metrics_tests {
namespace {

using change::SemanticConfusion;

at::Tensor map(std::vector<int64_t> v, int64_t h, int64_t w) { return torch::tensor(v, torch::kLong).view({h, w}); }

TEST(SemanticChangeMetrics, HandWorkedThreeClassCase) {
  // gt   0 0 1     pred 0 1 1     H[pred][gt]: H00 = 2, H10 = 1, H11 = 1, H22 = 1, H02 = 1.
  //      2 2 0          2 0 0
  // Binary: TN 2, missed (pred 0, gt changed) 1, false alarm 1, TP 2: IoU_nc = IoU_c = 2/4.
  // H with H00 = 0: n 4, diagonal 2 (po 1/2); rows 1, 2, 1; columns 1, 1, 2: pe = 5/16,
  // kappa = (1/2 − 5/16) / (11/16) = 3/11. P = R = 2/3 (2 hits of 3 predicted / 3 true changes).
  SemanticConfusion c(3);
  c.add_map(map({0, 1, 1, 2, 0, 0}, 2, 3), map({0, 0, 1, 2, 2, 0}, 2, 3), "case");
  EXPECT_EQ(c.at(0, 0), 2);
  EXPECT_EQ(c.at(1, 0), 1);
  EXPECT_EQ(c.at(0, 2), 1);
  const auto m = change::semantic_change_metrics(c);
  EXPECT_DOUBLE_EQ(m.iou_nc, 0.5);
  EXPECT_DOUBLE_EQ(m.iou_c, 0.5);
  EXPECT_DOUBLE_EQ(m.miou, 0.5);
  EXPECT_NEAR(m.kappa_n0, 3.0 / 11.0, 1e-15);
  EXPECT_NEAR(m.sek, 3.0 / 11.0 * std::exp(-0.5), 1e-15);
  EXPECT_NEAR(m.p_scd, 2.0 / 3.0, 1e-15);
  EXPECT_NEAR(m.r_scd, 2.0 / 3.0, 1e-15);
  EXPECT_NEAR(m.f_scd, 2.0 / 3.0, 1e-15);
  EXPECT_NEAR(m.oa, 4.0 / 6.0, 1e-15);

  // A 1x1 map, right: OA is the mean of the maps' accuracies (2/3 and 1), not pooled (5/7).
  SemanticConfusion more(3);
  more.add_map(map({1}, 1, 1), map({1}, 1, 1), "one pixel");
  c += more;
  EXPECT_NEAR(change::semantic_change_metrics(c).oa, (4.0 / 6.0 + 1.0) / 2, 1e-15);
  EXPECT_EQ(c.maps, 2);
}

TEST(SemanticChangeMetrics, PerfectAllWrongAndEmpty) {
  SemanticConfusion perfect(7);
  const auto gt = map({0, 3, 3, 6, 1, 0}, 2, 3);
  perfect.add_map(gt, gt, "perfect");
  const auto p = change::semantic_change_metrics(perfect);
  for (double v : {p.oa, p.miou, p.sek, p.f_scd, p.iou_nc, p.iou_c, p.kappa_n0, p.p_scd, p.r_scd}) EXPECT_DOUBLE_EQ(v, 1.0);

  // Unchanged predicted where it changed and the reverse: nothing right.
  SemanticConfusion wrong(7);
  wrong.add_map(map({2, 0, 0, 0, 0, 5}, 2, 3), gt, "wrong");
  const auto w = change::semantic_change_metrics(wrong);
  EXPECT_EQ(w.oa, 0.0);
  EXPECT_EQ(w.miou, 0.0);
  EXPECT_EQ(w.f_scd, 0.0);
  // H[pred][gt]: H20 = 1, H50 = 1, H03 = 2, H06 = 1, H01 = 1: rows (4, 0, 1, 0, 0, 1, 0),
  // columns (2, 1, 0, 2, 0, 0, 1), n 6: pe = Σ row·column / n² = 4·2 / 36, po = 0,
  // kappa = −(8/36) / (28/36) = −2/7.
  EXPECT_NEAR(w.kappa_n0, -2.0 / 7.0, 1e-15);
  EXPECT_NEAR(w.sek, -2.0 / 7.0 * std::exp(-1.0), 1e-15);

  // No change anywhere, all right: the changed class is empty, its ratios 0 (eps-free); kappa 0.
  SemanticConfusion none(7);
  none.add_map(torch::zeros({4, 4}, torch::kLong), torch::zeros({4, 4}, torch::kLong), "none");
  const auto n = change::semantic_change_metrics(none);
  EXPECT_EQ(n.oa, 1.0);
  EXPECT_EQ(n.iou_nc, 1.0);
  EXPECT_EQ(n.iou_c, 0.0);
  EXPECT_EQ(n.kappa_n0, 0.0);
  EXPECT_EQ(n.f_scd, 0.0);
  EXPECT_EQ(change::semantic_change_metrics(SemanticConfusion(7)).oa, 0.0);
}

TEST(SemanticChangeMetrics, BadValuesAndShapesAreNamed) {
  SemanticConfusion c(7);
  try {
    c.add_map(map({0, 7}, 1, 2), map({0, 1}, 1, 2), "pred.png");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "pred.png: prediction value 7 at row 0, column 1 (expected 0..6)");
  }
  EXPECT_THROW(c.add_map(map({0, 1}, 1, 2), map({0, 1}, 2, 1), "x"), Error);
  EXPECT_THROW(c += SemanticConfusion(3), Error);
  EXPECT_EQ(c.maps, 0);
}

}  // namespace
}  // namespace vss::test::scd_metrics_tests
