// Segmentors: UPerHead + auxiliary FCNHead against the same heads written in Python torch
// (mmseg's structure and state_dict names, loaded strictly from our weights), output shapes of
// every type, mmseg parameter names, the published sizes of UPerNet + VMamba-T and VM-UNet,
// the patch expanding's layout, normalisation, and config errors.
#include "backbones/weights.h"
#include "core/config.h"
#include "core/error.h"
#include "core/remove_tree.h"
#include "core/safetensors.h"
#include "heads/seg/segmentor.h"
#include "heads/seg/unet_decoder.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

namespace vss::seg {
namespace {

// The tiny test backbone (configs/backbones/vss_tiny_test.yaml, dims 4, 8, 8, 16) as a dense
// Backbone_VSSM under a segmentor of `type`.
Config model_config(const std::string& type, const std::string& extra = "") {
  Config c = Config::parse("type: " + type + "\nnum_classes: 5\n" + extra, "model");
  const Config backbone = Config::load(test::source_dir() / "configs/backbones/vss_tiny_test.yaml");
  c.apply_override("backbone=" + backbone.dump());  // the same YAML, nested
  c.apply_override("backbone.type=vssm_backbone");
  return c;
}

Config upernet_config() {
  return model_config("upernet", "decode_head: {channels: 8}\nauxiliary_head: {in_index: 2, channels: 6}");
}

// BatchNorm statistics and affine parameters away from their identity initialisation, so
// eval-mode BN is exercised.
void randomise_norms(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& item : model.named_buffers()) {
    if (item.key().find("running_mean") != std::string::npos) item.value().uniform_(-0.5, 0.5);
    if (item.key().find("running_var") != std::string::npos) item.value().uniform_(0.5, 1.5);
  }
  for (auto& item : model.named_parameters())
    if (item.key().find(".bn.") != std::string::npos) item.value().uniform_(0.5, 1.5);
}

TEST(Segmentor, upernet_and_auxiliary_heads_match_python_torch) {
  if (!test::python_has({"torch", "safetensors"})) GTEST_SKIP() << "python torch/safetensors missing";
  torch::manual_seed(3);
  Segmentor model = make_segmentor(upernet_config());
  randomise_norms(*model);
  model->eval();
  torch::NoGradGuard no_grad;
  const at::Tensor images = torch::randn({2, 3, 37, 45});
  const auto features = model->backbone().forward_features(images);
  const auto [main, aux] = model->forward_train(images);
  ASSERT_TRUE(aux.defined());
  EXPECT_EQ(test::max_abs_diff(model->forward(images), main), 0.0);

  const auto dir = test::make_temp_dir("vss-seg-parity");
  save_weights(*model, dir / "weights.safetensors");
  std::vector<std::pair<std::string, at::Tensor>> inputs;
  for (size_t i = 0; i < features.size(); ++i) inputs.emplace_back("f" + std::to_string(i), features[i]);
  inputs.emplace_back("size", torch::tensor({images.size(2), images.size(3)}));
  write_safetensors(dir / "features.safetensors", inputs);
  std::string log;
  ASSERT_EQ(test::run_python(R"(
import sys, torch, torch.nn as nn, torch.nn.functional as F
from safetensors.torch import load_file, save_file

class ConvModule(nn.Module):  # mmcv ConvModule: conv (no bias) -> bn -> relu
    def __init__(self, i, o, k):
        super().__init__()
        self.conv = nn.Conv2d(i, o, k, padding=k // 2, bias=False)
        self.bn = nn.BatchNorm2d(o)
    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))

def resize(x, size):
    return F.interpolate(x, size=tuple(size), mode='bilinear', align_corners=False)

class UPerHead(nn.Module):  # mmseg decode_heads/uper_head.py structure
    def __init__(self, in_channels, channels, pool_scales, num_classes):
        super().__init__()
        self.psp_modules = nn.ModuleList(
            nn.Sequential(nn.AdaptiveAvgPool2d(s), ConvModule(in_channels[-1], channels, 1)) for s in pool_scales)
        self.bottleneck = ConvModule(in_channels[-1] + len(pool_scales) * channels, channels, 3)
        self.lateral_convs = nn.ModuleList(ConvModule(c, channels, 1) for c in in_channels[:-1])
        self.fpn_convs = nn.ModuleList(ConvModule(channels, channels, 3) for c in in_channels[:-1])
        self.fpn_bottleneck = ConvModule(len(in_channels) * channels, channels, 3)
        self.conv_seg = nn.Conv2d(channels, num_classes, 1)
    def forward(self, inputs):
        x = inputs[-1]
        psp = self.bottleneck(torch.cat([x] + [resize(m(x), x.shape[2:]) for m in self.psp_modules], 1))
        laterals = [conv(inputs[i]) for i, conv in enumerate(self.lateral_convs)] + [psp]
        for i in range(len(laterals) - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + resize(laterals[i], laterals[i - 1].shape[2:])
        outs = [self.fpn_convs[i](laterals[i]) for i in range(len(laterals) - 1)] + [laterals[-1]]
        for i in range(len(outs) - 1, 0, -1):
            outs[i] = resize(outs[i], outs[0].shape[2:])
        return self.conv_seg(self.fpn_bottleneck(torch.cat(outs, 1)))

class FCNHead(nn.Module):  # num_convs 1, concat_input False
    def __init__(self, in_channels, channels, num_classes):
        super().__init__()
        self.convs = nn.Sequential(ConvModule(in_channels, channels, 3))
        self.conv_seg = nn.Conv2d(channels, num_classes, 1)
    def forward(self, x):
        return self.conv_seg(self.convs(x))

weights, inputs = load_file(sys.argv[1]), load_file(sys.argv[2])
def part(prefix):
    return {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
feats = [inputs['f%d' % i] for i in range(4)]
size = inputs['size'].tolist()
decode = UPerHead([f.shape[1] for f in feats], 8, (1, 2, 3, 6), 5)
decode.load_state_dict(part('decode_head.'), strict=True)
aux = FCNHead(feats[2].shape[1], 6, 5)
aux.load_state_dict(part('auxiliary_head.'), strict=True)
decode.eval(); aux.eval()
with torch.no_grad():
    save_file({'main': resize(decode(feats), size), 'aux': resize(aux(feats[2]), size)}, sys.argv[3])
)",
                             {(dir / "weights.safetensors").string(), (dir / "features.safetensors").string(),
                              (dir / "expected.safetensors").string()},
                             &log),
            0)
      << log;
  const auto expected = read_safetensors(dir / "expected.safetensors");
  EXPECT_LT(test::max_rel_diff(main, expected.at("main")), 1e-5);
  EXPECT_LT(test::max_rel_diff(aux, expected.at("aux")), 1e-5);
  EXPECT_GT(expected.at("main").abs().max().item<double>(), 1e-3);  // not trivially zero
  remove_tree(dir);
}

TEST(Segmentor, every_type_gives_logits_at_the_input_size) {
  torch::manual_seed(0);
  const std::vector<Config> configs = {
      upernet_config(), model_config("fpn", "decode_head: {channels: 8}"),
      model_config("vm_unet", "decode_head: {depths: [1, 1, 1, 1]}"),
      model_config("vm_unet", "data_preprocessor: {mean: [0.5], std: [2.0]}")};
  for (size_t i = 0; i < configs.size(); ++i) {
    Config c = configs[i];
    if (i == 3) c.apply_override("backbone.in_chans=1");
    Segmentor model = make_segmentor(c);
    const int64_t channels = model->in_channels();
    for (const auto& hw : std::vector<std::pair<int64_t, int64_t>>{{32, 32}, {37, 45}}) {
      const at::Tensor images = torch::randn({2, channels, hw.first, hw.second});
      const auto [main, aux] = model->forward_train(images);
      EXPECT_EQ(main.sizes().vec(), (std::vector<int64_t>{2, 5, hw.first, hw.second})) << c.dump();
      EXPECT_EQ(aux.defined(), model->has_auxiliary_head());
      if (aux.defined()) {
        EXPECT_EQ(aux.sizes(), main.sizes());
      }
      main.sum().backward();  // the graph reaches the backbone
      EXPECT_TRUE(model->named_parameters()["backbone.patch_embed.0.weight"].grad().defined());
      model->zero_grad();
    }
  }
}

TEST(Segmentor, parameter_names_are_mmseg_s) {
  Segmentor model = make_segmentor(upernet_config());
  std::set<std::string> names;
  for (const auto& item : model->named_parameters()) names.insert(item.key());
  for (const auto& item : model->named_buffers()) names.insert(item.key());
  for (const char* expected :
       {"backbone.patch_embed.0.weight", "backbone.outnorm3.weight", "decode_head.psp_modules.0.1.conv.weight",
        "decode_head.psp_modules.3.1.bn.running_var", "decode_head.bottleneck.conv.weight",
        "decode_head.lateral_convs.0.conv.weight", "decode_head.lateral_convs.2.bn.bias",
        "decode_head.fpn_convs.2.conv.weight", "decode_head.fpn_bottleneck.bn.num_batches_tracked",
        "decode_head.conv_seg.weight", "decode_head.conv_seg.bias", "auxiliary_head.convs.0.conv.weight",
        "auxiliary_head.convs.0.bn.weight", "auxiliary_head.conv_seg.weight"})
    EXPECT_TRUE(names.count(expected)) << expected;
  for (const char* absent : {"decode_head.lateral_convs.3.conv.weight", "decode_head.fpn_convs.3.conv.weight",
                             "decode_head.lateral_convs.0.conv.bias", "backbone.classifier.head.weight"})
    EXPECT_FALSE(names.count(absent)) << absent;

  Segmentor unet = make_segmentor(model_config("vm_unet"));
  std::set<std::string> unet_names;
  for (const auto& item : unet->named_parameters()) unet_names.insert(item.key());
  for (const char* expected :
       {"decode_head.layers_up.0.blocks.1.op.A_logs", "decode_head.layers_up.1.upsample.expand.weight",
        "decode_head.layers_up.3.upsample.norm.weight", "decode_head.layers_up.3.blocks.0.mlp.fc1.weight",
        "decode_head.final_up.expand.weight", "decode_head.final_conv.bias"})
    EXPECT_TRUE(unet_names.count(expected)) << expected;
  EXPECT_FALSE(unet_names.count("decode_head.layers_up.0.upsample.expand.weight"));
  EXPECT_FALSE(unet_names.count("decode_head.layers_up.3.blocks.1.norm.weight"));  // depths [2, 2, 2, 1]
}

double million_parameters(const std::string& config) {
  Segmentor model = make_segmentor(Config::load(test::source_dir() / "configs/seg" / config)["model"]);
  int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  return static_cast<double>(params) / 1e6;
}

TEST(Segmentor, upernet_vmamba_tiny_and_vm_unet_have_the_published_sizes) {
  // VMamba's README (ADE20K, UperNet@160k, 512x512): VMamba-T 62M parameters, with the
  // auxiliary head as mmseg counts them (ours: 61.90M).
  EXPECT_NEAR(million_parameters("upernet_vmamba_tiny_ade20k_512.yaml"), 62.0, 0.5);
  // VM-UNet paper / README: 27.4M (ours: 27.43M, the same layers up to the skips' placement).
  EXPECT_NEAR(million_parameters("vm_unet_lesion_256.yaml"), 27.4, 0.05);
}

TEST(Segmentor, bundled_demo_weights_load_strictly_and_are_small) {
  const auto file = test::source_dir() / "weights/shapes_seg_tiny.safetensors";
  EXPECT_LT(std::filesystem::file_size(file), 2u << 20);
  Segmentor model = make_segmentor(Config::load(test::source_dir() / "configs/seg/shapes_seg_tiny.yaml")["model"]);
  load_weights(*model, file, /*strict=*/true);
  model->eval();
  torch::NoGradGuard no_grad;
  // A flat grey image is background (class 0) everywhere a trained model looks.
  const at::Tensor logits = model->forward(model->normalize(torch::full({1, 3, 64, 64}, 128.0)));
  ASSERT_EQ(logits.sizes().vec(), (std::vector<int64_t>{1, 5, 64, 64}));
  EXPECT_GT(logits.argmax(1).eq(0).to(torch::kFloat).mean().item<double>(), 0.9);
}

TEST(Segmentor, patch_expanding_lays_channels_out_as_einops_b_h_w_p1_p2_c) {
  // One input pixel of value 1: the expanded vector is the weight column w, and einops'
  // 'b h w (p1 p2 c) -> b (h p1) (w p2) c' puts w[6·p1 + 3·p2 + c] at sub-pixel (p1, p2),
  // channel c (then LayerNorm over c).
  torch::manual_seed(5);
  PatchExpand expand(1, 3, 2);
  const at::Tensor w = torch::randn({12});
  torch::NoGradGuard no_grad;
  expand->named_parameters()["expand.weight"].copy_(w.view({12, 1}));
  const at::Tensor y = expand->forward(torch::ones({1, 1, 1, 1}));
  ASSERT_EQ(y.sizes().vec(), (std::vector<int64_t>{1, 2, 2, 3}));
  for (int64_t p1 = 0; p1 < 2; ++p1)
    for (int64_t p2 = 0; p2 < 2; ++p2)
      EXPECT_LT(test::max_abs_diff(y[0][p1][p2], torch::layer_norm(w.slice(0, 6 * p1 + 3 * p2, 6 * p1 + 3 * p2 + 3), {3})),
                1e-6)
          << p1 << "," << p2;
}

TEST(Segmentor, normalize_uses_the_data_preprocessor) {
  Segmentor model = make_segmentor(upernet_config());
  const at::Tensor pixels = torch::full({1, 3, 2, 2}, 124, torch::kUInt8);
  const at::Tensor x = model->normalize(pixels);
  EXPECT_EQ(x.scalar_type(), torch::kFloat);
  EXPECT_NEAR(x[0][0][1][1].item<double>(), (124 - 123.675) / 58.395, 1e-6);  // mmseg's ImageNet mean / std
  EXPECT_NEAR(x[0][2][0][0].item<double>(), (124 - 103.53) / 57.375, 1e-6);

  Config grey = model_config("fpn", "data_preprocessor: {mean: [100], std: [10]}");
  grey.apply_override("backbone.in_chans=1");
  Segmentor grey_model = make_segmentor(grey);
  const at::Tensor rgb = torch::tensor({110.0, 120.0, 130.0}, torch::kFloat).view({1, 3, 1, 1});
  EXPECT_NEAR(grey_model->normalize(rgb).item<double>(), 2.0, 1e-5);  // (mean of RGB - 100) / 10
  EXPECT_THROW(grey_model->normalize(torch::zeros({1, 2, 4, 4})), Error);
}

TEST(Segmentor, config_errors_name_the_key) {
  auto message = [](const Config& c) -> std::string {
    try {
      make_segmentor(c);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message(model_config("segformer")).find("unknown segmentor 'segformer' (known: fpn, upernet, vm_unet)"),
            std::string::npos);
  EXPECT_NE(message(model_config("fpn", "decode_head: {chanels: 8}")).find("chanels"), std::string::npos);
  EXPECT_NE(message(model_config("upernet", "auxiliary_head: {in_index: 4}")).find("in_index"), std::string::npos);
  EXPECT_NE(message(model_config("vm_unet", "decode_head: {depths: [1, 1]}")).find("one entry per encoder stage"),
            std::string::npos);
  EXPECT_NE(message(model_config("fpn", "data_preprocessor: {mean: [1, 2], std: [1, 1]}")).find("one value per input channel"),
            std::string::npos);
  Config one = model_config("fpn");
  one.apply_override("num_classes=1");
  EXPECT_NE(message(one).find("num_classes"), std::string::npos);
}

}  // namespace
}  // namespace vss::seg
