#include "heads/change/mamba_scd.h"

#include "backbones/weights.h"
#include "core/config.h"
#include "core/safetensors.h"
#include "core/error.h"
#include "heads/change/change_metrics.h"
#include "heads/change/lovasz_softmax.h"

#include <torch/torch.h>

#include <algorithm>

namespace vss::change {

MambaSCDImpl::MambaSCDImpl(const ChangeModelOptions& o, int64_t semantic_classes) : semantic_classes_(semantic_classes) {
  encoder_ = register_module("encoder", std::make_shared<VSSM>(o.encoder, /*dense_backbone=*/true));
  const auto dims = encoder_->feature_channels();
  decoder_bcd_ = register_module("decoder_bcd", ChangeDecoder(dims, o.encoder, o.channels, o.drop_path));
  decoder_t1_ = register_module("decoder_T1", SemanticDecoder(dims, o.encoder, o.channels, o.drop_path));
  decoder_t2_ = register_module("decoder_T2", SemanticDecoder(dims, o.encoder, o.channels, o.drop_path));
  main_clf_cd_ = register_module("main_clf_cd", Conv(o.channels, 2, 1, 1, 0, 1, true));
  aux_clf_ = register_module("aux_clf", Conv(o.channels, semantic_classes, 1, 1, 0, 1, true));
}

SemanticChangeLogits MambaSCDImpl::forward(const at::Tensor& pre, const at::Tensor& post) {
  const DateFeatures f = encode_dates(*encoder_, pre, post, "MambaSCD");
  const std::vector<int64_t> size{pre.size(2), pre.size(3)};
  auto resized = [&](const at::Tensor& logits) { return at::upsample_bilinear2d(logits, size, false); };
  return {resized(main_clf_cd_->forward(decoder_bcd_->forward(f.pre, f.post))),
          resized(aux_clf_->forward(decoder_t1_->forward(f.pre))),
          resized(aux_clf_->forward(decoder_t2_->forward(f.post)))};
}

MambaSCD make_mamba_scd(const Config& node) {
  node.check_keys({"type", "encoder", "decoder", "semantic_classes"});
  const auto type = node.get<std::string>("type");
  if (type != "mamba_scd") node["type"].fail("unknown semantic change model '" + type + "' (known: mamba_scd)");
  const int64_t classes = node.get_int_in_or("semantic_classes", 7, 2, 255);
  return MambaSCD(read_change_model_options(node), classes);
}

void load_mamba_scd_weights(MambaSCDImpl& model, const std::filesystem::path& file) {
  const SafetensorsFile weights = read_safetensors(file);
  if (weights.contains("main_clf.weight") && !weights.contains("main_clf_cd.weight")) {
    // The modules of the model that the file has no key for, in the model's order.
    std::vector<std::string> lacking;
    for (const auto& [key, t] : model_state(model)) {
      const std::string module = key.substr(0, key.find('.'));
      if (!weights.contains(key) && std::find(lacking.begin(), lacking.end(), module) == lacking.end())
        lacking.push_back(module);
    }
    std::string list;
    for (const auto& m : lacking) list += (list.empty() ? "" : ", ") + m + ".*";
    throw Error(file.string() + ": a binary change checkpoint (MambaBCD's decoder.*, main_clf.*), not a semantic one: "
                "missing " + list);
  }
  load_state(model, weights.tensors, file.string());
}

at::Tensor mamba_scd_loss(const SemanticChangeLogits& logits, const at::Tensor& change, const at::Tensor& label1,
                          const at::Tensor& label2) {
  namespace F = torch::nn::functional;
  const auto ce = [](const at::Tensor& x, const at::Tensor& y) {
    return F::cross_entropy(x, y, F::CrossEntropyFuncOptions().ignore_index(kIgnoreIndex));
  };
  const auto lovasz = [](const at::Tensor& x, const at::Tensor& y) {
    return lovasz_softmax(torch::softmax(x, 1), y, kIgnoreIndex);
  };
  const auto t1 = label1.masked_fill(label1.eq(0), kIgnoreIndex);
  const auto t2 = label2.masked_fill(label2.eq(0), kIgnoreIndex);
  const auto unchanged = t1.eq(kIgnoreIndex).unsqueeze(1).to(logits.t1.scalar_type());
  const auto sim = F::mse_loss(torch::softmax(logits.t1, 1) * unchanged, torch::softmax(logits.t2, 1) * unchanged);
  return ce(logits.change, change) + 0.5 * (ce(logits.t1, t1) + ce(logits.t2, t2) + 0.5 * sim) +
         0.75 * (lovasz(logits.change, change) + 0.5 * (lovasz(logits.t1, t1) + lovasz(logits.t2, t2)));
}

}  // namespace vss::change
