#include "heads/change/mamba_bcd.h"

#include "core/config.h"
#include "core/error.h"
#include "heads/change/change_metrics.h"
#include "heads/change/lovasz_softmax.h"

#include <torch/torch.h>

namespace vss::change {

MambaBCDImpl::MambaBCDImpl(const VSSMOptions& encoder_options, int64_t channels, double drop_path) {
  encoder_ = register_module("encoder", std::make_shared<VSSM>(encoder_options, /*dense_backbone=*/true));
  decoder_ = register_module("decoder", ChangeDecoder(encoder_->feature_channels(), encoder_options, channels, drop_path));
  main_clf_ = register_module("main_clf", Conv(channels, 2, 1, 1, 0, 1, true));
}

at::Tensor MambaBCDImpl::forward(const at::Tensor& pre, const at::Tensor& post) {
  const DateFeatures f = encode_dates(*encoder_, pre, post, "MambaBCD");
  const auto logits = main_clf_->forward(decoder_->forward(f.pre, f.post));
  return at::upsample_bilinear2d(logits, {pre.size(2), pre.size(3)}, false);
}

MambaBCD make_mamba_bcd(const Config& node) {
  node.check_keys({"type", "encoder", "decoder"});
  const auto type = node.get<std::string>("type");
  if (type != "mamba_bcd") node["type"].fail("unknown change model '" + type + "' (known: mamba_bcd)");
  const ChangeModelOptions o = read_change_model_options(node);
  return MambaBCD(o.encoder, o.channels, o.drop_path);
}

at::Tensor mamba_bcd_loss(const at::Tensor& logits, const at::Tensor& labels) {
  const auto ce = torch::nn::functional::cross_entropy(
      logits, labels, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnoreIndex));
  return ce + 0.75 * lovasz_softmax(torch::softmax(logits, 1), labels, kIgnoreIndex);
}

}  // namespace vss::change
