#include "heads/track/mamba_motion_predictor.h"

#include "core/config.h"
#include "core/error.h"
#include "kernels/selective_scan.h"

#include <torch/torch.h>

#include <cmath>

namespace vss::track {

MambaBlockImpl::MambaBlockImpl(MambaOptions options) : options_(options) {
  const int64_t d = options_.d_model, di = options_.d_inner(), n = options_.d_state, r = options_.resolved_dt_rank();
  in_proj = register_module("in_proj", torch::nn::Linear(torch::nn::LinearOptions(d, 2 * di).bias(false)));
  conv1d = register_module("conv1d", torch::nn::Conv1d(torch::nn::Conv1dOptions(di, di, options_.d_conv)
                                                           .groups(di)
                                                           .padding(options_.d_conv - 1)
                                                           .bias(true)));
  x_proj = register_module("x_proj", torch::nn::Linear(torch::nn::LinearOptions(di, r + 2 * n).bias(false)));
  dt_proj = register_module("dt_proj", torch::nn::Linear(torch::nn::LinearOptions(r, di).bias(true)));
  out_proj = register_module("out_proj", torch::nn::Linear(torch::nn::LinearOptions(di, d).bias(false)));
  // mamba_ssm's initialisation: dt_proj weight U(±r^-0.5), bias = softplus⁻¹(dt) with dt
  // log-uniform in [1e-3, 1e-1] floored at 1e-4; A = -(1..N) per channel (S4D-real); D = 1.
  torch::NoGradGuard no_grad;
  const double bound = std::pow(static_cast<double>(r), -0.5);
  dt_proj->weight.uniform_(-bound, bound);
  const at::Tensor dt =
      torch::exp(torch::rand({di}) * (std::log(0.1) - std::log(1e-3)) + std::log(1e-3)).clamp_min(1e-4);
  dt_proj->bias.copy_(dt + torch::log(-torch::expm1(-dt)));
  A_log = register_parameter("A_log", torch::log(torch::arange(1, n + 1, torch::kFloat)).repeat({di, 1}));
  D = register_parameter("D", torch::ones({di}));
}

at::Tensor MambaBlockImpl::forward(const at::Tensor& x) {
  const int64_t L = x.size(1), di = options_.d_inner(), n = options_.d_state, r = options_.resolved_dt_rank();
  const at::Tensor xz = in_proj->forward(x);  // [B, L, 2·di]
  at::Tensor u = xz.narrow(2, 0, di).transpose(1, 2);
  const at::Tensor z = xz.narrow(2, di, di);
  u = torch::silu(conv1d->forward(u).narrow(2, 0, L)).contiguous();  // causal: the first L outputs
  const at::Tensor x_dbl = x_proj->forward(u.transpose(1, 2));       // [B, L, r + 2n]
  const at::Tensor delta = at::matmul(dt_proj->weight, x_dbl.narrow(2, 0, r).transpose(1, 2)).contiguous();
  const at::Tensor B = x_dbl.narrow(2, r, n).transpose(1, 2).unsqueeze(1).contiguous();  // [B, 1, N, L]
  const at::Tensor C = x_dbl.narrow(2, r + n, n).transpose(1, 2).unsqueeze(1).contiguous();
  const auto st = u.scalar_type();
  const auto [y, last_state] = selective_scan(u, delta, -torch::exp(A_log.to(st)), B, C, D.to(st),
                                              dt_proj->bias.to(st), /*delta_softplus=*/true);
  return out_proj->forward(y.transpose(1, 2) * torch::silu(z));
}

MtpOptions mtp_options(const Config& node) {
  node.check_keys({"type", "d_model", "d_state", "d_conv", "expand", "dt_rank", "num_layers", "mlp_hidden",
                   "head_hidden", "history", "scale"});
  if (node.has("type") && node.get<std::string>("type") != "mtp")
    node["type"].fail("unknown motion model '" + node.get<std::string>("type") + "' (known: mtp)");
  MtpOptions o;
  auto positive = [&](const char* key, int64_t fallback) { return node.get_int_in_or(key, fallback, 1, kMaxChannels); };
  o.mamba.d_model = positive("d_model", o.mamba.d_model);
  o.mamba.d_state = positive("d_state", o.mamba.d_state);
  o.mamba.d_conv = positive("d_conv", o.mamba.d_conv);
  o.mamba.expand = positive("expand", o.mamba.expand);
  if (node.has("dt_rank") && node.get<std::string>("dt_rank") != "auto")
    o.mamba.dt_rank = positive("dt_rank", 0);
  o.num_layers = positive("num_layers", o.num_layers);
  o.mlp_hidden = positive("mlp_hidden", 2 * o.mamba.d_model);
  o.head_hidden = positive("head_hidden", o.head_hidden);
  o.history = positive("history", o.history);
  o.scale = node.get_or<double>("scale", o.scale);
  if (!(o.scale > 0) || !std::isfinite(o.scale)) node["scale"].fail("must be a positive number");
  return o;
}

BiMambaLayerImpl::BiMambaLayerImpl(const MambaOptions& mamba, int64_t mlp_hidden) {
  forward_mamba = register_module("forward_mamba", MambaBlock(mamba));
  backward_mamba = register_module("backward_mamba", MambaBlock(mamba));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({mamba.d_model})));
  fc1 = register_module("fc1", torch::nn::Linear(mamba.d_model, mlp_hidden));
  fc2 = register_module("fc2", torch::nn::Linear(mlp_hidden, mamba.d_model));
}

at::Tensor BiMambaLayerImpl::forward(const at::Tensor& x) {
  const at::Tensor s = forward_mamba->forward(x) + backward_mamba->forward(x.flip({1})).flip({1});
  return s + fc2->forward(torch::leaky_relu(fc1->forward(norm->forward(s))));
}

MambaMotionPredictorImpl::MambaMotionPredictorImpl(MtpOptions options) : options_(options) {
  const int64_t d = options_.mamba.d_model;
  embed = register_module("embed", torch::nn::Linear(4, d));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < options_.num_layers; ++i) layers->push_back(BiMambaLayer(options_.mamba, options_.mlp_hidden));
  head_fc1 = register_module("head_fc1", torch::nn::Linear(d, options_.head_hidden));
  head_fc2 = register_module("head_fc2", torch::nn::Linear(options_.head_hidden, 4));
}

at::Tensor MambaMotionPredictorImpl::forward(const at::Tensor& diffs) {
  if (diffs.dim() != 3 || diffs.size(2) != 4 || diffs.size(1) < 1)
    throw_shape_error("MambaMotionPredictor input", {-1, -1, 4}, diffs.sizes().vec());
  at::Tensor h = embed->forward(diffs);
  for (const auto& layer : *layers) h = layer->as<BiMambaLayer>()->forward(h);
  return head_fc2->forward(torch::leaky_relu(head_fc1->forward(h.mean(1))));
}

}  // namespace vss::track
