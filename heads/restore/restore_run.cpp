#include "heads/restore/restore_run.h"

#include "core/error.h"
#include "core/image_io.h"
#include "datasets/degradations.h"
#include "datasets/image_tensor.h"
#include "heads/restore/psnr_ssim.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <utility>

namespace vss::restore {

namespace fs = std::filesystem;

std::string output_extension(const std::string& input, const std::string& choice, bool alpha, bool deep) {
  std::string ext = fs::path(input).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (choice != "auto") ext = "." + choice;
  if ((ext == ".jpg" || ext == ".jpeg") && (alpha || deep) && choice == "auto") ext = ".png";
  return ext;
}

fs::path output_path(const fs::path& out_dir, const std::string& input, const std::string& suffix,
                     const std::string& extension) {
  return out_dir / (fs::path(input).stem().string() + (suffix.empty() ? "" : "_" + suffix) + extension);
}

RestoreRun::RestoreRun(RestorationNet net, RestoreOptions options)
    : net_(std::move(net)), options_(std::move(options)) {}

RestoreInput RestoreRun::read(const std::string& path) const {
  RestoreInput in;
  in.path = path;
  in.image = read_image(path, ImageMode::kUnchanged);
  in.color = drop_alpha(in.image);
  in.has_alpha = in.color.size(2) != in.image.size(2);
  in.deep = in.image.scalar_type() == at::kUInt16;
  in.extension = output_extension(path, options_.ext, in.has_alpha, in.deep);
  in.output = output_path(options_.out_dir, path, options_.suffix, in.extension);

  // Channels: a 3-channel model sees grey replicated; a 1-channel model each colour channel.
  in.x = image_to_float(in.color);
  if (options_.noise_sigma > 0) in.x = add_gaussian_noise(in.x, options_.noise_sigma, options_.noise_seed);
  const int64_t in_chans = net_->options().in_chans;
  in.grey_to_rgb = in.x.size(0) == 1 && in_chans == 3;
  if (!in.grey_to_rgb && in.x.size(0) % in_chans != 0)
    throw Error("a " + std::to_string(in.x.size(0)) + "-channel image cannot go through a " +
                std::to_string(in_chans) + "-channel model");
  return in;
}

at::Tensor RestoreRun::forward(const at::Tensor& chw, int64_t* tiles, double* seconds) {
  const int64_t c = net_->options().in_chans;
  const at::Tensor batch = chw.reshape({chw.size(0) / c, c, chw.size(1), chw.size(2)}).to(options_.device);
  const auto start = std::chrono::steady_clock::now();
  const auto pass = [&] {
    return tiled_forward([this](const at::Tensor& x) { return net_->forward(x); }, batch, scale(), options_.tile,
                         [&](int64_t, int64_t total) { *tiles = total; });
  };
  at::Tensor out = options_.around_forward ? options_.around_forward(pass) : pass();
  out = out.to(at::kFloat).cpu();  // synchronises a GPU
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out.reshape({chw.size(0), out.size(2), out.size(3)});
}

RestoredImage RestoreRun::run(const RestoreInput& in) {
  RestoredImage r;
  r.output = in.output;
  const at::Tensor y = forward(in.grey_to_rgb ? in.x.expand({3, -1, -1}) : in.x, &r.tiles, &r.seconds);
  // Back to grey as Real-ESRGAN does: BGR2GRAY of the clamped float result, then rounded.
  const at::Tensor out = in.grey_to_rgb ? (y.clamp(0, 1) * torch::tensor({0.299f, 0.587f, 0.114f}).view({3, 1, 1}))
                                             .sum(0, /*keepdim=*/true)
                                       : y;
  r.restored = float_to_image(out, in.image.scalar_type());
  r.result = r.restored;
  const bool jpeg = in.extension == ".jpg" || in.extension == ".jpeg";
  if (in.has_alpha) {
    if (jpeg) {
      r.note = "alpha dropped (JPEG has none)";
    } else {
      const at::Tensor alpha = bicubic_upsample(in.image.narrow(2, in.color.size(2), 1).contiguous(), scale());
      r.result = torch::cat({r.restored, alpha}, 2);
    }
  }
  if (in.deep && jpeg) {
    r.result = to_uint8(r.result);
    r.note += std::string(r.note.empty() ? "" : "; ") + "written as 8-bit (JPEG has no 16-bit)";
  }
  return r;
}

void RestoreRun::write(const RestoredImage& restored) const { write_image(restored.output.string(), restored.result); }

RestoredImage RestoreRun::restore(const std::string& path) {
  RestoredImage r = run(read(path));
  write(r);
  return r;
}

at::Tensor RestoreRun::baseline(const RestoreInput& in) const {
  const at::Tensor input8 = options_.noise_sigma > 0 ? float_to_image(in.x, at::kByte) : to_uint8(in.color);
  return scale() > 1 ? bicubic_upsample(input8, scale()) : input8;
}

}  // namespace vss::restore
