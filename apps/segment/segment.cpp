// vss-segment (the main command): segments images with a VSS segmentor.
#include "apps/segment/commands.h"
#include "apps/segment/scores.h"
#include "backbones/weights.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "core/overwrite_guard.h"
#include "core/progress.h"
#include "core/safetensors.h"
#include "datasets/seg_files.h"
#include "datasets/seg_pipeline.h"
#include "engine/device_options.h"
#include "engine/mixed_precision.h"
#include "heads/seg/palette.h"
#include "heads/seg/seg_metrics.h"
#include "heads/seg/seg_prediction.h"
#include "heads/seg/segmentor.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

namespace vss_segment {

namespace fs = std::filesystem;

namespace {

// The `model:` node of a training config, or the file itself when it is a bare model config.
vss::Config model_node(const vss::Config& cfg) { return cfg.has("model") ? cfg["model"] : cfg; }

struct Input {
  std::string name, image, gt;  // gt empty without --gt
};

std::vector<Input> find_inputs(const std::string& spec, const std::string& gt_dir) {
  std::vector<Input> inputs;
  std::map<std::string, std::string> seen;
  for (const auto& path : vss::list_images(spec)) {
    const std::string name = fs::path(path).stem().string();
    const auto [it, fresh] = seen.emplace(name, path);
    if (!fresh) throw vss::Error("two inputs named '" + name + "' (" + it->second + ", " + path + "): outputs would collide");
    inputs.push_back({name, path, ""});
  }
  if (gt_dir.empty()) return inputs;
  if (!fs::is_directory(gt_dir)) vss::throw_file_error(gt_dir, "--gt: no such folder");
  std::map<std::string, std::string> gt_by_name;
  for (const auto& path : vss::list_images(gt_dir)) {
    const auto [it, fresh] = gt_by_name.emplace(fs::path(path).stem().string(), path);
    if (!fresh) throw vss::Error("--gt: two label maps named '" + it->first + "': " + it->second + " and " + path);
  }
  for (auto& in : inputs) {
    const auto it = gt_by_name.find(in.name);
    if (it == gt_by_name.end()) vss::throw_file_error(in.image, "has no label map '" + in.name + ".<png|...>' in " + gt_dir);
    in.gt = it->second;
  }
  return inputs;
}

// Every output path of `in`, so none overwrites an input.
std::vector<fs::path> outputs_of(const fs::path& dir, const Input& in, bool probs) {
  std::vector<fs::path> out{dir / (in.name + ".png"), dir / (in.name + "_overlay.png")};
  if (probs) out.push_back(dir / (in.name + "_probs.safetensors"));
  return out;
}

}  // namespace

int run_segment(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-segment",
                   "Segments images with a VSS segmentor: writes OUT/<name>.png (class ids at the input size), "
                   "OUT/<name>_overlay.png and, with --save-probs, OUT/<name>_probs.safetensors (float16 [K, H, W] "
                   "softmax); with --gt, mmseg's per-class and summary tables. RGBA inputs lose their alpha channel "
                   "(not composited), grey ones are repeated to RGB, 16-bit ones scaled to 8 bits. The config's "
                   "data.pipeline.test_scale (if any) resizes the input first, as mmseg's test pipeline. Other "
                   "commands: eval, make-data, export (see <command> --help).");
  auto& in = p.option("-i", "FILE|DIR|GLOB", "", "input image(s)", true);
  auto& out = p.option("-o", "DIR", "", "output folder", true);
  auto& config = p.option("--config", "FILE", "", "segmentor YAML (configs/seg/*.yaml: a training config or a bare model)", true);
  auto& sets = p.multi("--set", "key=value", "override a config key, e.g. model.decode_head.dropout=0");
  auto& weights = p.option("--weights", "FILE", "", "model weights (.safetensors, e.g. weights/shapes_seg_tiny.safetensors)", true);
  auto& mode = p.option("--mode", "whole|slide", "", "inference: whole image, or windows averaged (default: the config's task.eval, else whole)");
  auto& crop = p.option("--crop", "N|HxW", "", "slide window size (default: the config's, else 512)");
  auto& stride = p.option("--stride", "N|HxW", "", "slide window step (default: the config's, else 341)");
  auto& gt = p.option("--gt", "DIR", "", "label maps <name>.png: score the masks (checked before anything is written)");
  auto& reduce = p.flag("--reduce-zero-label", "with --gt: gt 0 is ignored and 1..K become 0..K-1 (ADE20K; default: the config's data)");
  auto& binary = p.flag("--binary", "with --gt: gt masks are 0/255, >= 128 is class 1 (default: the config's data)");
  auto& ignore = p.option("--ignore-index", "N", "", "with --gt: label value not scored (default: the config's, else 255)");
  auto& palette = p.option("--palette", "FILE", "", "class colours (YAML palette: [[R, G, B], ...], classes: [...]; or .txt); default: VOC colours");
  auto& alpha = p.option("--alpha", "A", "0.5", "overlay weight of the class colours");
  auto& save_probs = p.flag("--save-probs", "also write <name>_probs.safetensors");
  const vss::DeviceOptions device_options(p, {.device_help = "where the model runs"});
  auto& json = p.flag("--json", "print a JSON summary (fractions) instead of tables (percent)");
  auto& quiet = p.flag("--quiet", "errors only, no progress bar");
  if (int rc = p.parse(args); rc >= 0) return rc;
  vss::log::set_program("vss-segment");
  vss::log::set_quiet(quiet);

  double blend = 0;
  std::optional<std::array<int64_t, 2>> crop_hw, stride_hw;
  try {
    if (mode && mode.str() != "whole" && mode.str() != "slide")
      throw vss::Error("--mode must be whole or slide, got '" + mode.str() + "'");
    if (crop) crop_hw = parse_hw(crop.str(), "--crop");
    if (stride) stride_hw = parse_hw(stride.str(), "--stride");
    blend = alpha.as_double();
    if (!(blend >= 0 && blend <= 1)) throw vss::Error("--alpha must be in [0, 1]");
    if ((reduce || binary || ignore) && !gt) throw vss::Error("--reduce-zero-label, --binary and --ignore-index need --gt");
    if (reduce && binary) throw vss::Error("--reduce-zero-label and --binary exclude each other");
    if (ignore) (void)ignore.as_int();
  } catch (const vss::Error& e) {
    return vss::usage_error("vss-segment", e.what());
  }
  const auto [dev, precision] = device_options.read();

  // Everything that can fail on bad input happens before the first output file.
  vss::Config cfg = vss::Config::load(config.str());
  for (const auto& s : sets.values) cfg.apply_override(s);
  vss::seg::Segmentor model = vss::seg::make_segmentor(model_node(cfg));
  const int64_t K = model->num_classes();
  const vss::seg::Palette colours = read_palette(palette.str(), K);
  const std::vector<std::string> names = class_names(colours, &cfg);
  vss::load_weights(*model, weights.str());
  model->to(dev);
  model->eval();

  const bool training_config = cfg.has("model");
  const int64_t config_ignore =
      training_config && cfg.has("task") ? cfg["task"].get_or<int64_t>("ignore_index", 255) : int64_t{255};
  vss::SegPipeline pipeline;
  if (training_config && cfg.has("data") && cfg["data"].has("pipeline"))
    pipeline = vss::SegPipeline::from_config(cfg["data"]["pipeline"], config_ignore);
  vss::seg::InferenceOptions inference;
  if (training_config && cfg.has("task") && cfg["task"].has("eval")) inference = vss::seg::inference_options(cfg["task"]["eval"]);
  if (mode) inference.mode = mode.str();
  if (crop_hw) inference.crop_h = (*crop_hw)[0], inference.crop_w = (*crop_hw)[1];
  if (stride_hw) inference.stride_h = (*stride_hw)[0], inference.stride_w = (*stride_hw)[1];

  const std::vector<Input> inputs = find_inputs(in.str(), gt.str());
  const fs::path out_dir = out.str();
  {
    std::vector<fs::path> planned, read;
    for (const auto& input : inputs) {
      for (const auto& target : outputs_of(out_dir, input, save_probs)) planned.push_back(target);
      read.push_back(input.image);
      if (!input.gt.empty()) read.push_back(input.gt);
    }
    vss::refuse_overwriting_inputs(planned, read, "pick another -o");
  }
  // The gt convention of the data the model was trained on, unless the flags say it.
  const vss::Config data = training_config && cfg.has("data") ? cfg["data"] : vss::Config::parse("{}");
  vss::LabelOptions labels{K, ignore ? ignore.as_int() : config_ignore, static_cast<bool>(reduce), static_cast<bool>(binary)};
  if (!reduce && !binary) {
    labels.reduce_zero_label = data.get_or<std::string>("type", "") == "ade20k" && data.get_or<bool>("reduce_zero_label", true);
    labels.binary = data.get_or<std::string>("type", "") == "image_mask_folders" && data.get_or<bool>("binary", false);
  }
  {
    // Every image decoded once (and its label map with --gt) before the first output.
    vss::Progress check(static_cast<int64_t>(inputs.size()), "check", {.unit = "img"});
    for (const auto& input : inputs) {
      const at::Tensor image = vss::read_seg_image(input.image);
      if (gt) vss::check_same_size(input.image, image, input.gt, vss::read_label_map(input.gt, labels));
      check.advance();
    }
    check.finish();
  }
  fs::create_directories(out_dir);

  c10::InferenceMode inference_mode;
  Scores scores(K, labels.ignore_index);
  nlohmann::json files = nlohmann::json::object();
  double model_seconds = 0;
  bool warned_alpha = false, warned_grey = false, warned_deep = false;
  vss::Progress bar(static_cast<int64_t>(inputs.size()), "segment", {.unit = "img"});
  for (const auto& input : inputs) {
    vss::SegImageInfo info;
    const at::Tensor image = vss::read_seg_image(input.image, &info);
    auto warn_once = [&](bool seen, bool& warned, const char* what) {
      if (seen && !warned) vss::log::warn(input.image, ": ", what, " (said once)");
      warned = warned || seen;
    };
    warn_once(info.had_alpha, warned_alpha, "alpha channel dropped (not composited)");
    warn_once(info.was_grey, warned_grey, "grey image repeated to RGB");
    warn_once(info.was_16bit, warned_deep, "16-bit image scaled to 8 bits");
    const auto start = std::chrono::steady_clock::now();
    at::Tensor logits;
    {
      vss::AutocastScope autocast(dev, precision.autocast);
      logits = vss::seg::segment_logits(*model, image.unsqueeze(0), pipeline, inference);
    }
    const at::Tensor mask = logits.argmax(1)[0].cpu();
    model_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    const auto paths = outputs_of(out_dir, input, save_probs);
    vss::InterruptDeferral all_outputs;  // Ctrl-C leaves every output of this image or none
    vss::write_image(paths[0].string(), mask.to(K <= 256 ? torch::kByte : torch::kUInt16).unsqueeze(2).contiguous());
    vss::write_image(paths[1].string(), vss::seg::overlay(image.permute({1, 2, 0}), mask, colours, blend));
    nlohmann::json entry{{"image", input.image}, {"height", mask.size(0)}, {"width", mask.size(1)},
                         {"mask", paths[0].string()}, {"overlay", paths[1].string()}};
    if (save_probs) {
      std::string class_list;
      for (int64_t c = 0; c < K; ++c)
        class_list += (c ? "," : "") + (c < static_cast<int64_t>(names.size()) ? names[c] : std::to_string(c));
      vss::write_safetensors(paths[2], {{"probs", torch::softmax(logits[0], 0).to(torch::kHalf).cpu()}},
                             {{"classes", class_list}, {"image", input.image}});
      entry["probs"] = paths[2].string();
    }
    if (gt) {
      scores.add(input.name, mask, vss::read_label_map(input.gt, labels));
      entry["metrics"] = scores.images[input.name];
    }
    files[input.name] = entry;
    bar.advance();
  }
  bar.finish();

  const double n = static_cast<double>(inputs.size());
  const double images_per_s = model_seconds > 0 ? n / model_seconds : 0.0;
  if (json) {
    nlohmann::json report{{"images", files},         {"output", out_dir.string()},      {"device", dev.str()},
                          {"dtype", precision.name},     {"mode", inference.mode},          {"model_seconds", model_seconds},
                          {"images_per_s", images_per_s}};
    if (gt) report["combined"] = vss::seg::scores_json(scores.combined.compute(), names);
    std::printf("%s\n", report.dump(2).c_str());
    return 0;
  }
  if (gt) std::printf("%s", vss::seg::scores_table(scores.combined.compute(), names).c_str());
  std::printf("%zu image(s) in %.3f s of model time = %.2f img/s (%s, %s); masks and overlays in %s\n", inputs.size(),
              model_seconds, images_per_s, inference.mode.c_str(), precision.name.c_str(), out_dir.string().c_str());
  return 0;
}

}  // namespace vss_segment
