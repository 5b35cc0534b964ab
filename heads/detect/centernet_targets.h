#pragma once
// CenterNet's training targets (src/lib/datasets/sample/ctdet.py) as dense maps, and the total
// loss on them. Per box, in output (stride) pixels after clipping to the map: a gaussian splat of
// radius max(0, int(gaussian_radius(ceil(h), ceil(w)))) at the integer centre in its class's
// heatmap, the size (w, h) and the offset centre − int(centre) at that pixel, and a mask 1 there.
// CenterNet gathers these at `ind`; storing them densely gives the same loss, except that two
// boxes sharing one centre pixel keep the later box's size (CenterNet counts both).
#include "heads/detect/centernet.h"

#include <ATen/core/Tensor.h>

namespace vss::detect {

// Layout of one image's target: [num_classes + 5, H, W] float32 = heatmaps, w, h, dx, dy, mask.
// `boxes` [N, 4] x1 y1 x2 y2 in input pixels, `classes` [N] int64 in [0, num_classes).
at::Tensor centernet_targets(const at::Tensor& boxes, const at::Tensor& classes, int64_t num_classes, int64_t height,
                             int64_t width, double stride = 4);

struct CenterNetLossWeights {
  double hm = 1, wh = 0.1, off = 1;  // CenterNet's ctdet defaults (hm_weight, wh_weight, off_weight)
};

struct CenterNetLoss {
  at::Tensor total, hm, wh, off;
};

// targets [B, num_classes + 5, H, W] (stacked centernet_targets) on the outputs' device.
CenterNetLoss centernet_loss(const CenterNetOutput& out, const at::Tensor& targets, const CenterNetLossWeights& w = {});

}  // namespace vss::detect
