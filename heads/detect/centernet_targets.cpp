// Dense CenterNet targets and the total loss (see centernet_targets.h).
#include "heads/detect/centernet_targets.h"

#include "core/error.h"
#include "heads/detect/centernet_losses.h"
#include "heads/detect/gaussian_target.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace vss::detect {

at::Tensor centernet_targets(const at::Tensor& boxes, const at::Tensor& classes, int64_t num_classes, int64_t height,
                             int64_t width, double stride) {
  if (boxes.dim() != 2 || boxes.size(1) != 4) throw_shape_error("target boxes", {-1, 4}, boxes.sizes().vec());
  if (classes.dim() != 1 || classes.size(0) != boxes.size(0))
    throw_shape_error("target classes", {boxes.size(0)}, classes.sizes().vec());
  at::Tensor t = at::zeros({num_classes + 5, height, width}, at::kFloat);
  const at::Tensor b = boxes.to(at::kDouble).contiguous();
  const at::Tensor c = classes.to(at::kLong).contiguous();
  const double* bp = b.data_ptr<double>();
  const int64_t* cp = c.data_ptr<int64_t>();
  float* tp = t.data_ptr<float>();
  const int64_t plane = height * width;
  for (int64_t i = 0; i < b.size(0); ++i) {
    const int64_t cls = cp[i];
    if (cls < 0 || cls >= num_classes)
      throw Error("target class " + std::to_string(cls) + " outside [0, " + std::to_string(num_classes) + ")");
    const double x1 = std::clamp(bp[4 * i] / stride, 0.0, static_cast<double>(width - 1));
    const double x2 = std::clamp(bp[4 * i + 2] / stride, 0.0, static_cast<double>(width - 1));
    const double y1 = std::clamp(bp[4 * i + 1] / stride, 0.0, static_cast<double>(height - 1));
    const double y2 = std::clamp(bp[4 * i + 3] / stride, 0.0, static_cast<double>(height - 1));
    const double h = y2 - y1, w = x2 - x1;
    if (!(h > 0 && w > 0)) continue;
    const auto radius = std::max<int64_t>(0, static_cast<int64_t>(gaussian_radius(std::ceil(h), std::ceil(w))));
    const double cx = (x1 + x2) / 2, cy = (y1 + y2) / 2;
    // CenterNet's ct.astype(np.int32): truncation, the centre is never negative here.
    const auto ix = static_cast<int64_t>(cx), iy = static_cast<int64_t>(cy);
    at::Tensor heat = t[cls];
    draw_gaussian(heat, ix, iy, radius);
    const int64_t p = iy * width + ix;
    tp[(num_classes + 0) * plane + p] = static_cast<float>(w);
    tp[(num_classes + 1) * plane + p] = static_cast<float>(h);
    tp[(num_classes + 2) * plane + p] = static_cast<float>(cx - static_cast<double>(ix));
    tp[(num_classes + 3) * plane + p] = static_cast<float>(cy - static_cast<double>(iy));
    tp[(num_classes + 4) * plane + p] = 1;
  }
  return t;
}

CenterNetLoss centernet_loss(const CenterNetOutput& out, const at::Tensor& targets, const CenterNetLossWeights& w) {
  const int64_t C = out.heatmap.size(1);
  if (targets.dim() != 4 || targets.size(1) != C + 5 || targets.size(2) != out.heatmap.size(2) ||
      targets.size(3) != out.heatmap.size(3))
    throw_shape_error("detection targets", {out.heatmap.size(0), C + 5, out.heatmap.size(2), out.heatmap.size(3)},
                      targets.sizes().vec());
  CenterNetLoss l;
  l.hm = centernet_focal_loss(clamped_sigmoid(out.heatmap.to(at::kFloat)), targets.narrow(1, 0, C));
  const at::Tensor mask = targets.narrow(1, C + 4, 1);
  l.wh = masked_l1_loss(out.wh, targets.narrow(1, C, 2), mask);
  l.off = masked_l1_loss(out.reg, targets.narrow(1, C + 2, 2), mask);
  l.total = w.hm * l.hm + w.wh * l.wh + w.off * l.off;
  return l;
}

}  // namespace vss::detect
