#pragma once
// timm's Mixup (mode 'batch'): with probability `prob` a batch is mixed with itself reversed
// (sample i with sample B-1-i), by mixup (x·λ + x_rev·(1-λ), λ ~ Beta(mixup_alpha)) or cutmix
// (a box of area ≈ (1-λ)·H·W pasted from x_rev, λ ~ Beta(cutmix_alpha), then λ corrected to
// the box's true area), cutmix chosen with probability switch_prob when both alphas are > 0.
// Targets become smoothed one-hot rows mixed with the same λ: on = 1 - ε + ε/C, off = ε/C.
// YAML (`task.mixup`): {mixup_alpha: 0.8, cutmix_alpha: 1.0, prob: 1.0, switch_prob: 0.5}
// with the label smoothing ε from task.label_smoothing.
#include "datasets/augment.h"

#include <utility>

namespace vss {

class Config;

// One batch's draw: λ = 1 means the batch is left as it is.
struct MixDraw {
  double lambda = 1.0;
  bool cutmix = false;
  CropBox box;  // cutmix: rows [top, top + height), columns [left, left + width)
};

struct MixupCutmix {
  double mixup_alpha = 0.8, cutmix_alpha = 1.0, prob = 1.0, switch_prob = 0.5;

  static MixupCutmix from_config(const Config& node);
  // Draws λ, the kind and (cutmix) the box for images of H x W: timm's rand_bbox (cut sides
  // int(H·√(1-λ)), int(W·√(1-λ)), centre uniform, clipped) and λ = 1 - box area / (H·W).
  MixDraw draw(int64_t H, int64_t W, AugmentRng& rng) const;
};

// images [B, C, H, W] float, labels [B] int64 -> mixed images and soft targets [B, num_classes].
std::pair<at::Tensor, at::Tensor> mix_batch(const at::Tensor& images, const at::Tensor& labels, int64_t num_classes,
                                            double label_smoothing, const MixDraw& draw);

// Smoothed one-hot rows [B, num_classes] float: on = 1 - ε + ε/C, off = ε/C.
at::Tensor smoothed_one_hot(const at::Tensor& labels, int64_t num_classes, double label_smoothing);

}  // namespace vss
