// Autograd for vss::layer_norm: the forward redispatches below autograd to the device kernel
// and saves x (not the statistics: the backward recomputes them from the row it reads anyway);
// the backward calls vss::layer_norm_backward of the same device. The gradient reaching the
// forward's out_dtype result (bf16 under autocast) is read as it is, dx comes back in x's dtype.
// Double backward is not supported.
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
using LayerNormBackwardFn = std::tuple<at::Tensor, at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&,
                                                                           const at::Tensor&, double, bool);

class LayerNormFunction : public torch::autograd::Function<LayerNormFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
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

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    static const auto op = c10::Dispatcher::singleton()
                               .findSchemaOrThrow("vss::layer_norm_backward", "")
                               .typed<LayerNormBackwardFn>();
    const at::Tensor none;
    if (!grads[0].defined()) return {none, none, none, none, none, none};
    const variable_list saved = ctx->get_saved_variables();
    auto [dx, dweight, dbias] = op.call(grads[0], saved[0], saved[1], ctx->saved_data["eps"].toDouble(),
                                        ctx->saved_data["channel_first"].toBool());
    return {dx, dweight, dbias.to(ctx->saved_data["bias_dtype"].toScalarType()), none, none, none};
  }
};

at::Tensor layer_norm_autograd(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                               double eps, bool channel_first, std::optional<at::ScalarType> out_dtype) {
  return LayerNormFunction::apply(x, weight, bias, eps, channel_first, out_dtype);
}

}  // namespace

TORCH_LIBRARY_IMPL(vss, Autograd, m) { m.impl("layer_norm", &layer_norm_autograd); }

}  // namespace vss
