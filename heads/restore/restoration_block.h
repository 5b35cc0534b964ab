#pragma once
// One residual state-space block of a restoration network (MambaIR's VSSBlock, MaIR's RMB),
// on channel-last maps [B, H, W, C]:
//   x = x·skip_scale  + self_attention(ln_1(x))
//   x = x·skip_scale2 + conv_blk(ln_2(x))
// MambaIR: self_attention = SS2D with the z gate, conv_blk = channel-attention block (CAB).
// MaIR:    self_attention = MaIR SS2D (sequence shuffle attention), conv_blk = MLP fc1/fc2.
#include "backbones/layers.h"
#include "backbones/ss2d.h"
#include "heads/restore/channel_attention.h"
#include "heads/restore/mair_ss2d.h"

namespace vss::restore {

struct RestorationBlockOptions {
  bool mair = false;        // MaIR block (else MambaIR)
  SS2DOptions ssm;          // d_model = the block's channels
  bool light_cab = false;   // MambaIR: the lightweight CAB
  double mlp_ratio = 2.0;   // MaIR: MLP hidden = int(C·mlp_ratio)
};

// MaIR's conv_blk: fc1 (C -> hidden), GELU, fc2 (-> C), channel-last.
class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int64_t channels, int64_t hidden);
  at::Tensor forward(const at::Tensor& x);
  Dense fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Mlp);

class RestorationBlockImpl : public torch::nn::Module {
 public:
  explicit RestorationBlockImpl(const RestorationBlockOptions& options);
  at::Tensor forward(const at::Tensor& x);

  ChannelNorm ln_1{nullptr}, ln_2{nullptr};
  at::Tensor skip_scale, skip_scale2;
  SS2D ss2d{nullptr};                   // MambaIR's self_attention
  MaIRSS2D mair_ss2d{nullptr};          // MaIR's self_attention
  ChannelAttentionBlock cab{nullptr};   // MambaIR's conv_blk
  Mlp mlp{nullptr};                     // MaIR's conv_blk
};
TORCH_MODULE(RestorationBlock);

}  // namespace vss::restore
