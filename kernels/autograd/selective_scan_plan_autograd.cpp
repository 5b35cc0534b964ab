// Autograd for vss::selective_scan_plan: the forward redispatches below autograd to the device
// kernel, the backward calls vss::selective_scan_plan_backward of the same device. index and
// merge_weight are not differentiable. Double backward is not supported.
#include "kernels/autograd/scan_autograd_saved.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/library.h>
#include <torch/torch.h>

namespace vss {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using OptTensor = std::optional<at::Tensor>;

using PlanFn = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                          const at::Tensor&, const at::Tensor&, const OptTensor&, const OptTensor&,
                          const at::Tensor&, const OptTensor&, bool, std::optional<at::ScalarType>);
using PlanBackwardFn =
    std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>(
        const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
        const at::Tensor&, const at::Tensor&, const OptTensor&, const OptTensor&,
        const at::Tensor&, const OptTensor&, bool);

using detail::from_saved;
using detail::grad_like;

class SelectiveScanPlanFunction : public torch::autograd::Function<SelectiveScanPlanFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& u, const at::Tensor& delta,
                            const at::Tensor& A, const at::Tensor& B, const at::Tensor& C,
                            const OptTensor& D, const OptTensor& delta_bias,
                            const at::Tensor& index, const OptTensor& merge_weight,
                            bool delta_softplus, std::optional<at::ScalarType> out_dtype) {
    static const auto op = c10::Dispatcher::singleton()
                               .findSchemaOrThrow("vss::selective_scan_plan", "")
                               .typed<PlanFn>();
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    at::Tensor y = op.call(u, delta, A, B, C, D, delta_bias, index, merge_weight, delta_softplus,
                           out_dtype);
    ctx->save_for_backward({u, delta, A, B, C, D.value_or(at::Tensor()),
                            delta_bias.value_or(at::Tensor()), index,
                            merge_weight.value_or(at::Tensor())});
    ctx->saved_data["delta_softplus"] = delta_softplus;
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    static const auto op = c10::Dispatcher::singleton()
                               .findSchemaOrThrow("vss::selective_scan_plan_backward", "")
                               .typed<PlanBackwardFn>();
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor &u = saved[0], &delta = saved[1], &A = saved[2], &B = saved[3], &C = saved[4];
    const at::Tensor &D = saved[5], &delta_bias = saved[6], &index = saved[7];
    const at::Tensor& merge_weight = saved[8];
    const at::Tensor none;
    variable_list out(11);
    if (!grads[0].defined()) return out;
    auto [du, ddelta, dA, dB, dC, dD, ddelta_bias] =
        op.call(grads[0], u, delta, A, B, C, from_saved(D), from_saved(delta_bias), index,
                from_saved(merge_weight), ctx->saved_data["delta_softplus"].toBool());
    out[0] = grad_like(du, u);
    out[1] = grad_like(ddelta, delta);
    out[2] = grad_like(dA, A);
    out[3] = grad_like(dB, B);
    out[4] = grad_like(dC, C);
    out[5] = grad_like(dD, D);
    out[6] = grad_like(ddelta_bias, delta_bias);
    return out;
  }
};

at::Tensor selective_scan_plan_autograd(const at::Tensor& u, const at::Tensor& delta,
                                        const at::Tensor& A, const at::Tensor& B,
                                        const at::Tensor& C, const OptTensor& D,
                                        const OptTensor& delta_bias, const at::Tensor& index,
                                        const OptTensor& merge_weight, bool delta_softplus,
                                        std::optional<at::ScalarType> out_dtype) {
  return SelectiveScanPlanFunction::apply(u, delta, A, B, C, D, delta_bias, index, merge_weight,
                                          delta_softplus, out_dtype);
}

}  // namespace

TORCH_LIBRARY_IMPL(vss, Autograd, m) {
  m.impl("selective_scan_plan", &selective_scan_plan_autograd);
}

}  // namespace vss
