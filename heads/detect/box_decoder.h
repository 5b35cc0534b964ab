#pragma once
// CenterNet's ctdet_decode (xingyizhou/CenterNet, src/lib/models/decode.py): peaks of the class
// heatmap are the pixels equal to their 3x3 max-pool (a max-pool "NMS", no box NMS), the K
// highest peaks over all classes and pixels are kept, and each becomes a box centred at the
// peak plus its predicted sub-pixel offset, of the predicted size, scaled by the output stride.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace vss::detect {

struct Detection {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // input pixels, corners
  double score = 0;
  int64_t cls = 0;                        // 0-based class index
};

struct DecodeOptions {
  int64_t top_k = 100;          // CenterNet's K
  double score_threshold = 0;   // peaks below it are dropped after top-K
  double stride = 4;            // output stride of the maps (down_ratio)
};

// Max-pool NMS: heat where heat == maxpool3x3(heat), else 0 ([B, C, H, W]).
at::Tensor peak_nms(const at::Tensor& heat);

// heat [B, C, H, W] probabilities (after the sigmoid), wh and reg [B, 2, H, W] (width/height
// and x/y offset in output pixels). One list per image, by descending score (ties: lower
// flat index c·H·W + y·W + x first).
std::vector<std::vector<Detection>> decode_centernet(const at::Tensor& heat, const at::Tensor& wh, const at::Tensor& reg,
                                                     const DecodeOptions& options);

}  // namespace vss::detect
