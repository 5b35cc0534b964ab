#include "heads/seg/fcn_head.h"

#include "core/config.h"
#include "core/error.h"

#include <torch/torch.h>

namespace vss::seg {

FCNHeadImpl::FCNHeadImpl(FCNHeadOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  auto list = register_module("convs", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.num_convs; ++i) {
    convs_.push_back(ConvModule(i == 0 ? o.in_channels : o.channels, o.channels, 3));
    list->push_back(convs_.back());
  }
  register_cls_seg(o.num_convs > 0 ? o.channels : o.in_channels, o.num_classes, o.dropout);
}

at::Tensor FCNHeadImpl::forward(const std::vector<at::Tensor>& features) {
  const auto index = static_cast<size_t>(options_.in_index);
  if (index >= features.size() || features[index].dim() != 4 || features[index].size(1) != options_.in_channels)
    throw Error("FCNHead: expected feature map " + std::to_string(index) + " of shape " +
                shape_to_string({-1, options_.in_channels, -1, -1}) + ", got " +
                (index < features.size() ? shape_to_string(features[index].sizes().vec())
                                         : std::to_string(features.size()) + " maps"));
  at::Tensor x = features[index];
  for (auto& conv : convs_) x = conv->forward(x);
  return cls_seg(x);
}

std::shared_ptr<DecodeHead> make_fcn_head(const Config& node, const std::vector<int64_t>& in_channels,
                                          int64_t num_classes) {
  node.check_keys({"in_index", "channels", "num_convs", "dropout"});
  FCNHeadOptions o;
  o.num_classes = num_classes;
  o.in_index = node.get_or<int64_t>("in_index", o.in_index);
  if (o.in_index < 0 || o.in_index >= static_cast<int64_t>(in_channels.size()))
    node["in_index"].fail("must name one of the backbone's " + std::to_string(in_channels.size()) + " feature maps");
  o.in_channels = in_channels[static_cast<size_t>(o.in_index)];
  o.channels = node.get_int_in_or("channels", o.channels, 1, kMaxChannels);
  o.num_convs = node.get_int_in_or("num_convs", o.num_convs, 0, kMaxDepth);
  o.dropout = read_dropout(node, o.dropout);
  return std::make_shared<FCNHeadImpl>(o);
}

}  // namespace vss::seg
