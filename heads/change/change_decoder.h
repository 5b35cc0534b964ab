#pragma once
// MambaBCD's spatio-temporal change decoder (ChangeMamba, MambaCD `ChangeDecoder`; heads.md
// §3), with the reference's parameter names so converted weights load. At each scale s
// (1 = finest), three branches of `1×1 conv (in → C) -> one VSSBlock(C)` model the relation
// of the two dates' features:
//   st_block_{s}1  parallel: channel concat [pre, post] (2·C_s → C);
//   st_block_{s}2  cross: an H×2W map, pre in the even columns, post in the odd ones;
//   st_block_{s}3  sequential: pre in columns [0, W), post in [W, 2W).
// The cross / sequential outputs are split back into their pre and post parts, the five
// maps are fused by `fuse_layer_s` (1×1 conv 5C → C, BatchNorm, ReLU), and the scales are
// merged top-down: p_S = fuse_S; p_s = smooth_layer_s(fuse_s + bilinear(p_{s+1})), with
// smooth_layer_s a ResBlock (conv3×3-BN-ReLU-conv3×3-BN + identity, ReLU).
// The VSS blocks use the encoder's SSM / MLP / norm settings (so its `scan:` too).
#include "backbones/vssm_options.h"

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <array>
#include <memory>
#include <vector>

namespace vss::change {

class STBlockImpl;
class ConvBnReluImpl;
class ResBlockImpl;

class ChangeDecoderImpl : public torch::nn::Module {
 public:
  // encoder_dims: channels of the encoder's maps, finest first (1 to 9 scales);
  // channels: the decoder width (128 in MambaBCD); drop_path: of every VSS block (0.1).
  ChangeDecoderImpl(const std::vector<int64_t>& encoder_dims, const VSSMOptions& block_options, int64_t channels,
                    double drop_path);
  // Both dates' maps, NCHW, finest first -> [B, channels, H_1, W_1] NCHW.
  at::Tensor forward(const std::vector<at::Tensor>& pre, const std::vector<at::Tensor>& post);

 private:
  std::vector<std::array<std::shared_ptr<STBlockImpl>, 3>> st_blocks_;  // [scale][branch]
  std::vector<std::shared_ptr<ConvBnReluImpl>> fuse_layers_;
  std::vector<std::shared_ptr<ResBlockImpl>> smooth_layers_;  // scales 1..S-1
};
TORCH_MODULE(ChangeDecoder);

}  // namespace vss::change
