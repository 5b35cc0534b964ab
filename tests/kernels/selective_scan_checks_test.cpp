// Bad arguments to vss::selective_scan: each is a one-line error naming the argument and the
// expected vs actual shape / dtype / device.
#include "kernels/selective_scan.h"
#include "kernels/selective_scan_checks.h"
#include "tests/kernels/scan_reference.h"
#include "tests/support/test_support.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <gtest/gtest.h>
#include <torch/torch.h>


namespace vss::test {
namespace {

// batch 2, K 2, D 3, N 4, L 17, float32.
ScanArgs valid_args() {
  return random_scan_args({2, 2, 3, 4, 17}, 5).to(torch::kFloat32, torch::kFloat32);
}

void run(const ScanArgs& a, std::optional<at::ScalarType> out_dtype = {}) {
  vss::selective_scan(a.u, a.delta, a.A, a.B, a.C, a.D, a.bias, a.softplus, false, out_dtype);
}

TEST(selective_scan, valid_arguments_report_their_sizes) {
  const ScanArgs a = valid_args();
  const ScanSizes s =
      check_selective_scan_args("test", a.u, a.delta, a.A, a.B, a.C, a.D, a.bias);
  EXPECT_EQ(s.batch, 2);
  EXPECT_EQ(s.channels, 6);
  EXPECT_EQ(s.groups, 2);
  EXPECT_EQ(s.dim, 3);
  EXPECT_EQ(s.state, 4);
  EXPECT_EQ(s.length, 17);
  EXPECT_EQ(s.tokens, 17);
}

TEST(selective_scan, bad_shapes_name_the_argument) {
  const std::string op = "vss::selective_scan: ";
  ScanArgs a = valid_args();
  a.u = torch::randn({2, 6});
  expect_one_line_error([&] { run(a); }, op + "u must have shape [batch, K*D, L], got [2, 6]");
  a = valid_args();
  a.u = torch::randn({0, 6, 17});
  expect_one_line_error([&] { run(a); }, "u must have shape [batch, K*D, L], got [0, 6, 17] (empty");
  a = valid_args();
  a.delta = torch::randn({2, 6, 16});
  expect_one_line_error([&] { run(a); },
               op + "delta must have shape [2, 6, 17] (batch, K*D, L), got [2, 6, 16]");
  a = valid_args();
  a.A = torch::randn({6, 4, 1});
  expect_one_line_error([&] { run(a); }, op + "A must have shape [6, N] (K*D, N), got [6, 4, 1]");
  a = valid_args();
  a.A = torch::randn({5, 4});
  expect_one_line_error([&] { run(a); }, op + "A must have shape [6, N] (K*D, N), got [5, 4]");
  a = valid_args();
  a.B = torch::randn({2, 2, 17});
  expect_one_line_error([&] { run(a); },
               op + "B must have shape [2, K, 4, 17] (batch, K, N, L), got [2, 2, 17]");
  a = valid_args();
  a.B = torch::randn({2, 2, 3, 17});
  expect_one_line_error([&] { run(a); },
               op + "B must have shape [2, K, 4, 17] (batch, K, N, L), got [2, 2, 3, 17]");
  a = valid_args();
  a.B = torch::randn({2, 4, 4, 17});
  a.C = torch::randn({2, 4, 4, 17});
  expect_one_line_error([&] { run(a); }, op + "K*D = 6 channels are not divisible by K = 4 groups");
  a = valid_args();
  a.C = torch::randn({2, 3, 4, 17});
  expect_one_line_error([&] { run(a); },
               op + "C must have shape [2, 2, 4, 17] (batch, K, N, L), got [2, 3, 4, 17]");
  a = valid_args();
  a.D = torch::randn({3});
  expect_one_line_error([&] { run(a); }, op + "D must have shape [6] (K*D), got [3]");
  a = valid_args();
  a.bias = torch::randn({6, 1});
  expect_one_line_error([&] { run(a); }, op + "delta_bias must have shape [6] (K*D), got [6, 1]");
}

TEST(selective_scan, state_size_outside_1_to_256_is_rejected) {
  ScanArgs a = valid_args();
  a.A = torch::randn({6, 257});
  a.B = torch::randn({2, 2, 257, 17});
  a.C = torch::randn({2, 2, 257, 17});
  expect_one_line_error([&] { run(a); },
               "vss::selective_scan: A has state size N = 257, the kernels support 1..256");
  a.A = torch::randn({6, 0});
  expect_one_line_error([&] { run(a); }, "A must have shape [6, N] (K*D, N), got [6, 0]");
}

TEST(selective_scan, bad_dtypes_name_the_argument) {
  const std::string op = "vss::selective_scan: ";
  ScanArgs a = valid_args();
  a.u = a.u.to(torch::kInt);
  a.delta = a.delta.to(torch::kInt);
  expect_one_line_error([&] { run(a); }, op + "u must be float32, float16, bfloat16 or float64, got Int");
  a = valid_args();
  a.delta = a.delta.to(torch::kBFloat16);
  expect_one_line_error([&] { run(a); }, op + "delta must have u's dtype Float, got BFloat16");
  a = valid_args();
  a.C = a.C.to(torch::kDouble);
  expect_one_line_error([&] { run(a); }, op + "C must have u's dtype Float, got Double");
  a = valid_args().to(torch::kBFloat16, torch::kBFloat16);
  expect_one_line_error([&] { run(a); }, op + "A must be Float (float64 only with float64 inputs), got BFloat16");
  a = valid_args().to(torch::kDouble, torch::kFloat);
  expect_one_line_error([&] { run(a); }, op + "A must be Double (u is float64), got Float");
  a = valid_args();
  a.bias = a.bias->to(torch::kHalf);
  expect_one_line_error([&] { run(a); }, op + "delta_bias must be Float");
  expect_one_line_error([&] { run(valid_args(), torch::kInt); },
               op + "out_dtype must be float32, float16, bfloat16 or float64, got Int");
}

TEST(selective_scan, tensors_on_another_device_are_rejected) {
  // The dispatcher routes a CPU/meta mix away from the CPU kernel, so call the shared check.
  ScanArgs a = valid_args();
  a.D = a.D->to(torch::kMeta);
  expect_one_line_error(
      [&] { check_selective_scan_args("vss::selective_scan", a.u, a.delta, a.A, a.B, a.C, a.D, a.bias); },
      "vss::selective_scan: D must be on u's device cpu, got meta");
}

TEST(selective_scan, backward_checks_dout_and_checkpoints) {
  const ScanArgs a = valid_args();
  expect_one_line_error([&] { vss::selective_scan_backward(torch::ones({2, 6}), a.u, a.delta, a.A, a.B, a.C, a.D, a.bias, true); },
               "vss::selective_scan_backward: dout must have the output's shape [2, 6, 17], got [2, 6]");
  expect_one_line_error([&] { vss::selective_scan_backward(torch::ones({2, 6, 17}, torch::kLong), a.u, a.delta, a.A, a.B, a.C, a.D, a.bias, true); },
               "vss::selective_scan_backward: dout must be float32, float16, bfloat16 or float64, got Long");
  const at::Tensor dout = torch::ones({2, 6, 17});
  expect_one_line_error(
      [&] { vss::selective_scan_backward(dout, a.u, a.delta, a.A, a.B, a.C, a.D, a.bias, true, torch::zeros({2, 6, 3})); },
      "vss::selective_scan_backward: checkpoints must be [2, 6, T, " + std::to_string(a.A.size(1)) +
          "] (from vss::selective_scan_checkpointed on the same inputs), got [2, 6, 3]");
  expect_one_line_error(
      [&] {
        vss::selective_scan_backward(dout, a.u, a.delta, a.A, a.B, a.C, a.D, a.bias, true,
                                     torch::zeros({2, 6, 1, a.A.size(1)}, torch::kDouble));
      },
      "vss::selective_scan_backward: checkpoints must be float32, got Double");
  // What the CPU forward keeps (nothing: T = 0) is accepted back.
  const at::Tensor none = std::get<2>(vss::selective_scan_checkpointed(a.u, a.delta, a.A, a.B, a.C, a.D, a.bias, true));
  EXPECT_EQ(none.sizes(), (std::vector<int64_t>{2, 6, 0, a.A.size(1)}));
  EXPECT_NO_THROW(vss::selective_scan_backward(dout, a.u, a.delta, a.A, a.B, a.C, a.D, a.bias, true, none));
}

TEST(selective_scan, plan_checks_name_the_argument) {
  // The plan op's shapes: u [batch, D, H*W], index [K, L] int32, merge_weight [H*W].
  const ScanArgs a = valid_args();  // K*D = 6 with K = 2 -> D = 3, tokens = 17
  const torch::Tensor u = torch::randn({2, 3, 17});
  const torch::Tensor index = torch::arange(17, torch::kInt).repeat({2, 1});
  const auto check = [&](const torch::Tensor& idx, const std::optional<torch::Tensor>& w) {
    return check_selective_scan_plan_args("vss::selective_scan_plan", u, a.delta, a.A, a.B, a.C,
                                          a.D, a.bias, idx, w);
  };
  const ScanSizes s = check(index, torch::ones({17}));
  EXPECT_EQ(s.groups, 2);
  EXPECT_EQ(s.dim, 3);
  EXPECT_EQ(s.length, 17);
  EXPECT_EQ(s.tokens, 17);
  EXPECT_EQ(check(torch::zeros({2, 20}, torch::kInt), std::nullopt).length, 20);  // padded scans
  expect_one_line_error([&] { check(index.to(torch::kLong), std::nullopt); },
               "vss::selective_scan_plan: index must be int32, got Long");
  expect_one_line_error([&] { check(index.narrow(0, 0, 1), std::nullopt); },
               "delta must have shape [2, 3, 17] (batch, K*D, H*W), got [2, 6, 17]");
  expect_one_line_error([&] { check(index, torch::ones({16})); },
               "merge_weight must have shape [17] (H*W), got [16]");
}

}  // namespace
}  // namespace vss::test
