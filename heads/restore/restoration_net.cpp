#include "heads/restore/restoration_net.h"

#include "core/config.h"
#include "scans/scan_strategy.h"

#include <torch/torch.h>

#include <cmath>

namespace vss::restore {

namespace {

torch::nn::Conv2d conv3x3(int64_t in, int64_t out) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1));
}

bool is_power_of_two(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

std::shared_ptr<ScanStrategy> mair_scan(int64_t scan_len, int64_t shift) {
  return make_scan_strategy(Config::parse("{type: s_shaped, scan_len: " + std::to_string(scan_len) +
                                              ", shift: " + std::to_string(shift) + "}",
                                          "MaIR's block scan"));
}

}  // namespace

RestorationNetOptions restoration_options_from_config(const Config& node) {
  RestorationNetOptions o;
  const std::string type = node.get<std::string>("type");
  if (type != "mambair" && type != "mair") node["type"].fail("unknown restoration model '" + type + "' (known: mambair, mair)");
  o.mair = type == "mair";
  std::vector<std::string> keys{"type", "in_chans", "embed_dim", "depths", "d_state", "mlp_ratio", "upscale",
                                "upsampler", "img_range", "resi_connection", "fused_scan"};
  for (const char* k : o.mair ? std::vector<const char*>{"ssm_ratio", "scan_len"} : std::vector<const char*>{"scan"})
    keys.push_back(k);
  node.check_keys(keys);
  o.in_chans = node.get_int_in_or("in_chans", o.in_chans, 1, kMaxChannels);
  o.embed_dim = node.get_int_in_or("embed_dim", o.embed_dim, 1, kMaxChannels);
  if (node.has("depths")) o.depths = node.get_ints_in("depths", 1, kMaxDepth);
  o.mlp_ratio = node.get_or<double>("mlp_ratio", o.mlp_ratio);
  if (!o.mair) o.ssm.ssm_ratio = o.mlp_ratio;  // MambaIR's SS2D expand; MaIR has its own ssm_ratio
  read_ss2d_keys(node,
                 o.mair ? SS2DKeys{.d_state = "d_state", .ssm_ratio = "ssm_ratio", .fused_scan = "fused_scan"}
                        : SS2DKeys{.d_state = "d_state", .scan = "scan", .fused_scan = "fused_scan"},
                 o.ssm);
  o.scan_len = node.get_int_in_or("scan_len", o.scan_len, 2, kMaxChannels);  // odd blocks shift by scan_len / 2
  o.upscale = node.get_int_in_or("upscale", o.upscale, 1, 16);
  o.upsampler = node.get_or<std::string>("upsampler", o.upsampler);
  if (o.upsampler.empty()) o.upsampler = "none";
  o.img_range = node.get_or<double>("img_range", o.img_range);

  if (o.depths.empty()) node["depths"].fail("needs at least one residual group");
  if (!(o.mlp_ratio > 0 && o.mlp_ratio <= 64)) node["mlp_ratio"].fail("must be in (0, 64]");
  if (!(o.img_range > 0)) node["img_range"].fail("must be positive");
  if (node.has("resi_connection") && node.get<std::string>("resi_connection") != "1conv")
    node["resi_connection"].fail("only '1conv' is supported (every released model uses it)");
  if (o.upsampler != "pixelshuffle" && o.upsampler != "pixelshuffledirect" && o.upsampler != "none")
    node["upsampler"].fail("unsupported value '" + o.upsampler + "' (supported: pixelshuffle, pixelshuffledirect, none)");
  if (o.upsampler == "none" && o.upscale != 1) node["upscale"].fail("must be 1 without an upsampler");
  if (o.upsampler != "none" && o.upscale < 2) node["upscale"].fail("must be >= 2 with an upsampler");
  if (o.upsampler == "pixelshuffle" && !is_power_of_two(o.upscale) && o.upscale != 3)
    node["upscale"].fail("pixelshuffle supports 2^n and 3, got " + std::to_string(o.upscale));
  return o;
}

RestorationNetImpl::RestorationNetImpl(RestorationNetOptions o) : options_(std::move(o)) {
  const RestorationNetOptions& op = options_;
  const int64_t C = op.embed_dim, out_chans = op.in_chans;
  mean_ = op.in_chans == 3 ? torch::tensor({0.4488f, 0.4371f, 0.4040f}).view({1, 3, 1, 1})
                           : torch::zeros({1, op.in_chans, 1, 1});
  conv_first = register_module("conv_first", conv3x3(op.in_chans, C));
  auto patch_embed = register_module("patch_embed", std::make_shared<torch::nn::Module>("PatchEmbed"));
  patch_norm = patch_embed->register_module("norm", ChannelNorm("ln", C));

  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t depth : op.depths) {
    std::vector<RestorationBlockOptions> blocks;
    for (int64_t j = 0; j < depth; ++j) {
      RestorationBlockOptions b;
      b.mair = op.mair;
      b.ssm = op.ssm;
      b.ssm.d_model = C;
      b.ssm.dt_rank = 0;  // auto: ceil(C / 16)
      b.ssm.d_conv = 3;
      b.ssm.conv_bias = true;
      b.ssm.forward_type = "v2";
      b.ssm.gated = true;
      // MaIR shifts the stripes by half a stripe in every odd block of a group.
      if (op.mair) b.ssm.scan = mair_scan(op.scan_len, j % 2 == 0 ? 0 : op.scan_len / 2);
      b.light_cab = op.upsampler == "pixelshuffledirect";
      b.mlp_ratio = op.mlp_ratio;
      blocks.push_back(b);
    }
    layers->push_back(ResidualGroup(blocks));
  }
  norm = register_module("norm", ChannelNorm("ln", C));
  conv_after_body = register_module("conv_after_body", conv3x3(C, C));

  if (op.upsampler == "pixelshuffle") {
    constexpr int64_t kFeat = 64;
    conv_before_upsample = register_module(
        "conv_before_upsample",
        torch::nn::Sequential(conv3x3(C, kFeat), torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.01))));
    upsample = torch::nn::Sequential();
    if (op.upscale == 3) {
      upsample->push_back(conv3x3(kFeat, 9 * kFeat));
      upsample->push_back(torch::nn::PixelShuffle(3));
    } else {
      for (int64_t s = op.upscale; s > 1; s /= 2) {
        upsample->push_back(conv3x3(kFeat, 4 * kFeat));
        upsample->push_back(torch::nn::PixelShuffle(2));
      }
    }
    register_module("upsample", upsample);
    conv_last = register_module("conv_last", conv3x3(kFeat, out_chans));
  } else if (op.upsampler == "pixelshuffledirect") {
    upsample = register_module(
        "upsample", torch::nn::Sequential(conv3x3(C, op.upscale * op.upscale * out_chans),
                                          torch::nn::PixelShuffle(op.upscale)));
  } else {
    conv_last = register_module("conv_last", conv3x3(C, out_chans));
  }
  // The official _init_weights: Linear weights truncated normal (std 0.02) with zero bias
  // (Dense does this), LayerNorms 1 / 0 (ChannelNorm's default); convs keep PyTorch's init.
}

at::Tensor RestorationNetImpl::forward(const at::Tensor& input) {
  const RestorationNetOptions& op = options_;
  TORCH_CHECK(input.dim() == 4 && input.size(1) == op.in_chans, "restoration net: expected input [B, ", op.in_chans,
              ", H, W], got ", input.sizes());
  const at::Tensor mean = mean_.to(input.device(), input.scalar_type());
  const at::Tensor x = (input - mean) * op.img_range;
  const at::Tensor first = conv_first->forward(x);
  // Deep features on channel-last tokens.
  at::Tensor t = patch_norm->forward(first.permute({0, 2, 3, 1}));
  for (const auto& layer : *layers) t = layer->as<ResidualGroup>()->forward(t);
  t = norm->forward(t);
  const at::Tensor body = conv_after_body->forward(t.permute({0, 3, 1, 2})) + first;

  at::Tensor out;
  if (op.upsampler == "pixelshuffle")
    out = conv_last->forward(upsample->forward(conv_before_upsample->forward(body)));
  else if (op.upsampler == "pixelshuffledirect")
    out = upsample->forward(body);
  else
    out = x + conv_last->forward(body);
  return out / op.img_range + mean;
}

RestorationNet make_restoration_net(const Config& node) { return RestorationNet(restoration_options_from_config(node)); }

}  // namespace vss::restore
