#pragma once
// Automatic augmentation policies on uint8 RGB images [3, H, W], with torchvision's op list
// and magnitude tables (31 bins) and PIL's arithmetic for each op (datasets/pil_image_ops.h):
//   trivial_augment_wide  (Müller & Hutter 2021) one op, uniform over the 14, at a uniform bin;
//   rand_augment          (Cubuk et al. 2020) num_ops ops, each uniform, all at bin `magnitude`.
// Signed ops (shear, translate, rotate, the four enhancements) take either sign with
// probability 1/2; enhancements use factor 1 + magnitude; translations move whole pixels
// (torchvision's int()). YAML (`data.pipeline.auto_augment`):
//   {type: trivial_augment_wide} | {type: rand_augment, num_ops: 2, magnitude: 9}
#include "datasets/augment.h"

#include <string>

namespace vss {

class Config;

enum class AugmentOp {
  kIdentity, kShearX, kShearY, kTranslateX, kTranslateY, kRotate, kBrightness,
  kColor, kContrast, kSharpness, kPosterize, kSolarize, kAutoContrast, kEqualize,
};
inline constexpr int kNumAugmentOps = 14;

// One op at a signed magnitude (the value the tables give, sign applied).
at::Tensor apply_augment_op(const at::Tensor& image, AugmentOp op, double magnitude);

struct AutoAugment {
  enum class Policy { kTrivialAugmentWide, kRandAugment };
  Policy policy = Policy::kTrivialAugmentWide;
  int64_t num_ops = 2, magnitude = 9;  // rand_augment
  static constexpr int64_t kBins = 31;

  static AutoAugment from_config(const Config& node);
  // The magnitude of `op` at `bin` for an H x W image (unsigned), and whether it takes a sign.
  double magnitude_of(AugmentOp op, int64_t bin, int64_t H, int64_t W) const;
  static bool is_signed(AugmentOp op);
  at::Tensor operator()(const at::Tensor& image, AugmentRng& rng) const;
};

}  // namespace vss
