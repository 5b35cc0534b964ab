#pragma once
// The image operations of AutoAugment-style policies on uint8 RGB images [3, H, W], computed
// as PIL computes them (torchvision and timm apply these policies to PIL images, so their
// published recipes mean PIL's arithmetic):
//   affine(a..f)   output pixel (x, y) takes the input pixel at (a·x' + b·y' + c, d·x' + e·y' + f),
//                  x' = x + 0.5, y' = y + 0.5 (pixel centres), nearest, 0 outside (Image.transform);
//   shear_x(m) = affine(1, m, 0, 0, 1, 0), shear_y(m) = affine(1, 0, 0, m, 1, 0),
//   translate(dx, dy) = affine(1, 0, dx, 0, 1, dy) (timm's definitions);
//   rotate(deg)    counter-clockwise about the centre (Image.rotate, nearest, 0 outside);
//   enhance        ImageEnhance's blend of a degenerate image d with the image x by factor f,
//                  floor(clamp(d + f·(x − d), 0, 255)) in float32 (ImagingBlend): brightness
//                  (d = 0), colour (d = the grey image), contrast (d = the grey image's mean,
//                  int(mean + 0.5)), sharpness (d = the 3x3 SMOOTH filter [1 1 1; 1 5 1; 1 1 1]/13,
//                  border pixels unfiltered);  grey = (19595 R + 38470 G + 7471 B + 2^15) >> 16;
//   posterize(bits) keeps the top `bits` bits; solarize(t) inverts values >= t;
//   autocontrast   per channel, lo..hi stretched to 0..255 (lut int(v·s − lo·s), s = 255/(hi − lo));
//   equalize       per channel, ImageOps.equalize's histogram lut.
#include <ATen/core/Tensor.h>

#include <array>

namespace vss::pil {

at::Tensor affine(const at::Tensor& image, const std::array<double, 6>& matrix);
at::Tensor shear_x(const at::Tensor& image, double m);
at::Tensor shear_y(const at::Tensor& image, double m);
at::Tensor translate(const at::Tensor& image, double dx, double dy);
at::Tensor rotate(const at::Tensor& image, double degrees);
at::Tensor brightness(const at::Tensor& image, double factor);
at::Tensor color(const at::Tensor& image, double factor);
at::Tensor contrast(const at::Tensor& image, double factor);
at::Tensor sharpness(const at::Tensor& image, double factor);
at::Tensor posterize(const at::Tensor& image, int64_t bits);
at::Tensor solarize(const at::Tensor& image, double threshold);
at::Tensor autocontrast(const at::Tensor& image);
at::Tensor equalize(const at::Tensor& image);

}  // namespace vss::pil
