// The C++ entry points of kernels/layer_norm.h: call the dispatcher ops, so C++ and Python
// (torch.ops.vss.layer_norm) reach the same device kernels (and autograd).
#include "kernels/layer_norm.h"

#include <ATen/core/dispatch/Dispatcher.h>

namespace vss {

at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                      double eps, bool channel_first, std::optional<at::ScalarType> out_dtype) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("vss::layer_norm", "")
                             .typed<at::Tensor(const at::Tensor&, const at::Tensor&,
                                               const at::Tensor&, double, bool,
                                               std::optional<at::ScalarType>)>();
  return op.call(x, weight, bias, eps, channel_first, out_dtype);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> layer_norm_backward(
    const at::Tensor& dy, const at::Tensor& x, const at::Tensor& weight, double eps, bool channel_first,
    const std::optional<at::Tensor>& residual_grad) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("vss::layer_norm_backward", "")
                             .typed<std::tuple<at::Tensor, at::Tensor, at::Tensor>(
                                 const at::Tensor&, const at::Tensor&, const at::Tensor&, double, bool,
                                 const std::optional<at::Tensor>&)>();
  return op.call(dy, x, weight, eps, channel_first, residual_grad);
}

}  // namespace vss
