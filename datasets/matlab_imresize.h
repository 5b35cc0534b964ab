#pragma once
// Bicubic resizing as MATLAB's imresize(img, scale, 'bicubic') with its default antialiasing
// (the way SR test sets' LR images are made; BasicSR's utils/matlab_functions.imresize).
// OpenCV's INTER_CUBIC differs: a = -0.75 and no antialiasing when shrinking.
// Per axis, output pixel i (1-based) maps to u = i/scale + (1 - 1/scale)/2; the Keys cubic
// (a = -0.5) is stretched by 1/scale when shrinking; the taps are normalised to sum 1;
// positions outside the image mirror back ('symmetric', the edge pixel repeated).
// Rows are resized first, then columns, in float64 without rounding in between (as BasicSR;
// MATLAB rounds a uint8 image after each pass, a difference of at most 1 grey level).
#include <ATen/core/Tensor.h>

namespace vss {

// x [..., H, W] floating -> [..., ceil(H·scale), ceil(W·scale)], same dtype. scale > 0.
at::Tensor imresize_matlab(const at::Tensor& x, double scale);

}  // namespace vss
