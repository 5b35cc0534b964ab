#pragma once
// CenterNet's training losses (xingyizhou/CenterNet, src/lib/models/losses.py):
// the penalty-reduced pixel-wise focal loss on the class heatmap (alpha 2, beta 4) and the
// L1 loss of the size / offset maps at the objects' centre pixels.
#include <ATen/core/Tensor.h>

namespace vss::detect {

// CenterNet's _sigmoid: sigmoid clamped to [1e-4, 1 - 1e-4], so log() stays finite.
at::Tensor clamped_sigmoid(const at::Tensor& logits);

// _neg_loss on probabilities `pred` and a gaussian target `gt` of the same shape:
//   pos (gt == 1):  -log(p)·(1-p)^alpha
//   neg (gt < 1):   -log(1-p)·p^alpha·(1-gt)^beta
// summed and divided by the number of positives (by 1 when there is none). Scalar float32.
at::Tensor centernet_focal_loss(const at::Tensor& pred, const at::Tensor& gt, double alpha = 2, double beta = 4);

// RegL1Loss with dense maps: pred, target [B, 2, H, W], mask [B, 1, H, W] (1 at centre pixels):
// sum |pred·m − target·m| / (sum of m over both channels + 1e-4), as CenterNet's gathered form.
at::Tensor masked_l1_loss(const at::Tensor& pred, const at::Tensor& target, const at::Tensor& mask);

}  // namespace vss::detect
