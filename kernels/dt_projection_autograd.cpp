// Autograd for vss::dt_projection: the forward redispatches below autograd to the device
// kernel and saves x and weight; the backward is two batched products in dout's dtype (the
// autocast dtype in training, as autocast runs the matmul this op replaces): dx = weightᵀ ·
// dout, dweight = Σ_b dout · xᵀ, each cast to its input's dtype; `add`'s gradient is dout.
// Double backward is not supported.
#include "kernels/dt_projection.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>
#include <torch/library.h>

namespace vss {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class DtProjectionFunction : public torch::autograd::Function<DtProjectionFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const std::optional<at::Tensor>& add) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    ctx->save_for_backward({x, weight});
    ctx->saved_data["has_add"] = add && add->defined();
    return dt_projection(x, weight, add);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor& g = grads[0];  // [B, K, D, L]
    if (!g.defined()) return {at::Tensor(), at::Tensor(), at::Tensor()};
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &weight = saved[1];
    const at::Tensor w = weight.to(g.scalar_type());
    at::Tensor dx, dweight;
    if (ctx->needs_input_grad(0)) dx = at::matmul(w.transpose(1, 2), g).to(x.scalar_type());
    if (ctx->needs_input_grad(1)) dweight = dt_projection_weight_grad(g, x, weight.scalar_type());
    // add has x's dtype (checked): so has its gradient.
    const bool has_add = ctx->saved_data["has_add"].toBool();
    const at::Tensor dadd = has_add && ctx->needs_input_grad(2) ? g.to(x.scalar_type()) : at::Tensor();
    return {dx, dweight, dadd};
  }
};

at::Tensor dt_projection_autograd(const at::Tensor& x, const at::Tensor& weight, const std::optional<at::Tensor>& add) {
  return DtProjectionFunction::apply(x, weight, add);
}

}  // namespace

TORCH_LIBRARY_IMPL(vss, Autograd, m) { m.impl("dt_projection", &dt_projection_autograd); }

}  // namespace vss
