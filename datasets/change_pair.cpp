#include "datasets/change_pair.h"

#include "core/error.h"

#include <ATen/ATen.h>

namespace vss::cd {

ChangePair augment_change_pair(const ChangePair& pair, const ChangeAugmentOptions& o, AugmentRng& rng) {
  const int64_t H = pair.a.size(-2), W = pair.a.size(-1);
  for (const at::Tensor* t : {&pair.b, &pair.label})
    if (t->defined() && (t->size(-2) != H || t->size(-1) != W))
      throw Error("change pair: sizes differ: date A " + shape_to_string(pair.a.sizes().vec()) + ", " +
                  shape_to_string(t->sizes().vec()));
  if (o.crop < 0) throw Error("change augmentation: crop must be >= 0, got " + std::to_string(o.crop));
  ChangePair out = pair;
  if (o.crop > 0) {
    const CropBox box = random_crop_box(H, W, o.crop, o.crop, rng);
    out.a = crop(out.a, box);
    out.b = crop(out.b, box);
    if (out.label.defined()) out.label = crop(out.label, box);
  }
  const FlipRotate f = random_flip_rotate(o.hflip, o.vflip, o.rotate, rng);
  out.a = apply(out.a, f);
  out.b = apply(out.b, f);
  if (out.label.defined()) out.label = apply(out.label, f);
  if (o.swap && std::uniform_int_distribution<int>(0, 1)(rng) == 1) std::swap(out.a, out.b);
  // Padded last, so padding stays at the bottom / right as mmseg's data preprocessor puts it.
  if (o.crop > 0) {
    out.a = pad_to(out.a, o.crop, o.crop, 0);
    out.b = pad_to(out.b, o.crop, o.crop, 0);
    if (out.label.defined()) out.label = pad_to(out.label, o.crop, o.crop, 255);
  }
  return out;
}

}  // namespace vss::cd
