#include "heads/seg/upernet_head.h"

#include "core/config.h"
#include "core/error.h"
#include "heads/seg/feature_pyramid.h"

#include <torch/torch.h>

namespace vss::seg {

UPerHeadImpl::UPerHeadImpl(UPerHeadOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  const int64_t top = o.in_channels.back();
  auto psp = register_module("psp_modules", torch::nn::ModuleList());
  for (size_t i = 0; i < o.pool_scales.size(); ++i) {
    auto branch = std::make_shared<torch::nn::Module>();
    psp_convs_.push_back(branch->register_module("1", ConvModule(top, o.channels, 1)));
    psp->push_back(branch);
  }
  bottleneck_ = register_module(
      "bottleneck", ConvModule(top + static_cast<int64_t>(o.pool_scales.size()) * o.channels, o.channels, 3));
  const std::vector<int64_t> lower(o.in_channels.begin(), o.in_channels.end() - 1);
  lateral_convs_ = register_conv_list(*this, "lateral_convs", lower, o.channels, 1);
  fpn_convs_ = register_conv_list(*this, "fpn_convs", std::vector<int64_t>(lower.size(), o.channels), o.channels, 3);
  fpn_bottleneck_ = register_module(
      "fpn_bottleneck", ConvModule(static_cast<int64_t>(o.in_channels.size()) * o.channels, o.channels, 3));
  register_cls_seg(o.channels, o.num_classes, o.dropout);
}

at::Tensor UPerHeadImpl::psp_forward(const at::Tensor& x) {
  std::vector<at::Tensor> outs{x};
  for (size_t i = 0; i < psp_convs_.size(); ++i) {
    const at::Tensor pooled = torch::adaptive_avg_pool2d(x, {options_.pool_scales[i], options_.pool_scales[i]});
    outs.push_back(resize_bilinear(psp_convs_[i]->forward(pooled), x.size(2), x.size(3)));
  }
  return bottleneck_->forward(torch::cat(outs, 1));
}

at::Tensor UPerHeadImpl::forward(const std::vector<at::Tensor>& features) {
  check_features("UPerHead", features, options_.in_channels);
  std::vector<at::Tensor> levels;
  for (size_t i = 0; i < lateral_convs_.size(); ++i) levels.push_back(lateral_convs_[i]->forward(features[i]));
  levels.push_back(psp_forward(features.back()));
  add_top_down(levels);
  for (size_t i = 0; i < fpn_convs_.size(); ++i) levels[i] = fpn_convs_[i]->forward(levels[i]);
  resize_to_finest(levels);
  return cls_seg(fpn_bottleneck_->forward(torch::cat(levels, 1)));
}

std::shared_ptr<DecodeHead> make_upernet_head(const Config& node, const std::vector<int64_t>& in_channels,
                                              int64_t num_classes) {
  node.check_keys({"channels", "pool_scales", "dropout"});
  UPerHeadOptions o;
  o.in_channels = in_channels;
  o.num_classes = num_classes;
  o.channels = node.get_int_in_or("channels", o.channels, 1, kMaxChannels);
  o.pool_scales = node.get_or<std::vector<int64_t>>("pool_scales", o.pool_scales);
  o.dropout = read_dropout(node, o.dropout);
  for (auto s : o.pool_scales)
    if (s < 1) node["pool_scales"].fail("entries must be >= 1, got " + std::to_string(s));
  if (in_channels.size() < 2) throw Error("UPerHead: needs at least 2 backbone feature maps");
  return std::make_shared<UPerHeadImpl>(o);
}

}  // namespace vss::seg
