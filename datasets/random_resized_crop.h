#pragma once
// torchvision's RandomResizedCrop box (the Inception crop every ImageNet recipe trains with):
// up to 10 tries of an area fraction uniform in `scale` and an aspect ratio log-uniform in
// `ratio`, sides rounded, kept when they fit; else the central crop of the image clamped to
// the ratio range. The caller resizes the box to the training size.
#include "datasets/augment.h"

#include <array>

namespace vss {

struct RandomResizedCrop {
  std::array<double, 2> scale{0.08, 1.0};
  std::array<double, 2> ratio{3.0 / 4.0, 4.0 / 3.0};

  CropBox box(int64_t H, int64_t W, AugmentRng& rng) const;
  // The box torchvision falls back to after 10 misses (a pure function of H, W and `ratio`).
  CropBox central_box(int64_t H, int64_t W) const;
};

}  // namespace vss
