#include "datasets/degradations.h"

#include "core/config.h"
#include "core/error.h"
#include "core/image_io.h"
#include "datasets/image_tensor.h"
#include "datasets/matlab_imresize.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <sstream>

namespace vss {

namespace {

std::string size_text(const at::Tensor& image) {
  return std::to_string(image.size(0)) + "x" + std::to_string(image.size(1));
}

at::Tensor resize(const at::Tensor& image, double factor) {
  const at::Tensor x = image_to_float(image).to(at::kDouble);
  return float_to_image(imresize_matlab(x, factor), image.scalar_type());
}

}  // namespace

at::Tensor mod_crop(const at::Tensor& image, int64_t scale) {
  if (scale < 1) throw Error("mod_crop: scale must be >= 1, got " + std::to_string(scale));
  if (image.dim() < 2) throw Error("mod_crop: expected an image [H, W, C], got " + shape_to_string(image.sizes().vec()));
  const int64_t h = image.size(0) - image.size(0) % scale, w = image.size(1) - image.size(1) % scale;
  if (h == 0 || w == 0)
    throw Error("a " + size_text(image) + " image is smaller than the scale " + std::to_string(scale));
  return image.narrow(0, 0, h).narrow(1, 0, w);
}

at::Tensor bicubic_downsample(const at::Tensor& image, int64_t scale) {
  const at::Tensor gt = mod_crop(image, scale);
  if (scale == 1) return gt;
  return resize(gt, 1.0 / static_cast<double>(scale));
}

at::Tensor bicubic_upsample(const at::Tensor& image, int64_t scale) {
  if (scale < 1) throw Error("bicubic_upsample: scale must be >= 1, got " + std::to_string(scale));
  if (scale == 1) return image;
  return resize(image, static_cast<double>(scale));
}

at::Tensor add_gaussian_noise(const at::Tensor& x, double sigma, uint64_t seed) {
  if (!(sigma >= 0) || !std::isfinite(sigma)) throw Error("noise sigma must be >= 0, got " + std::to_string(sigma));
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const at::Tensor noise = at::normal(0.0, sigma / 255.0, x.sizes(), gen, x.options().device(at::kCPU));
  return x + noise.to(x.device(), x.scalar_type());
}

at::Tensor jpeg_compress(const at::Tensor& image, int quality) {
  if (quality < 1 || quality > 100) throw Error("JPEG quality must be in 1..100, got " + std::to_string(quality));
  if (image.scalar_type() != at::kByte) throw Error("JPEG compression needs an 8-bit image");
  if (image.dim() == 3 && image.size(2) != 1 && image.size(2) != 3)
    throw Error("JPEG compression needs a grey or RGB image, got " + std::to_string(image.size(2)) + " channels");
  const auto bytes = encode_image(image, ".jpg", quality);
  at::Tensor out = decode_image(bytes, ImageMode::kUnchanged, "JPEG q" + std::to_string(quality));
  return image.dim() == 2 ? out.squeeze(2) : out;
}

std::string Degradation::describe() const {
  std::ostringstream s;
  if (kind == Kind::kBicubic) s << "bicubic x" << scale;
  else if (kind == Kind::kNoise) s << "noise sigma " << sigma;
  else s << "jpeg q " << quality;
  return s.str();
}

Degradation degradation_from_config(const Config& node) {
  Degradation d;
  const auto type = node.get<std::string>("type");
  if (type == "bicubic") {
    node.check_keys({"type", "scale"});
    d.kind = Degradation::Kind::kBicubic;
    d.scale = node.get<int64_t>("scale");
    if (d.scale < 2) node["scale"].fail("must be >= 2 for bicubic downsampling, got " + std::to_string(d.scale));
  } else if (type == "noise") {
    node.check_keys({"type", "sigma"});
    d.kind = Degradation::Kind::kNoise;
    d.sigma = node.get<double>("sigma");
    if (!(d.sigma > 0) || !std::isfinite(d.sigma)) node["sigma"].fail("must be > 0 (0..255 scale)");
  } else if (type == "jpeg") {
    node.check_keys({"type", "quality"});
    d.kind = Degradation::Kind::kJpeg;
    d.quality = node.get<int>("quality");
    if (d.quality < 1 || d.quality > 100) node["quality"].fail("must be in 1..100");
  } else {
    node["type"].fail("unknown degradation '" + type + "' (known: bicubic, noise, jpeg)");
  }
  return d;
}

}  // namespace vss
