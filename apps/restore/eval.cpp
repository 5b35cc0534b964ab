// vss-restore eval: scores restored images against their ground truth, as BasicSR.
#include "apps/restore/commands.h"
#include "apps/restore/scores.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/log.h"
#include "datasets/file_matching.h"
#include "datasets/image_tensor.h"
#include "heads/restore/psnr_ssim.h"

#include <cstdio>
#include <filesystem>

namespace vss_restore {

namespace fs = std::filesystem;
using nlohmann::json;

int run_eval(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-restore eval",
                   "Scores restored images against ground truth, paired by file name, exactly as BasicSR: PSNR and "
                   "SSIM on RGB and on the BT.601 Y channel after uint8 rounding, crop_border pixels removed from "
                   "each edge; per image and the mean. A gt larger than the result by less than the scale is cropped "
                   "to a multiple of it (GTmod); other size mismatches and missing files are skipped with a warning.");
  auto& gt = p.option("--gt", "DIR|FILE", "", "ground-truth images (e.g. Set5/HR or Set5/GTmod12)", true);
  auto& res = p.option("--res", "DIR|FILE", "", "restored images (e.g. vss-restore -o DIR)", true);
  auto& scale = p.option("--scale", "S", "1", "SR scale: crop_border defaults to it and the gt is cropped to GTmod");
  auto& crop = p.option("--crop-border", "N", "", "pixels removed from each edge (default: the scale; 0 for x1)");
  auto& y = p.flag("--y", "the headline numbers are PSNR-Y / SSIM-Y (BasicSR test_y_channel), as SR papers report");
  auto& json_out = p.flag("--json", "print JSON instead of a table");
  if (int rc = p.parse(args); rc >= 0) return rc;
  vss::log::set_program("vss-restore");
  int64_t s = 1, border = 0;
  try {
    s = scale.as_int();
    border = crop.str().empty() ? (s > 1 ? s : 0) : crop.as_int();
    if (s < 1 || border < 0) throw vss::Error("--scale must be >= 1 and --crop-border >= 0");
  } catch (const vss::Error& e) {
    return vss::usage_error("vss-restore eval", e.what());
  }
  std::vector<vss::FileRole> roles{{"gt", vss::list_images(gt.str())}, {"res", vss::list_images(res.str())}};
  const bool single = fs::is_regular_file(gt.str()) && fs::is_regular_file(res.str());
  vss::FileMatching pairs;
  if (single) pairs.matched.push_back({fs::path(res.str()).stem().string(), {gt.str(), res.str()}});
  else pairs = vss::match_by_name(roles);
  std::vector<std::string> skipped = pairs.skipped;
  for (const auto& line : pairs.skipped) vss::log::warn("skipped ", line);

  ScoreTable table;
  for (const auto& m : pairs.matched) {
    try {
      const at::Tensor restored_image = vss::drop_alpha(vss::read_image(m.paths[1], vss::ImageMode::kUnchanged));
      const at::Tensor restored = vss::restore::to_uint8(restored_image);
      std::string why;
      const auto ref = comparable_gt(vss::read_image(m.paths[0], vss::ImageMode::kUnchanged), restored, s, &why);
      if (!ref) {
        skipped.push_back(m.name + ": " + why);
        vss::log::warn("skipped ", m.name, ": ", why, " (", m.paths[0], ", ", m.paths[1], ")");
        continue;
      }
      table.add(m.name, score(restored, *ref, border));
    } catch (const vss::Error& e) {
      skipped.push_back(m.name + ": " + e.what());
      vss::log::warn("skipped ", m.name, ": ", e.what());
    }
  }
  if (table.empty()) throw vss::Error("no image could be scored (see the warnings)");
  const Scores mean = table.mean();
  if (json_out) {
    json out{{"images", table.images_json()}, {"mean", to_json(mean)}, {"count", table.size()},
             {"crop_border", border}, {"scale", s}, {"skipped", skipped}, {"headline", y ? "psnr_y" : "psnr"}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  ScoreTable::print_header();
  table.print_rows();
  ScoreTable::print_row(mean_label(table.size()), mean);
  std::printf("%s %.3f dB, %s %.4f (crop_border %lld%s)\n", y ? "PSNR-Y" : "PSNR", y ? mean.psnr_y : mean.psnr,
              y ? "SSIM-Y" : "SSIM", y ? mean.ssim_y : mean.ssim, static_cast<long long>(border),
              skipped.empty() ? "" : (", " + std::to_string(skipped.size()) + " skipped").c_str());
  return 0;
}

}  // namespace vss_restore
