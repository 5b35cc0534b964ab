#pragma once
// A segmentation model as mmseg's EncoderDecoder: a backbone (`backbone.*`, the dense
// Backbone_VSSM, so official VMamba weights load under that prefix), a decode head
// (`decode_head.*`) and, for training, an optional auxiliary head (`auxiliary_head.*`).
// Logits come back at the input size: bilinear resize (align_corners false) from the
// head's 1/4 map, or a crop of a full-resolution head's map.
//
// YAML (`model:`):
//   type: upernet | fpn | vm_unet
//   num_classes: 150
//   backbone: {type: vssm_backbone, ...}                 # configs/backbones keys
//   decode_head: {channels: 512, pool_scales: [1, 2, 3, 6], dropout: 0.1}   # upernet
//                {channels: 128, dropout: 0.1}                             # fpn
//                {depths: [2, 2, 2, 1], drop_path_rate: 0.2}               # vm_unet
//   auxiliary_head: {in_index: 2, channels: 256, num_convs: 1, dropout: 0.1}  # optional FCN
//   data_preprocessor: {mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375]}
// data_preprocessor is mmseg's (RGB, 0..255 scale); its default is that ImageNet pair for 3
// input channels and it is required for any other in_chans.
#include "backbones/backbone.h"
#include "heads/seg/decode_head.h"

#include <torch/nn/pimpl.h>

#include <memory>
#include <utility>
#include <vector>

namespace vss {
class Config;
}

namespace vss::seg {

class SegmentorImpl : public torch::nn::Module {
 public:
  SegmentorImpl(std::shared_ptr<Backbone> backbone, std::shared_ptr<DecodeHead> decode_head,
                std::shared_ptr<DecodeHead> auxiliary_head, int64_t num_classes, int64_t in_channels,
                std::vector<double> mean, std::vector<double> std);

  // [B, C, H, W] float normalised -> logits [B, num_classes, H, W].
  at::Tensor forward(const at::Tensor& images);
  // Training: main logits and auxiliary logits (undefined when there is no auxiliary head),
  // both [B, num_classes, H, W].
  std::pair<at::Tensor, at::Tensor> forward_train(const at::Tensor& images);

  int64_t num_classes() const { return num_classes_; }
  int64_t in_channels() const { return in_channels_; }
  bool has_auxiliary_head() const { return auxiliary_head_ != nullptr; }
  Backbone& backbone() { return *backbone_; }

  // Pixel values on the 0..255 scale (uint8 or float) [B, C, H, W] -> float32
  // (x - mean) / std with in_channels() channels. 3-channel input to a 1-channel model is
  // averaged to grey; 1-channel input to a 3-channel model is repeated (VM-UNet does so).
  at::Tensor normalize(const at::Tensor& images) const;
  // The data_preprocessor's mean (0..255 scale): a pixel of this value normalises to 0, which
  // is how batches are padded (mmseg pads after normalising, with 0).
  const std::vector<double>& mean() const { return mean_; }

 private:
  at::Tensor to_input_size(const at::Tensor& logits, const DecodeHead& head, int64_t H, int64_t W) const;

  std::shared_ptr<Backbone> backbone_;
  std::shared_ptr<DecodeHead> decode_head_, auxiliary_head_;
  int64_t num_classes_, in_channels_;
  std::vector<double> mean_, std_;
};
TORCH_MODULE(Segmentor);

Segmentor make_segmentor(const Config& model_node);

}  // namespace vss::seg
