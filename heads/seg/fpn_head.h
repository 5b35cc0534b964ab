#pragma once
// A light FPN decoder in the Semantic FPN style (vsskit's definition, for small models):
// `lateral_convs` 1x1 on every backbone map -> top-down addition of the resized coarser
// level -> `fpn_convs` 3x3 -> every level resized to the finest (1/4) and summed ->
// Dropout2d -> `conv_seg`. All convs are ConvModules (conv + BN + ReLU) of `channels`.
// Cheaper than UPerHead: no PPM and a sum instead of a 4x-wide concatenation.
#include "heads/seg/conv_module.h"
#include "heads/seg/decode_head.h"

namespace vss {
class Config;
}

namespace vss::seg {

struct FPNHeadOptions {
  std::vector<int64_t> in_channels;
  int64_t channels = 128;
  double dropout = 0.1;
  int64_t num_classes = 150;
};

class FPNHeadImpl : public DecodeHead {
 public:
  explicit FPNHeadImpl(FPNHeadOptions options);
  at::Tensor forward(const std::vector<at::Tensor>& features) override;
  int64_t output_stride() const override { return 4; }

 private:
  FPNHeadOptions options_;
  std::vector<ConvModule> lateral_convs_, fpn_convs_;
};

// `decode_head:` keys: channels, dropout.
std::shared_ptr<DecodeHead> make_fpn_head(const Config& node, const std::vector<int64_t>& in_channels,
                                          int64_t num_classes);

}  // namespace vss::seg
