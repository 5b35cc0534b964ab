#pragma once
// What a task head needs from a backbone: multi-scale feature maps (NCHW, finest first)
// with known channels and strides. Backbones are built from YAML by `type:`
// (backbones/backbone_registry.h).
#include <torch/nn/module.h>

#include <vector>

namespace vss {

class Backbone : public torch::nn::Module {
 public:
  // images [B, C, H, W] -> one map per output stage, NCHW.
  virtual std::vector<at::Tensor> forward_features(const at::Tensor& images) = 0;
  virtual std::vector<int64_t> feature_channels() const = 0;
  virtual std::vector<int64_t> feature_strides() const = 0;
};

}  // namespace vss
