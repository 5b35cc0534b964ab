#pragma once
// A CenterNet-style anchor-free detector (Zhou et al., "Objects as Points"; FairMOT's and
// CenterTrack's detection branch) on a VSS backbone: `backbone.*` (Backbone_VSSM, so official
// VMamba weights load under that prefix) -> `neck.*`, an FPN that brings the four stage maps to
// stride 4 (1x1 lateral convs, top-down sum of the bilinearly upsampled coarser level, then a
// 3x3 conv + BN + ReLU) -> three heads named as CenterNet's (`hm`, `wh`, `reg`), each
// 3x3 conv (head_conv) + ReLU + 1x1 conv: class heatmap logits (bias -2.19 = -log((1-0.1)/0.1),
// a prior of 0.1), box width/height and centre offset in stride-4 pixels.
//
// YAML (`model:`):
//   type: centernet
//   num_classes: 1
//   backbone: {type: vssm_backbone, ...}          # configs/backbones keys
//   neck: {channels: 64}
//   head: {head_conv: 64}
//   data_preprocessor: {mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375]}
//   test: {top_k: 100, score_threshold: 0.05}      # decoding (heads/detect/box_decoder.h)
#include "backbones/backbone.h"
#include "heads/detect/box_decoder.h"

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <vector>

namespace vss {
class Config;
}

namespace vss::detect {

struct CenterNetOutput {
  at::Tensor heatmap;  // [B, num_classes, H/4, W/4] logits
  at::Tensor wh;       // [B, 2, H/4, W/4]
  at::Tensor reg;      // [B, 2, H/4, W/4]
};

struct CenterNetOptions {
  int64_t num_classes = 1;
  int64_t neck_channels = 64;
  int64_t head_conv = 64;
  int64_t in_channels = 3;
  std::vector<double> mean{123.675, 116.28, 103.53}, std{58.395, 57.12, 57.375};
  DecodeOptions test;
};

class CenterNetImpl : public torch::nn::Module {
 public:
  CenterNetImpl(std::shared_ptr<Backbone> backbone, CenterNetOptions options);

  // Normalised [B, C, H, W] with H, W multiples of 32 -> maps at stride 4.
  CenterNetOutput forward(const at::Tensor& images);
  // Pixel values 0..255 (uint8 or float) [B, C, H, W] -> float32 (x - mean) / std.
  at::Tensor normalize(const at::Tensor& images) const;
  // Pixel images [B, C, H, W] (0..255; any size: padded at the bottom/right to a multiple of
  // 32 with the mean colour) -> boxes in input pixels, clipped to the image; boxes left less
  // than 1 px wide or high are dropped. Runs under the caller's grad / autocast mode.
  std::vector<std::vector<Detection>> detect(const at::Tensor& images);

  const CenterNetOptions& options() const { return options_; }
  // Decoding settings (top-K, score threshold) for later detect() calls.
  void set_test_options(const DecodeOptions& test) { options_.test = test; }
  Backbone& backbone() { return *backbone_; }

 private:
  std::shared_ptr<Backbone> backbone_;
  CenterNetOptions options_;
  torch::nn::ModuleList lateral_{nullptr};
  torch::nn::Conv2d smooth_{nullptr};
  torch::nn::BatchNorm2d smooth_bn_{nullptr};
  torch::nn::Sequential hm_{nullptr}, wh_{nullptr}, reg_{nullptr};
};
TORCH_MODULE(CenterNet);

CenterNet make_centernet(const Config& model_node);

// The channels of the padded input a backbone of stride 32 needs: the next multiple of 32.
int64_t padded_size(int64_t size);

}  // namespace vss::detect
