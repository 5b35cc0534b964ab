#include "heads/seg/seg_inference.h"

#include "core/error.h"
#include "heads/slide_inference.h"

#include <ATen/ATen.h>

namespace vss::seg {

namespace {

// The network's logits for `images`, float32 at the images' size.
at::Tensor run_at_input_size(const LogitsFn& net, const at::Tensor& images) {
  const at::Tensor logits = net(images);
  if (logits.dim() != 4 || logits.size(0) != images.size(0))
    throw Error("segmentation network: expected logits [" + std::to_string(images.size(0)) + ", K, h, w], got " +
                shape_to_string(logits.sizes().vec()));
  return resize_logits(logits.to(at::kFloat), images.size(2), images.size(3));
}

}  // namespace

at::Tensor infer_logits(const LogitsFn& net, const at::Tensor& images, const InferenceOptions& o) {
  if (images.dim() != 4 || images.size(0) < 1 || images.size(2) < 1 || images.size(3) < 1)
    throw Error("segmentation input: expected images [B, C, H, W], got " + shape_to_string(images.sizes().vec()));
  if (o.mode == "whole") return run_at_input_size(net, images);
  if (o.mode != "slide") throw Error("inference mode must be 'whole' or 'slide', got '" + o.mode + "'");
  return slide_inference(images.size(2), images.size(3), o.crop_h, o.crop_w, o.stride_h, o.stride_w,
                         [&](const SlideWindow& w) {
                           return run_at_input_size(
                               net, images.narrow(2, w.top, w.height).narrow(3, w.left, w.width));
                         });
}

at::Tensor resize_logits(const at::Tensor& logits, int64_t H, int64_t W) {
  if (logits.size(2) == H && logits.size(3) == W) return logits;
  return at::upsample_bilinear2d(logits, {H, W}, /*align_corners=*/false);
}

}  // namespace vss::seg
