// The C++ entry points of kernels/residual_add.h: the dispatcher ops vss::residual_add and
// vss::residual_add_backward.
#include "kernels/residual_add.h"

#include <ATen/core/dispatch/Dispatcher.h>

namespace vss {

at::Tensor residual_add(const at::Tensor& x, const at::Tensor& branch, const std::optional<at::Tensor>& sample_scale) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("vss::residual_add", "")
                             .typed<at::Tensor(const at::Tensor&, const at::Tensor&, const std::optional<at::Tensor>&)>();
  return op.call(x, branch, sample_scale);
}

at::Tensor residual_add_backward(const at::Tensor& dout, const std::optional<at::Tensor>& sample_scale,
                                 at::ScalarType branch_dtype) {
  static const auto op =
      c10::Dispatcher::singleton()
          .findSchemaOrThrow("vss::residual_add_backward", "")
          .typed<at::Tensor(const at::Tensor&, const std::optional<at::Tensor>&, at::ScalarType)>();
  return op.call(dout, sample_scale, branch_dtype);
}

}  // namespace vss
