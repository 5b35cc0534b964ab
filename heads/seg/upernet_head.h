#pragma once
// mmseg's UPerHead (UPerNet decoder, specs/heads.md §2), as VMamba's ADE20K models use it:
// PPM on the coarsest map (adaptive average pools 1, 2, 3, 6 -> ConvModule 1x1 -> resize,
// concatenated with the map -> `bottleneck` 3x3), `lateral_convs` 1x1 on the other maps,
// top-down addition of the resized coarser level, `fpn_convs` 3x3, every level resized to
// the finest and concatenated -> `fpn_bottleneck` 3x3 -> Dropout2d -> `conv_seg`.
// Parameter names are mmseg's (`psp_modules.0.1.conv.weight`, `lateral_convs.0.bn.bias`,
// `fpn_bottleneck.conv.weight`, `conv_seg.weight`, ...).
#include "heads/seg/conv_module.h"
#include "heads/seg/decode_head.h"

namespace vss {
class Config;
}

namespace vss::seg {

struct UPerHeadOptions {
  std::vector<int64_t> in_channels;  // the backbone's feature channels, finest first
  int64_t channels = 512;
  std::vector<int64_t> pool_scales{1, 2, 3, 6};
  double dropout = 0.1;
  int64_t num_classes = 150;
};

class UPerHeadImpl : public DecodeHead {
 public:
  explicit UPerHeadImpl(UPerHeadOptions options);
  at::Tensor forward(const std::vector<at::Tensor>& features) override;
  int64_t output_stride() const override { return 4; }

 private:
  at::Tensor psp_forward(const at::Tensor& x);

  UPerHeadOptions options_;
  std::vector<ConvModule> psp_convs_;  // psp_modules.{i}.1 (.0 is the parameterless pool)
  ConvModule bottleneck_{nullptr}, fpn_bottleneck_{nullptr};
  std::vector<ConvModule> lateral_convs_, fpn_convs_;
};

// `decode_head:` keys: channels, pool_scales, dropout.
std::shared_ptr<DecodeHead> make_upernet_head(const Config& node, const std::vector<int64_t>& in_channels,
                                              int64_t num_classes);

}  // namespace vss::seg
