#pragma once
// MambaSCD's semantic decoder (ChangeMamba, MambaCD `SemanticDecoder`; specs/scd.md §2): an
// FPN-like decoder over ONE date's encoder maps, with the reference's parameter names. For
// S scales (4 in MambaSCD; 1 = finest):
//   p_S = st_block_S_semantic(feat_S)                 1×1 conv (dims[S] → C) then a VSSBlock
//   p_s = st_block_s_semantic(smooth_layer_s_semantic(bilinear(p_{s+1}) + trans_layer_s(feat_s)))
//   out = smooth_layer_0_semantic(p_1)
// trans_layer_s = 1×1 conv + BatchNorm + ReLU; smooth layers are ResBlocks; note the order
// ResBlock then VSSBlock, the reverse of the change decoder's. MambaSCD has two of these
// (decoder_T1, decoder_T2) with separate weights.
#include "backbones/vssm_options.h"

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <vector>

namespace vss::change {

class STBlockImpl;
class PermutedVSSBlockImpl;
class ConvBnReluImpl;
class ResBlockImpl;

class SemanticDecoderImpl : public torch::nn::Module {
 public:
  // encoder_dims: channels of the encoder's maps, finest first (1 to 9 scales); channels:
  // the decoder width (128 in MambaSCD); drop_path: of every VSS block (0.1).
  SemanticDecoderImpl(const std::vector<int64_t>& encoder_dims, const VSSMOptions& block_options, int64_t channels,
                      double drop_path);
  // One date's maps, NCHW, finest first -> [B, channels, H_1, W_1] NCHW.
  at::Tensor forward(const std::vector<at::Tensor>& features);

 private:
  std::shared_ptr<STBlockImpl> top_;                                // st_block_S_semantic
  std::vector<std::shared_ptr<PermutedVSSBlockImpl>> st_blocks_;    // scales 1..S-1
  std::vector<std::shared_ptr<ConvBnReluImpl>> trans_layers_;       // scales 1..S-1
  std::vector<std::shared_ptr<ResBlockImpl>> smooth_layers_;        // scales 0..S-1
};
TORCH_MODULE(SemanticDecoder);

}  // namespace vss::change
