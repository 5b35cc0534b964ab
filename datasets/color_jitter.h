#pragma once
// torchvision's ColorJitter on a float RGB image [3, H, W] in [0, 1]: brightness, contrast,
// saturation and hue in a random order, each factor drawn uniformly — brightness / contrast /
// saturation from [max(0, 1 - x), 1 + x], the hue shift from [-hue, hue] (fraction of the
// colour circle, hue <= 0.5); a strength of 0 leaves that step out (and draws nothing).
//   brightness: img·f;  contrast: blend with the mean grey level;  saturation: blend with the
//   grey image (grey = 0.2989 R + 0.587 G + 0.114 B);  hue: rotate the HSV hue.
// Each result is clamped to [0, 1]. timm's color_jitter: 0.4 is {0.4, 0.4, 0.4, 0}.
#include "datasets/augment.h"

namespace vss {

struct ColorJitter {
  double brightness = 0, contrast = 0, saturation = 0, hue = 0;

  bool enabled() const { return brightness > 0 || contrast > 0 || saturation > 0 || hue > 0; }
  at::Tensor operator()(const at::Tensor& image, AugmentRng& rng) const;

  // The four steps with a given factor (hue: the shift), for tests and callers with own draws.
  static at::Tensor adjust_brightness(const at::Tensor& image, double factor);
  static at::Tensor adjust_contrast(const at::Tensor& image, double factor);
  static at::Tensor adjust_saturation(const at::Tensor& image, double factor);
  static at::Tensor adjust_hue(const at::Tensor& image, double shift);
};

}  // namespace vss
