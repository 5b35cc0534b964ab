// vss::add_channel_bias on the CPU (the reference the CUDA kernel is held to): x + bias over the
// last dim against a hand-computed case, x's dtype kept, the gradients (dout, and dout summed
// over every row for the bias) against finite differences, and the bad-input messages.
#include "kernels/channel_bias.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

using vss::test::expect_one_line_error;

TEST(add_channel_bias, adds_the_bias_to_every_row) {
  const auto x = torch::tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}).view({1, 3, 2});
  EXPECT_TRUE(torch::equal(vss::add_channel_bias(x, torch::tensor({10.f, 20.f})),
                           torch::tensor({11.f, 22.f, 13.f, 24.f, 15.f, 26.f}).view({1, 3, 2})));
  const auto h = vss::add_channel_bias(x.to(torch::kBFloat16), torch::tensor({0.5f, 0.25f}));
  EXPECT_EQ(h.scalar_type(), torch::kBFloat16);
}

TEST(add_channel_bias, gradients_match_finite_differences) {
  torch::manual_seed(3);
  const auto x = torch::randn({2, 3, 4}, torch::kDouble).requires_grad_();
  const auto bias = torch::randn({4}, torch::kDouble).requires_grad_();
  const auto probe = torch::randn({2, 3, 4}, torch::kDouble);
  const auto loss = [&](const at::Tensor& a, const at::Tensor& b) {
    return (vss::add_channel_bias(a, b) * probe).sum().item<double>();
  };
  (vss::add_channel_bias(x, bias) * probe).sum().backward();
  EXPECT_TRUE(torch::allclose(x.grad(), probe));
  const double h = 1e-6;
  for (int64_t c = 0; c < 4; ++c) {
    const auto e = torch::zeros({4}, torch::kDouble).index_put_({c}, h);
    const double numeric = (loss(x.detach(), bias.detach() + e) - loss(x.detach(), bias.detach() - e)) / (2 * h);
    EXPECT_NEAR(bias.grad()[c].item<double>(), numeric, 1e-7) << c;
  }
}

TEST(add_channel_bias, bad_inputs_name_the_shapes) {
  expect_one_line_error([] { vss::add_channel_bias(torch::ones({2, 3}), torch::ones({2})); },
                        "bias must have shape [3] (x's last dim), got [2] for x [2, 3]");
  expect_one_line_error([] { vss::add_channel_bias(torch::ones({2, 3}, torch::kInt), torch::ones({3})); },
                        "x and bias must be float32, float16, bfloat16 or float64");
}

}  // namespace
