#pragma once
// SS2D, VMamba's 2D selective-scan layer (specs/vmamba.md §3), parameter names and shapes
// as the official state_dict: in_proj, conv2d, x_proj_weight, dt_projs_weight,
// dt_projs_bias, A_logs, Ds, out_norm, out_proj. K (the first dim of the per-direction
// parameters) is the scan strategy's number of directions (4 for `cross`).
//
// For the fused scans Δ, B and C are computed per direction in image layout (the
// projections act token by token), so the K flattened copies of the input never exist: the
// plan-driven scan gathers in scan order and merges back itself. Training over row/column
// walks (`sequence_scan`) makes the copies instead and projects in scan order, as the
// official SS2D does, for the plain scan op's faster backward.
#include "backbones/layers.h"
#include "backbones/vssm_options.h"

namespace vss {

class SS2DImpl : public torch::nn::Module {
 public:
  explicit SS2DImpl(SS2DOptions options);
  // x [B, H, W, d_model] channel-last -> same shape.
  at::Tensor forward(const at::Tensor& x);
  // Official initialisation (specs/vmamba.md §5) of the SSM parameters and projections.
  void reset_parameters();

  const SS2DOptions& options() const { return options_; }

  Dense in_proj{nullptr}, out_proj{nullptr};
  Conv conv2d{nullptr};  // absent when d_conv < 2
  ChannelNorm out_norm{nullptr};
  at::Tensor x_proj_weight;    // [K, R + 2N, Dn]
  at::Tensor dt_projs_weight;  // [K, Dn, R]
  at::Tensor dt_projs_bias;    // [K, Dn]
  at::Tensor A_logs;           // [K·Dn, N], A = -exp(A_logs)
  at::Tensor Ds;               // [K·Dn]

 private:
  SS2DOptions options_;
  int64_t K_, Dn_, R_, N_;
};
TORCH_MODULE(SS2D);

}  // namespace vss
