#include "heads/seg/seg_prediction.h"

#include "core/config.h"
#include "core/error.h"
#include "heads/seg/segmentor.h"

#include <torch/torch.h>

namespace vss::seg {

at::Tensor segment_logits(SegmentorImpl& model, const at::Tensor& images, const SegPipeline& pipeline,
                          const InferenceOptions& inference) {
  if (images.dim() != 4) throw_shape_error("segmentation images", {-1, 3, -1, -1}, images.sizes().vec());
  const int64_t H = images.size(2), W = images.size(3);
  const c10::Device device = model.parameters().front().device();
  at::Tensor x = images.to(device);
  if (pipeline.test_scale) {
    std::vector<at::Tensor> resized;
    for (int64_t i = 0; i < x.size(0); ++i) resized.push_back(pipeline.test_image(x[i]));
    x = torch::stack(resized);
  }
  const at::Tensor logits =
      infer_logits([&](const at::Tensor& batch) { return model.forward(batch); }, model.normalize(x), inference);
  return resize_logits(logits, H, W);
}

InferenceOptions inference_options(const Config& node) {
  node.check_keys({"mode", "crop_size", "stride"});
  InferenceOptions o;
  o.mode = node.get_or<std::string>("mode", o.mode);
  if (o.mode != "whole" && o.mode != "slide") node["mode"].fail("must be whole or slide, got '" + o.mode + "'");
  auto pair = [&](const char* key, int64_t& h, int64_t& w) {
    if (!node.has(key)) return;
    const Config v = node[key];
    const auto hw = v.is_list() ? v.as<std::vector<int64_t>>() : std::vector<int64_t>{v.as<int64_t>()};
    if (hw.empty() || hw.size() > 2 || hw[0] < 1 || hw.back() < 1) v.fail("expected N or [h, w], positive");
    h = hw[0];
    w = hw.back();
  };
  pair("crop_size", o.crop_h, o.crop_w);
  pair("stride", o.stride_h, o.stride_w);
  return o;
}

}  // namespace vss::seg
