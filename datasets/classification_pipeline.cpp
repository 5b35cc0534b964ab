#include "datasets/classification_pipeline.h"

#include "core/config.h"
#include "core/error.h"

#include <ATen/ATen.h>

#include <cmath>

namespace vss {

namespace {

at::Tensor rgb_hwc_as_chw(const at::Tensor& image) {
  if (image.dim() != 3 || image.size(2) != 3 || image.scalar_type() != at::kByte)
    throw Error("classification transform: expected an RGB image [H, W, 3] uint8, got " +
                shape_to_string(image.sizes().vec()));
  return image.permute({2, 0, 1});
}

std::array<double, 2> read_pair(const Config& node, const std::string& key, std::array<double, 2> fallback) {
  if (!node.has(key)) return fallback;
  const auto v = node.get<std::vector<double>>(key);
  if (v.size() != 2 || !(v[0] > 0) || !(v[0] <= v[1])) node[key].fail("expected [min, max] with 0 < min <= max");
  return {v[0], v[1]};
}

std::array<double, 3> read_triple(const Config& node, const std::string& key, std::array<double, 3> fallback) {
  if (!node.has(key)) return fallback;
  const auto v = node.get<std::vector<double>>(key);
  if (v.size() != 3) node[key].fail("expected 3 values (R, G, B)");
  return {v[0], v[1], v[2]};
}

ColorJitter read_color_jitter(const Config& node) {
  ColorJitter j;
  std::vector<double> v;
  if (node.is_list()) v = node.as<std::vector<double>>();
  else v.assign(3, node.as<double>());
  if (v.size() != 3 && v.size() != 4) node.fail("expected x, [brightness, contrast, saturation] or [b, c, s, hue]");
  for (double x : v)
    if (!(x >= 0)) node.fail("strengths must be >= 0");
  j.brightness = v[0];
  j.contrast = v[1];
  j.saturation = v[2];
  j.hue = v.size() == 4 ? v[3] : 0.0;
  if (j.hue > 0.5) node.fail("hue must be <= 0.5 (a fraction of the colour circle)");
  return j;
}

}  // namespace

ClassificationPipeline ClassificationPipeline::from_config(const Config& node) {
  node.check_keys({"size", "scale", "ratio", "hflip", "auto_augment", "color_jitter", "crop_pct", "interpolation",
                   "mean", "std"});
  ClassificationPipeline p;
  p.size = node.get_int_in_or("size", p.size, 1, 1 << 14);
  p.crop.scale = read_pair(node, "scale", p.crop.scale);
  if (p.crop.scale[1] > 1) node["scale"].fail("area fractions must be <= 1");
  p.crop.ratio = read_pair(node, "ratio", p.crop.ratio);
  p.hflip = node.get_or<double>("hflip", p.hflip);
  if (!(p.hflip >= 0 && p.hflip <= 1)) node["hflip"].fail("must be a probability in [0, 1]");
  if (node.has("auto_augment") && !node["auto_augment"].is_null())
    p.auto_augment = AutoAugment::from_config(node["auto_augment"]);
  if (node.has("color_jitter")) p.color_jitter = read_color_jitter(node["color_jitter"]);
  p.crop_pct = node.get_or<double>("crop_pct", p.crop_pct);
  if (!(p.crop_pct > 0 && p.crop_pct <= 1)) node["crop_pct"].fail("must be in (0, 1]");
  try {
    p.interpolation = parse_interpolation(node.get_or<std::string>("interpolation", "bicubic"));
  } catch (const Error& e) {
    node["interpolation"].fail(e.what());
  }
  p.mean = read_triple(node, "mean", p.mean);
  p.std = read_triple(node, "std", p.std);
  for (double s : p.std)
    if (!(s > 0)) node["std"].fail("must be > 0");
  return p;
}

at::Tensor ClassificationPipeline::normalize(const at::Tensor& chw01) const {
  const at::Tensor m = at::tensor({mean[0], mean[1], mean[2]}, at::kFloat).view({3, 1, 1});
  const at::Tensor s = at::tensor({std[0], std[1], std[2]}, at::kFloat).view({3, 1, 1});
  return ((chw01.to(at::kFloat) - m) / s).contiguous();
}

at::Tensor ClassificationPipeline::train(const at::Tensor& image, AugmentRng& rng) const {
  const at::Tensor chw = rgb_hwc_as_chw(image);
  const CropBox box = crop.box(chw.size(1), chw.size(2), rng);
  at::Tensor out = resize_uint8(vss::crop(chw, box).contiguous(), size, size, interpolation);
  if (hflip > 0 && std::uniform_real_distribution<double>(0.0, 1.0)(rng) < hflip) out = out.flip(2);
  if (auto_augment) out = (*auto_augment)(out.contiguous(), rng);
  at::Tensor unit = out.to(at::kFloat) / 255.0f;
  if (color_jitter.enabled()) unit = color_jitter(unit, rng);
  return normalize(unit);
}

int64_t ClassificationPipeline::eval_resize() const {
  // timm: math.floor(img_size / crop_pct), the same IEEE division.
  return static_cast<int64_t>(std::floor(static_cast<double>(size) / crop_pct));
}

at::Tensor ClassificationPipeline::eval_crop(const at::Tensor& image) const {
  const at::Tensor chw = rgb_hwc_as_chw(image);
  const auto [h, w] = shorter_side_size(chw.size(1), chw.size(2), eval_resize());
  const at::Tensor resized = resize_uint8(chw.contiguous(), h, w, interpolation);
  // torchvision's CenterCrop: int(round((h - size) / 2)), Python's round (half to even).
  const auto top = static_cast<int64_t>(std::nearbyint(static_cast<double>(h - size) / 2.0));
  const auto left = static_cast<int64_t>(std::nearbyint(static_cast<double>(w - size) / 2.0));
  return resized.narrow(1, top, size).narrow(2, left, size);
}

at::Tensor ClassificationPipeline::eval(const at::Tensor& image) const {
  return normalize(eval_crop(image).to(at::kFloat) / 255.0f);
}

}  // namespace vss
