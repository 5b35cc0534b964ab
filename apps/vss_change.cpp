// vss-change: binary change detection on bitemporal image pairs (MambaBCD / AWMambaBCD,
// heads.md §3).
//   vss-change --a A_DIR|FILE --b B_DIR|FILE -o OUT --config FILE --weights FILE [--gt DIR|FILE]
//              [--tile 256 [--tile-stride N]] [--threshold 0.5] [--device cpu|cuda[:i]]
//              [--dtype fp32|bf16] [--json] [--set key=value]
// pairs the files of A and B by name (LEVIR-CD's A/x.png + B/x.png), writes OUT/<name>.png
// (0 / 255 masks, as LEVIR-CD's labels) and, with --gt, OUT/compare/<name>.png (TP white, TN
// black, FP red, FN green) and the metrics of conventions.md §3.4 per image and over the
// whole set (one confusion matrix, not a mean of per-image scores). --tile runs large scenes
// (LEVIR-CD's 1024² images; models are trained on 256² crops) in windows.
//   vss-change eval --gt DIR|FILE --res DIR|FILE [--json]     scores existing 0/255 masks
//   vss-change make-data --out DIR [--num N] [--size S] [--seed S] [--split NAME] [--clean]
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
#include "datasets/synthetic_change.h"
#include "engine/run_export.h"
#include "engine/mixed_precision.h"
#include "heads/change/change_inference.h"
#include "heads/change/change_metrics.h"
#include "heads/change/mamba_bcd.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

namespace fs = std::filesystem;
using vss::change::ChangeMetrics;
using vss::change::ConfusionMatrix;

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

void print_header() {
  std::printf("%-32s %9s %7s %7s %7s %7s %7s\n", "image", "precision", "recall", "F1", "IoU", "OA", "kappa");
}

void print_row(const std::string& name, const ChangeMetrics& m) {
  std::printf("%-32s %9.2f %7.2f %7.2f %7.2f %7.2f %7.2f\n", name.c_str(), 100 * m.precision, 100 * m.recall,
              100 * m.f1, 100 * m.iou, 100 * m.oa, 100 * m.kappa);
}

// Per-image rows and the combined row (percent), or the JSON summary.
struct Scores {
  std::vector<std::pair<std::string, ChangeMetrics>> images;
  ConfusionMatrix combined;

  void add(const std::string& name, const ConfusionMatrix& cm) {
    images.emplace_back(name, vss::change::change_metrics(cm));
    combined += cm;
  }
  void to_json(nlohmann::json& out) const {
    out["images"] = nlohmann::json::object();
    for (const auto& [name, m] : images) out["images"][name] = ::to_json(m);
    out["combined"] = ::to_json(vss::change::change_metrics(combined));
  }
  void print() const {
    print_header();
    for (const auto& [name, m] : images) print_row(name, m);
    print_row("combined", vss::change::change_metrics(combined));
  }
};

void print_skipped(const std::vector<std::string>& skipped) {
  if (skipped.empty()) return;
  std::printf("skipped %zu name(s) without all partner files:\n", skipped.size());
  for (const auto& line : skipped) std::printf("  %s\n", line.c_str());
}

// ---- eval ------------------------------------------------------------------------------------

int run_eval(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-change eval",
                   "Scores change masks against ground truth, both 0/255 PNGs as LEVIR-CD's labels, paired by file "
                   "name: precision, recall, F1, IoU, OA and kappa of the changed class, per image and combined "
                   "(one confusion matrix over all images, as change detection papers report).");
  auto& gt = p.option("--gt", "DIR|FILE", "", "ground-truth masks (e.g. LEVIR-CD/test/label)", true);
  auto& res = p.option("--res", "DIR|FILE", "", "predicted masks (e.g. vss-change -o DIR)", true);
  auto& json = p.flag("--json", "print JSON (fractions) instead of a table (percent)");
  if (int rc = p.parse(args); rc >= 0) return rc;
  vss::log::set_program("vss-change");
  const auto pairs = pair_inputs({{"gt", gt.str()}, {"res", res.str()}});
  Scores scores;
  for (const auto& m : pairs.matched) {
    const at::Tensor label = vss::cd::read_change_mask(m.paths[0]);
    const at::Tensor pred = vss::cd::read_change_mask(m.paths[1]);
    if (label.sizes() != pred.sizes())
      throw vss::Error("sizes differ: " + m.paths[0] + " is " + std::to_string(label.size(0)) + "x" +
                       std::to_string(label.size(1)) + ", " + m.paths[1] + " is " + std::to_string(pred.size(0)) + "x" +
                       std::to_string(pred.size(1)));
    scores.add(m.name, vss::change::confusion_matrix(pred, label, m.paths[1]));
  }
  if (json) {
    nlohmann::json out{{"skipped", pairs.skipped}};
    scores.to_json(out);
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    scores.print();
    print_skipped(pairs.skipped);
  }
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
    (void)vss::cd::read_change_pair(m);
    check.advance();
  }
  check.finish();
}

int usage_error(const std::string& prog, const std::string& what) {
  std::fprintf(stderr, "%s: %s\ntry '%s --help'\n", prog.c_str(), what.c_str(), prog.c_str());
  return 2;
}

int run_change(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-change",
                   "Detects change between two dates of the same place with a MambaBCD model: writes OUT/<name>.png "
                   "(0/255), and with --gt OUT/compare/<name>.png (TP white, FP red, FN green) and precision, recall, "
                   "F1, IoU, OA, kappa per image and combined. Other commands: eval, make-data, export (see <command> "
                   "--help).");
  auto& a = p.option("--a", "DIR|FILE", "", "first-date images (LEVIR-CD's A), paired with --b by file name", true);
  auto& b = p.option("--b", "DIR|FILE", "", "second-date images (B)", true);
  auto& out = p.option("-o", "DIR", "", "output folder for the masks", true);
  auto& config = p.option("--config", "FILE", "", "model YAML (configs/change/*.yaml: a training config or a bare model)", true);
  auto& sets = p.multi("--set", "key=value", "override a config key, e.g. model.decoder.channels=64");
  auto& weights = p.option("--weights", "FILE", "", "model weights (.safetensors, e.g. weights/mambabcd_demo.safetensors)", true);
  auto& gt = p.option("--gt", "DIR|FILE", "", "ground-truth 0/255 masks: score the predictions and draw comparison maps");
  auto& tile = p.option("--tile", "N", "0", "run N x N windows (0: the whole image at once)");
  auto& tile_stride = p.option("--tile-stride", "N", "0", "window step (0: N, adjacent windows; less: overlaps averaged)");
  auto& tile_batch = p.option("--tile-batch", "N", "8", "windows per forward pass");
  auto& threshold = p.option("--threshold", "P", "0.5", "change where the change probability exceeds P");
  auto& device = p.option("--device", "cpu|cuda[:i]", "cpu", "where the model runs");
  auto& dtype = p.option("--dtype", "fp32|bf16", "fp32", "bf16: autocast to bfloat16");
  auto& json = p.flag("--json", "print a JSON summary (fractions) instead of a table (percent)");
  auto& quiet = p.flag("--quiet", "errors only, no progress bar");
  if (int rc = p.parse(args); rc >= 0) return rc;
  vss::log::set_program("vss-change");
  vss::log::set_quiet(quiet);

  vss::change::ChangeInferenceOptions inference;
  double prob = 0;
  c10::Device dev(c10::kCPU);
  vss::Precision precision;
  try {
    inference.tile = tile.as_int(0, vss::kMaxListEntry);
    inference.stride = tile_stride.as_int(0, vss::kMaxListEntry);
    inference.tile_batch = tile_batch.as_int(1, 4096);
    if (inference.stride > 0 && inference.tile == 0) throw vss::Error("--tile-stride needs --tile");
    prob = threshold.as_double();
    if (!(prob >= 0 && prob < 1)) throw vss::Error("--threshold must be in [0, 1)");
    dev = c10::Device(device.str());
    if (dtype.str() != "fp32" && dtype.str() != "bf16") throw vss::Error("--dtype: expected fp32 or bf16, got '" + dtype.str() + "'");
    precision = vss::parse_precision(dtype.str(), dev);
  } catch (const vss::Error& e) {
    return usage_error("vss-change", e.what());
  } catch (const c10::Error& e) {
    return usage_error("vss-change", std::string("--device: ") + e.what_without_backtrace());
  }
  if (dev.is_cuda() && !torch::cuda::is_available()) throw vss::Error("--device " + device.str() + ": no CUDA device is available");

  vss::Config cfg = vss::Config::load(config.str());
  for (const auto& s : sets.values) cfg.apply_override(s);
  vss::change::MambaBCD model = vss::change::make_mamba_bcd(model_node(cfg));
  vss::load_weights(*model, weights.str());
  model->to(dev);
  model->eval();

  std::vector<std::pair<std::string, std::string>> specs{{"A", a.str()}, {"B", b.str()}};
  if (gt) specs.emplace_back("gt", gt.str());
  const vss::FileMatching pairs = pair_inputs(specs);
  const fs::path out_dir = out.str();
  {
    std::vector<fs::path> planned, read;
    for (const auto& m : pairs.matched) {
      planned.push_back(out_dir / (m.name + ".png"));
      if (gt) planned.push_back(out_dir / "compare" / (m.name + ".png"));
      read.insert(read.end(), m.paths.begin(), m.paths.end());
    }
    vss::refuse_overwriting_inputs(planned, read, "pick another -o");
  }
  check_pairs(pairs.matched);
  fs::create_directories(out_dir);
  if (gt) fs::create_directories(out_dir / "compare");

  c10::InferenceMode inference_mode;
  Scores scores;
  double model_seconds = 0;
  int64_t pixels = 0;
  vss::Progress bar(static_cast<int64_t>(pairs.matched.size()), "change", {.unit = "pair"});
  for (const auto& m : pairs.matched) {
    bool grey_mix = false;
    const vss::cd::ChangePair pair = vss::cd::read_change_pair(m, &grey_mix);  // A, B [, gt]: sizes checked
    if (grey_mix) vss::log::warn(m.paths[0], ", ", m.paths[1], ": one date is grey, the other colour; both used as grey");
    const auto start = std::chrono::steady_clock::now();
    at::Tensor mask;
    {
      vss::AutocastScope autocast(dev, precision.autocast);
      const at::Tensor logits =
          vss::change::change_logits(*model, pair.a.unsqueeze(0).to(dev), pair.b.unsqueeze(0).to(dev), inference);
      mask = vss::change::change_mask(logits, prob)[0].cpu();
    }
    model_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    pixels += mask.numel();
    vss::InterruptDeferral all_outputs;  // Ctrl-C leaves the mask and its comparison, or neither
    vss::write_image((out_dir / (m.name + ".png")).string(), vss::cd::mask_to_png(mask));
    if (gt) {
      vss::write_image((out_dir / "compare" / (m.name + ".png")).string(), comparison_map(mask, pair.label));
      scores.add(m.name, vss::change::confusion_matrix(mask, pair.label, m.paths[2]));
    }
    bar.advance();
  }
  bar.finish();

  const double n = static_cast<double>(pairs.matched.size());
  const double pairs_per_s = model_seconds > 0 ? n / model_seconds : 0.0;
  if (json) {
    nlohmann::json report{{"pairs", pairs.matched.size()}, {"skipped", pairs.skipped},   {"output", out_dir.string()},
                          {"device", dev.str()},           {"dtype", dtype.str()},       {"tile", inference.tile},
                          {"model_seconds", model_seconds}, {"pairs_per_s", pairs_per_s}, {"threshold", prob}};
    if (gt) scores.to_json(report);
    std::printf("%s\n", report.dump(2).c_str());
    return 0;
  }
  if (gt) scores.print();
  print_skipped(pairs.skipped);
  std::printf("%zu pair(s), %.2f Mpx, in %.3f s of model time = %.2f pairs/s; masks in %s\n", pairs.matched.size(),
              static_cast<double>(pixels) / 1e6, model_seconds, pairs_per_s, out_dir.string().c_str());
  return 0;
}

// ---- make-data, export -----------------------------------------------------------------------

int run_make_data(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-change make-data",
                   "Writes generated bitemporal pairs in the LEVIR-CD layout, OUT/<split>/{A,B,label}/<split>_<i>.png "
                   "(labels 0/255): buildings built, demolished or rebuilt, with illumination, misregistration, "
                   "noise, seasonal and vehicle changes as distractors that are not change.");
  auto& out = p.option("--out", "DIR", "", "dataset root", true);
  auto& num = p.option("--num", "N", "16", "number of pairs");
  auto& size = p.option("--size", "S", "256", "image size S x S");
  auto& seed = p.option("--seed", "S", "3", "split seed: pair i is a pure function of (S, i); other seeds, other pairs");
  auto& split = p.option("--split", "NAME", "test", "split folder under DIR");
  auto& clean = p.flag("--clean", "no distractors: the dates differ only where the label says");
  if (int rc = p.parse(args); rc >= 0) return rc;
  const long long n = num.as_int(1, vss::kMaxListEntry);
  vss::cd::SyntheticChangeOptions o;
  o.height = o.width = size.as_int(1, vss::kMaxListEntry);
  o.seed = static_cast<uint64_t>(seed.as_int());
  if (clean) {
    o.illumination = o.misregistration = o.noise = o.seasonal = 0;
    o.shadows = o.vehicles = false;
  }
  const fs::path dir = fs::path(out.str()) / split.str();
  vss::Progress bar(n, "make-data", {.unit = "pair"});
  for (long long i = 0; i < n; ++i) {
    vss::cd::write_change_pair(dir, split.str() + "_" + std::to_string(i + 1), vss::cd::make_synthetic_change(o, i));
    bar.advance();
  }
  bar.finish();
  std::printf("wrote %lld pair(s) of %lldx%lld to %s/{A,B,label}\n", n, static_cast<long long>(o.height),
              static_cast<long long>(o.width), dir.string().c_str());
  return 0;
}

int run_export(const std::vector<std::string>& args) {
  int rc = 0;
  const auto e = vss::parse_run_export(args, "vss-change export",
                                       "Writes the model weights of a vss-train run (task: change) as a bare safetensors "
                                       "state dict for vss-change --weights (with the run's config as --config).",
                                       "best", &rc);
  if (!e) return rc;
  vss::change::MambaBCD model = vss::change::make_mamba_bcd(e->config["model"]);
  vss::load_state(*model, e->weights.state, e->source);
  vss::save_weights(*model, e->out, {{"model", e->config["model"].dump()}});
  std::printf("%s\n", e->summary(*model).c_str());
  return 0;
}

int run(const std::vector<std::string>& args) {
  return vss::run_subcommand(args, {{"eval", run_eval}, {"make-data", run_make_data}, {"export", run_export}},
                              run_change);
}

}  // namespace

int main(int argc, char** argv) { return vss::run_app("vss-change", argc, argv, run); }
