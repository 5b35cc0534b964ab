#pragma once
// Change detection inference with a MambaBCD: the whole image in one pass (MambaCD's test
// setting) or tiles (mmseg-style sliding windows, heads/slide_inference.h) for scenes larger
// than the training crops (LEVIR-CD's 1024² images, trained on 256² crops); and the mask.
#include "heads/change/mamba_bcd.h"

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace vss::change {

struct ChangeInferenceOptions {
  int64_t tile = 0;    // 0: whole image; else tile x tile windows (smaller images: one window)
  int64_t stride = 0;  // window step; 0: = tile (adjacent windows, as LEVIR-CD-256's crops);
                       // a smaller step averages the logits of overlapping windows
  int64_t tile_batch = 8;  // windows per forward pass (all windows of an image share one size)
};

// pre, post [B, 3, H, W] RGB in 0..255 (uint8 or float) on the model's device -> change
// logits [B, 2, H, W] float32. Call under NoGradGuard / InferenceMode, the model in eval mode.
at::Tensor change_logits(MambaBCDImpl& model, const at::Tensor& pre, const at::Tensor& post,
                         const ChangeInferenceOptions& options = {});

// logits [B, 2, H, W] -> [B, H, W] uint8: 1 where the change probability (softmax channel 1)
// exceeds `threshold` (conventions.md §3.4: 0.5 unless configured, i.e. the argmax).
at::Tensor change_mask(const at::Tensor& logits, double threshold = 0.5);

}  // namespace vss::change
