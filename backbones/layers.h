#pragma once
// The small layers VMamba is built from, with the official parameter names
// (weight / bias, and BatchNorm's running statistics), all working on channel-last maps
// [B, H, W, C] except Conv, which takes NCHW (a channels_last-strided view is fine).
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <utility>

namespace vss {

// y = x·weightᵀ + bias over the last dim: nn.Linear, and the official Linear2d (a 1×1 conv
// storing a Linear-shaped [out, in] weight) on a channel-last map.
class DenseImpl : public torch::nn::Module {
 public:
  DenseImpl(int64_t in_features, int64_t out_features, bool bias);
  at::Tensor forward(const at::Tensor& x);
  // at::gelu(forward(x)) (exact GELU); training on CUDA with a bias, the GELU's backward and the
  // bias gradient in one pass (linear_gelu_summing_bias_grad).
  at::Tensor forward_gelu(const at::Tensor& x);
  void reset_parameters();  // truncated normal std 0.02 (VSSM._init_weights), bias 0
  at::Tensor weight, bias;

 private:
  bool trains_on_cuda(const at::Tensor& x) const;
};
TORCH_MODULE(Dense);

// at::linear(x, weight, bias), differentiable, with the bias gradient summed in float32 by
// vss::column_sum (what Dense trains with on CUDA); in the autocast dtype under autocast.
at::Tensor linear_summing_bias_grad(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);
// at::gelu(at::linear(x, weight, bias)), likewise, the GELU's backward and the bias gradient
// by one vss::gelu_backward_with_bias_grad pass.
at::Tensor linear_gelu_summing_bias_grad(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

// nn.Conv2d (square kernel) on NCHW input; PyTorch's default initialisation.
// float32_under_autocast: run in float32 even inside an autocast region. For the stem and
// downsampling convs, whose outputs go straight into a LayerNorm (bf16 rounding of values
// with a large common offset becomes a large relative error once the mean is subtracted),
// and for SS2D's depthwise conv, whose output is the scan's input. Inference only: training
// on CUDA runs the autocast dtype as PyTorch's autocast would.
class ConvImpl : public torch::nn::Module {
 public:
  ConvImpl(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride, int64_t padding,
           int64_t groups, bool bias, bool float32_under_autocast = false);
  at::Tensor forward(const at::Tensor& x);
  // As forward, but in the autocast dtype even with float32_under_autocast (SS2D's training
  // path, whose scan reads that dtype anyway).
  at::Tensor forward_in_autocast_dtype(const at::Tensor& x);
  // [B, H, W, C] -> [B, H', W', C'] through a channels_last view (no layout copies).
  at::Tensor forward_channel_last(const at::Tensor& x);
  // Whether forward(x) runs in the autocast dtype (always, unless float32_under_autocast and
  // not training on CUDA).
  bool runs_in_autocast_dtype(const at::Tensor& x) const;
  // Whether this is a depthwise "same" convolution (groups = channels, stride 1, padding k/2,
  // odd k <= 7) and x a CUDA map of 16 or 32 bits: what forward_depthwise takes.
  bool depthwise_op_takes(const at::Tensor& x) const;
  // vss::depthwise_conv2d (kernels/depthwise_conv.h, with its own backward) in x's dtype with
  // float32 weights, SiLU fused when `silu`: ATen's depthwise backward kernels are slow, and
  // no faster in bf16 than in float32.
  at::Tensor forward_depthwise(const at::Tensor& x, bool silu);
  at::Tensor weight, bias;

 private:
  int64_t stride_, padding_, groups_;
  bool float32_;
};
TORCH_MODULE(Conv);

// norm_layer: "ln" / "ln2d" = LayerNorm over channels (eps 1e-5), "bn" = BatchNorm2d
// (running_mean, running_var, num_batches_tracked buffers, momentum 0.1).
// On CUDA LayerNorm runs as vss::layer_norm (kernels/layer_norm.h, forward and backward):
// at::layer_norm's block-per-row kernels are slow on rows this short, and read or write float32
// under autocast where bf16 is all the next layer wants.
class ChannelNormImpl : public torch::nn::Module {
 public:
  ChannelNormImpl(const std::string& kind, int64_t channels);
  at::Tensor forward(const at::Tensor& x);  // x [..., C] channel-last; float32 under autocast
  // For a result that only feeds a projection (Dense, Conv), which casts its input to the
  // autocast dtype: on the fast path it comes out in that dtype directly. channel_first:
  // x [B, C, H, W] -> [B, H, W, C] (the transpose is fused into the norm).
  at::Tensor forward_into_projection(const at::Tensor& x, bool channel_first = false);
  // {forward_into_projection(x), skip} for a pre-norm residual unit x + f(norm(x)): build the
  // residual sum on skip (x itself), and on the fast path the norm's backward adds the gradient
  // arriving along it to dx in the same pass (vss::layer_norm_with_skip).
  std::pair<at::Tensor, at::Tensor> forward_into_projection_with_skip(const at::Tensor& x);
  at::Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  bool fast_path(const at::Tensor& x) const;
  bool batch_norm_;
};
TORCH_MODULE(ChannelNorm);

}  // namespace vss
