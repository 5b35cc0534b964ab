// The Mamba motion predictor: one Mamba block and the whole network against a plain
// Python-torch forward written in the test from the formulas (selective_scan_ref's loop,
// causal depthwise conv, bi-directional layers, LayerNorm MLP, mean, head) with the same
// weights, in float64; gradients of every parameter tensor against float64 central
// differences; shapes and bad input; weights round trip through save_mtp / load_mtp.
#include "backbones/weights.h"
#include "core/config.h"
#include "core/error.h"
#include "core/remove_tree.h"
#include "core/safetensors.h"
#include "heads/track/mamba_motion_predictor.h"
#include "heads/track/mtp_weights.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss::test {
namespace {

using track::MambaMotionPredictor;
using track::MtpOptions;

MtpOptions tiny_options() {
  MtpOptions o;
  o.mamba.d_model = 16;
  o.mamba.d_state = 4;
  o.mamba.d_conv = 4;
  o.mamba.expand = 2;
  o.num_layers = 2;
  o.mlp_hidden = 24;
  o.head_hidden = 8;
  return o;
}

constexpr char kPredictorOracle[] = R"PY(
import sys, torch, torch.nn.functional as F
from safetensors.torch import load_file, save_file
w = {k: v.double() for k, v in load_file(sys.argv[1]).items()}
inp = {k: v.double() for k, v in load_file(sys.argv[2]).items()}
d_state, d_conv, num_layers = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])

def mamba(x, p):
    W = lambda k: w[p + k]
    Bsz, L, _ = x.shape
    xz = x @ W("in_proj.weight").T
    di = xz.shape[-1] // 2
    u, z = xz[..., :di], xz[..., di:]
    u = F.conv1d(u.transpose(1, 2), W("conv1d.weight"), W("conv1d.bias"), padding=d_conv - 1, groups=di)[..., :L]
    u = F.silu(u)                                   # [B, di, L]
    xdbl = u.transpose(1, 2) @ W("x_proj.weight").T
    r = W("dt_proj.weight").shape[1]
    dt, Bm, Cm = xdbl[..., :r], xdbl[..., r:r + d_state], xdbl[..., r + d_state:]
    delta = F.softplus(dt @ W("dt_proj.weight").T + W("dt_proj.bias"))   # [B, L, di]
    A = -torch.exp(W("A_log"))
    h = torch.zeros(Bsz, di, d_state, dtype=torch.float64)
    ys = []
    for t in range(L):
        h = torch.exp(delta[:, t, :, None] * A) * h + delta[:, t, :, None] * Bm[:, t, None, :] * u[:, :, t, None]
        ys.append((h * Cm[:, t, None, :]).sum(-1) + W("D") * u[:, :, t])
    y = torch.stack(ys, 1) * F.silu(z)
    return y @ W("out_proj.weight").T

def layer(x, p):
    s = mamba(x, p + "forward_mamba.") + mamba(x.flip(1), p + "backward_mamba.").flip(1)
    n = F.layer_norm(s, (s.shape[-1],), w[p + "norm.weight"], w[p + "norm.bias"], 1e-5)
    hid = F.leaky_relu(n @ w[p + "fc1.weight"].T + w[p + "fc1.bias"])
    return s + hid @ w[p + "fc2.weight"].T + w[p + "fc2.bias"]

h = inp["diffs"] @ w["embed.weight"].T + w["embed.bias"]
for i in range(num_layers):
    h = layer(h, f"layers.{i}.")
h = h.mean(1)
out = F.leaky_relu(h @ w["head_fc1.weight"].T + w["head_fc1.bias"]) @ w["head_fc2.weight"].T + w["head_fc2.bias"]
block = mamba(inp["block_in"], "layers.0.forward_mamba.")
save_file({"out": out.contiguous(), "block": block.contiguous()}, sys.argv[3])
)PY";

TEST(MambaMotionPredictor, MatchesPlainTorchForwardInFloat64) {
  if (!python_has({"torch", "safetensors"})) GTEST_SKIP() << "needs Python torch and safetensors";
  torch::manual_seed(3);
  const MtpOptions o = tiny_options();
  MambaMotionPredictor model(o);
  // Randomise every tensor (the defaults have D = 1, structured A) so nothing cancels.
  {
    torch::NoGradGuard g;
    for (auto& p : model->parameters()) p.add_(torch::randn_like(p) * 0.3);
  }
  model->to(torch::kDouble);
  const at::Tensor diffs = torch::randn({3, 7, 4}, torch::kDouble);
  const at::Tensor block_in = torch::randn({2, 5, o.mamba.d_model}, torch::kDouble);
  const auto dir = make_temp_dir("vss_mtp_parity");
  save_weights(*model, dir / "w.safetensors");
  write_safetensors(dir / "in.safetensors", {{"diffs", diffs}, {"block_in", block_in}});
  std::string log;
  ASSERT_EQ(run_python(kPredictorOracle, {(dir / "w.safetensors").string(), (dir / "in.safetensors").string(),
                                 (dir / "out.safetensors").string(), std::to_string(o.mamba.d_state),
                                 std::to_string(o.mamba.d_conv), std::to_string(o.num_layers)},
                       &log),
            0)
      << log;
  const auto expected = read_safetensors(dir / "out.safetensors");
  torch::NoGradGuard g;
  const auto block = model->layers[0]->as<track::BiMambaLayer>()->forward_mamba->forward(block_in);
  EXPECT_LT(max_abs_diff(block, expected.at("block")), 1e-10);
  const auto out = model->forward(diffs);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{3, 4}));
  EXPECT_LT(max_abs_diff(out, expected.at("out")), 1e-10);
  EXPECT_GT(out.abs().max().item<double>(), 1e-3);  // not trivially zero
  remove_tree(dir);
}

TEST(MambaMotionPredictor, GradientsMatchFiniteDifferencesInFloat64) {
  torch::manual_seed(5);
  MtpOptions o = tiny_options();
  o.mamba.d_model = 6;
  o.mamba.d_state = 3;
  o.num_layers = 1;
  o.mlp_hidden = 8;
  o.head_hidden = 5;
  MambaMotionPredictor model(o);
  model->to(torch::kDouble);
  const at::Tensor x = torch::randn({2, 5, 4}, torch::kDouble);
  const at::Tensor weight = torch::randn({2, 4}, torch::kDouble);
  auto loss = [&] { return (model->forward(x) * weight).sum(); };
  model->zero_grad();
  loss().backward();
  int checked = 0;
  for (const auto& item : model->named_parameters()) {
    at::Tensor p = item.value();
    const at::Tensor grad = p.grad().clone();
    const at::Tensor flat = p.data().view({-1});
    for (int64_t k : {int64_t{0}, flat.numel() / 2, flat.numel() - 1}) {
      torch::NoGradGuard g;
      const double orig = flat[k].item<double>(), eps = 1e-6;
      flat[k] = orig + eps;
      const double up = loss().item<double>();
      flat[k] = orig - eps;
      const double down = loss().item<double>();
      flat[k] = orig;
      const double fd = (up - down) / (2 * eps), an = grad.view({-1})[k].item<double>();
      EXPECT_NEAR(an, fd, 1e-6 * std::max(1.0, std::abs(fd))) << item.key() << "[" << k << "]";
      ++checked;
    }
  }
  EXPECT_GE(checked, 3 * 20);
}

TEST(MambaMotionPredictor, ShapesOptionsAndBadInput) {
  MambaMotionPredictor model(tiny_options());
  EXPECT_EQ(model->forward(torch::zeros({5, 1, 4})).sizes(), (std::vector<int64_t>{5, 4}));
  EXPECT_EQ(model->forward(torch::zeros({1, 10, 4})).sizes(), (std::vector<int64_t>{1, 4}));
  EXPECT_THROW(model->forward(torch::zeros({5, 4})), Error);
  EXPECT_THROW(model->forward(torch::zeros({5, 3, 3})), Error);
  // heads.md defaults: d_model 512, 3 layers, dt_rank ceil(512/16) = 32, MLP 1024.
  const auto d = track::mtp_options(Config::parse("{type: mtp}"));
  EXPECT_EQ(d.mamba.d_model, 512);
  EXPECT_EQ(d.mamba.resolved_dt_rank(), 32);
  EXPECT_EQ(d.num_layers, 3);
  EXPECT_EQ(d.mlp_hidden, 1024);
  EXPECT_EQ(d.history, 10);
  EXPECT_DOUBLE_EQ(d.scale, 50);
  EXPECT_THROW(track::mtp_options(Config::parse("{type: mtp, d_modle: 4}")), Error);
  EXPECT_THROW(track::mtp_options(Config::parse("{type: lstm}")), Error);
  EXPECT_THROW(track::mtp_options(Config::parse("{num_layers: 0}")), Error);
}

TEST(MtpWeights, RoundTripKeepsArchitectureAndValues) {
  const auto dir = make_temp_dir("vss_mtp_weights");
  MambaMotionPredictor model(tiny_options());
  track::save_mtp(model, dir / "mtp.safetensors");
  MambaMotionPredictor loaded = track::load_mtp(dir / "mtp.safetensors");
  EXPECT_EQ(loaded->options().mamba.d_model, 16);
  EXPECT_EQ(loaded->options().num_layers, 2);
  const at::Tensor x = torch::randn({2, 6, 4});
  torch::NoGradGuard g;
  EXPECT_EQ(max_abs_diff(model->forward(x), loaded->forward(x)), 0.0);
  // A file without the architecture metadata is refused with its name.
  save_weights(*model, dir / "bare.safetensors");
  try {
    track::load_mtp(dir / "bare.safetensors");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bare.safetensors"), std::string::npos);
  }
  remove_tree(dir);
}

}  // namespace
}  // namespace vss::test
