#pragma once
// One bitemporal change detection sample and its joint training augmentation: one random
// crop, one flip / 90° rotation (datasets/augment.h) and one optional date swap, drawn once
// and applied identically to both dates and the label (BIT_CD / MambaCD's training pipeline).
#include "datasets/augment.h"

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace vss::change {

struct ChangePair {
  at::Tensor a, b;   // [3, H, W] uint8 RGB: the first date (LEVIR-CD's A) and the second (B)
  at::Tensor label;  // [H, W] uint8: 0 unchanged, 1 changed, 255 ignored (padding); undefined without labels
};

struct ChangeAugmentOptions {
  int64_t crop = 0;  // a random crop x crop window (0: the whole image); smaller images are padded
                     // at the bottom / right to crop x crop (images with 0, the label with 255)
  bool hflip = false, vflip = false;
  bool rotate = false;  // a transpose with probability 1/2: with both flips, all 8 dihedral images
  bool swap = false;    // exchange the dates with probability 1/2 (binary change is symmetric)
};

// One draw of the joint augmentation for an H x W pair: the crop box, the flip / rotation and
// the swap, in this order, from `rng` (what is off is not drawn).
struct JointAugment {
  CropBox box;  // empty when there is no crop
  FlipRotate flip_rotate;
  bool swap = false;
  int64_t pad_to = 0;  // the crop size: padded last, at the bottom / right
};
JointAugment draw_joint_augment(int64_t H, int64_t W, const ChangeAugmentOptions& options, AugmentRng& rng);
// Crops, flips / rotates and pads one aligned [..., H, W] tensor with `pad_value` (images 0,
// labels 255); the swap is the caller's, who knows which tensors belong to which date.
at::Tensor apply_joint(const at::Tensor& t, const JointAugment& a, double pad_value);

// draw_joint_augment then apply_joint to both dates and the label.
ChangePair augment_change_pair(const ChangePair& pair, const ChangeAugmentOptions& options, AugmentRng& rng);

}  // namespace vss::change
