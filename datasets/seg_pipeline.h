#pragma once
// mmseg's segmentation pipelines after loading (configs/_base_/datasets/ade20k.py):
//   train: RandomResize(scale, ratio_range, keep_ratio=True) -> RandomCrop(crop_size,
//          cat_max_ratio) -> RandomFlip(flip_prob, horizontal) -> PhotoMetricDistortion
//   test:  Resize(test_scale, keep_ratio=True); logits go back to the original size after.
// Each step is off when its key is absent. YAML (`data.pipeline`):
//   {scale: [2048, 512], ratio_range: [0.5, 2.0], crop_size: [512, 512], cat_max_ratio: 0.75,
//    flip_prob: 0.5, photometric: true, test_scale: [2048, 512]}
// `scale` is mmseg's (long edge, short edge) bound, crop_size is (h, w). Randomness comes
// from the caller's engine, so a sample's augmentation is a function of its seed.
#include "datasets/augment.h"
#include "datasets/seg_dataset.h"

#include <array>
#include <cstdint>
#include <optional>

namespace vss {

class Config;

// mmcv.rescale_size: the size (h, w) of an H x W image scaled by
// min(long / max(H, W), short / min(H, W)), rounded as int(x + 0.5).
std::array<int64_t, 2> rescale_size(int64_t H, int64_t W, double long_edge, double short_edge);

struct SegPipeline {
  std::optional<std::array<int64_t, 2>> scale, test_scale;  // (long, short)
  std::array<double, 2> ratio_range{1.0, 1.0};
  std::optional<std::array<int64_t, 2>> crop_size;          // (h, w)
  double cat_max_ratio = 1.0;
  double flip_prob = 0.0;
  bool photometric = false;
  int64_t ignore_index = 255;

  static SegPipeline from_config(const Config& node, int64_t ignore_index);

  // sample.image [3, H, W] uint8 -> float32 [3, h, w] on the 0..255 scale, label [h, w] int64
  // transformed alike (nearest for labels). h, w <= crop_size when cropping (smaller images
  // stay smaller: the batch pads them, images with 0 after normalisation, labels with ignore).
  SegSample train(const SegSample& sample, AugmentRng& rng) const;
  // [3, H, W] -> float32 [3, h, w] resized to test_scale (or unchanged).
  at::Tensor test_image(const at::Tensor& image) const;
};

}  // namespace vss
