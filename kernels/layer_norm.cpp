// The C++ entry point of kernels/layer_norm.h: calls the dispatcher op, so C++ and Python
// (torch.ops.vss.layer_norm) reach the same device kernels.
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

}  // namespace vss
