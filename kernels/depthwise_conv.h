#pragma once
// Depthwise k×k convolution (stride 1, zero padding k/2 ("same"), odd k), SiLU optionally fused:
//  - vss::depthwise_conv2d on channel-first maps [B, C, H, W], with autograd
//    (depthwise_conv_autograd.cpp): SS2D's conv on the training path. ATen's depthwise kernels
//    spend most of their time in the weight gradient and the input gradient (a third of a
//    VMamba-T training step's convolution time each), and bf16 runs no faster than float32.
//  - vss::depthwise_conv2d_channels_last on [B, H, W, C], for inference: SS2D's conv on the
//    channel-last scan path runs on the in_proj output as it is, where at::conv2d's depthwise
//    kernel wants NCHW, and that layout change plus a separate activation pass cost more than
//    the convolution itself.
// CPU kernels = at::conv2d (the backward: at::convolution_backward), the reference the CUDA
// kernels are held to.
#include <ATen/core/Tensor.h>

#include <optional>
#include <tuple>

namespace vss {

// x [B, C, H, W]; weight [C, 1, k, k] (nn.Conv2d's depthwise layout), float32 or x's dtype;
// bias [C] or none. Returns [B, C, H, W] in x's dtype, silu(y) when silu. Sums in float32
// (float64 for float64 x).
at::Tensor depthwise_conv2d(const at::Tensor& x, const at::Tensor& weight,
                            const std::optional<at::Tensor>& bias = std::nullopt, bool silu = false);

// The gradients of depthwise_conv2d for dy = dL/dy: dx (x's dtype), dweight (weight's dtype),
// dbias (bias's dtype; undefined without bias). With silu the pre-activation is recomputed
// from x (nothing saved but x).
std::tuple<at::Tensor, at::Tensor, at::Tensor> depthwise_conv2d_backward(const at::Tensor& dy, const at::Tensor& x,
                                                                         const at::Tensor& weight,
                                                                         const std::optional<at::Tensor>& bias,
                                                                         bool silu);

// x [B, H, W, C]; weight and bias as above. Returns [B, H, W, C] in x's dtype. No autograd.
at::Tensor depthwise_conv2d_channels_last(const at::Tensor& x, const at::Tensor& weight,
                                          const std::optional<at::Tensor>& bias = std::nullopt,
                                          bool silu = false);

}  // namespace vss
