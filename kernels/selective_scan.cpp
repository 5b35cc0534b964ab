// The C++ entry points of kernels/selective_scan.h: each calls its dispatcher op, so C++ and
// Python (torch.ops.vss.*) reach the same device kernels and the same autograd.
#include "kernels/selective_scan.h"

#include <ATen/core/dispatch/Dispatcher.h>

namespace vss {

namespace {

// selective_scan and selective_scan_checkpointed take the same arguments; R: their results.
template <typename R>
using ScanOpSignature = R(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
                          const at::Tensor&, const std::optional<at::Tensor>&, const std::optional<at::Tensor>&,
                          bool, bool, std::optional<at::ScalarType>);

// Both plan ops share one signature.
using PlanOpSignature = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                   const at::Tensor&, const at::Tensor&,
                                   const std::optional<at::Tensor>&,
                                   const std::optional<at::Tensor>&, const at::Tensor&,
                                   const std::optional<at::Tensor>&, bool,
                                   std::optional<at::ScalarType>);

c10::TypedOperatorHandle<PlanOpSignature> plan_op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<PlanOpSignature>();
}

}  // namespace

std::tuple<at::Tensor, at::Tensor> selective_scan(
    const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
    const at::Tensor& C, const std::optional<at::Tensor>& D,
    const std::optional<at::Tensor>& delta_bias, bool delta_softplus, bool return_last_state,
    std::optional<at::ScalarType> out_dtype) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("vss::selective_scan", "")
                             .typed<ScanOpSignature<std::tuple<at::Tensor, at::Tensor>>>();
  return op.call(u, delta, A, B, C, D, delta_bias, delta_softplus, return_last_state, out_dtype);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> selective_scan_checkpointed(
    const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
    const at::Tensor& C, const std::optional<at::Tensor>& D,
    const std::optional<at::Tensor>& delta_bias, bool delta_softplus, bool return_last_state,
    std::optional<at::ScalarType> out_dtype) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("vss::selective_scan_checkpointed", "")
                             .typed<ScanOpSignature<std::tuple<at::Tensor, at::Tensor, at::Tensor>>>();
  return op.call(u, delta, A, B, C, D, delta_bias, delta_softplus, return_last_state, out_dtype);
}

SelectiveScanGrads selective_scan_backward(const at::Tensor& dout, const at::Tensor& u, const at::Tensor& delta,
                                           const at::Tensor& A, const at::Tensor& B, const at::Tensor& C,
                                           const std::optional<at::Tensor>& D,
                                           const std::optional<at::Tensor>& delta_bias, bool delta_softplus,
                                           const std::optional<at::Tensor>& checkpoints) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("vss::selective_scan_backward", "")
                             .typed<SelectiveScanGrads(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                                       const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                                       const std::optional<at::Tensor>&,
                                                       const std::optional<at::Tensor>&, bool,
                                                       const std::optional<at::Tensor>&)>();
  return op.call(dout, u, delta, A, B, C, D, delta_bias, delta_softplus, checkpoints);
}


at::Tensor selective_scan_plan(
    const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
    const at::Tensor& C, const std::optional<at::Tensor>& D,
    const std::optional<at::Tensor>& delta_bias, const at::Tensor& index,
    const std::optional<at::Tensor>& merge_weight, bool delta_softplus,
    std::optional<at::ScalarType> out_dtype) {
  static const auto op = plan_op("vss::selective_scan_plan");
  return op.call(u, delta, A, B, C, D, delta_bias, index, merge_weight, delta_softplus,
                 out_dtype);
}

at::Tensor selective_scan_plan_channels_last(
    const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
    const at::Tensor& C, const std::optional<at::Tensor>& D,
    const std::optional<at::Tensor>& delta_bias, const at::Tensor& index,
    const std::optional<at::Tensor>& merge_weight, bool delta_softplus,
    std::optional<at::ScalarType> out_dtype) {
  static const auto op = plan_op("vss::selective_scan_plan_channels_last");
  return op.call(u, delta, A, B, C, D, delta_bias, index, merge_weight, delta_softplus,
                 out_dtype);
}

}  // namespace vss
