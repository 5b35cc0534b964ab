#pragma once
// A VM-UNet-style decoder (specs/heads.md §2) over the VSS encoder's maps: stage k works at
// the encoder's level n-1-k (deepest first); every stage after the first starts with a patch
// expanding (`upsample`: Linear C_in -> 4·C_out, 2x2 pixel shuffle, LayerNorm) and an
// additive skip from the encoder map of that level, then runs VSS blocks; `final_up`
// expands x4 (Linear C0 -> 4·C0, 4x4 pixel shuffle to C0/4, LayerNorm) and `final_conv`
// (1x1) gives full-resolution logits. Names follow VM-UNet's (`layers_up.{k}.upsample.expand`,
// `layers_up.{k}.blocks.{j}`, `final_up.expand`, `final_up.norm`, `final_conv`).
// Difference from VM-UNet: its skips are each encoder stage's *input* and are added before
// the expansion; ours are the dense backbone's normalised stage outputs, added after it
// (the plain U-Net order), so the encoder is the same Backbone_VSSM the other heads use.
#include "backbones/vss_block.h"
#include "backbones/vssm_options.h"
#include "heads/seg/decode_head.h"

namespace vss {
class Config;
}

namespace vss::seg {

// Linear C_in -> scale²·C_out (no bias), pixel shuffle by `scale`, LayerNorm(C_out); keys
// `expand.weight`, `norm.weight`, `norm.bias`.
class PatchExpandImpl : public torch::nn::Module {
 public:
  PatchExpandImpl(int64_t in_channels, int64_t out_channels, int64_t scale);
  at::Tensor forward(const at::Tensor& x);  // [B, H, W, C_in] -> [B, sH, sW, C_out]

 private:
  int64_t out_channels_, scale_;
  Dense expand_{nullptr};
  ChannelNorm norm_{nullptr};
};
TORCH_MODULE(PatchExpand);

struct UNetDecoderOptions {
  VSSMOptions block;                        // SS2D / MLP / norm settings (the encoder's)
  std::vector<int64_t> dims;                // encoder feature channels, finest first
  std::vector<int64_t> depths{2, 2, 2, 1};  // blocks per decoder stage, deepest first
  double drop_path_rate = 0.2;              // linspace over the decoder's blocks, deepest highest
  int64_t num_classes = 2;
};

class UNetDecoderImpl : public DecodeHead {
 public:
  explicit UNetDecoderImpl(UNetDecoderOptions options);
  at::Tensor forward(const std::vector<at::Tensor>& features) override;
  int64_t output_stride() const override { return 1; }

 private:
  struct Stage {
    PatchExpand upsample{nullptr};
    std::vector<VSSBlock> blocks;
  };
  UNetDecoderOptions options_;
  std::vector<Stage> stages_;
  PatchExpand final_up_{nullptr};
  Conv final_conv_{nullptr};
};

// `decode_head:` keys: depths, drop_path_rate. `encoder` holds the backbone's settings.
std::shared_ptr<DecodeHead> make_unet_decoder(const Config& node, const VSSMOptions& encoder,
                                              const std::vector<int64_t>& in_channels, int64_t num_classes);

}  // namespace vss::seg
