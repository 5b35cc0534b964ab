#include "datasets/mixup_cutmix.h"

#include "core/config.h"
#include "core/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace vss {

namespace {

// Beta(a, a) as X / (X + Y) with X, Y ~ Gamma(a, 1).
double beta(double alpha, AugmentRng& rng) {
  std::gamma_distribution<double> gamma(alpha, 1.0);
  const double x = gamma(rng), y = gamma(rng);
  return x + y > 0 ? x / (x + y) : 0.5;
}

}  // namespace

MixupCutmix MixupCutmix::from_config(const Config& node) {
  node.check_keys({"mixup_alpha", "cutmix_alpha", "prob", "switch_prob"});
  MixupCutmix m;
  m.mixup_alpha = node.get_or<double>("mixup_alpha", m.mixup_alpha);
  m.cutmix_alpha = node.get_or<double>("cutmix_alpha", m.cutmix_alpha);
  m.prob = node.get_or<double>("prob", m.prob);
  m.switch_prob = node.get_or<double>("switch_prob", m.switch_prob);
  if (!(m.mixup_alpha >= 0)) node["mixup_alpha"].fail("must be >= 0 (0: no mixup)");
  if (!(m.cutmix_alpha >= 0)) node["cutmix_alpha"].fail("must be >= 0 (0: no cutmix)");
  if (m.mixup_alpha == 0 && m.cutmix_alpha == 0) node.fail("mixup_alpha and cutmix_alpha are both 0: drop `mixup:`");
  if (!(m.prob >= 0 && m.prob <= 1)) node["prob"].fail("must be in [0, 1]");
  if (!(m.switch_prob >= 0 && m.switch_prob <= 1)) node["switch_prob"].fail("must be in [0, 1]");
  return m;
}

MixDraw MixupCutmix::draw(int64_t H, int64_t W, AugmentRng& rng) const {
  MixDraw d;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  if (!(unit(rng) < prob)) return d;
  if (mixup_alpha > 0 && cutmix_alpha > 0) d.cutmix = unit(rng) < switch_prob;
  else d.cutmix = cutmix_alpha > 0;
  d.lambda = beta(d.cutmix ? cutmix_alpha : mixup_alpha, rng);
  if (!d.cutmix) return d;
  const double ratio = std::sqrt(1.0 - d.lambda);
  const auto cut_h = static_cast<int64_t>(static_cast<double>(H) * ratio);
  const auto cut_w = static_cast<int64_t>(static_cast<double>(W) * ratio);
  const int64_t cy = std::uniform_int_distribution<int64_t>(0, H - 1)(rng);
  const int64_t cx = std::uniform_int_distribution<int64_t>(0, W - 1)(rng);
  const int64_t top = std::clamp<int64_t>(cy - cut_h / 2, 0, H), bottom = std::clamp<int64_t>(cy + cut_h / 2, 0, H);
  const int64_t left = std::clamp<int64_t>(cx - cut_w / 2, 0, W), right = std::clamp<int64_t>(cx + cut_w / 2, 0, W);
  d.box = {top, left, bottom - top, right - left};
  d.lambda = 1.0 - static_cast<double>(d.box.height * d.box.width) / static_cast<double>(H * W);
  return d;
}

at::Tensor smoothed_one_hot(const at::Tensor& labels, int64_t num_classes, double label_smoothing) {
  const double off = label_smoothing / static_cast<double>(num_classes);
  at::Tensor out = at::full({labels.size(0), num_classes}, off, at::kFloat);
  return out.scatter_(1, labels.to(at::kLong).unsqueeze(1), 1.0 - label_smoothing + off);
}

std::pair<at::Tensor, at::Tensor> mix_batch(const at::Tensor& images, const at::Tensor& labels, int64_t num_classes,
                                            double label_smoothing, const MixDraw& draw) {
  if (images.dim() != 4 || labels.dim() != 1 || labels.size(0) != images.size(0))
    throw Error("mixup: expected images [B, C, H, W] and labels [B], got " + shape_to_string(images.sizes().vec()) +
                " and " + shape_to_string(labels.sizes().vec()));
  const at::Tensor one_hot = smoothed_one_hot(labels, num_classes, label_smoothing);
  if (draw.lambda >= 1.0) return {images, one_hot};
  const at::Tensor reversed = images.flip(0);
  at::Tensor mixed;
  if (draw.cutmix) {
    mixed = images.clone();
    const CropBox& b = draw.box;
    mixed.narrow(2, b.top, b.height).narrow(3, b.left, b.width).copy_(
        reversed.narrow(2, b.top, b.height).narrow(3, b.left, b.width));
  } else {
    mixed = images * draw.lambda + reversed * (1.0 - draw.lambda);
  }
  return {mixed, one_hot * draw.lambda + one_hot.flip(0) * (1.0 - draw.lambda)};
}

}  // namespace vss
