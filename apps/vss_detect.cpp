// vss-detect: object detection with a CenterNet head on a VSS backbone.
//   vss-detect --weights FILE [--config FILE] (--images FILE|DIR|GLOB [--ann instances.json] | --seq DIR)
//              -o OUT [--format coco|mot] [--batch N] [--score-thresh S] [--device cpu|cuda[:i]] [--dtype fp32|bf16]
// runs the detector on images (COCO results JSON: image ids from --ann's file names, else 1..N
// in sorted order) or on a MOTChallenge sequence's frames (MOT det format, det/det.txt's).
//   vss-detect eval --gt instances.json --res detections.json [--json]
// scores COCO results as pycocotools' COCOeval does (bbox): AP AP50 AP75 APs APm APl AR1 AR10 AR100.
//   vss-detect export --run RUN_DIR [--checkpoint best] --out FILE   weights for --weights
#include "backbones/weights.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/overwrite_guard.h"
#include "core/progress.h"
#include "datasets/coco_detection.h"
#include "datasets/mot_challenge.h"
#include "datasets/mot_det_file.h"
#include "engine/device_options.h"
#include "engine/mixed_precision.h"
#include "engine/run_export.h"
#include "heads/detect/centernet.h"
#include "heads/detect/coco_eval.h"
#include "heads/detect/detector_weights.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace {

int run_eval(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-detect eval",
                   "Scores COCO-format detections against COCO instances as pycocotools' COCOeval (bbox) does: "
                   "AP AP50 AP75 APs APm APl AR1 AR10 AR100 (and ARs ARm ARl), overall and per category.");
  auto& gt = p.option("--gt", "FILE", "", "COCO instances JSON (images, annotations, categories)", true);
  auto& res = p.option("--res", "FILE", "", "COCO results JSON: [{image_id, category_id, bbox, score}, ...]", true);
  auto& json = p.flag("--json", "print JSON (fractions) instead of a table (percent)");
  if (int rc = p.parse(args); rc >= 0) return rc;
  const auto instances = vss::coco::read_instances(gt.str());
  const auto results = vss::coco::read_results(res.str());
  const auto r = vss::detect::coco_evaluate(instances, results, res.str());
  auto to_json = [](const vss::detect::CocoStats& s) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : vss::detect::named_stats(s)) j[k] = v;
    return j;
  };
  if (json) {
    nlohmann::json out = {{"categories", nlohmann::json::object()}, {"combined", to_json(r.combined)}};
    std::map<int64_t, std::string> names;
    for (const auto& c : instances.categories) names[c.id] = c.name.empty() ? std::to_string(c.id) : c.name;
    for (const auto& [id, s] : r.per_category) out["categories"][names[id]] = to_json(s);
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%-16s", "category");
  for (const auto& [k, v] : vss::detect::named_stats(r.combined)) std::printf(" %6s", k.c_str());
  std::printf("\n");
  auto row = [](const std::string& name, const vss::detect::CocoStats& s) {
    std::printf("%-16s", name.c_str());
    for (const auto& [k, v] : vss::detect::named_stats(s)) std::printf(" %6.2f", v < 0 ? -1.0 : 100 * v);
    std::printf("\n");
  };
  for (const auto& c : instances.categories) row(c.name.empty() ? std::to_string(c.id) : c.name, r.per_category.at(c.id));
  row("COMBINED", r.combined);
  return 0;
}

int run_export(const std::vector<std::string>& args) {
  int rc = 0;
  const auto e = vss::parse_run_export(args, "vss-detect export",
                                       "Writes the detector of a vss-train run (task: detection) as a self-describing "
                                       "safetensors file for vss-detect / vss-track --detector.",
                                       "best", &rc);
  if (!e) return rc;
  vss::detect::CenterNet model = vss::detect::make_centernet(e->config["model"]);
  vss::load_state(*model, e->weights.state, e->source);
  vss::detect::save_detector(model, e->config["model"].dump(), e->out);
  std::printf("%s\n", e->summary(*model).c_str());
  return 0;
}

int run_detect(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-detect",
                   "Detects objects with a CenterNet head on a VSS backbone: images -> COCO results JSON, or a "
                   "MOTChallenge sequence's frames -> MOT det file. Other commands: eval, export (see <command> --help).");
  auto& weights = p.option("--weights", "FILE", "", "detector weights (vss-detect export)", true);
  auto& config = p.option("--config", "FILE", "", "model YAML (model: ...); default: the weights' own");
  auto& images = p.option("--images", "FILE|DIR|GLOB", "", "images to detect on");
  auto& ann = p.option("--ann", "FILE", "", "with --images: COCO instances whose file names give the image ids");
  auto& seq = p.option("--seq", "DIR", "", "a MOTChallenge sequence folder: detect on its frames (img1/)");
  auto& out = p.option("-o", "FILE", "", "output: COCO results JSON, or MOT det txt (--seq / --format mot)", true);
  auto& format = p.option("--format", "coco|mot", "", "output format (default: mot for --seq, else coco)");
  auto& batch = p.option("--batch", "N", "8", "frames per forward pass");
  auto& thresh = p.option("--score-thresh", "S", "", "drop boxes below S (default: the model's test.score_threshold)");
  const vss::DeviceOptions device_options(p, {.device_help = "where the detector runs", .dtype = "",
                                              .dtype_help = "bf16: autocast to bfloat16 (default: bf16 on CUDA, fp32 on CPU)"});
  if (int rc = p.parse(args); rc >= 0) return rc;
  if (images && seq) throw vss::UsageError("give --images or --seq, not both");
  if (!images && !seq) throw vss::UsageError("nothing to detect on: give --images or --seq");
  const std::string fmt = format ? format.str() : (seq ? "mot" : "coco");
  if (fmt != "coco" && fmt != "mot") throw vss::UsageError("--format: expected coco or mot, got '" + fmt + "'");
  const auto [dev, precision] = device_options.read();
  const int64_t batch_size = batch.as_int(1, 4096);

  std::vector<fs::path> files;
  std::vector<int64_t> ids;
  std::optional<vss::track::Sequence> sequence;
  if (seq) {
    sequence = vss::track::open_sequence(seq.str());
    files = sequence->frame_paths();
    for (int64_t f = 1; f <= sequence->info.seq_length; ++f) ids.push_back(f);
  } else {
    for (const auto& f : vss::list_images(images.str())) files.emplace_back(f);
    std::map<std::string, int64_t> by_name;
    if (ann) {
      for (const auto& im : vss::coco::read_instances(ann.str()).images) by_name[im.file_name] = im.id;
    }
    for (size_t i = 0; i < files.size(); ++i) {
      if (!ann) {
        ids.push_back(static_cast<int64_t>(i) + 1);
        continue;
      }
      auto it = by_name.find(files[i].filename().string());
      if (it == by_name.end()) it = by_name.find(fs::relative(files[i], fs::path(images.str())).string());
      if (it == by_name.end()) vss::throw_file_error(files[i].string(), "not among the images of " + ann.str());
      ids.push_back(it->second);
    }
  }
  {
    std::vector<fs::path> read(files);
    read.emplace_back(weights.str());
    vss::refuse_overwriting_inputs({out.str()}, read, "pick another -o");
  }
  vss::detect::CenterNet model = vss::detect::load_detector(weights.str(), config.str());
  if (thresh) {
    auto test = model->options().test;
    test.score_threshold = thresh.as_double();
    if (!(test.score_threshold >= 0 && test.score_threshold <= 1)) throw vss::UsageError("--score-thresh must be in [0, 1]");
    model->set_test_options(test);
  }
  model->to(dev);
  torch::NoGradGuard no_grad;

  std::vector<vss::coco::Result> coco;
  std::vector<vss::track::Box> mot;
  vss::Progress bar(static_cast<int64_t>(files.size()), "detect", {.unit = "image"});
  for (size_t start = 0; start < files.size();) {
    // A batch: consecutive images of one size (frames of a sequence all are).
    std::vector<at::Tensor> group;
    size_t end = start;
    for (; end < files.size() && static_cast<int64_t>(group.size()) < batch_size; ++end) {
      at::Tensor im = vss::read_image(files[end].string(), vss::ImageMode::kRgb);
      if (!group.empty() && im.sizes() != group.front().sizes()) break;
      group.push_back(im.permute({2, 0, 1}));
    }
    std::vector<std::vector<vss::detect::Detection>> dets;
    {
      vss::AutocastScope scope(dev, precision.autocast);
      dets = model->detect(torch::stack(group).to(dev));
    }
    for (size_t i = 0; i < dets.size(); ++i) {
      for (const auto& d : dets[i]) {
        if (fmt == "coco") coco.push_back({ids[start + i], d.cls + 1, d.x1, d.y1, d.x2 - d.x1, d.y2 - d.y1, d.score});
        else mot.push_back({ids[start + i], -1, d.x1, d.y1, d.x2 - d.x1, d.y2 - d.y1, d.score});
      }
      bar.advance();
    }
    start += dets.size();
  }
  bar.finish();
  if (!fs::path(out.str()).parent_path().empty()) fs::create_directories(fs::path(out.str()).parent_path());
  if (fmt == "coco") vss::coco::write_results(out.str(), coco);
  else vss::track::write_detections(out.str(), mot);
  std::printf("%zu boxes on %zu image(s) -> %s\n", fmt == "coco" ? coco.size() : mot.size(), files.size(), out.str().c_str());
  return 0;
}

int run(const std::vector<std::string>& args) {
  return vss::run_subcommand(args, {{"eval", run_eval}, {"export", run_export}}, run_detect);
}

}  // namespace

int main(int argc, char** argv) { return vss::run_app("vss-detect", argc, argv, run); }
