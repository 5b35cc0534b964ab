// Autograd for vss::depthwise_conv2d: the forward redispatches below autograd to the device
// kernel and saves x, weight and bias (the backward recomputes the pre-activation from x rather
// than keeping it: one tensor less at the peak); the backward calls
// vss::depthwise_conv2d_backward of the same device. Double backward is not supported.
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/library.h>

namespace vss {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

using ConvFn = at::Tensor(const at::Tensor&, const at::Tensor&, const std::optional<at::Tensor>&, bool);
using ConvBackwardFn = std::tuple<at::Tensor, at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&,
                                                                      const at::Tensor&,
                                                                      const std::optional<at::Tensor>&, bool);

class DepthwiseConvFunction : public torch::autograd::Function<DepthwiseConvFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const std::optional<at::Tensor>& bias, bool silu) {
    static const auto op =
        c10::Dispatcher::singleton().findSchemaOrThrow("vss::depthwise_conv2d", "").typed<ConvFn>();
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    const at::Tensor b = bias.has_value() ? *bias : at::Tensor();
    ctx->save_for_backward({x, weight, b});
    ctx->saved_data["silu"] = silu;
    return op.call(x, weight, bias, silu);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    static const auto op = c10::Dispatcher::singleton()
                               .findSchemaOrThrow("vss::depthwise_conv2d_backward", "")
                               .typed<ConvBackwardFn>();
    const at::Tensor none;
    if (!grads[0].defined()) return {none, none, none, none};
    const variable_list saved = ctx->get_saved_variables();
    std::optional<at::Tensor> bias;
    if (saved[2].defined()) bias = saved[2];
    auto [dx, dweight, dbias] = op.call(grads[0], saved[0], saved[1], bias, ctx->saved_data["silu"].toBool());
    return {dx, dweight, dbias, none};
  }
};

at::Tensor depthwise_conv2d_autograd(const at::Tensor& x, const at::Tensor& weight,
                                     const std::optional<at::Tensor>& bias, bool silu) {
  return DepthwiseConvFunction::apply(x, weight, bias, silu);
}

}  // namespace

TORCH_LIBRARY_IMPL(vss, Autograd, m) { m.impl("depthwise_conv2d", &depthwise_conv2d_autograd); }

}  // namespace vss
