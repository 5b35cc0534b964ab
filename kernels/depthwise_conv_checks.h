#pragma once
// Argument rules of vss::depthwise_conv2d_channels_last, shared by its CPU and CUDA kernels.
#include <ATen/core/Tensor.h>

#include <optional>

namespace vss {

// Checks x [B, H, W, C] (floating), weight [C, 1, k, k] with odd k (x's dtype, or float32 for
// 16-bit x), bias [C] (weight's dtype), one device; returns k.
int64_t check_depthwise_conv_args(const at::Tensor& x, const at::Tensor& weight,
                                  const std::optional<at::Tensor>& bias);

}  // namespace vss
