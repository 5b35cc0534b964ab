// vss-change: binary change detection on bitemporal image pairs (MambaBCD / AWMambaBCD,
// heads.md §3) and, with --semantic, semantic change detection (MambaSCD / AWMambaSCD,
// specs/scd.md).
//   vss-change --a A_DIR|FILE --b B_DIR|FILE -o OUT --config FILE --weights FILE [--gt DIR|FILE]
//              [--tile 256 [--tile-stride N]] [--threshold 0.5] [--device cpu|cuda[:i]]
//              [--dtype fp32|bf16] [--json] [--set key=value]
// pairs the files of A and B by name (LEVIR-CD's A/x.png + B/x.png), writes OUT/<name>.png
// (0 / 255 masks, as LEVIR-CD's labels) and, with --gt, OUT/compare/<name>.png (TP white, TN
// black, FP red, FN green) and the metrics of conventions.md §3.4 per image and over the
// whole set (one confusion matrix, not a mean of per-image scores). --tile runs large scenes
// (LEVIR-CD's 1024² images; models are trained on 256² crops) in windows.
// With --semantic (a mamba_scd config) it writes OUT/change/<name>.png (0/255),
// OUT/label{1,2}/<name>.png (class indices, 0 = no change), OUT/label{1,2}_colour/<name>.png
// (SECOND's colours) and, with --gt ROOT (label1/ + label2/ or GT_T1/ + GT_T2/), the SeK
// metrics (7-class protocol) per pair and combined.
//   vss-change eval --gt DIR|FILE --res DIR|FILE [--json]     scores existing 0/255 masks
//   vss-change eval --semantic --gt ROOT --res ROOT [--json]  scores existing land-cover maps
//   vss-change make-data --out DIR [--num N] [--size S] [--seed S] [--split NAME] [--clean]
//                        [--semantic [--layout second|changemamba]]
//   vss-change export --run RUN_DIR [--checkpoint best|last] [--no-ema] --out FILE
// A name without all its partner files is skipped with a warning and listed in the summary.
// Every file is written to a temporary name and renamed, so an error or an interrupt never
// leaves a half-written one; bad input stops with one line naming the file.
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
#include "datasets/synthetic_change.h"
#include "datasets/synthetic_semantic_change.h"
#include "engine/device_options.h"
#include "engine/mixed_precision.h"
#include "engine/run_export.h"
#include "heads/change/change_inference.h"
#include "heads/change/change_metrics.h"
#include "heads/change/mamba_bcd.h"
#include "heads/change/mamba_scd.h"
#include "heads/change/semantic_change_metrics.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>

namespace fs = std::filesystem;
using vss::change::ChangeMetrics;
using vss::change::ConfusionMatrix;
using vss::change::SemanticChangeMetrics;
using vss::change::SemanticConfusion;

namespace {

// ---- pairing and reporting, shared by the run and eval ---------------------------------------

// Files named by `specs` (each a file, folder or glob) matched by name; two lone files are a
// pair whatever their names (named after the first).
vss::FileMatching pair_inputs(const std::vector<std::pair<std::string, std::string>>& specs) {
  bool all_files = true;
  for (const auto& [role, spec] : specs) all_files = all_files && fs::is_regular_file(spec);
  if (all_files) {
    vss::FileMatching single;
    std::vector<std::string> paths;
    for (const auto& [role, spec] : specs) paths.push_back(spec);
    single.matched.push_back({fs::path(specs[0].second).stem().string(), paths});
    return single;
  }
  std::vector<vss::FileRole> roles;
  for (const auto& [role, spec] : specs) {
    if (fs::is_regular_file(spec))
      throw vss::Error(role + " " + spec + " is a file but another input is a folder: give files or folders");
    roles.push_back({role, vss::list_images(spec)});
  }
  vss::FileMatching m = vss::match_by_name(roles);
  for (const auto& line : m.skipped) vss::log::warn("skipped ", line);
  if (m.matched.empty()) throw vss::Error("no complete pair: every name lacks a partner file (see the warnings)");
  return m;
}

nlohmann::json to_json(const ChangeMetrics& m) {
  const auto& c = m.counts;
  return {{"precision", m.precision}, {"recall", m.recall}, {"F1", m.f1}, {"IoU", m.iou}, {"OA", m.oa},
          {"kappa", m.kappa},         {"TP", c.tp},         {"FP", c.fp}, {"FN", c.fn},   {"TN", c.tn}};
}

void print_header(const ChangeMetrics&) {
  std::printf("%-32s %9s %7s %7s %7s %7s %7s\n", "image", "precision", "recall", "F1", "IoU", "OA", "kappa");
}

void print_row(const std::string& name, const ChangeMetrics& m) {
  std::printf("%-32s %9.2f %7.2f %7.2f %7.2f %7.2f %7.2f\n", name.c_str(), 100 * m.precision, 100 * m.recall,
              100 * m.f1, 100 * m.iou, 100 * m.oa, 100 * m.kappa);
}

nlohmann::json to_json(const SemanticChangeMetrics& m) {
  return {{"OA", m.oa},         {"mIoU", m.miou},   {"SeK", m.sek},           {"F_scd", m.f_scd}, {"IoU_nc", m.iou_nc},
          {"IoU_c", m.iou_c},   {"kappa_n0", m.kappa_n0}, {"P_scd", m.p_scd}, {"R_scd", m.r_scd}};
}

void print_header(const SemanticChangeMetrics&) {
  std::printf("%-32s %7s %7s %7s %7s %7s %7s %8s\n", "pair", "OA", "mIoU", "SeK", "F_scd", "IoU_nc", "IoU_c",
              "kappa_n0");
}

void print_row(const std::string& name, const SemanticChangeMetrics& m) {
  std::printf("%-32s %7.2f %7.2f %7.2f %7.2f %7.2f %7.2f %8.2f\n", name.c_str(), 100 * m.oa, 100 * m.miou, 100 * m.sek,
              100 * m.f_scd, 100 * m.iou_nc, 100 * m.iou_c, 100 * m.kappa_n0);
}

// Rows per image pair and the combined row of the counts summed
// over the set (as papers report), in percent, or the JSON summary.
template <class Counts, class Metrics>
struct ScoreTable {
  std::string rows_key;  // the JSON key of the rows
  Counts combined;
  Metrics (*score)(const Counts&);
  std::vector<std::pair<std::string, Metrics>> rows;

  void add(const std::string& name, const Counts& counts) {
    rows.emplace_back(name, score(counts));
    combined += counts;
  }
  void to_json(nlohmann::json& out) const {
    out[rows_key] = nlohmann::json::object();
    for (const auto& [name, m] : rows) out[rows_key][name] = ::to_json(m);
    out["combined"] = ::to_json(score(combined));
  }
  void print() const {
    print_header(Metrics{});
    for (const auto& [name, m] : rows) print_row(name, m);
    print_row("combined", score(combined));
  }
};

struct Scores : ScoreTable<ConfusionMatrix, ChangeMetrics> {
  Scores() : ScoreTable{"images", {}, vss::change::change_metrics, {}} {}
};

struct SemanticScores : ScoreTable<SemanticConfusion, SemanticChangeMetrics> {
  explicit SemanticScores(int64_t classes)
      : ScoreTable{"images", SemanticConfusion(classes), vss::change::semantic_change_metrics, {}} {}
};

// Both dates' maps of one pair against its ground truth.
SemanticConfusion pair_confusion(const vss::change::SemanticChangePair& truth, const at::Tensor& label1,
                                 const at::Tensor& label2, int64_t classes, const std::string& what) {
  SemanticConfusion c(classes);
  c.add_map(label1, truth.label1, what);
  c.add_map(label2, truth.label2, what);
  return c;
}

void print_skipped(const std::vector<std::string>& skipped) {
  if (skipped.empty()) return;
  std::printf("skipped %zu name(s) without all partner files:\n", skipped.size());
  for (const auto& line : skipped) std::printf("  %s\n", line.c_str());
}

// ---- eval ------------------------------------------------------------------------------------

// An eval's report: the table and the skipped names, or the JSON summary.
template <class Table>
void print_eval(const Table& scores, const std::vector<std::string>& skipped, bool json) {
  if (json) {
    nlohmann::json out{{"skipped", skipped}};
    scores.to_json(out);
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    scores.print();
    print_skipped(skipped);
  }
}

// [H, W] maps read from two files must agree in size: an error naming both.
void check_same_size(const std::string& path_a, const at::Tensor& a, const std::string& path_b, const at::Tensor& b) {
  auto text = [](const at::Tensor& t) { return std::to_string(t.size(0)) + "x" + std::to_string(t.size(1)); };
  if (a.sizes() != b.sizes())
    throw vss::Error("sizes differ: " + path_a + " is " + text(a) + ", " + path_b + " is " + text(b));
}

// The label1 / label2 files of a semantic root (either layout), paired by name.
std::vector<vss::FileRole> semantic_label_roles(const std::string& root, const std::string& role) {
  const vss::change::SemanticLabelFolders f = vss::change::semantic_label_folders(root);
  return {{role + " " + f.label1.filename().string(), vss::list_images(f.label1.string())},
          {role + " " + f.label2.filename().string(), vss::list_images(f.label2.string())}};
}

int run_semantic_eval(const std::string& gt_root, const std::string& res_root, bool json) {
  std::vector<vss::FileRole> roles = semantic_label_roles(gt_root, "gt");
  for (auto& role : semantic_label_roles(res_root, "res")) roles.push_back(std::move(role));
  vss::FileMatching pairs = vss::match_by_name(roles);
  for (const auto& line : pairs.skipped) vss::log::warn("skipped ", line);
  if (pairs.matched.empty()) throw vss::Error("no complete pair: every name lacks a partner file (see the warnings)");
  const int64_t classes = vss::change::kSecondClasses;
  SemanticScores scores(classes);
  for (const auto& m : pairs.matched) {
    vss::change::SemanticChangePair truth;
    truth.label1 = vss::change::read_semantic_label(m.paths[0], classes);
    truth.label2 = vss::change::read_semantic_label(m.paths[1], classes);
    const at::Tensor pred1 = vss::change::read_semantic_label(m.paths[2], classes);
    const at::Tensor pred2 = vss::change::read_semantic_label(m.paths[3], classes);
    const std::vector<const at::Tensor*> maps{&truth.label1, &truth.label2, &pred1, &pred2};
    for (size_t i = 1; i < maps.size(); ++i) check_same_size(m.paths[0], *maps[0], m.paths[i], *maps[i]);
    scores.add(m.name, pair_confusion(truth, pred1, pred2, classes, m.paths[2]));
  }
  print_eval(scores, pairs.skipped, json);
  return 0;
}

int run_eval(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-change eval",
                   "Scores change masks against ground truth, both 0/255 PNGs as LEVIR-CD's labels, paired by file "
                   "name: precision, recall, F1, IoU, OA and kappa of the changed class, per image and combined "
                   "(one confusion matrix over all images, as change detection papers report). With --semantic: "
                   "land-cover maps of the changed pixels (SECOND), OA, mIoU, SeK, F_scd per pair and combined.");
  auto& gt = p.option("--gt", "DIR|FILE", "", "ground-truth masks (e.g. LEVIR-CD/test/label); with --semantic a root "
                                             "holding label1/ + label2/ or GT_T1/ + GT_T2/", true);
  auto& res = p.option("--res", "DIR|FILE", "", "predicted masks (e.g. vss-change -o DIR); with --semantic a root "
                                               "as --gt (vss-change --semantic -o DIR)", true);
  auto& semantic = p.flag("--semantic", "semantic change maps, 7-class protocol (specs/scd.md §5)");
  auto& json = p.flag("--json", "print JSON (fractions) instead of a table (percent)");
  if (int rc = p.parse(args); rc >= 0) return rc;
  vss::log::set_program("vss-change");
  if (semantic) return run_semantic_eval(gt.str(), res.str(), json);
  const auto pairs = pair_inputs({{"gt", gt.str()}, {"res", res.str()}});
  Scores scores;
  for (const auto& m : pairs.matched) {
    const at::Tensor label = vss::change::read_change_mask(m.paths[0]);
    const at::Tensor pred = vss::change::read_change_mask(m.paths[1]);
    check_same_size(m.paths[0], label, m.paths[1], pred);
    scores.add(m.name, vss::change::confusion_matrix(pred, label, m.paths[1]));
  }
  print_eval(scores, pairs.skipped, json);
  return 0;
}

// ---- the model run ---------------------------------------------------------------------------

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

// The model's `type:`, so each mode can say which model it needs.
std::string model_type(const vss::Config& node) { return node.has("type") ? node.get<std::string>("type") : ""; }

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

// ---- make-data, export -----------------------------------------------------------------------

int run_make_data(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-change make-data",
                   "Writes generated bitemporal pairs in the LEVIR-CD layout, OUT/<split>/{A,B,label}/<split>_<i>.png "
                   "(labels 0/255): buildings built, demolished or rebuilt, with illumination, misregistration, "
                   "noise, seasonal and vehicle changes as distractors that are not change. With --semantic, "
                   "semantic change pairs in a SECOND layout: land-cover regions (SECOND's 6 classes) that change "
                   "class between the dates, per-date illumination and noise as distractors.");
  auto& out = p.option("--out", "DIR", "", "dataset root", true);
  auto& num = p.option("--num", "N", "16", "number of pairs");
  auto& size = p.option("--size", "S", "256", "image size S x S");
  auto& seed = p.option("--seed", "S", "3", "split seed: pair i is a pure function of (S, i); other seeds, other pairs");
  auto& split = p.option("--split", "NAME", "test", "split folder under DIR");
  auto& clean = p.flag("--clean", "no distractors: the dates differ only where the label says");
  auto& semantic = p.flag("--semantic", "semantic change pairs (SECOND layout)");
  auto& layout = p.option("--layout", "second|changemamba", "second",
                          "with --semantic: {im1,im2,label1,label2} with colour labels, or {T1,T2,GT_CD,GT_T1,GT_T2}");
  if (int rc = p.parse(args); rc >= 0) return rc;
  const long long n = num.as_int(1, vss::kMaxListEntry);
  const int64_t side = size.as_int(semantic ? 8 : 1, vss::kMaxListEntry);
  if (layout.str() != "second" && layout.str() != "changemamba")
    return vss::usage_error("vss-change make-data", "--layout: expected second or changemamba, got '" + layout.str() + "'");
  const fs::path dir = fs::path(out.str()) / split.str();
  std::function<void(long long, const std::string&)> write_pair;
  std::string folders = "{A,B,label}";
  if (semantic) {
    vss::change::SyntheticSemanticChangeOptions o;
    o.height = o.width = side;
    o.seed = static_cast<uint64_t>(seed.as_int());
    if (clean) o.illumination = o.noise = 0;
    write_pair = [o, dir, l = layout.str()](long long i, const std::string& name) {
      vss::change::write_semantic_change_pair(dir, name, vss::change::make_synthetic_semantic_change(o, i), l);
    };
    folders = layout.str() == "second" ? "{im1,im2,label1,label2}" : "{T1,T2,GT_CD,GT_T1,GT_T2}";
  } else {
    vss::change::SyntheticChangeOptions o;
    o.height = o.width = side;
    o.seed = static_cast<uint64_t>(seed.as_int());
    if (clean) {
      o.illumination = o.misregistration = o.noise = o.seasonal = 0;
      o.shadows = o.vehicles = false;
    }
    write_pair = [o, dir](long long i, const std::string& name) {
      vss::change::write_change_pair(dir, name, vss::change::make_synthetic_change(o, i));
    };
  }
  vss::Progress bar(n, "make-data", {.unit = "pair"});
  for (long long i = 0; i < n; ++i) {
    write_pair(i, split.str() + "_" + std::to_string(i + 1));
    bar.advance();
  }
  bar.finish();
  std::printf("wrote %lld pair(s) of %lldx%lld to %s/%s\n", n, static_cast<long long>(side),
              static_cast<long long>(side), dir.string().c_str(), folders.c_str());
  return 0;
}

int run_export(const std::vector<std::string>& args) {
  int rc = 0;
  const auto e = vss::parse_run_export(args, "vss-change export",
                                       "Writes the model weights of a vss-train run (task: change or semantic_change) "
                                       "as a bare safetensors state dict for vss-change --weights (with the run's "
                                       "config as --config).",
                                       "best", &rc);
  if (!e) return rc;
  const vss::Config node = e->config["model"];
  std::shared_ptr<torch::nn::Module> model;
  if (model_type(node) == "mamba_scd") model = vss::change::make_mamba_scd(node).ptr();
  else model = vss::change::make_mamba_bcd(node).ptr();
  vss::load_state(*model, e->weights.state, e->source);
  vss::save_weights(*model, e->out, {{"model", node.dump()}});
  std::printf("%s\n", e->summary(*model).c_str());
  return 0;
}

int run(const std::vector<std::string>& args) {
  return vss::run_subcommand(args, {{"eval", run_eval}, {"make-data", run_make_data}, {"export", run_export}},
                              run_change);
}

}  // namespace

int main(int argc, char** argv) { return vss::run_app("vss-change", argc, argv, run); }
