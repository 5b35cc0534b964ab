#include "heads/slide_inference.h"

#include "core/error.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace vss {
namespace {

// Window starts along one axis: grids = max(L − crop + stride − 1, 0) / stride + 1,
// start = min(i·stride + crop, L) − crop, clamped at 0.
std::vector<std::pair<int64_t, int64_t>> axis_windows(int64_t length, int64_t crop, int64_t stride) {
  const int64_t grids = std::max<int64_t>(length - crop + stride - 1, 0) / stride + 1;
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int64_t i = 0; i < grids; ++i) {
    const int64_t end = std::min(i * stride + crop, length);
    const int64_t start = std::max<int64_t>(end - crop, 0);
    out.emplace_back(start, end - start);
  }
  return out;
}

}  // namespace

std::vector<SlideWindow> slide_windows(int64_t H, int64_t W, int64_t crop, int64_t stride) {
  return slide_windows(H, W, crop, crop, stride, stride);
}

std::vector<SlideWindow> slide_windows(int64_t H, int64_t W, int64_t crop_h, int64_t crop_w, int64_t stride_h,
                                       int64_t stride_w) {
  if (crop_h < 1 || crop_w < 1 || stride_h < 1 || stride_w < 1)
    throw Error("sliding window: crop and stride must be >= 1, got crop " + std::to_string(crop_h) + "x" +
                std::to_string(crop_w) + " and stride " + std::to_string(stride_h) + "x" + std::to_string(stride_w));
  std::vector<SlideWindow> out;
  for (const auto& [top, height] : axis_windows(H, crop_h, stride_h))
    for (const auto& [left, width] : axis_windows(W, crop_w, stride_w)) out.push_back({top, left, height, width});
  return out;
}

at::Tensor slide_inference(int64_t H, int64_t W, int64_t crop, int64_t stride,
                           const std::function<at::Tensor(const SlideWindow&)>& run) {
  return slide_inference(H, W, crop, crop, stride, stride, run);
}

at::Tensor slide_inference(int64_t H, int64_t W, int64_t crop_h, int64_t crop_w, int64_t stride_h, int64_t stride_w,
                           const std::function<at::Tensor(const SlideWindow&)>& run) {
  at::Tensor sum, count;
  for (const auto& w : slide_windows(H, W, crop_h, crop_w, stride_h, stride_w)) {
    const at::Tensor logits = run(w);
    if (logits.dim() != 4 || logits.size(2) != w.height || logits.size(3) != w.width)
      throw_shape_error("sliding window logits", {-1, -1, w.height, w.width}, logits.sizes().vec());
    if (!sum.defined()) {
      sum = at::zeros({logits.size(0), logits.size(1), H, W}, logits.options().dtype(at::kFloat));
      count = at::zeros({1, 1, H, W}, sum.options());
    }
    sum.narrow(2, w.top, w.height).narrow(3, w.left, w.width).add_(logits.to(at::kFloat));
    count.narrow(2, w.top, w.height).narrow(3, w.left, w.width).add_(1);
  }
  return sum / count;
}

}  // namespace vss
