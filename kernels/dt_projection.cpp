// The C++ entry point of kernels/dt_projection.h: the dispatcher op vss::dt_projection.
#include "kernels/dt_projection.h"

#include <ATen/core/dispatch/Dispatcher.h>

namespace vss {

at::Tensor dt_projection(const at::Tensor& x, const at::Tensor& weight) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("vss::dt_projection", "")
                             .typed<at::Tensor(const at::Tensor&, const at::Tensor&)>();
  return op.call(x, weight);
}

}  // namespace vss
