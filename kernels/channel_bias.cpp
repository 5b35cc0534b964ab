// The C++ entry point of kernels/channel_bias.h: the dispatcher op vss::add_channel_bias.
#include "kernels/channel_bias.h"

#include <ATen/core/dispatch/Dispatcher.h>

namespace vss {

at::Tensor add_channel_bias(const at::Tensor& x, const at::Tensor& bias) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("vss::add_channel_bias", "")
                             .typed<at::Tensor(const at::Tensor&, const at::Tensor&)>();
  return op.call(x, bias);
}

}  // namespace vss
