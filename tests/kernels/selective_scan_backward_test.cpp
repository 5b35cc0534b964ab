// vss::selective_scan gradients on CPU (autograd -> vss::selective_scan_backward) against
// central finite differences and against torch's autograd through the step-by-step loop.
#include "kernels/selective_scan.h"
#include "tests/kernels/scan_reference.h"
#include "tests/support/test_support.h"

#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss::test {
namespace {

const char* const kInputNames[] = {"u", "delta", "A", "B", "C", "D", "delta_bias"};

// Gradients of sum(out · dout) with respect to a.tensors(), through the op's autograd.
std::vector<torch::Tensor> op_grads(const ScanArgs& args, const torch::Tensor& dout,
                                    std::optional<at::ScalarType> out_dtype = {}) {
  const ScanArgs a = args.requiring_grad();
  auto [out, last] = vss::selective_scan(a.u, a.delta, a.A, a.B, a.C, a.D, a.bias, a.softplus,
                                         false, out_dtype);
  return torch::autograd::grad({out}, a.tensors(), {dout.to(out.scalar_type())});
}

std::vector<torch::Tensor> loop_grads(const ScanArgs& args, const torch::Tensor& dout) {
  const ScanArgs a = args.requiring_grad();
  return torch::autograd::grad({torch_loop_scan(a)}, a.tensors(), {dout});
}

// Names the gradient of input i of `a` (D / delta_bias shift when D is absent).
std::string input_name(const ScanArgs& a, size_t i) {
  if (i >= 5 && !a.D) ++i;
  return kInputNames[i];
}

TEST(selective_scan, gradients_match_finite_differences) {
  torch::NoGradGuard no_grad_outside;  // grad mode is re-enabled where the op's autograd runs
  for (bool softplus : {true, false}) {
    ScanCase c{2, 2, 2, 3, 9};
    c.softplus = softplus;
    const ScanArgs a = random_scan_args(c, softplus ? 31 : 32);
    const torch::Tensor dout = torch::randn({c.batch, c.K * c.D, c.L}, torch::kFloat64);
    std::vector<torch::Tensor> grads;
    {
      torch::AutoGradMode enable(true);
      grads = op_grads(a, dout);
    }
    const auto loss = [&](const ScanArgs& p) {
      return (std::get<0>(vss::selective_scan(p.u, p.delta, p.A, p.B, p.C, p.D, p.bias,
                                              p.softplus)) * dout).sum().item<double>();
    };
    const double eps = 1e-6;
    const std::vector<torch::Tensor> inputs = a.tensors();
    for (size_t i = 0; i < inputs.size(); ++i) {
      torch::Tensor flat = inputs[i].view(-1);  // perturbs a's tensor in place
      auto numeric = torch::empty_like(flat);
      for (int64_t e = 0; e < flat.numel(); ++e) {
        const double v = flat[e].item<double>();
        flat[e] = v + eps;
        const double up = loss(a);
        flat[e] = v - eps;
        const double down = loss(a);
        flat[e] = v;
        numeric[e] = (up - down) / (2 * eps);
      }
      EXPECT_LE(max_rel_diff(grads[i].reshape(-1), numeric), 1e-6)
          << "d" << input_name(a, i) << " softplus=" << softplus;
    }
  }
}

// The backward recomputes the states chunk by chunk (a few dozen steps per chunk): lengths
// around every power of two up to 257 cross chunk boundaries whatever the chunk size is.
TEST(selective_scan, gradients_at_chunk_boundaries_match_autograd_of_loop) {
  for (int64_t L : {1, 2, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257}) {
    ScanCase c{2, 2, 2, 3, L};
    ScanArgs a = random_scan_args(c, 40 + L);
    a.delta.select(2, 0).fill_(25.0);  // softplus's linear branch (x > 20) too
    const torch::Tensor dout = torch::randn({c.batch, c.K * c.D, L}, torch::kFloat64);
    const auto got = op_grads(a, dout), want = loop_grads(a, dout);
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_LE(max_rel_diff(got[i], want[i]), 1e-10) << "d" << input_name(a, i) << " L=" << L;
  }
}

TEST(selective_scan, gradients_without_D_bias_or_softplus_match_autograd_of_loop) {
  for (bool with_D : {true, false})
    for (bool with_bias : {true, false}) {
      const ScanCase c{1, 3, 2, 2, 70, with_D, with_bias, false};
      const ScanArgs a = random_scan_args(c, 50 + 2 * with_D + with_bias);
      const torch::Tensor dout = torch::randn({c.batch, c.K * c.D, c.L}, torch::kFloat64);
      const auto got = op_grads(a, dout), want = loop_grads(a, dout);
      ASSERT_EQ(got.size(), 5u + with_D + with_bias);
      for (size_t i = 0; i < got.size(); ++i)
        EXPECT_LE(max_rel_diff(got[i], want[i]), 1e-10)
            << "d" << input_name(a, i) << " D?" << with_D << " bias?" << with_bias;
    }
}

TEST(selective_scan, long_sequence_gradients_match_autograd_of_loop) {
  const ScanCase c{1, 1, 2, 2, 10001};
  const ScanArgs a = random_scan_args(c, 60);
  const torch::Tensor dout = torch::randn({c.batch, c.K * c.D, c.L}, torch::kFloat64);
  const auto got = op_grads(a, dout), want = loop_grads(a, dout);
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_LE(max_rel_diff(got[i], want[i]), 1e-9) << "d" << input_name(a, i);
}

TEST(selective_scan, backward_op_leaves_absent_D_and_bias_gradients_undefined) {
  const ScanArgs a = random_scan_args({1, 2, 2, 2, 5, false, false, true}, 70);
  auto grads = vss::selective_scan_backward(torch::ones_like(a.u), a.u, a.delta, a.A, a.B, a.C, std::nullopt,
                                            std::nullopt, true);
  EXPECT_TRUE(std::get<0>(grads).defined());
  EXPECT_TRUE(std::get<4>(grads).defined());
  EXPECT_FALSE(std::get<5>(grads).defined());
  EXPECT_FALSE(std::get<6>(grads).defined());
}

TEST(selective_scan, last_state_is_not_differentiable) {
  const ScanArgs a = random_scan_args({}, 80).requiring_grad();
  auto [out, last] = vss::selective_scan(a.u, a.delta, a.A, a.B, a.C, a.D, a.bias, true, true);
  EXPECT_TRUE(out.requires_grad());
  EXPECT_FALSE(last.requires_grad());
}

// Each gradient element is written by one task (dB/dC per (batch, group), dA/dD through
// per-batch partials), so the result is bitwise the same for any thread count.
TEST(selective_scan, gradients_do_not_depend_on_thread_count) {
  const ScanCase c{3, 4, 5, 3, 100};
  const ScanArgs a = random_scan_args(c, 95).to(torch::kFloat32, torch::kFloat32);
  const torch::Tensor dout = torch::randn({c.batch, c.K * c.D, c.L});
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const auto one = op_grads(a, dout);
  at::set_num_threads(4);
  const auto four = op_grads(a, dout);
  at::set_num_threads(threads);
  for (size_t i = 0; i < one.size(); ++i)
    EXPECT_TRUE(torch::equal(one[i], four[i])) << "d" << input_name(a, i);
}

// bf16 inputs: gradients come back in each input's dtype, and differ from the float32 op's
// on the same values only by their rounding (tolerance 1e-2·max(1, |ref|)). With out_dtype
// float32 the upstream gradient is float32; the gradients are still bf16.
TEST(selective_scan, bf16_gradients_match_float32) {
  const ScanCase c{2, 4, 3, 4, 64};
  const ScanArgs bf16 = random_scan_args(c, 90).to(torch::kBFloat16, torch::kFloat32);
  const ScanArgs f32 = bf16.to(torch::kFloat32, torch::kFloat32);
  const torch::Tensor dout = torch::randn({c.batch, c.K * c.D, c.L}).to(torch::kBFloat16);
  const auto want = op_grads(f32, dout.to(torch::kFloat32));
  for (std::optional<at::ScalarType> out_dtype :
       {std::optional<at::ScalarType>{}, std::optional<at::ScalarType>{torch::kFloat32}}) {
    const auto got = op_grads(bf16, dout, out_dtype);
    const std::vector<torch::Tensor> inputs = bf16.tensors();
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].scalar_type(), inputs[i].scalar_type()) << "d" << input_name(bf16, i);
      EXPECT_LE(max_rel_diff(got[i], want[i]), 1e-2) << "d" << input_name(bf16, i);
    }
  }
}

}  // namespace
}  // namespace vss::test
