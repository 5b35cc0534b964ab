#include "datasets/augment.h"

#include "core/error.h"
#include "datasets/hsv.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace vss {

namespace {

int64_t uniform_int(AugmentRng& rng, int64_t lo, int64_t hi) {  // inclusive
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}
double uniform(AugmentRng& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
bool coin(AugmentRng& rng) { return uniform_int(rng, 0, 1) == 1; }

void check_2d(const at::Tensor& t, const char* what) {
  if (t.dim() < 2) throw Error(std::string(what) + ": expected a tensor [..., H, W], got " + shape_to_string(t.sizes().vec()));
}

}  // namespace

CropBox random_crop_box(int64_t H, int64_t W, int64_t height, int64_t width, AugmentRng& rng) {
  if (height < 1 || width < 1)
    throw Error("random crop: crop size must be positive, got " + std::to_string(height) + "x" + std::to_string(width));
  CropBox box;
  box.height = std::min(height, H);
  box.width = std::min(width, W);
  box.top = uniform_int(rng, 0, H - box.height);
  box.left = uniform_int(rng, 0, W - box.width);
  return box;
}

at::Tensor crop(const at::Tensor& t, const CropBox& box, int64_t scale) {
  check_2d(t, "crop");
  const int64_t H = t.size(-2), W = t.size(-1);
  const int64_t top = box.top * scale, left = box.left * scale, h = box.height * scale, w = box.width * scale;
  if (top < 0 || left < 0 || top + h > H || left + w > W)
    throw Error("crop: box " + std::to_string(h) + "x" + std::to_string(w) + " at (" + std::to_string(top) + ", " +
                std::to_string(left) + ") is outside a tensor " + shape_to_string(t.sizes().vec()));
  return t.narrow(-2, top, h).narrow(-1, left, w);
}

CropBox random_crop_box_for_mask(const at::Tensor& mask, int64_t height, int64_t width, double cat_max_ratio,
                                 int64_t ignore_index, AugmentRng& rng) {
  check_2d(mask, "random crop");
  const int64_t H = mask.size(-2), W = mask.size(-1);
  CropBox box = random_crop_box(H, W, height, width, rng);
  if (cat_max_ratio >= 1.0) return box;
  for (int attempt = 0; attempt < 10; ++attempt) {
    const auto labels = crop(mask, box).reshape(-1).to(at::kLong);
    const auto kept = labels.masked_select(labels != ignore_index);
    if (kept.numel() > 0 && kept.min().item<int64_t>() >= 0) {
      const auto counts = at::bincount(kept);
      const auto present = counts.masked_select(counts > 0);
      if (present.size(0) > 1 && present.max().item<double>() / static_cast<double>(kept.numel()) < cat_max_ratio) break;
    }
    box = random_crop_box(H, W, height, width, rng);
  }
  return box;
}

FlipRotate random_flip_rotate(bool hflip, bool vflip, bool rotate, AugmentRng& rng) {
  FlipRotate f;
  f.hflip = hflip && coin(rng);
  f.vflip = vflip && coin(rng);
  f.transpose = rotate && coin(rng);
  return f;
}

at::Tensor apply(const at::Tensor& t, const FlipRotate& f) {
  check_2d(t, "flip/rotate");
  at::Tensor out = t;
  if (f.hflip) out = out.flip(-1);
  if (f.vflip) out = out.flip(-2);
  if (f.transpose) out = out.transpose(-2, -1);
  return out.contiguous();
}

at::Tensor pad_to(const at::Tensor& t, int64_t height, int64_t width, double value) {
  check_2d(t, "pad");
  const int64_t ph = std::max<int64_t>(0, height - t.size(-2)), pw = std::max<int64_t>(0, width - t.size(-1));
  if (ph == 0 && pw == 0) return t;
  return at::constant_pad_nd(t, {0, pw, 0, ph}, value);
}

at::Tensor resize_image(const at::Tensor& chw, int64_t height, int64_t width) {
  if (chw.dim() != 3) throw Error("resize: expected an image [C, H, W], got " + shape_to_string(chw.sizes().vec()));
  const auto in = chw.unsqueeze(0).to(at::kFloat);
  return at::upsample_bilinear2d(in, {height, width}, /*align_corners=*/false).squeeze(0).to(chw.scalar_type());
}

at::Tensor resize_mask(const at::Tensor& mask, int64_t height, int64_t width) {
  if (mask.dim() != 2 && !(mask.dim() == 3 && mask.size(0) == 1))
    throw Error("resize: expected a mask [H, W] or [1, H, W], got " + shape_to_string(mask.sizes().vec()));
  const auto in = mask.reshape({1, 1, mask.size(-2), mask.size(-1)}).to(at::kFloat);
  // nearest (not nearest-exact): the sampling mmcv.imresize(interpolation='nearest') uses.
  const auto out = at::upsample_nearest2d(in, {height, width});
  return out.reshape(mask.dim() == 2 ? std::vector<int64_t>{height, width} : std::vector<int64_t>{1, height, width})
      .to(mask.scalar_type());
}

at::Tensor photometric_distortion(const at::Tensor& image, AugmentRng& rng) {
  if (image.dim() != 3 || image.size(0) != 3)
    throw Error("photometric distortion: expected an RGB image [3, H, W], got " + shape_to_string(image.sizes().vec()));
  at::Tensor img = image.to(at::kFloat);
  auto clip = [](const at::Tensor& t) { return at::clamp(t, 0.0, 255.0); };
  if (coin(rng)) img = clip(img + uniform(rng, -32.0, 32.0));
  const bool contrast_first = coin(rng);
  auto contrast = [&] {
    if (coin(rng)) img = clip(img * uniform(rng, 0.5, 1.5));
  };
  if (contrast_first) contrast();
  const bool do_saturation = coin(rng);
  const double saturation = do_saturation ? uniform(rng, 0.5, 1.5) : 1.0;
  const bool do_hue = coin(rng);
  const double hue_shift = do_hue ? 2.0 * static_cast<double>(uniform_int(rng, -18, 18)) : 0.0;  // degrees
  if (do_saturation || do_hue) {
    auto [h, s, v] = rgb_to_hsv(img);
    s = at::clamp(s * saturation, 0.0, 1.0);
    h = at::remainder(h + hue_shift, 360.0);
    img = clip(hsv_to_rgb(h, s, v));
  }
  if (!contrast_first) contrast();
  return img;
}

}  // namespace vss
