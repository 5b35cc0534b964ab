// The hand-worked examples of specs/scans.md, one test per strategy.
#include "scans/atrous_window_scan.h"
#include "scans/cross_scan.h"
#include "scans/hilbert_scan.h"
#include "scans/local_window_scan.h"
#include "scans/s_shaped_scan.h"
#include "scans/zigzag_scan.h"
#include "tests/scans/scan_test_util.h"

#include <gtest/gtest.h>

namespace vss {
namespace {

using test::plan_rows;
using test::Steps;

TEST(ScanExamples, CrossFourBySix) {
  const auto rows = plan_rows(CrossScan().make_plan(4, 6));
  ASSERT_EQ(rows.size(), 4u);
  Steps k0(24);
  for (int i = 0; i < 24; ++i) k0[i] = i;
  const Steps k1{0, 6, 12, 18, 1, 7, 13, 19, 2, 8, 14, 20, 3, 9, 15, 21, 4, 10, 16, 22, 5, 11, 17, 23};
  const Steps k3{23, 17, 11, 5, 22, 16, 10, 4, 21, 15, 9, 3, 20, 14, 8, 2, 19, 13, 7, 1, 18, 12, 6, 0};
  EXPECT_EQ(rows[0], k0);
  EXPECT_EQ(rows[1], k1);
  EXPECT_EQ(rows[2], Steps(k0.rbegin(), k0.rend()));
  EXPECT_EQ(rows[3], k3);
}

TEST(ScanExamples, SShapedFourByFourScanLenTwo) {
  const auto rows = plan_rows(SShapedScan(2).make_plan(4, 4));
  EXPECT_EQ(rows[0], (Steps{0, 1, 5, 4, 8, 9, 13, 12, 14, 15, 11, 10, 6, 7, 3, 2}));
  EXPECT_EQ(rows[1], (Steps{15, 14, 10, 11, 7, 6, 2, 3, 1, 0, 4, 5, 9, 8, 12, 13}));
  EXPECT_EQ(rows[2], (Steps{0, 4, 5, 1, 2, 6, 7, 3, 11, 15, 14, 10, 9, 13, 12, 8}));
  EXPECT_EQ(rows[3], (Steps{15, 11, 10, 14, 13, 9, 8, 12, 4, 0, 1, 5, 6, 2, 3, 7}));
}

TEST(ScanExamples, SShapedShiftedFourBySix) {
  const auto rows = plan_rows(SShapedScan(4, 2).make_plan(4, 6));
  EXPECT_EQ(rows[0], (Steps{0, 1, 7, 6, 12, 13, 19, 18, 20, 21, 22, 23, 17, 16, 15, 14, 8, 9, 10, 11,
                            5, 4, 3, 2}));
}

TEST(ScanExamples, ZigzagFourBySix) {
  const auto rows = plan_rows(ZigzagScan().make_plan(4, 6));
  const Steps k0{0, 1, 2, 3, 4, 5, 11, 10, 9, 8, 7, 6, 12, 13, 14, 15, 16, 17, 23, 22, 21, 20, 19, 18};
  EXPECT_EQ(rows[0], k0);
  EXPECT_EQ(rows[1], Steps(k0.rbegin(), k0.rend()));
  // k2 by the definition: even columns top->bottom, odd columns bottom->top.
  const Steps k2{0, 6, 12, 18, 19, 13, 7, 1, 2, 8, 14, 20, 21, 15, 9, 3, 4, 10, 16, 22, 23, 17, 11, 5};
  EXPECT_EQ(rows[2], k2);
  EXPECT_EQ(rows[3], Steps(k2.rbegin(), k2.rend()));
}

TEST(ScanExamples, LocalWindowTwoAndPaddedFour) {
  const auto w2 = plan_rows(LocalWindowScan({"w2", "w2_flip"}).make_plan(4, 6));
  const Steps expected_w2{0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11, 12, 13, 18, 19, 14, 15, 20, 21, 16, 17, 22, 23};
  EXPECT_EQ(w2[0], expected_w2);
  EXPECT_EQ(w2[1], Steps(expected_w2.rbegin(), expected_w2.rend()));

  const ScanPlan padded = LocalWindowScan({"w4"}, /*pad=*/true).make_plan(4, 6);
  EXPECT_EQ(padded.L, 32);
  EXPECT_EQ(plan_rows(padded)[0], (Steps{0, 1, 2, 3, 6, 7, 8, 9, 12, 13, 14, 15, 18, 19, 20, 21, 4, 5, -1,
                                         -1, 10, 11, -1, -1, 16, 17, -1, -1, 22, 23, -1, -1}));
}

TEST(ScanExamples, LocalWindowDefaultDirections) {
  // Default [h, h_flip, w7, w7_flip]: on a 7x7 map w7 is one window, i.e. row-major.
  const auto rows = plan_rows(LocalWindowScan().make_plan(7, 7));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], rows[2]);
  EXPECT_EQ(rows[1], rows[3]);
  EXPECT_EQ(rows[0].front(), 0);
  EXPECT_EQ(rows[1].front(), 48);
}

TEST(ScanExamples, AtrousWindowRateTwo) {
  const auto rows = plan_rows(AtrousWindowScan(2, {2}).make_plan(4, 6));
  ASSERT_EQ(rows.size(), 2u);
  const Steps rate2{0, 2, 12, 14, 4, 16, 1, 3, 13, 15, 5, 17, 6, 8, 18, 20, 10, 22, 7, 9, 19, 21, 11, 23};
  EXPECT_EQ(rows[0], rate2);
  EXPECT_EQ(rows[1], Steps(rate2.rbegin(), rate2.rend()));
}

TEST(ScanExamples, AtrousRateOneIsUnpaddedWindowScan) {
  for (auto [H, W] : {std::pair{4, 6}, std::pair{7, 9}, std::pair{13, 11}, std::pair{1, 5}}) {
    const auto atrous = plan_rows(AtrousWindowScan(3, {1}).make_plan(H, W));
    const auto local = plan_rows(LocalWindowScan({"w3", "w3_flip"}).make_plan(H, W));
    EXPECT_EQ(atrous, local) << H << "x" << W;
  }
}

TEST(ScanExamples, HilbertFourByFour) {
  const auto rows = plan_rows(HilbertScan().make_plan(4, 4));
  EXPECT_EQ(rows[0], (Steps{0, 1, 5, 4, 8, 12, 13, 9, 10, 14, 15, 11, 7, 6, 2, 3}));
  EXPECT_EQ(rows[1], (Steps{3, 7, 6, 2, 1, 0, 4, 5, 9, 8, 12, 13, 14, 10, 11, 15}));
}

}  // namespace
}  // namespace vss
