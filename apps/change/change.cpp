// vss-change (the main command): change masks of image pairs with a MambaBCD model, or with
// --semantic land-cover maps of the changed pixels with a MambaSCD model.
#include "apps/change/commands.h"
#include "apps/change/scores.h"
#include "backbones/weights.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "core/overwrite_guard.h"
#include "core/progress.h"
#include "datasets/change_folder.h"
#include "datasets/file_matching.h"
#include "datasets/second_folder.h"
#include "engine/device_options.h"
#include "engine/mixed_precision.h"
#include "heads/change/change_inference.h"
#include "heads/change/change_metrics.h"
#include "heads/change/mamba_bcd.h"
#include "heads/change/mamba_scd.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <tuple>

namespace vss_change {

namespace fs = std::filesystem;

std::string model_type(const vss::Config& node) { return node.has("type") ? node.get<std::string>("type") : ""; }

namespace {
// TP white, TN black, FP red (false alarm), FN green (missed change); ignored (255) grey.
at::Tensor comparison_map(const at::Tensor& pred, const at::Tensor& label) {
  const auto p = pred.to(torch::kInt), l = label.to(torch::kInt);
  auto out = torch::zeros({pred.size(0), pred.size(1), 3}, torch::kByte);
  auto paint = [&](const at::Tensor& where, std::array<int, 3> rgb) {
    for (int c = 0; c < 3; ++c) out.select(2, c).masked_fill_(where, rgb[c]);
  };
  paint(p.eq(1).logical_and(l.eq(1)), {255, 255, 255});
  paint(p.eq(1).logical_and(l.eq(0)), {255, 0, 0});
  paint(p.eq(0).logical_and(l.eq(1)), {0, 255, 0});
  paint(l.eq(vss::change::kIgnoreIndex), {128, 128, 128});
  return out;
}

// The `model:` node of a training config, or the file itself when it is a bare model config.
vss::Config model_node(const vss::Config& cfg) { return cfg.has("model") ? cfg["model"] : cfg; }

// Every pair read once (decodable, sizes agree, labels 0/255) before the first output is
// written, so a bad file late in a folder stops the run with nothing written.
void check_pairs(const std::vector<vss::MatchedFiles>& pairs) {
  vss::Progress check(static_cast<int64_t>(pairs.size()), "check", {.unit = "pair"});
  for (const auto& m : pairs) {
    (void)vss::change::read_change_pair(m);
    check.advance();
  }
  check.finish();
}

// What the model run needs beyond its inputs, parsed from the command line.
struct RunSettings {
  vss::change::ChangeInferenceOptions inference;
  double threshold = 0.5;
  vss::DeviceChoice run_on;
  fs::path out_dir;
  bool json = false;
  bool post_classification = false;  // --semantic: the baseline without the change branch
};

// Runs `infer` (on the model's device, under autocast) and adds its time to *seconds.
template <class Infer>
auto timed(const RunSettings& s, double* seconds, Infer&& infer) {
  const auto start = std::chrono::steady_clock::now();
  auto result = [&] {
    vss::AutocastScope autocast(s.run_on.device, s.run_on.precision.autocast);
    return infer();
  }();
  *seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

void print_summary(const RunSettings& s, const vss::FileMatching& pairs, double model_seconds, int64_t pixels,
                   const std::function<void(nlohmann::json&)>& add_scores, const std::function<void()>& print_scores) {
  const double n = static_cast<double>(pairs.matched.size());
  const double pairs_per_s = model_seconds > 0 ? n / model_seconds : 0.0;
  if (s.json) {
    nlohmann::json report{{"pairs", pairs.matched.size()},     {"skipped", pairs.skipped},
                          {"output", s.out_dir.string()},      {"device", s.run_on.device.str()},
                          {"dtype", s.run_on.precision.name},  {"tile", s.inference.tile},
                          {"model_seconds", model_seconds},    {"pairs_per_s", pairs_per_s},
                          {"threshold", s.threshold}};
    if (add_scores) add_scores(report);
    std::printf("%s\n", report.dump(2).c_str());
    return;
  }
  if (print_scores) print_scores();
  print_skipped(pairs.skipped);
  std::printf("%zu pair(s), %.2f Mpx, in %.3f s of model time = %.2f pairs/s; outputs in %s\n", pairs.matched.size(),
              static_cast<double>(pixels) / 1e6, model_seconds, pairs_per_s, s.out_dir.string().c_str());
}

int run_binary(const RunSettings& s, const vss::Config& cfg, const std::string& weights,
               std::vector<std::pair<std::string, std::string>> specs, bool with_gt) {
  const vss::Config node = model_node(cfg);
  if (model_type(node) == "mamba_scd")
    node["type"].fail("a semantic change model: run it with --semantic");
  vss::change::MambaBCD model = vss::change::make_mamba_bcd(node);
  vss::load_weights(*model, weights);
  model->to(s.run_on.device);
  model->eval();

  const vss::FileMatching pairs = pair_inputs(specs);
  {
    std::vector<fs::path> planned, read;
    for (const auto& m : pairs.matched) {
      planned.push_back(s.out_dir / (m.name + ".png"));
      if (with_gt) planned.push_back(s.out_dir / "compare" / (m.name + ".png"));
      read.insert(read.end(), m.paths.begin(), m.paths.end());
    }
    vss::refuse_overwriting_inputs(planned, read, "pick another -o");
  }
  check_pairs(pairs.matched);
  fs::create_directories(s.out_dir);
  if (with_gt) fs::create_directories(s.out_dir / "compare");

  c10::InferenceMode inference_mode;
  Scores scores;
  double model_seconds = 0;
  int64_t pixels = 0;
  vss::Progress bar(static_cast<int64_t>(pairs.matched.size()), "change", {.unit = "pair"});
  for (const auto& m : pairs.matched) {
    bool grey_mix = false;
    const vss::change::ChangePair pair = vss::change::read_change_pair(m, &grey_mix);  // A, B [, gt]: sizes checked
    if (grey_mix) vss::log::warn(m.paths[0], ", ", m.paths[1], ": one date is grey, the other colour; both used as grey");
    const at::Tensor mask = timed(s, &model_seconds, [&] {
      const at::Tensor logits = vss::change::change_logits(*model, pair.a.unsqueeze(0).to(s.run_on.device),
                                                           pair.b.unsqueeze(0).to(s.run_on.device), s.inference);
      return vss::change::change_mask(logits, s.threshold)[0].cpu();
    });
    pixels += mask.numel();
    vss::InterruptDeferral all_outputs;  // Ctrl-C leaves the mask and its comparison, or neither
    vss::write_image((s.out_dir / (m.name + ".png")).string(), vss::change::mask_to_png(mask));
    if (with_gt) {
      vss::write_image((s.out_dir / "compare" / (m.name + ".png")).string(), comparison_map(mask, pair.label));
      scores.add(m.name, vss::change::confusion_matrix(mask, pair.label, m.paths[2]));
    }
    bar.advance();
  }
  bar.finish();
  print_summary(
      s, pairs, model_seconds, pixels, [&](nlohmann::json& r) { if (with_gt) scores.to_json(r); },
      [&] { if (with_gt) scores.print(); });
  return 0;
}

// Reads a semantic pair: dates (+ the gt's label1, label2 [, change]), sizes and values checked;
// with `warn`, says where the dates mix grey and colour or a gt change map disagrees with its
// land-cover maps.
vss::change::SemanticChangePair read_semantic_inputs(const vss::MatchedFiles& m, int64_t classes, bool warn) {
  if (m.paths.size() == 2) {
    vss::change::SemanticChangePair p;
    bool grey_mix = false;
    std::tie(p.a, p.b) = vss::change::read_dates(m.paths[0], m.paths[1], &grey_mix);
    if (grey_mix && warn)
      vss::log::warn(m.paths[0], ", ", m.paths[1], ": one date is grey, the other colour; both used as grey");
    return p;
  }
  vss::change::SemanticChangePair p = vss::change::read_semantic_change_pair(m, classes);
  if (const int64_t n = vss::change::count_change_label_disagreements(p); n > 0 && warn)
    vss::log::warn(m.paths.back(), ": the change map disagrees with the land-cover maps on ", n, " pixel(s)");
  return p;
}

int run_semantic(const RunSettings& s, const vss::Config& cfg, const std::string& weights,
                 std::vector<std::pair<std::string, std::string>> specs, const std::string& gt_root) {
  const vss::Config node = model_node(cfg);
  if (model_type(node) == "mamba_bcd")
    node["type"].fail("a binary change model: --semantic needs a semantic one (type: mamba_scd)");
  vss::change::MambaSCD model = vss::change::make_mamba_scd(node);
  vss::change::load_mamba_scd_weights(*model, weights);
  model->to(s.run_on.device);
  model->eval();
  const int64_t classes = model->semantic_classes();
  const bool colour = classes == vss::change::kSecondClasses;
  if (!colour) vss::log::warn("no colour table for ", classes, " classes: no colour renderings");

  const bool with_gt = !gt_root.empty();
  if (with_gt) {
    const vss::change::SemanticLabelFolders gt = vss::change::semantic_label_folders(gt_root);
    specs.emplace_back("gt " + gt.label1.filename().string(), gt.label1.string());
    specs.emplace_back("gt " + gt.label2.filename().string(), gt.label2.string());
    if (!gt.change.empty()) specs.emplace_back("gt GT_CD", gt.change.string());
  }
  const vss::FileMatching pairs = pair_inputs(specs);
  std::vector<std::string> subs{"change", "label1", "label2"};
  if (colour) subs.insert(subs.end(), {"label1_colour", "label2_colour"});
  {
    std::vector<fs::path> planned, read;
    for (const auto& m : pairs.matched) {
      for (const auto& sub : subs) planned.push_back(s.out_dir / sub / (m.name + ".png"));
      read.insert(read.end(), m.paths.begin(), m.paths.end());
    }
    vss::refuse_overwriting_inputs(planned, read, "pick another -o");
  }
  {
    // Every pair read once (decodable, sizes agree, label values known) before anything is written.
    vss::Progress check(static_cast<int64_t>(pairs.matched.size()), "check", {.unit = "pair"});
    for (const auto& m : pairs.matched) {
      (void)read_semantic_inputs(m, classes, /*warn=*/true);
      check.advance();
    }
    check.finish();
  }
  for (const auto& sub : subs) fs::create_directories(s.out_dir / sub);

  c10::InferenceMode inference_mode;
  SemanticScores scores(classes);
  double model_seconds = 0;
  int64_t pixels = 0;
  vss::Progress bar(static_cast<int64_t>(pairs.matched.size()), "semantic change", {.unit = "pair"});
  for (const auto& m : pairs.matched) {
    const vss::change::SemanticChangePair pair = read_semantic_inputs(m, classes, /*warn=*/false);  // warned above
    const vss::change::SemanticChangeMaps maps = timed(s, &model_seconds, [&] {
      const auto logits = vss::change::semantic_change_logits(*model, pair.a.unsqueeze(0).to(s.run_on.device),
                                                              pair.b.unsqueeze(0).to(s.run_on.device), s.inference);
      return s.post_classification ? vss::change::post_classification_maps(logits)
                                   : vss::change::semantic_change_maps(logits, s.threshold);
    });
    const at::Tensor change = maps.change[0].cpu(), label1 = maps.label1[0].cpu(), label2 = maps.label2[0].cpu();
    pixels += change.numel();
    std::vector<std::pair<std::string, at::Tensor>> images{{"change", vss::change::mask_to_png(change)},
                                                           {"label1", label1.unsqueeze(-1).contiguous()},
                                                           {"label2", label2.unsqueeze(-1).contiguous()}};
    if (colour) {
      images.emplace_back("label1_colour", vss::change::colour_semantic_label(label1));
      images.emplace_back("label2_colour", vss::change::colour_semantic_label(label2));
    }
    vss::InterruptDeferral all_outputs;  // Ctrl-C leaves all of a pair's maps, or none
    for (const auto& [sub, image] : images) vss::write_image((s.out_dir / sub / (m.name + ".png")).string(), image);
    if (with_gt) scores.add(m.name, pair_confusion(pair, label1, label2, classes, m.paths[2]));
    bar.advance();
  }
  bar.finish();
  print_summary(
      s, pairs, model_seconds, pixels, [&](nlohmann::json& r) { if (with_gt) scores.to_json(r); },
      [&] { if (with_gt) scores.print(); });
  return 0;
}

}  // namespace

int run_change(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-change",
                   "Detects change between two dates of the same place with a MambaBCD model: writes OUT/<name>.png "
                   "(0/255), and with --gt OUT/compare/<name>.png (TP white, FP red, FN green) and precision, recall, "
                   "F1, IoU, OA, kappa per image and combined. With --semantic, a MambaSCD model: OUT/change/<name>.png "
                   "(0/255), OUT/label1|label2/<name>.png (land cover of the changed pixels, 0 = no change), their "
                   "colour renderings in OUT/label1_colour|label2_colour, and with --gt ROOT OA, mIoU, SeK, F_scd. "
                   "Other commands: eval, make-data, export (see <command> --help).");
  auto& a = p.option("--a", "DIR|FILE", "", "first-date images (LEVIR-CD's A, SECOND's im1 / T1), paired with --b by file name", true);
  auto& b = p.option("--b", "DIR|FILE", "", "second-date images (B, im2 / T2)", true);
  auto& out = p.option("-o", "DIR", "", "output folder for the masks", true);
  auto& config = p.option("--config", "FILE", "", "model YAML (configs/change/*.yaml: a training config or a bare model)", true);
  auto& sets = p.multi("--set", "key=value", "override a config key, e.g. model.decoder.channels=64");
  auto& weights = p.option("--weights", "FILE", "", "model weights (.safetensors, e.g. weights/mambabcd_demo.safetensors)", true);
  auto& gt = p.option("--gt", "DIR|FILE", "", "ground-truth 0/255 masks: score the predictions and draw comparison maps; "
                                             "with --semantic a root holding label1/ + label2/ or GT_T1/ + GT_T2/");
  auto& semantic = p.flag("--semantic", "semantic change detection (a mamba_scd config, SECOND's classes)");
  auto& post_classification = p.flag("--post-classification", "with --semantic, a baseline: change where the two "
                                     "dates' land-cover classes differ (the change branch unused)");
  auto& tile = p.option("--tile", "N", "0", "run N x N windows (0: the whole image at once)");
  auto& tile_stride = p.option("--tile-stride", "N", "0", "window step (0: N, adjacent windows; less: overlaps averaged)");
  auto& tile_batch = p.option("--tile-batch", "N", "8", "windows per forward pass");
  auto& threshold = p.option("--threshold", "P", "0.5", "change where the change probability exceeds P");
  const vss::DeviceOptions device_options(p, {.device_help = "where the model runs"});
  auto& json = p.flag("--json", "print a JSON summary (fractions) instead of a table (percent)");
  auto& quiet = p.flag("--quiet", "errors only, no progress bar");
  if (int rc = p.parse(args); rc >= 0) return rc;
  vss::log::set_program("vss-change");
  vss::log::set_quiet(quiet);

  RunSettings s;
  try {
    s.inference.tile = tile.as_int(0, vss::kMaxListEntry);
    s.inference.stride = tile_stride.as_int(0, vss::kMaxListEntry);
    s.inference.tile_batch = tile_batch.as_int(1, 4096);
    if (s.inference.stride > 0 && s.inference.tile == 0) throw vss::Error("--tile-stride needs --tile");
    s.threshold = threshold.as_double();
    if (!(s.threshold >= 0 && s.threshold < 1)) throw vss::Error("--threshold must be in [0, 1)");
  } catch (const vss::Error& e) {
    return vss::usage_error("vss-change", e.what());
  }
  s.run_on = device_options.read();
  s.out_dir = out.str();
  s.json = json;
  s.post_classification = post_classification;
  if (post_classification && !semantic) return vss::usage_error("vss-change", "--post-classification needs --semantic");

  vss::Config cfg = vss::Config::load(config.str());
  for (const auto& set : sets.values) cfg.apply_override(set);
  std::vector<std::pair<std::string, std::string>> specs{{"A", a.str()}, {"B", b.str()}};
  if (semantic) return run_semantic(s, cfg, weights.str(), specs, gt ? gt.str() : "");
  if (gt) specs.emplace_back("gt", gt.str());
  return run_binary(s, cfg, weights.str(), specs, gt);
}

}  // namespace vss_change
