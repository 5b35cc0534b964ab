// vss::selective_scan_plan on the CPU: against an explicit per-direction loop over the plain
// op written here (gather each direction, scan it, scatter-add it back), against finite
// differences in float64, and on bad input; and its channel-last twin against the same loop.
#include "kernels/selective_scan.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace {

using vss::test::expect_one_line_error;
using vss::test::max_abs_diff;

struct PlanCase {
  int64_t batch, dim, K, N, H, W;
  at::Tensor index;         // [K, L] int32
  at::Tensor merge_weight;  // [HW] or undefined
};

struct PlanInputs {
  at::Tensor u, delta, A, B, C, D, bias;
};

// Without softplus, Δ = delta + bias is drawn positive so the recurrence stays a decay.
PlanInputs random_inputs(const PlanCase& pc, at::ScalarType dtype, bool with_D_bias = true,
                         bool softplus = true) {
  const int64_t HW = pc.H * pc.W, KD = pc.K * pc.dim;
  auto f = torch::TensorOptions().dtype(dtype);
  PlanInputs in;
  in.u = torch::randn({pc.batch, pc.dim, HW}, f);
  in.delta = softplus ? torch::randn({pc.batch, KD, HW}, f) * 0.5 - 1.0
                      : torch::rand({pc.batch, KD, HW}, f) * 0.5 + 0.05;
  in.A = -torch::rand({KD, pc.N}, f) * 2 - 0.1;
  in.B = torch::randn({pc.batch, pc.K, pc.N, HW}, f);
  in.C = torch::randn({pc.batch, pc.K, pc.N, HW}, f);
  if (with_D_bias) {
    in.D = torch::randn({KD}, f);
    in.bias = softplus ? torch::randn({KD}, f) * 0.3 : torch::rand({KD}, f) * 0.1;
  }
  return in;
}

std::optional<at::Tensor> opt(const at::Tensor& t) {
  return t.defined() ? std::optional<at::Tensor>(t) : std::nullopt;
}

// The oracle, spelled out: for each direction, gather its sequence (padding steps read 0),
// run the plain op on it, and add its outputs back at their tokens; then the merge weight.
at::Tensor per_direction_loop(const PlanInputs& in, const PlanCase& pc, bool softplus) {
  const int64_t HW = pc.H * pc.W, L = pc.index.size(1);
  at::Tensor y = torch::zeros({pc.batch, pc.dim, HW}, in.u.options());
  for (int64_t k = 0; k < pc.K; ++k) {
    const at::Tensor idx = pc.index[k].to(torch::kLong);
    const at::Tensor valid = idx >= 0;
    const at::Tensor safe = idx.clamp_min(0);
    auto gather = [&](const at::Tensor& t) {  // [..., HW] -> [..., L], 0 at padding
      return t.index_select(-1, safe) * valid.to(t.scalar_type());
    };
    const auto ch = torch::indexing::Slice(k * pc.dim, (k + 1) * pc.dim);
    const at::Tensor u_k = gather(in.u);
    const at::Tensor delta_k = gather(in.delta.index({torch::indexing::Slice(), ch}));
    const at::Tensor B_k = gather(in.B.narrow(1, k, 1));
    const at::Tensor C_k = gather(in.C.narrow(1, k, 1));
    std::optional<at::Tensor> D_k, bias_k;
    if (in.D.defined()) D_k = in.D.index({ch});
    if (in.bias.defined()) bias_k = in.bias.index({ch});
    auto [out_k, last] = vss::selective_scan(u_k, delta_k, in.A.index({ch}), B_k, C_k, D_k,
                                             bias_k, softplus);
    // Scatter-add the valid steps back to their tokens.
    const at::Tensor steps = valid.nonzero().squeeze(1);
    const at::Tensor tokens = idx.index_select(0, steps);
    y.index_add_(2, tokens, out_k.index_select(2, steps));
    EXPECT_EQ(L, out_k.size(2));
  }
  if (pc.merge_weight.defined()) y = y * pc.merge_weight;
  return y;
}

at::Tensor run_plan(const PlanInputs& in, const PlanCase& pc, bool softplus,
                    std::optional<at::ScalarType> out_dtype = std::nullopt) {
  return vss::selective_scan_plan(in.u, in.delta, in.A, in.B, in.C, opt(in.D), opt(in.bias),
                                  pc.index, opt(pc.merge_weight), softplus, out_dtype);
}

// Cross-scan order (VMamba): row-major, column-major and both reversed.
at::Tensor cross_index(int64_t H, int64_t W) {
  const int64_t L = H * W;
  at::Tensor idx = torch::empty({4, L}, torch::kInt);
  auto a = idx.accessor<int32_t, 2>();
  for (int64_t t = 0; t < L; ++t) {
    a[0][t] = static_cast<int32_t>(t);
    a[1][t] = static_cast<int32_t>((t % H) * W + t / H);
    a[2][L - 1 - t] = a[0][t];
    a[3][L - 1 - t] = a[1][t];
  }
  return idx;
}

// Two directions with -1 padding steps (at the start, the middle and the end), and one that
// visits some tokens twice and others never — with a merge weight.
PlanCase padded_case() {
  PlanCase pc{2, 3, 2, 3, 2, 3, {}, {}};
  pc.index = torch::tensor({0, 1, -1, 2, 3, 4, 5, -1, -1, -1, 5, 4, 3, -1, 2, 1, 0, -1},
                           torch::kInt)
                 .reshape({2, 9});
  return pc;
}

PlanCase repeated_case() {
  PlanCase pc{1, 2, 2, 2, 2, 2, {}, {}};
  pc.index = torch::tensor({0, 1, 1, 2, 3, -1, 3, 3, 0, 2, -1, 1}, torch::kInt).reshape({2, 6});
  pc.merge_weight = torch::tensor({0.5f, 0.25f, 1.0f, 2.0f});
  return pc;
}

TEST(selective_scan_plan, matches_per_direction_loop_cross_scan) {
  torch::manual_seed(1);
  PlanCase pc{2, 5, 4, 3, 3, 5, cross_index(3, 5), {}};
  for (bool softplus : {false, true}) {
    const PlanInputs in = random_inputs(pc, torch::kFloat, true, softplus);
    const at::Tensor want = per_direction_loop(in, pc, softplus);
    EXPECT_LT(max_abs_diff(run_plan(in, pc, softplus), want), 1e-5 * (1 + want.abs().max().item<double>()))
        << "softplus " << softplus;
  }
}

TEST(selective_scan_plan, padding_steps_and_merge_weight_match_per_direction_loop) {
  torch::manual_seed(2);
  for (PlanCase pc : {padded_case(), repeated_case()}) {
    if (pc.merge_weight.defined()) pc.merge_weight = pc.merge_weight.to(torch::kDouble);
    for (bool with_D_bias : {true, false}) {
      const PlanInputs in = random_inputs(pc, torch::kDouble, with_D_bias);
      const at::Tensor want = per_direction_loop(in, pc, true);
      EXPECT_LT(max_abs_diff(run_plan(in, pc, true), want), 1e-12)
          << "L " << pc.index.size(1) << " D/bias " << with_D_bias;
    }
  }
}

TEST(selective_scan_plan, half_inputs_and_out_dtype) {
  torch::manual_seed(3);
  PlanCase pc{1, 4, 4, 2, 4, 3, cross_index(4, 3), {}};
  const PlanInputs in32 = random_inputs(pc, torch::kFloat);
  PlanInputs in16 = in32;
  for (at::Tensor* t : {&in16.u, &in16.delta, &in16.B, &in16.C}) *t = t->to(torch::kBFloat16);
  // Reference from the same rounded inputs in float32.
  PlanInputs rounded = in16;
  for (at::Tensor* t : {&rounded.u, &rounded.delta, &rounded.B, &rounded.C}) *t = t->to(torch::kFloat);
  const at::Tensor want = per_direction_loop(rounded, pc, true);
  const at::Tensor got = run_plan(in16, pc, true);
  EXPECT_EQ(got.scalar_type(), torch::kBFloat16);
  const double scale = want.abs().max().item<double>();
  EXPECT_LT(max_abs_diff(got, want), 1e-2 * scale);
  const at::Tensor got32 = run_plan(in16, pc, true, torch::kFloat);
  EXPECT_EQ(got32.scalar_type(), torch::kFloat);
  EXPECT_LT(max_abs_diff(got32, want), 1e-5 * scale);
}

// Finite differences in float64 of sum(y · w) for every differentiable input.
TEST(selective_scan_plan, gradients_match_finite_differences) {
  torch::manual_seed(4);
  for (PlanCase pc : {padded_case(), repeated_case()}) {
    if (pc.merge_weight.defined()) pc.merge_weight = pc.merge_weight.to(torch::kDouble);
    for (bool softplus : {true, false}) {
      PlanInputs in = random_inputs(pc, torch::kDouble, true, softplus);
      const at::Tensor w = torch::randn({pc.batch, pc.dim, pc.H * pc.W}, torch::kDouble);
      std::vector<at::Tensor*> params{&in.u, &in.delta, &in.A, &in.B, &in.C, &in.D, &in.bias};
      const char* names[] = {"u", "delta", "A", "B", "C", "D", "delta_bias"};
      for (at::Tensor* t : params) t->requires_grad_(true);
      (run_plan(in, pc, softplus) * w).sum().backward();
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < params.size(); ++i) {
        at::Tensor& t = *params[i];
        at::Tensor numeric = torch::zeros_like(t);
        auto flat = t.view(-1);
        const double eps = 1e-6;
        for (int64_t j = 0; j < flat.numel(); ++j) {
          const double x0 = flat[j].item<double>();
          flat[j] = x0 + eps;
          const double up = (run_plan(in, pc, softplus) * w).sum().item<double>();
          flat[j] = x0 - eps;
          const double down = (run_plan(in, pc, softplus) * w).sum().item<double>();
          flat[j] = x0;
          numeric.view(-1)[j] = (up - down) / (2 * eps);
        }
        ASSERT_TRUE(t.grad().defined()) << names[i];
        EXPECT_LT(max_abs_diff(t.grad(), numeric), 1e-6 * (1 + numeric.abs().max().item<double>()))
            << names[i] << " softplus " << softplus << " L " << pc.index.size(1);
      }
    }
  }
}

TEST(selective_scan_plan, backward_op_matches_autograd_through_per_direction_loop) {
  torch::manual_seed(5);
  PlanCase pc = padded_case();
  pc.merge_weight = torch::rand({pc.H * pc.W}) + 0.5;
  PlanInputs a = random_inputs(pc, torch::kFloat), b = a;
  std::vector<at::Tensor*> pa{&a.u, &a.delta, &a.A, &a.B, &a.C, &a.D, &a.bias};
  std::vector<at::Tensor*> pb{&b.u, &b.delta, &b.A, &b.B, &b.C, &b.D, &b.bias};
  for (size_t i = 0; i < pa.size(); ++i) {
    *pa[i] = pa[i]->detach().clone().requires_grad_(true);
    *pb[i] = pb[i]->detach().clone().requires_grad_(true);
  }
  const at::Tensor w = torch::randn({pc.batch, pc.dim, pc.H * pc.W});
  (run_plan(a, pc, true) * w).sum().backward();
  (per_direction_loop(b, pc, true) * w).sum().backward();
  for (size_t i = 0; i < pa.size(); ++i) {
    const at::Tensor& want = pb[i]->grad();
    EXPECT_LT(max_abs_diff(pa[i]->grad(), want), 1e-5 * (1 + want.abs().max().item<double>()))
        << "input " << i;
  }
}

TEST(selective_scan_plan, bad_inputs_are_one_line_errors) {
  PlanCase pc{1, 2, 4, 1, 3, 3, cross_index(3, 3), {}};
  const PlanInputs in = random_inputs(pc, torch::kFloat);
  auto with_index = [&](const at::Tensor& index) {
    PlanCase bad = pc;
    bad.index = index;
    return [in, bad] { run_plan(in, bad, true); };
  };
  at::Tensor out_of_range = pc.index.clone();
  out_of_range[1][4] = 9;
  expect_one_line_error(with_index(out_of_range), "index[1][4] = 9");
  at::Tensor below = pc.index.clone();
  below[0][0] = -2;
  expect_one_line_error(with_index(below), "index[0][0] = -2");
  expect_one_line_error(with_index(pc.index.to(torch::kLong)), "index must be int32");
  expect_one_line_error(with_index(pc.index.reshape({-1})), "index");
  expect_one_line_error(with_index(pc.index.narrow(0, 0, 2)), "delta must have shape");
  // A plan made for a larger map (4×4) used on the 3×3 map.
  expect_one_line_error(with_index(cross_index(4, 4)), "outside -1..8");
  PlanCase weighted = pc;
  weighted.merge_weight = torch::ones({10});
  expect_one_line_error([&] { run_plan(in, weighted, true); }, "merge_weight");
}

// The channel-last op on the same values (u [B, HW, D], delta [B, HW, K·D], B, C
// [B, HW, K, N]) gives the loop's y transposed to [B, HW, D].
at::Tensor run_plan_channels_last(const PlanInputs& in, const PlanCase& pc, bool softplus) {
  return vss::selective_scan_plan_channels_last(
      in.u.transpose(1, 2).contiguous(), in.delta.transpose(1, 2).contiguous(), in.A,
      in.B.permute({0, 3, 1, 2}).contiguous(), in.C.permute({0, 3, 1, 2}).contiguous(), opt(in.D),
      opt(in.bias), pc.index, opt(pc.merge_weight), softplus);
}

TEST(selective_scan_plan_channels_last, matches_per_direction_loop) {
  torch::manual_seed(6);
  PlanCase cross{2, 5, 4, 3, 3, 5, cross_index(3, 5), {}};
  PlanCase repeated = repeated_case();
  repeated.merge_weight = repeated.merge_weight.to(torch::kDouble);
  for (const PlanCase& pc : {cross, padded_case(), repeated}) {
    const PlanInputs in = random_inputs(pc, torch::kDouble);
    const at::Tensor want = per_direction_loop(in, pc, true).transpose(1, 2);
    const at::Tensor got = run_plan_channels_last(in, pc, true);
    EXPECT_EQ(got.sizes(), want.sizes());
    EXPECT_LT(max_abs_diff(got, want), 1e-12) << "L " << pc.index.size(1);
  }
}

TEST(selective_scan_plan_channels_last, bad_inputs_are_one_line_errors) {
  PlanCase pc{1, 2, 4, 1, 3, 3, cross_index(3, 3), {}};
  const PlanInputs in = random_inputs(pc, torch::kFloat);
  auto call = [&](const PlanInputs& x) { return [x, pc] { run_plan_channels_last(x, pc, true); }; };
  PlanInputs channel_first_delta = in;  // [B, K·D, HW] where [B, HW, K·D] is due
  channel_first_delta.delta = in.delta.transpose(1, 2);
  expect_one_line_error(call(channel_first_delta), "delta must have shape [1, 9, 8] (batch, H*W, K*D)");
  PlanInputs short_B = in;
  short_B.B = in.B.narrow(1, 0, 3);
  expect_one_line_error(call(short_B), "B must have shape [1, 9, 4, N]");
  expect_one_line_error([&] {
    vss::selective_scan_plan_channels_last(in.u.transpose(1, 2).contiguous().unsqueeze(0), in.delta,
                                           in.A, in.B, in.C, opt(in.D), opt(in.bias), pc.index);
  }, "u must have shape [batch, H*W, D]");
  at::Tensor out_of_range = pc.index.clone();
  out_of_range[1][4] = 9;
  PlanCase bad = pc;
  bad.index = out_of_range;
  expect_one_line_error([&] { run_plan_channels_last(in, bad, true); }, "index[1][4] = 9");
}

}  // namespace
