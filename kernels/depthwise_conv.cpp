// The C++ entry point of kernels/depthwise_conv.h: calls the dispatcher op, so C++ and Python
// (torch.ops.vss.depthwise_conv2d_channels_last) reach the same device kernels.
#include "kernels/depthwise_conv.h"

#include <ATen/core/dispatch/Dispatcher.h>

namespace vss {

at::Tensor depthwise_conv2d_channels_last(const at::Tensor& x, const at::Tensor& weight,
                                          const std::optional<at::Tensor>& bias, bool silu) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("vss::depthwise_conv2d_channels_last", "")
                             .typed<at::Tensor(const at::Tensor&, const at::Tensor&,
                                               const std::optional<at::Tensor>&, bool)>();
  return op.call(x, weight, bias, silu);
}

}  // namespace vss
