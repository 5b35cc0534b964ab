// scan_2d_unfused (the oracle of the fused op) against an explicit per-direction loop that
// gathers each direction's sequence by hand, runs vss::selective_scan on it and adds the
// outputs back at their tokens; and the shape errors of scan_2d / scan_2d_unfused.
#include "core/error.h"
#include "kernels/selective_scan.h"
#include "scans/cross_scan.h"
#include "scans/local_window_scan.h"
#include "scans/s_shaped_scan.h"
#include "scans/scan_2d.h"
#include "tests/scans/scan_test_util.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

namespace vss {
namespace {

struct Inputs {
  at::Tensor u, delta, A, B, C, D, bias;
};

Inputs random_inputs(int64_t batch, int64_t dim, int64_t K, int64_t N, int64_t H, int64_t W) {
  return {torch::randn({batch, dim, H, W}), torch::randn({batch, K * dim, H, W}) * 0.5,
          -torch::rand({K * dim, N}) - 0.2,  torch::randn({batch, K, N, H, W}),
          torch::randn({batch, K, N, H, W}), torch::randn({K * dim}),
          torch::randn({K * dim}) * 0.3};
}

// Token sequence of t [B, C, H·W] along one direction (padding steps -> 0), by loops.
at::Tensor gather_by_loop(const at::Tensor& t, const test::Steps& steps) {
  at::Tensor out = torch::zeros({t.size(0), t.size(1), static_cast<int64_t>(steps.size())});
  auto src = t.accessor<float, 3>();
  auto dst = out.accessor<float, 3>();
  for (int64_t b = 0; b < t.size(0); ++b)
    for (int64_t c = 0; c < t.size(1); ++c)
      for (size_t s = 0; s < steps.size(); ++s)
        if (steps[s] >= 0) dst[b][c][s] = src[b][c][steps[s]];
  return out;
}

at::Tensor scan_by_direction_loop(const Inputs& in, const ScanPlan& plan, bool softplus) {
  const int64_t batch = in.u.size(0), dim = in.u.size(1), N = in.A.size(1), HW = plan.H * plan.W;
  const auto rows = test::plan_rows(plan);
  at::Tensor out = torch::zeros({batch, dim, HW});
  auto acc = out.accessor<float, 3>();
  for (int64_t k = 0; k < plan.K; ++k) {
    const auto channels = torch::indexing::Slice(k * dim, (k + 1) * dim);
    const at::Tensor u = gather_by_loop(in.u.reshape({batch, dim, HW}), rows[k]);
    const at::Tensor delta =
        gather_by_loop(in.delta.reshape({batch, plan.K * dim, HW}).index({torch::indexing::Slice(), channels}), rows[k]);
    const at::Tensor B = gather_by_loop(in.B.select(1, k).reshape({batch, N, HW}), rows[k]).unsqueeze(1);
    const at::Tensor C = gather_by_loop(in.C.select(1, k).reshape({batch, N, HW}), rows[k]).unsqueeze(1);
    const at::Tensor y = std::get<0>(selective_scan(u, delta, in.A.index({channels}), B, C,
                                                    in.D.index({channels}), in.bias.index({channels}),
                                                    softplus));
    auto yk = y.accessor<float, 3>();
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t d = 0; d < dim; ++d)
        for (int64_t s = 0; s < plan.L; ++s)
          if (rows[k][s] >= 0) acc[b][d][rows[k][s]] += yk[b][d][s];
  }
  return out.view({batch, dim, plan.H, plan.W});
}

TEST(Scan2d, UnfusedMatchesPerDirectionLoop) {
  torch::manual_seed(11);
  const std::vector<std::shared_ptr<ScanStrategy>> strategies{
      std::make_shared<CrossScan>(), std::make_shared<SShapedScan>(3, 1),
      std::make_shared<LocalWindowScan>(std::vector<std::string>{"w3", "h_flip", "w2_flip"}, true)};
  for (const auto& s : strategies) {
    for (auto [H, W] : {std::pair{5, 7}, std::pair{1, 4}, std::pair{4, 4}}) {
      const ScanPlan& plan = cached_plan(*s, H, W);
      const Inputs in = random_inputs(2, 3, plan.K, 4, H, W);
      for (bool softplus : {true, false}) {
        const at::Tensor got = scan_2d_unfused(in.u, in.delta, in.A, in.B, in.C, in.D, in.bias, plan, softplus);
        const at::Tensor want = scan_by_direction_loop(in, plan, softplus);
        EXPECT_LT(test::max_abs_diff(got, want), 1e-5 * (1 + want.abs().max().item<double>()))
            << s->name() << " " << H << "x" << W << (softplus ? " softplus" : "");
      }
    }
  }
}

// The oracle runs on the GPU too (index moved to the inputs' device) and agrees with the CPU.
TEST(Scan2d, UnfusedOnCudaMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(12);
  const LocalWindowScan strategy({"w3", "h_flip", "v"}, true);
  const ScanPlan& plan = cached_plan(strategy, 5, 7);
  const Inputs in = random_inputs(2, 3, plan.K, 4, 5, 7);
  const at::Tensor want = scan_2d_unfused(in.u, in.delta, in.A, in.B, in.C, in.D, in.bias, plan, true);
  const at::Tensor got = scan_2d_unfused(in.u.cuda(), in.delta.cuda(), in.A.cuda(), in.B.cuda(), in.C.cuda(),
                                         in.D.cuda(), in.bias.cuda(), plan, true);
  EXPECT_TRUE(got.is_cuda());
  EXPECT_LT(test::max_abs_diff(got.cpu(), want), 1e-4 * (1 + want.abs().max().item<double>()));
}

TEST(Scan2d, WrongShapesAreOneLineErrorsNamingTheTensor) {
  const ScanPlan& plan = cached_plan(CrossScan(), 4, 6);
  const Inputs in = random_inputs(1, 2, 4, 3, 4, 6);
  auto message = [&](const Inputs& x) -> std::string {
    std::string first, second;
    try {
      scan_2d_unfused(x.u, x.delta, x.A, x.B, x.C, x.D, x.bias, plan);
    } catch (const Error& e) {
      first = e.what();
    }
    try {
      scan_2d(x.u, x.delta, x.A, x.B, x.C, x.D, x.bias, plan);
    } catch (const Error& e) {
      second = e.what();
    }
    // Both entry points check the same way, before any kernel runs.
    EXPECT_EQ(first.substr(first.find(':')), second.substr(second.find(':')));
    EXPECT_EQ(first.find('\n'), std::string::npos) << first;
    return first;
  };
  Inputs bad = in;
  bad.u = torch::randn({1, 2, 5, 7});
  const std::string map = message(bad);
  EXPECT_NE(map.find("5x7"), std::string::npos) << map;
  EXPECT_NE(map.find("4x6"), std::string::npos) << map;
  bad = in;
  bad.delta = torch::randn({1, 6, 4, 6});
  const std::string delta = message(bad);
  EXPECT_NE(delta.find("delta: expected shape [1, 8, 4, 6], got [1, 6, 4, 6]"), std::string::npos) << delta;
  bad = in;
  bad.B = torch::randn({1, 2, 3, 4, 6});
  const std::string b = message(bad);
  EXPECT_NE(b.find("B: expected shape [1, 4, 3, 4, 6]"), std::string::npos) << b;
  bad = in;
  bad.A = torch::randn({6, 3});
  const std::string a = message(bad);
  EXPECT_NE(a.find("A: expected shape [8, *]"), std::string::npos) << a;
}

}  // namespace
}  // namespace vss
