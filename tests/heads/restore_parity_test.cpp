// MambaIR against a float64 Python transcription of the official forward
// (csguoh/MambaIR basicsr/archs/mambair_arch.py: SS2D.forward_core's stack / flip / transpose
// cross scan, mamba_ssm's selective_scan_ref recurrence, CAB, VSSBlock, ResidualGroup and the
// three reconstructions), reading our weights by their official names.
#include "backbones/weights.h"
#include "core/config.h"
#include "core/remove_tree.h"
#include "core/safetensors.h"
#include "heads/restore/restoration_net.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace vss::test {
namespace {

constexpr const char* kOfficialForward = R"PY(
import math, re, sys, torch, torch.nn.functional as F
from safetensors.torch import load_file, save_file
def ln(t, p): return F.layer_norm(t, (t.shape[-1],), w[p + ".weight"], w[p + ".bias"], 1e-5)
def conv(t, p, **kw): return F.conv2d(t, w[p + ".weight"], w.get(p + ".bias"), **kw)
def selective_scan_ref(u, delta, A, B, C, D, delta_bias):
    delta = F.softplus(delta + delta_bias[..., None])
    b, d, l = u.shape
    B = B.repeat_interleave(d // B.shape[1], dim=1); C = C.repeat_interleave(d // C.shape[1], dim=1)
    deltaA = torch.exp(torch.einsum("bdl,dn->bdln", delta, A))
    deltaB_u = torch.einsum("bdl,bdnl,bdl->bdln", delta, B, u)
    h = torch.zeros(b, d, A.shape[1], dtype=u.dtype); ys = []
    for i in range(l):
        h = deltaA[:, :, i] * h + deltaB_u[:, :, i]
        ys.append(torch.einsum("bdn,bdn->bd", h, C[:, :, :, i]))
    return torch.stack(ys, 2) + u * D[None, :, None]
def ss2d(t, p):
    Bn, H, W, _ = t.shape
    x, z = F.linear(t, w[p + ".in_proj.weight"]).chunk(2, -1)
    x = x.permute(0, 3, 1, 2).contiguous()
    x = F.silu(F.conv2d(x, w[p + ".conv2d.weight"], w[p + ".conv2d.bias"], padding=1, groups=x.shape[1]))
    L = H * W; K = 4
    x_hwwh = torch.stack([x.view(Bn, -1, L), torch.transpose(x, 2, 3).contiguous().view(Bn, -1, L)], 1)
    xs = torch.cat([x_hwwh, torch.flip(x_hwwh, dims=[-1])], 1)
    R = w[p + ".dt_projs_weight"].shape[2]; N = w[p + ".A_logs"].shape[1]
    x_dbl = torch.einsum("bkdl,kcd->bkcl", xs, w[p + ".x_proj_weight"])
    dts, Bs, Cs = torch.split(x_dbl, [R, N, N], 2)
    dts = torch.einsum("bkrl,kdr->bkdl", dts, w[p + ".dt_projs_weight"])
    out = selective_scan_ref(xs.reshape(Bn, -1, L), dts.reshape(Bn, -1, L), -torch.exp(w[p + ".A_logs"]), Bs, Cs,
                             w[p + ".Ds"], w[p + ".dt_projs_bias"].reshape(-1)).view(Bn, K, -1, L)
    inv = torch.flip(out[:, 2:4], dims=[-1])
    wh = torch.transpose(out[:, 1].view(Bn, -1, W, H), 2, 3).contiguous().view(Bn, -1, L)
    invwh = torch.transpose(inv[:, 1].view(Bn, -1, W, H), 2, 3).contiguous().view(Bn, -1, L)
    y = (out[:, 0] + inv[:, 0] + wh + invwh).transpose(1, 2).contiguous().view(Bn, H, W, -1)
    return F.linear(ln(y, p + ".out_norm") * F.silu(z), w[p + ".out_proj.weight"])
def ca(t, p):
    a = conv(F.relu(conv(t.mean((2, 3), keepdim=True), p + ".attention.1")), p + ".attention.3")
    return t * torch.sigmoid(a)
def cab(t, p):
    if p + ".cab.5.attention.1.weight" in w:
        t = conv(t, p + ".cab.0"); t = F.gelu(conv(t, p + ".cab.1", padding=1, groups=t.shape[1]))
        t = conv(t, p + ".cab.3"); t = conv(t, p + ".cab.4", padding=2, dilation=2, groups=t.shape[1])
        return ca(t, p + ".cab.5")
    return ca(conv(F.gelu(conv(t, p + ".cab.0", padding=1)), p + ".cab.2", padding=1), p + ".cab.3")
def block(t, p):
    t = t * w[p + ".skip_scale"] + ss2d(ln(t, p + ".ln_1"), p + ".self_attention")
    return t * w[p + ".skip_scale2"] + cab(ln(t, p + ".ln_2").permute(0, 3, 1, 2), p + ".conv_blk").permute(0, 2, 3, 1)
def forward(x, up, scale):
    mean = torch.Tensor([0.4488, 0.4371, 0.4040]).view(1, 3, 1, 1).type_as(x)  # float32 constants, as the official
    xin = x - mean
    first = conv(xin, "conv_first", padding=1)
    t = ln(first.permute(0, 2, 3, 1), "patch_embed.norm")
    groups = sorted({int(m.group(1)) for k in w for m in [re.match(r"layers\.(\d+)\.conv\.weight", k)] if m})
    for i in groups:
        blocks = sorted({int(m.group(1)) for k in w for m in [re.match(rf"layers\.{i}\.residual_group\.blocks\.(\d+)\.", k)] if m})
        g = t
        for j in blocks:
            g = block(g, f"layers.{i}.residual_group.blocks.{j}")
        t = conv(g.permute(0, 3, 1, 2), f"layers.{i}.conv", padding=1).permute(0, 2, 3, 1) + t
    body = conv(ln(t, "norm").permute(0, 3, 1, 2), "conv_after_body", padding=1) + first
    if up == "pixelshuffle":
        y = F.leaky_relu(conv(body, "conv_before_upsample.0", padding=1), 0.01)
        for k in range(int(math.log2(scale))):
            y = F.pixel_shuffle(conv(y, f"upsample.{2 * k}", padding=1), 2)
        y = conv(y, "conv_last", padding=1)
    elif up == "pixelshuffledirect":
        y = F.pixel_shuffle(conv(body, "upsample.0", padding=1), scale)
    else:
        y = xin + conv(body, "conv_last", padding=1)
    return y + mean
out_dir = sys.argv[1]
for case in sys.argv[2:]:
    up, scale = case.split(":")
    w = load_file(f"{out_dir}/{up}_w.safetensors")
    y = forward(load_file(f"{out_dir}/x.safetensors")["x"], up, int(scale))
    save_file({"y": y.contiguous()}, f"{out_dir}/{up}_y.safetensors")
)PY";

TEST(RestoreParity, MambaIRMatchesATranscriptionOfTheOfficialForward) {
  if (!python_has({"torch", "safetensors"})) GTEST_SKIP() << "python torch / safetensors not available";
  const auto dir = make_temp_dir("vss-restore-parity");
  const std::vector<std::pair<std::string, int64_t>> cases{{"pixelshuffledirect", 2}, {"pixelshuffle", 4}, {"none", 1}};
  torch::manual_seed(7);
  const at::Tensor x = torch::rand({2, 3, 5, 7}, torch::kDouble);
  write_safetensors(dir / "x.safetensors", {{"x", x}});
  std::vector<restore::RestorationNet> nets;
  std::vector<std::string> args{dir.string()};
  torch::NoGradGuard no_grad;
  for (const auto& [upsampler, scale] : cases) {
    Config c = Config::load(source_dir() / "configs/restore/mambair_tiny_test.yaml");
    for (const std::string& s : {"model.upsampler=" + upsampler, "model.upscale=" + std::to_string(scale),
                                 std::string("model.depths=[2,1]")})
      c.apply_override(s);
    auto net = restore::make_restoration_net(c["model"]);
    net->to(torch::kDouble);
    // Non-trivial values everywhere (the init leaves skip scales at 1, LayerNorms at 1 / 0).
    for (auto& p : net->parameters()) p.add_(0.05 * torch::randn_like(p));
    save_weights(*net, dir / (upsampler + "_w.safetensors"));
    nets.push_back(net);
    args.push_back(upsampler + ":" + std::to_string(scale));
  }
  std::string log;
  ASSERT_EQ(run_python(kOfficialForward, args, &log), 0) << log;
  for (size_t i = 0; i < cases.size(); ++i) {
    const at::Tensor want = read_safetensors(dir / (cases[i].first + "_y.safetensors")).at("y");
    const at::Tensor got = nets[i]->forward(x);
    ASSERT_EQ(got.sizes(), want.sizes()) << cases[i].first;
    EXPECT_LT(max_abs_diff(got, want), 1e-10) << cases[i].first;
  }
  remove_tree(dir);
}

}  // namespace
}  // namespace vss::test
