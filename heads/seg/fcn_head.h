#pragma once
// mmseg's FCNHead as UPerNet's auxiliary head (training only, specs/heads.md §2): on the
// backbone map `in_index`, `num_convs` ConvModules 3x3 (`convs.{i}`) -> Dropout2d ->
// `conv_seg`. (concat_input false, dilation 1: VMamba's settings.)
#include "heads/seg/conv_module.h"
#include "heads/seg/decode_head.h"

namespace vss {
class Config;
}

namespace vss::seg {

struct FCNHeadOptions {
  int64_t in_index = 2;
  int64_t in_channels = 384;  // channels of the backbone map in_index
  int64_t channels = 256;
  int64_t num_convs = 1;      // 0: conv_seg straight on the map
  double dropout = 0.1;
  int64_t num_classes = 150;
};

class FCNHeadImpl : public DecodeHead {
 public:
  explicit FCNHeadImpl(FCNHeadOptions options);
  at::Tensor forward(const std::vector<at::Tensor>& features) override;
  int64_t output_stride() const override { return 4; }  // resized like the main logits

 private:
  FCNHeadOptions options_;
  std::vector<ConvModule> convs_;
};

// `auxiliary_head:` keys: in_index, channels, num_convs, dropout.
std::shared_ptr<DecodeHead> make_fcn_head(const Config& node, const std::vector<int64_t>& in_channels,
                                          int64_t num_classes);

}  // namespace vss::seg
