// Autograd for vss::dt_projection: the forward redispatches below autograd to the device
// kernel and saves x and weight; the backward is two batched products in dout's dtype (the
// autocast dtype in training, as autocast runs the matmul this op replaces): dx = weightᵀ ·
// dout, dweight = Σ_b dout · xᵀ, each cast to its input's dtype. Double backward is not supported.
#include "kernels/dt_projection.h"

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/library.h>

namespace vss {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class DtProjectionFunction : public torch::autograd::Function<DtProjectionFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight) {
    static const auto op = c10::Dispatcher::singleton()
                               .findSchemaOrThrow("vss::dt_projection", "")
                               .typed<at::Tensor(const at::Tensor&, const at::Tensor&)>();
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    ctx->save_for_backward({x, weight});
    return op.call(x, weight);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor& g = grads[0];  // [B, K, D, L]
    if (!g.defined()) return {at::Tensor(), at::Tensor()};
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &weight = saved[1];
    const at::Tensor w = weight.to(g.scalar_type());
    at::Tensor dx, dweight;
    if (ctx->needs_input_grad(0)) dx = at::matmul(w.transpose(1, 2), g).to(x.scalar_type());
    if (ctx->needs_input_grad(1)) dweight = dt_projection_weight_grad(g, x, weight.scalar_type());
    return {dx, dweight};
  }
};

at::Tensor dt_projection_autograd(const at::Tensor& x, const at::Tensor& weight) {
  return DtProjectionFunction::apply(x, weight);
}

}  // namespace

TORCH_LIBRARY_IMPL(vss, Autograd, m) { m.impl("dt_projection", &dt_projection_autograd); }

}  // namespace vss
