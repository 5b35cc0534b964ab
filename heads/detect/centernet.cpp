// The CenterNet detector on a VSS backbone (see centernet.h).
#include "heads/detect/centernet.h"

#include "backbones/backbone_registry.h"
#include "backbones/vssm.h"
#include "core/config.h"
#include "core/error.h"
#include "heads/detect/centernet_losses.h"

#include <torch/torch.h>

#include <algorithm>

namespace vss::detect {
namespace {

// 3x3 conv + ReLU + 1x1 conv, CenterNet's head layout (keys <name>.0.*, <name>.2.*).
torch::nn::Sequential make_head(int64_t in, int64_t hidden, int64_t out, double final_bias, bool small_init) {
  torch::nn::Sequential s(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, hidden, 3).padding(1)),
                          torch::nn::ReLU(torch::nn::ReLUOptions(true)),
                          torch::nn::Conv2d(torch::nn::Conv2dOptions(hidden, out, 1)));
  torch::NoGradGuard no_grad;
  auto* last = s[2]->as<torch::nn::Conv2d>();
  // CenterNet: the heatmap's last bias is -2.19; fill_fc_weights gives the regression heads
  // N(0, 0.001) weights and 0 biases, so boxes start near zero size instead of random.
  if (small_init) last->weight.normal_(0, 0.001);
  last->bias.fill_(final_bias);
  return s;
}

}  // namespace

int64_t padded_size(int64_t size) { return (size + 31) / 32 * 32; }

CenterNetImpl::CenterNetImpl(std::shared_ptr<Backbone> backbone, CenterNetOptions options)
    : backbone_(register_module("backbone", std::move(backbone))), options_(std::move(options)) {
  const auto channels = backbone_->feature_channels();
  const auto strides = backbone_->feature_strides();
  if (strides.empty() || strides.front() != 4)
    throw Error("centernet: the backbone's finest feature map must have stride 4");
  const int64_t C = options_.neck_channels;
  lateral_ = register_module("lateral", torch::nn::ModuleList());
  for (int64_t c : channels) lateral_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(c, C, 1)));
  smooth_ = register_module("smooth", torch::nn::Conv2d(torch::nn::Conv2dOptions(C, C, 3).padding(1).bias(false)));
  smooth_bn_ = register_module("smooth_bn", torch::nn::BatchNorm2d(C));
  hm_ = register_module("hm", make_head(C, options_.head_conv, options_.num_classes, -2.19, false));
  wh_ = register_module("wh", make_head(C, options_.head_conv, 2, 0, true));
  reg_ = register_module("reg", make_head(C, options_.head_conv, 2, 0, true));
}

CenterNetOutput CenterNetImpl::forward(const at::Tensor& images) {
  const auto features = backbone_->forward_features(images);
  // Top-down: the coarsest lateral, then each finer lateral plus the upsampled sum so far.
  at::Tensor x;
  for (int64_t i = static_cast<int64_t>(features.size()) - 1; i >= 0; --i) {
    at::Tensor lat = lateral_[static_cast<size_t>(i)]->as<torch::nn::Conv2d>()->forward(features[static_cast<size_t>(i)]);
    if (x.defined())
      x = lat + torch::nn::functional::interpolate(
                    x, torch::nn::functional::InterpolateFuncOptions()
                           .size(std::vector<int64_t>{lat.size(2), lat.size(3)})
                           .mode(torch::kBilinear)
                           .align_corners(false));
    else
      x = lat;
  }
  x = torch::relu(smooth_bn_->forward(smooth_->forward(x)));
  return {hm_->forward(x), wh_->forward(x), reg_->forward(x)};
}

at::Tensor CenterNetImpl::normalize(const at::Tensor& images) const {
  if (images.dim() != 4 || images.size(1) != options_.in_channels)
    throw_shape_error("detection input", {-1, options_.in_channels, -1, -1}, images.sizes().vec());
  const at::Tensor x = images.to(torch::kFloat32);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const at::Tensor mean = torch::tensor(options_.mean, f64).to(x.device(), torch::kFloat32).view({1, -1, 1, 1});
  const at::Tensor std = torch::tensor(options_.std, f64).to(x.device(), torch::kFloat32).view({1, -1, 1, 1});
  return (x - mean) / std;
}

std::vector<std::vector<Detection>> CenterNetImpl::detect(const at::Tensor& images) {
  const int64_t H = images.size(2), W = images.size(3);
  at::Tensor x = normalize(images);
  const int64_t Hp = padded_size(H), Wp = padded_size(W);
  // Padding after normalising with 0 = the mean colour (CenterNet pads its affine warp with 0).
  if (Hp != H || Wp != W) x = torch::constant_pad_nd(x, {0, Wp - W, 0, Hp - H}, 0);
  const CenterNetOutput out = forward(x);
  auto dets = decode_centernet(clamped_sigmoid(out.heatmap.to(torch::kFloat32)), out.wh.to(torch::kFloat32),
                               out.reg.to(torch::kFloat32), options_.test);
  for (auto& image : dets) {
    std::vector<Detection> kept;
    for (auto d : image) {
      d.x1 = std::clamp(d.x1, 0.0, static_cast<double>(W));
      d.x2 = std::clamp(d.x2, 0.0, static_cast<double>(W));
      d.y1 = std::clamp(d.y1, 0.0, static_cast<double>(H));
      d.y2 = std::clamp(d.y2, 0.0, static_cast<double>(H));
      // A negative or sub-pixel predicted size (CenterNet does not constrain wh), or a box
      // outside the image, is no box: COCO results and the tracker need w, h > 0, and det files
      // keep 0.01 px.
      if (d.x2 - d.x1 >= 1 && d.y2 - d.y1 >= 1) kept.push_back(d);
    }
    image = std::move(kept);
  }
  return dets;
}

CenterNet make_centernet(const Config& model) {
  model.check_keys({"type", "num_classes", "backbone", "neck", "head", "data_preprocessor", "test"});
  const auto type = model.get<std::string>("type");
  if (type != "centernet") model["type"].fail("unknown detector '" + type + "' (known: centernet)");
  if (!model.has("num_classes")) model.fail("missing required key 'num_classes'");
  CenterNetOptions o;
  o.num_classes = model.get_int_in_or("num_classes", 1, 1, kMaxChannels);
  if (model.has("neck")) {
    const Config n = model["neck"];
    n.check_keys({"channels"});
    o.neck_channels = n.get_int_in_or("channels", o.neck_channels, 1, kMaxChannels);
  }
  if (model.has("head")) {
    const Config h = model["head"];
    h.check_keys({"head_conv"});
    o.head_conv = h.get_int_in_or("head_conv", o.head_conv, 1, kMaxChannels);
  }
  if (model.has("test")) {
    const Config t = model["test"];
    t.check_keys({"top_k", "score_threshold"});
    o.test.top_k = t.get_int_in_or("top_k", o.test.top_k, 1, 100000);
    o.test.score_threshold = t.get_or<double>("score_threshold", o.test.score_threshold);
    if (!(o.test.score_threshold >= 0 && o.test.score_threshold <= 1))
      t["score_threshold"].fail("must be in [0, 1]");
  }
  std::shared_ptr<Backbone> backbone = make_backbone(model["backbone"]);
  const auto* vssm = dynamic_cast<const VSSM*>(backbone.get());
  o.in_channels = vssm ? vssm->options().in_chans : 3;
  if (model.has("data_preprocessor")) {
    const Config pre = model["data_preprocessor"];
    pre.check_keys({"mean", "std"});
    o.mean = read_per_channel(pre, "mean", o.in_channels);
    o.std = read_per_channel(pre, "std", o.in_channels);
    for (double s : o.std)
      if (!(s > 0)) pre["std"].fail("entries must be positive");
  } else if (o.in_channels != 3) {
    model.fail("needs data_preprocessor: {mean, std} with " + std::to_string(o.in_channels) + " values each");
  }
  if (backbone->feature_strides().empty() || backbone->feature_strides().front() != 4)
    model["backbone"].fail("centernet needs a backbone whose finest map has stride 4 (vssm_backbone)");
  return CenterNet(backbone, o);
}

}  // namespace vss::detect
