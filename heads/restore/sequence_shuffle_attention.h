#pragma once
// MaIR's sequence shuffle attention (specs/scans.md §8): merges the K un-permuted direction
// outputs Y_k [B, K, Dn, H, W] with per-channel weights learned from their means,
//   m[k,d] = mean_hw Y_k[d];  a[·,d] = G_d·m[·,d] + g_d  (a K->K map per channel d);
//   out[d] = Σ_k sigmoid(a[k,d])·Y_k[d].
// Stored as the official grouped 1x1 conv `gating.1` (weight [K·Dn, K, 1, 1], bias [K·Dn],
// Dn groups, input channel d·K + k): the channel shuffle puts each channel's K directions
// side by side.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

namespace vss::restore {

class SequenceShuffleAttentionImpl : public torch::nn::Module {
 public:
  SequenceShuffleAttentionImpl(int64_t channels, int64_t directions);
  at::Tensor forward(const at::Tensor& y);  // [B, K, Dn, H, W] -> [B, Dn, H, W]
  torch::nn::Sequential gating{nullptr};    // avg-pool, grouped 1x1 conv, sigmoid

 private:
  int64_t channels_, directions_;
};
TORCH_MODULE(SequenceShuffleAttention);

}  // namespace vss::restore
