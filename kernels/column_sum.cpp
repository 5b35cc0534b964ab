// The C++ entry point of kernels/column_sum.h: the dispatcher op vss::column_sum.
#include "kernels/column_sum.h"

#include <ATen/core/dispatch/Dispatcher.h>

namespace vss {

at::Tensor column_sum(const at::Tensor& x) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("vss::column_sum", "")
                             .typed<at::Tensor(const at::Tensor&)>();
  return op.call(x);
}

}  // namespace vss
