#include "heads/change/change_inference.h"

#include "core/error.h"
#include "heads/slide_inference.h"

#include <torch/torch.h>

#include <algorithm>

namespace vss::change {

at::Tensor bitemporal_logits(const std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>& forward,
                             const at::Tensor& pre, const at::Tensor& post, const ChangeInferenceOptions& options) {
  if (pre.dim() != 4) throw_shape_error("change inference input", {-1, 3, -1, -1}, pre.sizes().vec());
  if (pre.sizes() != post.sizes())
    throw Error("change inference: the dates differ in shape: " + shape_to_string(pre.sizes().vec()) + " vs " +
                shape_to_string(post.sizes().vec()));
  if (options.tile < 0 || options.stride < 0)
    throw Error("change inference: tile and stride must be >= 0, got " + std::to_string(options.tile) + " and " +
                std::to_string(options.stride));
  const at::Tensor a = normalize_input(pre), b = normalize_input(post);
  if (options.tile == 0) return forward(a, b).to(torch::kFloat);
  if (options.tile_batch < 1) throw Error("change inference: tile_batch must be >= 1");
  const int64_t stride = options.stride > 0 ? options.stride : options.tile;
  const int64_t H = a.size(2), W = a.size(3), B = a.size(0);
  // The windows' logits, several windows per forward pass (norms act per sample, so this is
  // the same as one window at a time); slide_inference then averages them in its order.
  const std::vector<SlideWindow> windows = slide_windows(H, W, options.tile, stride);
  std::vector<at::Tensor> window_logits;
  for (size_t start = 0; start < windows.size(); start += static_cast<size_t>(options.tile_batch)) {
    const size_t end = std::min(windows.size(), start + static_cast<size_t>(options.tile_batch));
    std::vector<at::Tensor> pre_windows, post_windows;
    for (size_t i = start; i < end; ++i) {
      const SlideWindow& w = windows[i];
      pre_windows.push_back(a.narrow(2, w.top, w.height).narrow(3, w.left, w.width));
      post_windows.push_back(b.narrow(2, w.top, w.height).narrow(3, w.left, w.width));
    }
    const at::Tensor out = forward(torch::cat(pre_windows), torch::cat(post_windows));
    for (const auto& chunk : out.split(B)) window_logits.push_back(chunk);
  }
  size_t next = 0;
  return slide_inference(H, W, options.tile, stride, [&](const SlideWindow&) { return window_logits[next++]; });
}

at::Tensor change_logits(MambaBCDImpl& model, const at::Tensor& pre, const at::Tensor& post,
                         const ChangeInferenceOptions& options) {
  return bitemporal_logits([&](const at::Tensor& a, const at::Tensor& b) { return model.forward(a, b); }, pre, post,
                           options);
}

SemanticChangeLogits semantic_change_logits(MambaSCDImpl& model, const at::Tensor& pre, const at::Tensor& post,
                                            const ChangeInferenceOptions& options) {
  // The three outputs travel as one [B, 2 + 2K, h, w] tensor through the tiling (averaging
  // acts per channel, so this is each output tiled on its own).
  const at::Tensor all = bitemporal_logits(
      [&](const at::Tensor& a, const at::Tensor& b) {
        const SemanticChangeLogits out = model.forward(a, b);
        return torch::cat({out.change, out.t1, out.t2}, 1);
      },
      pre, post, options);
  const int64_t K = model.semantic_classes();
  return {all.narrow(1, 0, 2), all.narrow(1, 2, K), all.narrow(1, 2 + K, K)};
}

at::Tensor change_mask(const at::Tensor& logits, double threshold) {
  if (logits.dim() != 4 || logits.size(1) != 2) throw_shape_error("change logits", {-1, 2, -1, -1}, logits.sizes().vec());
  return torch::softmax(logits.to(torch::kFloat), 1).select(1, 1).gt(threshold).to(torch::kByte);
}

SemanticChangeMaps semantic_change_maps(const SemanticChangeLogits& logits, double threshold) {
  SemanticChangeMaps m;
  m.change = change_mask(logits.change, threshold);
  m.label1 = (logits.t1.argmax(1) * m.change).to(torch::kByte);
  m.label2 = (logits.t2.argmax(1) * m.change).to(torch::kByte);
  return m;
}

SemanticChangeMaps post_classification_maps(const SemanticChangeLogits& logits) {
  const auto land_cover = [](const at::Tensor& t) { return t.narrow(1, 1, t.size(1) - 1).argmax(1) + 1; };
  const auto c1 = land_cover(logits.t1), c2 = land_cover(logits.t2);
  SemanticChangeMaps m;
  m.change = c1.ne(c2).to(torch::kByte);
  m.label1 = (c1 * m.change).to(torch::kByte);
  m.label2 = (c2 * m.change).to(torch::kByte);
  return m;
}

}  // namespace vss::change
