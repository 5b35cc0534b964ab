#pragma once
// A generated image-classification set: small RGB images of one shape per class
// (0 disc, 1 square, 2 triangle, 3 horizontal stripes, 4 ring, 5 cross) with random colours,
// size, position and pixel noise. Sample i depends only on (seed, i), so a split is
// reproducible and any sample can be made on any thread in any order.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace vss {

struct SyntheticShapesOptions {
  int64_t size = 1000;       // number of samples
  int64_t image_size = 32;   // H = W
  int64_t num_classes = 4;   // 2..6
  uint64_t seed = 0;         // train and val splits use different seeds
  double noise = 0.1;        // std of the Gaussian pixel noise (images are in [0, 1] before it)
  // Shape radius as a fraction of image_size, uniform in [min_radius, max_radius] (<= 0.5).
  double min_radius = 0.2, max_radius = 0.35;
};

class SyntheticShapes {
 public:
  explicit SyntheticShapes(SyntheticShapesOptions options);
  int64_t size() const { return opt_.size; }
  int64_t num_classes() const { return opt_.num_classes; }
  // Label of sample i: i % num_classes (balanced classes).
  int64_t label(int64_t index) const;
  // Image [3, image_size, image_size] float32 of sample i.
  at::Tensor image(int64_t index) const;
  const SyntheticShapesOptions& options() const { return opt_; }

 private:
  SyntheticShapesOptions opt_;
};

}  // namespace vss
