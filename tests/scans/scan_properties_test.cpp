// Properties every strategy's plans must have (specs/scans.md §7), over every H, W in
// 1..40, some primes and thin maps: K and shape, each direction a permutation of the tokens
// (plus exactly the expected -1 steps where padding is on), inverse round trip,
// determinism, caching.
#include "scans/atrous_window_scan.h"
#include "scans/cross_scan.h"
#include "scans/hilbert_scan.h"
#include "scans/local_window_scan.h"
#include "scans/s_shaped_scan.h"
#include "scans/zigzag_scan.h"
#include "tests/scans/scan_test_util.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>

namespace vss {
namespace {

struct Variant {
  std::string label;
  std::function<std::shared_ptr<ScanStrategy>()> make;
  // Window size each direction pads to (0: no padding); empty when nothing pads.
  std::vector<int64_t> pad_windows;
};

std::vector<Variant> variants() {
  return {
      {"cross", [] { return std::make_shared<CrossScan>(); }, {}},
      {"zigzag", [] { return std::make_shared<ZigzagScan>(); }, {}},
      {"hilbert", [] { return std::make_shared<HilbertScan>(); }, {}},
      {"s_shaped_default", [] { return std::make_shared<SShapedScan>(); }, {}},
      {"s_shaped_2", [] { return std::make_shared<SShapedScan>(2); }, {}},
      {"s_shaped_4_shift_2", [] { return std::make_shared<SShapedScan>(4, 2); }, {}},
      {"s_shaped_3_shift_1", [] { return std::make_shared<SShapedScan>(3, 1); }, {}},
      {"s_shaped_1", [] { return std::make_shared<SShapedScan>(1); }, {}},
      {"local_window_default", [] { return std::make_shared<LocalWindowScan>(); }, {}},
      {"local_window_mixed",
       [] { return std::make_shared<LocalWindowScan>(std::vector<std::string>{"h", "v_flip", "w2", "w7_flip"}); },
       {}},
      {"local_window_padded",
       [] {
         return std::make_shared<LocalWindowScan>(
             std::vector<std::string>{"w4", "w4_flip", "v", "h_flip", "w3"}, true);
       },
       {4, 4, 0, 0, 3}},
      {"atrous_window_default", [] { return std::make_shared<AtrousWindowScan>(); }, {}},
      {"atrous_window_2_rates_1_3", [] { return std::make_shared<AtrousWindowScan>(2, std::vector<int64_t>{1, 3}); }, {}},
      {"atrous_window_3_rates_2_5", [] { return std::make_shared<AtrousWindowScan>(3, std::vector<int64_t>{2, 5}); }, {}},
  };
}

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// Checks one plan; returns an empty string when it has every property, else what failed.
std::string plan_problem(const Variant& v, const ScanStrategy& s, const ScanPlan& plan, int64_t H, int64_t W) {
  const int64_t HW = H * W, K = s.num_directions();
  if (plan.H != H || plan.W != W || plan.K != K) return "H, W or K wrong";
  if (plan.index.scalar_type() != at::kInt || !plan.index.device().is_cpu() ||
      plan.index.sizes() != at::IntArrayRef({K, plan.L}))
    return "index is not CPU int32 [K, L]";
  if (plan.merge_weight.defined()) return "merge_weight defined";
  std::vector<int64_t> lengths(K, HW);
  for (size_t k = 0; k < v.pad_windows.size(); ++k)
    if (v.pad_windows[k] > 0)
      lengths[k] = round_up(H, v.pad_windows[k]) * round_up(W, v.pad_windows[k]);
  const int64_t L = *std::max_element(lengths.begin(), lengths.end());
  if (plan.L != L) return "L = " + std::to_string(plan.L) + ", expected " + std::to_string(L);
  const bool ragged = std::any_of(lengths.begin(), lengths.end(), [&](int64_t n) { return n != L; });
  if (ragged ? plan.lengths != lengths : !plan.lengths.empty()) return "lengths wrong";

  const auto rows = test::plan_rows(plan);
  std::vector<int64_t> position(HW);
  for (int64_t k = 0; k < K; ++k) {
    std::fill(position.begin(), position.end(), -1);
    int64_t padding = 0;
    for (int64_t t = 0; t < L; ++t) {
      const int32_t p = rows[k][t];
      if (p == -1 && t >= lengths[k]) continue;  // end padding
      if (t >= lengths[k]) return "direction " + std::to_string(k) + ": token after its end";
      if (p == -1) { ++padding; continue; }
      if (p < 0 || p >= HW) return "direction " + std::to_string(k) + ": token out of range";
      if (position[p] != -1) return "direction " + std::to_string(k) + ": token visited twice";
      position[p] = t;
    }
    if (padding != lengths[k] - HW) return "direction " + std::to_string(k) + ": wrong padding count";
    for (int64_t p = 0; p < HW; ++p)  // inverse round trip: index[pos(p)] == p
      if (position[p] < 0 || rows[k][position[p]] != p)
        return "direction " + std::to_string(k) + ": token " + std::to_string(p) + " missing";
  }
  return "";
}

class ScanProperties : public ::testing::TestWithParam<Variant> {};

TEST_P(ScanProperties, EveryDirectionIsAPermutationForEverySize) {
  const Variant& v = GetParam();
  const auto strategy = v.make();
  std::vector<std::pair<int64_t, int64_t>> sizes;
  for (int64_t H = 1; H <= 40; ++H)
    for (int64_t W = 1; W <= 40; ++W) sizes.emplace_back(H, W);
  for (int64_t a : {1, 2, 41, 53, 97})
    for (int64_t b : {41, 53, 97}) sizes.insert(sizes.end(), {{a, b}, {b, a}});
  sizes.insert(sizes.end(), {{1, 257}, {257, 1}});
  for (auto [H, W] : sizes) {
    const std::string problem = plan_problem(v, *strategy, strategy->make_plan(H, W), H, W);
    ASSERT_EQ(problem, "") << v.label << " " << H << "x" << W;
  }
}

TEST_P(ScanProperties, PlansAreDeterministicAndCached) {
  const Variant& v = GetParam();
  const auto a = v.make(), b = v.make();
  EXPECT_TRUE(torch::equal(a->make_plan(13, 11).index, b->make_plan(13, 11).index));
  const ScanPlan& first = cached_plan(*a, 13, 11);
  const ScanPlan& again = cached_plan(*b, 13, 11);  // another instance, same parameters
  EXPECT_EQ(&first, &again);
  EXPECT_TRUE(torch::equal(first.index, a->make_plan(13, 11).index));
  EXPECT_NE(&first, &cached_plan(*a, 11, 13));
}

INSTANTIATE_TEST_SUITE_P(Strategies, ScanProperties, ::testing::ValuesIn(variants()),
                         [](const auto& info) { return info.param.label; });

TEST(ScanProperties, CacheKeepsDifferentParametersApart) {
  const ScanPlan& a = cached_plan(SShapedScan(2), 6, 6);
  const ScanPlan& b = cached_plan(SShapedScan(3), 6, 6);
  EXPECT_NE(&a, &b);
  EXPECT_FALSE(torch::equal(a.index, b.index));
}

// Consecutive tokens of a zigzag are 4-neighbours.
TEST(ScanProperties, ZigzagMovesToNeighbours) {
  for (int64_t H = 1; H <= 40; ++H) {
    for (int64_t W = 1; W <= 40; ++W) {
      for (const auto& row : test::plan_rows(ZigzagScan().make_plan(H, W))) {
        for (size_t t = 1; t < row.size(); ++t) {
          const int64_t dy = std::abs(row[t] / W - row[t - 1] / W), dx = std::abs(row[t] % W - row[t - 1] % W);
          ASSERT_EQ(dy + dx, 1) << H << "x" << W << " step " << t;
        }
      }
    }
  }
}

// Cell d of the classic Hilbert curve on an n×n square, n a power of two (the well-known
// iterative d2xy conversion, written independently of the gilbert recursion).
std::pair<int64_t, int64_t> hilbert_d2xy(int64_t n, int64_t d) {
  int64_t x = 0, y = 0;
  for (int64_t s = 1; s < n; s *= 2, d /= 4) {
    const int64_t rx = 1 & (d / 2), ry = 1 & (d ^ rx);
    if (ry == 0) {
      if (rx == 1) {
        x = s - 1 - x;
        y = s - 1 - y;
      }
      std::swap(x, y);
    }
    x += s * rx;
    y += s * ry;
  }
  return {x, y};
}

// On power-of-two squares the generalized curve is the classic Hilbert curve; the other
// three directions are it turned to start from the other corners.
TEST(ScanProperties, HilbertOnPowerOfTwoSquaresIsTheClassicCurve) {
  for (int64_t n : {1, 2, 4, 8, 16, 32, 64}) {
    const auto rows = test::plan_rows(HilbertScan().make_plan(n, n));
    for (int64_t d = 0; d < n * n; ++d) {
      const auto [x, y] = hilbert_d2xy(n, d);
      ASSERT_EQ(rows[0][d], y * n + x) << n << " step " << d;
      ASSERT_EQ(rows[1][d], x * n + (n - 1 - y)) << n << " step " << d;
      ASSERT_EQ(rows[2][d], (n - 1 - y) * n + (n - 1 - x)) << n << " step " << d;
      ASSERT_EQ(rows[3][d], (n - 1 - x) * n + y) << n << " step " << d;
    }
  }
}

// Each Hilbert direction starts at its corner: top-left, top-right, bottom-right, bottom-left.
TEST(ScanProperties, HilbertStartsAtTheFourCorners) {
  for (auto [H, W] : {std::pair{5, 3}, std::pair{16, 16}, std::pair{7, 9}, std::pair{1, 6}}) {
    const auto rows = test::plan_rows(HilbertScan().make_plan(H, W));
    EXPECT_EQ(rows[0].front(), 0);
    EXPECT_EQ(rows[1].front(), W - 1);
    EXPECT_EQ(rows[2].front(), H * W - 1);
    EXPECT_EQ(rows[3].front(), (H - 1) * W);
  }
}

}  // namespace
}  // namespace vss
