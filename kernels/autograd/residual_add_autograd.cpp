// Autograd for vss::residual_add: x's gradient is dout itself (in x's dtype), the branch's is
// vss::residual_add_backward of the same device; only sample_scale is saved. Double backward
// is not supported.
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/library.h>

namespace vss {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

using AddFn = at::Tensor(const at::Tensor&, const at::Tensor&, const std::optional<at::Tensor>&);
using AddBackwardFn = at::Tensor(const at::Tensor&, const std::optional<at::Tensor>&, at::ScalarType);

class ResidualAddFunction : public torch::autograd::Function<ResidualAddFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& branch,
                            const std::optional<at::Tensor>& sample_scale) {
    static const auto op =
        c10::Dispatcher::singleton().findSchemaOrThrow("vss::residual_add", "").typed<AddFn>();
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    ctx->save_for_backward({sample_scale.has_value() ? *sample_scale : at::Tensor()});
    ctx->saved_data["x_dtype"] = x.scalar_type();
    ctx->saved_data["branch_dtype"] = branch.scalar_type();
    return op.call(x, branch, sample_scale);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    static const auto op = c10::Dispatcher::singleton()
                               .findSchemaOrThrow("vss::residual_add_backward", "")
                               .typed<AddBackwardFn>();
    const at::Tensor none;
    const at::Tensor& dout = grads[0];
    if (!dout.defined()) return {none, none, none};
    std::optional<at::Tensor> scale;
    if (const at::Tensor s = ctx->get_saved_variables()[0]; s.defined()) scale = s;
    const auto x_dtype = ctx->saved_data["x_dtype"].toScalarType();
    const auto branch_dtype = ctx->saved_data["branch_dtype"].toScalarType();
    return {dout.to(x_dtype), op.call(dout, scale, branch_dtype), none};
  }
};

at::Tensor residual_add_autograd(const at::Tensor& x, const at::Tensor& branch,
                                 const std::optional<at::Tensor>& sample_scale) {
  return ResidualAddFunction::apply(x, branch, sample_scale);
}

}  // namespace

TORCH_LIBRARY_IMPL(vss, Autograd, m) { m.impl("residual_add", &residual_add_autograd); }

}  // namespace vss
