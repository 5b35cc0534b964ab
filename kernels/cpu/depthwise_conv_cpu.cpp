// CPU kernels of kernels/depthwise_conv.h: at::conv2d (groups = C) in float32 (float64 for
// float64 x), on the NCHW view for channel-last maps, and at::convolution_backward for the
// gradients — the reference the CUDA kernels are held to.
#include "kernels/depthwise_conv_checks.h"

#include <ATen/ATen.h>
#include <torch/library.h>

namespace vss {
namespace {

at::ScalarType accumulate_dtype(const at::Tensor& x) { return x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat; }

std::optional<at::Tensor> bias_in(const std::optional<at::Tensor>& bias, at::ScalarType acc) {
  if (bias.has_value() && bias->defined()) return bias->to(acc);
  return std::nullopt;
}

// The convolution before the activation, in the accumulation dtype, NCHW.
at::Tensor convolve(const at::Tensor& x_nchw, const at::Tensor& weight, const std::optional<at::Tensor>& bias,
                    int64_t k) {
  const at::ScalarType acc = accumulate_dtype(x_nchw);
  return at::conv2d(x_nchw.to(acc), weight.to(acc), bias_in(bias, acc), 1, k / 2, 1, x_nchw.size(1));
}

at::Tensor depthwise_conv2d_cpu(const at::Tensor& x, const at::Tensor& weight, const std::optional<at::Tensor>& bias,
                                bool silu) {
  const int64_t k = check_depthwise_conv_args("vss::depthwise_conv2d", x, weight, bias, /*channel_first=*/true);
  at::Tensor y = convolve(x, weight, bias, k);
  if (silu) y = at::silu(y);
  return y.to(x.scalar_type()).contiguous();
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> depthwise_conv2d_backward_cpu(const at::Tensor& dy, const at::Tensor& x,
                                                                             const at::Tensor& weight,
                                                                             const std::optional<at::Tensor>& bias,
                                                                             bool silu) {
  const int64_t k = check_depthwise_conv_backward_args(dy, x, weight, bias);
  const at::ScalarType acc = accumulate_dtype(x);
  at::Tensor g = dy.to(acc);
  if (silu) {  // d silu(p)/dp = s (1 + p (1 - s)), s = sigmoid(p)
    const at::Tensor pre = convolve(x, weight, bias, k);
    const at::Tensor s = at::sigmoid(pre);
    g = g * s * (1 + pre * (1 - s));
  }
  const bool with_bias = bias.has_value() && bias->defined();
  const int64_t C = x.size(1);
  std::vector<int64_t> bias_sizes{C};
  auto [dx, dweight, dbias] = at::convolution_backward(
      g, x.to(acc), weight.to(acc), with_bias ? at::OptionalIntArrayRef(bias_sizes) : std::nullopt, {1, 1},
      {k / 2, k / 2}, {1, 1}, /*transposed=*/false, {0, 0}, C, {true, true, with_bias});
  return {dx.to(x.scalar_type()), dweight.to(weight.scalar_type()),
          with_bias ? dbias.to(bias->scalar_type()) : at::Tensor()};
}

at::Tensor depthwise_conv2d_channels_last_cpu(const at::Tensor& x, const at::Tensor& weight,
                                              const std::optional<at::Tensor>& bias, bool silu) {
  const int64_t k =
      check_depthwise_conv_args("vss::depthwise_conv2d_channels_last", x, weight, bias, /*channel_first=*/false);
  at::Tensor y = convolve(x.permute({0, 3, 1, 2}), weight, bias, k);
  if (silu) y = at::silu(y);
  return y.permute({0, 2, 3, 1}).to(x.scalar_type()).contiguous();
}

}  // namespace
}  // namespace vss

TORCH_LIBRARY_IMPL(vss, CPU, m) {
  m.impl("depthwise_conv2d", &vss::depthwise_conv2d_cpu);
  m.impl("depthwise_conv2d_backward", &vss::depthwise_conv2d_backward_cpu);
  m.impl("depthwise_conv2d_channels_last", &vss::depthwise_conv2d_channels_last_cpu);
}
