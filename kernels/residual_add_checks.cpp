#include "kernels/residual_add_checks.h"
#include "kernels/float_dtypes.h"

#include <ATen/ATen.h>
#include <c10/core/ScalarType.h>
#include <c10/util/Exception.h>

#include <vector>

namespace vss {

namespace {

bool has(const std::optional<at::Tensor>& t) { return t.has_value() && t->defined(); }

void check_scale(const char* op, const std::optional<at::Tensor>& scale, const at::Tensor& like) {
  if (!has(scale)) return;
  TORCH_CHECK(like.dim() >= 1, "vss::", op, ": a sample_scale needs a batch dimension, got a scalar tensor");
  TORCH_CHECK(scale->dim() == 1 && scale->size(0) == like.size(0), "vss::", op,
              ": sample_scale must have shape [", like.size(0), "] (one factor a sample), got ", scale->sizes());
  TORCH_CHECK(scale->scalar_type() == at::kFloat || scale->scalar_type() == at::kDouble, "vss::", op,
              ": sample_scale must be float32 or float64, got ", scale->scalar_type());
  TORCH_CHECK(scale->device() == like.device(), "vss::", op, ": sample_scale must be on ", like.device(),
              ", got ", scale->device());
}

// sample_scale as a factor that broadcasts over a sample: [B, 1, ...].
at::Tensor per_sample(const at::Tensor& scale, const at::Tensor& like, at::ScalarType dtype) {
  std::vector<int64_t> shape(static_cast<size_t>(like.dim()), 1);
  shape[0] = like.size(0);
  return scale.to(dtype).view(shape);
}

at::ScalarType compute_dtype(at::ScalarType t) { return t == at::kDouble ? at::kDouble : at::kFloat; }

}  // namespace

at::ScalarType check_residual_add_args(const at::Tensor& x, const at::Tensor& branch,
                                       const std::optional<at::Tensor>& sample_scale) {
  TORCH_CHECK(x.defined() && branch.defined(), "vss::residual_add: x and branch must be defined tensors");
  TORCH_CHECK(is_float_dtype(x.scalar_type()) && is_float_dtype(branch.scalar_type()),
              "vss::residual_add: x and branch must be float32, float16, bfloat16 or float64, got ",
              x.scalar_type(), " and ", branch.scalar_type());
  TORCH_CHECK(x.sizes() == branch.sizes(), "vss::residual_add: branch must have x's shape ", x.sizes(), ", got ",
              branch.sizes());
  TORCH_CHECK(x.device() == branch.device(), "vss::residual_add: branch must be on x's device ", x.device(),
              ", got ", branch.device());
  check_scale("residual_add", sample_scale, x);
  return c10::promoteTypes(x.scalar_type(), branch.scalar_type());
}

void check_residual_add_backward_args(const at::Tensor& dout, const std::optional<at::Tensor>& sample_scale,
                                      at::ScalarType branch_dtype) {
  TORCH_CHECK(dout.defined() && is_float_dtype(dout.scalar_type()),
              "vss::residual_add_backward: dout must be a float32, float16, bfloat16 or float64 tensor");
  TORCH_CHECK(is_float_dtype(branch_dtype), "vss::residual_add_backward: branch_dtype must be a float dtype, got ",
              branch_dtype);
  check_scale("residual_add_backward", sample_scale, dout);
}

at::Tensor residual_add_formula(const at::Tensor& x, const at::Tensor& branch,
                                const std::optional<at::Tensor>& sample_scale) {
  const at::ScalarType out = check_residual_add_args(x, branch, sample_scale);
  const at::ScalarType acc = compute_dtype(out);
  at::Tensor b = branch.to(acc);
  if (has(sample_scale)) b = b * per_sample(*sample_scale, b, acc);
  return (x.to(acc) + b).to(out);
}

at::Tensor residual_add_backward_formula(const at::Tensor& dout, const std::optional<at::Tensor>& sample_scale,
                                         at::ScalarType branch_dtype) {
  check_residual_add_backward_args(dout, sample_scale, branch_dtype);
  if (!has(sample_scale)) return dout.to(branch_dtype);
  const at::ScalarType acc = compute_dtype(dout.scalar_type());
  return (dout.to(acc) * per_sample(*sample_scale, dout, acc)).to(branch_dtype);
}

}  // namespace vss
