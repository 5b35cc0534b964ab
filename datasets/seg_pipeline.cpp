#include "datasets/seg_pipeline.h"

#include "core/config.h"
#include "core/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace vss {

namespace {

std::array<int64_t, 2> positive_pair(const Config& node, const std::string& key) {
  const auto v = node.get<std::vector<int64_t>>(key);
  if (v.size() != 2 || v[0] < 1 || v[1] < 1) node[key].fail("expected two positive integers, e.g. [512, 512]");
  return {v[0], v[1]};
}

}  // namespace

std::array<int64_t, 2> rescale_size(int64_t H, int64_t W, double long_edge, double short_edge) {
  const double max_long = std::max(long_edge, short_edge), max_short = std::min(long_edge, short_edge);
  const double factor = std::min(max_long / static_cast<double>(std::max(H, W)),
                                 max_short / static_cast<double>(std::min(H, W)));
  const auto round = [](double x) { return std::max<int64_t>(1, static_cast<int64_t>(x + 0.5)); };
  return {round(static_cast<double>(H) * factor), round(static_cast<double>(W) * factor)};
}

SegPipeline SegPipeline::from_config(const Config& node, int64_t ignore_index) {
  node.check_keys({"scale", "ratio_range", "crop_size", "cat_max_ratio", "flip_prob", "photometric", "test_scale"});
  SegPipeline p;
  p.ignore_index = ignore_index;
  if (node.has("scale")) p.scale = positive_pair(node, "scale");
  if (node.has("test_scale")) p.test_scale = positive_pair(node, "test_scale");
  if (node.has("crop_size")) p.crop_size = positive_pair(node, "crop_size");
  if (node.has("ratio_range")) {
    if (!p.scale) node["ratio_range"].fail("needs `scale` (the size the ratios multiply)");
    const auto r = node.get<std::vector<double>>("ratio_range");
    if (r.size() != 2 || !(r[0] > 0) || r[1] < r[0]) node["ratio_range"].fail("expected [min, max] with 0 < min <= max");
    p.ratio_range = {r[0], r[1]};
  }
  p.cat_max_ratio = node.get_or<double>("cat_max_ratio", 1.0);
  if (!(p.cat_max_ratio > 0 && p.cat_max_ratio <= 1)) node["cat_max_ratio"].fail("must be in (0, 1]");
  if (node.has("cat_max_ratio") && !p.crop_size) node["cat_max_ratio"].fail("needs `crop_size`");
  p.flip_prob = node.get_or<double>("flip_prob", 0.0);
  if (!(p.flip_prob >= 0 && p.flip_prob <= 1)) node["flip_prob"].fail("must be in [0, 1]");
  p.photometric = node.get_or<bool>("photometric", false);
  return p;
}

SegSample SegPipeline::train(const SegSample& sample, AugmentRng& rng) const {
  at::Tensor image = sample.image.to(at::kFloat), label = sample.label;
  if (scale) {
    const double ratio = std::uniform_real_distribution<double>(ratio_range[0], ratio_range[1])(rng);
    // mmseg: int(scale * ratio) per edge, then the keep-ratio rescale.
    const auto hw = rescale_size(image.size(1), image.size(2), std::floor((*scale)[0] * ratio), std::floor((*scale)[1] * ratio));
    image = resize_image(image, hw[0], hw[1]);
    label = resize_mask(label, hw[0], hw[1]);
  }
  if (crop_size) {
    const CropBox box = random_crop_box_for_mask(label, (*crop_size)[0], (*crop_size)[1], cat_max_ratio, ignore_index, rng);
    image = crop(image, box);
    label = crop(label, box);
  }
  if (flip_prob > 0 && std::bernoulli_distribution(flip_prob)(rng)) {
    image = image.flip(-1);
    label = label.flip(-1);
  }
  if (photometric) image = photometric_distortion(image, rng);
  return {image.contiguous(), label.contiguous(), sample.name};
}

at::Tensor SegPipeline::test_image(const at::Tensor& image) const {
  const at::Tensor img = image.to(at::kFloat);
  if (!test_scale) return img;
  const auto hw = rescale_size(img.size(1), img.size(2), (*test_scale)[0], (*test_scale)[1]);
  return resize_image(img, hw[0], hw[1]);
}

}  // namespace vss
