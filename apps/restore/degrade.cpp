// vss-restore degrade: restoration test inputs from clean images (bicubic, noise, JPEG).
#include "apps/restore/commands.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/log.h"
#include "core/overwrite_guard.h"
#include "core/progress.h"
#include "datasets/degradations.h"
#include "datasets/file_matching.h"
#include "datasets/image_tensor.h"
#include "datasets/paired_images.h"

#include <torch/torch.h>

#include <cstdio>
#include <filesystem>

namespace vss_restore {

namespace fs = std::filesystem;

int run_degrade(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-restore degrade",
                   "Makes restoration test inputs from clean images, as BasicSR / KAIR make theirs: MATLAB bicubic "
                   "downsampling of GTmod (antialiased, not OpenCV's INTER_CUBIC), Gaussian noise of sigma/255 on the "
                   "[0, 1] image (every image drawn with the same --seed, as KAIR reseeds per image; the result is "
                   "clipped and rounded to the file's depth), or JPEG at quality Q (the decoded pixels). Writes "
                   "OUT/<filename-tmpl with the name>.png; bit depth and alpha are kept.");
  auto& in = p.option("-i", "FILE|DIR|GLOB", "", "clean images", true);
  auto& out = p.option("-o", "DIR", "", "output folder", true);
  auto& bicubic = p.option("--bicubic", "S", "", "LR = MATLAB imresize(GTmod, 1/S, 'bicubic')");
  auto& noise = p.option("--noise", "SIGMA", "", "add N(0, SIGMA/255) (SIGMA on the 0..255 scale)");
  auto& seed = p.option("--seed", "N", "0", "noise seed: torch.normal(0, SIGMA/255, generator=torch.Generator().manual_seed(N))");
  auto& jpeg = p.option("--jpeg", "Q", "", "JPEG round trip at quality Q (1..100; 8-bit images)");
  auto& tmpl = p.option("--filename-tmpl", "T", "{}", "output name from the input's ('{}x4' gives SwinIR's babyx4.png)");
  if (int rc = p.parse(args); rc >= 0) return rc;
  vss::log::set_program("vss-restore");
  vss::Degradation d;
  uint64_t noise_seed = 0;
  try {
    if (static_cast<int>(bool(bicubic)) + bool(noise) + bool(jpeg) != 1)
      throw vss::Error("give exactly one of --bicubic S, --noise SIGMA, --jpeg Q");
    vss::Config node = vss::Config::parse(
        bicubic ? "{type: bicubic, scale: " + bicubic.str() + "}"
        : noise ? "{type: noise, sigma: " + noise.str() + "}"
                : "{type: jpeg, quality: " + jpeg.str() + "}",
        bicubic ? "--bicubic" : noise ? "--noise" : "--jpeg");
    d = vss::degradation_from_config(node);
    noise_seed = static_cast<uint64_t>(seed.as_int());
  } catch (const vss::Error& e) {
    return vss::usage_error("vss-restore degrade", e.what());
  }
  const auto inputs = vss::list_images(in.str());
  auto target_of = [&](const std::string& path) {
    return fs::path(out.str()) / (vss::apply_filename_tmpl(tmpl.str(), fs::path(path).stem().string()) + ".png");
  };
  {
    std::vector<fs::path> planned;
    for (const auto& path : inputs) planned.push_back(target_of(path));
    vss::refuse_overwriting_inputs(planned, {inputs.begin(), inputs.end()}, "give another -o or --filename-tmpl");
  }
  fs::create_directories(out.str());
  vss::Progress bar(static_cast<int64_t>(inputs.size()), "degrade", {.unit = "img"});
  int64_t written = 0;
  std::vector<std::string> failed;
  for (const auto& path : inputs) {
    try {
      const at::Tensor image = vss::read_image(path, vss::ImageMode::kUnchanged);
      at::Tensor result;
      if (d.kind == vss::Degradation::Kind::kBicubic) {
        result = vss::bicubic_downsample(image, d.scale);
      } else {
        const at::Tensor color = vss::drop_alpha(image);
        at::Tensor degraded;
        if (d.kind == vss::Degradation::Kind::kNoise) {
          const at::Tensor noisy = vss::add_gaussian_noise(vss::image_to_float(color), d.sigma, noise_seed);
          degraded = vss::float_to_image(noisy, image.scalar_type());
        } else {
          if (image.scalar_type() != at::kByte) throw vss::Error("JPEG compression needs an 8-bit image, this one is 16-bit");
          degraded = vss::jpeg_compress(color, d.quality);
        }
        result = color.size(2) == image.size(2) ? degraded
                                                : torch::cat({degraded, image.narrow(2, color.size(2), 1)}, 2);
      }
      vss::write_image(target_of(path).string(), result);
      ++written;
    } catch (const vss::Error& e) {
      vss::log::warn("skipped ", path, ": ", e.what());
      failed.push_back(path);
    }
    bar.advance();
  }
  bar.finish();
  std::printf("wrote %lld image(s) (%s) to %s\n", static_cast<long long>(written), d.describe().c_str(),
              out.str().c_str());
  if (!failed.empty()) throw vss::Error(std::to_string(failed.size()) + " image(s) could not be degraded (see the warnings)");
  return 0;
}

}  // namespace vss_restore
