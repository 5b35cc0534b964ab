#include "apps/restore/scores.h"

#include "datasets/degradations.h"
#include "datasets/image_tensor.h"
#include "heads/restore/psnr_ssim.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace vss_restore {

using nlohmann::json;

namespace {
std::string size_text(const at::Tensor& image) {
  return std::to_string(image.size(0)) + "x" + std::to_string(image.size(1));
}
}  // namespace

std::string mean_label(size_t n) { return "mean (" + std::to_string(n) + (n == 1 ? " image)" : " images)"); }

Scores score(const at::Tensor& restored, const at::Tensor& gt, int64_t crop_border) {
  vss::restore::MetricOptions rgb{crop_border, false}, y{crop_border, true};
  return {vss::restore::psnr(restored, gt, rgb), vss::restore::ssim(restored, gt, rgb),
          vss::restore::psnr(restored, gt, y), vss::restore::ssim(restored, gt, y)};
}

json to_json(const Scores& s) {
  // +inf (identical images) is not JSON: null, as Python's json would refuse it too.
  auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  return {{"psnr", num(s.psnr)}, {"ssim", num(s.ssim)}, {"psnr_y", num(s.psnr_y)}, {"ssim_y", num(s.ssim_y)}};
}

Scores ScoreTable::mean() const {
  Scores m;
  for (const auto& [name, s] : rows_) {
    m.psnr += s.psnr;
    m.ssim += s.ssim;
    m.psnr_y += s.psnr_y;
    m.ssim_y += s.ssim_y;
  }
  const double n = static_cast<double>(std::max<size_t>(rows_.size(), 1));
  return {m.psnr / n, m.ssim / n, m.psnr_y / n, m.ssim_y / n};
}

json ScoreTable::images_json() const {
  json out = json::object();
  for (const auto& [name, s] : rows_) out[name] = to_json(s);
  return out;
}

void ScoreTable::print_header() {
  std::printf("%-28s %8s %8s %8s %8s\n", "image", "PSNR", "SSIM", "PSNR-Y", "SSIM-Y");
}

void ScoreTable::print_row(const std::string& name, const Scores& s) {
  std::printf("%-28s %8.3f %8.4f %8.3f %8.4f\n", name.c_str(), s.psnr, s.ssim, s.psnr_y, s.ssim_y);
}

void ScoreTable::print_rows() const {
  for (const auto& [name, s] : rows_) print_row(name, s);
}

std::optional<at::Tensor> comparable_gt(const at::Tensor& gt_image, const at::Tensor& restored, int64_t scale,
                                        std::string* why) {
  at::Tensor gt = vss::restore::to_uint8(vss::drop_alpha(gt_image));
  if (gt.dim() == 2) gt = gt.unsqueeze(2);
  if (gt.size(2) != restored.size(2)) {
    *why = "the gt has " + std::to_string(gt.size(2)) + " channel(s), the image " + std::to_string(restored.size(2));
    return std::nullopt;
  }
  if (gt.sizes() != restored.sizes() && scale > 1 && gt.size(0) >= scale && gt.size(1) >= scale) {
    const at::Tensor mod = vss::mod_crop(gt, scale);
    if (mod.sizes() == restored.sizes()) gt = mod;
  }
  if (gt.sizes() != restored.sizes()) {
    *why = "the gt is " + size_text(gt) + ", the image " + size_text(restored);
    return std::nullopt;
  }
  return gt;
}

}  // namespace vss_restore
