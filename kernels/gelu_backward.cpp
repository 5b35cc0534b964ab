// The C++ entry point of kernels/gelu_backward.h: the dispatcher op vss::gelu_backward_with_bias_grad.
#include "kernels/gelu_backward.h"

#include <ATen/core/dispatch/Dispatcher.h>

namespace vss {

std::tuple<at::Tensor, at::Tensor> gelu_backward_with_bias_grad(const at::Tensor& dy, const at::Tensor& h) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("vss::gelu_backward_with_bias_grad", "")
                             .typed<std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&)>();
  return op.call(dy, h);
}

}  // namespace vss
