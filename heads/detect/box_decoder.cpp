// CenterNet decoding: max-pool peaks, top-K, boxes from size and offset (see box_decoder.h).
#include "heads/detect/box_decoder.h"

#include "core/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>

namespace vss::detect {

at::Tensor peak_nms(const at::Tensor& heat) {
  const at::Tensor hmax = at::max_pool2d(heat, {3, 3}, {1, 1}, {1, 1});
  return heat * (hmax == heat).to(heat.scalar_type());
}

std::vector<std::vector<Detection>> decode_centernet(const at::Tensor& heat, const at::Tensor& wh, const at::Tensor& reg,
                                                     const DecodeOptions& o) {
  if (heat.dim() != 4) throw_shape_error("heatmap", {-1, -1, -1, -1}, heat.sizes().vec());
  const int64_t B = heat.size(0), C = heat.size(1), H = heat.size(2), W = heat.size(3);
  if (wh.sizes() != at::IntArrayRef{B, 2, H, W}) throw_shape_error("wh map", {B, 2, H, W}, wh.sizes().vec());
  if (reg.sizes() != at::IntArrayRef{B, 2, H, W}) throw_shape_error("offset map", {B, 2, H, W}, reg.sizes().vec());
  const at::Tensor peaks = peak_nms(heat.to(at::kFloat)).reshape({B, C * H * W}).cpu().contiguous();
  const at::Tensor whc = wh.to(at::kFloat).cpu().contiguous(), regc = reg.to(at::kFloat).cpu().contiguous();
  const int64_t K = std::min<int64_t>(o.top_k, C * H * W);
  std::vector<std::vector<Detection>> out(static_cast<size_t>(B));
  std::vector<int64_t> order(static_cast<size_t>(C * H * W));
  for (int64_t b = 0; b < B; ++b) {
    const float* s = peaks[b].data_ptr<float>();
    std::iota(order.begin(), order.end(), 0);
    // A stable partial sort: the K best, ties by flat index (deterministic on every device).
    std::partial_sort(order.begin(), order.begin() + K, order.end(),
                      [&](int64_t a, int64_t c) { return s[a] > s[c] || (s[a] == s[c] && a < c); });
    const float* w = whc[b].data_ptr<float>();
    const float* r = regc[b].data_ptr<float>();
    for (int64_t k = 0; k < K; ++k) {
      const int64_t i = order[static_cast<size_t>(k)];
      const double score = s[i];
      if (score <= 0 || score < o.score_threshold) break;  // sorted: the rest are lower
      const int64_t cls = i / (H * W), pix = i % (H * W), y = pix / W, x = pix % W;
      const double cx = static_cast<double>(x) + r[pix], cy = static_cast<double>(y) + r[H * W + pix];
      const double bw = w[pix], bh = w[H * W + pix];
      out[static_cast<size_t>(b)].push_back({(cx - bw / 2) * o.stride, (cy - bh / 2) * o.stride,
                                             (cx + bw / 2) * o.stride, (cy + bh / 2) * o.stride, score, cls});
    }
  }
  return out;
}

}  // namespace vss::detect
