#pragma once
// Argument rules of vss::layer_norm and its backward, shared by the CPU and CUDA kernels so
// both reject the same inputs with the same one-line message naming the tensor and its shape.
#include <ATen/core/Tensor.h>

#include <optional>
#include <vector>

namespace vss {

// Sizes of one layer_norm call: `rows` vectors of `channels` values. channel_first: `outer`
// batches of `channels` × `inner` (spatial) values; otherwise outer = rows, inner = 1.
struct LayerNormSizes {
  int64_t channels = 0;
  int64_t outer = 0;
  int64_t inner = 1;
  int64_t rows = 0;
};

LayerNormSizes check_layer_norm_args(const at::Tensor& x, const at::Tensor& weight,
                                     const at::Tensor& bias, double eps, bool channel_first,
                                     std::optional<at::ScalarType> out_dtype);

// The backward's: x and weight as above, dy of the forward result's shape on x's device,
// residual_grad (if given) of x's shape on x's device.
LayerNormSizes check_layer_norm_backward_args(const at::Tensor& dy, const at::Tensor& x,
                                              const at::Tensor& weight, double eps,
                                              bool channel_first,
                                              const std::optional<at::Tensor>& residual_grad);

// The result's shape: x's, or [B, *spatial, C] for channel_first.
std::vector<int64_t> layer_norm_out_shape(const at::Tensor& x, bool channel_first);

}  // namespace vss
