// The C++ entry points of kernels/dt_projection.h: the dispatcher op vss::dt_projection, and
// the weight gradient its autograd and SS2D's sequence core share.
#include "kernels/dt_projection.h"

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>

namespace vss {

at::Tensor dt_projection(const at::Tensor& x, const at::Tensor& weight) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("vss::dt_projection", "")
                             .typed<at::Tensor(const at::Tensor&, const at::Tensor&)>();
  return op.call(x, weight);
}

at::Tensor dt_projection_weight_grad(const at::Tensor& dout, const at::Tensor& x, at::ScalarType weight_dtype) {
  return at::matmul(dout, x.to(dout.scalar_type()).transpose(2, 3)).sum(0, false, weight_dtype);
}

}  // namespace vss
