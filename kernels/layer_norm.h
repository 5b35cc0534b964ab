#pragma once
// LayerNorm over channels for inference: vss::layer_norm (CPU reference + CUDA kernel, no
// autograd: training keeps at::layer_norm). Two things at::layer_norm cannot do, both of which
// cost VMamba whole extra passes over its activations under autocast:
//   - out_dtype: normalize float32 (or bf16) activations and write bf16 for the projection
//     that follows, instead of float32 that the projection then casts;
//   - channel_first: read x [B, C, *spatial] (the scan's output layout) and write the
//     channel-last [B, *spatial, C] the projection wants, without a permute copy.
// The statistics are float32 (float64 for float64 inputs) whatever the dtypes; eps inside the
// square root, biased variance, as nn.LayerNorm.
#include <ATen/core/Tensor.h>

#include <optional>

namespace vss {

// x [..., C] (channel_first = false) or [B, C, *spatial] (channel_first = true, result
// [B, *spatial, C]); weight, bias [C]. out_dtype defaults to x's dtype.
at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                      double eps, bool channel_first = false,
                      std::optional<at::ScalarType> out_dtype = std::nullopt);

}  // namespace vss
