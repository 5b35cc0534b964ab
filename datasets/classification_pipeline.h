#pragma once
// Image classification transforms as timm's create_transform builds them:
//   train: RandomResizedCrop(size, scale, ratio) -> horizontal flip (p = hflip) -> auto_augment
//          (uint8, PIL arithmetic) -> colour jitter -> [0, 1] -> normalise
//   eval:  resize the shorter side to floor(size / crop_pct) -> centre crop size -> [0, 1] ->
//          normalise (timm's crop_pct: 0.875 is the classic 256 -> 224)
// Resizing is PIL's (antialiased, datasets/image_resize.h) with `interpolation`. timm turns
// colour jitter off when an auto_augment policy is set; here both apply if both are given.
// YAML (`data.pipeline`), each key optional, the defaults shown:
//   {size: 224, scale: [0.08, 1.0], ratio: [0.75, 1.3333], hflip: 0.5, auto_augment: null,
//    color_jitter: 0, crop_pct: 0.875, interpolation: bicubic,
//    mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}
// color_jitter: x (brightness = contrast = saturation = x) or [b, c, s] or [b, c, s, hue].
#include "datasets/auto_augment.h"
#include "datasets/color_jitter.h"
#include "datasets/image_resize.h"
#include "datasets/random_resized_crop.h"

#include <array>
#include <optional>

namespace vss {

class Config;

struct ClassificationPipeline {
  int64_t size = 224;
  RandomResizedCrop crop;
  double hflip = 0.5;
  std::optional<AutoAugment> auto_augment;
  ColorJitter color_jitter;
  double crop_pct = 0.875;
  Interpolation interpolation = Interpolation::kBicubic;
  std::array<double, 3> mean{0.485, 0.456, 0.406}, std{0.229, 0.224, 0.225};

  static ClassificationPipeline from_config(const Config& node);

  // image: [H, W, 3] uint8 (core/image_io) -> float32 [3, size, size], normalised.
  at::Tensor train(const at::Tensor& image, AugmentRng& rng) const;
  at::Tensor eval(const at::Tensor& image) const;
  // The shorter side before the eval crop: floor(size / crop_pct).
  int64_t eval_resize() const;
  // uint8 [3, h, w] before normalising, for tests and benchmarks of the geometric part.
  at::Tensor eval_crop(const at::Tensor& image) const;
  // float [3, h, w] in [0, 1] -> normalised.
  at::Tensor normalize(const at::Tensor& chw01) const;
};

}  // namespace vss
