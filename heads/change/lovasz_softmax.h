#pragma once
// Lovász-softmax loss (Berman, Rannen Triki, Blaschko, CVPR 2018): a convex surrogate of the
// Jaccard loss 1 − IoU, per class c the dot product of the sorted errors |[label = c] − p_c|
// (descending) with the gradient of the Jaccard loss along that order. As the authors'
// reference `lovasz_softmax(probas, labels, classes='present', per_image=False, ignore)`,
// which MambaBCD trains with: all pixels of the batch form one set, classes absent from the
// (non-ignored) labels are skipped, the result is the mean over the remaining classes, and
// 0 when no pixel is left.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace vss::change {

// probabilities [B, C, H, W] (a softmax over C), labels [B, H, W] integer; pixels whose label
// is `ignore_index` are dropped. Differentiable in `probabilities`. Reduced-precision inputs
// are computed in float32.
at::Tensor lovasz_softmax(const at::Tensor& probabilities, const at::Tensor& labels, int64_t ignore_index = 255);

}  // namespace vss::change
