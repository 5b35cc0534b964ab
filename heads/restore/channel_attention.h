#pragma once
// MambaIR's local-enhancement branch `conv_blk` (CAB) and the RCAN channel attention inside
// it, with the official module indices (specs/heads.md §1):
//   classic: cab.0 3x3 C->C/3, GELU, cab.2 3x3 C/3->C, cab.3 channel attention;
//   light:   cab.0 1x1 C->C/2, cab.1 depthwise 3x3, GELU, cab.3 1x1 C/2->C,
//            cab.4 depthwise 3x3 dilation 2, cab.5 channel attention.
// Channel attention: attention.1 1x1 C->C//30, ReLU, attention.3 1x1 ->C, sigmoid, x·a.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

namespace vss::restore {

class ChannelAttentionImpl : public torch::nn::Module {
 public:
  ChannelAttentionImpl(int64_t channels, int64_t squeeze_factor);
  at::Tensor forward(const at::Tensor& x);  // NCHW
  torch::nn::Sequential attention{nullptr};
};
TORCH_MODULE(ChannelAttention);

class ChannelAttentionBlockImpl : public torch::nn::Module {
 public:
  ChannelAttentionBlockImpl(int64_t channels, bool light);
  at::Tensor forward(const at::Tensor& x);  // NCHW
  torch::nn::Sequential cab{nullptr};
};
TORCH_MODULE(ChannelAttentionBlock);

}  // namespace vss::restore
