#pragma once
// LayerNorm over channels: vss::layer_norm (CPU reference + CUDA kernels, forward and backward,
// differentiable). Two things at::layer_norm cannot do, both of which cost VMamba whole extra
// passes over its activations under autocast, in inference and in training:
//   - out_dtype: normalize float32 (or bf16) activations and write bf16 for the projection
//     that follows, instead of float32 that the projection then casts;
//   - channel_first: read x [B, C, *spatial] (the scan's output layout) and write the
//     channel-last [B, *spatial, C] the projection wants, without a permute copy.
// And at VMamba's short rows (C = 96..1536) its kernels, forward and backward, keep a warp per
// row where at::layer_norm's leave most of a block idle.
// The statistics are float32 (float64 for float64 inputs) whatever the dtypes; eps inside the
// square root, biased variance, as nn.LayerNorm. The backward (vss::layer_norm_backward, called
// by autograd) recomputes them from x and returns dx in x's dtype and layout, dweight and dbias
// in weight's dtype, summed over rows without atomics (bit-identical reruns).
#include <ATen/core/Tensor.h>

#include <optional>
#include <tuple>

namespace vss {

// x [..., C] (channel_first = false) or [B, C, *spatial] (channel_first = true, result
// [B, *spatial, C]); weight, bias [C]. out_dtype defaults to x's dtype.
at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                      double eps, bool channel_first = false,
                      std::optional<at::ScalarType> out_dtype = std::nullopt);

// The gradients of layer_norm(x, weight, bias, eps, channel_first) given dy, the gradient of
// its result (that result's shape, any float dtype): {dx, dweight, dbias}. Autograd calls it;
// public for the tests that hold each device's kernel to the CPU reference.
std::tuple<at::Tensor, at::Tensor, at::Tensor> layer_norm_backward(const at::Tensor& dy, const at::Tensor& x,
                                                                   const at::Tensor& weight, double eps,
                                                                   bool channel_first = false);

}  // namespace vss
