// The C++ entry points of kernels/depthwise_conv.h: call the dispatcher ops, so C++ and Python
// (torch.ops.vss.depthwise_conv2d, ...) reach the same device kernels and autograd.
#include "kernels/depthwise_conv.h"

#include <ATen/core/dispatch/Dispatcher.h>

namespace vss {

using ConvFn = at::Tensor(const at::Tensor&, const at::Tensor&, const std::optional<at::Tensor>&, bool);

at::Tensor depthwise_conv2d(const at::Tensor& x, const at::Tensor& weight, const std::optional<at::Tensor>& bias,
                            bool silu) {
  static const auto op =
      c10::Dispatcher::singleton().findSchemaOrThrow("vss::depthwise_conv2d", "").typed<ConvFn>();
  return op.call(x, weight, bias, silu);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> depthwise_conv2d_backward(const at::Tensor& dy, const at::Tensor& x,
                                                                         const at::Tensor& weight,
                                                                         const std::optional<at::Tensor>& bias,
                                                                         bool silu) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("vss::depthwise_conv2d_backward", "")
                             .typed<std::tuple<at::Tensor, at::Tensor, at::Tensor>(
                                 const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                 const std::optional<at::Tensor>&, bool)>();
  return op.call(dy, x, weight, bias, silu);
}

at::Tensor depthwise_conv2d_channels_last(const at::Tensor& x, const at::Tensor& weight,
                                          const std::optional<at::Tensor>& bias, bool silu) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("vss::depthwise_conv2d_channels_last", "")
                             .typed<ConvFn>();
  return op.call(x, weight, bias, silu);
}

}  // namespace vss
