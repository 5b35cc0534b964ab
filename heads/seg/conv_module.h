#pragma once
// mmcv's ConvModule as the segmentation heads use it: conv (no bias) -> BatchNorm -> ReLU,
// parameter names `conv.weight`, `bn.weight`, `bn.bias`, `bn.running_mean`, ... so mmseg
// checkpoints load by name. Initialised as mmcv does: conv kaiming-normal (fan_out, relu),
// BN weight 1, bias 0.
#include "backbones/layers.h"

#include <torch/nn/modules/batchnorm.h>

namespace vss::seg {

class ConvModuleImpl : public torch::nn::Module {
 public:
  ConvModuleImpl(int64_t in_channels, int64_t out_channels, int64_t kernel);  // padding kernel / 2
  at::Tensor forward(const at::Tensor& x);                                      // NCHW

  Conv conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(ConvModule);

// Bilinear resize of an NCHW map (align_corners false, mmseg's `resize`); a no-op at the
// same size.
at::Tensor resize_bilinear(const at::Tensor& x, int64_t height, int64_t width);

}  // namespace vss::seg
