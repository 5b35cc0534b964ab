#pragma once
// MambaSCD (ChangeMamba semantic change detection, MambaCD `STMambaSCD`; specs/scd.md §2):
// one Backbone_VSSM `encoder` shared by both dates, MambaBCD's change decoder
// (`decoder_bcd`, change_decoder.h) where the dates meet, one semantic decoder per date
// (`decoder_T1`, `decoder_T2`, semantic_decoder.h), a 1×1 conv C → 2 on the change decoder
// (`main_clf_cd`) and ONE 1×1 conv C → K shared by both semantic decoders (`aux_clf`); all
// logits bilinearly resized to the input. Parameter names are the reference's, so converted
// ChangeMamba SCD checkpoints load by name. AWMambaSCD is the same with the atrous-window scan.
// YAML:
//   model:
//     type: mamba_scd
//     encoder: {type: vssm_backbone, dims: 96, depths: [2, 2, 4, 2], ...}   # backbone keys
//     decoder: {channels: 128, drop_path: 0.1}                              # the defaults
//     semantic_classes: 7                                                   # SECOND: 0 = no change + 6
#include "backbones/layers.h"
#include "backbones/vssm.h"
#include "heads/change/bitemporal_encoder.h"
#include "heads/change/change_decoder.h"
#include "heads/change/semantic_decoder.h"

#include <filesystem>
#include <memory>

namespace vss::change {

struct SemanticChangeLogits {
  at::Tensor change;  // [B, 2, H, W]
  at::Tensor t1, t2;  // [B, K, H, W] land cover of each date (class 0 = no change)
};

class MambaSCDImpl : public torch::nn::Module {
 public:
  MambaSCDImpl(const ChangeModelOptions& options, int64_t semantic_classes);
  // pre, post [B, in_chans, H, W] (normalised images).
  SemanticChangeLogits forward(const at::Tensor& pre, const at::Tensor& post);
  VSSM& encoder() { return *encoder_; }
  int64_t semantic_classes() const { return semantic_classes_; }

 private:
  std::shared_ptr<VSSM> encoder_;
  ChangeDecoder decoder_bcd_{nullptr};
  SemanticDecoder decoder_t1_{nullptr}, decoder_t2_{nullptr};
  Conv main_clf_cd_{nullptr}, aux_clf_{nullptr};
  int64_t semantic_classes_;
};
TORCH_MODULE(MambaSCD);

// The `model:` node above; errors name the YAML key.
MambaSCD make_mamba_scd(const Config& node);

// Loads a safetensors state strictly (backbones/weights.h). A binary change checkpoint
// (MambaBCD's decoder.* and main_clf.*) is refused first with one line naming the semantic
// model's parts it lacks, which says more than a list of the first missing keys.
void load_mamba_scd_weights(MambaSCDImpl& model, const std::filesystem::path& file);

// MambaSCD's training loss (train_MambaSCD.py): labels [B, H, W] int64 — `change` 0/1,
// `label1` / `label2` 0..K-1 (0 = no change) — with 255 ignored everywhere. Semantic labels 0
// are ignored too (the semantic losses see only changed pixels);
//   CE_cd + 0.5·(CE_t1 + CE_t2 + 0.5·sim) + 0.75·(Lovász_cd + 0.5·(Lovász_t1 + Lovász_t2)),
// sim = mean over all B·K·H·W elements of (softmax(t1) − softmax(t2))² on the pixels whose
// date-1 label is 0 or 255 (the unchanged ones), 0 elsewhere.
at::Tensor mamba_scd_loss(const SemanticChangeLogits& logits, const at::Tensor& change, const at::Tensor& label1,
                          const at::Tensor& label2);

}  // namespace vss::change
