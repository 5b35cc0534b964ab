// Plans that walk rows and columns: which strategies are recognised as such, and flatten /
// merge by copies (walk_flatten.h) against the gather / scatter-add oracle (flatten_merge.h),
// values and gradients, on odd maps including a single row, a single column and one token.
#include "core/error.h"
#include "scans/cross_scan.h"
#include "scans/flatten_merge.h"
#include "scans/hilbert_scan.h"
#include "scans/s_shaped_scan.h"
#include "scans/walk_flatten.h"
#include "scans/zigzag_scan.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

namespace vss {
namespace {

const std::vector<std::pair<int64_t, int64_t>> kMaps{{1, 1}, {1, 7}, {6, 1}, {3, 4}, {7, 5}, {8, 8}};

TEST(WalkFlatten, CrossAndZigzagPlansWalkRowsAndColumns) {
  const ScanPlan cross = CrossScan().make_plan(3, 4);
  EXPECT_EQ(cross.walks,
            (std::vector<Walk>{Walk::kRows, Walk::kColumns, Walk::kRowsReversed, Walk::kColumnsReversed}));
  // Paths that turn at the ends of rows (zigzag's snakes, S-shaped), or curve, are no walks;
  // on one row the snake is the row itself.
  EXPECT_TRUE(ZigzagScan().make_plan(3, 4).walks.empty());
  EXPECT_FALSE(ZigzagScan().make_plan(1, 4).walks.empty());
  EXPECT_TRUE(SShapedScan(2, 1).make_plan(3, 4).walks.empty());
  EXPECT_TRUE(HilbertScan().make_plan(8, 8).walks.empty());
}

TEST(WalkFlatten, MatchesTheGatherOracleWithGradients) {
  torch::manual_seed(1);
  std::vector<std::pair<std::shared_ptr<ScanStrategy>, ScanPlan>> plans;
  for (const auto& [H, W] : kMaps) plans.emplace_back(std::make_shared<CrossScan>(), CrossScan().make_plan(H, W));
  plans.emplace_back(std::make_shared<ZigzagScan>(), ZigzagScan().make_plan(1, 5));
  for (const auto& [strategy, plan] : plans) {
    ASSERT_FALSE(plan.walks.empty());
    const int64_t H = plan.H, W = plan.W;
    const std::string where = strategy->name() + " " + std::to_string(H) + "x" + std::to_string(W);
    const at::Tensor x = torch::randn({2, 3, H, W}, torch::kDouble).requires_grad_();
    const at::Tensor g = torch::randn({2, plan.K, 3, H * W}, torch::kDouble);
    const at::Tensor want = flatten(x, plan), got = flatten_walks(x, plan);
    EXPECT_TRUE(torch::equal(got, want)) << where;
    const auto want_dx = torch::autograd::grad({want}, {x}, {g})[0];
    const auto got_dx = torch::autograd::grad({got}, {x}, {g})[0];
    EXPECT_LT(test::max_abs_diff(got_dx, want_dx), 1e-12) << where;

    const at::Tensor y = torch::randn({2, plan.K, 3, H * W}, torch::kDouble).requires_grad_();
    const at::Tensor gm = torch::randn({2, 3, H, W}, torch::kDouble);
    const at::Tensor want_m = merge(y, plan), got_m = merge_walks(y, plan);
    EXPECT_LT(test::max_abs_diff(got_m, want_m), 1e-12) << where;
    const auto want_dy = torch::autograd::grad({want_m}, {y}, {gm})[0];
    const auto got_dy = torch::autograd::grad({got_m}, {y}, {gm})[0];
    EXPECT_TRUE(torch::equal(got_dy, want_dy)) << where;
  }
}

TEST(WalkFlatten, OtherPlansAndWrongShapesAreOneLineErrors) {
  const ScanPlan hilbert = HilbertScan().make_plan(8, 8), cross = CrossScan().make_plan(3, 4);
  test::expect_one_line_error([&] { flatten_walks(torch::zeros({1, 2, 8, 8}), hilbert); },
                              "do not all walk rows or columns");
  test::expect_one_line_error([&] { flatten_walks(torch::zeros({1, 2, 4, 3}), cross); }, "[1, 2, 4, 3]");
  test::expect_one_line_error([&] { merge_walks(torch::zeros({1, 3, 2, 12}), cross); }, "[1, 3, 2, 12]");
}

}  // namespace
}  // namespace vss
