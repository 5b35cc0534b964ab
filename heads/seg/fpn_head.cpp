#include "heads/seg/fpn_head.h"

#include "core/config.h"
#include "heads/seg/feature_pyramid.h"

#include <torch/torch.h>

namespace vss::seg {

FPNHeadImpl::FPNHeadImpl(FPNHeadOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  lateral_convs_ = register_conv_list(*this, "lateral_convs", o.in_channels, o.channels, 1);
  fpn_convs_ = register_conv_list(*this, "fpn_convs", std::vector<int64_t>(o.in_channels.size(), o.channels),
                                  o.channels, 3);
  register_cls_seg(o.channels, o.num_classes, o.dropout);
}

at::Tensor FPNHeadImpl::forward(const std::vector<at::Tensor>& features) {
  check_features("FPNHead", features, options_.in_channels);
  std::vector<at::Tensor> levels;
  for (size_t i = 0; i < lateral_convs_.size(); ++i) levels.push_back(lateral_convs_[i]->forward(features[i]));
  add_top_down(levels);
  for (size_t i = 0; i < fpn_convs_.size(); ++i) levels[i] = fpn_convs_[i]->forward(levels[i]);
  resize_to_finest(levels);
  at::Tensor sum = levels[0];
  for (size_t i = 1; i < levels.size(); ++i) sum = sum + levels[i];
  return cls_seg(sum);
}

std::shared_ptr<DecodeHead> make_fpn_head(const Config& node, const std::vector<int64_t>& in_channels,
                                          int64_t num_classes) {
  node.check_keys({"channels", "dropout"});
  FPNHeadOptions o;
  o.in_channels = in_channels;
  o.num_classes = num_classes;
  o.channels = node.get_int_in_or("channels", o.channels, 1, kMaxChannels);
  o.dropout = read_dropout(node, o.dropout);
  return std::make_shared<FPNHeadImpl>(o);
}

}  // namespace vss::seg
