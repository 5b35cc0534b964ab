// vss-detect (the main command): CenterNet detections on images (COCO results) or on a
// MOTChallenge sequence's frames (MOT det file).
#include "apps/detect/commands.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/overwrite_guard.h"
#include "core/progress.h"
#include "datasets/coco_detection.h"
#include "datasets/mot_challenge.h"
#include "datasets/mot_det_file.h"
#include "engine/device_options.h"
#include "engine/mixed_precision.h"
#include "heads/detect/centernet.h"
#include "heads/detect/detector_weights.h"

#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

namespace vss_detect {

namespace fs = std::filesystem;

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

}  // namespace vss_detect
