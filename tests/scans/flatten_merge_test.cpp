// flatten / flatten_directions / unflatten / merge against explicit loops, the adjoint
// relation (merge is flatten's transpose), autograd, and shape errors.
#include "core/error.h"
#include "scans/cross_scan.h"
#include "scans/flatten_merge.h"
#include "scans/hilbert_scan.h"
#include "scans/local_window_scan.h"
#include "scans/s_shaped_scan.h"
#include "tests/scans/scan_test_util.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

namespace vss {
namespace {

std::vector<std::shared_ptr<ScanStrategy>> strategies() {
  return {std::make_shared<CrossScan>(), std::make_shared<SShapedScan>(2, 1),
          std::make_shared<HilbertScan>(),
          std::make_shared<LocalWindowScan>(std::vector<std::string>{"w4", "v", "w3_flip"}, true)};
}

// out[b][k][c][t] = x[b][c][index[k][t]] (0 at padding), by plain loops.
at::Tensor flatten_by_loop(const at::Tensor& x, const ScanPlan& plan) {
  const int64_t B = x.size(0), C = x.size(1);
  const at::Tensor tokens = x.reshape({B, C, plan.H * plan.W});
  at::Tensor out = torch::zeros({B, plan.K, C, plan.L}, x.options());
  const auto rows = test::plan_rows(plan);
  auto src = tokens.accessor<double, 3>();
  auto dst = out.accessor<double, 4>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t k = 0; k < plan.K; ++k)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t t = 0; t < plan.L; ++t)
          if (rows[k][t] >= 0) dst[b][k][c][t] = src[b][c][rows[k][t]];
  return out;
}

TEST(FlattenMerge, FlattenMatchesExplicitLoop) {
  torch::manual_seed(0);
  for (const auto& s : strategies()) {
    const at::Tensor x = torch::randn({2, 3, 5, 7}, torch::kFloat64);
    const ScanPlan& plan = cached_plan(*s, 5, 7);
    EXPECT_TRUE(torch::equal(flatten(x, plan), flatten_by_loop(x, plan))) << s->name();
    EXPECT_TRUE(torch::equal(flatten(x, *s), flatten_by_loop(x, plan))) << s->name();
  }
}

TEST(FlattenMerge, FlattenDirectionsGathersEachDirectionsOwnInput) {
  torch::manual_seed(1);
  for (const auto& s : strategies()) {
    const ScanPlan& plan = cached_plan(*s, 4, 6);
    const at::Tensor t = torch::randn({2, plan.K, 3, 4, 6}, torch::kFloat64);
    const at::Tensor out = flatten_directions(t, plan);
    for (int64_t k = 0; k < plan.K; ++k) {
      const at::Tensor expected = flatten_by_loop(t.select(1, k), plan).select(1, k);
      EXPECT_TRUE(torch::equal(out.select(1, k), expected)) << s->name() << " k=" << k;
    }
  }
}

TEST(FlattenMerge, MergeOfFlattenIsKTimesInputAndUnflattenInverts) {
  torch::manual_seed(2);
  for (const auto& s : strategies()) {
    for (auto [H, W] : {std::pair{5, 7}, std::pair{1, 1}, std::pair{9, 2}}) {
      const ScanPlan& plan = cached_plan(*s, H, W);
      const at::Tensor x = torch::randn({2, 3, H, W}, torch::kFloat64);
      EXPECT_TRUE(torch::allclose(merge(flatten(x, plan), plan), x * plan.K)) << s->name();
      const at::Tensor per_direction = unflatten(flatten(x, plan), plan);
      for (int64_t k = 0; k < plan.K; ++k)
        EXPECT_TRUE(torch::equal(per_direction.select(1, k), x)) << s->name() << " k=" << k;
    }
  }
}

// merge with merge_weight multiplies the summed directions per token.
TEST(FlattenMerge, MergeAppliesMergeWeight) {
  ScanPlan plan = CrossScan().make_plan(3, 4);
  plan.merge_weight = torch::arange(12, torch::kFloat32) / 4;
  const at::Tensor x = torch::randn({1, 2, 3, 4}, torch::kFloat64);
  const at::Tensor expected = x * 4 * plan.merge_weight.to(torch::kFloat64).view({3, 4});
  EXPECT_TRUE(torch::allclose(merge(flatten(x, plan), plan), expected));
}

// <flatten(x), g> = <x, merge(g)>, so autograd's gradient of flatten is merge and vice versa.
TEST(FlattenMerge, GradientsFollowTheTransposeRelation) {
  torch::manual_seed(3);
  for (const auto& s : strategies()) {
    const ScanPlan& plan = cached_plan(*s, 6, 5);
    const at::Tensor x = torch::randn({2, 3, 6, 5}, torch::kFloat64).requires_grad_();
    const at::Tensor g = torch::randn({2, plan.K, 3, plan.L}, torch::kFloat64);
    const at::Tensor dx = torch::autograd::grad({(flatten(x, plan) * g).sum()}, {x})[0];
    // Padding steps carry no token, so their entries of g do not reach x.
    EXPECT_LT(test::max_abs_diff(dx, merge(g, plan)), 1e-12) << s->name();

    const at::Tensor y = g.clone().requires_grad_();
    const at::Tensor h = torch::randn({2, 3, 6, 5}, torch::kFloat64);
    const at::Tensor dy = torch::autograd::grad({(merge(y, plan) * h).sum()}, {y})[0];
    EXPECT_LT(test::max_abs_diff(dy, flatten(h, plan)), 1e-12) << s->name();
  }
}

// Central differences in float64 on flatten_directions through a padded plan.
TEST(FlattenMerge, FlattenDirectionsGradientMatchesFiniteDifferences) {
  torch::manual_seed(4);
  const ScanPlan& plan = cached_plan(LocalWindowScan({"w2", "h_flip"}, true), 3, 3);
  const at::Tensor t = torch::randn({1, plan.K, 2, 3, 3}, torch::kFloat64);
  const at::Tensor g = torch::randn({1, plan.K, 2, plan.L}, torch::kFloat64);
  auto loss = [&](const at::Tensor& in) { return (flatten_directions(in, plan) * g).sum(); };
  const at::Tensor leaf = t.clone().requires_grad_();
  const at::Tensor grad = torch::autograd::grad({loss(leaf)}, {leaf})[0].flatten();
  const double eps = 1e-6;
  for (int64_t i = 0; i < t.numel(); ++i) {
    at::Tensor plus = t.clone(), minus = t.clone();
    plus.view(-1)[i] += eps;
    minus.view(-1)[i] -= eps;
    const double numeric = (loss(plus).item<double>() - loss(minus).item<double>()) / (2 * eps);
    EXPECT_NEAR(grad[i].item<double>(), numeric, 1e-8) << "element " << i;
  }
}

// The plan's index follows the input to the GPU (through cached_plan or per call) and the
// results, gradients included, equal the CPU ones exactly (pure data movement).
TEST(FlattenMerge, CudaMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(5);
  for (const auto& s : strategies()) {
    const ScanPlan& plan = cached_plan(*s, 5, 7);
    const at::Tensor x = torch::randn({2, 3, 5, 7}, torch::kFloat64);
    const at::Tensor g = torch::randn({2, plan.K, 3, plan.L}, torch::kFloat64);
    const at::Tensor xc = x.cuda().requires_grad_();
    const at::Tensor yc = flatten(xc, *s);
    EXPECT_TRUE(yc.is_cuda());
    EXPECT_TRUE(torch::equal(yc.cpu(), flatten(x, plan))) << s->name();
    const at::Tensor dx = torch::autograd::grad({(yc * g.cuda()).sum()}, {xc})[0];
    EXPECT_TRUE(torch::allclose(dx.cpu(), merge(g, plan))) << s->name();
    EXPECT_TRUE(torch::allclose(merge(g.cuda(), *s, 5, 7).cpu(), merge(g, plan))) << s->name();
    EXPECT_TRUE(torch::equal(flatten(x.cuda(), plan).cpu(), flatten(x, plan))) << s->name();
  }
}

TEST(FlattenMerge, MismatchedPlansAndShapesAreOneLineErrors) {
  const ScanPlan& plan = cached_plan(CrossScan(), 4, 6);
  auto message = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  const std::string wrong_map = message([&] { flatten(torch::zeros({1, 2, 5, 7}), plan); });
  EXPECT_NE(wrong_map.find("5x7"), std::string::npos) << wrong_map;
  EXPECT_NE(wrong_map.find("4x6"), std::string::npos) << wrong_map;
  const std::string wrong_rank = message([&] { flatten(torch::zeros({2, 4, 6}), plan); });
  EXPECT_NE(wrong_rank.find("[B, C, H, W]"), std::string::npos) << wrong_rank;
  const std::string wrong_k = message([&] { merge(torch::zeros({1, 3, 2, 24}), plan); });
  EXPECT_NE(wrong_k.find("[1, 3, 2, 24]"), std::string::npos) << wrong_k;
  const std::string wrong_l = message([&] { unflatten(torch::zeros({1, 4, 2, 23}), plan); });
  EXPECT_NE(wrong_l.find("4x6"), std::string::npos) << wrong_l;
  const std::string wrong_dirs =
      message([&] { flatten_directions(torch::zeros({1, 2, 2, 4, 6}), plan); });
  EXPECT_NE(wrong_dirs.find("2 directions"), std::string::npos) << wrong_dirs;
  for (const auto& m : {wrong_map, wrong_rank, wrong_k, wrong_l, wrong_dirs})
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

}  // namespace
}  // namespace vss
