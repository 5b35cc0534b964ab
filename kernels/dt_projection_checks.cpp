#include "kernels/dt_projection_checks.h"
#include "kernels/float_dtypes.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

namespace vss {

void check_dt_projection_args(const at::Tensor& x, const at::Tensor& weight, const std::optional<at::Tensor>& add) {
  TORCH_CHECK(x.defined() && weight.defined(), "vss::dt_projection: x and weight must be defined tensors");
  TORCH_CHECK(x.dim() == 4, "vss::dt_projection: x must have shape [B, K, R, L], got ", x.sizes());
  TORCH_CHECK(weight.dim() == 3 && weight.size(0) == x.size(1) && weight.size(2) == x.size(2),
              "vss::dt_projection: weight must have shape [", x.size(1), ", D, ", x.size(2),
              "] (x's directions and rank), got ", weight.sizes());
  for (const at::Tensor* t : {&x, &weight}) {
    const at::ScalarType s = t->scalar_type();
    TORCH_CHECK(is_float_dtype(s),
                "vss::dt_projection: ", t == &x ? "x" : "weight",
                " must be float32, float16, bfloat16 or float64, got ", s);
  }
  TORCH_CHECK(weight.device() == x.device(), "vss::dt_projection: weight must be on x's device ", x.device(),
              ", got ", weight.device());
  if (!add || !add->defined()) return;
  TORCH_CHECK(add->sizes() == at::IntArrayRef({x.size(0), x.size(1), weight.size(1), x.size(3)}),
              "vss::dt_projection: add must have the output's shape [", x.size(0), ", ", x.size(1), ", ",
              weight.size(1), ", ", x.size(3), "], got ", add->sizes());
  TORCH_CHECK(add->scalar_type() == x.scalar_type(), "vss::dt_projection: add must have x's dtype ",
              x.scalar_type(), ", got ", add->scalar_type());
  TORCH_CHECK(add->device() == x.device(), "vss::dt_projection: add must be on x's device ", x.device(), ", got ",
              add->device());
}

at::Tensor dt_projection_formula(const at::Tensor& x, const at::Tensor& weight, const std::optional<at::Tensor>& add) {
  check_dt_projection_args(x, weight, add);
  const at::ScalarType acc = x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  at::Tensor out = at::matmul(weight.to(acc), x.to(acc));
  if (add && add->defined()) out.add_(add->to(acc));
  return out.to(x.scalar_type());
}

}  // namespace vss
