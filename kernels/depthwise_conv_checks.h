#pragma once
// Argument rules of vss::depthwise_conv2d (channel-first), its backward and
// vss::depthwise_conv2d_channels_last, shared by their CPU and CUDA kernels.
#include <ATen/core/Tensor.h>

#include <optional>

namespace vss {

// Checks x [B, C, H, W] (channel_first) or [B, H, W, C] (floating), weight [C, 1, k, k] with odd
// k (x's dtype, or float32 for 16-bit x), bias [C] (weight's dtype), one device; returns k.
// `op` names the caller in the errors.
int64_t check_depthwise_conv_args(const char* op, const at::Tensor& x, const at::Tensor& weight,
                                  const std::optional<at::Tensor>& bias, bool channel_first);

// The backward's: the forward's rules, and dy of x's shape on x's device.
int64_t check_depthwise_conv_backward_args(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& weight,
                                           const std::optional<at::Tensor>& bias);

}  // namespace vss
