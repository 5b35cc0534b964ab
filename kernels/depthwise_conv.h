#pragma once
// Depthwise k×k convolution on channel-last maps, for inference: vss::depthwise_conv2d_channels_last
// (CPU kernel = at::conv2d through a permuted view; CUDA kernel; no autograd: training keeps
// at::conv2d). SS2D's conv (d_conv) on the channel-last scan path runs on the in_proj output
// as it is, [B, H, W, C], with SiLU fused: at::conv2d's depthwise kernel wants NCHW, and that
// layout change plus a separate activation pass cost more than the convolution itself.
// Stride 1, zero padding k/2 ("same"), odd k.
#include <ATen/core/Tensor.h>

#include <optional>

namespace vss {

// x [B, H, W, C]; weight [C, 1, k, k] (nn.Conv2d's depthwise layout); bias [C] or none. Returns
// [B, H, W, C] in x's dtype, silu(y) when silu. Sums in float32 (float64 for float64 x).
at::Tensor depthwise_conv2d_channels_last(const at::Tensor& x, const at::Tensor& weight,
                                          const std::optional<at::Tensor>& bias = std::nullopt,
                                          bool silu = false);

}  // namespace vss
