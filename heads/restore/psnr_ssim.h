#pragma once
// PSNR and SSIM exactly as BasicSR computes them (specs/conventions.md §2.1,
// basicsr/metrics/psnr_ssim.py): on uint8 images, after removing `crop_border` pixels from
// each edge, optionally on the BT.601 Y channel, in float64. SSIM uses the 11x11 Gaussian
// window (σ = 1.5) over the 'valid' region (BasicSR filters, then crops 5 px per side) and
// averages the channels. The images here are [H, W, C] uint8 in RGB order (core/image_io);
// BasicSR's BGR order only matters for Y, whose weights are applied to the right channels.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace vss::restore {

struct MetricOptions {
  int64_t crop_border = 0;      // SR: the scale; denoising / JPEG: 0
  bool test_y_channel = false;  // score Y of 3-channel images (BasicSR test_y_channel)
};

// A float image in [0, 1] (any shape) -> uint8 as BasicSR's tensor2img: clamp to [0, 1],
// x·255 in float32, round half to even. A network's output is scored after this.
at::Tensor quantize_uint8(const at::Tensor& image);
// uint8 unchanged; uint16 -> quantize_uint8(x / 65535) (metrics are defined on 8 bits).
at::Tensor to_uint8(const at::Tensor& image);

// Y (16..235, not rounded) of an RGB uint8 [H, W, 3] image as BasicSR's to_y_channel,
// including its float32 steps -> float64 [H, W, 1].
at::Tensor rgb_to_y(const at::Tensor& rgb);

// a, b: uint8 [H, W, C] or [H, W] of the same shape; vss::Error naming both shapes
// otherwise. psnr is +inf for identical images. ssim needs at least 11x11 pixels after the
// crop (an error otherwise: BasicSR would average an empty map).
double psnr(const at::Tensor& a, const at::Tensor& b, const MetricOptions& options = {});
double ssim(const at::Tensor& a, const at::Tensor& b, const MetricOptions& options = {});

}  // namespace vss::restore
