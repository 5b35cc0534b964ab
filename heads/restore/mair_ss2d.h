#pragma once
// MaIR's state-space layer (`self_attention` of a MaIR block): SS2D with the z gate whose K
// direction outputs are merged by sequence shuffle attention (`gating`) instead of summed.
// The parameters are SS2D's, under the same names, plus `gating.gating.1.{weight,bias}`.
// The scan order comes from options.scan (MaIR: s_shaped with its scan_len and shift).
#include "backbones/ss2d.h"
#include "heads/restore/sequence_shuffle_attention.h"

namespace vss::restore {

class MaIRSS2DImpl : public SS2DImpl {
 public:
  explicit MaIRSS2DImpl(SS2DOptions options);  // options.gated must be set
  at::Tensor forward(const at::Tensor& x);     // [B, H, W, C] -> same
  SequenceShuffleAttention gating{nullptr};
};
TORCH_MODULE(MaIRSS2D);

}  // namespace vss::restore
