#include "kernels/dt_projection_checks.h"
#include "kernels/float_dtypes.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

namespace vss {

void check_dt_projection_args(const at::Tensor& x, const at::Tensor& weight) {
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
}

at::Tensor dt_projection_formula(const at::Tensor& x, const at::Tensor& weight) {
  check_dt_projection_args(x, weight);
  const at::ScalarType acc = x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  return at::matmul(weight.to(acc), x.to(acc)).to(x.scalar_type());
}

}  // namespace vss
