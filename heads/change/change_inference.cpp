#include "heads/change/change_inference.h"

#include "core/error.h"
#include "heads/slide_inference.h"

#include <torch/torch.h>

namespace vss::change {

at::Tensor change_logits(MambaBCDImpl& model, const at::Tensor& pre, const at::Tensor& post,
                         const ChangeInferenceOptions& options) {
  if (pre.dim() != 4) throw_shape_error("change inference input", {-1, 3, -1, -1}, pre.sizes().vec());
  if (pre.sizes() != post.sizes())
    throw Error("change inference: the dates differ in shape: " + shape_to_string(pre.sizes().vec()) + " vs " +
                shape_to_string(post.sizes().vec()));
  if (options.tile < 0 || options.stride < 0)
    throw Error("change inference: tile and stride must be >= 0, got " + std::to_string(options.tile) + " and " +
                std::to_string(options.stride));
  const at::Tensor a = normalize_input(pre), b = normalize_input(post);
  if (options.tile == 0) return model.forward(a, b).to(torch::kFloat);
  const int64_t stride = options.stride > 0 ? options.stride : options.tile;
  return slide_inference(a.size(2), a.size(3), options.tile, stride, [&](const SlideWindow& w) {
    auto window = [&](const at::Tensor& t) { return t.narrow(2, w.top, w.height).narrow(3, w.left, w.width); };
    return model.forward(window(a), window(b));
  });
}

at::Tensor change_mask(const at::Tensor& logits, double threshold) {
  if (logits.dim() != 4 || logits.size(1) != 2) throw_shape_error("change logits", {-1, 2, -1, -1}, logits.sizes().vec());
  return torch::softmax(logits.to(torch::kFloat), 1).select(1, 1).gt(threshold).to(torch::kByte);
}

}  // namespace vss::change
