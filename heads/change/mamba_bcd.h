#pragma once
// MambaBCD (ChangeMamba binary change detection, MambaCD `STMambaBCD`; heads.md §3): one
// Backbone_VSSM `encoder` shared by both dates, the spatio-temporal `decoder`
// (change_decoder.h), `main_clf` (1×1 conv C → 2) and a bilinear resize to the input size.
// Parameter names are the reference's (encoder.*, decoder.st_block_41.*, main_clf.*), so its
// checkpoints load after tools/convert_pth.py. AWMambaBCD (AtrousMamba) is the same network
// with `scan: {type: atrous_window}` in the encoder (and so in the decoder's VSS blocks).
// YAML:
//   model:
//     type: mamba_bcd
//     encoder: {type: vssm_backbone, dims: 96, depths: [2, 2, 4, 2], ...}   # backbone keys
//     decoder: {channels: 128, drop_path: 0.1}                              # the defaults
#include "backbones/layers.h"
#include "backbones/vssm.h"
#include "heads/change/bitemporal_encoder.h"
#include "heads/change/change_decoder.h"

#include <memory>

namespace vss::change {

class MambaBCDImpl : public torch::nn::Module {
 public:
  MambaBCDImpl(const VSSMOptions& encoder_options, int64_t channels, double drop_path);
  // pre, post [B, in_chans, H, W] (normalised images) -> change logits [B, 2, H, W].
  at::Tensor forward(const at::Tensor& pre, const at::Tensor& post);
  VSSM& encoder() { return *encoder_; }

 private:
  std::shared_ptr<VSSM> encoder_;
  ChangeDecoder decoder_{nullptr};
  Conv main_clf_{nullptr};
};
TORCH_MODULE(MambaBCD);

// The `model:` node above; errors name the YAML key.
MambaBCD make_mamba_bcd(const Config& node);

// MambaBCD's training loss: cross-entropy + 0.75 · Lovász-softmax of the softmax, both
// ignoring label 255. logits [B, 2, H, W], labels [B, H, W] int64.
at::Tensor mamba_bcd_loss(const at::Tensor& logits, const at::Tensor& labels);

}  // namespace vss::change
