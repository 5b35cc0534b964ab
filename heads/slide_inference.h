#pragma once
// Sliding-window inference as mmseg's EncoderDecoder.slide_inference (conventions.md §3.3):
// windows of crop×crop every `stride`, the last row / column of windows flush with the border,
// windows larger than the image shrink to it (no padding); the logits of overlapping windows
// are summed and divided by the number of windows covering each pixel, before any argmax.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace vss {

struct SlideWindow {
  int64_t top = 0, left = 0, height = 0, width = 0;
};

// The windows in row-major order. crop, stride >= 1.
std::vector<SlideWindow> slide_windows(int64_t H, int64_t W, int64_t crop, int64_t stride);
// Rectangular crops and strides (mmseg's Cityscapes setting: crop 512x1024, stride 341x682).
std::vector<SlideWindow> slide_windows(int64_t H, int64_t W, int64_t crop_h, int64_t crop_w, int64_t stride_h,
                                       int64_t stride_w);

// run(window) -> logits [B, C, window.height, window.width]; returns the averaged [B, C, H, W]
// (float32, on the device of the first window's logits).
at::Tensor slide_inference(int64_t H, int64_t W, int64_t crop, int64_t stride,
                           const std::function<at::Tensor(const SlideWindow&)>& run);
at::Tensor slide_inference(int64_t H, int64_t W, int64_t crop_h, int64_t crop_w, int64_t stride_h, int64_t stride_w,
                           const std::function<at::Tensor(const SlideWindow&)>& run);

}  // namespace vss
