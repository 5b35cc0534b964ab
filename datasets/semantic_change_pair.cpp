#include "datasets/semantic_change_pair.h"

#include "core/error.h"

#include <ATen/ATen.h>

namespace vss::change {

SemanticChangePair augment_semantic_change_pair(const SemanticChangePair& pair, const ChangeAugmentOptions& o,
                                                AugmentRng& rng) {
  const int64_t H = pair.a.size(-2), W = pair.a.size(-1);
  for (const at::Tensor* t : {&pair.b, &pair.change, &pair.label1, &pair.label2})
    if (t->size(-2) != H || t->size(-1) != W)
      throw Error("semantic change pair: sizes differ: date A " + shape_to_string(pair.a.sizes().vec()) + ", " +
                  shape_to_string(t->sizes().vec()));
  const JointAugment a = draw_joint_augment(H, W, o, rng);
  SemanticChangePair out;
  out.a = apply_joint(pair.a, a, 0);
  out.b = apply_joint(pair.b, a, 0);
  out.change = apply_joint(pair.change, a, 255);
  out.label1 = apply_joint(pair.label1, a, 255);
  out.label2 = apply_joint(pair.label2, a, 255);
  if (a.swap) {
    std::swap(out.a, out.b);
    std::swap(out.label1, out.label2);
  }
  return out;
}

int64_t count_change_label_disagreements(const SemanticChangePair& p) {
  const auto valid = p.change.ne(255);
  const auto changed = p.change.eq(1);
  const auto labelled1 = p.label1.ne(0), labelled2 = p.label2.ne(0);
  const auto agree = changed.logical_and(labelled1).logical_and(labelled2)
                         .logical_or(changed.logical_not().logical_and(labelled1.logical_not()).logical_and(labelled2.logical_not()));
  return valid.logical_and(agree.logical_not()).sum().item<int64_t>();
}

}  // namespace vss::change
