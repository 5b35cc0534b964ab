#include "backbones/layers.h"

#include "kernels/channel_bias.h"
#include "kernels/column_sum.h"
#include "kernels/depthwise_conv.h"
#include "kernels/gelu_backward.h"
#include "kernels/layer_norm.h"

#include <ATen/autocast_mode.h>

#include <torch/torch.h>

#include <cmath>
#include <utility>

namespace vss {

DenseImpl::DenseImpl(int64_t in_features, int64_t out_features, bool with_bias) {
  weight = register_parameter("weight", torch::empty({out_features, in_features}));
  if (with_bias) bias = register_parameter("bias", torch::empty({out_features}));
  reset_parameters();
}

void DenseImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  // timm's trunc_normal_(std=.02) cuts at ±2 (absolute), i.e. ±100 std: a plain normal.
  weight.normal_(0.0, 0.02);
  if (bias.defined()) bias.zero_();
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The dtype x's products run in: autocast's where autocast is on for x's device, x's otherwise.
at::ScalarType product_dtype(const at::Tensor& x) {
  const c10::DeviceType device = x.device().type();
  return at::autocast::is_autocast_enabled(device) ? at::autocast::get_autocast_dtype(device) : x.scalar_type();
}

// x and weight in the dtype the product runs in: autocast's where autocast is on (as at::linear
// runs there), x's otherwise. Saves the dtypes the gradients go back in. Called before autocast
// is excluded (which would hide whether it is on).
std::pair<at::Tensor, at::Tensor> linear_operands(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                                                  const at::Tensor& bias) {
  const at::ScalarType t = product_dtype(x);
  ctx->saved_data["x_dtype"] = x.scalar_type();
  ctx->saved_data["weight_dtype"] = weight.scalar_type();
  ctx->saved_data["bias_dtype"] = bias.scalar_type();
  return {x.to(t), weight.to(t)};
}

// {dx, dweight, dbias} of the product xt·wtᵀ + bias given g, its output's gradient in the
// product's dtype, and dbias already summed (float32).
variable_list linear_grads(AutogradContext* ctx, const at::Tensor& g, const at::Tensor& xt, const at::Tensor& wt,
                           const at::Tensor& dbias) {
  at::Tensor dx, dweight;
  if (ctx->needs_input_grad(0)) dx = at::matmul(g, wt).to(ctx->saved_data["x_dtype"].toScalarType());
  if (ctx->needs_input_grad(1))
    dweight = at::mm(g.reshape({-1, g.size(-1)}).t(), xt.reshape({-1, xt.size(-1)}))
                  .to(ctx->saved_data["weight_dtype"].toScalarType());
  return {dx, dweight,
          ctx->needs_input_grad(2) ? dbias.to(ctx->saved_data["bias_dtype"].toScalarType()) : at::Tensor()};
}

// at::linear's backward except for the bias gradient, summed by vss::column_sum straight into
// float32 rather than by ATen's 16-bit reduction.
class LinearFunction : public torch::autograd::Function<LinearFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias) {
    const auto [xt, wt] = linear_operands(ctx, x, weight, bias);
    c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
    ctx->save_for_backward({xt, wt});
    return at::linear(xt, wt, bias.to(xt.scalar_type()));
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor g = grads[0].to(saved[1].scalar_type());
    const at::Tensor dbias = ctx->needs_input_grad(2) ? column_sum(g.reshape({-1, g.size(-1)})) : at::Tensor();
    return linear_grads(ctx, g, saved[0], saved[1], dbias);
  }
};

// The same product followed by the exact GELU; saves the pre-activation h as at::gelu would.
class LinearGeluFunction : public torch::autograd::Function<LinearGeluFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias) {
    const auto [xt, wt] = linear_operands(ctx, x, weight, bias);
    c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
    const at::Tensor h = at::linear(xt, wt, bias.to(xt.scalar_type()));
    ctx->save_for_backward({xt, wt, h});
    return at::gelu(h);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list saved = ctx->get_saved_variables();
    const auto [dh, dbias] = gelu_backward_with_bias_grad(grads[0].to(saved[2].scalar_type()), saved[2]);
    return linear_grads(ctx, dh, saved[0], saved[1], dbias);
  }
};

}  // namespace

at::Tensor linear_summing_bias_grad(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  return LinearFunction::apply(x, weight, bias);
}

at::Tensor linear_gelu_summing_bias_grad(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  return LinearGeluFunction::apply(x, weight, bias);
}

bool DenseImpl::trains_on_cuda(const at::Tensor& x) const {
  return bias.defined() && x.is_cuda() && at::GradMode::is_enabled() &&
         (weight.requires_grad() || bias.requires_grad());
}

at::Tensor DenseImpl::forward(const at::Tensor& x) {
  // Training on CUDA: the bias gradient by vss::column_sum (ATen's bf16 column sums ran at
  // 0.8-1.8 TB/s, 2.8 ms of a VMamba-T b128 step).
  if (trains_on_cuda(x)) return linear_summing_bias_grad(x, weight, bias);
  return at::linear(x, weight, bias);
}

at::Tensor DenseImpl::forward_gelu(const at::Tensor& x) {
  if (trains_on_cuda(x)) return linear_gelu_summing_bias_grad(x, weight, bias);
  return at::gelu(forward(x));
}

ConvImpl::ConvImpl(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride,
                   int64_t padding, int64_t groups, bool with_bias, bool float32_under_autocast)
    : stride_(stride), padding_(padding), groups_(groups), float32_(float32_under_autocast) {
  weight = register_parameter("weight", torch::empty({out_channels, in_channels / groups, kernel, kernel}));
  if (with_bias) bias = register_parameter("bias", torch::empty({out_channels}));
  // nn.Conv2d.reset_parameters: kaiming_uniform(a=√5) = U(±1/√fan_in) for weight and bias.
  torch::NoGradGuard no_grad;
  const double bound = 1.0 / std::sqrt(static_cast<double>(weight[0].numel()));
  weight.uniform_(-bound, bound);
  if (bias.defined()) bias.uniform_(-bound, bound);
}

bool ConvImpl::runs_in_autocast_dtype(const at::Tensor& x) const {
  // Training on CUDA takes the autocast dtype, as PyTorch's autocast gives the official code's
  // training (the float32 stem and downsampling convs were 2.4 ms of a VMamba-T step); the
  // float32 rule is for inference parity. CPU autocast keeps float32 (faster there).
  return !float32_ || (x.is_cuda() && weight.requires_grad() && at::GradMode::is_enabled());
}

at::Tensor ConvImpl::forward(const at::Tensor& x) {
  if (runs_in_autocast_dtype(x)) return forward_in_autocast_dtype(x);
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
  return at::conv2d(x.to(weight.scalar_type()), weight, bias, stride_, padding_, 1, groups_);
}

at::Tensor ConvImpl::forward_in_autocast_dtype(const at::Tensor& x) {
  return at::conv2d(x, weight, bias, stride_, padding_, 1, groups_);
}

bool ConvImpl::depthwise_op_takes(const at::Tensor& x) const {
  const int64_t k = weight.size(2);
  return groups_ == weight.size(0) && weight.size(1) == 1 && stride_ == 1 && k % 2 == 1 && k <= 7 &&
         padding_ == k / 2 && x.is_cuda() && x.scalar_type() != at::kDouble;
}

at::Tensor ConvImpl::forward_depthwise(const at::Tensor& x, bool silu) {
  std::optional<at::Tensor> b;
  if (bias.defined()) b = bias;
  return depthwise_conv2d(x, weight, b, silu);
}

at::Tensor ConvImpl::forward_channel_last(const at::Tensor& x) {
  // conv2d keeps the channels_last format of its input, so permuting back is a free view. On
  // CUDA the input is made channel-last in memory first (a copy only for the stem's image, a
  // permuted NCHW tensor): cuDNN's kernels on NCHW bf16 input were slower, converted layouts
  // inside, and their NCHW result needed a permute copy here and in the backward.
  const at::Tensor nhwc = x.is_cuda() ? x.contiguous() : x;
  if (!nhwc.is_cuda() || !runs_in_autocast_dtype(nhwc) || !at::autocast::is_autocast_enabled(at::kCUDA))
    return forward(nhwc.permute({0, 3, 1, 2})).permute({0, 2, 3, 1}).contiguous();
  // Training in the autocast dtype on CUDA. cuDNN's 16-bit tensor-core kernels want input
  // channels in multiples of 8: on the image's 3 it ran a direct kernel (0.49 ms at VMamba-T
  // b128 224²) and padded inside for the weight gradient, so the image and the weight get zero
  // channels (they add nothing to any sum). The bias goes on by vss::add_channel_bias (ATen's
  // broadcast add and bias-gradient sum on a channels_last result are slow).
  at::Tensor in = nhwc.to(at::autocast::get_autocast_dtype(at::kCUDA)), w = weight;
  if (const int64_t pad = groups_ == 1 ? (8 - in.size(3) % 8) % 8 : 0; pad > 0) {
    in = at::constant_pad_nd(in, {0, pad});
    w = at::constant_pad_nd(weight, {0, 0, 0, 0, 0, pad});
  }
  const at::Tensor y =
      at::conv2d(in.permute({0, 3, 1, 2}), w, {}, stride_, padding_, 1, groups_).permute({0, 2, 3, 1}).contiguous();
  return bias.defined() ? add_channel_bias(y, bias) : y;
}

ChannelNormImpl::ChannelNormImpl(const std::string& kind, int64_t channels) : batch_norm_(kind == "bn") {
  weight = register_parameter("weight", torch::ones({channels}));
  bias = register_parameter("bias", torch::zeros({channels}));
  if (batch_norm_) {
    running_mean = register_buffer("running_mean", torch::zeros({channels}));
    running_var = register_buffer("running_var", torch::ones({channels}));
    num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kLong));
  }
}

namespace {
constexpr double kLayerNormEps = 1e-5;
}  // namespace

bool ChannelNormImpl::fast_path(const at::Tensor& x) const {
  return !batch_norm_ && x.is_cuda() && x.scalar_type() != at::kDouble;
}

at::Tensor ChannelNormImpl::forward_into_projection(const at::Tensor& x, bool channel_first) {
  if (!fast_path(x)) return forward(channel_first ? x.permute({0, 2, 3, 1}) : x);
  return layer_norm(x, weight, bias, kLayerNormEps, channel_first, product_dtype(x));
}

std::pair<at::Tensor, at::Tensor> ChannelNormImpl::forward_into_projection_with_skip(const at::Tensor& x) {
  if (!fast_path(x)) return {forward_into_projection(x), x};
  auto [normed, skip] = layer_norm_with_skip(x, weight, bias, kLayerNormEps, product_dtype(x));
  return {normed, skip};
}

at::Tensor ChannelNormImpl::forward(const at::Tensor& x) {
  if (fast_path(x)) {
    // at::layer_norm is a float32 op under autocast: the same result dtype.
    const bool autocast = at::autocast::is_autocast_enabled(x.device().type());
    return layer_norm(x, weight, bias, kLayerNormEps, false, autocast ? at::kFloat : x.scalar_type());
  }
  if (!batch_norm_) return at::layer_norm(x, {weight.size(0)}, weight, bias, kLayerNormEps);
  if (is_training()) {
    torch::NoGradGuard no_grad;
    num_batches_tracked.add_(1);
  }
  const auto dims = x.dim();
  // BatchNorm2d wants channels at dim 1: a channels_last view of the same memory.
  auto nchw = x.movedim(dims - 1, 1);
  auto y = at::batch_norm(nchw, weight, bias, running_mean, running_var, is_training(), 0.1, 1e-5, true);
  return y.movedim(1, dims - 1);
}

}  // namespace vss
