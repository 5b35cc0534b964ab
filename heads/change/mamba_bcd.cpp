#include "heads/change/mamba_bcd.h"

#include "core/config.h"
#include "core/error.h"
#include "heads/change/change_metrics.h"
#include "heads/change/lovasz_softmax.h"

#include <torch/torch.h>

#include <numeric>

namespace vss::change {

MambaBCDImpl::MambaBCDImpl(const VSSMOptions& encoder_options, int64_t channels, double drop_path) {
  encoder_ = register_module("encoder", std::make_shared<VSSM>(encoder_options, /*dense_backbone=*/true));
  decoder_ = register_module("decoder", ChangeDecoder(encoder_->feature_channels(), encoder_options, channels, drop_path));
  main_clf_ = register_module("main_clf", Conv(channels, 2, 1, 1, 0, 1, true));
}

at::Tensor MambaBCDImpl::forward(const at::Tensor& pre, const at::Tensor& post) {
  if (pre.sizes() != post.sizes())
    throw Error("MambaBCD: the two dates differ in shape: " + shape_to_string(pre.sizes().vec()) + " vs " +
                shape_to_string(post.sizes().vec()));
  std::vector<at::Tensor> pre_maps, post_maps;
  if (encoder_->options().norm_layer == "bn") {
    // BatchNorm statistics per date, as the reference's two encoder calls.
    pre_maps = encoder_->forward_features(pre);
    post_maps = encoder_->forward_features(post);
  } else {
    // Norms act per sample: one encoder pass over both dates is the same computation.
    for (const auto& both : encoder_->forward_features(torch::cat({pre, post}))) {
      const auto halves = both.chunk(2);
      pre_maps.push_back(halves[0]);
      post_maps.push_back(halves[1]);
    }
  }
  const auto logits = main_clf_->forward(decoder_->forward(pre_maps, post_maps));
  return at::upsample_bilinear2d(logits, {pre.size(2), pre.size(3)}, false);
}

MambaBCD make_mamba_bcd(const Config& node) {
  node.check_keys({"type", "encoder", "decoder"});
  const auto type = node.get<std::string>("type");
  if (type != "mamba_bcd") node["type"].fail("unknown change model '" + type + "' (known: mamba_bcd)");
  const Config enc = node["encoder"];
  if (enc.get<std::string>("type") != "vssm_backbone")
    enc["type"].fail("the change encoder must be a dense backbone (type: vssm_backbone)");
  const VSSMOptions options = vssm_options_from_config(enc);
  std::vector<int64_t> all_stages(options.depths.size());
  std::iota(all_stages.begin(), all_stages.end(), 0);
  if (options.out_indices != all_stages)
    enc["out_indices"].fail("the change decoder needs every stage's map (leave out_indices out)");
  int64_t channels = 128;
  double drop_path = 0.1;
  if (node.has("decoder")) {
    const Config dec = node["decoder"];
    dec.check_keys({"channels", "drop_path"});
    channels = dec.get_int_in_or("channels", channels, 1, kMaxChannels);
    drop_path = dec.get_or<double>("drop_path", drop_path);
    if (drop_path < 0 || drop_path >= 1) dec["drop_path"].fail("must be in [0, 1)");
  }
  return MambaBCD(options, channels, drop_path);
}

at::Tensor normalize_input(const at::Tensor& rgb) {
  if (rgb.dim() < 3 || rgb.size(-3) != 3) throw_shape_error("change model input", {3, -1, -1}, rgb.sizes().vec());
  const auto mean = torch::tensor({123.675f, 116.28f, 103.53f}).view({3, 1, 1});
  const auto std = torch::tensor({58.395f, 57.12f, 57.375f}).view({3, 1, 1});
  return (rgb.to(torch::kFloat) - mean.to(rgb.device())) / std.to(rgb.device());
}

at::Tensor mamba_bcd_loss(const at::Tensor& logits, const at::Tensor& labels) {
  const auto ce = torch::nn::functional::cross_entropy(
      logits, labels, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnoreIndex));
  return ce + 0.75 * lovasz_softmax(torch::softmax(logits, 1), labels, kIgnoreIndex);
}

}  // namespace vss::change
