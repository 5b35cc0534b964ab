// Autograd for vss::layer_norm: the forward redispatches below autograd to the device kernel
// and saves x (not the statistics: the backward recomputes them from the row it reads anyway);
// the backward calls vss::layer_norm_backward of the same device. The gradient reaching the
// forward's out_dtype result (bf16 under autocast) is read as it is, dx comes back in x's dtype.
// vss::layer_norm_with_skip is the same node with x as a second output, whose gradient the
// backward passes to the kernel as residual_grad. Double backward is not supported.
#include "kernels/layer_norm.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/library.h>
#include <torch/torch.h>

namespace vss {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

using LayerNormFn = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, double, bool,
                               std::optional<at::ScalarType>);
using LayerNormBackwardFn = std::tuple<at::Tensor, at::Tensor, at::Tensor>(
    const at::Tensor&, const at::Tensor&, const at::Tensor&, double, bool, const std::optional<at::Tensor>&);

at::Tensor call_layer_norm(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                           const at::Tensor& bias, double eps, bool channel_first,
                           std::optional<at::ScalarType> out_dtype) {
  static const auto op =
      c10::Dispatcher::singleton().findSchemaOrThrow("vss::layer_norm", "").typed<LayerNormFn>();
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  ctx->save_for_backward({x, weight});
  ctx->saved_data["eps"] = eps;
  ctx->saved_data["channel_first"] = channel_first;
  ctx->saved_data["bias_dtype"] = bias.scalar_type();
  return op.call(x, weight, bias, eps, channel_first, out_dtype);
}

// {dx, dweight, dbias} given the gradient of the norm's result (undefined: none reached it) and
// the one reaching x from elsewhere (undefined: none).
variable_list call_layer_norm_backward(AutogradContext* ctx, const at::Tensor& dy, const at::Tensor& residual_grad) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("vss::layer_norm_backward", "")
                             .typed<LayerNormBackwardFn>();
  const at::Tensor none;
  if (!dy.defined()) return {residual_grad, none, none};
  const variable_list saved = ctx->get_saved_variables();
  auto [dx, dweight, dbias] =
      op.call(dy, saved[0], saved[1], ctx->saved_data["eps"].toDouble(), ctx->saved_data["channel_first"].toBool(),
              residual_grad.defined() ? std::optional<at::Tensor>(residual_grad) : std::nullopt);
  return {dx, dweight, dbias.to(ctx->saved_data["bias_dtype"].toScalarType())};
}

class LayerNormFunction : public torch::autograd::Function<LayerNormFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias, double eps, bool channel_first,
                            std::optional<at::ScalarType> out_dtype) {
    return call_layer_norm(ctx, x, weight, bias, eps, channel_first, out_dtype);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    variable_list g = call_layer_norm_backward(ctx, grads[0], at::Tensor());
    g.resize(6);  // eps, channel_first, out_dtype: none
    return g;
  }
};

class LayerNormWithSkipFunction : public torch::autograd::Function<LayerNormWithSkipFunction> {
 public:
  // x returned as it is: autograd hands out a view of it whose gradient comes back here. An
  // output no gradient reached stays undefined (not a zero tensor to run the kernel on).
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                               const at::Tensor& bias, double eps, std::optional<at::ScalarType> out_dtype) {
    ctx->set_materialize_grads(false);
    return {call_layer_norm(ctx, x, weight, bias, eps, false, out_dtype), x};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    variable_list g = call_layer_norm_backward(ctx, grads[0], grads[1]);
    g.resize(5);  // eps, out_dtype: none
    return g;
  }
};

at::Tensor layer_norm_autograd(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                               double eps, bool channel_first, std::optional<at::ScalarType> out_dtype) {
  return LayerNormFunction::apply(x, weight, bias, eps, channel_first, out_dtype);
}

}  // namespace

std::tuple<at::Tensor, at::Tensor> layer_norm_with_skip(const at::Tensor& x, const at::Tensor& weight,
                                                        const at::Tensor& bias, double eps,
                                                        std::optional<at::ScalarType> out_dtype) {
  const bool grad = at::GradMode::is_enabled() &&
                    (x.requires_grad() || weight.requires_grad() || bias.requires_grad());
  if (!grad) return {layer_norm(x, weight, bias, eps, false, out_dtype), x};
  const variable_list out = LayerNormWithSkipFunction::apply(x, weight, bias, eps, out_dtype);
  return {out[0], out[1]};
}

TORCH_LIBRARY_IMPL(vss, Autograd, m) { m.impl("layer_norm", &layer_norm_autograd); }

}  // namespace vss
