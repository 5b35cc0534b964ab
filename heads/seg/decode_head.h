#pragma once
// What a segmentation decoder is to the Segmentor: backbone maps in, class logits out.
// Heads that classify a feature map end, as mmseg's BaseDecodeHead, with `cls_seg`:
// Dropout2d then `conv_seg` (1x1 conv with bias, initialised normal(0, 0.01)).
#include "backbones/layers.h"

#include <vector>

namespace vss {
class Config;
}

namespace vss::seg {

class DecodeHead : public torch::nn::Module {
 public:
  // features: the backbone's maps, finest first, NCHW -> logits [B, num_classes, h, w].
  virtual at::Tensor forward(const std::vector<at::Tensor>& features) = 0;
  // 4: logits at 1/4 of the input, resized bilinearly to it (mmseg); 1: logits at full
  // resolution, aligned at the top-left corner (cropped when the stem rounded sizes up).
  virtual int64_t output_stride() const = 0;

 protected:
  void register_cls_seg(int64_t channels, int64_t num_classes, double dropout);
  at::Tensor cls_seg(const at::Tensor& x);

 private:
  Conv conv_seg_{nullptr};
  double dropout_ = 0;
};

// `dropout` of a head's YAML node (default `fallback`), checked to be in [0, 1).
double read_dropout(const Config& node, double fallback);

// Checks a `features` list against the channels a head was built for; the error names the
// head and both shapes.
void check_features(const std::string& head, const std::vector<at::Tensor>& features,
                    const std::vector<int64_t>& channels);

}  // namespace vss::seg
