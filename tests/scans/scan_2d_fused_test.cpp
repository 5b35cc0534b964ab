// The fused scan (scan_2d -> vss::selective_scan_plan) against the unfused oracle
// (flatten -> vss::selective_scan -> merge) on the CPU, for every registered strategy,
// forward and backward, on odd map sizes including H = 1 and W = 1.
#include "scans/scan_2d.h"
#include "scans/strategy_registry.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace {

using vss::test::max_abs_diff;

struct Inputs {
  at::Tensor u, delta, A, B, C, D, bias;
  std::vector<at::Tensor*> all() { return {&u, &delta, &A, &B, &C, &D, &bias}; }
};

// Without softplus, Δ = delta + bias is drawn positive so the recurrence stays a decay.
Inputs random_inputs(int64_t batch, int64_t dim, int64_t K, int64_t N, int64_t H, int64_t W,
                     bool softplus) {
  Inputs in;
  in.u = torch::randn({batch, dim, H, W});
  in.delta = softplus ? torch::randn({batch, K * dim, H, W}) * 0.5 - 1.0
                      : torch::rand({batch, K * dim, H, W}) * 0.5 + 0.05;
  in.A = -torch::rand({K * dim, N}) * 2 - 0.1;
  in.B = torch::randn({batch, K, N, H, W});
  in.C = torch::randn({batch, K, N, H, W});
  in.D = torch::randn({K * dim});
  in.bias = softplus ? torch::randn({K * dim}) * 0.3 : torch::rand({K * dim}) * 0.1;
  return in;
}

// Every registered strategy with its defaults, plus the parameter settings that change the
// plan's shape: padded local windows, shifted S-stripes, three atrous rates.
std::vector<std::pair<std::string, std::vector<std::string>>> strategies() {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const std::string& name : vss::scan_strategy_names()) out.push_back({name, {}});
  out.push_back({"local_window", {"pad=true", "directions=[w3, w3_flip, h, v_flip]"}});
  out.push_back({"s_shaped", {"scan_len=4", "shift=2"}});
  out.push_back({"atrous_window", {"window=2", "rates=[1, 2, 3]"}});
  return out;
}

struct Result {
  at::Tensor y;
  std::vector<at::Tensor> grads;
};

template <typename Fn>
Result run(Fn fn, const Inputs& proto, const at::Tensor& w) {
  Inputs in = proto;
  for (at::Tensor* t : in.all()) *t = t->detach().clone().requires_grad_(true);
  Result r;
  r.y = fn(in);
  (r.y * w).sum().backward();
  for (at::Tensor* t : in.all()) r.grads.push_back(t->grad());
  return r;
}

TEST(scan_2d_fused, matches_unfused_for_every_strategy_forward_and_backward) {
  const char* names[] = {"u", "delta", "A", "B", "C", "D", "delta_bias"};
  const std::vector<std::pair<int64_t, int64_t>> sizes{{5, 7}, {1, 9}, {8, 1}, {6, 6}};
  ASSERT_FALSE(vss::scan_strategy_names().empty());
  torch::manual_seed(7);
  for (const auto& [name, params] : strategies()) {
    const auto strategy = vss::make_scan_strategy(name, params);
    for (const auto& [H, W] : sizes) {
      const vss::ScanPlan& plan = vss::cached_plan(*strategy, H, W);
      const at::Tensor w = torch::randn({2, 3, H, W});
      for (bool softplus : {true, false}) {
        const Inputs in = random_inputs(2, 3, plan.K, 2, H, W, softplus);
        auto fused = [&](Inputs& x) {
          return vss::scan_2d(x.u, x.delta, x.A, x.B, x.C, x.D, x.bias, plan, softplus);
        };
        auto unfused = [&](Inputs& x) {
          return vss::scan_2d_unfused(x.u, x.delta, x.A, x.B, x.C, x.D, x.bias, plan, softplus);
        };
        const Result got = run(fused, in, w), want = run(unfused, in, w);
        const std::string where = name + " " + std::to_string(H) + "x" + std::to_string(W) +
                                  (softplus ? " softplus" : "");
        EXPECT_LT(max_abs_diff(got.y, want.y), 1e-5 * (1 + want.y.abs().max().item<double>()))
            << where;
        for (size_t i = 0; i < want.grads.size(); ++i)
          EXPECT_LT(max_abs_diff(got.grads[i], want.grads[i]),
                    1e-5 * (1 + want.grads[i].abs().max().item<double>()))
              << where << " d" << names[i];
      }
    }
  }
}

}  // namespace
