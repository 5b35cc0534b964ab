#include "kernels/depthwise_conv_checks.h"
#include "kernels/float_dtypes.h"

#include <c10/util/Exception.h>

namespace vss {

int64_t check_depthwise_conv_args(const char* op, const at::Tensor& x, const at::Tensor& weight,
                                  const std::optional<at::Tensor>& bias, bool channel_first) {
  TORCH_CHECK(x.defined() && weight.defined(), op, ": x and weight must be defined tensors");
  TORCH_CHECK(x.dim() == 4 && x.numel() > 0, op, ": x must have shape ",
              channel_first ? "[B, C, H, W]" : "[B, H, W, C]", " (non-empty), got ", x.sizes());
  const at::ScalarType t = x.scalar_type();
  TORCH_CHECK(is_float_dtype(t), op,
              ": x must be float32, float16, bfloat16 or float64, got ", t);
  const int64_t C = x.size(channel_first ? 1 : 3);
  TORCH_CHECK(weight.dim() == 4 && weight.size(0) == C && weight.size(1) == 1 &&
                  weight.size(2) == weight.size(3) && weight.size(2) % 2 == 1,
              op, ": weight must have shape [", C, ", 1, k, k] with odd k (x's C = ", C,
              " channels), got ", weight.sizes());
  const at::ScalarType wt = weight.scalar_type();
  TORCH_CHECK(wt == t || (wt == at::kFloat && t != at::kDouble), op,
              ": weight must have x's dtype or float32, got ", wt, " for x of ", t);
  TORCH_CHECK(weight.device() == x.device(), op, ": weight must be on x's device ", x.device(),
              ", got ", weight.device());
  if (bias.has_value() && bias->defined()) {
    TORCH_CHECK(bias->dim() == 1 && bias->size(0) == C, op, ": bias must have shape [", C,
                "], got ", bias->sizes());
    TORCH_CHECK(bias->scalar_type() == wt, op, ": bias must have weight's dtype ", wt, ", got ",
                bias->scalar_type());
    TORCH_CHECK(bias->device() == x.device(), op, ": bias must be on x's device ", x.device(),
                ", got ", bias->device());
  }
  return weight.size(2);
}

int64_t check_depthwise_conv_backward_args(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& weight,
                                           const std::optional<at::Tensor>& bias) {
  constexpr const char* op = "vss::depthwise_conv2d_backward";
  const int64_t k = check_depthwise_conv_args(op, x, weight, bias, /*channel_first=*/true);
  TORCH_CHECK(dy.defined() && dy.sizes() == x.sizes(), op, ": dy must have x's shape ", x.sizes(), ", got ",
              dy.defined() ? dy.sizes() : at::IntArrayRef{});
  TORCH_CHECK(at::isFloatingType(dy.scalar_type()), op, ": dy must be floating, got ", dy.scalar_type());
  TORCH_CHECK(dy.device() == x.device(), op, ": dy must be on x's device ", x.device(), ", got ", dy.device());
  return k;
}

}  // namespace vss
