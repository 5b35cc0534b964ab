#pragma once
// The building blocks MambaCD's decoders share (ChangeDecoder.py, SemanticDecoder.py), with
// the reference's submodule keys so converted weights load. All act on channel-last maps
// [B, H, W, C] (the decoders' working layout).
#include "backbones/layers.h"
#include "backbones/vss_block.h"
#include "backbones/vssm_options.h"

#include <torch/nn/module.h>

namespace vss::change {

// nn.Sequential(Conv2d 1×1 with bias, Permute, VSSBlock, Permute): keys 0 and 2.
class STBlockImpl : public torch::nn::Module {
 public:
  STBlockImpl(int64_t in_channels, int64_t channels, double drop_path, const VSSMOptions& o);
  at::Tensor forward(const at::Tensor& x);

 private:
  Conv conv_{nullptr};
  VSSBlock block_{nullptr};
};

// nn.Sequential(Permute, VSSBlock, Permute): key 1 (the semantic decoder's upper stages).
class PermutedVSSBlockImpl : public torch::nn::Module {
 public:
  PermutedVSSBlockImpl(int64_t channels, double drop_path, const VSSMOptions& o);
  at::Tensor forward(const at::Tensor& x);

 private:
  VSSBlock block_{nullptr};
};

// nn.Sequential(Conv2d 1×1 with bias, BatchNorm2d, ReLU): keys 0 and 1 (the change decoder's
// fuse layers, the semantic decoder's trans layers).
class ConvBnReluImpl : public torch::nn::Module {
 public:
  ConvBnReluImpl(int64_t in_channels, int64_t channels);
  at::Tensor forward(const at::Tensor& x);

 private:
  Conv conv_{nullptr};
  ChannelNorm bn_{nullptr};
};

// torchvision-style basic block without downsampling: conv1, bn1, conv2, bn2 (convs 3×3, no
// bias), identity skip, ReLU after the sum.
class ResBlockImpl : public torch::nn::Module {
 public:
  explicit ResBlockImpl(int64_t channels);
  at::Tensor forward(const at::Tensor& x);

 private:
  Conv conv1_{nullptr}, conv2_{nullptr};
  ChannelNorm bn1_{nullptr}, bn2_{nullptr};
};

// Bilinear (align_corners false, as F.interpolate's default) resize of a channel-last map to
// the spatial size of `like` (channel-last too).
at::Tensor resize_like(const at::Tensor& x, const at::Tensor& like);

}  // namespace vss::change
