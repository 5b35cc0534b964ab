#pragma once
// Segmentation inference as mmseg's EncoderDecoder runs it (conventions.md §3.3): `whole`
// (the network sees the whole image) or `slide` (overlapping windows, heads/slide_inference.h),
// over any network that maps a normalised batch [B, C, h, w] to class logits [B, K, h', w'];
// logits not at the size of what the network saw are resized to it bilinearly, as mmseg's
// encode_decode does.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>

namespace vss::seg {

using LogitsFn = std::function<at::Tensor(const at::Tensor& images)>;

struct InferenceOptions {
  std::string mode = "whole";  // "whole" | "slide"
  int64_t crop_h = 512, crop_w = 512, stride_h = 341, stride_w = 341;
};

// Logits [B, K, H, W] float32 at the input size: the network's output (whole), or per pixel the
// mean of the logits of the windows covering it (slide), always before any argmax.
at::Tensor infer_logits(const LogitsFn& net, const at::Tensor& images, const InferenceOptions& options);

// Bilinear resize of [B, K, h, w] logits to (H, W), align_corners false (mmseg's `resize`).
at::Tensor resize_logits(const at::Tensor& logits, int64_t H, int64_t W);

}  // namespace vss::seg
