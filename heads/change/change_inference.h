#pragma once
// Change detection inference with a MambaBCD or MambaSCD: the whole image in one pass
// (MambaCD's test setting) or tiles (mmseg-style sliding windows, heads/slide_inference.h) for
// scenes larger than the training crops (LEVIR-CD's 1024² images, trained on 256² crops); and
// the masks / maps.
#include "heads/change/mamba_bcd.h"
#include "heads/change/mamba_scd.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

namespace vss::change {

struct ChangeInferenceOptions {
  int64_t tile = 0;    // 0: whole image; else tile x tile windows (smaller images: one window)
  int64_t stride = 0;  // window step; 0: = tile (adjacent windows, as LEVIR-CD-256's crops);
                       // a smaller step averages the logits of overlapping windows
  int64_t tile_batch = 8;  // windows per forward pass (all windows of an image share one size)
};

// pre, post [B, 3, H, W] RGB in 0..255 (uint8 or float) on the model's device -> logits
// [B, C, H, W] float32 of `forward` (normalised dates -> [B, C, h, w] logits), whole or tiled.
at::Tensor bitemporal_logits(const std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>& forward,
                             const at::Tensor& pre, const at::Tensor& post, const ChangeInferenceOptions& options);

// MambaBCD's change logits [B, 2, H, W] float32. Call under NoGradGuard / InferenceMode, the
// model in eval mode.
at::Tensor change_logits(MambaBCDImpl& model, const at::Tensor& pre, const at::Tensor& post,
                         const ChangeInferenceOptions& options = {});

// MambaSCD's three outputs, float32, tiles averaged per output.
SemanticChangeLogits semantic_change_logits(MambaSCDImpl& model, const at::Tensor& pre, const at::Tensor& post,
                                            const ChangeInferenceOptions& options = {});

// logits [B, 2, H, W] -> [B, H, W] uint8: 1 where the change probability (softmax channel 1)
// exceeds `threshold` (conventions.md §3.4: 0.5 unless configured, i.e. the argmax).
at::Tensor change_mask(const at::Tensor& logits, double threshold = 0.5);

struct SemanticChangeMaps {
  at::Tensor change;          // [B, H, W] uint8 0/1
  at::Tensor label1, label2;  // [B, H, W] uint8 class indices, 0 wherever change is 0
};

// MambaCD's inference rule: change = the change mask; label_t = argmax of date t's classes,
// times change (unchanged pixels are class 0 on both dates).
SemanticChangeMaps semantic_change_maps(const SemanticChangeLogits& logits, double threshold = 0.5);

// The post-classification comparison baseline (per-date segmentation, no change branch):
// label_t = the most likely land-cover class 1..K-1 of date t, change where they differ,
// both labels 0 where they agree.
SemanticChangeMaps post_classification_maps(const SemanticChangeLogits& logits);

}  // namespace vss::change
