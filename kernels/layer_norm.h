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
// its result (that result's shape, any float dtype): {dx, dweight, dbias}. residual_grad (x's
// shape, any float dtype) is a gradient x has from elsewhere, added to dx in the same pass.
// Autograd calls it; public for the tests that hold each device's kernel to the CPU reference.
std::tuple<at::Tensor, at::Tensor, at::Tensor> layer_norm_backward(
    const at::Tensor& dy, const at::Tensor& x, const at::Tensor& weight, double eps, bool channel_first = false,
    const std::optional<at::Tensor>& residual_grad = std::nullopt);

// {layer_norm(x, weight, bias, eps, false, out_dtype), skip}: skip is x itself (a view of it)
// for the residual connection around the branch the norm feeds, as in x + f(norm(x)). Taking
// x through this node hands the gradient arriving along skip to the norm's backward, which adds
// it to dx in its own pass; with x used directly autograd would sum the two gradients in a
// separate full pass over x-sized float32 tensors (VMamba-T b128: 1.5 ms of a 59 ms step, H100).
std::tuple<at::Tensor, at::Tensor> layer_norm_with_skip(const at::Tensor& x, const at::Tensor& weight,
                                                        const at::Tensor& bias, double eps,
                                                        std::optional<at::ScalarType> out_dtype = std::nullopt);

}  // namespace vss
