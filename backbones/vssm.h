#pragma once
// VSSM, the VMamba network (specs/vmamba.md §2): patch_embed -> layers.{i} (blocks, then
// downsample) -> classifier (norm, global average pool, head). Parameter names are the
// official state_dict's, so a converted official checkpoint loads as is.
//
// Two kinds, as the official classes:
//  - classifier (VSSM): forward() gives logits; forward_features() the 4 stage outputs
//    (after each stage's blocks, before its downsample), NCHW.
//  - dense backbone (Backbone_VSSM): no classifier; forward_features() passes stage i's
//    output through outnorm{i} for i in out_indices.
// Inside, maps are channel-last [B, H, W, C] whatever norm_layer says: ln and ln2d are the
// same math, only the official code's memory layout differs.
#include "backbones/backbone.h"
#include "backbones/vssm_options.h"

#include <memory>

namespace vss {

class PatchEmbedImpl;
class StageImpl;
class ClassifierImpl;
class ChannelNormImpl;

class VSSM : public Backbone {
 public:
  VSSM(VSSMOptions options, bool dense_backbone);

  struct Trace {
    at::Tensor patch_embed;           // [B, H/4, W/4, C1]
    std::vector<at::Tensor> stages;   // stage i after its blocks, channel-last
  };
  // images [B, in_chans, H, W]. With patchembed_version v2 any H, W works (each stride-2
  // conv rounds up, as the official stem); with v1 they must be multiples of patch_size.
  Trace trace(const at::Tensor& images);

  at::Tensor forward(const at::Tensor& images);  // logits [B, num_classes]
  std::vector<at::Tensor> forward_features(const at::Tensor& images) override;
  std::vector<int64_t> feature_channels() const override;
  std::vector<int64_t> feature_strides() const override;

  const VSSMOptions& options() const { return options_; }
  bool is_dense_backbone() const { return dense_; }

 private:
  VSSMOptions options_;
  bool dense_;
  std::shared_ptr<PatchEmbedImpl> patch_embed_;
  std::vector<std::shared_ptr<StageImpl>> stages_;
  std::shared_ptr<ClassifierImpl> classifier_;
  std::vector<std::shared_ptr<ChannelNormImpl>> outnorms_;  // per out_indices entry
};

}  // namespace vss
