#pragma once
// A segmentor's class logits for images as they come from disk, the way mmseg's test step
// runs: resize to the pipeline's test_scale (keep ratio; off when not set), normalise, whole
// or sliding-window inference (heads/seg/seg_inference.h), then the logits resized bilinearly
// back to the original size. Shared by the training task's validation and vss-segment.
#include "datasets/seg_pipeline.h"
#include "heads/seg/seg_inference.h"

#include <ATen/core/Tensor.h>

namespace vss {
class Config;
}

namespace vss::seg {

class SegmentorImpl;

// images: [B, 3, H, W] (uint8 or float on the 0..255 scale, any device) -> float32 logits
// [B, K, H, W] on the model's device. Call in eval mode under a no-grad / inference guard.
at::Tensor segment_logits(SegmentorImpl& model, const at::Tensor& images, const SegPipeline& pipeline,
                          const InferenceOptions& inference);

// `{mode: whole|slide, crop_size: [h, w], stride: [h, w]}` (mmseg's test_cfg; a single
// number means square). Defaults: whole; crop 512, stride 341 for slide.
InferenceOptions inference_options(const Config& node);

}  // namespace vss::seg
