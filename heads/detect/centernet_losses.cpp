// CenterNet's focal and masked L1 losses (see centernet_losses.h).
#include "heads/detect/centernet_losses.h"

#include "core/error.h"

#include <ATen/ATen.h>

namespace vss::detect {

at::Tensor clamped_sigmoid(const at::Tensor& logits) { return at::sigmoid(logits).clamp(1e-4, 1 - 1e-4); }

at::Tensor centernet_focal_loss(const at::Tensor& pred, const at::Tensor& gt, double alpha, double beta) {
  if (pred.sizes() != gt.sizes()) throw_shape_error("focal loss target", pred.sizes().vec(), gt.sizes().vec());
  const at::Tensor p = pred.to(at::kFloat), g = gt.to(at::kFloat);
  const at::Tensor pos = g.eq(1).to(at::kFloat);
  const at::Tensor neg = g.lt(1).to(at::kFloat);
  const at::Tensor pos_loss = (at::log(p) * at::pow(1 - p, alpha) * pos).sum();
  const at::Tensor neg_loss = (at::log(1 - p) * at::pow(p, alpha) * at::pow(1 - g, beta) * neg).sum();
  // num_pos == 0 gives -neg_loss: dividing by max(1, num_pos) is the same number.
  const at::Tensor num_pos = pos.sum().clamp_min(1);
  return -(pos_loss + neg_loss) / num_pos;
}

at::Tensor masked_l1_loss(const at::Tensor& pred, const at::Tensor& target, const at::Tensor& mask) {
  if (pred.sizes() != target.sizes()) throw_shape_error("L1 loss target", pred.sizes().vec(), target.sizes().vec());
  const at::Tensor m = mask.to(at::kFloat).expand_as(pred);
  const at::Tensor loss = (pred.to(at::kFloat) * m - target.to(at::kFloat) * m).abs().sum();
  return loss / (m.sum() + 1e-4);
}

}  // namespace vss::detect
