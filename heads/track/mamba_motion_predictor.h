#pragma once
// MambaTrack's motion predictor (MTP), vsskit's definition (heads.md §4): the last q
// frame-to-frame box differences (dcx, dcy, dw, dh of boxes normalised by the image size,
// times `scale` = 50) -> Linear 4→d_model -> L bi-Mamba layers -> mean over time ->
// Linear d_model→head_hidden, LeakyReLU, Linear head_hidden→4 = the next scaled difference.
// A bi-Mamba layer: S = Mamba_f(x) + flip(Mamba_b(flip(x))) (two Mamba-1 blocks, one per
// direction), out = S + MLP(LayerNorm(S)), MLP d_model→mlp_hidden, LeakyReLU, →d_model.
// Parameter names follow mamba_ssm's Mamba (in_proj, conv1d, x_proj, dt_proj, A_log, D,
// out_proj) and PyTorch's Linear / LayerNorm.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace vss {
class Config;
}

namespace vss::track {

struct MambaOptions {
  int64_t d_model = 512;
  int64_t d_state = 16;
  int64_t d_conv = 4;
  int64_t expand = 2;
  int64_t dt_rank = 0;  // 0 = "auto": ceil(d_model / 16)
  int64_t d_inner() const { return expand * d_model; }
  int64_t resolved_dt_rank() const { return dt_rank > 0 ? dt_rank : (d_model + 15) / 16; }
};

// A standard Mamba-1 block (mamba_ssm.modules.mamba_simple.Mamba, no fused kernels):
// in_proj → x, z; causal depthwise conv1d + SiLU on x; x_proj → Δ (via dt_proj), B, C;
// y = selective_scan (vss op, K = 1, softplus(Δ + dt_proj.bias), D skip) · SiLU(z); out_proj.
class MambaBlockImpl : public torch::nn::Module {
 public:
  explicit MambaBlockImpl(MambaOptions options);
  at::Tensor forward(const at::Tensor& x);  // [B, L, d_model] -> [B, L, d_model]
  const MambaOptions& options() const { return options_; }

  torch::nn::Linear in_proj{nullptr}, x_proj{nullptr}, dt_proj{nullptr}, out_proj{nullptr};
  torch::nn::Conv1d conv1d{nullptr};
  at::Tensor A_log, D;  // [d_inner, d_state], [d_inner]

 private:
  MambaOptions options_;
};
TORCH_MODULE(MambaBlock);

struct MtpOptions {
  MambaOptions mamba;        // d_model, d_state, d_conv, expand, dt_rank
  int64_t num_layers = 3;
  int64_t mlp_hidden = 1024;
  int64_t head_hidden = 64;
  int64_t history = 10;      // q: differences fed to the network
  double scale = 50;         // differences (in image-size units) are multiplied by this
};

// The `model:` YAML node: {type: mtp, d_model, d_state, d_conv, expand, dt_rank, num_layers,
// mlp_hidden, head_hidden, history, scale}; defaults are heads.md's (d_model 512, 3 layers).
MtpOptions mtp_options(const Config& node);

class BiMambaLayerImpl : public torch::nn::Module {
 public:
  BiMambaLayerImpl(const MambaOptions& mamba, int64_t mlp_hidden);
  at::Tensor forward(const at::Tensor& x);  // [B, L, d_model]

  MambaBlock forward_mamba{nullptr}, backward_mamba{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(BiMambaLayer);

class MambaMotionPredictorImpl : public torch::nn::Module {
 public:
  explicit MambaMotionPredictorImpl(MtpOptions options);
  // Scaled differences [B, L, 4] (1 <= L) -> the next scaled difference [B, 4].
  at::Tensor forward(const at::Tensor& diffs);
  const MtpOptions& options() const { return options_; }

  torch::nn::Linear embed{nullptr}, head_fc1{nullptr}, head_fc2{nullptr};
  torch::nn::ModuleList layers{nullptr};

 private:
  MtpOptions options_;
};
TORCH_MODULE(MambaMotionPredictor);

}  // namespace vss::track
