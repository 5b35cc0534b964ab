// vss-restore (the main command): restores images with a MambaIR / MaIR network.
#include "apps/restore/commands.h"
#include "apps/restore/scores.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/log.h"
#include "core/overwrite_guard.h"
#include "core/progress.h"
#include "core/safetensors.h"
#include "datasets/file_matching.h"
#include "engine/device_options.h"
#include "engine/mixed_precision.h"
#include "heads/restore/psnr_ssim.h"
#include "heads/restore/restoration_net.h"
#include "heads/restore/restoration_weights.h"
#include "heads/restore/restore_run.h"
#include "heads/restore/tiled_inference.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>

namespace vss_restore {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Model {
  vss::restore::RestorationNet net{nullptr};
  int64_t scale = 1, crop_border = 0, params = 0;
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

}  // namespace

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
  const vss::DeviceOptions device_options(
      p, {.device_help = "where the network runs", .dtype_help = "bf16: autocast to bfloat16 (the scan stays float32)"});
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
  } catch (const vss::Error& e) {
    return vss::usage_error(prog, e.what());
  }
  const auto [dev, precision] = device_options.read();

  Model model = load_model(config.str(), sets.values, weights.str(), wanted_scale);
  model.net->to(dev);
  model.net->eval();
  vss::restore::RestoreOptions options;
  options.tile = tiles;
  options.device = dev;
  options.around_forward = [dev = dev, autocast = precision.autocast](const std::function<at::Tensor()>& pass) {
    vss::AutocastScope scope(dev, autocast);
    return pass();
  };
  options.noise_sigma = sigma;
  options.noise_seed = noise_seed;
  options.out_dir = out.str();
  options.suffix = suffix.str();
  options.ext = ext.str();
  vss::restore::RestoreRun restorer(model.net, options);

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
        planned.push_back(vss::restore::output_path(out_dir, path, suffix.str(),
                                                    vss::restore::output_extension(path, ext.str(), deep, deep)));
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
      const vss::restore::RestoreInput input = restorer.read(path);
      if (input.grey_to_rgb && !told_grey) {
        vss::log::info("grey images are replicated to RGB for this 3-channel model and come back grey (BT.601 luma)");
        told_grey = true;
      }
      const vss::restore::RestoredImage r = restorer.run(input);
      model_seconds += r.seconds;
      if (!r.note.empty()) vss::log::warn(r.output.string(), ": ", r.note);
      restorer.write(r);
      const at::Tensor& restored = r.restored;
      out_pixels += restored.size(0) * restored.size(1);

      json entry{{"input", path},
                 {"output", r.output.string()},
                 {"size", {input.image.size(0), input.image.size(1)}},
                 {"output_size", {restored.size(0), restored.size(1)}},
                 {"channels", input.image.size(2)},
                 {"bits", input.deep ? 16 : 8},
                 {"tiles", r.tiles},
                 {"seconds", r.seconds}};
      if (input.grey_to_rgb) entry["grey"] = "replicated to RGB, output BT.601 luma";
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
            const Scores b = score(restorer.baseline(input), *ref, model.crop_border);
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
                {"dtype", precision.name},
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
                model_seconds, mpx_per_s, dev.str().c_str(), precision.name.c_str(), static_cast<long long>(tiles.tile),
                static_cast<long long>(tiles.overlap), blend.str().c_str(), out_dir.string().c_str());
  }
  if (!failed.empty())
    throw vss::Error(std::to_string(failed.size()) + " of " + std::to_string(inputs.size()) +
                     " image(s) could not be restored (see the warnings)");
  return 0;
}

}  // namespace vss_restore
