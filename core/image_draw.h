#pragma once
// Minimal drawing on [H, W, 3] uint8 RGB tensors (in place, CPU), for visualisations that must
// also work in builds without OpenCV: box outlines and filled discs, clipped to the image.
#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>

namespace vss {

using Rgb = std::array<uint8_t, 3>;

// Outline of the box [x, x + w) x [y, y + h) (pixels, may lie partly outside), `thickness` px
// inwards.
void draw_box(at::Tensor& image, double x, double y, double w, double h, const Rgb& colour, int thickness = 2);
// Filled disc of `radius` px around (cx, cy).
void draw_disc(at::Tensor& image, double cx, double cy, double radius, const Rgb& colour);

}  // namespace vss
