#include "datasets/change_pair.h"

#include "core/error.h"

#include <ATen/ATen.h>

namespace vss::change {

JointAugment draw_joint_augment(int64_t H, int64_t W, const ChangeAugmentOptions& o, AugmentRng& rng) {
  if (o.crop < 0) throw Error("change augmentation: crop must be >= 0, got " + std::to_string(o.crop));
  JointAugment a;
  if (o.crop > 0) a.box = random_crop_box(H, W, o.crop, o.crop, rng);
  a.flip_rotate = random_flip_rotate(o.hflip, o.vflip, o.rotate, rng);
  a.swap = o.swap && std::uniform_int_distribution<int>(0, 1)(rng) == 1;
  a.pad_to = o.crop;
  return a;
}

at::Tensor apply_joint(const at::Tensor& t, const JointAugment& a, double pad_value) {
  at::Tensor out = a.pad_to > 0 ? crop(t, a.box) : t;
  out = apply(out, a.flip_rotate);
  // Padded last, so padding stays at the bottom / right as mmseg's data preprocessor puts it.
  return a.pad_to > 0 ? pad_to(out, a.pad_to, a.pad_to, pad_value) : out;
}

ChangePair augment_change_pair(const ChangePair& pair, const ChangeAugmentOptions& o, AugmentRng& rng) {
  const int64_t H = pair.a.size(-2), W = pair.a.size(-1);
  for (const at::Tensor* t : {&pair.b, &pair.label})
    if (t->defined() && (t->size(-2) != H || t->size(-1) != W))
      throw Error("change pair: sizes differ: date A " + shape_to_string(pair.a.sizes().vec()) + ", " +
                  shape_to_string(t->sizes().vec()));
  const JointAugment a = draw_joint_augment(H, W, o, rng);
  ChangePair out;
  out.a = apply_joint(pair.a, a, 0);
  out.b = apply_joint(pair.b, a, 0);
  if (pair.label.defined()) out.label = apply_joint(pair.label, a, 255);
  if (a.swap) std::swap(out.a, out.b);
  return out;
}

}  // namespace vss::change
