#pragma once
// The residual state-space restoration network (MambaIR, csguoh/MambaIR; MaIR,
// XLearning-SCU/2025-CVPR-MaIR), parameter names as their state_dicts (specs/heads.md §1):
//   conv_first -> patch_embed.norm -> layers.{i} (residual groups) -> norm -> conv_after_body
//   (+ conv_first's output) -> reconstruction by `upsampler`:
//     pixelshuffle        conv_before_upsample.0 + LeakyReLU(0.01), upsample.{0,2,..}, conv_last
//     pixelshuffledirect  upsample.0 (3x3 C -> scale²·out) + PixelShuffle (lightweight SR)
//     none                conv_last, added to the (normalised) input (denoising, JPEG)
// Input / output NCHW in [0, 1]; x is centred by the DIV2K mean (3 channels) times img_range.
//
// YAML (`model:`), keys as the official constructors:
//   type: mambair | mair, in_chans: 3, embed_dim: 60, depths: [6, 6, 6, 6], d_state: 10,
//   mlp_ratio: 1.2 (MambaIR: SS2D expand; MaIR: MLP ratio), ssm_ratio: 1.1 (MaIR),
//   scan_len: 8 (MaIR), upscale: 4, upsampler: pixelshuffledirect | pixelshuffle | none,
//   img_range: 1.0, resi_connection: 1conv, scan: {type: cross} (MambaIR), fused_scan: false.
#include "heads/restore/residual_group.h"

#include <string>
#include <vector>

namespace vss {
class Config;
}

namespace vss::restore {

struct RestorationNetOptions {
  bool mair = false;
  int64_t in_chans = 3;
  int64_t embed_dim = 60;
  std::vector<int64_t> depths{6, 6, 6, 6};
  double mlp_ratio = 2.0;   // MambaIR: SS2D expand (d_inner = mlp_ratio·C); MaIR: MLP hidden ratio
  int64_t scan_len = 8;     // MaIR: s_shaped stripe width
  int64_t upscale = 1;
  std::string upsampler = "none";  // pixelshuffle | pixelshuffledirect | none
  double img_range = 1.0;
  // Every block's SS2D as the YAML sets it (d_state, MaIR's ssm_ratio, MambaIR's scan,
  // fused_scan); the net sets d_model, the fixed MambaIR / MaIR choices and MaIR's scans.
  // Unfused (flatten -> scan -> merge) by default: restoration scans full-resolution maps on
  // few channels, where the plan op's gathers along columns cost more than the K copies
  // (H200, light x4 at 270x480, bf16: 96 ms unfused, 130 ms fused; the CPU is alike).
  SS2DOptions ssm = [] {
    SS2DOptions o;
    o.fused_scan = false;
    return o;
  }();
};

// Unknown keys, unsupported values and impossible combinations are errors naming the key.
RestorationNetOptions restoration_options_from_config(const Config& node);

class RestorationNetImpl : public torch::nn::Module {
 public:
  explicit RestorationNetImpl(RestorationNetOptions options);
  // x [B, in_chans, H, W] in [0, 1] -> [B, in_chans, H·upscale, W·upscale] (not clamped).
  at::Tensor forward(const at::Tensor& x);
  const RestorationNetOptions& options() const { return options_; }
  int64_t scale() const { return options_.upscale; }

  torch::nn::Conv2d conv_first{nullptr}, conv_after_body{nullptr}, conv_last{nullptr};
  ChannelNorm patch_norm{nullptr}, norm{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::Sequential conv_before_upsample{nullptr}, upsample{nullptr};

 private:
  RestorationNetOptions options_;
  at::Tensor mean_;  // [1, C, 1, 1], not a parameter (not in the official weights)
};
TORCH_MODULE(RestorationNet);

RestorationNet make_restoration_net(const Config& node);

}  // namespace vss::restore
