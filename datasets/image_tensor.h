#pragma once
// Stored images (core/image_io: [H, W, C] uint8 / uint16, RGB(A) or grey) <-> the float
// [C, H, W] tensors in [0, 1] that restoration networks take, and the channel conversions a
// model with a fixed number of input channels needs.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace vss {

// [H, W, C] (or [H, W]) uint8 / uint16 -> float32 [C, H, W] in [0, 1] (x / 255 or x / 65535).
at::Tensor image_to_float(const at::Tensor& image);
// float [C, H, W] -> [H, W, C] of `type` (uint8 or uint16): clamp to [0, 1], x·max in float32,
// round half to even (BasicSR's tensor2img for uint8; the same rule for 16 bits).
at::Tensor float_to_image(const at::Tensor& chw, at::ScalarType type);

// [H, W, C] with C = 1 or 3 -> `channels` (1 or 3): grey is replicated to RGB; RGB becomes
// grey as OpenCV's cvtColor(RGB2GRAY) (0.299 R + 0.587 G + 0.114 B, rounded), which is
// how BasicSR reads images for grey models. Other combinations are a vss::Error.
at::Tensor match_channels(const at::Tensor& image, int64_t channels);
// Drops the alpha channel of [H, W, 4] / [H, W, 2]; other images unchanged.
at::Tensor drop_alpha(const at::Tensor& image);

}  // namespace vss
