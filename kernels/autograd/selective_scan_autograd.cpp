// Autograd for vss::selective_scan: the forward redispatches below autograd to the device
// kernel (vss::selective_scan_checkpointed, whose checkpoints spare the backward a pass), the
// backward calls the vss::selective_scan_backward op of the same device.
// last_state is not differentiable. Double backward is not supported.
#include "kernels/autograd/scan_autograd_saved.h"
#include "kernels/selective_scan.h"

#include <torch/autograd.h>
#include <torch/library.h>
#include <torch/torch.h>

namespace vss {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

using detail::from_saved;
using detail::grad_like;

class SelectiveScanFunction : public torch::autograd::Function<SelectiveScanFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& u, const at::Tensor& delta,
                               const at::Tensor& A, const at::Tensor& B, const at::Tensor& C,
                               const std::optional<at::Tensor>& D,
                               const std::optional<at::Tensor>& delta_bias, bool delta_softplus,
                               bool return_last_state, std::optional<at::ScalarType> out_dtype) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    auto [out, last_state, checkpoints] = selective_scan_checkpointed(
        u, delta, A, B, C, D, delta_bias, delta_softplus, return_last_state, out_dtype);
    ctx->save_for_backward({u, delta, A, B, C, D.value_or(at::Tensor()),
                            delta_bias.value_or(at::Tensor()), checkpoints});
    ctx->saved_data["delta_softplus"] = delta_softplus;
    // An autograd Function cannot return an undefined tensor: last_state is only an output
    // when asked for.
    if (!last_state.defined()) return {out};
    ctx->mark_non_differentiable({last_state});
    return {out, last_state};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor &u = saved[0], &delta = saved[1], &A = saved[2], &B = saved[3], &C = saved[4];
    const at::Tensor &D = saved[5], &delta_bias = saved[6], &checkpoints = saved[7];
    const at::Tensor none;
    if (!grads[0].defined()) return {none, none, none, none, none, none, none, none, none, none};
    auto [du, ddelta, dA, dB, dC, dD, ddelta_bias] =
        selective_scan_backward(grads[0], u, delta, A, B, C, from_saved(D), from_saved(delta_bias),
                                ctx->saved_data["delta_softplus"].toBool(), checkpoints);
    return {grad_like(du, u),         grad_like(ddelta, delta), grad_like(dA, A),
            grad_like(dB, B),         grad_like(dC, C),         grad_like(dD, D),
            grad_like(ddelta_bias, delta_bias), none, none, none};
  }
};

std::tuple<at::Tensor, at::Tensor> selective_scan_autograd(
    const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
    const at::Tensor& C, const std::optional<at::Tensor>& D,
    const std::optional<at::Tensor>& delta_bias, bool delta_softplus, bool return_last_state,
    std::optional<at::ScalarType> out_dtype) {
  variable_list outs = SelectiveScanFunction::apply(u, delta, A, B, C, D, delta_bias,
                                                    delta_softplus, return_last_state, out_dtype);
  return {outs[0], outs.size() > 1 ? outs[1] : at::Tensor()};
}

}  // namespace

TORCH_LIBRARY_IMPL(vss, Autograd, m) {
  m.impl("selective_scan", &selective_scan_autograd);
}

}  // namespace vss
