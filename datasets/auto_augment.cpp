#include "datasets/auto_augment.h"

#include "core/config.h"
#include "core/error.h"
#include "datasets/pil_image_ops.h"

#include <cmath>

namespace vss {

at::Tensor apply_augment_op(const at::Tensor& image, AugmentOp op, double m) {
  switch (op) {
    case AugmentOp::kIdentity: return image;
    case AugmentOp::kShearX: return pil::shear_x(image, m);
    case AugmentOp::kShearY: return pil::shear_y(image, m);
    case AugmentOp::kTranslateX: return pil::translate(image, std::trunc(m), 0);
    case AugmentOp::kTranslateY: return pil::translate(image, 0, std::trunc(m));
    case AugmentOp::kRotate: return pil::rotate(image, m);
    case AugmentOp::kBrightness: return pil::brightness(image, 1.0 + m);
    case AugmentOp::kColor: return pil::color(image, 1.0 + m);
    case AugmentOp::kContrast: return pil::contrast(image, 1.0 + m);
    case AugmentOp::kSharpness: return pil::sharpness(image, 1.0 + m);
    case AugmentOp::kPosterize: return pil::posterize(image, static_cast<int64_t>(m));
    case AugmentOp::kSolarize: return pil::solarize(image, m);
    case AugmentOp::kAutoContrast: return pil::autocontrast(image);
    case AugmentOp::kEqualize: return pil::equalize(image);
  }
  return image;
}

AutoAugment AutoAugment::from_config(const Config& node) {
  AutoAugment a;
  const auto type = node.get<std::string>("type");
  if (type == "trivial_augment_wide") {
    node.check_keys({"type"});
    a.policy = Policy::kTrivialAugmentWide;
  } else if (type == "rand_augment") {
    node.check_keys({"type", "num_ops", "magnitude"});
    a.policy = Policy::kRandAugment;
    a.num_ops = node.get_int_in_or("num_ops", 2, 1, 16);
    a.magnitude = node.get_int_in_or("magnitude", 9, 0, kBins - 1);
  } else {
    node["type"].fail("unknown auto_augment '" + type + "' (known: trivial_augment_wide, rand_augment)");
  }
  return a;
}

bool AutoAugment::is_signed(AugmentOp op) {
  return op == AugmentOp::kShearX || op == AugmentOp::kShearY || op == AugmentOp::kTranslateX ||
         op == AugmentOp::kTranslateY || op == AugmentOp::kRotate || op == AugmentOp::kBrightness ||
         op == AugmentOp::kColor || op == AugmentOp::kContrast || op == AugmentOp::kSharpness;
}

double AutoAugment::magnitude_of(AugmentOp op, int64_t bin, int64_t H, int64_t W) const {
  const bool wide = policy == Policy::kTrivialAugmentWide;
  // torch.linspace(lo, hi, 31)[bin]
  auto linspace = [bin](double lo, double hi) { return lo + (hi - lo) * static_cast<double>(bin) / (kBins - 1); };
  switch (op) {
    case AugmentOp::kShearX:
    case AugmentOp::kShearY: return linspace(0.0, wide ? 0.99 : 0.3);
    case AugmentOp::kTranslateX: return linspace(0.0, wide ? 32.0 : 150.0 / 331.0 * static_cast<double>(W));
    case AugmentOp::kTranslateY: return linspace(0.0, wide ? 32.0 : 150.0 / 331.0 * static_cast<double>(H));
    case AugmentOp::kRotate: return linspace(0.0, wide ? 135.0 : 30.0);
    case AugmentOp::kBrightness:
    case AugmentOp::kColor:
    case AugmentOp::kContrast:
    case AugmentOp::kSharpness: return linspace(0.0, wide ? 0.99 : 0.9);
    // 8 - round(bin / ((31 - 1) / levels)): 8 bits down to 2 (wide) or 4; no bin lands on .5.
    case AugmentOp::kPosterize: return 8.0 - std::round(static_cast<double>(bin) / ((kBins - 1) / (wide ? 6.0 : 4.0)));
    case AugmentOp::kSolarize: return linspace(255.0, 0.0);
    default: return 0.0;
  }
}

at::Tensor AutoAugment::operator()(const at::Tensor& image, AugmentRng& rng) const {
  std::uniform_int_distribution<int> pick_op(0, kNumAugmentOps - 1);
  std::uniform_int_distribution<int64_t> pick_bin(0, kBins - 1);
  std::uniform_int_distribution<int> coin(0, 1);
  const int64_t H = image.size(-2), W = image.size(-1);
  at::Tensor out = image;
  const int64_t rounds = policy == Policy::kRandAugment ? num_ops : 1;
  for (int64_t r = 0; r < rounds; ++r) {
    const auto op = static_cast<AugmentOp>(pick_op(rng));
    const int64_t bin = policy == Policy::kRandAugment ? magnitude : pick_bin(rng);
    double m = magnitude_of(op, bin, H, W);
    if (is_signed(op) && coin(rng)) m = -m;
    out = apply_augment_op(out, op, m);
  }
  return out;
}

}  // namespace vss
