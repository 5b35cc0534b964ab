#pragma once
// Training augmentations for detection, CenterNet-style (src/lib/datasets/sample/ctdet.py:
// random scale, random crop, horizontal flip, colour), on an image and its boxes alike:
//   scale jitter: the image resized by s·U(scale_range), s = the factor that fits it into
//                 input_size (keeps the aspect ratio);
//   crop:         a uniformly placed input_size window (the whole axis when shorter; the batch
//                 pads the rest with the mean colour); boxes shifted and clipped to it, and
//                 dropped when less than `min_box` px wide or high remain;
//   flip:         horizontal with flip_prob;
//   colour:       mmseg's PhotoMetricDistortion (brightness, contrast, saturation, hue).
// At test time the image is padded, not resized (CenterNet's --keep_res). YAML (`data.pipeline`):
//   {input_size: [192, 320], scale_range: [0.6, 1.4], flip_prob: 0.5, photometric: true, min_box: 2}
// Randomness comes from the caller's engine: a sample's augmentation is a function of its seed.
#include "datasets/augment.h"
#include "datasets/detection_dataset.h"

#include <array>

namespace vss {

class Config;

struct DetPipeline {
  std::array<int64_t, 2> input_size{192, 320};  // (h, w), multiples of 32
  std::array<double, 2> scale_range{1.0, 1.0};
  double flip_prob = 0;
  bool photometric = false;
  double min_box = 2;

  static DetPipeline from_config(const Config& node);

  // [H, W, 3] uint8 -> float32 [3, h, w] on the 0..255 scale with h, w <= input_size, boxes alike.
  DetSample train(const DetSample& sample, AugmentRng& rng) const;
};

}  // namespace vss
