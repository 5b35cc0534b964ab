#include "kernels/layer_norm_checks.h"
#include "kernels/float_dtypes.h"

#include <c10/util/Exception.h>

#include <algorithm>

namespace vss {

namespace {

void check_param(const char* arg, const at::Tensor& p, const at::Tensor& x, int64_t channels) {
  TORCH_CHECK(p.defined(), "vss::layer_norm: ", arg, " is an undefined tensor");
  TORCH_CHECK(p.dim() == 1 && p.size(0) == channels, "vss::layer_norm: ", arg,
              " must have shape [", channels, "] (x's channels), got ", p.sizes());
  TORCH_CHECK(is_float_dtype(p.scalar_type()), "vss::layer_norm: ", arg,
              " must be a floating tensor, got ", p.scalar_type());
  TORCH_CHECK(p.device() == x.device(), "vss::layer_norm: ", arg, " must be on x's device ",
              x.device(), ", got ", p.device());
}

}  // namespace

namespace {

// x and weight, common to the forward and the backward.
LayerNormSizes check_x_and_weight(const at::Tensor& x, const at::Tensor& weight, double eps,
                                  bool channel_first) {
  TORCH_CHECK(x.defined(), "vss::layer_norm: x is an undefined tensor");
  TORCH_CHECK(is_float_dtype(x.scalar_type()),
              "vss::layer_norm: x must be float32, float16, bfloat16 or float64, got ",
              x.scalar_type());
  TORCH_CHECK(x.dim() >= (channel_first ? 2 : 1), "vss::layer_norm: x must have ",
              channel_first ? "shape [B, C, *spatial] (channel_first)" : "at least one dimension",
              ", got ", x.sizes());
  TORCH_CHECK(eps >= 0.0, "vss::layer_norm: eps must be >= 0, got ", eps);
  LayerNormSizes s;
  s.channels = channel_first ? x.size(1) : x.size(-1);
  TORCH_CHECK(s.channels >= 1, "vss::layer_norm: x has no channels: ", x.sizes());
  check_param("weight", weight, x, s.channels);
  s.rows = x.numel() / s.channels;
  s.outer = channel_first ? x.size(0) : s.rows;
  s.inner = channel_first ? s.rows / std::max<int64_t>(s.outer, 1) : 1;
  return s;
}

}  // namespace

LayerNormSizes check_layer_norm_args(const at::Tensor& x, const at::Tensor& weight,
                                     const at::Tensor& bias, double eps, bool channel_first,
                                     std::optional<at::ScalarType> out_dtype) {
  const LayerNormSizes s = check_x_and_weight(x, weight, eps, channel_first);
  check_param("bias", bias, x, s.channels);
  TORCH_CHECK(!out_dtype || is_float_dtype(*out_dtype),
              "vss::layer_norm: out_dtype must be float32, float16, bfloat16 or float64, got ",
              *out_dtype);
  return s;
}

LayerNormSizes check_layer_norm_backward_args(const at::Tensor& dy, const at::Tensor& x,
                                              const at::Tensor& weight, double eps,
                                              bool channel_first,
                                              const std::optional<at::Tensor>& residual_grad) {
  const LayerNormSizes s = check_x_and_weight(x, weight, eps, channel_first);
  TORCH_CHECK(dy.defined(), "vss::layer_norm_backward: dy is an undefined tensor");
  TORCH_CHECK(is_float_dtype(dy.scalar_type()),
              "vss::layer_norm_backward: dy must be float32, float16, bfloat16 or float64, got ",
              dy.scalar_type());
  TORCH_CHECK(dy.sizes() == at::IntArrayRef(layer_norm_out_shape(x, channel_first)),
              "vss::layer_norm_backward: dy must have the forward result's shape ",
              at::IntArrayRef(layer_norm_out_shape(x, channel_first)), ", got ", dy.sizes());
  TORCH_CHECK(dy.device() == x.device(), "vss::layer_norm_backward: dy must be on x's device ",
              x.device(), ", got ", dy.device());
  if (residual_grad && residual_grad->defined()) {
    const at::Tensor& r = *residual_grad;
    TORCH_CHECK(is_float_dtype(r.scalar_type()),
                "vss::layer_norm_backward: residual_grad must be float32, float16, bfloat16 or float64, got ",
                r.scalar_type());
    TORCH_CHECK(r.sizes() == x.sizes(), "vss::layer_norm_backward: residual_grad must have x's shape ",
                x.sizes(), ", got ", r.sizes());
    TORCH_CHECK(r.device() == x.device(), "vss::layer_norm_backward: residual_grad must be on x's device ",
                x.device(), ", got ", r.device());
  }
  return s;
}

std::vector<int64_t> layer_norm_out_shape(const at::Tensor& x, bool channel_first) {
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  if (channel_first) {
    shape.erase(shape.begin() + 1);
    shape.push_back(x.size(1));
  }
  return shape;
}

}  // namespace vss
