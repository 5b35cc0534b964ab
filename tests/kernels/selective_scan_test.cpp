// vss::selective_scan forward on CPU against the naive float64 loop (tests/kernels/scan_reference.h).
#include "kernels/selective_scan.h"
#include "tests/kernels/scan_reference.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss::test {
namespace {

std::tuple<torch::Tensor, torch::Tensor> run_op(const ScanArgs& a, bool last_state = false,
                                                std::optional<at::ScalarType> out_dtype = {}) {
  return vss::selective_scan(a.u, a.delta, a.A, a.B, a.C, a.D, a.bias, a.softplus, last_state,
                             out_dtype);
}

std::string describe(const ScanCase& c) {
  return "batch=" + std::to_string(c.batch) + " K=" + std::to_string(c.K) +
         " D=" + std::to_string(c.D) + " N=" + std::to_string(c.N) + " L=" + std::to_string(c.L) +
         " D?" + std::to_string(c.with_D) + " bias?" + std::to_string(c.with_bias) +
         " softplus=" + std::to_string(c.softplus);
}

// Shapes and options the op must handle, including every optional-argument combination.
std::vector<ScanCase> shape_cases() {
  std::vector<ScanCase> cases;
  for (bool softplus : {true, false})
    for (bool with_D : {true, false})
      for (bool with_bias : {true, false})
        cases.push_back({2, 2, 3, 4, 17, with_D, with_bias, softplus});
  cases.push_back({1, 1, 1, 1, 1});     // L = 1, N = 1
  cases.push_back({3, 4, 2, 16, 1});    // L = 1
  cases.push_back({1, 4, 5, 1, 50});    // K > 1, N = 1 (VMamba's usual d_state)
  cases.push_back({2, 3, 1, 7, 33});    // D = 1
  cases.push_back({1, 1, 2, 256, 9});   // N at its limit
  cases.push_back({1, 2, 2, 3, 200});   // several backward chunks
  return cases;
}

TEST(selective_scan, float64_matches_naive_loop) {
  uint64_t seed = 1;
  for (const ScanCase& c : shape_cases()) {
    const ScanArgs a = random_scan_args(c, seed++);
    const NaiveResult ref = naive_scan(a);
    auto [out, last] = run_op(a, true);
    EXPECT_EQ(out.scalar_type(), torch::kFloat64);
    EXPECT_EQ(last.scalar_type(), torch::kFloat64);
    EXPECT_LE(max_rel_diff(out, ref.out), 1e-12) << describe(c);
    EXPECT_LE(max_rel_diff(last, ref.last_state), 1e-12) << describe(c);
  }
}

TEST(selective_scan, float32_matches_naive_loop) {
  uint64_t seed = 100;
  for (const ScanCase& c : shape_cases()) {
    const ScanArgs a = random_scan_args(c, seed++).to(torch::kFloat32, torch::kFloat32);
    const NaiveResult ref = naive_scan(a);  // float64 math on the same float32 values
    auto [out, last] = run_op(a, true);
    EXPECT_EQ(out.scalar_type(), torch::kFloat32);
    EXPECT_EQ(last.scalar_type(), torch::kFloat32);
    EXPECT_LE(max_rel_diff(out, ref.out), 1e-4) << describe(c);
    EXPECT_LE(max_rel_diff(last, ref.last_state), 1e-4) << describe(c);
  }
}

TEST(selective_scan, long_sequence_matches_naive_loop) {
  const ScanCase c{1, 2, 2, 2, 10007};
  const ScanArgs a = random_scan_args(c, 7).to(torch::kFloat32, torch::kFloat32);
  const NaiveResult ref = naive_scan(a);
  auto [out, last] = run_op(a, true);
  EXPECT_LE(max_rel_diff(out, ref.out), 1e-4);
  EXPECT_LE(max_rel_diff(last, ref.last_state), 1e-4);
}

TEST(selective_scan, last_state_is_undefined_unless_asked) {
  const ScanArgs a = random_scan_args({}, 3);
  auto [out, last] = run_op(a, false);
  EXPECT_TRUE(out.defined());
  EXPECT_FALSE(last.defined());
}

TEST(selective_scan, single_step_by_hand) {
  // L = 1, N = 1: y = C·(Δ·B·u) + D·u with Δ = softplus(delta + bias).
  const auto f64 = torch::dtype(torch::kFloat64);
  ScanArgs a;
  a.u = torch::full({1, 1, 1}, 2.0, f64);
  a.delta = torch::full({1, 1, 1}, 0.25, f64);
  a.A = torch::full({1, 1}, -1.0, f64);
  a.B = torch::full({1, 1, 1, 1}, 3.0, f64);
  a.C = torch::full({1, 1, 1, 1}, 0.5, f64);
  a.D = torch::full({1}, 4.0, f64);
  a.bias = torch::full({1}, 0.75, f64);
  a.softplus = true;
  const double dt = std::log1p(std::exp(1.0));
  auto [out, last] = run_op(a, true);
  EXPECT_NEAR(out.item<double>(), 0.5 * dt * 3.0 * 2.0 + 4.0 * 2.0, 1e-12);
  EXPECT_NEAR(last.item<double>(), dt * 3.0 * 2.0, 1e-12);
}

TEST(selective_scan, non_contiguous_inputs) {
  // B and C as strided views (as when split out of one projection), u transposed back.
  const ScanCase c{2, 2, 3, 4, 21};
  const ScanArgs a = random_scan_args(c, 11);
  ScanArgs v = a;
  torch::Tensor BC = torch::cat({a.B, a.C}, 2);  // [batch, K, 2N, L]
  v.B = BC.narrow(2, 0, c.N);
  v.C = BC.narrow(2, c.N, c.N);
  v.u = a.u.transpose(1, 2).contiguous().transpose(1, 2);
  ASSERT_FALSE(v.B.is_contiguous());
  ASSERT_FALSE(v.u.is_contiguous());
  EXPECT_EQ(max_abs_diff(std::get<0>(run_op(v)), std::get<0>(run_op(a))), 0.0);
}

// Half-precision inputs: the state math is float32, so against the float32 op on the same
// (rounded) values only the output rounding differs. Tolerances: |err| <= tol·max(1, |ref|)
// with tol = 1e-2 for bfloat16 (8-bit mantissa) and 2e-3 for float16 (11-bit mantissa).
TEST(selective_scan, half_precision_inputs_match_float32) {
  const ScanCase c{2, 4, 3, 4, 64};
  for (auto [dtype, tol] : {std::pair{torch::kBFloat16, 1e-2}, std::pair{torch::kHalf, 2e-3}}) {
    const ScanArgs half = random_scan_args(c, 21).to(dtype, torch::kFloat32);
    const ScanArgs f32 = half.to(torch::kFloat32, torch::kFloat32);
    auto [out, last] = run_op(half, true);
    auto [ref, ref_last] = run_op(f32, true);
    EXPECT_EQ(out.scalar_type(), dtype);
    EXPECT_EQ(last.scalar_type(), torch::kFloat32);
    EXPECT_LE(max_rel_diff(out, ref), tol) << dtype;
    EXPECT_EQ(max_abs_diff(last, ref_last), 0.0) << dtype;
  }
}

TEST(selective_scan, out_dtype_float32_with_bf16_inputs_is_the_float32_result) {
  const ScanArgs bf16 = random_scan_args({2, 4, 3, 4, 64}, 22).to(torch::kBFloat16, torch::kFloat32);
  auto [out, last] = run_op(bf16, false, torch::kFloat32);
  auto [ref, ref_last] = run_op(bf16.to(torch::kFloat32, torch::kFloat32));
  EXPECT_EQ(out.scalar_type(), torch::kFloat32);
  EXPECT_EQ(max_abs_diff(out, ref), 0.0);
}

}  // namespace
}  // namespace vss::test
