// CPU kernel of vss::gelu_backward_with_bias_grad (kernels/gelu_backward.h), the reference the
// CUDA kernel is held to: gelu'(h) = Φ(h) + h·φ(h) in float64, dh rounded once to h's dtype,
// and the bias gradient summed from that rounded dh in float64.
#include "kernels/gelu_backward_checks.h"

#include <ATen/ATen.h>
#include <torch/library.h>

#include <cmath>

namespace vss {
namespace {

std::tuple<at::Tensor, at::Tensor> gelu_backward_with_bias_grad_cpu(const at::Tensor& dy, const at::Tensor& h) {
  check_gelu_backward_args(dy, h);
  const at::Tensor x = h.to(at::kDouble);
  const at::Tensor cdf = 0.5 * (1.0 + at::erf(x * M_SQRT1_2));
  const at::Tensor pdf = at::exp(-0.5 * x * x) * (0.5 * M_2_SQRTPI * M_SQRT1_2);
  const at::Tensor dh = (dy.to(at::kDouble) * (cdf + x * pdf)).to(h.scalar_type());
  const at::Tensor sum = dh.to(at::kDouble).reshape({-1, h.size(-1)}).sum(0);
  return {dh, sum.to(h.scalar_type() == at::kDouble ? at::kDouble : at::kFloat)};
}

}  // namespace

TORCH_LIBRARY_IMPL(vss, CPU, m) { m.impl("gelu_backward_with_bias_grad", &gelu_backward_with_bias_grad_cpu); }

}  // namespace vss
