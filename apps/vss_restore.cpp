// vss-restore: image restoration with MambaIR / MaIR networks (heads.md §1): super-resolution
// x2/x3/x4, colour denoising, JPEG deblocking.
//   vss-restore -i FILE|DIR|GLOB -o DIR --weights FILE [--config FILE] [-t/--tile N]
//               [--tile-overlap N] [--tile-blend seam|average] [-s/--scale S] [--gt DIR [--baseline]]
//               [--device cpu|cuda[:i]] [--dtype fp32|bf16] [--suffix S] [--ext auto|png|jpg|tif]
//               [--noise SIGMA [--seed N]] [--set key=value] [--json]
// restores every image into DIR/<name>[_<suffix>].<ext>, keeping its bit depth (16-bit in,
// 16-bit out) and alpha (enlarged separately by MATLAB bicubic; Real-ESRGAN's
// --alpha_upsampler bicubic, despite its name, calls cv2.resize INTER_LINEAR); grey images go through a 3-channel model replicated to RGB and come back grey
// (BT.601 luma, as Real-ESRGAN does), and a 1-channel model runs on each colour channel.
// With --gt (paired by file name) it prints PSNR / SSIM on RGB and on Y per image and their
// mean, exactly as BasicSR (conventions.md §2.1); --baseline also scores the bicubic
// enlargement (SR) or the input itself (denoising / JPEG). --noise adds the noise to clean
// inputs in float, unclipped, as MambaIR's / KAIR's denoising tests do (a noisy PNG from
// `degrade --noise` is clipped and rounded, which scores somewhat lower).
//   vss-restore eval --gt DIR --res DIR [--scale S] [--crop-border N] [--y] [--json]
//   vss-restore degrade -i DIR -o DIR (--bicubic S | --noise SIGMA [--seed N] | --jpeg Q)
//   vss-restore pack -i DIR -o BANK.safetensors          (datasets/image_bank.h)
//   vss-restore export --run RUN_DIR [--checkpoint best|last] [--no-ema] --out FILE
// Bad images (unreadable, truncated, unsupported depth) are skipped with a warning naming them
// and the run exits 1 at the end; every output is written to a temporary name and renamed.
#include "backbones/weights.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/log.h"
#include "core/overwrite_guard.h"
#include "core/progress.h"
#include "core/safetensors.h"
#include "datasets/degradations.h"
#include "datasets/file_matching.h"
#include "datasets/image_bank.h"
#include "datasets/image_tensor.h"
#include "datasets/paired_images.h"
#include "engine/run_export.h"
#include "engine/mixed_precision.h"
#include "heads/restore/psnr_ssim.h"
#include "heads/restore/restoration_net.h"
#include "heads/restore/restoration_weights.h"
#include "heads/restore/tiled_inference.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

int usage_error(const std::string& prog, const std::string& what) {
  std::fprintf(stderr, "%s: %s\ntry '%s --help'\n", prog.c_str(), what.c_str(), prog.c_str());
  return 2;
}

std::string mean_label(size_t n) { return "mean (" + std::to_string(n) + (n == 1 ? " image)" : " images)"); }

std::string size_text(const at::Tensor& image) {
  return std::to_string(image.size(0)) + "x" + std::to_string(image.size(1));
}

// ---- scores, shared by the run and eval ------------------------------------------------------

struct Scores {
  double psnr = 0, ssim = 0, psnr_y = 0, ssim_y = 0;
};

// BasicSR's four numbers for uint8 images of one shape (an error when they cannot be scored,
// e.g. too small for SSIM's 11x11 window after the crop).
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

class ScoreTable {
 public:
  void add(const std::string& name, const Scores& s) { rows_.emplace_back(name, s); }
  bool empty() const { return rows_.empty(); }
  size_t size() const { return rows_.size(); }
  // The dataset score: the plain mean of per-image values (BasicSR).
  Scores mean() const {
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
  json images_json() const {
    json out = json::object();
    for (const auto& [name, s] : rows_) out[name] = to_json(s);
    return out;
  }
  static void print_header() {
    std::printf("%-28s %8s %8s %8s %8s\n", "image", "PSNR", "SSIM", "PSNR-Y", "SSIM-Y");
  }
  static void print_row(const std::string& name, const Scores& s) {
    std::printf("%-28s %8.3f %8.4f %8.3f %8.4f\n", name.c_str(), s.psnr, s.ssim, s.psnr_y, s.ssim_y);
  }
  void print_rows() const {
    for (const auto& [name, s] : rows_) print_row(name, s);
  }

 private:
  std::vector<std::pair<std::string, Scores>> rows_;
};

// A reference image made comparable with `restored` (uint8 [H, W, C]): 8 bits, no alpha, and
// cropped to a multiple of the scale (GTmod) when that is what makes the sizes agree. Empty,
// with the reason in *why, when they still differ.
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

// ---- eval ------------------------------------------------------------------------------------

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
    return usage_error("vss-restore eval", e.what());
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

// ---- degrade, pack, export -------------------------------------------------------------------

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
    return usage_error("vss-restore degrade", e.what());
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

int run_pack(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-restore pack",
                   "Packs every image under a folder (recursively) into an image bank: one safetensors file of decoded "
                   "images named by their relative paths without extension, which vss-train reads (data.bank) where "
                   "there is no image codec, as BasicSR reads LMDB.");
  auto& in = p.option("-i", "DIR", "", "folder tree of images (e.g. one holding HR/ and LR_bicubic/X2/)", true);
  auto& out = p.option("-o", "FILE", "", "the bank (.safetensors)", true);
  if (int rc = p.parse(args); rc >= 0) return rc;
  vss::Progress bar(0, "pack", {.unit = "img"});
  const int64_t n = vss::pack_image_bank(in.str(), out.str(), [&](int64_t done, int64_t) { bar.update(done); });
  bar.finish();
  std::printf("packed %lld image(s) from %s into %s (%.1f MB)\n", static_cast<long long>(n), in.str().c_str(),
              out.str().c_str(), static_cast<double>(fs::file_size(out.str())) / 1e6);
  return 0;
}

int run_export(const std::vector<std::string>& args) {
  int rc = 0;
  const auto e = vss::parse_run_export(args, "vss-restore export",
                                       "Writes the network of a vss-train run (task: restoration) as a weights file for "
                                       "vss-restore --weights: the state dict under the official names, with the run's "
                                       "model, degradation and metrics in its metadata, so no --config is needed.",
                                       "best", &rc);
  if (!e) return rc;
  const vss::Config& root = e->config;
  if (!root.has("task") || root["task"].get_or<std::string>("type", "") != "restoration")
    throw vss::Error(e->source + ": not a restoration run (task.type is not 'restoration')");
  auto net = vss::restore::make_restoration_net(root["model"]);
  vss::restore::load_restoration_weights(*net, e->weights.state, e->source);
  const vss::Config task = root["task"];
  const vss::Config degradation = task["degradation"];
  std::optional<vss::Config> metrics;
  if (task.has("metrics")) metrics = task["metrics"];
  vss::restore::save_restoration_weights(
      *net, vss::restore::restore_config_yaml(root["model"], &degradation, metrics ? &*metrics : nullptr), e->out);
  std::printf("%s, %.2f MB\n", e->summary(*net).c_str(), static_cast<double>(fs::file_size(e->out)) / 1e6);
  return 0;
}

// ---- the model run ---------------------------------------------------------------------------

struct Model {
  vss::restore::RestorationNet net{nullptr};
  int64_t scale = 1, in_chans = 3, crop_border = 0, params = 0;
  std::string config_source, upsampler;
};

// The network from --config (a model config or a training config) or, without it, from the
// weights' own metadata; the weights are checked against it (scale, channels, width) and
// loaded strictly.
Model load_model(const std::string& config_path, const std::vector<std::string>& sets, const std::string& weights,
                 int64_t wanted_scale) {
  const vss::SafetensorsFile file = vss::read_safetensors(weights);
  vss::Config cfg = vss::Config::parse("{}");
  Model m;
  if (!config_path.empty()) {
    cfg = vss::Config::load(config_path);
    m.config_source = config_path;
  } else {
    const auto meta = file.metadata.find("restore");
    if (meta == file.metadata.end())
      vss::throw_file_error(weights, "carries no config (converted official weights?): give --config FILE, e.g. "
                                     "configs/restore/mambair_light_x4.yaml");
    cfg = vss::Config::parse(meta->second, weights + " (metadata \"restore\")");
    m.config_source = weights;
  }
  for (const auto& s : sets) cfg.apply_override(s);
  const vss::Config model = cfg.has("model") ? cfg["model"] : cfg;
  m.net = vss::restore::make_restoration_net(model);
  const auto& o = m.net->options();
  const auto layout = vss::restore::layout_from_state(file.tensors, weights);
  if (wanted_scale > 0 && layout.scale != wanted_scale)
    vss::throw_file_error(weights, "weights are for x" + std::to_string(layout.scale) + " (" + layout.evidence +
                                       "), --scale asks for x" + std::to_string(wanted_scale));
  vss::restore::load_restoration_weights(*m.net, file.tensors, weights);
  m.scale = o.upscale;
  m.in_chans = o.in_chans;
  m.upsampler = o.upsampler;
  // crop_border: the config's metrics (a model config's or a training config's), else the SR convention.
  m.crop_border = o.upscale > 1 ? o.upscale : 0;
  for (const char* key : {"metrics", "task.metrics"})
    if (cfg.has(key) && cfg[key].has("crop_border")) {
      m.crop_border = cfg[key].get<int64_t>("crop_border");
      break;
    }
  for (const auto& t : m.net->parameters()) m.params += t.numel();
  return m;
}

struct Restorer {
  Model& model;
  c10::Device device;
  std::optional<c10::ScalarType> autocast;
  vss::restore::TileOptions tile;

  // float [C, H, W] in [0, 1] with C = the model's channels or a multiple run as a batch
  // -> [C, H·s, W·s] on the CPU; *tiles counts the tiles run.
  at::Tensor run(const at::Tensor& chw, int64_t* tiles, double* seconds) const {
    const int64_t c = model.in_chans;
    const at::Tensor batch = chw.reshape({chw.size(0) / c, c, chw.size(1), chw.size(2)}).to(device);
    const auto start = std::chrono::steady_clock::now();
    at::Tensor out;
    {
      vss::AutocastScope scope(device, autocast);
      out = vss::restore::tiled_forward([this](const at::Tensor& x) { return model.net->forward(x); }, batch,
                                        model.scale, tile, [&](int64_t, int64_t total) { *tiles = total; });
    }
    out = out.to(at::kFloat).cpu();  // synchronises a GPU
    *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out.reshape({chw.size(0), out.size(2), out.size(3)});
  }
};

// The output file's extension: the input's for `auto`, except PNG where the input's format
// cannot hold the result (alpha or 16 bits in a JPEG), as Real-ESRGAN's --ext auto.
std::string output_extension(const std::string& input, const std::string& choice, bool alpha, bool deep) {
  std::string ext = fs::path(input).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (choice != "auto") ext = "." + choice;
  if ((ext == ".jpg" || ext == ".jpeg") && (alpha || deep) && choice == "auto") ext = ".png";
  return ext;
}

// OUT/<name>[_<suffix>]<extension>
fs::path output_path(const fs::path& out_dir, const std::string& input, const std::string& suffix,
                     const std::string& extension) {
  return out_dir / (fs::path(input).stem().string() + (suffix.empty() ? "" : "_" + suffix) + extension);
}

int run_restore(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-restore",
                   "Restores images with a MambaIR / MaIR network (SR x2/x3/x4, denoising, JPEG deblocking): writes "
                   "OUT/<name>[_<suffix>].<ext> at the input's bit depth with its alpha; with --gt prints PSNR / SSIM "
                   "(RGB and Y) per image and the mean, as BasicSR. Other commands: eval, degrade, pack, export (see "
                   "<command> --help).");
  auto& in = p.option("-i", "FILE|DIR|GLOB", "", "input image(s)", true);
  auto& out = p.option("-o", "DIR", "", "output folder", true);
  auto& weights = p.option("--weights", "FILE", "", "network weights (.safetensors, e.g. weights/restore_light_x2_demo.safetensors)", true);
  auto& config = p.option("--config", "FILE", "",
                          "model YAML (configs/restore/*.yaml or a training config); default: the weights' own");
  auto& sets = p.multi("--set", "key=value", "override a config key, e.g. model.fused_scan=false");
  auto& tile = p.option("-t", "N", "256", "tile side in input pixels (0: whole images); --tile is the same");
  auto& tile_long = p.option("--tile", "N", "", "same as -t");
  auto& overlap = p.option("--tile-overlap", "N", "32", "input pixels shared by neighbouring tiles (< tile)");
  auto& blend = p.option("--tile-blend", "seam|average", "seam",
                         "seam: each pixel from the tile it lies deepest in; average: KAIR's E/W mean of the tiles");
  auto& scale = p.option("-s", "S", "", "expected scale: an error unless the weights are xS; --scale is the same");
  auto& scale_long = p.option("--scale", "S", "", "same as -s");
  auto& gt = p.option("--gt", "DIR|FILE", "", "ground truth, paired by file name: print PSNR / SSIM");
  auto& baseline = p.flag("--baseline", "with --gt: also score MATLAB bicubic (SR) or the input itself (denoising)");
  auto& device = p.option("--device", "cpu|cuda[:i]", "cpu", "where the network runs");
  auto& dtype = p.option("--dtype", "fp32|bf16", "fp32", "bf16: autocast to bfloat16 (the scan stays float32)");
  auto& suffix = p.option("--suffix", "S", "", "output name <name>_<S> (Real-ESRGAN's --suffix; empty keeps the name)");
  auto& ext = p.option("--ext", "auto|png|jpg|tif", "auto", "output format; auto = the input's (PNG for alpha / 16-bit JPEG)");
  auto& noise = p.option("--noise", "SIGMA", "",
                         "add N(0, SIGMA/255) to the clean inputs first, not clipped, as the official denoising tests do");
  auto& seed = p.option("--seed", "N", "0", "with --noise: the noise seed of every image (KAIR reseeds with 0)");
  auto& json_out = p.flag("--json", "print a JSON summary instead of tables");
  auto& quiet = p.flag("--quiet", "errors and warnings only, no progress bar");
  if (int rc = p.parse(args); rc >= 0) return rc;
  vss::log::set_program("vss-restore");
  if (quiet) vss::log::set_level(vss::log::Level::Warn);

  const std::string prog = "vss-restore";
  vss::restore::TileOptions tiles;
  int64_t wanted_scale = 0;
  double sigma = 0;
  uint64_t noise_seed = 0;
  c10::Device dev(c10::kCPU);
  vss::Precision precision;
  try {
    tiles.tile = (tile_long ? tile_long : tile).as_int(0, vss::kMaxListEntry);
    tiles.overlap = overlap.as_int(0, vss::kMaxListEntry);
    tiles.blend = vss::restore::tile_blend_from_string(blend.str());
    if (tiles.tile > 0 && tiles.tile <= tiles.overlap)
      throw vss::Error("--tile " + std::to_string(tiles.tile) + " must be larger than --tile-overlap " +
                       std::to_string(tiles.overlap));
    const auto& s = scale_long ? scale_long : scale;
    if (s) {
      wanted_scale = s.as_int();
      if (wanted_scale < 1) throw vss::Error("--scale must be >= 1");
    }
    if (ext.str() != "auto" && ext.str() != "png" && ext.str() != "jpg" && ext.str() != "tif")
      throw vss::Error("--ext: expected auto, png, jpg or tif, got '" + ext.str() + "'");
    if (baseline && !gt) throw vss::Error("--baseline needs --gt");
    if (noise) {
      sigma = noise.as_double();
      if (!(sigma > 0) || !std::isfinite(sigma)) throw vss::Error("--noise must be > 0 (0..255 scale)");
      noise_seed = static_cast<uint64_t>(seed.as_int());
    }
    dev = c10::Device(device.str());
    if (dtype.str() != "fp32" && dtype.str() != "bf16") throw vss::Error("--dtype: expected fp32 or bf16, got '" + dtype.str() + "'");
    precision = vss::parse_precision(dtype.str(), dev);
  } catch (const vss::Error& e) {
    return usage_error(prog, e.what());
  } catch (const c10::Error& e) {
    return usage_error(prog, std::string("--device: ") + e.what_without_backtrace());
  }
  if (dev.is_cuda() && !torch::cuda::is_available()) throw vss::Error("--device " + device.str() + ": no CUDA device is available");

  Model model = load_model(config.str(), sets.values, weights.str(), wanted_scale);
  model.net->to(dev);
  model.net->eval();
  const Restorer restorer{model, dev, precision.autocast, tiles};

  const auto inputs = vss::list_images(in.str());
  std::map<std::string, std::string> gt_of;  // input path -> gt path
  std::vector<std::string> skipped;
  if (gt) {
    std::vector<std::string> gts = vss::list_images(gt.str());
    if (inputs.size() == 1 && fs::is_regular_file(gt.str())) {
      gt_of[inputs[0]] = gt.str();
    } else {
      const auto m = vss::match_by_name({{"input", inputs}, {"gt", gts}});
      for (const auto& pair : m.matched) gt_of[pair.paths[0]] = pair.paths[1];
      for (const auto& path : inputs)
        if (!gt_of.count(path)) {
          skipped.push_back(path + ": no gt file named " + fs::path(path).stem().string() + ".* in " + gt.str());
          vss::log::warn("not scored: ", skipped.back());
        }
    }
  }
  const fs::path out_dir = out.str();
  {
    // The output's format depends on the image (PNG for a JPEG with alpha or 16 bits): both candidates.
    std::vector<fs::path> planned, read(inputs.begin(), inputs.end());
    for (const auto& path : inputs)
      for (const bool deep : {false, true})
        planned.push_back(output_path(out_dir, path, suffix.str(), output_extension(path, ext.str(), deep, deep)));
    for (const auto& [input, gt_path] : gt_of) read.push_back(gt_path);
    vss::refuse_overwriting_inputs(planned, read, "give another -o or a --suffix");
  }
  fs::create_directories(out_dir);

  c10::InferenceMode inference_mode;
  ScoreTable table, base_table;
  json images = json::object();
  std::vector<std::string> failed;
  double model_seconds = 0;
  int64_t out_pixels = 0;
  bool told_grey = false;
  vss::Progress bar(static_cast<int64_t>(inputs.size()), "restore", {.unit = "img"});
  for (const auto& path : inputs) {
    const std::string name = fs::path(path).stem().string();
    try {
      const at::Tensor image = vss::read_image(path, vss::ImageMode::kUnchanged);
      const at::Tensor color = vss::drop_alpha(image);
      const bool has_alpha = color.size(2) != image.size(2);
      const bool deep = image.scalar_type() == at::kUInt16;
      const std::string extension = output_extension(path, ext.str(), has_alpha, deep);
      const fs::path target = output_path(out_dir, path, suffix.str(), extension);

      // Channels: a 3-channel model sees grey replicated; a 1-channel model each colour channel.
      at::Tensor x = vss::image_to_float(color);
      if (sigma > 0) x = vss::add_gaussian_noise(x, sigma, noise_seed);
      const bool grey_to_rgb = x.size(0) == 1 && model.in_chans == 3;
      if (!grey_to_rgb && x.size(0) % model.in_chans != 0)
        throw vss::Error("a " + std::to_string(x.size(0)) + "-channel image cannot go through a " +
                         std::to_string(model.in_chans) + "-channel model");
      if (grey_to_rgb && !told_grey) {
        vss::log::info("grey images are replicated to RGB for this 3-channel model and come back grey (BT.601 luma)");
        told_grey = true;
      }
      int64_t tile_count = 1;
      double seconds = 0;
      const at::Tensor y = restorer.run(grey_to_rgb ? x.expand({3, -1, -1}) : x, &tile_count, &seconds);
      model_seconds += seconds;
      // Back to grey as Real-ESRGAN does: BGR2GRAY of the clamped float result, then rounded.
      const at::Tensor out = grey_to_rgb ? (y.clamp(0, 1) * torch::tensor({0.299f, 0.587f, 0.114f}).view({3, 1, 1}))
                                               .sum(0, /*keepdim=*/true)
                                         : y;
      at::Tensor restored = vss::float_to_image(out, image.scalar_type());
      at::Tensor result = restored;
      std::string note;
      if (has_alpha) {
        if (extension == ".jpg" || extension == ".jpeg") {
          note = "alpha dropped (JPEG has none)";
        } else {
          const at::Tensor alpha = vss::bicubic_upsample(image.narrow(2, color.size(2), 1).contiguous(), model.scale);
          result = torch::cat({restored, alpha}, 2);
        }
      }
      if (deep && (extension == ".jpg" || extension == ".jpeg")) {
        result = vss::restore::to_uint8(result);
        note += std::string(note.empty() ? "" : "; ") + "written as 8-bit (JPEG has no 16-bit)";
      }
      if (!note.empty()) vss::log::warn(target.string(), ": ", note);
      vss::write_image(target.string(), result);
      out_pixels += restored.size(0) * restored.size(1);

      json entry{{"input", path},
                 {"output", target.string()},
                 {"size", {image.size(0), image.size(1)}},
                 {"output_size", {restored.size(0), restored.size(1)}},
                 {"channels", image.size(2)},
                 {"bits", deep ? 16 : 8},
                 {"tiles", tile_count},
                 {"seconds", seconds}};
      if (grey_to_rgb) entry["grey"] = "replicated to RGB, output BT.601 luma";
      if (const auto it = gt_of.find(path); it != gt_of.end()) {
        const at::Tensor restored8 = vss::restore::to_uint8(restored);
        std::string why;
        const auto ref = comparable_gt(vss::read_image(it->second, vss::ImageMode::kUnchanged), restored8, model.scale, &why);
        try {
          if (!ref) throw vss::Error(why + " (" + it->second + ")");
          const Scores s = score(restored8, *ref, model.crop_border);
          table.add(name, s);
          entry["gt"] = it->second;
          entry.update(to_json(s));
          if (baseline) {
            // The bicubic enlargement of the input (SR) or the input itself (denoising / JPEG).
            const at::Tensor input8 = sigma > 0 ? vss::float_to_image(x, at::kByte) : vss::restore::to_uint8(color);
            const at::Tensor base = model.scale > 1 ? vss::bicubic_upsample(input8, model.scale) : input8;
            const Scores b = score(base, *ref, model.crop_border);
            base_table.add(name, b);
            entry["baseline"] = to_json(b);
          }
        } catch (const vss::Error& e) {
          skipped.push_back(name + ": " + e.what());
          vss::log::warn("not scored: ", name, ": ", e.what());
        }
      }
      images[name] = entry;
    } catch (const vss::Error& e) {
      failed.push_back(path + ": " + e.what());
      vss::log::warn("skipped ", path, ": ", e.what());
    }
    bar.advance();
  }
  bar.finish();

  const double mpx_per_s = model_seconds > 0 ? static_cast<double>(out_pixels) / 1e6 / model_seconds : 0.0;
  const std::string baseline_name = model.scale > 1 ? "bicubic" : "input";
  if (json_out) {
    json report{{"images", images},
                {"count", images.size()},
                {"output", out_dir.string()},
                {"config", model.config_source},
                {"scale", model.scale},
                {"upsampler", model.upsampler},
                {"params", model.params},
                {"crop_border", model.crop_border},
                {"device", dev.str()},
                {"dtype", dtype.str()},
                {"tile", {{"tile", tiles.tile}, {"overlap", tiles.overlap}, {"blend", blend.str()}}},
                {"noise", sigma > 0 ? json{{"sigma", sigma}, {"seed", noise_seed}} : json(nullptr)},
                {"model_seconds", model_seconds},
                {"output_mpx_per_s", mpx_per_s},
                {"skipped", skipped},
                {"failed", failed}};
    if (!table.empty()) report["mean"] = to_json(table.mean());
    if (!base_table.empty()) {
      report["baseline"] = baseline_name;
      report["baseline_mean"] = to_json(base_table.mean());
    }
    std::printf("%s\n", report.dump(2).c_str());
  } else {
    if (!table.empty()) {
      ScoreTable::print_header();
      table.print_rows();
      ScoreTable::print_row(mean_label(table.size()), table.mean());
      if (!base_table.empty()) {
        ScoreTable::print_row(baseline_name + " mean", base_table.mean());
        const Scores m = table.mean(), b = base_table.mean();
        std::printf("gain over %s: PSNR %+.3f dB, PSNR-Y %+.3f dB, SSIM %+.4f, SSIM-Y %+.4f\n", baseline_name.c_str(),
                    m.psnr - b.psnr, m.psnr_y - b.psnr_y, m.ssim - b.ssim, m.ssim_y - b.ssim_y);
      }
    }
    std::printf("%zu image(s), x%lld, %.2f Mpx out in %.3f s of model time (%.3f Mpx/s, %s, %s, tile %lld/%lld %s); "
                "results in %s\n",
                images.size(), static_cast<long long>(model.scale), static_cast<double>(out_pixels) / 1e6,
                model_seconds, mpx_per_s, dev.str().c_str(), dtype.str().c_str(), static_cast<long long>(tiles.tile),
                static_cast<long long>(tiles.overlap), blend.str().c_str(), out_dir.string().c_str());
  }
  if (!failed.empty())
    throw vss::Error(std::to_string(failed.size()) + " of " + std::to_string(inputs.size()) +
                     " image(s) could not be restored (see the warnings)");
  return 0;
}

int run(const std::vector<std::string>& args) {
  return vss::run_subcommand(args, {{"eval", run_eval}, {"degrade", run_degrade}, {"pack", run_pack}, {"export", run_export}},
                              run_restore);
}

}  // namespace

int main(int argc, char** argv) { return vss::run_app("vss-restore", argc, argv, run); }
