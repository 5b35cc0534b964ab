// Autograd for vss::add_channel_bias: x's gradient is dout, the bias's the column sums of dout
// by vss::column_sum (float32, in a fixed order), cast to the bias's dtype. Only the dtypes are
// saved. Double backward is not supported.
#include "kernels/column_sum.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/library.h>

namespace vss {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class ChannelBiasFunction : public torch::autograd::Function<ChannelBiasFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& bias) {
    static const auto op = c10::Dispatcher::singleton()
                               .findSchemaOrThrow("vss::add_channel_bias", "")
                               .typed<at::Tensor(const at::Tensor&, const at::Tensor&)>();
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    ctx->saved_data["x_dtype"] = x.scalar_type();
    ctx->saved_data["bias_dtype"] = bias.scalar_type();
    return op.call(x, bias);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor& dout = grads[0];
    if (!dout.defined()) return {at::Tensor(), at::Tensor()};
    at::Tensor dbias;
    if (ctx->needs_input_grad(1))
      dbias = column_sum(dout.reshape({-1, dout.size(-1)})).to(ctx->saved_data["bias_dtype"].toScalarType());
    return {dout.to(ctx->saved_data["x_dtype"].toScalarType()), dbias};
  }
};

at::Tensor add_channel_bias_autograd(const at::Tensor& x, const at::Tensor& bias) {
  return ChannelBiasFunction::apply(x, bias);
}

}  // namespace

TORCH_LIBRARY_IMPL(vss, Autograd, m) { m.impl("add_channel_bias", &add_channel_bias_autograd); }

}  // namespace vss
