// CPU kernel of vss::depthwise_conv2d_channels_last: at::conv2d (groups = C) on the NCHW view of
// the channel-last map, in float32 (float64 for float64 x) — the reference the CUDA kernel is
// held to.
#include "kernels/depthwise_conv_checks.h"

#include <ATen/ATen.h>
#include <torch/library.h>

namespace vss {
namespace {

at::Tensor depthwise_conv2d_channels_last_cpu(const at::Tensor& x, const at::Tensor& weight,
                                              const std::optional<at::Tensor>& bias, bool silu) {
  const int64_t k = check_depthwise_conv_args(x, weight, bias);
  const at::ScalarType acc = x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  std::optional<at::Tensor> b;
  if (bias.has_value() && bias->defined()) b = bias->to(acc);
  at::Tensor y = at::conv2d(x.to(acc).permute({0, 3, 1, 2}), weight.to(acc), b, 1, k / 2, 1,
                            x.size(3));
  if (silu) y = at::silu(y);
  return y.permute({0, 2, 3, 1}).to(x.scalar_type()).contiguous();
}

}  // namespace
}  // namespace vss

TORCH_LIBRARY_IMPL(vss, CPU, m) {
  m.impl("depthwise_conv2d_channels_last", &vss::depthwise_conv2d_channels_last_cpu);
}
