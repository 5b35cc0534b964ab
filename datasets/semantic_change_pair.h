#pragma once
// One semantic change detection sample (SECOND-style; specs/scd.md §1): two dates, the binary
// change map and each date's land-cover map of the changed pixels, and its joint training
// augmentation (the binary task's crop, flips, 90° rotations and optional date swap,
// datasets/change_pair.h, applied to both images and the three labels alike).
#include "datasets/change_pair.h"

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace vss::change {

struct SemanticChangePair {
  at::Tensor a, b;            // [3, H, W] uint8 RGB: the first date (T1 / im1) and the second
  at::Tensor change;          // [H, W] uint8: 0 unchanged, 1 changed, 255 ignored (padding)
  at::Tensor label1, label2;  // [H, W] uint8 class indices: 0 no change, 1..K-1 land cover, 255 padding
};

// SECOND's land-cover classes (index 1..6; 0 = no change).
inline constexpr int64_t kSecondClasses = 7;

// Swapping the dates swaps the two land-cover maps too. Sizes must agree (error naming both).
SemanticChangePair augment_semantic_change_pair(const SemanticChangePair& pair, const ChangeAugmentOptions& options,
                                                AugmentRng& rng);

// Pixels where the change map says one thing and the land-cover maps another: changed with
// label1 or label2 = 0, or unchanged with a land-cover class (padding 255 not counted).
int64_t count_change_label_disagreements(const SemanticChangePair& pair);

}  // namespace vss::change
