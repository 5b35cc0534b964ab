#include "heads/seg/segmentor.h"

#include "backbones/backbone_registry.h"
#include "backbones/vssm.h"
#include "core/config.h"
#include "core/error.h"
#include "core/registry.h"
#include "heads/seg/fcn_head.h"
#include "heads/seg/fpn_head.h"
#include "heads/seg/unet_decoder.h"
#include "heads/seg/upernet_head.h"

#include <torch/torch.h>

namespace vss::seg {
namespace {

// Decode heads by the model's `type:`; each factory reads model.decode_head.
using HeadRegistry = Registry<DecodeHead, const Backbone&, int64_t>;

Config head_node(const Config& model) {
  return model.has("decode_head") ? model["decode_head"] : Config::parse("{}", model.key_path() + ".decode_head");
}

const HeadRegistry& head_registry() {
  static const HeadRegistry registry = [] {
    HeadRegistry r("segmentor");
    r.add("upernet", [](const Config& model, const Backbone& backbone, int64_t num_classes) {
      return make_upernet_head(head_node(model), backbone.feature_channels(), num_classes);
    });
    r.add("fpn", [](const Config& model, const Backbone& backbone, int64_t num_classes) {
      return make_fpn_head(head_node(model), backbone.feature_channels(), num_classes);
    });
    r.add("vm_unet", [](const Config& model, const Backbone& backbone, int64_t num_classes) {
      const auto* vssm = dynamic_cast<const VSSM*>(&backbone);
      if (!vssm) model["backbone"]["type"].fail("vm_unet needs a VSSM encoder (vssm_backbone)");
      return make_unet_decoder(head_node(model), vssm->options(), backbone.feature_channels(), num_classes);
    });
    return r;
  }();
  return registry;
}

}  // namespace

SegmentorImpl::SegmentorImpl(std::shared_ptr<Backbone> backbone, std::shared_ptr<DecodeHead> decode_head,
                             std::shared_ptr<DecodeHead> auxiliary_head, int64_t num_classes, int64_t in_channels,
                             std::vector<double> mean, std::vector<double> std)
    : backbone_(register_module("backbone", std::move(backbone))),
      decode_head_(register_module("decode_head", std::move(decode_head))),
      num_classes_(num_classes),
      in_channels_(in_channels),
      mean_(std::move(mean)),
      std_(std::move(std)) {
  if (auxiliary_head) auxiliary_head_ = register_module("auxiliary_head", std::move(auxiliary_head));
}

at::Tensor SegmentorImpl::to_input_size(const at::Tensor& logits, const DecodeHead& head, int64_t H, int64_t W) const {
  if (head.output_stride() == 1) return logits.slice(2, 0, H).slice(3, 0, W);
  return resize_bilinear(logits, H, W);
}

at::Tensor SegmentorImpl::forward(const at::Tensor& images) {
  const auto features = backbone_->forward_features(images);
  return to_input_size(decode_head_->forward(features), *decode_head_, images.size(2), images.size(3));
}

std::pair<at::Tensor, at::Tensor> SegmentorImpl::forward_train(const at::Tensor& images) {
  const auto features = backbone_->forward_features(images);
  const int64_t H = images.size(2), W = images.size(3);
  at::Tensor main = to_input_size(decode_head_->forward(features), *decode_head_, H, W);
  at::Tensor aux;
  if (auxiliary_head_) aux = to_input_size(auxiliary_head_->forward(features), *auxiliary_head_, H, W);
  return {main, aux};
}

at::Tensor SegmentorImpl::normalize(const at::Tensor& images) const {
  if (images.dim() != 4 || (images.size(1) != in_channels_ && images.size(1) != 1 && images.size(1) != 3))
    throw_shape_error("segmentation input", {-1, in_channels_, -1, -1}, images.sizes().vec());
  at::Tensor x = images.to(torch::kFloat32);
  if (x.size(1) != in_channels_) x = in_channels_ == 1 ? x.mean(1, true) : x.expand({-1, in_channels_, -1, -1});
  const auto options = torch::TensorOptions().dtype(torch::kFloat64);
  const at::Tensor mean = torch::tensor(mean_, options).to(x.device(), torch::kFloat32).view({1, -1, 1, 1});
  const at::Tensor std = torch::tensor(std_, options).to(x.device(), torch::kFloat32).view({1, -1, 1, 1});
  return (x - mean) / std;
}

Segmentor make_segmentor(const Config& model) {
  model.check_keys({"type", "num_classes", "backbone", "decode_head", "auxiliary_head", "data_preprocessor"});
  if (!model.has("num_classes")) model.fail("missing required key 'num_classes'");
  const auto num_classes = model.get_int_in_or("num_classes", 0, 2, kMaxChannels);  // binary masks are 2 classes
  const auto& heads = head_registry();
  const auto type = model.get<std::string>("type");
  if (!heads.contains(type)) {  // before building the backbone
    std::string known;
    for (const auto& name : heads.names()) known += (known.empty() ? "" : ", ") + name;
    model["type"].fail("unknown segmentor '" + type + "' (known: " + known + ")");
  }
  std::shared_ptr<Backbone> backbone = make_backbone(model["backbone"]);
  std::shared_ptr<DecodeHead> head = heads.create(model, *backbone, num_classes);
  std::shared_ptr<DecodeHead> aux;
  if (model.has("auxiliary_head")) aux = make_fcn_head(model["auxiliary_head"], backbone->feature_channels(), num_classes);

  const auto* vssm = dynamic_cast<const VSSM*>(backbone.get());
  const int64_t in_channels = vssm ? vssm->options().in_chans : 3;
  std::vector<double> mean{123.675, 116.28, 103.53}, std{58.395, 57.12, 57.375};
  if (model.has("data_preprocessor")) {
    const Config pre = model["data_preprocessor"];
    pre.check_keys({"mean", "std"});
    mean = read_per_channel(pre, "mean", in_channels);
    std = read_per_channel(pre, "std", in_channels);
    for (double s : std)
      if (!(s > 0)) pre["std"].fail("entries must be positive");
  } else if (in_channels != 3) {
    model.fail("needs data_preprocessor: {mean, std} with " + std::to_string(in_channels) +
               " values each (the ImageNet default is for 3 channels)");
  }
  return Segmentor(backbone, head, aux, num_classes, in_channels, mean, std);
}

}  // namespace vss::seg
