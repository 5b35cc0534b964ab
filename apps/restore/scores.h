#pragma once
// BasicSR's scores of a restored image against its ground truth, shared by the restore run
// (--gt) and `eval`: PSNR / SSIM on RGB and on Y, their table and JSON.
#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vss_restore {

struct Scores {
  double psnr = 0, ssim = 0, psnr_y = 0, ssim_y = 0;
};

// BasicSR's four numbers for uint8 images of one shape (an error when they cannot be scored,
// e.g. too small for SSIM's 11x11 window after the crop).
Scores score(const at::Tensor& restored, const at::Tensor& gt, int64_t crop_border);

nlohmann::json to_json(const Scores& s);

// "mean (3 images)"
std::string mean_label(size_t n);

class ScoreTable {
 public:
  void add(const std::string& name, const Scores& s) { rows_.emplace_back(name, s); }
  bool empty() const { return rows_.empty(); }
  size_t size() const { return rows_.size(); }
  // The dataset score: the plain mean of per-image values (BasicSR).
  Scores mean() const;
  nlohmann::json images_json() const;
  static void print_header();
  static void print_row(const std::string& name, const Scores& s);
  void print_rows() const;

 private:
  std::vector<std::pair<std::string, Scores>> rows_;
};

// A reference image made comparable with `restored` (uint8 [H, W, C]): 8 bits, no alpha, and
// cropped to a multiple of the scale (GTmod) when that is what makes the sizes agree. Empty,
// with the reason in *why, when they still differ.
std::optional<at::Tensor> comparable_gt(const at::Tensor& gt_image, const at::Tensor& restored, int64_t scale,
                                        std::string* why);

}  // namespace vss_restore
