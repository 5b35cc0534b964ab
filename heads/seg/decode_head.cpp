#include "heads/seg/decode_head.h"

#include "core/config.h"
#include "core/error.h"

#include <torch/torch.h>

namespace vss::seg {

void DecodeHead::register_cls_seg(int64_t channels, int64_t num_classes, double dropout) {
  dropout_ = dropout;
  conv_seg_ = register_module("conv_seg", Conv(channels, num_classes, 1, 1, 0, 1, /*bias=*/true));
  torch::NoGradGuard no_grad;
  conv_seg_->weight.normal_(0.0, 0.01);
  conv_seg_->bias.zero_();
}

at::Tensor DecodeHead::cls_seg(const at::Tensor& x) {
  namespace F = torch::nn::functional;
  const at::Tensor dropped = dropout_ > 0 ? F::dropout2d(x, F::Dropout2dFuncOptions().p(dropout_).training(is_training())) : x;
  return conv_seg_->forward(dropped);
}

double read_dropout(const Config& node, double fallback) {
  const double p = node.get_or<double>("dropout", fallback);
  if (p < 0 || p >= 1) node["dropout"].fail("must be in [0, 1), got " + std::to_string(p));
  return p;
}

void check_features(const std::string& head, const std::vector<at::Tensor>& features,
                    const std::vector<int64_t>& channels) {
  bool ok = features.size() == channels.size();
  for (size_t i = 0; ok && i < features.size(); ++i)
    ok = features[i].dim() == 4 && features[i].size(1) == channels[i];
  if (ok) return;
  std::string got;
  for (const auto& f : features) got += (got.empty() ? "" : ", ") + shape_to_string(f.sizes().vec());
  std::string want;
  for (auto c : channels) want += (want.empty() ? "" : ", ") + shape_to_string({-1, c, -1, -1});
  throw Error(head + ": expected feature maps " + want + ", got " + (got.empty() ? "none" : got));
}

}  // namespace vss::seg
