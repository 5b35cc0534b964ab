#pragma once
// CenterNet's heatmap targets (xingyizhou/CenterNet, src/lib/utils/image.py): the radius of
// the gaussian splat for a box of a given size, and drawing that splat into a class heatmap
// with an element-wise maximum ("umich" gaussian, sigma = diameter / 6).
#include <ATen/core/Tensor.h>

namespace vss::detect {

// CenterNet's gaussian_radius((height, width), min_overlap): the smallest of the three
// quadratic roots r1, r2, r3 exactly as published, including its halving of (b + sqrt(disc))
// instead of dividing by 2a (kept: trained CenterNet models and their recipes assume it).
double gaussian_radius(double height, double width, double min_overlap = 0.7);

// Splats exp(-(dx² + dy²) / (2 sigma²)), sigma = (2 radius + 1) / 6, centred on the integer
// pixel (cx, cy), into `heatmap` ([H, W] float32, CPU, contiguous) by maximum. Values below
// float64 epsilon times the peak are 0, as gaussian2D does; the part outside the map is cut.
void draw_gaussian(at::Tensor& heatmap, int64_t cx, int64_t cy, int64_t radius);

}  // namespace vss::detect
