// Detection training augmentations (see detection_pipeline.h).
#include "datasets/detection_pipeline.h"

#include "core/config.h"
#include "core/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace vss {

DetPipeline DetPipeline::from_config(const Config& node) {
  node.check_keys({"input_size", "scale_range", "flip_prob", "photometric", "min_box"});
  DetPipeline p;
  if (node.has("input_size")) {
    const auto s = node.get<std::vector<int64_t>>("input_size");
    if (s.size() != 2 || s[0] < 32 || s[1] < 32 || s[0] % 32 || s[1] % 32)
      node["input_size"].fail("expected [h, w], multiples of 32 (the backbone's stride)");
    p.input_size = {s[0], s[1]};
  }
  if (node.has("scale_range")) {
    const auto r = node.get<std::vector<double>>("scale_range");
    if (r.size() != 2 || !(r[0] > 0) || r[1] < r[0]) node["scale_range"].fail("expected [min, max] with 0 < min <= max");
    p.scale_range = {r[0], r[1]};
  }
  p.flip_prob = node.get_or<double>("flip_prob", 0.0);
  if (!(p.flip_prob >= 0 && p.flip_prob <= 1)) node["flip_prob"].fail("must be in [0, 1]");
  p.photometric = node.get_or<bool>("photometric", false);
  p.min_box = node.get_or<double>("min_box", 2.0);
  if (!(p.min_box >= 0)) node["min_box"].fail("must be >= 0");
  return p;
}

DetSample DetPipeline::train(const DetSample& sample, AugmentRng& rng) const {
  at::Tensor image = sample.image.permute({2, 0, 1}).to(at::kFloat);
  at::Tensor boxes = sample.boxes.to(at::kFloat).clone();
  at::Tensor classes = sample.classes;
  const int64_t H = image.size(1), W = image.size(2);
  // Scale jitter around the fit into input_size.
  const double fit = std::min(static_cast<double>(input_size[0]) / static_cast<double>(H),
                              static_cast<double>(input_size[1]) / static_cast<double>(W));
  const double s = fit * std::uniform_real_distribution<double>(scale_range[0], scale_range[1])(rng);
  const int64_t h = std::max<int64_t>(1, std::llround(static_cast<double>(H) * s));
  const int64_t w = std::max<int64_t>(1, std::llround(static_cast<double>(W) * s));
  if (h != H || w != W) {
    image = resize_image(image, h, w);
    boxes.select(1, 0).mul_(static_cast<double>(w) / static_cast<double>(W));
    boxes.select(1, 2).mul_(static_cast<double>(w) / static_cast<double>(W));
    boxes.select(1, 1).mul_(static_cast<double>(h) / static_cast<double>(H));
    boxes.select(1, 3).mul_(static_cast<double>(h) / static_cast<double>(H));
  }
  // Crop.
  const CropBox c = random_crop_box(h, w, input_size[0], input_size[1], rng);
  image = crop(image, c);
  if (boxes.size(0) > 0) {
    boxes.select(1, 0).sub_(static_cast<double>(c.left)).clamp_(0, static_cast<double>(c.width));
    boxes.select(1, 2).sub_(static_cast<double>(c.left)).clamp_(0, static_cast<double>(c.width));
    boxes.select(1, 1).sub_(static_cast<double>(c.top)).clamp_(0, static_cast<double>(c.height));
    boxes.select(1, 3).sub_(static_cast<double>(c.top)).clamp_(0, static_cast<double>(c.height));
    const at::Tensor keep = ((boxes.select(1, 2) - boxes.select(1, 0)) >= std::max(min_box, 1e-6)) &
                            ((boxes.select(1, 3) - boxes.select(1, 1)) >= std::max(min_box, 1e-6));
    boxes = boxes.index({keep});
    classes = classes.index({keep});
  }
  // Flip: drawn even when there is nothing to flip, so the stream of draws is fixed.
  const bool flip = std::uniform_real_distribution<double>(0, 1)(rng) < flip_prob;
  if (flip) {
    image = image.flip({2});
    if (boxes.size(0) > 0) {
      const at::Tensor x1 = static_cast<double>(c.width) - boxes.select(1, 2);
      const at::Tensor x2 = static_cast<double>(c.width) - boxes.select(1, 0);
      boxes = at::stack({x1, boxes.select(1, 1), x2, boxes.select(1, 3)}, 1);
    }
  }
  if (photometric) image = photometric_distortion(image, rng);
  DetSample out;
  out.image = image.contiguous();
  out.boxes = boxes.contiguous();
  out.classes = classes.contiguous();
  out.name = sample.name;
  return out;
}

}  // namespace vss
